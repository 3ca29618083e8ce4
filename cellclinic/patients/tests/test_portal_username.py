"""The suggested portal username: given.family, plain lower case, made unique."""

import pytest

from cellclinic.patients.services import portal_username_base, portal_username_suggest
from conftest import make_user


@pytest.mark.parametrize(
    ("given", "family", "expected"),
    [
        ("Grace", "Hopper", "grace.hopper"),
        ("Zoë", "Brontë-Ødegård", "zoe.bronteodegard"),
        ("Mary Ann", "O'Neil", "maryann.oneil"),
        ("  Li ", "CHEN", "li.chen"),
        ("李", "Wang", "wang"),
        ("李", "王", "patient"),
    ],
)
def test_the_base_is_the_names_in_plain_lower_case(given, family, expected):
    assert portal_username_base(given, family) == expected


def test_the_base_fits_a_username_with_room_for_a_number():
    assert len(portal_username_base("a" * 100, "b" * 100)) <= 144


@pytest.mark.django_db
def test_the_suggestion_skips_taken_names_ignoring_case(patient_a):
    assert portal_username_suggest(patient_a) == "grace.hopper"
    make_user("GRACE.HOPPER", first="X", last="Y")
    assert portal_username_suggest(patient_a) == "grace.hopper2"
    make_user("grace.hopper2", first="X", last="Y")
    make_user("grace.hopper10", first="X", last="Y")
    assert portal_username_suggest(patient_a) == "grace.hopper3"

"""Medical record numbers: format, check character, and what the check catches."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cellclinic.core.checkchar import ALPHABET
from cellclinic.patients.identifiers import MRN_PATTERN, mrn_format, mrn_is_valid

site_codes = st.from_regex(r"[A-Z][A-Z0-9]{1,7}", fullmatch=True)
sequences = st.integers(min_value=1, max_value=10**8)


def test_it_formats_site_sequence_and_check_character():
    mrn = mrn_format("NCL", 42)
    assert mrn[:11] == "NCL-000042-"
    assert len(mrn) == 12
    assert mrn_is_valid(mrn)


def test_it_keeps_counting_past_six_digits():
    mrn = mrn_format("NCL", 1234567)
    assert mrn.startswith("NCL-1234567-")
    assert mrn_is_valid(mrn)


@pytest.mark.parametrize(
    ("site", "sequence"), [("NCL", 0), ("NCL", -1), ("ncl", 1), ("N", 1), ("NCL-1", 1), ("ABCDEFGHI", 1)]
)
def test_it_refuses_a_bad_site_code_or_sequence(site, sequence):
    with pytest.raises(ValueError):
        mrn_format(site, sequence)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "NCL-000042",
        "NCL000042X",
        "ncl-000042-X",
        "NCL-42-X",
        "NCL-00004A-X",
        "NCL-000042-XX",
        " NCL-000042-X",
    ],
)
def test_it_rejects_malformed_text(text):
    assert not mrn_is_valid(text)


def test_it_rejects_a_wrong_check_character():
    mrn = mrn_format("RSC", 7)
    wrong = next(c for c in ALPHABET if c != mrn[-1])
    assert not mrn_is_valid(mrn[:-1] + wrong)


@given(site_codes, sequences)
def test_every_issued_mrn_is_valid_and_well_formed(site, sequence):
    mrn = mrn_format(site, sequence)
    match = MRN_PATTERN.match(mrn)
    assert match is not None
    assert match["site"] == site and int(match["seq"]) == sequence
    assert mrn_is_valid(mrn)


@given(site_codes, sequences, st.data())
def test_a_single_mistyped_character_is_caught(site, sequence, data):
    mrn = mrn_format(site, sequence)
    positions = [i for i, c in enumerate(mrn) if c != "-"]
    position = data.draw(st.sampled_from(positions))
    typo = data.draw(st.sampled_from([c for c in ALPHABET if c != mrn[position]]))
    assert not mrn_is_valid(mrn[:position] + typo + mrn[position + 1 :])


@given(site_codes, sequences)
def test_swapping_two_adjacent_different_digits_is_caught(site, sequence):
    mrn = mrn_format(site, sequence)
    body = mrn.split("-")[1]
    for i in range(len(body) - 1):
        if body[i] != body[i + 1]:
            swapped = body[:i] + body[i + 1] + body[i] + body[i + 2 :]
            assert not mrn_is_valid(f"{site}-{swapped}-{mrn[-1]}")

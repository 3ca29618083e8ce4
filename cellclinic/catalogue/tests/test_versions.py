"""Several versions of a therapy: the highest is current, every one stays reachable, clashes are refused."""

import pytest

from cellclinic.catalogue.loader import CatalogueError, catalogue_load
from cellclinic.catalogue.schema import version_key
from cellclinic.catalogue.tests.helpers import changed, versioned, write_therapy, write_two_versions


def test_two_versions_load_and_the_highest_is_current(tmp_path):
    first, second = write_two_versions(tmp_path)

    catalogue = catalogue_load([tmp_path], [])

    assert list(catalogue.therapies) == ["test_therapy"]
    current = catalogue.therapies["test_therapy"]
    assert current.version == "2.0.0" and current.sessions.count.value == 5
    assert catalogue.files["test_therapy"] == second
    assert [t.version for t in catalogue.versions("test_therapy")] == ["2.0.0", "1.0.0"]
    older = catalogue.therapy("test_therapy", "1.0.0")
    assert older.sessions.count.value == 3 and older.harvest.where == "Behind the ear"
    assert catalogue.file_of(older) == first
    assert catalogue.therapy("test_therapy", "2.0.0") is current


@pytest.mark.parametrize("asked", ["1", "1.0", "1.0.0", " 1.0 "])
def test_a_version_is_found_however_it_is_written(tmp_path, asked):
    write_two_versions(tmp_path)

    therapy = catalogue_load([tmp_path], []).therapy("test_therapy", asked)

    assert therapy is not None and therapy.version == "1.0.0"


@pytest.mark.parametrize(
    ("code", "version"),
    [("test_therapy", "3.0.0"), ("test_therapy", ""), ("test_therapy", "v1"), ("no_such_therapy", "1.0.0")],
)
def test_a_version_not_held_is_none_not_an_error(tmp_path, code, version):
    write_two_versions(tmp_path)

    catalogue = catalogue_load([tmp_path], [])

    assert catalogue.therapy(code, version) is None
    assert catalogue.versions("no_such_therapy") == []


def test_versions_compare_as_numbers(tmp_path):
    write_therapy(tmp_path, versioned("1.9.0"))
    write_therapy(tmp_path, versioned("1.10.0"), name="test_therapy-1.10")
    write_therapy(tmp_path, versioned("1.2"), name="test_therapy-old")

    catalogue = catalogue_load([tmp_path], [])

    assert catalogue.therapies["test_therapy"].version == "1.10.0"
    assert [t.version for t in catalogue.versions("test_therapy")] == ["1.10.0", "1.9.0", "1.2"]


@pytest.mark.parametrize(
    ("lower", "higher"),
    [("1.9.0", "1.10.0"), ("1.9", "1.10"), ("9", "10"), ("1.0.9", "1.1"), ("2", "2.0.1")],
)
def test_version_key_orders_numerically(lower, higher):
    assert version_key(lower) < version_key(higher)


@pytest.mark.parametrize("text", ["", "1.", "1..2", "1.2.3.4", "v1", "1.a", "-1", "١"])
def test_version_key_refuses_what_is_not_a_version(text):
    assert version_key(text) is None


def test_the_same_version_with_different_content_is_refused_naming_both_files(tmp_path):
    first = write_therapy(tmp_path, versioned("1.0.0"))
    different = changed("count = { value = 3,", "count = { value = 4,", versioned("1.0"))
    second = write_therapy(tmp_path, different, name="test_therapy-b")

    with pytest.raises(CatalogueError) as caught:
        catalogue_load([tmp_path], [])

    (problem,) = caught.value.problems
    assert problem.field == "version"
    assert "'test_therapy' version 1.0" in problem.message and "different content" in problem.message
    # One file is the problem's, the other is named in its message.
    (other,) = {first, second} - {problem.file}
    assert f"in {other};" in problem.message


def test_a_version_file_must_carry_its_code_before_the_dash(tmp_path):
    path = write_therapy(tmp_path, versioned("2.0.0"), name="other_therapy-2")

    with pytest.raises(CatalogueError) as caught:
        catalogue_load([tmp_path], [])

    (problem,) = caught.value.problems
    assert (problem.file, problem.field) == (path, "code")
    assert problem.message == "must match the file name 'other_therapy', got 'test_therapy'"

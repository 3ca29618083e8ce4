import pytest
from hypothesis import given
from hypothesis import strategies as st

from cellclinic.core.checkchar import ALPHABET, is_valid_mod37_2, mod37_2

DIN_CHARS = st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=20)


@pytest.mark.parametrize(
    ("data", "check"),
    [
        ("G123498654321", "H"),  # JPAC Red Book Annex 2 [S33]
        ("ABCDE27000069", "C"),  # [S54]
    ],
)
def test_it_matches_the_published_vectors(data, check):
    assert mod37_2(data) == check
    assert is_valid_mod37_2(data + check)


def test_it_rejects_characters_outside_the_alphabet():
    with pytest.raises(ValueError, match="not allowed"):
        mod37_2("A1b")
    with pytest.raises(ValueError, match="not allowed"):
        mod37_2("A*1")
    with pytest.raises(ValueError, match="empty"):
        mod37_2("")


def test_it_reports_invalid_inputs_as_not_valid():
    assert not is_valid_mod37_2("")
    assert not is_valid_mod37_2("A")
    assert not is_valid_mod37_2("g123498654321H")


@given(DIN_CHARS)
def test_the_check_character_is_always_in_the_alphabet(data):
    assert mod37_2(data) in ALPHABET


@given(DIN_CHARS, st.data())
def test_any_single_substitution_is_detected(data, draw):
    position = draw.draw(st.integers(min_value=0, max_value=len(data) - 1))
    replacement = draw.draw(st.sampled_from([c for c in ALPHABET[:36] if c != data[position]]))
    mutated = data[:position] + replacement + data[position + 1 :]
    assert not is_valid_mod37_2(mutated + mod37_2(data))


@given(DIN_CHARS.filter(lambda s: len(s) >= 2), st.data())
def test_any_adjacent_transposition_is_detected(data, draw):
    position = draw.draw(st.integers(min_value=0, max_value=len(data) - 2))
    if data[position] == data[position + 1]:
        return
    swapped = data[:position] + data[position + 1] + data[position] + data[position + 2 :]
    assert not is_valid_mod37_2(swapped + mod37_2(data))

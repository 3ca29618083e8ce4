"""Chain-of-identity ids: their form, their check character, and that they never name the patient."""

import itertools
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cellclinic.core.checkchar import mod37_2
from cellclinic.lab.identity import (
    ALPHABET,
    LENGTH,
    MAX_DRAWS,
    PREFIX,
    coi_is_valid,
    new_coi,
    normalise_coi,
)
from cellclinic.lab.labels import CHAIN_OF_IDENTITY

UNBIASED = 256 - 256 % len(ALPHABET)
PRINTED = re.compile(
    r"COI-[23456789BCDFGHJKMNPQRSTVWXZ]{4}-[23456789BCDFGHJKMNPQRSTVWXZ]{4}-[23456789BCDFGHJKMNPQRSTVWXZ]"
)
MODEL_MAX_LENGTH = 24  # ChainOfIdentity.coi


def feed(*chunks: bytes):
    """A random source that gives CHUNKS in turn, whatever it is asked for."""
    queue = list(chunks)

    def random(_: int) -> bytes:
        return queue.pop(0)

    return random


def as_bytes(chars: str) -> bytes:
    """The bytes that draw CHARS."""
    return bytes(ALPHABET.index(char) for char in chars)


def drawn_with_check(wanted_in_alphabet: bool) -> str:
    """Eight characters whose check character is (or is not) one an id may hold."""
    for chars in itertools.product(ALPHABET[:6], repeat=8):
        drawn = "".join(chars)
        if (mod37_2(PREFIX + drawn) in ALPHABET) == wanted_in_alphabet:
            return drawn
    raise AssertionError("no such draw")  # pragma: no cover


GOOD = drawn_with_check(True)
UNUSABLE = drawn_with_check(False)
SAMPLE = f"COI-{GOOD[:4]}-{GOOD[4:]}-{mod37_2(PREFIX + GOOD)}"


def test_an_id_is_the_prefix_two_groups_and_the_check_character():
    coi = new_coi(feed(as_bytes(GOOD)))
    assert coi == SAMPLE
    assert PRINTED.fullmatch(coi) and len(coi) == LENGTH == 15 <= MODEL_MAX_LENGTH
    assert coi[-1] == mod37_2(coi.replace("-", "")[:-1])


def test_the_default_source_is_random_and_every_id_prints_on_a_label():
    ids = {new_coi() for _ in range(200)}
    assert len(ids) == 200
    assert all(coi_is_valid(coi) and CHAIN_OF_IDENTITY.fullmatch(coi) for coi in ids)


def test_bytes_that_would_bias_the_draw_are_skipped():
    biased = bytes(range(UNBIASED, 256))
    assert len(biased) == 256 % len(ALPHABET)
    assert new_coi(feed(biased, as_bytes(GOOD))) == SAMPLE
    # A byte below the cut-off maps by its remainder: 27 draws the first character again.
    assert new_coi(feed(bytes(b + len(ALPHABET) for b in as_bytes(GOOD)))) == SAMPLE


def test_a_draw_whose_check_character_could_be_misread_is_drawn_again():
    assert mod37_2(PREFIX + UNUSABLE) not in ALPHABET
    assert new_coi(feed(as_bytes(UNUSABLE), as_bytes(GOOD))) == SAMPLE


def test_an_id_never_contains_the_words_it_must_avoid():
    other = next(
        "".join(chars)
        for chars in itertools.product(ALPHABET[6:12], repeat=8)
        if mod37_2(PREFIX + "".join(chars)) in ALPHABET
    )
    word = GOOD[2:6]  # across the hyphen between the two groups
    coi = new_coi(feed(as_bytes(GOOD), as_bytes(other)), avoid=[f"Ann {word.lower()}", "Bo"])
    assert word in SAMPLE.replace("-", "")
    assert coi == f"COI-{other[:4]}-{other[4:]}-{mod37_2(PREFIX + other)}"


def test_parts_shorter_than_three_characters_are_not_avoided():
    assert new_coi(feed(as_bytes(GOOD)), avoid=[GOOD[:2], "", None]) == SAMPLE


def test_a_source_that_never_gives_a_usable_id_is_an_error():
    with pytest.raises(RuntimeError, match=str(MAX_DRAWS)):
        new_coi(lambda n: as_bytes(UNUSABLE))


@pytest.mark.parametrize("bad", [b"", "text", None])
def test_a_source_that_gives_no_bytes_is_refused(bad):
    with pytest.raises(ValueError, match="random: must return bytes"):
        new_coi(lambda n: bad)


def test_every_single_character_error_is_caught():
    body = SAMPLE.replace("-", "")
    for position in range(len(PREFIX), len(body)):
        for char in ALPHABET:
            if char == body[position]:
                continue
            typo = body[:position] + char + body[position + 1 :]
            printed = f"COI-{typo[3:7]}-{typo[7:11]}-{typo[11]}"
            assert not coi_is_valid(printed), printed


def test_every_swap_of_two_neighbouring_characters_is_caught():
    body = SAMPLE.replace("-", "")
    for position in range(len(PREFIX), len(body) - 1):
        if body[position] == body[position + 1]:
            continue
        swapped = body[:position] + body[position + 1] + body[position] + body[position + 2 :]
        printed = f"COI-{swapped[3:7]}-{swapped[7:11]}-{swapped[11]}"
        assert not coi_is_valid(printed), printed


@pytest.mark.parametrize(
    "text",
    [
        SAMPLE.lower(),
        SAMPLE.replace("-", ""),
        SAMPLE + " ",
        SAMPLE.replace("COI", "CO1"),
        "COI-AAAA-BBBB-C",
        "",
        None,
        42,
    ],
)
def test_only_the_printed_form_with_its_check_character_is_valid(text):
    assert coi_is_valid(SAMPLE)
    assert not coi_is_valid(text)


@pytest.mark.parametrize(
    "typed",
    [
        SAMPLE,
        SAMPLE.lower(),
        SAMPLE.replace("-", ""),
        SAMPLE.replace("-", " "),
        " " + SAMPLE.replace("-", " – ") + "\n",
        "c o i " + SAMPLE[4:],
    ],
)
def test_normalise_reads_an_id_as_typed_or_scanned(typed):
    assert normalise_coi(typed) == SAMPLE


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "nothing was entered"),
        ("  - ", "nothing was entered"),
        ("ABC-" + SAMPLE[4:], "must read like COI-7KQ2-M9XD-4"),
        (SAMPLE + "2", "must read like COI-7KQ2-M9XD-4"),
        ("COI-" + "0" + SAMPLE[5:], "contains '0'"),
        ("COI-" + "A" + SAMPLE[5:], "contains 'A'"),
        (SAMPLE[:-1] + ("2" if SAMPLE[-1] != "2" else "3"), "check character"),
    ],
)
def test_normalise_says_what_is_wrong(typed, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        normalise_coi(typed)


def test_normalise_refuses_anything_but_text():
    with pytest.raises(ValueError, match="expected text"):
        normalise_coi(123)


@given(st.randoms(use_true_random=False))
def test_any_random_source_makes_a_valid_id_that_normalises_to_itself(rnd):
    coi = new_coi(rnd.randbytes)
    assert coi_is_valid(coi) and normalise_coi(coi) == coi
    assert normalise_coi(coi.lower().replace("-", " ")) == coi
    assert len(coi) == LENGTH and CHAIN_OF_IDENTITY.fullmatch(coi)
    # No vowel, no 0 or 1: no word, name or year can be spelled by the drawn characters.
    assert not set(coi[len(PREFIX) :]) & set("AEIOUY01IL")


@given(
    st.randoms(use_true_random=False),
    st.lists(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ23456789 -'", max_size=12), max_size=4),
)
def test_an_id_never_holds_a_part_of_a_name_or_mrn_it_was_told_to_avoid(rnd, words):
    compact = new_coi(rnd.randbytes, avoid=words).replace("-", "")
    for word in words:
        for part in re.split(r"[\s\-']+", word.upper()):
            if len(part) >= 3 and part not in PREFIX:
                assert part not in compact

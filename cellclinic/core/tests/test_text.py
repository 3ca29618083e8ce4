"""The text rules (core/text.py): NFC, no control or bidi characters, usernames of one script."""

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cellclinic.core.text import (
    BIDI_CONTROLS,
    TextError,
    clean_text,
    clean_username,
    mixed_scripts,
    problem,
    scripts_of,
)

CONTROLS = [chr(c) for c in (*range(0x00, 0x20), *range(0x7F, 0xA0))]
BIDI = [chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))]
# Text a person may type: any character but controls, surrogates and the bidi ones.
PLAIN = st.text(
    st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="".join(BIDI_CONTROLS)), max_size=40
)


def test_the_bidi_set_is_exactly_the_embeddings_overrides_and_isolates():
    assert sorted(BIDI_CONTROLS) == BIDI
    assert len(BIDI) == 9


@pytest.mark.parametrize("char", CONTROLS, ids=lambda c: f"U+{ord(c):04X}")
def test_every_control_character_is_refused_on_one_line(char):
    with pytest.raises(TextError):
        clean_text(f"Ada{char}Lovelace")


@pytest.mark.parametrize("char", CONTROLS, ids=lambda c: f"U+{ord(c):04X}")
def test_multi_line_text_allows_only_tab_and_line_breaks(char):
    if char in "\t\n\r":
        assert clean_text(f"one{char}two", multiline=True) == f"one{char}two"
    else:
        with pytest.raises(TextError):
            clean_text(f"one{char}two", multiline=True)


@pytest.mark.parametrize("char", BIDI, ids=lambda c: f"U+{ord(c):04X}")
@pytest.mark.parametrize("multiline", [False, True])
def test_every_bidi_control_is_refused(char, multiline):
    with pytest.raises(TextError, match="text-direction"):
        clean_text(f"invoice{char}fdp.exe", multiline=multiline)


def test_a_nul_and_a_lone_surrogate_are_refused():
    with pytest.raises(TextError, match="control character"):
        clean_text("a\x00b")
    with pytest.raises(TextError, match="not valid Unicode"):
        clean_text("a\ud800b")


def test_a_line_break_in_one_line_text_says_so():
    with pytest.raises(TextError, match="one line"):
        clean_text("two\nlines")


def test_text_is_normalised_to_nfc():
    decomposed = "Zoe\u0308"  # e + combining diaeresis
    assert clean_text(decomposed) == "Zo\u00eb"


@given(PLAIN)
def test_plain_text_is_accepted_and_comes_back_in_nfc(value):
    assert problem(value) is None
    cleaned = clean_text(value)
    assert cleaned == unicodedata.normalize("NFC", value)
    assert clean_text(cleaned) == cleaned  # idempotent


@given(PLAIN, st.sampled_from(CONTROLS + BIDI + ["\ud800", "\udfff"]), PLAIN)
def test_one_bad_character_anywhere_is_refused(before, bad, after):
    multiline_ok = bad in "\t\n\r"
    with pytest.raises(TextError):
        clean_text(before + bad + after)
    if not multiline_ok:
        with pytest.raises(TextError):
            clean_text(before + bad + after, multiline=True)


@pytest.mark.parametrize(
    "name",
    [
        "ada",
        "ada.okafor",
        "ada_99",
        "Zoë",
        "владимир",
        "Ελένη",
        "山田たろう",
        "김민준",
        "ada@example.org",
        "42",
    ],
)
def test_usernames_of_one_script_are_accepted(name):
    assert clean_username(name) == unicodedata.normalize("NFC", name)


@pytest.mark.parametrize(
    "name",
    [
        "p\u0430ypal",  # Cyrillic a in a Latin name
        "\u0430dmin",  # Cyrillic a, then Latin
        "ad\u03bfmin",  # Greek omicron
        "vlad\u0438mir",
    ],
)
def test_usernames_mixing_scripts_are_refused(name):
    with pytest.raises(TextError, match="mixes letters of different scripts"):
        clean_username(name)


def test_scripts_are_read_from_letters_only():
    assert scripts_of("ada-42_.@") == {"LATIN"}
    assert scripts_of("123") == frozenset()
    assert mixed_scripts("山田たろうカタカナ") is None
    assert mixed_scripts("ad\u0430") == {"LATIN", "CYRILLIC"}


@given(
    st.text(st.characters(whitelist_categories=("Ll", "Lu")), min_size=1, max_size=12),
    st.text(st.characters(whitelist_categories=("Ll", "Lu")), min_size=1, max_size=12),
)
def test_a_username_is_accepted_exactly_when_its_letters_share_a_script(left, right):
    name = left + right
    try:
        clean_username(name)
    except TextError:
        assert mixed_scripts(unicodedata.normalize("NFC", name)) is not None
    else:
        assert mixed_scripts(unicodedata.normalize("NFC", name)) is None

"""The rules every piece of text typed by a person passes, on pages and in the API alike. No Django.

- text is normalised to NFC, so one name is stored one way however the keyboard composed it;
- control characters are refused (tab, line feed and carriage return are allowed in multi-line text),
  and so are lone surrogates, which no encoding can store;
- bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069) are refused: they
  make text read differently from how it is stored (a name or a note that displays as something else);
- a user name mixes no scripts (Latin with Cyrillic, for instance), so that two names that look alike
  are never two different accounts. Japanese (kana with kanji) and Korean (hangul with hanja) are one
  script each for this purpose.
"""

import unicodedata

BIDI_CONTROLS = frozenset(chr(code) for code in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))
MULTILINE_ALLOWED = frozenset("\t\n\r")

CONTROL_CHARACTER = "contains a control character"
LINE_BREAK = "must be on one line"
BIDI_CONTROL = "contains a hidden text-direction character (U+202A-U+202E or U+2066-U+2069)"
SURROGATE = "contains a character that is not valid Unicode"
MIXED_SCRIPTS = "mixes letters of different scripts ({scripts}), which makes look-alike names possible"

# Scripts that are written together, each set counted as one script.
_COMBINED_SCRIPTS = (frozenset({"HIRAGANA", "KATAKANA", "CJK"}), frozenset({"HANGUL", "CJK"}))


class TextError(ValueError):
    """Text a person may not enter; the message says why, in words for that person."""


def problem(value: str, *, multiline: bool = False) -> str | None:
    """Why VALUE is not acceptable text, or None."""
    for char in value:
        if char in BIDI_CONTROLS:
            return BIDI_CONTROL
        category = unicodedata.category(char)
        if category == "Cs":
            return SURROGATE
        if category == "Cc":
            if multiline and char in MULTILINE_ALLOWED:
                continue
            return LINE_BREAK if char in MULTILINE_ALLOWED else CONTROL_CHARACTER
    return None


def clean_text(value: str, *, multiline: bool = False) -> str:
    """VALUE in NFC; TextError when it holds a character no person's text should hold."""
    reason = problem(value, multiline=multiline)
    if reason is not None:
        raise TextError(reason)
    return unicodedata.normalize("NFC", value)


def script_of(char: str) -> str | None:
    """The script of a letter, read from its Unicode name (LATIN, CYRILLIC, GREEK, ...); None otherwise."""
    if not unicodedata.category(char).startswith("L"):
        return None
    name = unicodedata.name(char, "")
    if not name:
        return "UNKNOWN"
    first = name.split(" ", 1)[0]
    return "CJK" if first in {"CJK", "IDEOGRAPHIC"} else first


def scripts_of(value: str) -> frozenset[str]:
    """Every script the letters of VALUE are written in (digits and punctuation belong to none)."""
    return frozenset(script for script in map(script_of, value) if script is not None)


def mixed_scripts(value: str) -> frozenset[str] | None:
    """The scripts VALUE mixes, or None when its letters are of one script (or a combination used as one)."""
    scripts = scripts_of(value)
    if len(scripts) <= 1 or any(scripts <= combined for combined in _COMBINED_SCRIPTS):
        return None
    return scripts


def clean_username(value: str) -> str:
    """A user name: one line of clean text in NFC, its letters in one script."""
    cleaned = clean_text(value)
    scripts = mixed_scripts(cleaned)
    if scripts is not None:
        raise TextError(MIXED_SCRIPTS.format(scripts=", ".join(sorted(s.title() for s in scripts))))
    return cleaned

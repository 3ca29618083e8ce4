"""Chain-of-identity ids: the one code that names a patient-therapy event on every specimen and product.

Pure: no Django. An id reads like "COI-7KQ2-M9XD-4": the prefix "COI", two groups of four characters
drawn at random, and an ISO 7064 Mod 37-2 check character (`cellclinic.core.checkchar`) computed over
the prefix and the eight drawn characters, without the hyphens. It holds no name, MRN or date: the
characters are random, from an alphabet without the characters people confuse (0 and O, 1, I and L)
and without vowels, so no word, name or year can appear by chance; a draw whose check character would
be one of the excluded characters (or "*", which the label barcodes do not carry) is drawn again, so
every character of an id is unambiguous. 27 characters to the power 8 gives about 2.8 × 10¹¹ ids.

`normalise_coi` reads an id as a person types or a scanner sends it (any case, spaces, hyphens left
out) and returns it in its printed form; `coi_is_valid` says whether a text is an id in that form with
the right check character.
"""

import re
import secrets
from collections.abc import Callable, Iterable

from cellclinic.core.checkchar import mod37_2

PREFIX = "COI"
# No 0/O, 1/I/L (read alike) and no vowels A, E, U, Y (no words): 27 characters.
ALPHABET = "23456789BCDFGHJKMNPQRSTVWXZ"
GROUPS = 2
GROUP_LENGTH = 4
RANDOM_LENGTH = GROUPS * GROUP_LENGTH
LENGTH = len(PREFIX) + GROUPS * (GROUP_LENGTH + 1) + 2  # "COI-XXXX-XXXX-C": 15 characters
# Bytes at or above this value are drawn again, so every character of ALPHABET is equally likely.
_UNBIASED = 256 - 256 % len(ALPHABET)
MAX_DRAWS = 1000
SHORTEST_AVOIDED = 3

_FORM = re.compile(rf"{PREFIX}(?:-[{ALPHABET}]{{{GROUP_LENGTH}}}){{{GROUPS}}}-[{ALPHABET}]")
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—]+")

RandomBytes = Callable[[int], bytes]


def _check(random_part: str) -> str:
    """The check character over the prefix and the drawn characters."""
    return mod37_2(PREFIX + random_part)


def _printed(random_part: str, check: str) -> str:
    groups = [random_part[i : i + GROUP_LENGTH] for i in range(0, RANDOM_LENGTH, GROUP_LENGTH)]
    return "-".join([PREFIX, *groups, check])


def _draw(random: RandomBytes) -> str:
    """RANDOM_LENGTH characters of ALPHABET from RANDOM's bytes, each equally likely."""
    chars: list[str] = []
    while len(chars) < RANDOM_LENGTH:
        chunk = random(RANDOM_LENGTH)
        if not isinstance(chunk, bytes | bytearray) or not chunk:
            raise ValueError(f"random: must return bytes, got {chunk!r}")
        chars += [ALPHABET[byte % len(ALPHABET)] for byte in chunk if byte < _UNBIASED]
    return "".join(chars[:RANDOM_LENGTH])


def _words(avoid: Iterable[str]) -> list[str]:
    """The parts of AVOID (names, an MRN) long enough to be recognised, as capitals without spaces."""
    words: list[str] = []
    for text in avoid:
        for part in re.split(r"[\s\-']+", str(text or "").upper()):
            # Every id starts with the prefix, so a part the prefix holds cannot tell anyone apart.
            if len(part) >= SHORTEST_AVOIDED and part not in PREFIX:
                words.append(part)
    return words


def new_coi(random: RandomBytes | None = None, *, avoid: Iterable[str] = ()) -> str:
    """A new chain-of-identity id, such as "COI-7KQ2-M9XD-4".

    RANDOM(n) gives n random bytes (by default `secrets.token_bytes`). AVOID lists texts the id must not
    contain (the patient's names and MRN, as the specimen label checks); parts shorter than three
    characters, and the prefix itself, are ignored. Raises RuntimeError when RANDOM gives no usable id
    in MAX_DRAWS draws.
    """
    source = random or secrets.token_bytes
    words = _words(avoid)
    for _ in range(MAX_DRAWS):
        drawn = _draw(source)
        check = _check(drawn)
        if check not in ALPHABET:
            continue
        coi = _printed(drawn, check)
        if not any(word in coi.replace("-", "") for word in words):
            return coi
    raise RuntimeError(f"random: no usable chain-of-identity id in {MAX_DRAWS} draws")


def coi_is_valid(text: object) -> bool:
    """True when TEXT is a chain-of-identity id in its printed form with the right check character."""
    if not isinstance(text, str) or len(text) != LENGTH or not _FORM.fullmatch(text):
        return False
    body = text.replace("-", "")
    return _check(body[len(PREFIX) : -1]) == body[-1]


def normalise_coi(text: object) -> str:
    """TEXT as typed or scanned (any case, spaces or hyphens anywhere or none), in its printed form.

    Raises ValueError, saying what is wrong, when TEXT is not a chain-of-identity id or its check
    character does not match (a character was mistyped or misread).
    """
    if not isinstance(text, str):
        raise ValueError(f"chain-of-identity id: expected text, got {type(text).__name__}")
    compact = _SEPARATORS.sub("", text).upper()
    if not compact:
        raise ValueError("chain-of-identity id: nothing was entered")
    expected = len(PREFIX) + RANDOM_LENGTH + 1
    if not compact.startswith(PREFIX) or len(compact) != expected:
        raise ValueError(
            f"chain-of-identity id: {text!r} must read like COI-7KQ2-M9XD-4 "
            f"({PREFIX}, {RANDOM_LENGTH} characters and a check character)"
        )
    drawn, check = compact[len(PREFIX) : -1], compact[-1]
    wrong = sorted({char for char in drawn + check if char not in ALPHABET})
    if wrong:
        raise ValueError(
            f"chain-of-identity id: {text!r} contains {', '.join(repr(c) for c in wrong)}, which an id "
            "never holds (it has no vowels, no 0 or 1 and no I, L or O)"
        )
    if _check(drawn) != check:
        raise ValueError(
            f"check character: {check!r} is wrong for {_printed(drawn, '?')[:-2]}; "
            "a character was mistyped or misread"
        )
    return _printed(drawn, check)

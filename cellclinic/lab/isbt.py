"""ISBT 128 Donation Identification Numbers and date codes (DOMAIN.md §6).

Pure: no Django. A DIN is 13 characters, `αppppyynnnnnn`:

- `αpppp`, the Facility Identification Number (FIN): one character from A–N, P–Z or 1–9 (no letter O,
  no zero, which read alike), then four digits;
- `yy`, the two-digit year;
- `nnnnnn`, the six-digit sequence number within that year at that facility.

Two flag characters follow the DIN in the barcode (Data Structure 001, `=αppppyynnnnnnff`) but are not
part of it. Flags are two digits; the values 60 to 96 carry the DIN's check character as its value plus
60, so a DIN with such flags must agree with its own check character. The check character itself is
ISO 7064 Mod 37-2 over the 13 DIN characters; it is printed beside the DIN in a box and is not part of
the barcode.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime

from cellclinic.core.checkchar import ALPHABET, mod37_2

FACILITY_FIRST = "ABCDEFGHIJKLMNPQRSTUVWXYZ123456789"
DIN_LENGTH = 13
DEFAULT_FLAGS = "00"
CHECK_FLAGS_BASE = 60
LAST_SEQUENCE = 999_999
BARCODE_PREFIX = "="
EXPIRY_DATE_PREFIX = "=>"
EXPIRY_PREFIX = "&>"

_DIGITS = re.compile(r"[0-9]+")
_SPACES = re.compile(r"\s+")


def _all_digits(text: str) -> bool:
    return bool(_DIGITS.fullmatch(text))


def validate_facility(fin: str) -> str:
    """Return FIN, a Facility Identification Number, when it is well formed; raise ValueError if not.

    Well formed means five characters: the first from A–N, P–Z or 1–9, then four digits. Letters are
    capitals; the number is returned as given, never changed.
    """
    if not isinstance(fin, str):
        raise ValueError(f"facility identification number: expected text, got {type(fin).__name__}")
    if len(fin) != 5:
        raise ValueError(
            f"facility identification number: {fin!r} has {len(fin)} characters; it needs 5 "
            "(a letter or digit, then four digits)"
        )
    if fin[0] not in FACILITY_FIRST:
        raise ValueError(
            f"facility identification number: {fin!r} starts with {fin[0]!r}; the first character must be "
            "a capital letter A-N or P-Z, or a digit 1-9"
        )
    if not _all_digits(fin[1:]):
        raise ValueError(f"facility identification number: {fin!r} must end in four digits, not {fin[1:]!r}")
    return fin


def _check_int(name: str, value: object, highest: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name}: expected a whole number, got {value!r}")
    if not 0 <= value <= highest:
        raise ValueError(f"{name}: {value} is outside 0 to {highest}")
    return value


def _check_flags(flags: object) -> str:
    if not isinstance(flags, str) or len(flags) != 2 or not _all_digits(flags):
        raise ValueError(f"flags: {flags!r} must be two digits")
    return flags


@dataclass(frozen=True)
class Din:
    """One Donation Identification Number with its flag characters.

    FACILITY is the FIN, YEAR the two-digit year (0 to 99), SEQUENCE the number within that year (0 to
    999999), FLAGS the two flag digits ("00" when unused).
    """

    facility: str
    year: int
    sequence: int
    flags: str = DEFAULT_FLAGS

    def __post_init__(self) -> None:
        validate_facility(self.facility)
        _check_int("year", self.year, 99)
        _check_int("sequence", self.sequence, LAST_SEQUENCE)
        _check_flags(self.flags)
        carries_check = CHECK_FLAGS_BASE <= int(self.flags) < CHECK_FLAGS_BASE + len(ALPHABET)
        if carries_check and self.flags != self.check_flags:
            raise ValueError(
                f"flags: {self.flags!r} stands for a check character, and it does not match the "
                f"check character of DIN {self.din}"
            )

    @property
    def din(self) -> str:
        """The 13 characters of the DIN: facility, two-digit year, six-digit sequence."""
        return f"{self.facility}{self.year:02d}{self.sequence:06d}"

    @property
    def check(self) -> str:
        """The ISO 7064 Mod 37-2 check character over the 13 DIN characters."""
        return mod37_2(self.din)

    @property
    def check_flags(self) -> str:
        """The flag digits that carry the check character in a barcode: its value plus 60."""
        return f"{ALPHABET.index(self.check) + CHECK_FLAGS_BASE:02d}"

    @property
    def barcode(self) -> str:
        """The barcode data content of Data Structure 001: "=", the DIN, then the flags."""
        return f"{BARCODE_PREFIX}{self.din}{self.flags}"

    @property
    def eye_readable(self) -> str:
        """The DIN as printed under its barcode, such as "A9999 17 123456 00 K".

        The groups are the facility, the year and the sequence, then the flags (printed turned a
        quarter turn on a label) and the check character (printed in a box on a label). `parse_din`
        reads this text back.
        """
        return f"{self.facility} {self.year:02d} {self.sequence:06d} {self.flags} {self.check}"


def _din_from_parts(din: str, flags: str) -> Din:
    facility = validate_facility(din[:5])
    year, sequence = din[5:7], din[7:13]
    if not _all_digits(year):
        raise ValueError(f"year: {year!r} in DIN {din!r} must be two digits")
    if not _all_digits(sequence):
        raise ValueError(f"sequence: {sequence!r} in DIN {din!r} must be six digits")
    return Din(facility, int(year), int(sequence), _check_flags(flags))


def parse_din(text: str) -> Din:
    """Read a DIN from a scanned barcode or from typed text; raise ValueError naming what is wrong.

    A scan is the Data Structure 001 content: "=", the 13 DIN characters and the 2 flag digits, with
    nothing else. Typed text may contain spaces anywhere and letters in either case, and is one of:
    the 13 DIN characters; the DIN and its check character (14); the DIN and its flags (15); or the
    DIN, its flags and its check character (16), as `Din.eye_readable` prints them. When a check
    character is given it must match the DIN. Flags not given are "00".
    """
    if not isinstance(text, str):
        raise ValueError(f"DIN: expected text, got {type(text).__name__}")
    stripped = text.strip().upper()
    if stripped.startswith(BARCODE_PREFIX):
        body = stripped[len(BARCODE_PREFIX) :]
        if len(body) != DIN_LENGTH + 2:
            raise ValueError(
                f"DIN: the barcode {text!r} has {len(body)} characters after '='; it needs 15 "
                "(13 for the DIN and 2 flag digits)"
            )
        return _din_from_parts(body[:DIN_LENGTH], body[DIN_LENGTH:])
    typed = _SPACES.sub("", stripped)
    if not typed:
        raise ValueError("DIN: nothing was entered")
    length = len(typed)
    if length not in (13, 14, 15, 16):
        raise ValueError(
            f"DIN: {text!r} has {length} characters; expected 13 (the DIN), 14 (with its check "
            "character), 15 (with its flags) or 16 (with flags and check character)"
        )
    din_text = typed[:DIN_LENGTH]
    flags = typed[DIN_LENGTH : DIN_LENGTH + 2] if length >= 15 else DEFAULT_FLAGS
    given_check = typed[-1] if length in (14, 16) else None
    din = _din_from_parts(din_text, flags)
    if given_check is not None and given_check != din.check:
        raise ValueError(
            f"check character: {given_check!r} is wrong for DIN {din.din}; "
            "a character was mistyped or misread"
        )
    return din


def next_din(facility: str, year: int, last_sequence: int | None) -> Din:
    """The DIN that follows LAST_SEQUENCE at FACILITY in the two-digit YEAR (the first, 000001, if None).

    Raises ValueError when the year's sequence numbers are used up.
    """
    validate_facility(facility)
    _check_int("year", year, 99)
    if last_sequence is None:
        return Din(facility, year, 1)
    _check_int("last sequence", last_sequence, LAST_SEQUENCE)
    if last_sequence == LAST_SEQUENCE:
        raise ValueError(
            f"sequence: every number of year {year:02d} at facility {facility} is used "
            f"(the last is {LAST_SEQUENCE})"
        )
    return Din(facility, year, last_sequence + 1)


def _julian(when: date) -> str:
    """`cyyjjj`: the hundreds digit of the year, its last two digits, and the day of the year (001-366)."""
    return f"{when.year % 1000:03d}{when.timetuple().tm_yday:03d}"


def expiry_date_code(when: date) -> str:
    """Data Structure 004, `=>cyyjjj`: the expiry date as century digit, year and day of the year.

    The century digit is taken as the hundreds digit of the year, so `cyy` is the year's last three
    digits: 31 December 2026 is "=>026365".
    """
    if not isinstance(when, date):
        raise ValueError(f"expiry: expected a date, got {type(when).__name__}")
    return f"{EXPIRY_DATE_PREFIX}{_julian(when)}"


def expiry_code(when: datetime) -> str:
    """Data Structure 005, `&>cyyjjjhhmm`: the expiry date as in `expiry_date_code`, then hour and minute.

    WHEN is read on its own clock (pass it in the time zone the label is printed for). Seconds are
    dropped, so the printed expiry is never later than the real one: 1 February 2026 at 14:05:59 is
    "&>0260321405".
    """
    if not isinstance(when, datetime):
        raise ValueError(f"expiry: expected a date and time, got {type(when).__name__}")
    return f"{EXPIRY_PREFIX}{_julian(when)}{when.hour:02d}{when.minute:02d}"

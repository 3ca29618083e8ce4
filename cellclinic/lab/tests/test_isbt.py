from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cellclinic.core.checkchar import ALPHABET, mod37_2
from cellclinic.lab.isbt import (
    Din,
    expiry_code,
    expiry_date_code,
    next_din,
    parse_din,
    validate_facility,
)

FACILITY_FIRST = "ABCDEFGHIJKLMNPQRSTUVWXYZ123456789"

facilities = st.builds(
    lambda first, digits: first + digits,
    st.sampled_from(FACILITY_FIRST),
    st.text(alphabet="0123456789", min_size=4, max_size=4),
)
plain_flags = st.integers(min_value=0, max_value=59).map(lambda n: f"{n:02d}")
dins = st.builds(
    Din,
    facility=facilities,
    year=st.integers(min_value=0, max_value=99),
    sequence=st.integers(min_value=0, max_value=999_999),
    flags=plain_flags,
)


# --- published vectors --------------------------------------------------------------------------------


def test_the_jpac_vector_is_a_well_formed_din_with_check_h():
    din = parse_din("G123498654321")
    assert (din.facility, din.year, din.sequence) == ("G1234", 98, 654321)
    assert din.check == "H"
    assert parse_din("G123498654321H") == din


def test_the_second_vector_checks_to_c_but_its_facility_is_not_a_valid_fin():
    # "ABCDE27000069" is published only as a check-character example: its would-be FIN "ABCDE"
    # does not end in four digits, so the check character is right but the DIN is refused.
    assert mod37_2("ABCDE27000069") == "C"
    with pytest.raises(ValueError, match=r"facility identification number: 'ABCDE' must end in four digits"):
        parse_din("ABCDE27000069C")


def test_the_domain_example_barcode_reads_as_documented():
    din = parse_din("=A99991712345600")
    assert din == Din("A9999", 17, 123456, "00")
    assert din.din == "A999917123456"
    assert din.barcode == "=A99991712345600"
    assert din.check == "9"
    assert din.eye_readable == "A9999 17 123456 00 9"


# --- Din -----------------------------------------------------------------------------------------------


def test_the_din_pads_year_and_sequence():
    din = Din("W0001", 6, 42)
    assert din.din == "W000106000042"
    assert din.flags == "00"
    assert din.barcode == "=W00010600004200"
    assert din.eye_readable == "W0001 06 000042 00 Y"


def test_check_flags_carry_the_check_value_plus_60():
    din = Din("G1234", 98, 654321)
    assert din.check == "H"
    assert din.check_flags == "77"  # H is 17
    assert Din("G1234", 98, 654321, "77").flags == "77"
    with pytest.raises(ValueError, match="flags: '78' stands for a check character"):
        Din("G1234", 98, 654321, "78")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"facility": "O1234"}, "first character must be"),
        ({"facility": "01234"}, "first character must be"),
        ({"facility": "a1234"}, "first character must be"),
        ({"facility": "A123"}, "has 4 characters"),
        ({"facility": "A12345"}, "has 6 characters"),
        ({"facility": "A12B4"}, "must end in four digits"),
        ({"facility": 12345}, "expected text"),
        ({"year": 100}, r"year: 100 is outside 0 to 99"),
        ({"year": -1}, "year: -1 is outside"),
        ({"year": "17"}, "year: expected a whole number"),
        ({"year": True}, "year: expected a whole number"),
        ({"sequence": 1_000_000}, "sequence: 1000000 is outside 0 to 999999"),
        ({"sequence": 1.5}, "sequence: expected a whole number"),
        ({"flags": "0"}, "flags: '0' must be two digits"),
        ({"flags": "0A"}, "flags: '0A' must be two digits"),
        ({"flags": 0}, "flags: 0 must be two digits"),
    ],
)
def test_a_bad_din_is_refused_naming_the_field(kwargs, message):
    fields = {"facility": "A9999", "year": 17, "sequence": 123456, **kwargs}
    with pytest.raises(ValueError, match=message):
        Din(**fields)


def test_the_din_is_immutable():
    din = Din("A9999", 17, 123456)
    with pytest.raises(AttributeError):
        din.sequence = 1  # type: ignore[misc]


# --- facility ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fin", ["A9999", "N0000", "P1234", "Z0001", "10000", "99999"])
def test_valid_facility_numbers_are_returned_unchanged(fin):
    assert validate_facility(fin) == fin


@pytest.mark.parametrize("fin", ["O0000", "00000", "I000", "", " A9999", "A999 ", "*1234", "É1234"])
def test_invalid_facility_numbers_are_refused(fin):
    with pytest.raises(ValueError, match="facility identification number"):
        validate_facility(fin)


# --- parsing -------------------------------------------------------------------------------------------


def test_typed_forms_parse_with_spaces_and_either_case():
    din = Din("A9999", 17, 123456)
    check = din.check
    for text in (
        "A999917123456",
        f"A999917123456{check}",
        "A99991712345600",
        f"A99991712345600{check}",
        f"  a9999 17 123456 {check.lower()} ",
        "A9999 17 123456 00",
        din.eye_readable,
    ):
        assert parse_din(text) == din, text


def test_typed_flags_are_kept():
    assert parse_din("A9999 17 123456 05").flags == "05"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "DIN: nothing was entered"),
        ("   ", "DIN: nothing was entered"),
        ("A99991712345", "has 12 characters; expected 13"),
        ("A99991712345600XX", "has 17 characters"),
        ("=A999917123456", "has 13 characters after '='; it needs 15"),
        ("=A9999171234560", "has 14 characters after '='"),
        ("=A9999 17123456 00", "has 17 characters after '='"),
        ("O999917123456", "facility identification number: 'O9999' starts with 'O'"),
        ("0999917123456", "starts with '0'"),
        ("A99X917123456", "must end in four digits"),
        ("A99991X123456", r"year: '1X' in DIN 'A99991X123456' must be two digits"),
        ("A99991712345X", r"sequence: '12345X' in DIN 'A99991712345X' must be six digits"),
        ("=A9999171234560A", "flags: '0A' must be two digits"),
        ("A9999171234560A", "flags: '0A' must be two digits"),
    ],
)
def test_bad_text_is_refused_naming_the_field(text, message):
    with pytest.raises(ValueError, match=message):
        parse_din(text)


def test_a_wrong_check_character_is_refused():
    din = Din("A9999", 17, 123456)
    wrong = next(c for c in ALPHABET[:-1] if c != din.check)
    with pytest.raises(ValueError, match=f"check character: '{wrong}' is wrong for DIN A999917123456"):
        parse_din(f"A999917123456{wrong}")
    with pytest.raises(ValueError, match="check character"):
        parse_din(f"A9999 17 123456 00 {wrong}")


def test_non_text_is_refused():
    with pytest.raises(ValueError, match="DIN: expected text, got int"):
        parse_din(1234)  # type: ignore[arg-type]


@given(dins)
def test_every_din_parses_back_from_its_barcode_and_eye_readable_form(din):
    assert parse_din(din.barcode) == din
    assert parse_din(din.eye_readable) == din
    assert parse_din(din.din + din.flags + din.check) == din
    assert parse_din(din.din + din.check) == Din(din.facility, din.year, din.sequence)
    assert len(din.din) == 13
    assert len(din.barcode) == 16


@given(dins, st.integers(min_value=0, max_value=12), st.sampled_from(ALPHABET[:-1]))
def test_a_single_changed_character_is_always_caught_by_the_check_character(din, position, replacement):
    original = din.din
    changed = original[:position] + replacement + original[position + 1 :]
    if changed == original:
        return
    assert mod37_2(changed) != din.check
    with pytest.raises(ValueError):
        parse_din(changed + din.check)


@given(dins, st.integers(min_value=0, max_value=11))
def test_swapping_two_adjacent_different_characters_is_caught(din, position):
    original = din.din
    if original[position] == original[position + 1]:
        return
    swapped = original[:position] + original[position + 1] + original[position] + original[position + 2 :]
    assert mod37_2(swapped) != din.check


# --- next DIN ------------------------------------------------------------------------------------------


def test_the_first_din_of_a_year_is_sequence_one():
    assert next_din("A9999", 26, None) == Din("A9999", 26, 1)


def test_next_din_follows_the_last_sequence():
    assert next_din("A9999", 26, 41).din == "A999926000042"


def test_next_din_refuses_an_exhausted_year():
    with pytest.raises(ValueError, match="sequence: every number of year 26 at facility A9999 is used"):
        next_din("A9999", 26, 999_999)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("O9999", 26, 1), "facility identification number"),
        (("A9999", 126, 1), "year: 126 is outside"),
        (("A9999", 26, -1), "last sequence: -1 is outside"),
        (("A9999", 26, "7"), "last sequence: expected a whole number"),
    ],
)
def test_next_din_refuses_bad_input(args, message):
    with pytest.raises(ValueError, match=message):
        next_din(*args)


@given(dins.filter(lambda d: d.sequence < 999_999))
def test_next_din_is_always_a_different_din_one_further_on(din):
    following = next_din(din.facility, din.year, din.sequence)
    assert following.sequence == din.sequence + 1
    assert following.din != din.din
    assert following.din > din.din


# --- expiry codes --------------------------------------------------------------------------------------


def test_expiry_date_code_is_century_digit_year_and_day_of_year():
    assert expiry_date_code(date(2026, 12, 31)) == "=>026365"
    assert expiry_date_code(date(2024, 12, 31)) == "=>024366"  # leap year
    assert expiry_date_code(date(2026, 1, 1)) == "=>026001"
    assert expiry_date_code(date(2117, 3, 1)) == "=>117060"


def test_expiry_code_adds_hour_and_minute_and_drops_seconds():
    assert expiry_code(datetime(2026, 2, 1, 14, 5, 59, tzinfo=UTC)) == "&>0260321405"
    assert expiry_code(datetime(2026, 12, 31, 23, 59, tzinfo=UTC)) == "&>0263652359"
    assert expiry_code(datetime(2026, 1, 1, 0, 0)) == "&>0260010000"


def test_expiry_code_reads_the_clock_of_the_given_time_zone():
    late_utc = datetime(2026, 6, 30, 23, 30, tzinfo=UTC)
    in_berlin = late_utc.astimezone(timezone(timedelta(hours=2)))
    assert expiry_code(late_utc) == "&>0261812330"
    assert expiry_code(in_berlin) == "&>0261820130"


def test_expiry_codes_refuse_the_wrong_type():
    with pytest.raises(ValueError, match="expiry: expected a date and time, got date"):
        expiry_code(date(2026, 1, 1))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="expiry: expected a date, got str"):
        expiry_date_code("2026-01-01")  # type: ignore[arg-type]


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2999, 12, 31, 23, 59)))
def test_expiry_code_round_trips_to_the_minute(when):
    code = expiry_code(when)
    assert code.startswith("&>")
    assert len(code) == 12
    year = (when.year // 1000) * 1000 + int(code[2:5])
    decoded = datetime(year, 1, 1) + timedelta(
        days=int(code[5:8]) - 1, hours=int(code[8:10]), minutes=int(code[10:12])
    )
    assert decoded == when.replace(second=0, microsecond=0)

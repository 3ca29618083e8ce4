"""Reading a typed date of birth in the search box."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cellclinic.patients.selectors import parse_search_date


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1984-03-07", date(1984, 3, 7)),
        ("1984-3-7", date(1984, 3, 7)),
        ("07/03/1984", date(1984, 3, 7)),
        ("7/3/1984", date(1984, 3, 7)),
        ("  07/03/1984 ", date(1984, 3, 7)),
        ("29/02/2024", date(2024, 2, 29)),
    ],
)
def test_it_reads_iso_and_day_first_dates(text, expected):
    assert parse_search_date(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hopper",
        "NCL-000001-1",
        "31/02/1984",
        "29/02/2023",
        "1984-13-01",
        "00/01/1984",
        "07/03/84",
        "07-03-1984",
        "1984/03/07",
        "07/03/1984 hopper",
        "0000-01-01",
    ],
)
def test_it_returns_none_for_anything_else(text):
    assert parse_search_date(text) is None


@given(st.dates(min_value=date(1000, 1, 1)))
def test_it_reads_back_any_date_written_either_way(day):
    assert parse_search_date(day.isoformat()) == day
    assert parse_search_date(day.strftime("%d/%m/%Y")) == day

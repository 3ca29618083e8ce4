"""The earliest free processing slot: never overbooks, never later than it needs to be."""

import itertools
import re
from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cellclinic.catalogue.registry import get_catalogue
from cellclinic.catalogue.schema import Duration
from cellclinic.lab.capacity import LONGEST_DAYS, Slot, busiest, earliest_slot, processing_days

DAY0 = date(2026, 3, 2)


def day(n: int) -> date:
    return DAY0 + timedelta(days=n)


def holding(booked, on: date) -> int:
    """How many booked batches hold a slot on ON: the plain count the property tests compare with."""
    return sum(1 for first, last in booked if first <= on <= last)


def fits(booked, slots: int, start: date, longest: int) -> bool:
    return all(holding(booked, start + timedelta(days=d)) < slots for d in range(longest + 1))


def brute_force(booked, slots: int, days: tuple[int, int], wanted: date) -> date:
    start = wanted
    while not fits(booked, slots, start, days[1]):
        start += timedelta(days=1)
    return start


# --- examples ---------------------------------------------------------------------------------------


def test_an_empty_lab_starts_on_the_day_wanted():
    assert earliest_slot(slots=1, booked=[], days=(77, 154), wanted=day(0)) == Slot(day(0), day(77), day(154))


def test_a_full_lab_starts_the_day_after_the_first_batch_ends():
    booked = [(day(0), day(10)), (day(2), day(20))]
    assert earliest_slot(slots=2, booked=booked, days=(3, 5), wanted=day(1)).start == day(11)


def test_a_slot_free_before_the_next_booking_is_too_short_for_the_whole_processing():
    # One slot: free on days 0-9, but a batch starts on day 10 and this one needs 11 days.
    booked = [(day(10), day(12))]
    assert earliest_slot(slots=1, booked=booked, days=(5, 10), wanted=day(0)).start == day(13)
    assert earliest_slot(slots=1, booked=booked, days=(5, 9), wanted=day(0)).start == day(0)


def test_batches_that_follow_each_other_share_one_slot():
    # A batch ending on day 5 and one starting on day 6 never hold two slots at once.
    booked = [(day(0), day(5)), (day(6), day(9))]
    assert busiest(booked, day(0), day(9)) == 1
    assert earliest_slot(slots=2, booked=booked, days=(1, 9), wanted=day(0)).start == day(0)


def test_bookings_wholly_before_the_day_wanted_do_not_count():
    booked = [(day(-30), day(-1))] * 5
    assert earliest_slot(slots=1, booked=booked, days=(1, 2), wanted=day(0)).start == day(0)


def test_a_protocol_without_a_processing_time_needs_no_slot():
    booked = [(day(0), day(100))] * 3
    assert earliest_slot(slots=1, booked=booked, days=None, wanted=day(4)) == Slot(day(4), day(4), day(4))


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"slots": 0}, "slots: a lab has at least one processing slot"),
        ({"slots": True}, "slots"),
        ({"slots": 1.5}, "slots"),
        ({"wanted": datetime(2026, 3, 2, 9)}, "wanted: expected a date"),
        ({"booked": [(day(3), day(1))]}, "booked[0]: the last day"),
        ({"booked": [day(1)]}, "booked[0]: expected a (first day, last day) pair"),
        ({"booked": [(day(1), "tomorrow")]}, "booked[0] last day: expected a date"),
        ({"days": (5, 3)}, "days: the shortest time (5) is longer than the longest (3)"),
        ({"days": (-1, 3)}, "days (shortest)"),
        ({"days": (1, LONGEST_DAYS + 1)}, "days (longest)"),
        ({"days": (1, 2.5)}, "days (longest): expected a whole number"),
        ({"days": [1, 2]}, "days: expected a (shortest, longest) pair"),
    ],
)
def test_bad_arguments_are_named(arguments, message):
    given_arguments = {"slots": 2, "booked": [], "days": (1, 3), "wanted": day(0), **arguments}
    with pytest.raises(ValueError, match=re.escape(message)):
        earliest_slot(**given_arguments)


# --- processing time from the catalogue ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("duration", "days"),
    [
        (Duration(min=11, max=22, unit="weeks", unverified=True), (77, 154)),
        (Duration(min=15, max=30, unit="minutes", unverified=True), (1, 1)),
        (Duration(value=3, unit="weeks", approximate=True, unverified=True), (21, 21)),
        (Duration(min=2, unit="days", unverified=True), (2, 2)),
        (Duration(max=1.5, unit="days", unverified=True), (2, 2)),
        (Duration(min=1, max=2, unit="months", unverified=True), (31, 61)),
        (None, None),
    ],
)
def test_processing_days_are_whole_days_a_part_day_counting_as_one(duration, days):
    assert processing_days(duration) == days


def test_the_cultured_protocol_takes_11_to_22_weeks():
    therapy = get_catalogue().therapies["autologous_fibroblast_injection"]
    assert processing_days(therapy.processing.duration) == (77, 154)


# --- exhaustive and property tests --------------------------------------------------------------------

HORIZON = 5
INTERVALS = [(day(a), day(b)) for a in range(HORIZON) for b in range(a, HORIZON)]


def test_every_small_lab_gets_the_same_answer_as_counting_day_by_day():
    """Every set of up to three bookings within five days, one or two slots, 0 to 2 days of processing."""
    cases = 0
    for size in range(4):
        for booked in itertools.combinations_with_replacement(INTERVALS, size):
            for slots, longest, wanted in itertools.product((1, 2), range(3), range(3)):
                found = earliest_slot(slots=slots, booked=booked, days=(0, longest), wanted=day(wanted))
                assert found.start == brute_force(booked, slots, (0, longest), day(wanted))
                cases += 1
    assert cases == 14_688


bookings = st.lists(
    st.tuples(st.integers(-10, 60), st.integers(0, 30)).map(lambda p: (day(p[0]), day(p[0] + p[1]))),
    max_size=12,
)
durations = st.tuples(st.integers(0, 20), st.integers(0, 20)).map(lambda p: (min(p), max(p)))


@given(bookings, st.integers(1, 4), durations, st.integers(-5, 40))
def test_it_never_overbooks_and_is_never_later_than_needed(booked, slots, days, offset):
    wanted = day(offset)
    found = earliest_slot(slots=slots, booked=booked, days=days, wanted=wanted)
    assert found.start >= wanted
    # Never overbooks: on every day of the new batch fewer than SLOTS others hold a slot.
    assert fits(booked, slots, found.start, days[1])
    # Never later than needed: every earlier day from the day wanted is refused.
    for earlier in range((found.start - wanted).days):
        assert not fits(booked, slots, wanted + timedelta(days=earlier), days[1])
    assert found.ready_from == found.start + timedelta(days=days[0])
    assert found.ready_to == found.start + timedelta(days=days[1])


@given(bookings, st.integers(1, 4), durations, st.integers(-5, 40))
def test_adding_the_new_batch_keeps_every_day_within_the_slots(booked, slots, days, offset):
    found = earliest_slot(slots=slots, booked=booked, days=days, wanted=day(offset))
    after = [*booked, (found.start, found.ready_to)]
    assert busiest(after, found.start, found.ready_to) <= slots


@given(bookings, st.integers(0, 60), st.integers(0, 30))
def test_busiest_is_the_largest_day_by_day_count(booked, first, length):
    start, end = day(first), day(first + length)
    expected = max(holding(booked, start + timedelta(days=d)) for d in range(length + 1))
    assert busiest(booked, start, end) == expected

"""The earliest day a lab has a processing slot free for a new batch, and when its product is ready.

Pure: no Django. A lab has SLOTS processing slots (incubators or clean-room places). Each open batch
holds one slot from its first day to the last day its product may be ready, both days included. A new
batch whose processing takes MIN_DAYS to MAX_DAYS holds a slot from its start day S to S + MAX_DAYS;
it may start on S when on no day of that interval are SLOTS booked batches already holding a slot, so
the lab never has more batches at once than slots (booked batches are not tied to one slot, and
intervals that never overlap more than SLOTS at once can always share SLOTS slots). Its product is
expected from S + MIN_DAYS to S + MAX_DAYS.

`earliest_slot` answers the earliest such S on or after the day wanted. Only two kinds of day can be
that answer: the day wanted itself, or the day after a booked batch ends (a day that is refused while
the next is not has a batch ending on it); so those are the only days tried, in order.

A point-of-care protocol, prepared at the bedside, and a protocol that gives no processing time need
no slot: the answer is the day wanted, with the product ready that day.
"""

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from cellclinic.catalogue.schema import DAYS_PER_UNIT, Duration

# No protocol processes for longer than this; a longer duration is a mistake in the data.
LONGEST_DAYS = 3660


@dataclass(frozen=True)
class Slot:
    """When a new batch starts (START) and the window its product is expected ready in."""

    start: date
    ready_from: date
    ready_to: date


def _day(field: str, value: object) -> date:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise ValueError(f"{field}: expected a date, got {value!r}")
    return value


def _days(field: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{field}: expected a whole number of days, got {value!r}")
    if not 0 <= value <= LONGEST_DAYS:
        raise ValueError(f"{field}: {value} is outside 0 to {LONGEST_DAYS} days")
    return value


def processing_days(duration: Duration | None) -> tuple[int, int] | None:
    """(shortest, longest) whole days of a protocol's processing time; None when it gives none.

    A part day counts as a whole day (15 minutes is 1 day); a duration with only a minimum or only a
    maximum is that many days either way, as the treatment plan lays it out.
    """
    if duration is None:
        return None
    unit = duration.unit.value
    values = [duration.value] if duration.value is not None else [duration.min, duration.max]
    known = [v for v in values if v is not None]
    if not known:
        return None
    low, high = min(known), max(known)
    return (
        math.ceil(round(low * DAYS_PER_UNIT[unit], 6)),
        math.ceil(round(high * DAYS_PER_UNIT[unit], 6)),
    )


def _booked(bookings: Iterable[tuple[date, date]]) -> list[tuple[date, date]]:
    checked = []
    for index, booking in enumerate(bookings):
        if not isinstance(booking, tuple) or len(booking) != 2:
            raise ValueError(f"booked[{index}]: expected a (first day, last day) pair, got {booking!r}")
        first = _day(f"booked[{index}] first day", booking[0])
        last = _day(f"booked[{index}] last day", booking[1])
        if last < first:
            raise ValueError(f"booked[{index}]: the last day {last} is before the first day {first}")
        checked.append((first, last))
    return checked


def busiest(booked: Iterable[tuple[date, date]], first: date, last: date) -> int:
    """The most booked batches holding a slot on any one day from FIRST to LAST (both included)."""
    changes: list[tuple[date, int]] = []
    for start, end in booked:
        if end < first or start > last:
            continue
        changes.append((max(start, first), 1))
        changes.append((min(end, last) + timedelta(days=1), -1))
    # On the same day a batch ending frees its slot before one starting takes it (-1 sorts first).
    changes.sort()
    holding = most = 0
    for _, change in changes:
        holding += change
        most = max(most, holding)
    return most


def earliest_slot(
    *,
    slots: int,
    booked: Iterable[tuple[date, date]],
    days: tuple[int, int] | None,
    wanted: date,
) -> Slot:
    """The earliest start on or after WANTED with a slot free for the whole processing, and the window.

    SLOTS is the lab's number of processing slots (at least 1); BOOKED the (first day, last day) of each
    open batch; DAYS the protocol's (shortest, longest) processing time in days, or None when it needs
    no slot. Raises ValueError naming the argument that is wrong.
    """
    if isinstance(slots, bool) or not isinstance(slots, int) or slots < 1:
        raise ValueError(f"slots: a lab has at least one processing slot, got {slots!r}")
    wanted = _day("wanted", wanted)
    bookings = _booked(booked)
    if days is None:
        return Slot(wanted, wanted, wanted)
    if not isinstance(days, tuple) or len(days) != 2:
        raise ValueError(f"days: expected a (shortest, longest) pair, got {days!r}")
    shortest, longest = _days("days (shortest)", days[0]), _days("days (longest)", days[1])
    if shortest > longest:
        raise ValueError(f"days: the shortest time ({shortest}) is longer than the longest ({longest})")
    candidates = sorted({wanted, *(end + timedelta(days=1) for _, end in bookings if end >= wanted)})
    for start in candidates:
        if busiest(bookings, start, start + timedelta(days=longest)) < slots:
            return Slot(start, start + timedelta(days=shortest), start + timedelta(days=longest))
    raise AssertionError("after the last booked batch ends every slot is free")  # pragma: no cover

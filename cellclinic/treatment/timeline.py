"""A plan's schedule as a drawing: plain dates and numbers, no Django.

`make_scale` maps dates to x positions across a drawing. Quiet gaps longer than a threshold are
shortened, so a follow-up a year away does not squash the first weeks into a corner; each shortened
gap carries a break mark on the axis. `month_ticks` places the axis labels, `lanes` stacks marks
that would overlap, and `step_status` says where a step stands on a given day.
"""

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

# A quiet stretch longer than 8 weeks between two dates of the plan is drawn as if it lasted 3 weeks.
GAP_THRESHOLD_DAYS = 56
SHORTENED_DAYS = 21
# A plan that spans less than this many days is labelled by week (on Mondays) instead of by month.
WEEK_TICKS_BELOW_DAYS = 45

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class Segment:
    """A stretch of the axis between two consecutive dates of the plan."""

    start: date
    end: date
    x0: float
    x1: float
    shortened: bool

    def x(self, day: date) -> float:
        return self.x0 + (day - self.start).days / (self.end - self.start).days * (self.x1 - self.x0)


@dataclass(frozen=True)
class Scale:
    """Dates to x positions, piecewise linear; a shortened segment is drawn narrower than its days."""

    segments: tuple[Segment, ...]

    @property
    def first(self) -> date:
        return self.segments[0].start

    @property
    def last(self) -> date:
        return self.segments[-1].end

    @property
    def left(self) -> float:
        return self.segments[0].x0

    @property
    def right(self) -> float:
        return self.segments[-1].x1

    def x(self, day: date) -> float:
        """Where DAY falls; days outside the scale are held at its ends."""
        if day <= self.first:
            return self.left
        if day >= self.last:
            return self.right
        index = bisect.bisect_right([segment.start for segment in self.segments], day) - 1
        return self.segments[index].x(day)

    def in_break(self, day: date) -> bool:
        """Whether DAY lies strictly inside a shortened gap, where the axis is not to scale."""
        return any(s.shortened and s.start < day < s.end for s in self.segments)

    @property
    def breaks(self) -> tuple[float, ...]:
        """The x of each break mark: the middle of each shortened gap."""
        return tuple((s.x0 + s.x1) / 2 for s in self.segments if s.shortened)


def make_scale(
    dates: Iterable[date],
    *,
    left: float,
    right: float,
    threshold: int = GAP_THRESHOLD_DAYS,
    shortened: int = SHORTENED_DAYS,
) -> Scale:
    """A scale from LEFT to RIGHT through every one of DATES, gaps over THRESHOLD days drawn SHORTENED.

    A single date is drawn at LEFT, with a day's room after it. Raises ValueError without dates, when
    LEFT is not left of RIGHT, or when SHORTENED would not make a gap shorter.
    """
    days = sorted(set(dates))
    if not days:
        raise ValueError("a scale needs at least one date")
    if not left < right:
        raise ValueError("left must be less than right")
    if not 0 < shortened <= threshold:
        raise ValueError("shortened must be more than 0 and at most the threshold")
    if len(days) == 1:
        days.append(days[0] + timedelta(days=1))
    gaps = [(later - earlier).days for earlier, later in zip(days, days[1:], strict=False)]
    drawn = [gap if gap <= threshold else shortened for gap in gaps]
    unit = (right - left) / sum(drawn)
    segments, x0 = [], left
    for index, (gap, length) in enumerate(zip(gaps, drawn, strict=True)):
        last = index == len(gaps) - 1
        x1 = right if last else x0 + length * unit
        segments.append(Segment(days[index], days[index + 1], x0, x1, length < gap))
        x0 = x1
    return Scale(tuple(segments))


@dataclass(frozen=True)
class Tick:
    """A labelled mark on the axis; YEAR is shown under the label at the first tick and each new year."""

    day: date
    x: float
    label: str
    year: int | None


def _candidates(scale: Scale) -> tuple[list[date], bool]:
    """Month starts within the scale, or Mondays when the plan is short; and whether they are weeks."""
    first, last = scale.first, scale.last
    if (last - first).days < WEEK_TICKS_BELOW_DAYS:
        monday = first + timedelta(days=-first.weekday() % 7)
        return [monday + timedelta(weeks=n) for n in range((last - monday).days // 7 + 1)], True
    days, year, month = [], first.year, first.month
    if first.day != 1:
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    while (day := date(year, month, 1)) <= last:
        days.append(day)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return days, False


def month_ticks(scale: Scale, *, min_gap: float, room: float = 0, char_width: float = 0) -> list[Tick]:
    """Axis ticks at month starts (or Mondays for a short plan), at least MIN_GAP apart, and far
    enough apart for a label of CHAR_WIDTH per character (and one more as a space) to end first.

    Ticks inside a shortened gap are left out (that stretch is not to scale); the date that ends
    each shortened gap is labelled instead, with its day, so the far side of a break is never
    unlabelled. Ticks with less than ROOM to their right before the scale ends are left out too,
    where a label would not fit.
    """
    candidates, weekly = _candidates(scale)
    after_breaks = {s.end for s in scale.segments if s.shortened}
    ticks: list[Tick] = []
    for day in sorted({*candidates, *after_breaks}):
        x = scale.x(day)
        if ticks:
            gap = max(min_gap, (len(ticks[-1].label) + 1) * char_width)
            if x - ticks[-1].x < gap:
                continue
        if scale.in_break(day) or x > scale.right - room:
            continue
        dated = weekly or (day in after_breaks and day.day != 1)
        label = f"{day.day} {MONTHS[day.month - 1]}" if dated else MONTHS[day.month - 1]
        new_year = not ticks or ticks[-1].day.year != day.year
        ticks.append(Tick(day, x, label, day.year if new_year else None))
    if not ticks:
        # Too short a plan for any month or Monday: its first day, dated, anchors the axis.
        first = scale.first
        ticks.append(Tick(first, scale.left, f"{first.day} {MONTHS[first.month - 1]}", first.year))
    return ticks


def lanes(xs: Sequence[float], min_gap: float) -> list[int]:
    """For marks at XS, the row of each: the lowest in which it is at least MIN_GAP from the others."""
    order = sorted(range(len(xs)), key=lambda index: (xs[index], index))
    ends: list[float] = []
    result = [0] * len(xs)
    for index in order:
        x = xs[index]
        lane = next((n for n, end in enumerate(ends) if x - end >= min_gap), len(ends))
        if lane == len(ends):
            ends.append(x)
        else:
            ends[lane] = x
        result[index] = lane
    return result


class Status(StrEnum):
    UPCOMING = "upcoming"
    DUE = "due"
    BOOKED = "booked"
    OVERDUE = "overdue"
    PAST = "past"
    DONE = "done"
    CANCELLED = "cancelled"


# Each status in words, for the team and for the patient.
STATUS_WORDS: dict[Status, tuple[str, str]] = {
    Status.UPCOMING: ("Due", "Coming up"),
    Status.DUE: ("Due now", "Due about now"),
    Status.BOOKED: ("Booked", "Booked"),
    Status.OVERDUE: ("Overdue", "Please contact your clinic about this"),
    Status.PAST: ("Date passed", "This date has passed"),
    Status.DONE: ("Done", "Done"),
    Status.CANCELLED: ("Cancelled", "Cancelled"),
}


def status_words(status: Status, *, for_patient: bool = False) -> str:
    return STATUS_WORDS[status][1 if for_patient else 0]


def step_status(
    *,
    window_start: date,
    window_end: date,
    today: date,
    stopped_on: date | None = None,
    done: bool | None = None,
    booked: bool = False,
) -> Status:
    """Where a step stands on TODAY.

    DONE says whether the step is recorded as done: None when nothing records it for this kind of
    step, so a step whose window has closed is only "past", never called missed. A plan STOPPED_ON a
    day cancels each step not done whose window had not closed by then. BOOKED is a booking for the
    step; it shows until the window closes.
    """
    if done:
        return Status.DONE
    if stopped_on is not None and window_end >= stopped_on:
        return Status.CANCELLED
    if today > window_end:
        return Status.OVERDUE if done is False else Status.PAST
    if booked:
        return Status.BOOKED
    return Status.DUE if today >= window_start else Status.UPCOMING


# The lab's steps in the patient's words; other steps keep their own labels, which are already plain.
PATIENT_LABELS: dict[str, str] = {"product_ready": "Your cells should be ready"}
PROCESSING_LABELS = {
    "Cells prepared": "Your cells are prepared",
    "Cells grown in the lab": "Your cells are grown in the lab",
}


def patient_label(kind: str, label: str) -> str:
    """A step's label as the patient reads it."""
    if kind == "processing":
        return PROCESSING_LABELS.get(label, "Your cells are prepared")
    return PATIENT_LABELS.get(kind, label)

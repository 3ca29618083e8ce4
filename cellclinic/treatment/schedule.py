"""A treatment plan laid out from a therapy protocol: plain dates, no Django.

`lay_out` turns one catalogue therapy, the patient's indication and the chosen dates into dated steps:
the harvest, the lab's processing and the day the product is expected, each treatment session with
the window it may move within, the aftercare that follows each session and the follow-up visits of
the schedules that apply to the indication.

Cells grown in a lab are processed from the day the lab has a processing slot free: the harvest day
itself, or the later SLOT_START the lab gives when its slots are taken (the `processing` scheduler of
`cellclinic.core.plugs`). The product is expected the protocol's processing time after that day.
"""

import math
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from cellclinic.catalogue.schema import (
    DAYS_PER_UNIT,
    CellSource,
    DayWindow,
    Duration,
    FollowUpAnchor,
    ProcessingKind,
    Therapy,
)


class StepKind(StrEnum):
    HARVEST = "harvest"
    PROCESSING = "processing"
    PRODUCT_READY = "product_ready"
    SESSION = "session"
    AFTERCARE = "aftercare"
    FOLLOW_UP = "follow_up"


# How far a follow-up visit may move either side of its date, by how long after the anchor it falls.
# These tolerances are a clinic setting chosen for scheduling, not taken from any product label or trial.
VISIT_TOLERANCE_DAYS: tuple[tuple[float, int], ...] = (
    (14, 3),  # up to 2 weeks: ±3 days
    (31, 7),  # up to 1 month: ±7 days
    (183, 14),  # up to 6 months: ±14 days
    (math.inf, 30),  # beyond: ±30 days
)

HARVEST_REQUIRED = "the patient's own cells are used: a harvest date is needed"
HARVEST_REFUSED = "a donor (allogeneic) product needs no harvest: leave the harvest date out"
SLOT_BEFORE_HARVEST = "the processing slot cannot start before the harvest"
SLOT_NOT_USED = "only cells grown in a lab take a processing slot"


@dataclass(frozen=True)
class Step:
    """One dated step of a plan, with the window it may move within."""

    kind: StepKind
    label: str
    detail: str
    due: date
    window_start: date
    window_end: date
    primary_endpoint: bool = False


def visit_tolerance(days_after_anchor: float) -> int:
    """Days a visit may move either way, from the tolerance table."""
    for limit, tolerance in VISIT_TOLERANCE_DAYS:
        if days_after_anchor <= limit:
            return tolerance
    raise AssertionError("the table ends with infinity")  # pragma: no cover


def _days(amount: float, unit: str) -> int:
    """Whole days covering AMOUNT of UNIT: a part day counts as a day."""
    return math.ceil(round(amount * DAYS_PER_UNIT[unit], 6))


def _duration_days(duration: Duration | None) -> tuple[int, int]:
    """(shortest, longest) days of a duration; (0, 0) when the file gives none."""
    if duration is None:
        return 0, 0
    unit = duration.unit.value
    if duration.value is not None:
        days = _days(duration.value, unit)
        return days, days
    low = duration.min if duration.min is not None else duration.max
    high = duration.max if duration.max is not None else duration.min
    return _days(low, unit), _days(high, unit)


def session_count(therapy: Therapy) -> int:
    """Sessions planned: the file's value, else its maximum, else its minimum."""
    count = therapy.sessions.count
    for candidate in (count.value, count.max, count.min):
        if candidate is not None:
            return candidate
    raise AssertionError("a validated count has a number")  # pragma: no cover


def session_interval(window: DayWindow | None) -> tuple[int, int, int]:
    """(due, earliest, latest) days after the previous session: value, else min, else max.

    With only a minimum the latest is the due day itself; with only a maximum the earliest is.
    """
    if window is None:
        return 0, 0, 0
    if window.value is not None:
        return window.value, window.value, window.value
    due = window.min if window.min is not None else window.max
    earliest = window.min if window.min is not None else due
    latest = window.max if window.max is not None else due
    return due, earliest, latest


def _wanted(scoped: list, indication: str | None) -> bool:
    """An item limited to some indications applies only to those; an unscoped item to all."""
    return not scoped or (indication is not None and indication in {code.value for code in scoped})


def _sessions_and_before(
    therapy: Therapy, indication: str | None, start: date, harvest: date | None, slot_start: date | None
) -> list[Step]:
    steps: list[Step] = []
    kind = therapy.processing.kind
    if therapy.autologous:
        assert harvest is not None
        where = therapy.harvest.where if therapy.harvest else ""
        what = therapy.harvest.what if therapy.harvest else "Cells"
        steps.append(
            Step(StepKind.HARVEST, "Harvest", f"{what} from {where}".strip(), harvest, harvest, harvest)
        )
        if kind == ProcessingKind.POINT_OF_CARE:
            duration = therapy.processing.duration
            detail = "Prepared at the bedside the same day"
            if duration is not None:
                detail += f" ({duration.text})"
            steps.append(Step(StepKind.PROCESSING, "Cells prepared", detail, harvest, harvest, harvest))
            first, first_start, first_end = harvest, harvest, harvest
        else:
            low, high = _duration_days(therapy.processing.duration)
            begins = slot_start or harvest
            ready, latest = begins + timedelta(days=low), begins + timedelta(days=high)
            grown = therapy.processing.duration.text if therapy.processing.duration else "some time"
            detail = f"{therapy.processing.description} Takes {grown}."
            if begins > harvest:
                waited = (begins - harvest).days
                detail += (
                    f" Starts when the lab has a processing slot free, {waited} day"
                    f"{'s' if waited != 1 else ''} after the harvest."
                )
            steps.append(Step(StepKind.PROCESSING, "Cells grown in the lab", detail, begins, begins, latest))
            steps.append(
                Step(
                    StepKind.PRODUCT_READY,
                    "Product expected",
                    "The lab confirms the date once the cells have passed their release tests.",
                    ready,
                    ready,
                    latest,
                )
            )
            first, first_start, first_end = ready, ready, latest
    else:
        first, first_start, first_end = start, start, start

    count = session_count(therapy)
    due_days, earliest_days, latest_days = session_interval(therapy.sessions.interval_days)
    aftercare = [
        item
        for item in therapy.aftercare.treated_area
        if item.duration is not None and _wanted(item.indications, indication)
    ]
    due, window_start, window_end = first, first_start, first_end
    for number in range(1, count + 1):
        if number > 1:
            previous = due
            due = previous + timedelta(days=due_days)
            window_start = previous + timedelta(days=earliest_days)
            window_end = previous + timedelta(days=latest_days)
        steps.append(
            Step(
                StepKind.SESSION,
                f"Treatment session {number} of {count}",
                therapy.delivery.description,
                due,
                window_start,
                window_end,
            )
        )
        steps.extend(_aftercare(aftercare, number, due))
    return steps


def _aftercare(items: list, number: int, session_day: date) -> list[Step]:
    """One aftercare step per session: each item with how long it lasts, ending with the longest."""
    if not items:
        return []
    longest = max(_duration_days(item.duration)[1] for item in items)
    detail = "; ".join(f"{item.text} for {item.duration.text}" for item in items)
    end = session_day + timedelta(days=longest)
    label = f"Aftercare after session {number}"
    return [Step(StepKind.AFTERCARE, label, detail, session_day, session_day, end)]


def _follow_up(therapy: Therapy, indication: str | None, first: date, last: date) -> list[Step]:
    steps: list[Step] = []
    for schedule in therapy.follow_up:
        if not _wanted(schedule.indications, indication):
            continue
        anchor = first if schedule.anchor == FollowUpAnchor.FIRST_TREATMENT else last
        for visit in schedule.visits:
            after = round(visit.days)
            tolerance = visit_tolerance(visit.days)
            due = anchor + timedelta(days=after)
            # A visit never moves to before the treatment it follows.
            window_start = max(anchor, due - timedelta(days=tolerance))
            window_end = due + timedelta(days=tolerance)
            when = f"{visit.text} {'after the first' if anchor is first else 'after the last'} treatment"
            detail = f"{schedule.name}: {when}."
            if visit.note:
                detail += f" {visit.note}"
            steps.append(
                Step(
                    StepKind.FOLLOW_UP,
                    visit.label,
                    detail,
                    due,
                    window_start,
                    window_end,
                    primary_endpoint=visit.primary_endpoint,
                )
            )
    return steps


def lay_out(
    therapy: Therapy,
    *,
    indication: str | None,
    start: date,
    harvest: date | None,
    slot_start: date | None = None,
) -> list[Step]:
    """The dated steps of a plan, in date order.

    Autologous therapies start at HARVEST (START is not used); donor products start their first
    session on START and take no harvest. Cells grown in a lab are processed from SLOT_START, the
    first day the lab has a processing slot free (default: the harvest day). Raises ValueError when
    the dates do not fit the therapy.
    """
    if therapy.cell_source == CellSource.AUTOLOGOUS and harvest is None:
        raise ValueError(HARVEST_REQUIRED)
    if therapy.cell_source == CellSource.ALLOGENEIC and harvest is not None:
        raise ValueError(HARVEST_REFUSED)
    if slot_start is not None:
        if not therapy.autologous or therapy.processing.kind == ProcessingKind.POINT_OF_CARE:
            raise ValueError(SLOT_NOT_USED)
        assert harvest is not None
        if slot_start < harvest:
            raise ValueError(SLOT_BEFORE_HARVEST)
    steps = _sessions_and_before(therapy, indication, start, harvest, slot_start)
    sessions = [step for step in steps if step.kind == StepKind.SESSION]
    steps += _follow_up(therapy, indication, sessions[0].due, sessions[-1].due)
    # A stable sort: steps on the same day keep the order of the pathway.
    return sorted(steps, key=lambda step: step.due)


def next_index(dues: list[date], today: date) -> int | None:
    """Index of the first date that is today or later, or None when every date lies behind."""
    for index, due in enumerate(dues):
        if due >= today:
            return index
    return None


def _advice(items: list, indication: str | None) -> list[str]:
    lines = []
    for item in items:
        if _wanted(item.indications, indication):
            lines.append(f"{item.text} for {item.duration.text}" if item.duration else item.text)
    return lines


def what_to_expect(therapy: Therapy, kind: str, indication: str | None) -> list[str]:
    """Plain sentences for the patient about a step of KIND: what happens, and the aftercare.

    Only the catalogue's words for patients (its `patient` texts and aftercare), never the protocol's
    clinical descriptions.
    """
    if kind == StepKind.HARVEST:
        lines = []
        if therapy.harvest is not None:
            where = therapy.harvest.where[:1].lower() + therapy.harvest.where[1:]
            lines.append(f"A small sample is taken: {therapy.harvest.what.lower()} from {where}.")
        lines += _advice(therapy.aftercare.harvest_site, indication)
        if therapy.processing.kind == ProcessingKind.POINT_OF_CARE:
            lines.append("Your cells are prepared at the bedside and used the same day.")
        return lines
    if kind in (StepKind.PROCESSING, StepKind.PRODUCT_READY):
        grown = therapy.processing.duration.text if therapy.processing.duration else "some time"
        return [
            f"Your cells are grown in the lab; this takes {grown}.",
            "The clinic will confirm your treatment date once the cells have passed their checks.",
        ]
    if kind in (StepKind.SESSION, StepKind.AFTERCARE):
        how = [line.text for line in therapy.patient.how if _wanted(line.indications, indication)]
        return [*how, *_advice(therapy.aftercare.treated_area, indication)]
    if kind == StepKind.FOLLOW_UP:
        return ["A check-up to see how the treated area is healing and how well the treatment has worked."]
    return []

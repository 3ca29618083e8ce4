"""The plan timeline, as an inclusion tag: a dated drawing of the steps, then the steps as a list."""

from dataclasses import dataclass
from datetime import date

from django import template
from django.utils import timezone
from django.utils.dateformat import format as date_format

from cellclinic.treatment.models import PlanStep, TreatmentPlan
from cellclinic.treatment.schedule import Step, StepKind, next_index
from cellclinic.treatment.timeline import (
    Scale,
    Status,
    Tick,
    lanes,
    make_scale,
    month_ticks,
    patient_label,
    status_words,
)
from cellclinic.treatment.timeline import step_status as status_of

register = template.Library()

KIND_LABELS = dict(PlanStep.Kind.choices)
PHASES = (
    ("preparation", "Preparing the cells", {StepKind.HARVEST, StepKind.PROCESSING, StepKind.PRODUCT_READY}),
    ("treatment", "Treatment and aftercare", {StepKind.SESSION, StepKind.AFTERCARE}),
    ("follow_up", "Follow-up visits", {StepKind.FOLLOW_UP}),
)


@dataclass(frozen=True)
class Layout:
    """One size of the drawing, in its own units; the page scales it to the width of the screen."""

    name: str
    width: int
    left: float
    right: float
    font: int  # text size, in drawing units
    radius: int  # of a step's numbered mark
    lane: int  # vertical distance between rows of marks
    tick_gap: float  # least room between two axis labels
    tick_room: float  # room an axis label needs to the right of its tick


# Wide screens show a 1000-unit drawing; phones a 320-unit one, so that its text stays legible.
WIDE = Layout("wide", 1000, 20, 960, 15, 11, 28, 56, 34)
NARROW = Layout("narrow", 320, 12, 292, 12, 9, 22, 34, 24)
LAYOUTS = (WIDE, NARROW)


@dataclass(frozen=True)
class Row:
    """One step as the timeline's list shows it."""

    number: int
    kind: str
    kind_label: str
    phase: str
    label: str
    detail: str
    due: date
    window_start: date
    window_end: date
    primary_endpoint: bool
    state: str  # "past", "next" or "later": where the step stands against the next one
    status: Status
    status_text: str

    @property
    def has_window(self) -> bool:
        return self.window_start != self.window_end


@dataclass(frozen=True)
class Mark:
    """One step's numbered mark in a drawing, on its row, over the window it may move within."""

    row: Row
    x: float
    y: float
    window_x: float
    window_width: float
    radius: int

    @property
    def diamond(self) -> str:
        """The outline of the diamond that marks the main result visit."""
        r = round(1.35 * self.radius, 1)
        return f"M{self.x} {self.y - r}L{self.x + r} {self.y}L{self.x} {self.y + r}L{self.x - r} {self.y}Z"


@dataclass(frozen=True)
class Band:
    key: str
    label: str
    start: date
    end: date
    x: float
    width: float


@dataclass(frozen=True)
class Drawing:
    """Everything one size of the drawing places: bands, marks, the axis and today's marker."""

    layout: Layout
    height: float
    bands: list[Band]
    band_y: float
    marks: list[Mark]
    axis_y: float
    ticks: list[Tick]
    breaks: tuple[float, ...]
    today_x: float
    today_anchor: str


def _phase(kind: str) -> str:
    for key, _, kinds in PHASES:
        if kind in kinds:
            return key
    return "treatment"


def _plain(step) -> tuple:
    if isinstance(step, Step):
        return (
            step.kind.value,
            step.label,
            step.detail,
            step.due,
            step.window_start,
            step.window_end,
            step.primary_endpoint,
        )
    return (
        step.kind,
        step.label,
        step.detail,
        step.due_date,
        step.window_start,
        step.window_end,
        step.primary_endpoint,
    )


def timeline_rows(
    steps, today: date, *, stopped_on: date | None = None, active: bool = True, for_patient: bool = False
) -> list[Row]:
    """Each step with its number, status and whether it is the next one (only on an active plan)."""
    plain = [_plain(step) for step in steps]
    upcoming = next_index([p[3] for p in plain], today) if active else None
    rows = []
    for index, (kind, label, detail, due, start, end, endpoint) in enumerate(plain):
        status = status_of(window_start=start, window_end=end, today=today, stopped_on=stopped_on)
        state = "next" if index == upcoming else ("past" if due < today else "later")
        rows.append(
            Row(
                index + 1,
                kind,
                KIND_LABELS.get(kind, kind),
                _phase(kind),
                patient_label(kind, label) if for_patient else label,
                detail,
                due,
                start,
                end,
                endpoint,
                state,
                status,
                status_words(status, for_patient=for_patient),
            )
        )
    return rows


def _bands(rows: list[Row], scale: Scale) -> list[Band]:
    bands = []
    for key, label, _ in PHASES:
        members = [row for row in rows if row.phase == key]
        if members:
            start = min(row.window_start for row in members)
            end = max(row.window_end for row in members)
            x = round(scale.x(start), 1)
            bands.append(Band(key, label, start, end, x, max(round(scale.x(end) - x, 1), 4)))
    return bands


def timeline_drawing(rows: list[Row], today: date, layout: Layout) -> Drawing:
    """Where every step, band, tick, break and today fall in one size of the drawing."""
    dates = [day for row in rows for day in (row.due, row.window_start, row.window_end)]
    scale = make_scale([*dates, today], left=layout.left, right=layout.right)
    xs = [round(scale.x(row.due), 1) for row in rows]
    rows_of = lanes(xs, 2 * layout.radius + 4)
    band_y = layout.font + 8
    first_y = band_y + 8 + 8 + layout.radius
    marks = []
    for row, x, lane in zip(rows, xs, rows_of, strict=True):
        start = round(scale.x(row.window_start), 1)
        end = round(scale.x(row.window_end), 1)
        y = first_y + lane * layout.lane
        marks.append(Mark(row, x, y, start, max(round(end - start, 1), 0), layout.radius))
    axis_y = first_y + max(rows_of, default=0) * layout.lane + layout.radius + 8
    today_x = round(scale.x(today), 1)
    edge = 3 * layout.font
    anchor = "start" if today_x < edge else ("end" if today_x > layout.width - edge else "middle")
    ticks = [
        Tick(tick.day, round(tick.x, 1), tick.label, tick.year)
        for tick in month_ticks(
            scale, min_gap=layout.tick_gap, room=layout.tick_room, char_width=0.6 * layout.font
        )
    ]
    return Drawing(
        layout=layout,
        height=axis_y + 6 + 2 * layout.font + 10,
        bands=_bands(rows, scale),
        band_y=band_y,
        marks=marks,
        axis_y=axis_y,
        ticks=ticks,
        breaks=tuple(round(x, 1) for x in scale.breaks),
        today_x=today_x,
        today_anchor=anchor,
    )


def _long(day: date) -> str:
    return date_format(day, "j F Y")


def _summary(rows: list[Row], bands: list[Band], today: date, for_patient: bool) -> str:
    """What the drawing shows, in words, for those who cannot see it."""
    parts = [f"{band.label} from {_long(band.start)} to {_long(band.end)}." for band in bands]
    parts.append(f"Today is {_long(today)}.")
    upcoming = next((row for row in rows if row.state == "next"), None)
    if upcoming:
        parts.append(f"The next step is {upcoming.label}, on {_long(upcoming.due)}.")
    cancelled = sum(1 for row in rows if row.status == Status.CANCELLED)
    if cancelled:
        parts.append(f"{cancelled} step{'s' if cancelled != 1 else ''} cancelled because the plan stopped.")
    parts.append("Each number matches a step in the list below.")
    return " ".join(parts)


def _stopped_on(plan: TreatmentPlan) -> date | None:
    """The day a stopped plan stopped: stopping is the last change a plan takes."""
    if plan.status != TreatmentPlan.Status.STOPPED:
        return None
    return timezone.localdate(plan.updated_at)


@register.inclusion_tag("treatment/_timeline.html")
def plan_timeline(
    plan_or_steps, today: date | None = None, heading_level: int = 3, for_patient: bool = False
):
    """A plan's steps (or steps laid out for a preview) as a dated drawing with an ordered list underneath.

    FOR_PATIENT leaves out each step's detail, which is the protocol's clinical wording, and gives
    each status in the patient's words: the portal says what to expect of the next step instead.
    """
    today = today or timezone.localdate()
    if isinstance(plan_or_steps, TreatmentPlan):
        plan, steps = plan_or_steps, list(plan_or_steps.steps.all())
        active, stopped_on = plan.status == TreatmentPlan.Status.ACTIVE, _stopped_on(plan)
    else:
        plan, steps, active, stopped_on = None, list(plan_or_steps), True, None
    rows = timeline_rows(steps, today, stopped_on=stopped_on, active=active, for_patient=for_patient)
    drawings = [timeline_drawing(rows, today, layout) for layout in LAYOUTS] if rows else []
    bands = drawings[0].bands if drawings else []
    first = min((row.window_start for row in rows), default=today)
    last = max((row.window_end for row in rows), default=today)
    return {
        "plan": plan,
        "rows": rows,
        "drawings": drawings,
        "bands": bands,
        "today": today,
        "next_row": next((row for row in rows if row.state == "next"), None),
        "title": f"Timeline from {_long(first)} to {_long(last)}",
        "summary": _summary(rows, bands, today, for_patient) if rows else "",
        "id": f"plan-{plan.pk}" if plan else "plan-preview",
        "for_patient": for_patient,
        "cancelled": any(row.status == Status.CANCELLED for row in rows),
    }

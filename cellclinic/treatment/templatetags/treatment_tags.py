"""The plan timeline, as an inclusion tag."""

from dataclasses import dataclass
from datetime import date

from django import template
from django.utils import timezone

from cellclinic.treatment.models import PlanStep, TreatmentPlan
from cellclinic.treatment.schedule import Step, StepKind, next_index

register = template.Library()

KIND_LABELS = dict(PlanStep.Kind.choices)
PHASES = (
    ("preparation", "Preparing the cells", {StepKind.HARVEST, StepKind.PROCESSING, StepKind.PRODUCT_READY}),
    ("treatment", "Treatment and aftercare", {StepKind.SESSION, StepKind.AFTERCARE}),
    ("follow_up", "Follow-up visits", {StepKind.FOLLOW_UP}),
)
# The drawing is 1000 units wide with a margin each side; the page scales it to the screen.
WIDTH, MARGIN = 1000, 12


@dataclass(frozen=True)
class Row:
    """One step as the timeline shows it."""

    kind: str
    kind_label: str
    phase: str
    label: str
    detail: str
    due: date
    window_start: date
    window_end: date
    primary_endpoint: bool
    state: str  # "past", "next" or "later"
    x: float
    window_x: float
    window_width: float

    @property
    def corner_x(self) -> float:
        """Left edge of the diamond that marks the main result visit."""
        return round(self.x - 7, 1)

    @property
    def has_window(self) -> bool:
        return self.window_start != self.window_end


@dataclass(frozen=True)
class Band:
    key: str
    label: str
    start: date
    end: date
    x: float
    width: float


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


def timeline_rows(steps, today: date, *, stopped: bool = False) -> tuple[list[Row], list[Band], float | None]:
    """Rows for each step, phase bands and where today falls, all placed on one drawing."""
    plain = [_plain(step) for step in steps]
    if not plain:
        return [], [], None
    first = min(min(p[3], p[4]) for p in plain)
    last = max(p[5] for p in plain)
    span = max((last - first).days, 1)

    def x(day: date) -> float:
        return round(MARGIN + (day - first).days / span * (WIDTH - 2 * MARGIN), 1)

    upcoming = None if stopped else next_index([p[3] for p in plain], today)
    rows = []
    for index, (kind, label, detail, due, start, end, endpoint) in enumerate(plain):
        state = "past" if due < today else ("next" if index == upcoming else "later")
        rows.append(
            Row(
                kind,
                KIND_LABELS.get(kind, kind),
                _phase(kind),
                label,
                detail,
                due,
                start,
                end,
                endpoint,
                state,
                x(due),
                x(start),
                max(round(x(end) - x(start), 1), 0),
            )
        )
    bands = []
    for key, label, _ in PHASES:
        members = [row for row in rows if row.phase == key]
        if members:
            start = min(row.window_start for row in members)
            end = max(row.window_end for row in members)
            bands.append(Band(key, label, start, end, x(start), max(round(x(end) - x(start), 1), 4)))
    today_x = x(today) if first <= today <= last else None
    return rows, bands, today_x


@register.inclusion_tag("treatment/_timeline.html")
def plan_timeline(
    plan_or_steps, today: date | None = None, heading_level: int = 3, for_patient: bool = False
):
    """A plan's steps (or steps laid out for a preview) as a drawing with an ordered list underneath.

    FOR_PATIENT leaves out each step's detail, which is the protocol's clinical wording: the patient's
    portal says what to expect of the next step in plain words instead.
    """
    today = today or timezone.localdate()
    if isinstance(plan_or_steps, TreatmentPlan):
        plan, steps = plan_or_steps, list(plan_or_steps.steps.all())
        stopped = plan.status != TreatmentPlan.Status.ACTIVE
    else:
        plan, steps, stopped = None, list(plan_or_steps), False
    rows, bands, today_x = timeline_rows(steps, today, stopped=stopped)
    upcoming = next((row for row in rows if row.state == "next"), None)
    summary = ", ".join(f"{band.label} from {band.start:%-d %B %Y} to {band.end:%-d %B %Y}" for band in bands)
    return {
        "plan": plan,
        "rows": rows,
        "bands": bands,
        "today": today,
        "today_x": today_x,
        "next_row": upcoming,
        "summary": summary,
        "id": f"plan-{plan.pk}" if plan else "plan-preview",
        "width": WIDTH,
        "for_patient": for_patient,
    }

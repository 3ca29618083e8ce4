"""The consultation as ordered steps, and when each is done: pure functions of what is recorded.

A step is done when its required content is saved:

- goals: the patient's goals are written down (target areas are optional);
- findings: the indication is recorded (it may come from the chart) and the examination written down,
  as notes or a severity score (photographs are optional: not every clinic takes them);
- candidacy: the candidacy rules were re-run on the practitioner's answers;
- expectations: the expectation sheet of that assessment was discussed with the patient;
- alternatives: at least one alternative was discussed, or the catalogue has none for the indication;
- decision: the decision is signed.

The decision rests on the findings, the candidacy assessment and the expectations: it is reachable,
and the service signs it, only once those are done. A patient may decline treatment at any point, so a
decision to decline needs none of them.
"""

from dataclasses import dataclass
from typing import Any

GOALS, FINDINGS, CANDIDACY, EXPECTATIONS, ALTERNATIVES, DECISION = (
    "goals",
    "findings",
    "candidacy",
    "expectations",
    "alternatives",
    "decision",
)
DONE, CURRENT, TO_DO = "done", "current", "to_do"
STATE_LABELS = {DONE: "Done", CURRENT: "Current step", TO_DO: "To do"}
NOT_RECORDED = "Not recorded"
DECISION_NEEDS = (FINDINGS, CANDIDACY, EXPECTATIONS)
DECLINE = "decline"  # the decision that needs no step before it


@dataclass(frozen=True)
class Step:
    name: str
    title: str
    number: int


STEPS = tuple(
    Step(name, title, number)
    for number, (name, title) in enumerate(
        (
            (GOALS, "Patient's goals"),
            (FINDINGS, "Findings and photographs"),
            (CANDIDACY, "Candidacy"),
            (EXPECTATIONS, "Expectations"),
            (ALTERNATIVES, "Alternatives"),
            (DECISION, "Decision"),
        ),
        start=1,
    )
)
BY_NAME = {step.name: step for step in STEPS}


@dataclass(frozen=True)
class Facts:
    """What the steps are judged on, read from a consultation."""

    goals: str = ""
    indication: str = ""
    examined: bool = False  # findings notes written, or a severity scale recorded
    practitioner_assessment: bool = False  # the rules re-run on the practitioner's answers
    expectations_discussed: bool = False
    alternatives_discussed: tuple[str, ...] = ()
    alternatives_offered: int = 0  # how many alternatives the catalogue has for the indication
    decided: bool = False


@dataclass(frozen=True)
class StepState:
    step: Step
    done: bool
    current: bool
    reachable: bool  # the decision is reachable only once the steps it needs are done
    closed: bool = False  # the consultation is decided: a step not done stays not recorded

    @property
    def state(self) -> str:
        return CURRENT if self.current else DONE if self.done else TO_DO

    @property
    def label(self) -> str:
        if self.closed and self.state == TO_DO:
            return NOT_RECORDED
        return STATE_LABELS[self.state]

    @property
    def name(self) -> str:
        return self.step.name

    @property
    def title(self) -> str:
        return self.step.title


def facts_of(consultation: Any, *, alternatives_offered: int) -> Facts:
    """The facts of CONSULTATION (its assessment read through the relation, one query unless loaded)."""
    assessment = consultation.assessment if consultation.assessment_id else None
    return Facts(
        goals=consultation.goals or "",
        indication=consultation.indication or "",
        examined=bool((consultation.findings or "").strip() or consultation.severity_scale),
        practitioner_assessment=assessment is not None and assessment.source == "practitioner",
        expectations_discussed=consultation.expectations_discussed_at is not None,
        alternatives_discussed=tuple(consultation.alternatives_discussed or ()),
        alternatives_offered=alternatives_offered,
        decided=consultation.status == "decided",
    )


def is_done(name: str, facts: Facts) -> bool:
    """Whether step NAME has its required content saved."""
    if name == GOALS:
        return bool(facts.goals.strip())
    if name == FINDINGS:
        return bool(facts.indication) and facts.examined
    if name == CANDIDACY:
        return facts.practitioner_assessment
    if name == EXPECTATIONS:
        return facts.practitioner_assessment and facts.expectations_discussed
    if name == ALTERNATIVES:
        return bool(facts.indication) and (
            bool(facts.alternatives_discussed) or facts.alternatives_offered == 0
        )
    if name == DECISION:
        return facts.decided
    raise KeyError(name)


def missing_for(decision: str, facts: Facts) -> list[Step]:
    """The steps DECISION rests on that are not done yet, in order (none for a decline)."""
    if decision == DECLINE:
        return []
    return [BY_NAME[name] for name in DECISION_NEEDS if not is_done(name, facts)]


def decision_missing(facts: Facts) -> list[Step]:
    """The steps to do before the decision step opens; none once the consultation is decided."""
    if facts.decided:
        return []
    return [BY_NAME[name] for name in DECISION_NEEDS if not is_done(name, facts)]


def progress(facts: Facts, current: str | None = None) -> list[StepState]:
    """Every step in order with its state; CURRENT is the step being shown (None on the overview)."""
    if current is not None and current not in BY_NAME:
        raise KeyError(current)
    decision_open = not decision_missing(facts)
    return [
        StepState(
            step=step,
            done=is_done(step.name, facts),
            current=step.name == current,
            reachable=step.name != DECISION or decision_open,
            closed=facts.decided,
        )
        for step in STEPS
    ]


def previous_step(name: str) -> Step | None:
    number = BY_NAME[name].number
    return STEPS[number - 2] if number > 1 else None


def next_step(name: str) -> Step | None:
    number = BY_NAME[name].number
    return STEPS[number] if number < len(STEPS) else None


def first_to_do(facts: Facts) -> Step | None:
    """The first step not done (the one to continue with), None when all are done."""
    return next((step for step in STEPS if not is_done(step.name, facts)), None)


def titles(steps: list[Step]) -> str:
    """Step titles as a sentence list: "Findings and photographs, Candidacy and Expectations"."""
    names = [step.title for step in steps]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def decision_needs_text() -> str:
    """The steps the decision rests on, by number: "steps 2, 3 and 4"."""
    numbers = [str(BY_NAME[name].number) for name in DECISION_NEEDS]
    return "steps " + ", ".join(numbers[:-1]) + " and " + numbers[-1]

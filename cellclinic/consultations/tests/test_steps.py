"""When each consultation step is done, what the decision rests on, and the progress through the steps."""

from dataclasses import replace
from types import SimpleNamespace

import pytest

from cellclinic.consultations import steps
from cellclinic.consultations.steps import Facts

NOTHING = Facts()
EVERYTHING = Facts(
    goals="Even colour",
    indication="vitiligo",
    examined=True,
    practitioner_assessment=True,
    expectations_discussed=True,
    alternatives_discussed=("nb_uvb_phototherapy",),
    alternatives_offered=2,
    decided=True,
)
READY = replace(EVERYTHING, decided=False)  # every step before the decision done


def test_the_steps_in_order():
    assert [step.name for step in steps.STEPS] == [
        "goals",
        "findings",
        "candidacy",
        "expectations",
        "alternatives",
        "decision",
    ]
    assert [step.number for step in steps.STEPS] == [1, 2, 3, 4, 5, 6]
    assert steps.BY_NAME["goals"].title == "Patient's goals"


@pytest.mark.parametrize("name", [step.name for step in steps.STEPS])
def test_nothing_recorded_means_no_step_is_done(name):
    assert steps.is_done(name, NOTHING) is False


@pytest.mark.parametrize("name", [step.name for step in steps.STEPS])
def test_everything_recorded_means_every_step_is_done(name):
    assert steps.is_done(name, EVERYTHING) is True


@pytest.mark.parametrize(
    ("goals", "done"), [("", False), ("   \n", False), ("Smoother skin", True), (" x ", True)]
)
def test_goals_are_done_when_written(goals, done):
    assert steps.is_done("goals", replace(NOTHING, goals=goals)) is done


@pytest.mark.parametrize(
    ("indication", "examined", "done"),
    [("", False, False), ("", True, False), ("scar", False, False), ("scar", True, True)],
)
def test_findings_need_the_indication_and_the_examination(indication, examined, done):
    assert steps.is_done("findings", replace(NOTHING, indication=indication, examined=examined)) is done


@pytest.mark.parametrize(("assessed", "done"), [(False, False), (True, True)])
def test_candidacy_is_done_with_the_practitioners_assessment(assessed, done):
    assert steps.is_done("candidacy", replace(NOTHING, practitioner_assessment=assessed)) is done


@pytest.mark.parametrize(
    ("assessed", "discussed", "done"),
    [(False, False, False), (False, True, False), (True, False, False), (True, True, True)],
)
def test_expectations_are_done_when_the_sheet_of_the_assessment_was_discussed(assessed, discussed, done):
    facts = replace(NOTHING, practitioner_assessment=assessed, expectations_discussed=discussed)
    assert steps.is_done("expectations", facts) is done


@pytest.mark.parametrize(
    ("indication", "discussed", "offered", "done"),
    [
        ("", (), 0, False),  # no indication: nothing to offer yet
        ("", ("microneedling",), 0, False),
        ("scar", (), 3, False),  # alternatives exist and none was discussed
        ("scar", ("microneedling",), 3, True),
        ("rare", (), 0, True),  # the catalogue has none for the indication
    ],
)
def test_alternatives_are_done_when_discussed_or_there_are_none(indication, discussed, offered, done):
    facts = replace(
        NOTHING, indication=indication, alternatives_discussed=discussed, alternatives_offered=offered
    )
    assert steps.is_done("alternatives", facts) is done


def test_the_decision_is_done_when_signed():
    assert steps.is_done("decision", replace(READY, decided=False)) is False
    assert steps.is_done("decision", replace(NOTHING, decided=True)) is True


def test_an_unknown_step_is_an_error():
    with pytest.raises(KeyError):
        steps.is_done("billing", EVERYTHING)
    with pytest.raises(KeyError):
        steps.progress(EVERYTHING, current="billing")


def test_the_decision_rests_on_findings_candidacy_and_expectations():
    assert steps.DECISION_NEEDS == ("findings", "candidacy", "expectations")
    assert [s.name for s in steps.decision_missing(NOTHING)] == ["findings", "candidacy", "expectations"]
    assert steps.decision_missing(READY) == []
    # Goals and alternatives are not what a decision rests on.
    assert steps.decision_missing(replace(READY, goals="", alternatives_discussed=())) == []
    only_findings = replace(NOTHING, indication="scar", examined=True)
    assert [s.name for s in steps.decision_missing(only_findings)] == ["candidacy", "expectations"]
    # Once decided, nothing is missing any more.
    assert steps.decision_missing(replace(NOTHING, decided=True)) == []


@pytest.mark.parametrize("decision", ["proceed", "alternative", "refer", "anything else"])
def test_every_decision_but_a_decline_needs_the_steps(decision):
    assert [s.name for s in steps.missing_for(decision, NOTHING)] == ["findings", "candidacy", "expectations"]
    assert steps.missing_for(decision, READY) == []


def test_a_decline_needs_no_step():
    assert steps.missing_for("decline", NOTHING) == []


def test_progress_marks_done_current_and_to_do():
    facts = replace(NOTHING, goals="Smoother", indication="scar", examined=True, alternatives_offered=3)
    progress = steps.progress(facts, current="candidacy")
    assert [(s.name, s.state) for s in progress] == [
        ("goals", "done"),
        ("findings", "done"),
        ("candidacy", "current"),
        ("expectations", "to_do"),
        ("alternatives", "to_do"),
        ("decision", "to_do"),
    ]
    assert [s.label for s in progress][:3] == ["Done", "Done", "Current step"]
    assert [s.reachable for s in progress] == [True, True, True, True, True, False]
    # The current step keeps its own done state.
    assert steps.progress(facts, current="goals")[0].done is True
    assert all(s.reachable for s in steps.progress(READY))
    assert not any(s.current for s in steps.progress(READY))


def test_previous_next_and_where_to_continue():
    assert steps.previous_step("goals") is None and steps.next_step("goals").name == "findings"
    assert steps.previous_step("decision").name == "alternatives" and steps.next_step("decision") is None
    assert steps.first_to_do(NOTHING).name == "goals"
    assert steps.first_to_do(replace(READY, alternatives_discussed=())).name == "alternatives"
    assert steps.first_to_do(READY).name == "decision"
    assert steps.first_to_do(EVERYTHING) is None


def test_titles_and_the_decisions_needs_in_words():
    assert steps.titles([steps.BY_NAME["goals"]]) == "Patient's goals"
    assert (
        steps.titles([steps.BY_NAME[n] for n in steps.DECISION_NEEDS])
        == "Findings and photographs, Candidacy and Expectations"
    )
    assert steps.decision_needs_text() == "steps 2, 3 and 4"


def test_the_facts_of_a_consultation():
    assessment = SimpleNamespace(source="practitioner")
    consultation = SimpleNamespace(
        goals="  ",
        indication="scar",
        findings="",
        severity_scale="vss",
        assessment_id=7,
        assessment=assessment,
        expectations_discussed_at=None,
        alternatives_discussed=["microneedling"],
        status="open",
    )
    facts = steps.facts_of(consultation, alternatives_offered=3)
    assert facts == Facts(
        goals="  ",
        indication="scar",
        examined=True,
        practitioner_assessment=True,
        expectations_discussed=False,
        alternatives_discussed=("microneedling",),
        alternatives_offered=3,
        decided=False,
    )
    # The patient's own self-assessment does not count as the practitioner's.
    assessment.source = "public"
    assert steps.facts_of(consultation, alternatives_offered=3).practitioner_assessment is False
    consultation.assessment_id, consultation.assessment = None, None
    consultation.severity_scale, consultation.findings = "", "Examined: flat scar."
    facts = steps.facts_of(consultation, alternatives_offered=0)
    assert facts.practitioner_assessment is False and facts.examined is True


def test_a_step_left_empty_reads_not_recorded_once_decided():
    declined = replace(NOTHING, decided=True)
    labels = [state.label for state in steps.progress(declined)]
    assert labels == ["Not recorded"] * 5 + ["Done"]
    assert steps.progress(declined, current="goals")[0].label == "Current step"
    assert [state.label for state in steps.progress(NOTHING)] == ["To do"] * 6

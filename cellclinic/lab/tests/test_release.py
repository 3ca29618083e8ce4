"""QC results against release criteria, the release decision and expiry, at their limits and beyond."""

from dataclasses import FrozenInstanceError
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cellclinic.catalogue.loader import load_therapy
from cellclinic.lab.release import (
    Criterion,
    Evaluation,
    Operator,
    Outcome,
    QCResult,
    RefusalCode,
    accepted_answer,
    convert,
    criterion_from,
    evaluate,
    evaluate_one,
    expires_at,
    number,
    release_decision,
)

VIABILITY = Criterion("Viability", Operator.GE, 70, unit="%")
ENDOTOXIN = Criterion("Endotoxin", Operator.LT, 0.25, unit="EU/mL")
CELL_COUNT = Criterion("Cell count (formulated)", Operator.BETWEEN, 1, 2, unit="×10⁷ cells/mL")
PASSAGES = Criterion("Passages", Operator.LE, 6, unit="passages")
PURITY = Criterion("Identity and purity: fibroblasts", Operator.GT, 98, unit="% of cells")
PH = Criterion("Medium pH", Operator.BETWEEN, 6.8, 7.7)
DOSE = Criterion("Doses", Operator.EQ, 3, unit="vials")
MYCOPLASMA = Criterion("Mycoplasma", expected="Negative (21 CFR 610.30 culture or PCR)")
STERILITY = Criterion(
    "Sterility",
    expected="No growth (USP <71> / 21 CFR 610.12, 14-day culture); Gram stain as a rapid pre-release test",
)
CRITERIA = (STERILITY, MYCOPLASMA, ENDOTOXIN, VIABILITY, CELL_COUNT, PURITY, PASSAGES)
PASSING = (
    QCResult("Sterility", text="No growth"),
    QCResult("Mycoplasma", text="negative"),
    QCResult("Endotoxin", value=0.1, unit="EU/mL"),
    QCResult("Viability", value=85, unit="%"),
    QCResult("Cell count (formulated)", value=1.5, unit="×10⁷ cells/mL"),
    QCResult("Identity and purity: fibroblasts", value=99, unit="% of cells"),
    QCResult("Passages", value=4, unit="passages"),
)


def _one(criterion: Criterion, result: QCResult | None) -> Evaluation:
    return evaluate_one(criterion, result)


# --- how a limit reads -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("criterion", "reads"),
    [
        (VIABILITY, "≥ 70%"),
        (ENDOTOXIN, "< 0.25 EU/mL"),
        (CELL_COUNT, "1–2 ×10⁷ cells/mL"),
        (PASSAGES, "≤ 6 passages"),
        (PURITY, "> 98% of cells"),
        (PH, "6.8–7.7"),
        (DOSE, "= 3 vials"),
        (Criterion("Temperature", Operator.GE, -80, unit="°C"), "≥ \u221280 °C"),
        (MYCOPLASMA, "Negative (21 CFR 610.30 culture or PCR)"),
    ],
)
def test_a_limit_reads_as_a_person_says_it(criterion, reads):
    assert criterion.specification == reads


def test_every_catalogue_criterion_builds_and_reads_as_the_catalogue_reads_it():
    therapies = Path(__file__).resolve().parents[2] / "catalogue" / "therapies"
    seen = 0
    for path in sorted(therapies.glob("*.toml")):
        therapy, problems = load_therapy(path)
        assert therapy is not None, problems
        for source in therapy.release_criteria:
            criterion = criterion_from(source)
            assert criterion.specification == source.specification
            assert criterion.test == source.test
            seen += 1
    assert seen >= 7


def test_a_criterion_is_built_from_any_object_with_the_attributes():
    source = SimpleNamespace(test="Viability", operator=SimpleNamespace(value=">="), limit=70.0, unit="%")
    assert criterion_from(source) == VIABILITY
    assert criterion_from(SimpleNamespace(test="Mycoplasma", expected="Negative")).expected == "Negative"
    with pytest.raises(ValueError, match="test: a release criterion needs a test name"):
        criterion_from(SimpleNamespace(operator=">=", limit=70))


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"test": " "}, "test: must be a non-empty text"),
        ({"test": "X"}, "operator: give an operator and a limit, or an expected result"),
        ({"test": "X", "operator": "≥", "limit": 1}, "operator must be one of <, <=, >, >=, =, between"),
        ({"test": "X", "operator": ">="}, "limit: required with operator '>='"),
        ({"test": "X", "operator": "between", "limit": 1}, "limit_max: required with operator 'between'"),
        ({"test": "X", "operator": "between", "limit": 3, "limit_max": 2}, "must be at least limit \\(3\\)"),
        ({"test": "X", "operator": "<", "limit": 1, "limit_max": 2}, "only used with operator 'between'"),
        ({"test": "X", "operator": "<", "limit": float("nan")}, "limit: must be a finite number"),
        ({"test": "X", "operator": "<", "limit": "5"}, "limit: must be a number"),
        ({"test": "X", "operator": "<", "limit": True}, "limit: must be a number"),
        ({"test": "X", "expected": "Negative", "unit": "%"}, "only used with an operator"),
        ({"test": "X", "expected": "  "}, "expected: must be a non-empty text"),
    ],
)
def test_a_malformed_criterion_is_refused_naming_the_field(kwargs, problem):
    with pytest.raises(ValueError, match=problem):
        Criterion(**kwargs)


def test_a_criterion_keeps_limits_as_written_and_cannot_change():
    assert VIABILITY.operator is Operator.GE and VIABILITY.limit == Decimal("70")
    assert ENDOTOXIN.limit == Decimal("0.25")
    with pytest.raises(FrozenInstanceError):
        VIABILITY.limit = Decimal(60)  # type: ignore[misc]


# --- numeric results at and around the limit ---------------------------------------------------------


@pytest.mark.parametrize(
    ("criterion", "value", "outcome"),
    [
        (VIABILITY, 70, Outcome.PASS),  # exactly at the limit of ≥
        (VIABILITY, 69.99, Outcome.FAIL),
        (VIABILITY, 70.01, Outcome.PASS),
        (ENDOTOXIN, 0.25, Outcome.FAIL),  # exactly at the limit of <
        (ENDOTOXIN, 0.2499, Outcome.PASS),
        (ENDOTOXIN, 0, Outcome.PASS),
        (PASSAGES, 6, Outcome.PASS),  # exactly at the limit of ≤
        (PASSAGES, 7, Outcome.FAIL),
        (PURITY, 98, Outcome.FAIL),  # exactly at the limit of >
        (PURITY, 98.1, Outcome.PASS),
        (CELL_COUNT, 1, Outcome.PASS),  # both ends of between are inside
        (CELL_COUNT, 2, Outcome.PASS),
        (CELL_COUNT, 0.99, Outcome.FAIL),
        (CELL_COUNT, 2.01, Outcome.FAIL),
        (DOSE, 3, Outcome.PASS),
        (DOSE, 3.0001, Outcome.FAIL),
    ],
)
def test_a_numeric_result_is_judged_exactly_at_its_limit(criterion, value, outcome):
    evaluation = _one(criterion, QCResult(criterion.test, value=value, unit=criterion.unit))
    assert evaluation.outcome is outcome
    assert evaluation.passed == (outcome is Outcome.PASS)
    assert criterion.specification in evaluation.reason
    assert ("does not meet" in evaluation.reason) == (outcome is Outcome.FAIL)


def test_a_unitless_criterion_takes_a_unitless_result():
    assert _one(PH, QCResult("Medium pH", value=7.7)).outcome is Outcome.PASS
    assert _one(PH, QCResult("Medium pH", value=6.79)).outcome is Outcome.FAIL
    with pytest.raises(ValueError, match="a result in pH cannot be compared with a limit in no unit"):
        _one(PH, QCResult("Medium pH", value=7, unit="pH"))


def test_the_reason_shows_the_result_and_the_limit():
    assert _one(VIABILITY, QCResult("Viability", value=65, unit="%")).reason == "65% does not meet ≥ 70%"
    assert _one(VIABILITY, QCResult("Viability", value=72.5, unit="%")).reason == "72.5% meets ≥ 70%"
    missing = _one(VIABILITY, None)
    assert missing.outcome is Outcome.MISSING and missing.result is None
    assert missing.reason == "no result entered; needs ≥ 70%"
    assert missing.specification == "≥ 70%" and missing.test == "Viability"


# --- units ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "outcome"),
    [(0.70, Outcome.PASS), (0.6999, Outcome.FAIL), (0.7, Outcome.PASS), (1, Outcome.PASS)],
)
def test_a_fraction_is_read_as_a_percentage_exactly(value, outcome):
    evaluation = _one(VIABILITY, QCResult("Viability", value=value, unit="fraction"))
    assert evaluation.outcome is outcome
    assert f"({number(Decimal(str(value)) * 100)}%)" in evaluation.reason


def test_a_percentage_is_read_as_a_fraction():
    criterion = Criterion("Viability", Operator.GE, 0.7, unit="fraction")
    assert _one(criterion, QCResult("Viability", value=70, unit="%")).outcome is Outcome.PASS
    assert _one(criterion, QCResult("Viability", value=69, unit="%")).outcome is Outcome.FAIL


@pytest.mark.parametrize(
    ("value", "unit", "outcome"),
    [
        (10, "×10⁶ cells/mL", Outcome.PASS),
        (20, "×10⁶ cells/mL", Outcome.PASS),
        (21, "×10⁶ cells/mL", Outcome.FAIL),
        (9.9, "×10⁶ cells/mL", Outcome.FAIL),
        (15_000_000, "cells/mL", Outcome.PASS),
        (1.5, "x10^7 cells/mL", Outcome.PASS),
        (0.15, "×10⁸ cells/mL", Outcome.PASS),
        (3, "×10⁸ cells/mL", Outcome.FAIL),
    ],
)
def test_a_count_in_another_power_of_ten_is_converted(value, unit, outcome):
    assert _one(CELL_COUNT, QCResult(CELL_COUNT.test, value=value, unit=unit)).outcome is outcome


@pytest.mark.parametrize(
    ("criterion", "unit"),
    [
        (ENDOTOXIN, "EU/kg"),
        (ENDOTOXIN, None),
        (VIABILITY, "cells"),
        (PURITY, "%"),
        (CELL_COUNT, "×10⁷ cells"),
        (CELL_COUNT, "×10⁷ cells/µL"),
        (PASSAGES, "fraction"),
    ],
)
def test_a_unit_that_does_not_convert_is_refused_naming_both_units(criterion, unit):
    with pytest.raises(ValueError, match="unit: a result in .* cannot be compared with a limit in") as error:
        _one(criterion, QCResult(criterion.test, value=1, unit=unit))
    assert criterion.test in str(error.value) and criterion.unit in str(error.value)


def test_conversion_keeps_decimals_exact():
    assert convert(Decimal("0.7"), "fraction", "%") == Decimal("70")
    assert convert(Decimal("70"), "%", "fraction") == Decimal("0.7")
    assert convert(Decimal("15"), "×10⁶ cells/mL", "×10⁷ cells/mL") == Decimal("1.5")
    assert convert(Decimal("2"), "×10⁻³ g", "g") == Decimal("0.002")
    assert convert(Decimal("5"), "EU/mL", " EU/mL ") == Decimal("5")


# --- text results ---------------------------------------------------------------------------------------


def test_the_accepted_answer_is_the_expected_text_before_any_bracket_or_semicolon():
    assert accepted_answer(MYCOPLASMA) == "Negative"
    assert accepted_answer(STERILITY) == "No growth"
    assert accepted_answer(Criterion("Potency", expected="Product-specific: DNA")) == "Product-specific: DNA"
    with pytest.raises(ValueError, match="is numeric and has no expected text"):
        accepted_answer(VIABILITY)


@pytest.mark.parametrize(
    ("text", "outcome"),
    [
        ("Negative", Outcome.PASS),
        ("  negative. ", Outcome.PASS),
        ("NEGATIVE", Outcome.PASS),
        ("Negative (21 CFR 610.30 culture or PCR)", Outcome.PASS),
        ("Positive", Outcome.FAIL),
        ("Not negative", Outcome.FAIL),
        ("Negative, probably", Outcome.FAIL),
    ],
)
def test_a_text_result_passes_only_when_it_says_the_expected_result(text, outcome):
    evaluation = _one(MYCOPLASMA, QCResult("Mycoplasma", text=text))
    assert evaluation.outcome is outcome
    if outcome is Outcome.FAIL:
        assert evaluation.reason.endswith("is not the expected result: Negative")


def test_a_number_for_a_text_criterion_and_a_text_for_a_numeric_one_are_refused():
    with pytest.raises(ValueError, match="'Mycoplasma': text: needs a text result such as 'Negative'"):
        _one(MYCOPLASMA, QCResult("Mycoplasma", value=0))
    with pytest.raises(ValueError, match="'Viability': value: needs a number in %, got the text 'high'"):
        _one(VIABILITY, QCResult("Viability", text="high"))


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"test": ""}, "test: must be a non-empty text"),
        ({"test": "Viability"}, "value: give either a number or a text result, not both or neither"),
        ({"test": "Viability", "value": 1, "text": "x"}, "not both or neither"),
        ({"test": "Viability", "value": float("inf")}, "value: must be a finite number"),
        ({"test": "Viability", "value": "70"}, "value: must be a number"),
        ({"test": "Viability", "value": False}, "value: must be a number"),
        ({"test": "Viability", "text": " "}, "text: must be a non-empty text"),
        ({"test": "Mycoplasma", "text": "Negative", "unit": "%"}, "unit: a text result has no unit"),
        ({"test": "Viability", "value": 1, "unit": ""}, "unit: must be a non-empty text"),
    ],
)
def test_a_malformed_result_is_refused_naming_the_field(kwargs, problem):
    with pytest.raises(ValueError, match=problem):
        QCResult(**kwargs)


# --- a whole batch's results ---------------------------------------------------------------------------


def test_every_criterion_is_evaluated_in_order_and_a_full_set_of_good_results_passes():
    evaluations = evaluate(CRITERIA, reversed(PASSING))
    assert [e.test for e in evaluations] == [c.test for c in CRITERIA]
    assert all(e.passed for e in evaluations)


def test_a_criterion_without_its_result_is_missing():
    evaluations = evaluate(CRITERIA, PASSING[1:])
    assert evaluations[0].outcome is Outcome.MISSING and evaluations[0].test == "Sterility"
    assert all(e.passed for e in evaluations[1:])
    assert all(e.outcome is Outcome.MISSING for e in evaluate(CRITERIA, []))


def test_results_match_their_criteria_ignoring_case_and_spacing():
    (evaluation,) = evaluate([VIABILITY], [QCResult("  viability ", value=80, unit="%")])
    assert evaluation.passed


def test_a_result_for_an_unknown_test_is_refused_naming_it():
    with pytest.raises(
        ValueError, match="no release criterion is named 'Gram stain'; the criteria are 'Viab"
    ):
        evaluate([VIABILITY], [QCResult("Gram stain", text="No organisms seen")])
    with pytest.raises(ValueError, match="the criteria are none"):
        evaluate([], [QCResult("Viability", value=80, unit="%")])
    with pytest.raises(ValueError, match="is not a result for 'Viability'"):
        evaluate_one(VIABILITY, QCResult("Endotoxin", value=0.1, unit="EU/mL"))


def test_two_results_or_two_criteria_for_one_test_are_refused():
    twice = [QCResult("Viability", value=80, unit="%"), QCResult("VIABILITY", value=60, unit="%")]
    with pytest.raises(ValueError, match="the test 'VIABILITY' has two results"):
        evaluate([VIABILITY], twice)
    with pytest.raises(ValueError, match="criteria: the test 'viability' is listed twice"):
        evaluate([VIABILITY, Criterion("viability", Operator.GE, 80, unit="%")], [])


def test_a_unit_mismatch_in_a_batch_is_refused_not_judged():
    bad = [*PASSING[:2], QCResult("Endotoxin", value=0.1, unit="EU/kg")]
    with pytest.raises(ValueError, match="'Endotoxin': unit: a result in EU/kg cannot be compared"):
        evaluate(CRITERIA, bad)


# --- the release decision ---------------------------------------------------------------------------------


def test_a_batch_with_every_criterion_passed_is_released_by_someone_else():
    decision = release_decision(evaluate(CRITERIA, PASSING), processor_id=7, releaser_id=8)
    assert decision.allowed and decision.reasons == ()


def test_the_processor_cannot_release_their_own_batch():
    decision = release_decision(evaluate(CRITERIA, PASSING), processor_id="u-7", releaser_id="u-7")
    assert not decision.allowed
    assert [r.code for r in decision.reasons] == [RefusalCode.RELEASER_PROCESSED]
    assert decision.reasons[0].text == "the person who processed the batch cannot release it"


def test_every_failing_and_missing_criterion_is_a_reason():
    results = [r for r in PASSING if r.test != "Mycoplasma"]
    results[2] = QCResult("Viability", value=65, unit="%")
    decision = release_decision(evaluate(CRITERIA, results), processor_id=1, releaser_id=1)
    assert not decision.allowed
    assert [(r.code, r.text) for r in decision.reasons] == [
        (
            RefusalCode.RESULT_MISSING,
            "Mycoplasma: no result entered; needs Negative (21 CFR 610.30 culture or PCR)",
        ),
        (RefusalCode.CRITERION_FAILED, "Viability: 65% does not meet ≥ 70%"),
        (RefusalCode.RELEASER_PROCESSED, "the person who processed the batch cannot release it"),
    ]


def test_a_batch_without_criteria_is_never_released():
    decision = release_decision((), processor_id=1, releaser_id=2)
    assert not decision.allowed and [r.code for r in decision.reasons] == [RefusalCode.NO_CRITERIA]


@pytest.mark.parametrize(
    ("processor", "releaser", "problem"),
    [(None, 2, "processor_id: must name a person"), (1, None, "releaser_id"), (1, " ", "releaser_id")],
)
def test_a_decision_needs_both_people(processor, releaser, problem):
    with pytest.raises(ValueError, match=problem):
        release_decision(evaluate(CRITERIA, PASSING), processor_id=processor, releaser_id=releaser)


def test_a_decision_takes_only_evaluations():
    with pytest.raises(ValueError, match="evaluations: expected evaluations"):
        release_decision(["pass"], processor_id=1, releaser_id=2)  # type: ignore[list-item]


RESULT_FOR = {
    Outcome.PASS: {c.test: r for c, r in zip(CRITERIA, PASSING, strict=True)},
    Outcome.FAIL: {
        "Sterility": QCResult("Sterility", text="Growth"),
        "Mycoplasma": QCResult("Mycoplasma", text="Positive"),
        "Endotoxin": QCResult("Endotoxin", value=0.25, unit="EU/mL"),
        "Viability": QCResult("Viability", value=0.69, unit="fraction"),
        "Cell count (formulated)": QCResult("Cell count (formulated)", value=25, unit="×10⁶ cells/mL"),
        "Identity and purity: fibroblasts": QCResult(
            "Identity and purity: fibroblasts", value=98, unit="% of cells"
        ),
        "Passages": QCResult("Passages", value=7, unit="passages"),
    },
}


@given(
    outcomes=st.lists(st.sampled_from(list(Outcome)), min_size=len(CRITERIA), max_size=len(CRITERIA)),
    processor=st.integers(min_value=1, max_value=4),
    releaser=st.integers(min_value=1, max_value=4),
)
def test_release_is_allowed_exactly_when_everything_passes_and_someone_else_releases(
    outcomes, processor, releaser
):
    results = [
        RESULT_FOR[o][c.test] for c, o in zip(CRITERIA, outcomes, strict=True) if o is not Outcome.MISSING
    ]
    evaluations = evaluate(CRITERIA, results)
    assert [e.outcome for e in evaluations] == outcomes
    decision = release_decision(evaluations, processor_id=processor, releaser_id=releaser)
    assert decision.allowed == (all(o is Outcome.PASS for o in outcomes) and processor != releaser)
    assert decision.allowed == (decision.reasons == ())
    refused_tests = [
        r.text.split(":")[0] for r in decision.reasons if r.code is not RefusalCode.RELEASER_PROCESSED
    ]
    assert refused_tests == [
        c.test.split(":")[0] for c, o in zip(CRITERIA, outcomes, strict=True) if o is not Outcome.PASS
    ]


@given(
    limit=st.decimals(min_value=-1000, max_value=1000, places=3),
    delta=st.decimals(min_value=Decimal("0.001"), max_value=1000, places=3),
)
def test_every_operator_is_exact_at_and_either_side_of_its_limit(limit, delta):
    judged = {
        op: Criterion("X", op, limit)
        for op in (Operator.LT, Operator.LE, Operator.GT, Operator.GE, Operator.EQ)
    }
    for value, below, at in (
        (limit - delta, True, False),
        (limit, False, True),
        (limit + delta, False, False),
    ):
        assert judged[Operator.LT].admits(value) == below
        assert judged[Operator.LE].admits(value) == (below or at)
        assert judged[Operator.GT].admits(value) == (not below and not at)
        assert judged[Operator.GE].admits(value) == (not below)
        assert judged[Operator.EQ].admits(value) == at
    between = Criterion("X", Operator.BETWEEN, limit, limit + delta)
    assert between.admits(limit) and between.admits(limit + delta)
    assert not between.admits(limit - delta) and not between.admits(limit + 2 * delta)


@given(percent=st.decimals(min_value=0, max_value=100, places=4))
def test_a_fraction_and_its_percentage_are_judged_alike(percent):
    as_percent = _one(VIABILITY, QCResult("Viability", value=percent, unit="%"))
    as_fraction = _one(VIABILITY, QCResult("Viability", value=percent / 100, unit="fraction"))
    assert as_percent.outcome is as_fraction.outcome


# --- expiry ------------------------------------------------------------------------------------------------


def test_hours_and_minutes_run_as_elapsed_time():
    start = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    assert expires_at(start, 24, "hours") == datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    assert expires_at(start, 15, "minutes") == datetime(2026, 3, 1, 9, 45, tzinfo=UTC)
    assert expires_at(start, 1.5, "hours") == datetime(2026, 3, 1, 11, 0, tzinfo=UTC)
    assert expires_at(start, 2, "weeks") == datetime(2026, 3, 15, 9, 30, tzinfo=UTC)
    assert expires_at(start, 3, "days") == datetime(2026, 3, 4, 9, 30, tzinfo=UTC)


def test_a_shelf_life_across_a_clock_change_is_still_that_long_and_keeps_the_zone():
    london = ZoneInfo("Europe/London")
    start = datetime(2026, 3, 28, 12, 0, tzinfo=london)  # the clocks go forward overnight
    end = expires_at(start, 24, "hours")
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=24)
    assert end.tzinfo is london and (end.hour, end.day) == (13, 29)


def test_months_are_calendar_months_cut_to_the_end_of_a_short_month():
    assert expires_at(datetime(2026, 1, 31, 8, tzinfo=UTC), 1, "months") == datetime(
        2026, 2, 28, 8, tzinfo=UTC
    )
    assert expires_at(datetime(2027, 12, 31, 8, tzinfo=UTC), 2, "months") == datetime(
        2028, 2, 29, 8, tzinfo=UTC
    )
    assert expires_at(datetime(2026, 8, 15, tzinfo=UTC), 6.0, "months") == datetime(2027, 2, 15, tzinfo=UTC)


def test_the_unit_may_be_an_enum_with_a_value():
    unit = SimpleNamespace(value="hours")
    assert expires_at(datetime(2026, 1, 1, tzinfo=UTC), 24, unit) == datetime(2026, 1, 2, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "amount", "unit", "problem"),
    [
        (datetime(2026, 1, 1), 24, "hours", "start: must carry a time zone"),
        ("2026-01-01", 24, "hours", "start: must be a date and time"),
        (datetime(2026, 1, 1, tzinfo=UTC), 24, "fortnights", "unit: must be one of minutes, hours"),
        (datetime(2026, 1, 1, tzinfo=UTC), 0, "hours", "shelf_life_amount: must be a positive number"),
        (datetime(2026, 1, 1, tzinfo=UTC), -1, "hours", "shelf_life_amount: must be a positive number"),
        (datetime(2026, 1, 1, tzinfo=UTC), float("inf"), "hours", "must be a positive number"),
        (datetime(2026, 1, 1, tzinfo=UTC), "24", "hours", "shelf_life_amount: must be a number"),
        (datetime(2026, 1, 1, tzinfo=UTC), 1.5, "months", "months must be whole"),
        (datetime(2026, 1, 1, tzinfo=UTC), 10**9, "days", "is past any date"),
        (datetime(2026, 1, 1, tzinfo=UTC), 10**6, "months", "is past any date"),
    ],
)
def test_bad_expiry_input_is_refused_naming_the_field(start, amount, unit, problem):
    with pytest.raises(ValueError, match=problem):
        expires_at(start, amount, unit)


@given(
    start=st.datetimes(
        min_value=datetime(2000, 1, 1),
        max_value=datetime(2090, 1, 1),
        timezones=st.sampled_from([UTC, ZoneInfo("Europe/London"), ZoneInfo("America/New_York")]),
    ),
    amount=st.integers(min_value=1, max_value=1000),
    unit=st.sampled_from(["minutes", "hours", "days", "weeks"]),
)
def test_an_elapsed_shelf_life_ends_exactly_that_long_after_it_starts(start, amount, unit):
    end = expires_at(start, amount, unit)
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(**{unit: amount})
    assert end.tzinfo is start.tzinfo


@given(
    start=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)
    ),
    months=st.integers(min_value=1, max_value=120),
)
def test_a_shelf_life_in_months_ends_later_and_on_the_same_or_an_earlier_day(start, months):
    end = expires_at(start, months, "months")
    assert end > start and end.time() == start.time()
    assert (end.year - start.year) * 12 + end.month - start.month == months
    assert end.day <= start.day

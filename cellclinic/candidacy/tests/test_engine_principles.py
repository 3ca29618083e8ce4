"""The six principles of a safe self-assessment, as properties over the shipped catalogue and rules.

1. "Suitable" is earned: every fact the decision rests on is answered and inside a sourced limit.
2. Every screening "yes" leads at least to a practitioner, unless a therapy file exempts it with a source;
   a procedure step's risks apply to every therapy with that step.
3. Anyone under 18 sees a practitioner, with a parent or guardian; label ages apply on top.
4. An excluded therapy is named with its reasons; the outcome is the best therapy still an option.
5. Investigational use is never "suitable": it is offered only within a study.
6. Acute and undiagnosed situations are not elective: seek care now, or a practitioner first.
"""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cellclinic.candidacy.engine import (
    AREAS,
    CONCERNS,
    CONDITION_KEYS,
    CONSULT,
    EXCLUDES,
    EXPECTATIONS,
    FITNESS_KEY,
    HEALTH_KEYS,
    MAX_AGE,
    NOT_SUITABLE,
    SUITABLE,
    Answers,
    evaluate,
    ruleset_load,
)
from cellclinic.catalogue.loader import catalogue_load
from cellclinic.catalogue.vocabulary import ALLERGY_CODES, CONDITION_FACTS

CATALOGUE = catalogue_load()
RULES = ruleset_load()
SCREENING_KEYS = [q.key for q in RULES.questions if q.screening]
URGENT_WHEN = {
    ("burn", "wound_open", True),
    ("burn", "wound_infected", True),
    ("wound", "wound_open", True),
    ("wound", "wound_infected", True),
}
PROFILE = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _fact_values(kind: str):
    if kind == "yes_no":
        return st.one_of(st.none(), st.booleans())
    return st.one_of(st.none(), st.integers(min_value=0, max_value=400))


conditions = st.fixed_dictionaries({key: _fact_values(kind) for key, kind in CONDITION_FACTS.items()})
healths = st.fixed_dictionaries({key: st.one_of(st.none(), st.booleans()) for key in HEALTH_KEYS})
answers_strategy = st.builds(
    Answers,
    concerns=st.lists(st.sampled_from(CONCERNS), min_size=1, max_size=3, unique=True).map(tuple),
    area=st.sampled_from(AREAS),
    age=st.integers(min_value=0, max_value=MAX_AGE),
    health=healths,
    condition=conditions,
    expectation=st.sampled_from(list(EXPECTATIONS)),
    allergies=st.one_of(st.none(), st.frozensets(st.sampled_from(ALLERGY_CODES))),
)


def _clean(answers: Answers, **changes) -> Answers:
    values = {
        "concerns": answers.concerns,
        "area": answers.area,
        "age": answers.age,
        "health": answers.health,
        "condition": answers.condition,
        "expectation": answers.expectation,
        "allergies": answers.allergies,
    }
    values.update(changes)
    return Answers(**values)


def _healthy(answers: Answers) -> Answers:
    """ANSWERS with every health question answered "all clear" and no allergy."""
    return _clean(
        answers,
        health={key: key == FITNESS_KEY for key in HEALTH_KEYS},
        allergies=frozenset(),
        expectation="gradual_improvement",
    )


def _yes_codes(answers: Answers) -> set[str]:
    codes = {RULES.screening_of[key] for key in SCREENING_KEYS if answers.health.get(key) is True}
    codes |= set(answers.allergies or ())
    if answers.allergies is None and answers.health.get("product_component_allergy") is True:
        codes |= set(RULES.component_allergy_codes)
    return codes


def _suitable_fits(result):
    return [fit for fit in result.therapies if fit.status == SUITABLE]


def _facts_of_served_indications(fit, answers):
    therapy = CATALOGUE.therapies[fit.code]
    return [
        indication
        for indication in therapy.indications
        if indication.code.value in fit.concerns and indication.treats_area(answers.area)
    ]


# 1 ---------------------------------------------------------------------------------------------------


@PROFILE
@given(answers_strategy)
def test_1_suitable_rests_only_on_answered_facts_inside_sourced_limits(answers):
    result = evaluate(answers, CATALOGUE, RULES)
    if result.outcome != SUITABLE:
        return
    assert all(answers.health[key] is not None for key in HEALTH_KEYS)
    assert answers.health[FITNESS_KEY] is True
    assert answers.expectation == "gradual_improvement"
    for question in RULES.conditions_for(answers.concerns):
        assert answers.condition[question.key] is not None, question.key
    fits = _suitable_fits(result)
    assert fits, "suitable needs one therapy with nothing left to check"
    for fit in fits:
        therapy = CATALOGUE.therapies[fit.code]
        assert not therapy.investigational
        # The indication the therapy was chosen for rests on no unverified fact and no unknown answer.
        assert any(
            not indication.unverified
            and all(
                not fact.unverified
                for fact in (indication.min_age_years, indication.max_age_years, indication.stable_for_months)
                if fact is not None
            )
            and all(
                not r.unverified and r.met(answers.condition.get(r.fact.value)) is True
                for r in indication.requires
            )
            for indication in _facts_of_served_indications(fit, answers)
        ), fit.code


@PROFILE
@given(answers_strategy, st.sampled_from(HEALTH_KEYS))
def test_1_an_unanswered_health_question_is_never_suitable(answers, key):
    answers = _clean(_healthy(answers), health={**_healthy(answers).health, key: None})
    assert evaluate(answers, CATALOGUE, RULES).outcome != SUITABLE


@PROFILE
@given(answers_strategy, st.sampled_from(CONDITION_KEYS))
def test_1_an_unanswered_condition_question_for_the_concern_is_never_suitable(answers, key):
    answers = _clean(answers, condition={**answers.condition, key: None})
    if key in {q.key for q in RULES.conditions_for(answers.concerns)}:
        assert evaluate(answers, CATALOGUE, RULES).outcome != SUITABLE


# 2 ---------------------------------------------------------------------------------------------------


@PROFILE
@given(answers_strategy, st.sampled_from(SCREENING_KEYS))
def test_2_every_screening_yes_leads_at_least_to_a_practitioner(answers, key):
    answers = _healthy(answers)
    answers = _clean(answers, health={**answers.health, key: True})
    result = evaluate(answers, CATALOGUE, RULES)
    code = RULES.screening_of[key]
    exempting = [f for f in result.therapies if code in {e.screening.value for e in _exemptions(f.code)}]
    if not exempting:
        assert result.outcome != SUITABLE


@PROFILE
@given(answers_strategy, st.sampled_from(ALLERGY_CODES))
def test_2_every_detailed_allergy_leads_at_least_to_a_practitioner(answers, code):
    answers = _clean(_healthy(answers), allergies=frozenset({code}))
    result = evaluate(answers, CATALOGUE, RULES)
    if not any(code in {e.screening.value for e in _exemptions(f.code)} for f in result.therapies):
        assert result.outcome != SUITABLE


def _exemptions(code):
    return CATALOGUE.therapies[code].exemptions


@PROFILE
@given(answers_strategy)
def test_2_a_procedure_steps_risks_apply_to_every_therapy_with_that_step(answers):
    result = evaluate(answers, CATALOGUE, RULES)
    yes = _yes_codes(answers)
    for fit in result.therapies:
        therapy = CATALOGUE.therapies[fit.code]
        for step in therapy.steps:
            for risk in CATALOGUE.steps[step.value].screening:
                face_only = risk.screening.value in RULES.face_only_screening and answers.area != "face"
                if risk.screening.value in yes and not face_only:
                    assert fit.status == CONSULT, (fit.code, step.value, risk.screening.value)
                    assert any(
                        reason.rule == f"procedure_risk:{fit.code}.{step.value}.{risk.screening.value}"
                        for reason in result.reasons
                    )


@PROFILE
@given(answers_strategy)
def test_2_adding_a_yes_never_makes_the_answer_suitable(answers):
    before = evaluate(answers, CATALOGUE, RULES)
    for key in SCREENING_KEYS:
        after = evaluate(_clean(answers, health={**answers.health, key: True}), CATALOGUE, RULES)
        assert after.outcome != SUITABLE or before.outcome == SUITABLE and _exempt_everywhere(after, key), key


def _exempt_everywhere(result, key) -> bool:
    code = RULES.screening_of[key]
    return all(code in {e.screening.value for e in _exemptions(f.code)} for f in _suitable_fits(result))


# 3 ---------------------------------------------------------------------------------------------------


@PROFILE
@given(answers_strategy, st.integers(min_value=0, max_value=17))
def test_3_anyone_under_18_sees_a_practitioner_with_a_parent_or_guardian(answers, age):
    result = evaluate(_clean(answers, age=age), CATALOGUE, RULES)
    assert result.outcome != SUITABLE
    assert any("parent or guardian" in reason.text for reason in result.reasons)


@PROFILE
@given(answers_strategy)
def test_3_label_ages_apply_on_top(answers):
    result = evaluate(answers, CATALOGUE, RULES)
    for fit in result.therapies:
        indications = _facts_of_served_indications(fit, answers)
        assert any(
            (i.min_age_years is None or answers.age >= i.min_age_years.value)
            and (i.max_age_years is None or answers.age <= i.max_age_years.value)
            and (i.min_age_months is None or answers.age * 12 + 11 >= i.min_age_months.value)
            for i in indications
        ), fit.code


# 4 ---------------------------------------------------------------------------------------------------


@PROFILE
@given(answers_strategy)
def test_4_every_therapy_for_a_chosen_concern_is_an_option_or_named_as_excluded(answers):
    result = evaluate(answers, CATALOGUE, RULES)
    options = {fit.code for fit in result.therapies}
    excluded = {item.code: item for item in result.excluded}
    assert not options & set(excluded)
    for code, therapy in CATALOGUE.therapies.items():
        if {i.code.value for i in therapy.indications} & set(answers.concerns):
            assert code in options or code in excluded, code
    if result.outcome != NOT_SUITABLE:
        for item in result.excluded:
            assert item.reasons, f"{item.code} is excluded without a reason"
            assert all(
                text in {r.text for r in result.reasons if r.effect == EXCLUDES} for text in item.reasons
            )


@PROFILE
@given(answers_strategy)
def test_4_the_outcome_is_the_best_option_bounded_by_the_person(answers):
    result = evaluate(answers, CATALOGUE, RULES)
    person = [r.effect for r in result.reasons if ":" not in r.rule]
    if result.outcome == SUITABLE:
        assert _suitable_fits(result)
        assert all(effect not in {CONSULT, NOT_SUITABLE} for effect in person)
    elif result.outcome == CONSULT:
        # With no therapy left, only care needed now or an age under 18 keeps the door open.
        assert result.therapies or result.urgent or answers.age < 18
        assert NOT_SUITABLE not in person
        assert not _suitable_fits(result) or CONSULT in person
    else:
        assert not result.therapies
        assert not result.expectations["therapies"]


# 5 ---------------------------------------------------------------------------------------------------


@PROFILE
@given(answers_strategy)
def test_5_investigational_use_is_offered_only_within_a_study(answers):
    result = evaluate(_healthy(answers), CATALOGUE, RULES)
    for fit in result.therapies:
        if CATALOGUE.therapies[fit.code].investigational:
            assert fit.status == CONSULT
            assert any(r.rule == f"study_only:{fit.code}" for r in result.reasons)
            assert any("only within a study" in why for why in fit.reasons)


# 6 ---------------------------------------------------------------------------------------------------


@PROFILE
@given(answers_strategy, st.sampled_from(sorted(URGENT_WHEN)))
def test_6_a_fresh_burn_or_an_open_or_infected_wound_is_told_to_seek_care_now(answers, case):
    concern, fact, value = case
    answers = _clean(
        answers,
        concerns=tuple(dict.fromkeys((*answers.concerns, concern))),
        condition={**answers.condition, fact: value},
    )
    result = evaluate(answers, CATALOGUE, RULES)
    assert result.outcome != SUITABLE
    assert result.urgent
    assert any("emergency" in text or "doctor" in text for text in result.urgent)


@PROFILE
@given(answers_strategy, st.sampled_from(["vitiligo", "hypopigmentation"]), st.sampled_from([None, False]))
def test_6_light_patches_without_a_diagnosis_see_a_practitioner(answers, concern, diagnosed):
    answers = _clean(
        answers,
        concerns=tuple(dict.fromkeys((*answers.concerns, concern))),
        condition={**answers.condition, "patches_diagnosed": diagnosed},
    )
    assert evaluate(answers, CATALOGUE, RULES).outcome != SUITABLE


@PROFILE
@given(answers_strategy)
def test_6_label_conditions_are_checked_against_the_answers(answers):
    result = evaluate(answers, CATALOGUE, RULES)
    for fit in _suitable_fits(result):
        for indication in _facts_of_served_indications(fit, answers):
            if all(r.met(answers.condition.get(r.fact.value)) for r in indication.requires):
                break
        else:
            raise AssertionError(f"{fit.code} is suitable though no indication's label conditions are met")


# Every result ---------------------------------------------------------------------------------------


@PROFILE
@given(answers_strategy)
def test_every_result_is_deterministic_and_explains_itself(answers):
    result = evaluate(answers, CATALOGUE, RULES)
    assert result == evaluate(answers, CATALOGUE, RULES)
    if result.outcome != SUITABLE:
        assert any(r.effect in {CONSULT, NOT_SUITABLE} for r in result.reasons) or any(
            fit.status == CONSULT for fit in result.therapies
        )
    assert all("{" not in r.text for r in result.reasons)

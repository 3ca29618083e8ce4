"""One questionnaire, declared in rules.toml: both forms and the API schema are built from it."""

import pytest
from pydantic import ValidationError

from cellclinic.candidacy.api import AssessmentConditionIn, AssessmentHealthIn
from cellclinic.candidacy.engine import CONDITION_KEYS, RULES_FILE, RuleSetError, ruleset_parse
from cellclinic.candidacy.forms import AssessmentForm
from cellclinic.candidacy.questionnaire import HEALTH_PREFIX
from cellclinic.candidacy.services import get_ruleset
from cellclinic.catalogue.vocabulary import CONDITION_FACTS, INDICATIONS
from cellclinic.consultations.forms import CandidacyForm

RULES = get_ruleset()


def test_every_question_is_in_the_public_form_in_the_patients_words():
    form = AssessmentForm(initial={"concerns": list(INDICATIONS)})
    for question in RULES.questions:
        assert form.fields[HEALTH_PREFIX + question.key].label == question.question
        assert form.fields[HEALTH_PREFIX + question.key].help_text == question.why
    for question in RULES.conditions:
        assert form.fields[question.key].label == question.question
    assert sorted(field.name for field in form.condition_fields) == sorted(CONDITION_KEYS)


def test_every_question_is_in_the_practitioners_form_as_read_out():
    form = CandidacyForm()
    for question in RULES.questions:
        assert form.fields[HEALTH_PREFIX + question.key].label == question.staff
    for question in RULES.conditions:
        assert form.fields[question.key].label == question.staff


def test_the_api_schema_has_exactly_the_questions_of_the_file():
    assert list(AssessmentHealthIn.model_fields) == [q.key for q in RULES.questions]
    assert list(AssessmentConditionIn.model_fields) == [q.key for q in RULES.conditions]
    with pytest.raises(ValidationError):
        AssessmentHealthIn(not_a_question=True)
    with pytest.raises(ValidationError):
        AssessmentConditionIn(vitiligo_stable_months=1201)


def test_the_practitioners_answers_go_back_into_the_form_unchanged():
    answers = {
        "concerns": ["vitiligo"],
        "area": "face",
        "age": 40,
        "expectation": "gradual_improvement",
        "health": {q.key: index % 2 == 0 for index, q in enumerate(RULES.questions)},
        "condition": {
            **dict.fromkeys(CONDITION_KEYS),
            "vitiligo_stable_months": 18,
            "patches_diagnosed": True,
            "wound_open": False,
            "weeks_of_wound_care": 3,
        },
        "allergies": [],
    }
    form = CandidacyForm(data=CandidacyForm.initial_from(answers))
    assert form.is_valid(), form.errors
    assert form.answers() == answers


def test_condition_kinds_match_the_vocabulary_the_catalogue_requires_against():
    for question in RULES.conditions:
        assert question.kind == CONDITION_FACTS[question.key]
    form = CandidacyForm()
    assert form.fields["weeks_of_wound_care"].max_value > form.fields["months_since_injury"].max_value


def test_each_condition_question_names_the_concerns_it_is_asked_for():
    asked = {q.key for q in RULES.conditions_for(["wound"])}
    assert {"wound_open", "weeks_of_wound_care", "tendon_or_bone_exposed"} <= asked
    assert "vitiligo_stable_months" not in asked


def test_a_rules_file_without_every_condition_is_refused_by_name():
    text = RULES_FILE.read_text(encoding="utf-8")
    start = text.index('[[conditions]]\nkey = "wound_open"')
    end = text.index("[[conditions]]", start + 1)
    with pytest.raises(RuleSetError, match="conditions: one entry for each condition detail"):
        ruleset_parse(text[:start] + text[end:])

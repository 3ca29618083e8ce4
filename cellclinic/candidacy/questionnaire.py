"""The one questionnaire, read from rules.toml: the public form, the practitioner's form and the API.

rules.toml declares every health question and every condition detail once; the fields of both forms
and the API's input schema are built here from that declaration, so adding a question to the file
adds it everywhere. The answers always reach the service in one shape, which the service checks
(`answers.answers_check`): the forms and the schema only collect them.
"""

from django import forms
from ninja import Field, Schema
from pydantic import ConfigDict, StrictBool, StrictInt, create_model

from cellclinic.candidacy.engine import ConditionQuestion, Question, RuleSet

HEALTH_PREFIX = "health_"
HEALTH_HELP = "true (yes), false (no) or null / left out (not answered: a practitioner must ask)."
PUBLIC, STAFF = "public", "staff"


def _label(question: Question | ConditionQuestion, audience: str) -> str:
    return question.question if audience == PUBLIC else question.staff


def health_fields(rules: RuleSet, audience: str, *, choices, widget=None) -> dict[str, forms.Field]:
    """One optional choice per health question ("health_<key>"), worded for AUDIENCE."""
    return {
        HEALTH_PREFIX + question.key: forms.ChoiceField(
            label=_label(question, audience),
            choices=choices,
            widget=widget() if widget else None,
            required=False,
            help_text=question.why if audience == PUBLIC else "",
        )
        for question in rules.questions
    }


def condition_fields(
    rules: RuleSet, audience: str, *, yes_no_choices, yes_no_widget=None
) -> dict[str, forms.Field]:
    """One optional field per condition detail, worded for AUDIENCE: months or weeks, or yes/no."""
    fields: dict[str, forms.Field] = {}
    for question in rules.conditions:
        help_text = question.why if audience == PUBLIC else ""
        if question.kind != "yes_no":
            fields[question.key] = forms.IntegerField(
                label=_label(question, audience),
                help_text=help_text,
                required=False,
                min_value=0,
                max_value=question.maximum,
                widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
            )
        else:
            fields[question.key] = forms.ChoiceField(
                label=_label(question, audience),
                help_text=help_text,
                choices=yes_no_choices,
                widget=yes_no_widget() if yes_no_widget else None,
                required=False,
            )
    return fields


class _Answers(Schema):
    """Unknown keys are refused, not ignored."""

    model_config = ConfigDict(extra="forbid")


def api_schemas(rules: RuleSet) -> tuple[type[Schema], type[Schema]]:
    """The API's input objects for the health questions and the condition details, from the same file."""
    health = create_model(
        "AssessmentHealthIn",
        __base__=_Answers,
        __doc__="The screening questions; a question left out counts as not answered.",
        **{
            question.key: (StrictBool | None, Field(None, description=f"{question.staff}. {HEALTH_HELP}"))
            for question in rules.questions
        },
    )
    condition = create_model(
        "AssessmentConditionIn",
        __base__=_Answers,
        __doc__="Details of the condition; each may be left out (not answered).",
        **{
            question.key: (
                (StrictInt | None, Field(None, ge=0, le=question.maximum, description=question.staff))
                if question.kind != "yes_no"
                else (StrictBool | None, Field(None, description=question.staff))
            )
            for question in rules.conditions
        },
    )
    return health, condition

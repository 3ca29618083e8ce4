"""Forms for the consultation sections; the services do the checking and writing."""

from django import forms

from cellclinic.candidacy.engine import MAX_AGE
from cellclinic.candidacy.questionnaire import HEALTH_PREFIX, STAFF, condition_fields, health_fields
from cellclinic.candidacy.services import get_ruleset
from cellclinic.catalogue.vocabulary import ALLERGY_ITEMS, FITZPATRICK, INDICATIONS
from cellclinic.consultations.models import Consultation
from cellclinic.consultations.severity import SCALES_BY_INDICATION
from cellclinic.core.forms import password_field, tristate_value

AREAS = {
    "face": "Face",
    "neck": "Neck",
    "scalp": "Scalp",
    "hands": "Hands",
    "arms": "Arms",
    "legs": "Legs",
    "feet": "Feet",
    "trunk": "Trunk (chest, back, tummy)",
    "other": "Somewhere else",
}
EXPECTATIONS = {
    "gradual_improvement": "A gradual improvement over weeks and months",
    "complete_removal": "The problem removed completely",
    "instant_result": "A result straight away",
}
TRISTATE = [("", "Not answered"), ("yes", "Yes"), ("no", "No")]


def _tristate_initial(value: bool | None) -> str:
    return {True: "yes", False: "no"}.get(value, "")


class GoalsForm(forms.Form):
    goals = forms.CharField(
        label="The patient's goals, in their own words",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    target_areas = forms.CharField(
        label="Target areas",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One area a line, e.g. “left cheek”.",
    )

    def service_data(self) -> dict:
        return {
            "goals": self.cleaned_data["goals"],
            "target_areas": self.cleaned_data["target_areas"].splitlines(),
        }


def _scale_choices() -> list:
    groups = []
    for indication, scales in SCALES_BY_INDICATION.items():
        groups.append((INDICATIONS[indication], [(scale.code, scale.label) for scale in scales]))
    return [("", "Not recorded"), *groups]


class FindingsForm(forms.Form):
    indication = forms.ChoiceField(
        label="Indication", required=False, choices=[("", "Not recorded"), *INDICATIONS.items()]
    )
    severity_scale = forms.ChoiceField(
        label="Severity scale",
        required=False,
        choices=_scale_choices,
        help_text="A scale that fits the indication.",
    )
    severity_score = forms.CharField(
        label="Severity score",
        required=False,
        max_length=12,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    fitzpatrick_type = forms.ChoiceField(
        label="Fitzpatrick skin type", required=False, choices=[("", "Not recorded"), *FITZPATRICK.items()]
    )
    findings = forms.CharField(
        label="Findings", required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 4})
    )

    def service_data(self) -> dict:
        return dict(self.cleaned_data)


class CandidacyForm(forms.Form):
    """The candidacy questions, answered by the practitioner; prefilled from the chart."""

    concerns = forms.MultipleChoiceField(
        label="Concerns", choices=list(INDICATIONS.items()), widget=forms.CheckboxSelectMultiple
    )
    area = forms.ChoiceField(label="Area", choices=list(AREAS.items()))
    age = forms.IntegerField(label="Age (years)", min_value=0, max_value=MAX_AGE)
    expectation = forms.ChoiceField(label="The patient expects", choices=list(EXPECTATIONS.items()))
    allergies = forms.MultipleChoiceField(
        label="Known allergies",
        required=False,
        choices=[(item.code, item.label) for item in ALLERGY_ITEMS],
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, answers: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        # The questions of rules.toml, as the practitioner reads them out; the allergies come last.
        rules = get_ruleset()
        self.questions, self.conditions = rules.questions, rules.conditions
        allergies = self.fields.pop("allergies")
        self.fields.update(condition_fields(rules, STAFF, yes_no_choices=TRISTATE))
        self.fields["allergies"] = allergies
        self.fields.update(health_fields(rules, STAFF, choices=TRISTATE))
        if answers and not self.is_bound:
            self.initial.update(self.initial_from(answers))

    @property
    def health_fields(self):
        return [self[HEALTH_PREFIX + question.key] for question in self.questions]

    @staticmethod
    def initial_from(answers: dict) -> dict:
        """Form values from API-shaped answers."""
        rules = get_ruleset()
        health = answers.get("health") or {}
        condition = answers.get("condition") or {}
        initial = {
            "concerns": answers.get("concerns", []),
            "area": answers.get("area", ""),
            "age": answers.get("age"),
            "expectation": answers.get("expectation", ""),
            "allergies": answers.get("allergies", []),
        }
        for question in rules.conditions:
            value = condition.get(question.key)
            initial[question.key] = _tristate_initial(value) if question.kind == "yes_no" else value
        for question in rules.questions:
            initial[HEALTH_PREFIX + question.key] = _tristate_initial(health.get(question.key))
        return initial

    def answers(self) -> dict:
        """API-shaped answers; questions left unanswered are left out, as the rules expect."""
        data = self.cleaned_data
        health = {}
        for question in self.questions:
            value = tristate_value(data[HEALTH_PREFIX + question.key])
            if value is not None:
                health[question.key] = value
        return {
            "concerns": list(data["concerns"]),
            "area": data["area"],
            "age": data["age"],
            "health": health,
            "condition": {
                q.key: tristate_value(data[q.key]) if q.kind == "yes_no" else data[q.key]
                for q in self.conditions
            },
            "expectation": data["expectation"],
            "allergies": list(data["allergies"]),
        }


class AlternativesForm(forms.Form):
    alternatives_discussed = forms.MultipleChoiceField(
        label="Alternatives discussed", required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, alternatives=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["alternatives_discussed"].choices = [(a.code, a.name) for a in alternatives]


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label="Decision", choices=Consultation.Decision.choices, widget=forms.RadioSelect
    )
    therapy_code = forms.ChoiceField(label="Therapy (when proceeding)", required=False)
    alternative_code = forms.ChoiceField(label="Alternative (when choosing one)", required=False)
    decision_notes = forms.CharField(
        label="Notes on the decision",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Needed when referring, or when proceeding against a 'not suitable' candidacy outcome.",
    )
    password = password_field()

    def __init__(self, *args, therapies=(), alternatives=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["therapy_code"].choices = [("", "—"), *((t.code, t.name) for t in therapies)]
        self.fields["alternative_code"].choices = [("", "—"), *((a.code, a.name) for a in alternatives)]

"""Forms for the consultation sections; the services do the checking and writing."""

from django import forms

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
# The candidacy questions, in the words the practitioner reads them out.
HEALTH_QUESTIONS = {
    "generally_fit_and_healthy": "Generally fit and healthy",
    "pregnant_or_breastfeeding": "Pregnant or breastfeeding",
    "active_skin_infection": "Active skin infection at the area to treat",
    "immunosuppressed": "Immunosuppression or chemotherapy",
    "bleeding_disorder_or_anticoagulants": "Bleeding disorder, or takes blood thinners",
    "keloid_history": "Keloid or raised (hypertrophic) scarring",
    "skin_cancer_at_site": "Skin cancer at the area, or any cancer",
    "collagen_disorder": "Genetic collagen disorder (Ehlers-Danlos, Marfan, ...)",
    "anaesthetic_allergy": "Allergy to local anaesthetic",
    "product_component_allergy": "Allergy to antiseptics, antibiotics, DMSO, animal material or trypsin",
    "cold_sores": "Cold sores",
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
    age = forms.IntegerField(label="Age (years)", min_value=0, max_value=130)
    expectation = forms.ChoiceField(label="The patient expects", choices=list(EXPECTATIONS.items()))
    vitiligo_stable_months = forms.IntegerField(
        label="Vitiligo stable for (months)", required=False, min_value=0, max_value=1200
    )
    wound_open = forms.ChoiceField(label="Wound still open", required=False, choices=TRISTATE)
    months_since_injury = forms.IntegerField(
        label="Months since the injury", required=False, min_value=0, max_value=1200
    )
    allergies = forms.MultipleChoiceField(
        label="Known allergies",
        required=False,
        choices=[(item.code, item.label) for item in ALLERGY_ITEMS],
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, answers: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        for key, label in HEALTH_QUESTIONS.items():
            self.fields[f"health_{key}"] = forms.ChoiceField(label=label, required=False, choices=TRISTATE)
        if answers and not self.is_bound:
            self.initial.update(self.initial_from(answers))

    @property
    def health_fields(self):
        return [self[f"health_{key}"] for key in HEALTH_QUESTIONS]

    @staticmethod
    def initial_from(answers: dict) -> dict:
        """Form values from API-shaped answers."""
        health = answers.get("health") or {}
        condition = answers.get("condition") or {}
        initial = {
            "concerns": answers.get("concerns", []),
            "area": answers.get("area", ""),
            "age": answers.get("age"),
            "expectation": answers.get("expectation", ""),
            "vitiligo_stable_months": condition.get("vitiligo_stable_months"),
            "wound_open": _tristate_initial(condition.get("wound_open")),
            "months_since_injury": condition.get("months_since_injury"),
            "allergies": answers.get("allergies", []),
        }
        for key in HEALTH_QUESTIONS:
            initial[f"health_{key}"] = _tristate_initial(health.get(key))
        return initial

    def answers(self) -> dict:
        """API-shaped answers; questions left unanswered are left out, as the rules expect."""
        data = self.cleaned_data
        health = {}
        for key in HEALTH_QUESTIONS:
            value = tristate_value(data[f"health_{key}"])
            if value is not None:
                health[key] = value
        return {
            "concerns": list(data["concerns"]),
            "area": data["area"],
            "age": data["age"],
            "health": health,
            "condition": {
                "vitiligo_stable_months": data["vitiligo_stable_months"],
                "wound_open": tristate_value(data["wound_open"]),
                "months_since_injury": data["months_since_injury"],
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

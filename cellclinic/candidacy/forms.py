"""The public questionnaire and consultation request, and the staff forms for the worklist."""

from typing import Any

from django import forms

from cellclinic.candidacy.engine import EXPECTATIONS, MAX_AGE
from cellclinic.candidacy.models import Enquiry
from cellclinic.candidacy.questionnaire import HEALTH_PREFIX, PUBLIC, condition_fields, health_fields
from cellclinic.candidacy.selectors import public_clinics
from cellclinic.candidacy.services import get_ruleset
from cellclinic.catalogue.schema import AREA_LABELS
from cellclinic.catalogue.vocabulary import INDICATIONS
from cellclinic.core.errors import FieldError, InvalidInput
from cellclinic.core.forms import TextForm

# One label per concern, on the form and in the result (the vocabulary's), with a hint where it helps.
CONCERN_HINTS = {
    "scar": "for example from acne, an injury or surgery",
    "wound": "including leg or foot ulcers that are slow to heal",
    "vitiligo": "white patches where the skin has lost its colour",
    "hypopigmentation": "other light patches of skin",
    "premature_ageing": "lines, folds or wrinkles",
}
CONCERN_CHOICES = [
    (code, f"{label} ({CONCERN_HINTS[code]})" if code in CONCERN_HINTS else label)
    for code, label in INDICATIONS.items()
]
# Headings for the condition questions, by the first concern a question is asked for.
CONDITION_FAMILIES = {
    "vitiligo": "If you chose vitiligo or other light patches",
    "hypopigmentation": "If you chose vitiligo or other light patches",
    "burn": "If you chose a burn, a scar or a wound",
    "scar": "If you chose a burn, a scar or a wound",
    "wound": "If you chose a burn, a scar or a wound",
    "sun_damage": "About the condition",
    "premature_ageing": "About the condition",
}
YES, NO, NOT_SURE = "yes", "no", "not_sure"
ANSWER_CHOICES = [(YES, "Yes"), (NO, "No"), (NOT_SURE, "Not sure")]
ANSWER_VALUES = {YES: True, NO: False, NOT_SURE: None, "": None}


class AssessmentForm(TextForm):
    """Am I a suitable candidate? Each health question says why it is asked."""

    concerns = forms.MultipleChoiceField(
        label="What would you like treated?",
        choices=CONCERN_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        help_text="Choose one or more.",
        error_messages={"required": "Choose at least one."},
    )
    area = forms.ChoiceField(
        label="Where on your body?",
        choices=[("", "Choose an area…"), *AREA_LABELS.items()],
    )
    age = forms.IntegerField(
        label="Your age in years",
        min_value=0,
        max_value=MAX_AGE,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    expectation = forms.ChoiceField(
        label="What are you hoping for?",
        choices=list(EXPECTATIONS.items()),
        widget=forms.RadioSelect,
        error_messages={"required": "Choose what you are hoping for."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        rules = get_ruleset()
        self.questions = rules.questions
        self.conditions = rules.conditions
        # The questions of rules.toml, in the patient's words; the conditions before the expectation.
        expectation = self.fields.pop("expectation")
        self.fields.update(
            condition_fields(rules, PUBLIC, yes_no_choices=ANSWER_CHOICES, yes_no_widget=forms.RadioSelect)
        )
        self.fields["expectation"] = expectation
        self.fields.update(health_fields(rules, PUBLIC, choices=ANSWER_CHOICES, widget=forms.RadioSelect))

    @property
    def health_fields(self):
        return [self[HEALTH_PREFIX + question.key] for question in self.questions]

    @property
    def condition_fields(self):
        return [self[question.key] for question in self.conditions]

    @property
    def condition_groups(self) -> list[tuple[str, list]]:
        """The condition questions under a heading for the concerns they are asked for, in file order."""
        groups: dict[str, list] = {}
        for question in self.conditions:
            family = CONDITION_FAMILIES[question.concerns[0]]
            groups.setdefault(family, []).append(self[question.key])
        return list(groups.items())

    def answers(self) -> dict[str, Any]:
        """The cleaned answers, shaped as the API takes them."""
        data = self.cleaned_data
        return {
            "concerns": list(data["concerns"]),
            "area": data["area"],
            "age": data["age"],
            "health": {q.key: ANSWER_VALUES[data.get(HEALTH_PREFIX + q.key) or ""] for q in self.questions},
            "condition": {
                q.key: ANSWER_VALUES[data.get(q.key) or ""] if q.kind == "yes_no" else data.get(q.key)
                for q in self.conditions
            },
            "expectation": data["expectation"],
        }


def form_errors_from_answers(error: InvalidInput) -> InvalidInput:
    """Service errors under the form's field names (the service names them as the API does: health.x)."""
    renamed = []
    for item in error.errors:
        name = item.field
        if name.startswith("health."):
            name = HEALTH_PREFIX + name.removeprefix("health.")
        elif name.startswith("condition."):
            name = name.removeprefix("condition.")
        elif name.startswith("concerns."):
            name = "concerns"
        renamed.append(FieldError(name, item.message))
    return InvalidInput(detail=error.detail, errors=renamed)


class EnquiryForm(TextForm):
    """Ask a clinic for a consultation. The service checks the rules (contact, consent, clinic)."""

    name = forms.CharField(label="Your name", max_length=200, required=False)
    email = forms.CharField(
        label="Email",
        max_length=254,
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        help_text="An email address or a phone number (or both), so the clinic can reach you.",
    )
    phone = forms.CharField(
        label="Phone",
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    site = forms.ModelChoiceField(
        label="Which clinic would you like?",
        queryset=public_clinics(),
        empty_label="Choose a clinic…",
        required=False,
    )
    preferred_times = forms.CharField(
        label="When is it best to contact you?",
        max_length=300,
        required=False,
        help_text="For example: weekday mornings, or after 5 pm.",
    )
    message = forms.CharField(
        label="Anything else you would like us to know?",
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    consent_to_contact = forms.BooleanField(
        label="I agree that the clinic may contact me about a consultation, by the email or phone I gave.",
        required=False,
    )

    def service_data(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class EnquiryStatusForm(TextForm):
    status = forms.ChoiceField(label="Status", choices=Enquiry.Status.choices)
    notes = forms.CharField(
        label="Add a note",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Saved with the date and your name.",
    )

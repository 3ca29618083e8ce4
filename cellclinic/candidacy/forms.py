"""The public questionnaire and consultation request, and the staff forms for the worklist."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from cellclinic.candidacy.engine import EXPECTATIONS, MAX_AGE, ConditionQuestion
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
# The condition questions are grouped by the family of concerns they are asked about; the group's heading
# names the concerns of the family the person chose ("About your burn and scarring").
CONCERN_FAMILIES = (("vitiligo", "hypopigmentation"), ("burn", "scar", "wound"))
CONCERN_NOUNS = {
    "burn": "burn",
    "scar": "scarring",
    "wound": "wound",
    "vitiligo": "vitiligo",
    "hypopigmentation": "light patches",
    "sun_damage": "sun damage",
    "premature_ageing": "skin ageing",
}
YES, NO, NOT_SURE = "yes", "no", "not_sure"
ANSWER_CHOICES = [(YES, "Yes"), (NO, "No"), (NOT_SURE, "Not sure")]
ANSWER_VALUES = {YES: True, NO: False, NOT_SURE: None, "": None}
# Reasons that describe the text given ("contains a line break"), rather than say what to do.
DESCRIBING_REASONS = ("contains ", "mixes ")
# A number question (months, weeks) is answered with a number or with this box ticked.
NOT_SURE_SUFFIX = "_not_sure"
NOT_SURE_LABEL = "I am not sure"
# More concern values than there are concerns is not a person choosing: the rest are not read.
MAX_CONCERN_VALUES = 2 * len(INDICATIONS)
# A value shown back in a field while the questions are redrawn is at most this long (an age, a number of
# weeks); anything longer is not an answer a person typed into these fields and is dropped.
MAX_REDISPLAY_LENGTH = 12


def chosen_concerns(values: Any) -> tuple[str, ...]:
    """The known concern codes among VALUES, in the vocabulary's order; anything else is ignored."""
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, (list, tuple)):
        return ()
    chosen = {value for value in values[:MAX_CONCERN_VALUES] if isinstance(value, str)}
    return tuple(code for code in INDICATIONS if code in chosen)


def _words(items: list[str]) -> str:
    """ITEMS as words: "a", "a and b", "a, b and c"."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _family(concern: str) -> tuple[str, ...]:
    return next((family for family in CONCERN_FAMILIES if concern in family), (concern,))


def _public_help(question: ConditionQuestion) -> str:
    """The reason a number question is asked, without advice to leave it empty: here a person who does
    not know ticks "I am not sure" instead."""
    sentences = [part for part in question.why.split(". ") if "leave empty" not in part.lower()]
    text = ". ".join(sentences).strip()
    return text if not text or text.endswith(".") else f"{text}."


class PublicFormMixin:
    """The public forms' error messages: whole sentences that start with a capital letter, and a summary
    at the top of the page that links to each field with a problem."""

    def add_error(self, field, error):
        # Checks shared with the API (the text rules, the services) word their reasons in lower case
        # ("contains a hidden ...", "must be ..."); on a public page each becomes a sentence naming the field.
        if isinstance(error, str) and field in self.fields and error[:1].islower():
            label = self.fields[field].label
            reason = error.rstrip(".")
            if reason.startswith(DESCRIBING_REASONS):
                error = f"The answer to “{label}” {reason}."
            else:
                error = f"Check your answer to “{label}”: {reason}."
        super().add_error(field, error)

    def _anchor(self, name: str) -> str:
        bound = self[name]
        if isinstance(bound.field.widget, (forms.RadioSelect, forms.CheckboxSelectMultiple)):
            return f"{bound.auto_id}_0"
        return bound.id_for_label

    def error_links(self) -> list[tuple[str, str]]:
        """(id of the input to go to, message) for each field error, in the order of the page."""
        return [
            (self._anchor(name), str(message))
            for name in self.fields
            for message in self.errors.get(name, [])
        ]


def _answer_messages(question: str) -> dict[str, str]:
    message = f"Answer the question “{question}” with yes, no or not sure."
    return {"required": message, "invalid_choice": message}


class AssessmentForm(PublicFormMixin, TextForm):
    """Am I a suitable candidate? Each health question says why it is asked.

    Only the questions that apply are part of the form: the condition questions of the concerns the
    person chose (rules.toml names the concerns each is asked for). A question that does not apply is
    neither shown nor required, and an answer posted for it is ignored; every question that applies
    needs an answer, where "Not sure" (or, for a number, ticking "I am not sure") is an answer, so the
    engine sees a considered "not sure" rather than a question that was skipped.

    The page shows the condition questions for the concerns chosen so far. With JavaScript, htmx asks
    `assess_questions` to redraw them whenever a concern is ticked or unticked, posting the answers typed
    so far so that none is lost. Without JavaScript the page offers a "Show the questions for my
    choices" button (inside <noscript>) that redraws the page the same way, and a submission whose
    concern questions have not been answered yet comes back with those questions shown and marked.
    Both ways a person sees only questions that apply to them, and no answer is stored until the whole
    form is sent.
    """

    concerns = forms.MultipleChoiceField(
        label="What would you like treated?",
        choices=CONCERN_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        help_text="Choose one or more. We then ask a few questions about each.",
        error_messages={
            "required": "Choose at least one concern.",
            "invalid_choice": "Choose each concern from the list.",
        },
    )
    area = forms.ChoiceField(
        label="Where on your body?",
        choices=[("", "Choose an area…"), *AREA_LABELS.items()],
        error_messages={
            "required": "Choose where on your body you would like treatment.",
            "invalid_choice": "Choose where on your body from the list.",
        },
    )
    age = forms.IntegerField(
        label="Your age in years",
        min_value=0,
        max_value=MAX_AGE,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={
            "required": "Enter your age in whole years.",
            "invalid": "Enter your age in whole years.",
            "min_value": f"Enter your age in whole years, from 0 to {MAX_AGE}.",
            "max_value": f"Enter your age in whole years, from 0 to {MAX_AGE}.",
        },
    )
    expectation = forms.ChoiceField(
        label="What are you hoping for?",
        choices=list(EXPECTATIONS.items()),
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose what you are hoping for.",
            "invalid_choice": "Choose what you are hoping for.",
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        rules = get_ruleset()
        self.questions = rules.questions
        concerns_field = self.fields["concerns"]
        if self.is_bound:
            raw = concerns_field.widget.value_from_datadict(
                self.data, self.files, self.add_prefix("concerns")
            )
        else:
            raw = self.initial.get("concerns")
        self.chosen = chosen_concerns(raw)
        self.conditions = rules.conditions_for(self.chosen)
        every_condition = condition_fields(
            rules, PUBLIC, yes_no_choices=ANSWER_CHOICES, yes_no_widget=forms.RadioSelect
        )
        health = health_fields(rules, PUBLIC, choices=ANSWER_CHOICES, widget=forms.RadioSelect)
        for question in self.questions:
            field = health[HEALTH_PREFIX + question.key]
            field.required = True
            field.error_messages.update(_answer_messages(question.question))
        expectation = self.fields.pop("expectation")
        # In the order of the page: the skin, the questions about the condition, health, hopes.
        for question in self.conditions:
            field = every_condition[question.key]
            if question.kind == "yes_no":
                field.required = True
                field.error_messages.update(_answer_messages(question.question))
                self.fields[question.key] = field
                continue
            unit = question.kind
            between = (
                f"Enter a whole number of {unit}, from 0 to {question.maximum}, for “{question.question}”."
            )
            field.help_text = _public_help(question)
            field.error_messages.update({"invalid": between, "min_value": between, "max_value": between})
            if field.help_text:
                field.widget.attrs["aria-describedby"] = f"{self.auto_id % question.key}_helptext"
            self.fields[question.key] = field
            self.fields[question.key + NOT_SURE_SUFFIX] = forms.BooleanField(
                label=NOT_SURE_LABEL,
                required=False,
                widget=forms.CheckboxInput(
                    attrs={"aria-describedby": f"{self.auto_id % question.key}_label"}
                ),
            )
        self.fields.update(health)
        self.fields["expectation"] = expectation

    @classmethod
    def redisplay(cls, data) -> "AssessmentForm":
        """An unbound form showing DATA's answers to the questions that apply, without judging them: the
        questions redrawn while a person is still choosing. Values that no field could hold are dropped."""
        bound = cls(data)
        initial: dict[str, Any] = {}
        for name, field in bound.fields.items():
            value = field.widget.value_from_datadict(bound.data, bound.files, bound.add_prefix(name))
            if isinstance(field, forms.MultipleChoiceField):
                initial[name] = list(chosen_concerns(value))
            elif isinstance(field, forms.BooleanField):
                initial[name] = bool(value)
            elif isinstance(field, forms.ChoiceField):
                if isinstance(value, str) and field.valid_value(value):
                    initial[name] = value
            elif isinstance(value, str) and len(value) <= MAX_REDISPLAY_LENGTH:
                initial[name] = value
        return cls(initial=initial)

    def clean(self):
        cleaned = super().clean()
        for question in self.conditions:
            if question.kind == "yes_no" or question.key in self.errors:
                continue
            number = cleaned.get(question.key)
            unsure = cleaned.get(question.key + NOT_SURE_SUFFIX)
            if number is None and not unsure:
                self.add_error(
                    question.key,
                    f"Enter the number of {question.kind} for “{question.question}”, "
                    f"or tick “{NOT_SURE_LABEL}”.",
                )
            elif number is not None and unsure:
                self.add_error(
                    question.key,
                    f"Enter the number of {question.kind} for “{question.question}” or tick "
                    f"“{NOT_SURE_LABEL}”, not both.",
                )
        return cleaned

    @property
    def health_fields(self):
        return [self[HEALTH_PREFIX + question.key] for question in self.questions]

    @property
    def condition_fields(self):
        return [self[question.key] for question in self.conditions]

    @property
    def chosen_labels(self) -> str:
        """The chosen concerns in a few words ("sun damage and skin ageing")."""
        return _words([CONCERN_NOUNS.get(code, INDICATIONS[code].lower()) for code in self.chosen])

    @property
    def announcement(self) -> str:
        """What changed when the questions are redrawn, for a screen reader to say."""
        asked = {concern for question in self.conditions for concern in question.concerns} & set(self.chosen)
        if asked:
            nouns = [
                CONCERN_NOUNS.get(code, INDICATIONS[code].lower()) for code in self.chosen if code in asked
            ]
            return f"Questions about your {_words(nouns)} are below."
        if self.chosen:
            return f"There are no more questions about {self.chosen_labels}."
        return "Choose what you would like treated to see questions about it."

    @property
    def condition_groups(self) -> list[dict[str, Any]]:
        """The questions that apply, by family of concerns, in file order: each group's heading names the
        chosen concerns it is about; each question comes with its "I am not sure" box (numbers only)."""
        groups: dict[tuple[str, ...], list] = {}
        for question in self.conditions:
            unsure = question.key + NOT_SURE_SUFFIX
            entry = (self[question.key], self[unsure] if unsure in self.fields else None)
            groups.setdefault(_family(question.concerns[0]), []).append(entry)
        return [
            {
                "heading": "About your "
                + _words([CONCERN_NOUNS.get(c, INDICATIONS[c].lower()) for c in family if c in self.chosen]),
                "questions": questions,
            }
            for family, questions in groups.items()
        ]

    def _condition_answer(self, question: ConditionQuestion) -> Any:
        value = self.cleaned_data.get(question.key)
        if question.kind == "yes_no":
            return ANSWER_VALUES[value or ""]
        return None if self.cleaned_data.get(question.key + NOT_SURE_SUFFIX) else value

    def answers(self) -> dict[str, Any]:
        """The cleaned answers, shaped as the API takes them; a question that does not apply is left out
        (the service reads it as not answered, and the engine only reads the questions that apply)."""
        data = self.cleaned_data
        return {
            "concerns": list(data["concerns"]),
            "area": data["area"],
            "age": data["age"],
            "health": {q.key: ANSWER_VALUES[data.get(HEALTH_PREFIX + q.key) or ""] for q in self.questions},
            "condition": {q.key: self._condition_answer(q) for q in self.conditions},
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


class EnquiryForm(PublicFormMixin, TextForm):
    """Ask a clinic for a consultation. The form words each problem for the person; the service checks
    the same rules again (contact, consent, clinic) for the API."""

    name = forms.CharField(
        label="Your name",
        max_length=200,
        required=False,
        error_messages={"max_length": "Enter your name in 200 characters or fewer."},
    )
    email = forms.CharField(
        label="Email",
        max_length=254,
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        help_text="An email address or a phone number (or both), so the clinic can reach you.",
        error_messages={"max_length": "Enter an email address of 254 characters or fewer."},
    )
    phone = forms.CharField(
        label="Phone",
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
        error_messages={"max_length": "Enter a phone number of 40 characters or fewer."},
    )
    site = forms.ModelChoiceField(
        label="Which clinic would you like?",
        queryset=public_clinics(),
        empty_label="Choose a clinic…",
        required=False,
        error_messages={"invalid_choice": "Choose a clinic from the list."},
    )
    preferred_times = forms.CharField(
        label="When is it best to contact you?",
        max_length=300,
        required=False,
        help_text="For example: weekday mornings, or after 5 pm.",
        error_messages={"max_length": "Enter when it is best to contact you in 300 characters or fewer."},
    )
    message = forms.CharField(
        label="Anything else you would like us to know?",
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={
            "max_length": "Enter anything else you would like us to know in 4000 characters or fewer."
        },
    )
    consent_to_contact = forms.BooleanField(
        label="I agree that the clinic may contact me about a consultation, by the email or phone I gave.",
        required=False,
    )

    def clean(self):
        cleaned = super().clean()
        if "name" not in self.errors and not (cleaned.get("name") or "").strip():
            self.add_error("name", "Enter your name.")
        email = (cleaned.get("email") or "").strip()
        phone = (cleaned.get("phone") or "").strip()
        if "email" not in self.errors and email:
            try:
                validate_email(email)
            except ValidationError:
                self.add_error("email", "Enter an email address in the right form, like name@example.org.")
        if not email and not phone and "email" not in self.errors and "phone" not in self.errors:
            self.add_error("email", "Enter an email address or a phone number, so the clinic can reach you.")
        if "site" not in self.errors and cleaned.get("site") is None:
            self.add_error("site", "Choose a clinic.")
        if not cleaned.get("consent_to_contact"):
            self.add_error("consent_to_contact", "Tick the box to agree that the clinic may contact you.")
        return cleaned

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

"""Forms for the consultation sections; the services do the checking and writing."""

from dataclasses import dataclass
from decimal import Decimal

from django import forms

from cellclinic.candidacy.engine import MAX_AGE
from cellclinic.candidacy.questionnaire import HEALTH_PREFIX, STAFF, condition_fields, health_fields
from cellclinic.candidacy.services import get_ruleset
from cellclinic.catalogue.vocabulary import ALLERGY_ITEMS, FITZPATRICK, INDICATIONS
from cellclinic.consultations.models import Consultation
from cellclinic.consultations.severity import (
    LEGACY_SCALES,
    SCALES,
    Descriptor,
    Item,
    SeverityScale,
    descriptors_for,
    scales_for,
)
from cellclinic.core.errors import InvalidInput
from cellclinic.core.forms import TextForm, password_field, tristate_value

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


class GoalsForm(TextForm):
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


ITEM_OF_ANOTHER_SCALE = "not saved: choose the {label} as the severity scale to save it, or clear it"
ITEM_SEPARATOR = "__"  # an item's input is named <scale code>__<item key>
MAX_SELECT_VALUES = 12  # items with more values than this are typed in


def _plain(value) -> str:
    return "" if value is None else format(Decimal(str(value)).normalize(), "f")


def _item_field(item: Item) -> forms.CharField:
    """A select of the item's values with their meaning, or a number box for decimals."""
    values = item.values()
    unit = f" {item.unit}" if item.unit == "%" else ""
    if values and len(values) <= MAX_SELECT_VALUES:
        choices = [("", "—")]
        for value in values:
            meaning = item.level(value)
            choices.append((str(value), f"{value}{unit}" + (f": {meaning}" if meaning else "")))
        widget = forms.Select(choices=choices)
        help_text = ""
    else:
        widget = forms.TextInput(attrs={"inputmode": "decimal", "size": 6})
        help_text = f"{item.range_text}" + (f" {item.unit}" if item.unit else "")
    return forms.CharField(label=item.label, required=False, widget=widget, help_text=help_text)


def _descriptor_field(descriptor: Descriptor) -> forms.CharField:
    if descriptor.choices:
        choices = [("", "Not recorded"), *descriptor.choices.items()]
        return forms.CharField(label=descriptor.label, required=False, widget=forms.Select(choices=choices))
    mode = "numeric" if descriptor.whole else "decimal"
    return forms.CharField(
        label=descriptor.label,
        required=False,
        max_length=12,
        widget=forms.TextInput(attrs={"inputmode": mode}),
        help_text=f"{_plain(descriptor.minimum)} to {_plain(descriptor.maximum)}",
    )


@dataclass
class ScaleSection:
    """One scale's item inputs on the findings form, grouped as the scale groups them."""

    scale: SeverityScale
    groups: list[tuple[str, list]]
    chosen: bool
    open: bool  # shown unfolded: the chosen scale, one with errors, or the usual one when none is chosen


class FindingsForm(TextForm):
    """The findings: indication, skin type, the severity scale with its items, a burn's or a wound's
    description, and notes.

    The item inputs offered are those of the scales for the consultation's recorded indication (record
    a new indication first to see its scales); only the items of the chosen scale are saved.
    """

    indication = forms.ChoiceField(
        label="Indication",
        required=False,
        choices=[("", "Not recorded"), *INDICATIONS.items()],
        help_text="Save a new indication first to see its severity scales.",
    )
    fitzpatrick_type = forms.ChoiceField(
        label="Fitzpatrick skin type", required=False, choices=[("", "Not recorded"), *FITZPATRICK.items()]
    )
    severity_scale = forms.ChoiceField(
        label="Severity scale",
        required=False,
        help_text="Score every item of the chosen scale below; its total is computed.",
    )
    findings = forms.CharField(
        label="Findings", required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 4})
    )

    def __init__(self, *args, consultation: Consultation, **kwargs):
        super().__init__(*args, **kwargs)
        self.consultation = consultation
        stored = consultation.severity_scale
        self.scales = list(scales_for(consultation.indication))
        if stored in SCALES and SCALES[stored] not in self.scales:
            self.scales.append(SCALES[stored])  # recorded under an earlier table: kept while unchanged
        choices = [("", "Not recorded"), *((scale.code, scale.label) for scale in self.scales)]
        if stored in LEGACY_SCALES:
            choices.append((stored, f"{LEGACY_SCALES[stored].label} (total only)"))
        self.fields["severity_scale"].choices = choices
        for scale in self.scales:
            for item in scale.items:
                self.fields[self.item_name(scale.code, item.key)] = _item_field(item)
        self.descriptors = descriptors_for(consultation.indication)
        for descriptor in self.descriptors:
            self.fields[descriptor.key] = _descriptor_field(descriptor)
        # The recorded values, for the inputs and to tell which inputs were changed.
        self.initial = {**self.initial_from(consultation), **self.initial}

    @staticmethod
    def item_name(code: str, key: str) -> str:
        return f"{code}{ITEM_SEPARATOR}{key}"

    def initial_from(self, consultation: Consultation) -> dict:
        initial = {
            "indication": consultation.indication,
            "fitzpatrick_type": consultation.fitzpatrick_type,
            "severity_scale": consultation.severity_scale,
            "findings": consultation.findings,
        }
        for key, value in (consultation.severity_items or {}).items():
            initial[self.item_name(consultation.severity_scale, key)] = _plain(value)
        for descriptor in self.descriptors:
            value = getattr(consultation, descriptor.key)
            initial[descriptor.key] = value if descriptor.choices else _plain(value)
        return initial

    def clean(self):
        """Items scored on a scale other than the chosen one would be lost: each is refused by name."""
        data = super().clean()
        chosen = data.get("severity_scale", "")
        changed = set(self.changed_data)
        for scale in self.scales:
            if scale.code == chosen:
                continue
            for item in scale.items:
                name = self.item_name(scale.code, item.key)
                if name in changed and (data.get(name) or "").strip():
                    self.add_error(name, ITEM_OF_ANOTHER_SCALE.format(label=scale.label))
        return data

    @property
    def chosen_scale(self) -> str:
        return self["severity_scale"].value() or ""

    def scale_sections(self) -> list[ScaleSection]:
        sections = []
        for scale in self.scales:
            groups = []
            for prefix, heading in scale.groups or (("", ""),):
                fields = [
                    self[self.item_name(scale.code, item.key)]
                    for item in scale.items
                    if item.key.startswith(prefix)
                ]
                groups.append((heading, fields))
            has_errors = any(field.errors for _, fields in groups for field in fields)
            chosen = scale.code == self.chosen_scale
            shown = chosen or has_errors or (not self.chosen_scale and scale is self.scales[0])
            sections.append(ScaleSection(scale, groups, chosen, shown))
        return sections

    def descriptor_fields(self) -> list:
        return [self[descriptor.key] for descriptor in self.descriptors]

    def service_data(self) -> dict:
        names = ("indication", "severity_scale", "fitzpatrick_type", "findings")
        data = {name: self.cleaned_data[name] for name in names}
        scale = SCALES.get(data["severity_scale"])
        if scale is not None and scale in self.scales:
            data["severity_items"] = {
                item.key: self.cleaned_data[self.item_name(scale.code, item.key)] for item in scale.items
            }
        for descriptor in self.descriptors:
            data[descriptor.key] = self.cleaned_data[descriptor.key]
        return data

    def add_service_errors(self, error: InvalidInput) -> None:
        """The service's errors next to their inputs: an item's next to the item of the chosen scale."""
        code = self.cleaned_data.get("severity_scale", "")
        for item in error.errors:
            name = item.field
            if name.startswith("severity_items."):
                name = self.item_name(code, name.removeprefix("severity_items."))
            self.add_error(name if name in self.fields else None, item.message)
        if not error.errors:
            self.add_error(None, error.detail)


class CandidacyForm(TextForm):
    """The candidacy questions, answered by the practitioner; prefilled from the chart."""

    concerns = forms.MultipleChoiceField(
        label="Concerns", choices=list(INDICATIONS.items()), widget=forms.CheckboxSelectMultiple
    )
    area = forms.ChoiceField(label="Area", choices=list(AREAS.items()))
    age = forms.IntegerField(label="Age (years)", min_value=0, max_value=MAX_AGE)
    expectation = forms.ChoiceField(label="Expectation stated", choices=list(EXPECTATIONS.items()))
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

    @property
    def condition_fields(self):
        return [self[question.key] for question in self.conditions]

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


class AlternativesForm(TextForm):
    alternatives_discussed = forms.MultipleChoiceField(
        label="Alternatives discussed", required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, alternatives=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["alternatives_discussed"].choices = [(a.code, a.name) for a in alternatives]


class DecisionForm(TextForm):
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


class ExpectationsForm(TextForm):
    """The practitioner confirms the expectation sheet of the latest assessment was discussed."""

    discussed = forms.BooleanField(
        label="The expectation sheet was discussed with the patient",
        error_messages={"required": "tick to record that the sheet was discussed, or go back to it later"},
    )

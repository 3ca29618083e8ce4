"""The forms of the lab's actions: each gathers what one service takes, and the service checks and writes.

A form checks only that each value reads as what it is (a number, a date, a choice offered); what the
value means (a temperature outside the shipment's range, a dose more than planned) is the service's
to judge, and its errors land beside the same fields. Field names are the services' argument names,
so an InvalidInput's field errors find their inputs.
"""

from collections.abc import Mapping
from datetime import datetime

from django import forms
from django.utils import timezone

from cellclinic.core.forms import TextForm, password_field
from cellclinic.lab import services
from cellclinic.lab.donor import DONOR_TESTS, MAX_RESULT_LENGTH
from cellclinic.lab.models import Specimen

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
ACCEPT, REJECT = "accept", "reject"
# What a scanner types is letters, digits, dashes and "="; the phone's keyboard should not correct it.
SCANNED = {
    "inputmode": "text",
    "autocapitalize": "characters",
    "autocomplete": "off",
    "autocorrect": "off",
    "spellcheck": "false",
}


def _temperature(label: str, help_text: str = "") -> forms.DecimalField:
    """A temperature in °C to a tenth; its range is the service's to judge."""
    return forms.DecimalField(
        label=label,
        help_text=help_text,
        widget=forms.NumberInput(attrs={"step": "0.1", "inputmode": "decimal"}),
    )


def _reason(label: str = "Reason", help_text: str = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=services.MAX_TEXT,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


def _whole(
    label: str, *, low: int, high: int, required: bool = True, help_text: str = ""
) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        required=required,
        min_value=low,
        max_value=high,
        help_text=help_text,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )


class LabForm(TextForm):
    """A lab action's form. CHOICE_GROUPS names the fields shown as a group of radios or check boxes."""

    choice_groups: frozenset[str] = frozenset()

    def service_data(self) -> dict:
        """The cleaned values as the service's keyword arguments."""
        return dict(self.cleaned_data)


# --- the clinic -------------------------------------------------------------------------------------------


class HarvestForm(LabForm):
    """A harvest at the clinic: what was taken, from where, and when."""

    kind = forms.ChoiceField(label="Kind of sample", choices=Specimen.Kind.choices)
    body_site = forms.CharField(
        label="Taken from", max_length=120, help_text="Where on the body, for example behind the left ear."
    )
    size = forms.CharField(label="Size", max_length=60, help_text="For example: 3 punches of 3 mm.")
    collected_on = forms.DateField(label="Collected on", widget=DATE_INPUT)
    collected_time = forms.TimeField(
        label="Collected at (time)",
        input_formats=["%H:%M"],
        help_text="On the 24-hour clock, for example 14:30.",
        widget=forms.TimeInput(format="%H:%M", attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )

    def service_data(self) -> dict:
        data = self.cleaned_data
        moment = datetime.combine(data["collected_on"], data["collected_time"])
        return {
            "kind": data["kind"],
            "body_site": data["body_site"],
            "size": data["size"],
            "collected_at": timezone.make_aware(moment),
        }


class PackForm(LabForm):
    """A box for the courier, with the temperature range it must keep."""

    courier = forms.CharField(label="Courier", max_length=120)
    tracking = forms.CharField(label="Tracking number", max_length=80, required=False)
    temperature_min_c = _temperature("Lowest temperature allowed (°C)")
    temperature_max_c = _temperature("Highest temperature allowed (°C)")


class ProductPackForm(PackForm):
    """Released products packed at the lab for a clinic: which ones, and (donor products) which clinic."""

    choice_groups = frozenset({"products"})
    field_order = ["products", "clinic"]

    products = forms.MultipleChoiceField(label="Products to pack", widget=forms.CheckboxSelectMultiple)
    clinic = forms.TypedChoiceField(label="Send to", coerce=int, required=False)

    def __init__(self, *args, products, clinics=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["products"].choices = [(str(p.pk), f"{p.din} (dose {p.dose_number})") for p in products]
        self.initial.setdefault("products", [str(p.pk) for p in products])
        if clinics:
            self.fields["clinic"].choices = [("", "Choose the clinic")] + [(c.pk, c.name) for c in clinics]
            self.fields["clinic"].required = True
        else:
            del self.fields["clinic"]


class DispatchForm(LabForm):
    temperature_c = _temperature("Temperature at dispatch (°C)")


class ReceiveForm(LabForm):
    """A shipment's arrival: its temperature and condition, and whether its contents are taken in."""

    choice_groups = frozenset({"accepted"})

    accepted = forms.ChoiceField(label="The contents", widget=forms.RadioSelect)
    temperature_c = _temperature("Temperature on arrival (°C)")
    condition = forms.CharField(
        label="Condition", max_length=200, help_text="For example: sealed, cold packs intact."
    )
    reason = forms.CharField(
        label="Reason, when not accepted",
        required=False,
        max_length=services.MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, at_clinic: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["accepted"].choices = (
            [(ACCEPT, "Received and accepted"), (REJECT, "Held in quarantine for the lab to decide")]
            if at_clinic
            else [(ACCEPT, "Received and accepted"), (REJECT, "Rejected")]
        )

    def service_data(self) -> dict:
        data = self.cleaned_data
        return {
            "accepted": data["accepted"] == ACCEPT,
            "temperature_c": data["temperature_c"],
            "condition": data["condition"],
            "reason": data["reason"],
        }


class ReasonForm(LabForm):
    reason = _reason()

    def __init__(self, *args, label: str = "Reason", help_text: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].label = label
        self.fields["reason"].help_text = help_text


# --- the lab ----------------------------------------------------------------------------------------------


class BatchPlanForm(LabForm):
    doses = _whole("Doses", low=1, high=services.MAX_DOSES, help_text="How many doses the batch is to make.")
    wanted = forms.DateField(
        label="Not before",
        required=False,
        widget=DATE_INPUT,
        help_text="Leave empty for the earliest free processing slot from today.",
    )


class BatchStartForm(LabForm):
    choice_groups = frozenset({"reagent_lots"})

    reagent_lots = forms.TypedMultipleChoiceField(
        label="Reagent lots used",
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Each lot is traced to every product it touches.",
    )

    def __init__(self, *args, lots=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reagent_lots"].choices = [(lot.pk, str(lot)) for lot in lots]
        if not lots:
            del self.fields["reagent_lots"]


class StepForm(LabForm):
    name = forms.CharField(label="Step", max_length=120, help_text="For example: Passage 2, or Harvest.")
    passage = _whole("Passage", low=0, high=services.MAX_PASSAGE, required=False)
    cell_count = _whole(
        "Viable cells counted",
        low=0,
        high=services.MAX_CELL_COUNT,
        required=False,
        help_text="The whole number, for example 12000000.",
    )
    viability_percent = forms.DecimalField(
        label="Viability (%)",
        required=False,
        widget=forms.NumberInput(attrs={"step": "0.1", "inputmode": "decimal"}),
    )
    note = forms.CharField(
        label="Note", required=False, max_length=services.MAX_TEXT, widget=forms.Textarea(attrs={"rows": 2})
    )


class DeviationForm(LabForm):
    description = _reason("What departed from the protocol")
    reason = _reason("Why, and what was done")


class FinishForm(LabForm):
    doses_made = _whole("Doses made", low=1, high=services.MAX_DOSES)
    banked_vials = _whole(
        "Vials of cells banked",
        low=0,
        high=services.MAX_BANKED_VIALS,
        help_text="Cells kept frozen for later doses, until the end of the storage consent.",
    )


class QCResultForm(LabForm):
    """One result of one release criterion (TEST), judged by the service as it is entered."""

    test = forms.CharField(widget=forms.HiddenInput, max_length=120)
    value = forms.CharField(label="Result", max_length=120)
    unit = forms.CharField(label="Unit", max_length=40, required=False)


class QCCorrectForm(LabForm):
    value = forms.CharField(label="Corrected result", max_length=120)
    unit = forms.CharField(label="Unit", max_length=40, required=False)
    reason = _reason("Why it is corrected")


class SignForm(LabForm):
    """An electronic signature: the reviewer's password again."""

    password = password_field()


class ReasonSignForm(SignForm):
    field_order = ["reason", "password"]

    reason = _reason()


class ConfirmForm(LabForm):
    """An action that takes nothing but the button pressed."""


# --- reagent and donor lots -------------------------------------------------------------------------------


class LotForm(LabForm):
    """A lot recorded at a lab: which lab is asked only of someone who works at more than one (LABS)."""

    lab = forms.TypedChoiceField(label="Lab", coerce=int)

    def __init__(self, *args, labs, **kwargs):
        super().__init__(*args, **kwargs)
        self.labs = list(labs)
        if len(self.labs) > 1:
            self.fields["lab"].choices = [("", "Choose the lab")] + [(lab.pk, lab.name) for lab in self.labs]
        else:
            del self.fields["lab"]

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        chosen = data.pop("lab", None)
        data["lab"] = next((lab for lab in self.labs if lab.pk == chosen), self.labs[0])
        return data


class ReagentLotForm(LotForm):
    field_order = ["lab", "name", "lot_number", "expires_on"]

    name = forms.CharField(
        label="Reagent or medium", max_length=120, help_text="For example: DMEM culture medium."
    )
    lot_number = forms.CharField(label="Lot number", max_length=40)
    expires_on = forms.DateField(
        label="Expires on",
        required=False,
        widget=DATE_INPUT,
        help_text="Leave empty when the lot has no expiry date. A lot past its expiry is not offered "
        "when processing starts.",
    )


class ScreeningFields:
    """One optional field a donor test, for its result as the report gives it."""

    screening_tests = frozenset(DONOR_TESTS)

    def _add_screening_fields(self) -> None:
        for test, label in DONOR_TESTS.items():
            self.fields[test] = forms.CharField(label=label, max_length=MAX_RESULT_LENGTH, required=False)

    def screening_fields(self) -> list:
        return [self[test] for test in DONOR_TESTS]


class DonorLotForm(ScreeningFields, LotForm):
    """A lot of donor cells with its donor screening results as far as they are known (one field a test)."""

    field_order = ["lab", "lot_number", "therapy_code", "expires_on", "quantity"]

    lot_number = forms.CharField(label="Lot number", max_length=40)
    therapy_code = forms.ChoiceField(label="Therapy")
    expires_on = forms.DateField(label="Expires on", widget=DATE_INPUT)
    quantity = _whole(
        "Quantity", low=1, high=services.MAX_LOT_QUANTITY, help_text="How many doses or vials the lot holds."
    )

    def __init__(self, *args, therapies, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["therapy_code"].choices = [("", "Choose the therapy"), *therapies]
        self._add_screening_fields()

    def service_data(self) -> dict:
        data = super().service_data()
        results = {test: data.pop(test) for test in DONOR_TESTS}
        data["screening"] = {test: result for test, result in results.items() if result}
        return data


NOT_REMOVED = "A recorded result cannot be removed: type the result that replaces it, or leave it as it was."
NOTHING_NEW = "Type the result of a test that has none yet, or change one that is recorded."


class DonorScreeningForm(ScreeningFields, LabForm):
    """Results of a donor lot's tests that came after the lot was recorded; a result already RECORDED
    (test -> result) is filled in, and changing it replaces it. Only what is new or changed is sent."""

    def __init__(self, *args, recorded: Mapping, **kwargs):
        super().__init__(*args, **kwargs)
        self._add_screening_fields()
        # Only a result written as text can be shown in its field; any other is listed above the form.
        known = recorded.items() if isinstance(recorded, Mapping) else ()
        self.recorded = {test: result for test, result in known if isinstance(result, str)}
        for test in DONOR_TESTS:
            if test in self.recorded:
                self.fields[test].initial = self.recorded[test]

    def clean(self):
        data = super().clean()
        for test in DONOR_TESTS:
            if test in self.recorded and test in data and not data[test]:
                self.add_error(test, NOT_REMOVED)
        if not self.errors and not self._changed():
            raise forms.ValidationError(NOTHING_NEW)
        return data

    def _changed(self) -> dict[str, str]:
        typed = {test: self.cleaned_data.get(test) or "" for test in DONOR_TESTS}
        return {
            test: result for test, result in typed.items() if result and result != self.recorded.get(test)
        }

    def service_data(self) -> dict:
        return {"results": self._changed()}


# --- the bedside ------------------------------------------------------------------------------------------


class BedsideForm(LabForm):
    """The patient's MRN and the product's DIN, scanned or typed."""

    mrn = forms.CharField(
        label="Patient's MRN",
        max_length=40,
        help_text="Scan the patient's wristband, or type the MRN, for example NCL-000042-X.",
        widget=forms.TextInput(attrs={**SCANNED, "enterkeyhint": "next"}),
    )
    din = forms.CharField(
        label="Product's DIN",
        max_length=40,
        help_text="Scan the product label's barcode, or type the 13 characters of the DIN printed under it.",
        widget=forms.TextInput(attrs={**SCANNED, "enterkeyhint": "go"}),
    )

    def __init__(self, *args, focus: str = "mrn", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields[focus].widget.attrs["autofocus"] = True

    def half_scanned(self) -> bool:
        """True when the MRN is in and the DIN still to come: a scanner's Enter after the wristband."""
        return bool(self.data.get("mrn", "").strip()) and not self.data.get("din", "").strip()

"""Forms for registering, correcting and signing patient records; the services do the writing."""

from django import forms
from django.utils import timezone

from cellclinic.accounts.models import Site
from cellclinic.catalogue.vocabulary import ALLERGY_ITEMS, HISTORY_ITEMS, ScreeningItem
from cellclinic.core.forms import TextForm, TextModelForm
from cellclinic.patients.models import Patient
from cellclinic.patients.services import EDITABLE_FIELDS

SEARCH_LABEL = "Search patients by name, MRN or date of birth"


class PatientForm(TextModelForm):
    """The editable part of a patient record; a site choice only for staff of several clinics."""

    history = forms.MultipleChoiceField(
        label="Relevant history",
        choices=[(item.code, item.label) for item in HISTORY_ITEMS],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    allergies = forms.MultipleChoiceField(
        label="Allergies",
        choices=[(item.code, item.label) for item in ALLERGY_ITEMS],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    class Meta:
        model = Patient
        fields = EDITABLE_FIELDS
        labels = {
            "date_of_birth": "Date of birth",
            "sex_at_birth": "Sex at birth",
            "email": "Email",
            "concern_details": "Details of the concern",
            "history_notes": "Notes on the history",
            "allergy_notes": "Other allergies, or notes",
        }
        widgets = {
            "date_of_birth": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
            "address": forms.Textarea(attrs={"rows": 3, "autocomplete": "street-address"}),
            "postcode": forms.TextInput(attrs={"autocomplete": "postal-code"}),
            "concern_details": forms.Textarea(attrs={"rows": 3}),
            "history_notes": forms.Textarea(attrs={"rows": 3}),
            "allergy_notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, clinics: list[Site] | None = None, with_reason: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["date_of_birth"].widget.attrs["max"] = timezone.localdate().isoformat()
        self.fields["given_name"].widget.attrs["autocomplete"] = "off"
        self.fields["family_name"].widget.attrs["autocomplete"] = "off"
        if clinics is not None and len(clinics) > 1:
            self.fields["site"] = forms.ModelChoiceField(
                label="Clinic",
                queryset=Site.objects.filter(pk__in=[clinic.pk for clinic in clinics]).order_by("name"),
                empty_label="Choose the clinic…",
            )
        if with_reason:
            self.fields["version"] = forms.CharField(widget=forms.HiddenInput, required=False)
            # Required when anything changes (the service says so, by this field's name).
            self.fields["reason"] = forms.CharField(
                label="Reason for change",
                required=False,
                max_length=500,
                widget=forms.TextInput(),
                help_text="Required when you change anything; kept with the change in the audit trail.",
            )

    def service_data(self) -> dict:
        """The cleaned values of the editable fields, as the services take them."""
        return {name: self.cleaned_data[name] for name in EDITABLE_FIELDS}

    def _screening_pairs(self, name: str, items: tuple[ScreeningItem, ...]):
        by_code = {item.code: item for item in items}
        return [(option, by_code[option.data["value"]]) for option in self[name]]

    @property
    def history_options(self):
        """Each history checkbox with its item, so the template can show why it matters."""
        return self._screening_pairs("history", HISTORY_ITEMS)

    @property
    def allergy_options(self):
        return self._screening_pairs("allergies", ALLERGY_ITEMS)


class SignReviewForm(TextForm):
    """A practitioner's re-entered password, for the 'reviewed' signature on history and allergies."""

    password = forms.CharField(
        label="Your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text="Signing is the same as your handwritten signature; enter your password to confirm.",
    )

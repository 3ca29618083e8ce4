from django import forms

from cellclinic.accounts.models import User
from cellclinic.audit.selectors import (
    AuditFilters,
    audit_filters_check,
    audit_patient_resolve,
    object_type_choices,
)
from cellclinic.core.errors import InvalidInput
from cellclinic.core.forms import TextForm


class _DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self):
        super().__init__(format="%Y-%m-%d")


LOG_CHANGES = "changes"
LOG_ACCESS = "access"


class AuditFilterForm(TextForm):
    """The audit page's filters; dates are days in the clinic's local time."""

    log = forms.ChoiceField(
        required=False,
        label="Show",
        choices=[(LOG_CHANGES, "Changes"), (LOG_ACCESS, "Reads and sign-ins")],
        help_text="Changes to records, or who read health records and who signed in",
    )
    patient = forms.CharField(
        required=False, max_length=40, label="Patient", help_text="Medical record number or patient id"
    )
    user = forms.CharField(required=False, max_length=150, label="User", help_text="Username of who acted")
    object_type = forms.ChoiceField(required=False, label="Object type")
    object_id = forms.CharField(required=False, max_length=64, label="Object id")
    date_from = forms.DateField(required=False, label="From", widget=_DateInput())
    date_to = forms.DateField(required=False, label="To", widget=_DateInput())

    def __init__(self, *args, reader: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.reader = reader
        self.fields["object_type"].choices = [("", "Any type"), *object_type_choices()]

    def clean_patient(self) -> int | None:
        text = self.cleaned_data["patient"].strip()
        if not text:
            return None
        try:
            return audit_patient_resolve(self.reader, text)
        except InvalidInput as exc:
            raise forms.ValidationError(exc.errors[0].message) from exc

    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            try:
                audit_filters_check(self.filters())
            except InvalidInput as exc:
                for error in exc.errors:
                    self.add_error(error.field, error.message)
        return cleaned

    def shows_access(self) -> bool:
        return self.is_valid() and self.cleaned_data.get("log") == LOG_ACCESS

    def filters(self) -> AuditFilters:
        data = self.cleaned_data
        return AuditFilters(
            patient_id=data.get("patient"),
            user=data.get("user", "").strip(),
            object_type=data.get("object_type", ""),
            object_id=data.get("object_id", "").strip(),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )

"""Forms for signing and withdrawing consent; the services do the checking and writing."""

from django import forms

from cellclinic.core.forms import YES_NO, password_field, tristate_value


class _ChoicesForm(forms.Form):
    photographs = forms.ChoiceField(
        label="Photographs for my clinical record", choices=YES_NO, widget=forms.RadioSelect
    )
    outcome_reports = forms.ChoiceField(
        label="Anonymous use of my outcomes in reports", choices=YES_NO, widget=forms.RadioSelect
    )
    understood = forms.BooleanField(label="I have read and understood this consent", required=False)

    def choices(self) -> dict:
        data = self.cleaned_data
        return {
            "photographs": tristate_value(data.get("photographs", "")),
            "outcome_reports": tristate_value(data.get("outcome_reports", "")),
            "understood": bool(data.get("understood")),
        }


class ConsentSignForm(_ChoicesForm):
    """The patient's own signature in the portal."""

    password = password_field()


class ConsentInClinicForm(_ChoicesForm):
    """The patient types their name on the clinic's tablet; the practitioner confirms with a password."""

    patient_name = forms.CharField(label="Patient: type your full name", max_length=300)
    password = password_field("Practitioner's password (witness)")


class CountersignForm(forms.Form):
    password = password_field()


class WithdrawStaffForm(forms.Form):
    reason = forms.CharField(
        label="Why the consent is withdrawn", max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )


class WithdrawPatientForm(forms.Form):
    reason = forms.CharField(
        label="Anything you would like to tell us (optional)",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    password = forms.CharField(
        label="Your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text="To make sure it is really you.",
    )

"""Forms for signing and withdrawing consent; the services do the checking and writing."""

from django import forms

from cellclinic.consents import services
from cellclinic.consents.models import Consent
from cellclinic.core.forms import YES_NO, TextForm, password_field, tristate_value


class _ChoicesForm(TextForm):
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


class ConsentGuardianForm(_ChoicesForm):
    """A young person's consent at the clinic: the parent or guardian consents and signs by typing their
    name, the young person gives their assent by typing theirs, the practitioner witnesses.

    A missing part is named here with the service's own message, beside the choices and the password,
    so one submission shows everything left to do; the service checks all of it again.
    """

    guardian_name = forms.CharField(
        label="Parent or guardian: full name",
        max_length=200,
        error_messages={"required": services.GUARDIAN_NAME_REQUIRED},
    )
    guardian_relationship = forms.ChoiceField(
        label="Their relationship to the young person",
        choices=[("", "Choose…"), *Consent.Relationship.choices],
        error_messages={
            "required": services.RELATIONSHIP_REQUIRED,
            "invalid_choice": services.RELATIONSHIP_REQUIRED,
        },
    )
    guardian_signature = forms.CharField(
        label="Parent or guardian: type your full name to sign",
        max_length=200,
        error_messages={"required": services.GUARDIAN_SIGNATURE_REQUIRED},
    )
    assent = forms.BooleanField(
        label="The young person agrees to have this treatment (their assent)",
        error_messages={"required": services.ASSENT_REQUIRED},
    )
    young_person_name = forms.CharField(
        label="Young person: type your full name to confirm you agree",
        max_length=300,
        error_messages={"required": services.YOUNG_PERSON_NAME_REQUIRED},
    )
    password = password_field("Practitioner's password (witness)")

    understood = forms.BooleanField(label="We have read and understood this consent", required=False)

    def guardian(self) -> dict:
        data = self.cleaned_data
        return {
            "guardian_name": data.get("guardian_name", ""),
            "guardian_relationship": data.get("guardian_relationship", ""),
            "guardian_signature": data.get("guardian_signature", ""),
            "assent": bool(data.get("assent")),
            "young_person_name": data.get("young_person_name", ""),
        }


class CountersignForm(TextForm):
    password = password_field()


class WithdrawStaffForm(TextForm):
    reason = forms.CharField(
        label="Why the consent is withdrawn", max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )


class WithdrawPatientForm(TextForm):
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

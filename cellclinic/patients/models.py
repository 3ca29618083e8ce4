"""The patient registry."""

from django.conf import settings
from django.db import models

from cellclinic.accounts.access import SiteScopedManager
from cellclinic.catalogue.vocabulary import FITZPATRICK, INDICATIONS


class Patient(models.Model):
    """A person registered at one clinic, with the history that matters for cell therapy."""

    class SexAtBirth(models.TextChoices):
        FEMALE = "female", "Female"
        MALE = "male", "Male"
        INTERSEX = "intersex", "Intersex"
        NOT_RECORDED = "not_recorded", "Not recorded"

    site = models.ForeignKey("accounts.Site", on_delete=models.PROTECT, related_name="patients")
    mrn = models.CharField("medical record number", max_length=24, editable=False)
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    sex_at_birth = models.CharField(
        max_length=16, choices=SexAtBirth.choices, default=SexAtBirth.NOT_RECORDED
    )
    gender_identity = models.CharField(
        max_length=60, blank=True, help_text="In the patient's own words, e.g. woman, man, non-binary."
    )
    pronouns = models.CharField(max_length=30, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    address = models.TextField(blank=True)
    postcode = models.CharField(max_length=16, blank=True)
    fitzpatrick_type = models.CharField(
        "Fitzpatrick skin type", max_length=3, blank=True, choices=list(FITZPATRICK.items())
    )
    presenting_concern = models.CharField(max_length=20, blank=True, choices=list(INDICATIONS.items()))
    concern_details = models.TextField(blank=True)
    history = models.JSONField(
        default=list, blank=True, help_text="Codes from the screening checklist that apply."
    )
    allergies = models.JSONField(default=list, blank=True, help_text="Allergy codes from the checklist.")
    allergy_notes = models.TextField(blank=True)
    history_notes = models.TextField(blank=True)
    portal_user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="patient"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SiteScopedManager()
    patient_path = ""  # the row is the patient

    class Meta:
        ordering = ["family_name", "given_name", "id"]
        constraints = [models.UniqueConstraint(fields=["site", "mrn"], name="patient_mrn_unique_per_site")]
        indexes = [
            models.Index(fields=["site", "family_name", "given_name"], name="patient_site_name_idx"),
            models.Index(fields=["date_of_birth"], name="patient_dob_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.family_name.upper()}, {self.given_name} ({self.mrn})"

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"


class MrnSequence(models.Model):
    """The last MRN sequence number issued at a site; locked while the next one is taken."""

    site = models.OneToOneField("accounts.Site", on_delete=models.CASCADE, related_name="mrn_sequence")
    last_value = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.site_id}: {self.last_value}"

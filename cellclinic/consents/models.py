"""Informed consent: the document as shown, its signatures' state, the optional choices, withdrawal."""

from django.conf import settings
from django.db import models

from cellclinic.accounts.access import SiteScopedManager


class Consent(models.Model):
    """Informed consent for one therapy, generated from its catalogue entry, signed by both parties.

    The document is kept exactly as it was shown (`document`), with the template and therapy versions
    it came from. Withdrawal is recorded, never erased, and stops the pathway.

    A patient under 18 on the day the consent is prepared (`minor`) does not sign in the portal: a
    parent or guardian consents at the clinic, and the young person gives their own assent there.
    """

    AUDIT_OBJECT_TYPE = "consent"  # the object type of its audit events

    class Status(models.TextChoices):
        AWAITING_PATIENT = "awaiting_patient", "Waiting for the patient's signature"
        AWAITING_PRACTITIONER = "awaiting_practitioner", "Waiting for the practitioner's signature"
        SIGNED = "signed", "Signed"
        WITHDRAWN = "withdrawn", "Withdrawn"

    site = models.ForeignKey("accounts.Site", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="consents")
    consultation = models.ForeignKey(
        "consultations.Consultation", on_delete=models.PROTECT, related_name="consents"
    )
    therapy_code = models.CharField(max_length=64)
    therapy_version = models.CharField(max_length=20)
    template_version = models.CharField(max_length=20)
    document = models.JSONField(help_text="Title and sections, exactly as shown for signing.")
    document_hash = models.CharField(max_length=64)
    status = models.CharField(
        max_length=24, choices=Status.choices, default=Status.AWAITING_PATIENT, db_index=True
    )

    class Relationship(models.TextChoices):
        PARENT = "parent", "Parent"
        GUARDIAN = "guardian", "Legal guardian"
        OTHER = "other", "Other person with parental responsibility"

    # Optional consents, separate from consent to the treatment itself.
    photographs = models.BooleanField(null=True, blank=True)
    outcome_reports = models.BooleanField(null=True, blank=True)
    patient_signed_at = models.DateTimeField(null=True, blank=True)
    patient_signed_in_clinic = models.BooleanField(default=False)
    practitioner_signed_at = models.DateTimeField(null=True, blank=True)
    # A young person's consent: given by a parent or guardian, with the young person's own assent.
    minor = models.BooleanField(
        default=False, help_text="The patient was under 18 on the day the consent was prepared."
    )
    guardian_name = models.CharField(max_length=200, blank=True)
    guardian_relationship = models.CharField(max_length=20, choices=Relationship.choices, blank=True)
    young_person_assent = models.BooleanField(
        null=True, blank=True, help_text="The young person agreed to the treatment (their assent)."
    )
    pdf = models.FileField(upload_to="consents/%Y/", max_length=200, blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_reason = models.TextField(blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SiteScopedManager()
    patient_path = "patient"

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(minor=True)
                | models.Q(guardian_name="", guardian_relationship="", young_person_assent__isnull=True),
                name="consent_guardian_only_for_a_minor",
            ),
        ]

    def __str__(self) -> str:
        return f"Consent #{self.pk} for {self.therapy_code} ({self.status})"

    @property
    def in_force(self) -> bool:
        """Signed by both and not withdrawn: the pathway may go on."""
        return self.status == self.Status.SIGNED

"""Consultations (goals, findings, expectations, alternatives, the signed decision), photos and consent."""

import uuid

from django.conf import settings
from django.db import models


class Consultation(models.Model):
    """A practitioner's consultation with one patient, ending in a signed decision.

    Open while it is being filled in; once decided and signed it is not edited again.
    """

    class Status(models.TextChoices):
        OPEN = "open", "In progress"
        DECIDED = "decided", "Decided and signed"

    class Decision(models.TextChoices):
        PROCEED = "proceed", "Proceed with a cell therapy"
        ALTERNATIVE = "alternative", "Choose an alternative treatment"
        DECLINE = "decline", "Decline treatment"
        REFER = "refer", "Refer elsewhere"

    site = models.ForeignKey("accounts.Site", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="consultations")
    practitioner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    enquiry = models.ForeignKey(
        "candidacy.Enquiry", null=True, blank=True, on_delete=models.PROTECT, related_name="consultations"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True)
    # The patient's goals, in their own words and as target areas.
    goals = models.TextField(blank=True)
    target_areas = models.JSONField(default=list, blank=True)
    # The practitioner's findings.
    indication = models.CharField(max_length=20, blank=True)
    severity_scale = models.CharField(max_length=40, blank=True)
    severity_score = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    fitzpatrick_type = models.CharField(max_length=3, blank=True)
    findings = models.TextField(blank=True)
    # The candidacy rules re-run on the practitioner's answers.
    assessment = models.ForeignKey(
        "candidacy.Assessment", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    expectations_discussed_at = models.DateTimeField(null=True, blank=True)
    alternatives_discussed = models.JSONField(default=list, blank=True, help_text="Alternative codes.")
    # The decision.
    decision = models.CharField(max_length=12, choices=Decision.choices, blank=True)
    therapy_code = models.CharField(max_length=64, blank=True)
    therapy_version = models.CharField(max_length=20, blank=True)
    alternative_code = models.CharField(max_length=64, blank=True)
    decision_notes = models.TextField(blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["patient", "created_at"], name="consultation_patient_idx")]

    def __str__(self) -> str:
        return f"Consultation #{self.pk} ({self.status})"


class Photo(models.Model):
    """A clinical photograph in a standard view, stored re-encoded without EXIF metadata."""

    class View(models.TextChoices):
        FRONT = "front", "Front"
        LEFT_OBLIQUE = "left_oblique", "Left oblique (45°)"
        RIGHT_OBLIQUE = "right_oblique", "Right oblique (45°)"
        LEFT_PROFILE = "left_profile", "Left profile (90°)"
        RIGHT_PROFILE = "right_profile", "Right profile (90°)"
        CLOSE_UP = "close_up", "Close-up of the area"

    class Purpose(models.TextChoices):
        BASELINE = "baseline", "Baseline"
        FOLLOW_UP = "follow_up", "Follow-up"

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    site = models.ForeignKey("accounts.Site", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="photos")
    consultation = models.ForeignKey(
        Consultation, null=True, blank=True, on_delete=models.PROTECT, related_name="photos"
    )
    purpose = models.CharField(max_length=12, choices=Purpose.choices, default=Purpose.BASELINE)
    view = models.CharField(max_length=16, choices=View.choices)
    area = models.CharField(max_length=60, blank=True)
    image = models.FileField(upload_to="photos/%Y/%m/", max_length=200)
    content_type = models.CharField(max_length=40)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64, help_text="Of the stored (metadata-free) file.")
    taken_on = models.DateField(null=True, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Photo {self.uid} ({self.view})"


class Consent(models.Model):
    """Informed consent for one therapy, generated from its catalogue entry, signed by both parties.

    The document is kept exactly as it was shown (`document`), with the template and therapy versions
    it came from. Withdrawal is recorded, never erased, and stops the pathway.
    """

    class Status(models.TextChoices):
        AWAITING_PATIENT = "awaiting_patient", "Waiting for the patient's signature"
        AWAITING_PRACTITIONER = "awaiting_practitioner", "Waiting for the practitioner's signature"
        SIGNED = "signed", "Signed"
        WITHDRAWN = "withdrawn", "Withdrawn"

    site = models.ForeignKey("accounts.Site", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="consents")
    consultation = models.ForeignKey(Consultation, on_delete=models.PROTECT, related_name="consents")
    therapy_code = models.CharField(max_length=64)
    therapy_version = models.CharField(max_length=20)
    template_version = models.CharField(max_length=20)
    document = models.JSONField(help_text="Title and sections, exactly as shown for signing.")
    document_hash = models.CharField(max_length=64)
    status = models.CharField(
        max_length=24, choices=Status.choices, default=Status.AWAITING_PATIENT, db_index=True
    )
    # Optional consents, separate from consent to the treatment itself.
    photographs = models.BooleanField(null=True, blank=True)
    outcome_reports = models.BooleanField(null=True, blank=True)
    patient_signed_at = models.DateTimeField(null=True, blank=True)
    patient_signed_in_clinic = models.BooleanField(default=False)
    practitioner_signed_at = models.DateTimeField(null=True, blank=True)
    pdf = models.FileField(upload_to="consents/%Y/", max_length=200, blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_reason = models.TextField(blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Consent #{self.pk} for {self.therapy_code} ({self.status})"

    @property
    def in_force(self) -> bool:
        """Signed by both and not withdrawn: the pathway may go on."""
        return self.status == self.Status.SIGNED

"""Consultations: goals, findings, expectations, alternatives and the signed decision."""

from django.conf import settings
from django.db import models

from cellclinic.accounts.access import SiteScopedManager


class Consultation(models.Model):
    """A practitioner's consultation with one patient, ending in a signed decision.

    Open while it is being filled in; once decided and signed it is not edited again.
    """

    AUDIT_OBJECT_TYPE = "consultation"  # the object type of its audit events

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

    objects = SiteScopedManager()
    patient_path = None  # the notes are the practitioner's: portal patients never read them

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["patient", "created_at"], name="consultation_patient_idx")]

    def __str__(self) -> str:
        return f"Consultation #{self.pk} ({self.status})"

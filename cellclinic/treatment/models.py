"""Treatment plans laid out from a therapy protocol: harvest, product ready, sessions, follow-up."""

from django.conf import settings
from django.db import models

from cellclinic.accounts.access import SiteScopedManager


class TreatmentPlan(models.Model):
    """The plan for one patient and one therapy, made only on a signed consent that is in force."""

    AUDIT_OBJECT_TYPE = "treatment_plan"  # the object type of its audit events

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        STOPPED = "stopped", "Stopped"
        COMPLETED = "completed", "Completed"

    site = models.ForeignKey("accounts.Site", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="treatment_plans")
    consultation = models.ForeignKey(
        "consultations.Consultation", on_delete=models.PROTECT, related_name="treatment_plans"
    )
    consent = models.ForeignKey("consents.Consent", on_delete=models.PROTECT, related_name="treatment_plans")
    therapy_code = models.CharField(max_length=64)
    therapy_version = models.CharField(max_length=20)
    harvest_date = models.DateField(null=True, blank=True, help_text="None for a donor (allogeneic) product.")
    start_date = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE, db_index=True)
    stopped_reason = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SiteScopedManager()
    patient_path = "patient"

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Plan #{self.pk} for {self.therapy_code} ({self.status})"


class PlanStep(models.Model):
    """One dated step of a plan, with the window it may move within."""

    class Kind(models.TextChoices):
        HARVEST = "harvest", "Harvest"
        PROCESSING = "processing", "Processing"
        PRODUCT_READY = "product_ready", "Product ready"
        SESSION = "session", "Treatment session"
        AFTERCARE = "aftercare", "Aftercare"
        FOLLOW_UP = "follow_up", "Follow-up visit"

    plan = models.ForeignKey(TreatmentPlan, on_delete=models.CASCADE, related_name="steps")
    sequence = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=16, choices=Kind.choices)
    label = models.CharField(max_length=200)
    detail = models.TextField(blank=True)
    due_date = models.DateField()
    window_start = models.DateField()
    window_end = models.DateField()
    primary_endpoint = models.BooleanField(default=False)

    class Meta:
        ordering = ["plan", "sequence"]
        constraints = [models.UniqueConstraint(fields=["plan", "sequence"], name="plan_step_sequence_unique")]

    def __str__(self) -> str:
        return f"{self.label} on {self.due_date}"

"""Clinical photographs in standard views, for baseline, follow-up and check-ins."""

import uuid

from django.conf import settings
from django.db import models

from cellclinic.accounts.access import SiteScopedManager


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
        "consultations.Consultation", null=True, blank=True, on_delete=models.PROTECT, related_name="photos"
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

    objects = SiteScopedManager()
    patient_path = "patient"

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Photo {self.uid} ({self.view})"

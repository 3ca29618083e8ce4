"""Self-assessments (public or re-run by a practitioner) and the consultation requests they lead to."""

import uuid

from django.conf import settings
from django.db import models

from cellclinic.accounts.access import SiteScopedManager


class Assessment(models.Model):
    """One run of the candidacy rules: the answers given, the explained result, the rule-set version.

    A public self-assessment has no patient until a clinic links it; a practitioner's re-run in a
    consultation belongs to the patient from the start. Kept as it was answered: never edited.
    """

    class Source(models.TextChoices):
        PUBLIC = "public", "Self-assessment"
        PRACTITIONER = "practitioner", "Practitioner's answers"

    class Outcome(models.TextChoices):
        SUITABLE = "suitable", "Suitable: book a consultation"
        CONSULT = "consult", "A practitioner must review something first"
        NOT_SUITABLE = "not_suitable", "Not suitable now"

    # The public result page is reached by this unguessable id, never by the row number.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    source = models.CharField(max_length=16, choices=Source.choices)
    answers = models.JSONField(help_text="The answers as the rules engine read them.")
    result = models.JSONField(help_text="Outcome, therapies, alternatives, reasons and expectations.")
    outcome = models.CharField(max_length=16, choices=Outcome.choices, db_index=True)
    ruleset = models.CharField(max_length=40, help_text="Version of the rule set that produced the result.")
    patient = models.ForeignKey(
        "patients.Patient", null=True, blank=True, on_delete=models.PROTECT, related_name="assessments"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Assessment {self.public_id} ({self.outcome})"


class Enquiry(models.Model):
    """A request for a consultation, from the public result page, on a clinic's worklist."""

    AUDIT_OBJECT_TYPE = "enquiry"  # the object type of its audit events

    class Status(models.TextChoices):
        NEW = "new", "New"
        CONTACTED = "contacted", "Contacted"
        BOOKED = "booked", "Consultation booked"
        CLOSED = "closed", "Closed"

    site = models.ForeignKey("accounts.Site", on_delete=models.PROTECT, related_name="enquiries")
    assessment = models.ForeignKey(
        Assessment, null=True, blank=True, on_delete=models.PROTECT, related_name="enquiries"
    )
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    preferred_times = models.CharField(max_length=300, blank=True)
    message = models.TextField(blank=True)
    consent_to_contact = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NEW, db_index=True)
    patient = models.ForeignKey(
        "patients.Patient", null=True, blank=True, on_delete=models.PROTECT, related_name="enquiries"
    )
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SiteScopedManager()
    patient_path = None  # a request comes before the patient is registered; portal patients never see it

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["site", "status", "created_at"], name="enquiry_worklist_idx"),
            models.Index(fields=["site", "created_at"], name="enquiry_site_newest_idx"),
        ]
        verbose_name_plural = "enquiries"

    def __str__(self) -> str:
        return f"Enquiry #{self.pk} from {self.name} ({self.status})"

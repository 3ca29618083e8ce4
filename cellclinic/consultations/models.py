"""Consultations: goals, findings, expectations, alternatives and the signed decision."""

from django.conf import settings
from django.db import models

from cellclinic.accounts.access import SiteScopedManager
from cellclinic.consultations.severity import BURN_DEPTHS, DESCRIPTORS, Line, Reading, read, totals_of


class Consultation(models.Model):
    """A practitioner's consultation with one patient, ending in a signed decision.

    Open while it is being filled in; once decided and signed it is not edited again.

    Severity is kept item by item (severity.py): `severity_scale` names the scale, `severity_items`
    holds every item score as recorded ({item key: number}, whole numbers as integers), and
    `severity_score` is the scale's score computed from them (the total, or the one item of a one-item
    scale; empty for a scale with no single score, such as WSRS per side). The items go in one JSON
    field because each scale has its own set; the totals are not stored beside them but computed on
    reading, so they can never disagree. A record made before items were kept has a scale and a score
    and no items: it reads as "total only".

    A burn's depth and % of the body surface, and a wound's area and weeks open, have fields of their
    own rather than a place in the JSON: they describe the lesion whatever scale is chosen (a burn may
    be scored on VSS, POSAS or re-epithelialisation, or on none), each is one typed value, and they are
    what rules and reports ask of a consultation (a burn of 30 % or more, an ulcer open for 6 weeks).
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
    severity_items = models.JSONField(default=dict, blank=True, help_text="Item key: score, per the scale.")
    burn_depth = models.CharField(max_length=30, choices=list(BURN_DEPTHS.items()), blank=True)
    burn_tbsa_pct = models.DecimalField(
        "burnt area, % of the total body surface area", max_digits=5, decimal_places=2, null=True, blank=True
    )
    wound_area_cm2 = models.DecimalField(
        "wound area, cm²", max_digits=7, decimal_places=2, null=True, blank=True
    )
    wound_duration_weeks = models.PositiveSmallIntegerField("weeks the wound is open", null=True, blank=True)
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

    @property
    def severity(self) -> Reading | None:
        """The recorded severity as a person reads it (items by label, totals); None when not recorded."""
        return read(self.severity_scale, self.severity_items, self.severity_score)

    @property
    def severity_totals(self) -> dict:
        """The totals computed from the stored items (none for a total-only record)."""
        return totals_of(self.severity_scale, self.severity_items)

    @property
    def description(self) -> list[Line]:
        """The burn's or the wound's description as recorded: label and value."""
        return [
            Line(descriptor.label, descriptor.text(getattr(self, key)))
            for key, descriptor in DESCRIPTORS.items()
            if getattr(self, key) not in (None, "")
        ]

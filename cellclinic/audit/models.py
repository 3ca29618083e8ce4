"""The append-only, hash-chained audit trail and electronic signatures."""

from django.conf import settings
from django.db import models


class AuditEvent(models.Model):
    """One change made through the application: who, where, what, before and after, and why.

    Rows are only ever inserted: database triggers reject UPDATE and DELETE (see the migrations).
    """

    occurred_at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_name = models.CharField(max_length=200, help_text="As it was when the event happened.")
    site = models.ForeignKey(
        "accounts.Site", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    patient_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    action = models.CharField(max_length=60, db_index=True)
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=64)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    reason = models.TextField(blank=True)
    request_id = models.CharField(max_length=64, blank=True, help_text="Made by the server for each request.")
    client_request_id = models.CharField(
        max_length=64,
        blank=True,
        help_text="The X-Request-ID the client sent, as sent; never trusted as the id.",
    )
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object_idx")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.action} {self.object_type}:{self.object_id}"


class AccessEvent(models.Model):
    """One read of health data, or one sign-in, sign-out, failed sign-in or lockout: who, what, when.

    A hash chain of its own (the access log), extended by the database in one statement per event
    (see services.record_access); append-only like the audit trail.
    """

    occurred_at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_name = models.CharField(max_length=200, help_text="As it was when the event happened.")
    site = models.ForeignKey(
        "accounts.Site", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    patient_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    action = models.CharField(max_length=60, db_index=True)
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=64, blank=True)
    details = models.JSONField(null=True, blank=True, help_text="Search terms, filters, the file read, ...")
    request_id = models.CharField(max_length=64, blank=True)
    client_request_id = models.CharField(max_length=64, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="access_object_idx")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.action} {self.object_type}:{self.object_id}"


class Signature(models.Model):
    """An electronic signature (21 CFR Part 11 style) bound to the hash of the signed record."""

    class Meaning(models.TextChoices):
        AUTHORED = "authored", "Authored"
        REVIEWED = "reviewed", "Reviewed"
        APPROVED = "approved", "Approved"
        RELEASED = "released", "Released"
        RESPONSIBILITY = "responsibility", "Responsibility"
        CONSENTED = "consented", "Consented"
        WITNESSED = "witnessed", "Witnessed"

    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="signatures")
    printed_name = models.CharField(max_length=200)
    signed_at = models.DateTimeField()
    meaning = models.CharField(max_length=20, choices=Meaning.choices)
    site = models.ForeignKey(
        "accounts.Site", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    patient_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=64)
    record_hash = models.CharField(max_length=64, help_text="SHA-256 of the signed record's canonical form.")
    statement = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-signed_at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="signature_object_idx")]

    def __str__(self) -> str:
        return f"{self.printed_name}, {self.get_meaning_display()}, {self.signed_at:%Y-%m-%d %H:%M} UTC"

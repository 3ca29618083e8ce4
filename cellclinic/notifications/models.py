"""Notifications: a message to one person about something done on the pathway, in-app and by email."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from cellclinic.notifications import states


class Notification(models.Model):
    """One message: shown in the recipient's list when they have an account, emailed when an address
    is known. The text is rendered when the action happens, so what was sent is what is shown."""

    AUDIT_OBJECT_TYPE = "notification"

    class Status(models.TextChoices):
        NONE = states.NONE, "No email"
        QUEUED = states.QUEUED, "Queued"
        SENT = states.SENT, "Sent"
        RETRYING = states.RETRYING, "Retrying"
        FAILED = states.FAILED, "Failed"

    site = models.ForeignKey("accounts.Site", on_delete=models.PROTECT, related_name="+")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="notifications",
        help_text="The signed-in user who sees it in their list; empty for an email-only message.",
    )
    kind = models.CharField(max_length=60)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    link = models.CharField(max_length=300, blank=True, help_text="Where the thing is done: a path here.")
    object_type = models.CharField(max_length=40, blank=True)
    object_id = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)
    # The email's delivery: see notifications/states.py.
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NONE)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "read_at"], name="notification_unread"),
            models.Index(fields=["site", "status"], name="notification_site_status"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=list(states.STATUSES)),
                name="notification_status_known",
            ),
            models.CheckConstraint(
                condition=models.Q(recipient__isnull=False) | ~models.Q(email=""),
                name="notification_has_a_recipient",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject} ({self.get_status_display()})"

    @property
    def is_unread(self) -> bool:
        return self.read_at is None

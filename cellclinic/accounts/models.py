"""Sites, staff and portal users, memberships (role at a site) and API tokens."""

import hashlib

from django.contrib.auth.models import AbstractUser
from django.db import models

from cellclinic.accounts.roles import ROLE_LABELS, Role


class Site(models.Model):
    """A clinic or a cell-processing lab; a clinic network may share one lab."""

    class Kind(models.TextChoices):
        CLINIC = "clinic", "Clinic"
        LAB = "lab", "Cell-processing lab"

    code = models.CharField(
        max_length=8,
        unique=True,
        help_text="Short upper-case code, used in medical record numbers (e.g. NCL).",
    )
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    lab = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="clinics",
        limit_choices_to={"kind": "lab"},
        help_text="The lab that processes this clinic's cells.",
    )
    address = models.TextField(blank=True)
    # How patients and enquirers reach the clinic: named in consents and in the emails it sends.
    phone = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(code__regex=r"^[A-Z][A-Z0-9]{1,7}$"), name="site_code_format"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class User(AbstractUser):
    """A staff member or a patient with a portal account."""

    class Kind(models.TextChoices):
        STAFF = "staff", "Staff"
        PATIENT = "patient", "Patient"

    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.STAFF)

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username

    @property
    def is_patient(self) -> bool:
        return self.kind == self.Kind.PATIENT


class Membership(models.Model):
    """A staff user's role at one site; a user may hold several."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(max_length=20, choices=[(r.value, label) for r, label in ROLE_LABELS.items()])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "site", "role"], name="membership_unique_role_at_site"),
            models.CheckConstraint(
                condition=models.Q(role__in=[r.value for r in Role]), name="membership_role_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} at {self.site.code}"


class ApiToken(models.Model):
    """A bearer token for API clients; only its SHA-256 is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=80, default="cli")
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8, help_text="First characters, to tell tokens apart.")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode("utf-8")).hexdigest()

"""Reads of consent, always scoped to what the user may see.

Staff read consents of the sites where their role allows the permission asked for; a portal patient
reads only their own. A consent elsewhere answers 404 exactly like a missing one. Every later stage
(the plan, the harvest, the bedside check, outcome reports) asks `consent_in_force` and nothing else.
"""

from django.db.models import QuerySet
from django.http import Http404

from cellclinic.accounts.models import User
from cellclinic.accounts.roles import Permission
from cellclinic.consents.models import Consent


def consent_get_for_user(
    user: User, consent_id: int, *, permission: Permission = Permission.PATIENT_VIEW
) -> Consent:
    """The consent with its patient and consultation, or 404 (missing or not visible)."""
    consent = (
        Consent.objects.visible_to(user, permission)
        .select_related(
            "patient", "site", "consultation", "consultation__practitioner", "patient__portal_user"
        )
        .filter(pk=consent_id)
        .first()
    )
    if consent is None:
        raise Http404("Not found")
    return consent


def consents_for_patient(patient) -> QuerySet:
    """The patient's consents, newest first (the caller checked access)."""
    return Consent.objects.filter(patient=patient)


def consents_of(consultation) -> list[Consent]:
    """A consultation's consents, newest first."""
    return list(Consent.objects.filter(consultation=consultation).order_by("-created_at", "-id"))


def consent_live(consultation) -> Consent | None:
    """The consultation's consent that is not withdrawn (at most one), or None."""
    return (
        Consent.objects.filter(consultation=consultation)
        .exclude(status=Consent.Status.WITHDRAWN)
        .order_by("-id")
        .first()
    )


def consent_in_force(consultation) -> Consent | None:
    """The consultation's newest consent to the therapy it decided on that is signed and not withdrawn,
    or None: no treatment without it."""
    return (
        Consent.objects.filter(
            consultation=consultation, therapy_code=consultation.therapy_code, status=Consent.Status.SIGNED
        )
        .order_by("-created_at", "-id")
        .first()
    )

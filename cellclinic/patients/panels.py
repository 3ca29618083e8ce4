"""What the registry adds to the start page: the count of patients and the latest registrations."""

from cellclinic.accounts.access import has_permission
from cellclinic.accounts.roles import Permission
from cellclinic.patients.models import Patient

RECENT = 5


def home_tile(request, user) -> dict | None:
    """How many patients the user's clinics hold, with the way to find or register one."""
    if not has_permission(user, Permission.PATIENT_VIEW):
        return None
    return {"patient_count": Patient.objects.visible_to(user).count()}


def home_recent(request, user) -> dict | None:
    """The latest registrations at the user's clinics."""
    if not has_permission(user, Permission.PATIENT_VIEW):
        return None
    recent = list(Patient.objects.visible_to(user).select_related("site").order_by("-created_at")[:RECENT])
    return {"recent_patients": recent} if recent else None

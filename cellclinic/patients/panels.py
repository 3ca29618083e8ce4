"""What the registry adds to the start page: the count of patients, and the way to find or register one."""

from cellclinic.accounts.access import has_permission
from cellclinic.accounts.roles import Permission
from cellclinic.patients.models import Patient


def home_tile(request, user) -> dict | None:
    """How many patients the user's clinics hold, with the way to find or register one."""
    if not has_permission(user, Permission.PATIENT_VIEW):
        return None
    return {"patient_count": Patient.objects.visible_to(user).count()}

"""What accounts puts on the start page: the lab and the clinics it serves, for lab staff."""

from cellclinic.accounts.access import has_permission, site_ids_for_lab_staff, staff_site_ids
from cellclinic.accounts.models import Site
from cellclinic.accounts.roles import Permission


def home_lab(request, user) -> dict | None:
    """For lab staff: their lab and the clinics it serves (never a patient name)."""
    if has_permission(user, Permission.PATIENT_VIEW):
        return None
    labs = list(
        Site.objects.filter(pk__in=staff_site_ids(user, Permission.LAB_VIEW), kind=Site.Kind.LAB).order_by(
            "name"
        )
    )
    if not labs:
        return None
    served = Site.objects.filter(pk__in=site_ids_for_lab_staff(user)).order_by("name")
    return {"lab_sites": labs, "served_clinics": list(served)}

"""What accounts puts on the start page: the lab and the clinics it serves, for lab staff."""

from cellclinic.accounts.access import has_permission, site_ids_with, user_roles
from cellclinic.accounts.models import Site
from cellclinic.accounts.roles import Permission


def home_lab(request, user) -> dict | None:
    """For staff who see no patients: their lab and the clinics it serves (never a patient name)."""
    if has_permission(user, Permission.PATIENT_VIEW):
        return None
    site_ids = {site_id for site_id, _ in user_roles(user)}
    labs = list(Site.objects.filter(pk__in=site_ids, kind=Site.Kind.LAB).order_by("name"))
    if not labs:
        return None
    served = Site.objects.filter(lab_id__in=site_ids_with(user, Permission.CATALOGUE_VIEW)).order_by("name")
    return {"lab_sites": labs, "served_clinics": list(served)}

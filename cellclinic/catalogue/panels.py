"""What the catalogue puts on the start page: how many therapies and alternatives it holds."""

from cellclinic.accounts.access import has_permission
from cellclinic.accounts.roles import Permission
from cellclinic.catalogue.registry import get_catalogue


def home_tile(request, user) -> dict | None:
    if not has_permission(user, Permission.CATALOGUE_VIEW):
        return None
    catalogue = get_catalogue()
    return {"therapy_count": len(catalogue.therapies), "alternative_count": len(catalogue.alternatives)}

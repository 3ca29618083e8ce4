"""Reading the catalogue on behalf of a user: the one access gate for pages and API alike."""

from django.http import Http404

from cellclinic.accounts.access import require_permission
from cellclinic.accounts.models import User
from cellclinic.accounts.roles import Permission
from cellclinic.catalogue.loader import Catalogue
from cellclinic.catalogue.registry import get_catalogue
from cellclinic.catalogue.schema import Therapy


def catalogue_get_for_user(user: User) -> Catalogue:
    """The catalogue, or 404 for users without the catalogue permission (portal users included)."""
    require_permission(user, Permission.CATALOGUE_VIEW)
    return get_catalogue()


def therapy_get_for_user(user: User, code: str) -> Therapy:
    """One therapy; an unknown code and a forbidden user get the same 404."""
    therapy = catalogue_get_for_user(user).therapies.get(code)
    if therapy is None:
        raise Http404("Not found")
    return therapy


def therapies_sorted(catalogue: Catalogue) -> list[Therapy]:
    """Therapies by name, for lists."""
    return sorted(catalogue.therapies.values(), key=lambda t: t.name.casefold())

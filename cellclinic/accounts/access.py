"""Who may see what, where: the one place that answers for every view and endpoint."""

from django.http import Http404

from cellclinic.accounts.models import Membership, Site, User
from cellclinic.accounts.roles import Permission, Role, role_allows


def user_roles(user: User) -> list[tuple[int, str]]:
    """(site id, role) pairs of a staff user, read once per request and cached on the user."""
    cached = getattr(user, "_cellclinic_roles", None)
    if cached is None:
        if not user.is_authenticated or user.is_patient or not user.is_active:
            cached = []
        else:
            cached = list(Membership.objects.filter(user=user).values_list("site_id", "role"))
        user._cellclinic_roles = cached
    return cached


def site_ids_with(user: User, permission: Permission) -> set[int]:
    """The sites at which USER holds a role granting PERMISSION."""
    return {site_id for site_id, role in user_roles(user) if role_allows(role, permission)}


def has_permission(user: User, permission: Permission, site_id: int | None = None) -> bool:
    """Anywhere, or at SITE_ID when given."""
    sites = site_ids_with(user, permission)
    return bool(sites) if site_id is None else site_id in sites


def has_role(user: User, role: Role) -> bool:
    return any(r == role for _, r in user_roles(user))


def require_permission(user: User, permission: Permission) -> set[int]:
    """The permitted site ids, or 404 when there are none (the same answer as a missing page)."""
    sites = site_ids_with(user, permission)
    if not sites:
        raise Http404("Not found")
    return sites


def default_clinic_for(user: User, permission: Permission) -> Site | None:
    """The clinic to use when a user with one permitted clinic does not name one."""
    sites = site_ids_with(user, permission)
    return Site.objects.filter(pk__in=sites, kind=Site.Kind.CLINIC).order_by("code").first()

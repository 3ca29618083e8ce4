"""Reads for staff management and the signed-in user's own account, always scoped to the reader."""

from django.db.models import Prefetch, QuerySet

from cellclinic.accounts.access import require_permission
from cellclinic.accounts.models import ApiToken, Membership, Site, User
from cellclinic.accounts.roles import Permission
from cellclinic.core.search import words_match

STATUS_ACTIVE = "active"
STATUS_INACTIVE = "inactive"


def managed_sites(admin: User) -> QuerySet[Site]:
    """The sites where ADMIN manages staff, by name; 404 for everyone else."""
    return Site.objects.filter(pk__in=require_permission(admin, Permission.STAFF_MANAGE)).order_by("name")


def _managed_memberships(site_ids: set[int]) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(site_id__in=site_ids).select_related("site").order_by("site__name", "role")
    )


def staff_list(admin: User, *, query: str = "", status: str = "") -> QuerySet[User]:
    """Staff holding a role at ADMIN's sites, with those roles (only those) in `managed_memberships`.

    QUERY matches any part of the username, first or last name; several words narrow it down.
    """
    sites = require_permission(admin, Permission.STAFF_MANAGE)
    staff = User.objects.filter(
        kind=User.Kind.STAFF, pk__in=Membership.objects.filter(site_id__in=sites).values("user_id")
    )
    staff = staff.filter(words_match(query, "username", "first_name", "last_name"))
    if status == STATUS_ACTIVE:
        staff = staff.filter(is_active=True)
    elif status == STATUS_INACTIVE:
        staff = staff.filter(is_active=False)
    return staff.order_by("last_name", "first_name", "username", "id").prefetch_related(
        Prefetch("memberships", queryset=_managed_memberships(sites), to_attr="managed_memberships")
    )


def staff_memberships(admin: User, member: User) -> list[Membership]:
    """MEMBER's roles at the sites ADMIN manages, by site and role."""
    sites = require_permission(admin, Permission.STAFF_MANAGE)
    return list(_managed_memberships(sites).filter(user=member))


def staff_works_elsewhere(admin: User, member: User) -> bool:
    """True when MEMBER also holds a role at a site ADMIN does not manage."""
    sites = require_permission(admin, Permission.STAFF_MANAGE)
    return Membership.objects.filter(user=member).exclude(site_id__in=sites).exists()


def api_tokens_of(user: User) -> QuerySet[ApiToken]:
    """USER's own tokens, newest first."""
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-id")


def memberships_of(user: User) -> list[Membership]:
    """USER's own roles with their sites, for the account page."""
    return list(Membership.objects.filter(user=user).select_related("site").order_by("site__name", "role"))

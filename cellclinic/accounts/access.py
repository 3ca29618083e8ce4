"""Who may see what, where: the one place that answers for every view and endpoint."""

from django.db import models
from django.http import Http404

from cellclinic.accounts.models import ApiToken, Membership, Site, User
from cellclinic.accounts.roles import LAB_GRANTS, Permission, role_allows
from cellclinic.core.errors import Forbidden


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


def staff_site_ids(user: User, permission: Permission) -> set[int]:
    """The sites at which a signed-in staff member holds PERMISSION; none for anyone else."""
    if not user.is_authenticated or user.is_patient:
        return set()
    return site_ids_with(user, permission)


def site_ids_for_lab_staff(user: User, permission: Permission = Permission.LAB_VIEW) -> set[int]:
    """The clinics served by the labs at which USER holds PERMISSION; none for anyone else."""
    labs = staff_site_ids(user, permission)
    if not labs:
        return set()
    return set(
        Site.objects.filter(kind=Site.Kind.CLINIC, lab_id__in=labs, lab__kind=Site.Kind.LAB).values_list(
            "pk", flat=True
        )
    )


class SiteScopedQuerySet(models.QuerySet):
    """Rows that belong to a site, narrowed to what one user may see (NetBox's `restrict`).

    A model managed by it says how its rows reach their patient in `patient_path`: the lookup to the
    patient ("patient"), "" when the row is the patient, or None when portal patients never see its rows.
    `site_path` (default "site") leads to the row's site. `lab_visible = True` says that its rows carry
    no patient identity, so that lab staff also see those of the clinics their lab serves.
    """

    def visible_to(self, user: User, permission: Permission = Permission.PATIENT_VIEW) -> models.QuerySet:
        """Staff: rows of the sites where they hold PERMISSION (and, on `lab_visible` models, of the
        clinics served by a lab where they hold its LAB_GRANTS permission). A portal patient: rows of
        their own patient record, for PATIENT_VIEW only. Anyone else: none."""
        if not user.is_authenticated:
            return self.none()
        if user.is_patient:
            return self._of_portal_patient(user, permission)
        site_path = getattr(self.model, "site_path", "site")
        sites = staff_site_ids(user, permission)
        lab_permission = LAB_GRANTS.get(permission)
        if getattr(self.model, "lab_visible", False) and lab_permission is not None:
            sites = sites | site_ids_for_lab_staff(user, lab_permission)
        return self.filter(**{f"{site_path}__in": sites})

    def _of_portal_patient(self, user: User, permission: Permission) -> "SiteScopedQuerySet":
        patient_path = self.model.patient_path
        if patient_path is None or permission != Permission.PATIENT_VIEW:
            return self.none()
        lookup = f"{patient_path}__portal_user" if patient_path else "portal_user"
        return self.filter(**{lookup: user})


class SiteScopedManager(models.Manager.from_queryset(SiteScopedQuerySet)):
    """The default manager of every model whose rows belong to a site: `Model.objects.visible_to(...)`."""

    use_in_migrations = False


def has_permission(user: User, permission: Permission, site_id: int | None = None) -> bool:
    """Anywhere, or at SITE_ID when given."""
    sites = site_ids_with(user, permission)
    return bool(sites) if site_id is None else site_id in sites


def require_permission_at(user: User, permission: Permission, site_id: int, message: str) -> None:
    """Refuse (Forbidden, with MESSAGE) a write at a site where USER lacks PERMISSION."""
    if not has_permission(user, permission, site_id):
        raise Forbidden(message)


def require_permission(user: User, permission: Permission) -> set[int]:
    """The permitted site ids, or 404 when there are none (the same answer as a missing page)."""
    sites = site_ids_with(user, permission)
    if not sites:
        raise Http404("Not found")
    return sites


def staff_get_for_admin(admin: User, staff_id: int) -> User:
    """A staff member holding a role at one of ADMIN's managed sites; 404 otherwise, missing or not."""
    sites = require_permission(admin, Permission.STAFF_MANAGE)
    member = (
        User.objects.filter(
            pk=staff_id,
            kind=User.Kind.STAFF,
            pk__in=Membership.objects.filter(site_id__in=sites).values("user_id"),
        )
        .order_by()
        .first()
    )
    if member is None:
        raise Http404("Not found")
    return member


def membership_get_for_admin(admin: User, member: User, membership_id: int) -> Membership:
    """One of MEMBER's roles at a site ADMIN manages; 404 for a role anywhere else."""
    sites = require_permission(admin, Permission.STAFF_MANAGE)
    membership = (
        Membership.objects.select_related("site", "user")
        .filter(pk=membership_id, user=member, site_id__in=sites)
        .first()
    )
    if membership is None:
        raise Http404("Not found")
    return membership


def managed_site_get(admin: User, code: str) -> Site:
    """The site with CODE among those ADMIN manages; 404 whether it is elsewhere or does not exist."""
    sites = require_permission(admin, Permission.STAFF_MANAGE)
    site = Site.objects.filter(pk__in=sites, code=code.strip().upper()).first()
    if site is None:
        raise Http404("Not found")
    return site


def require_staff(user: User) -> User:
    """Staff only: a patient portal account gets the answer a missing page gets."""
    if not user.is_authenticated or user.is_patient:
        raise Http404("Not found")
    return user


def api_token_get_for_owner(user: User, token_id: int) -> ApiToken:
    """USER's own token; another user's token answers like a missing one."""
    require_staff(user)
    token = ApiToken.objects.select_related("user").filter(pk=token_id, user=user).first()
    if token is None:
        raise Http404("Not found")
    return token

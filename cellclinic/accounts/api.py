"""Who am I, staff management for clinic admins, and the caller's own API tokens."""

from datetime import datetime
from typing import Literal

from django.http import Http404
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import ConfigDict

from cellclinic.accounts.access import (
    api_token_get_for_owner,
    has_permission,
    managed_site_get,
    require_staff,
    user_roles,
)
from cellclinic.accounts.auth import api_auth
from cellclinic.accounts.models import ApiToken, Site, User
from cellclinic.accounts.roles import Permission, Role
from cellclinic.accounts.selectors import STATUS_ACTIVE, STATUS_INACTIVE, api_tokens_of, staff_list
from cellclinic.accounts.services import api_token_create, api_token_revoke, staff_member_create
from cellclinic.core.api_pagination import LimitOffset
from cellclinic.core.api_types import Id, Line, Secret, Username

router = Router(tags=["accounts"])

MAX_LIMIT = 200
RoleName = Literal[tuple(r.value for r in Role)]  # type: ignore[valid-type]


def _staff_managers_only(user) -> None:
    """Anyone who may not manage staff gets the answer a missing resource gets."""
    if not has_permission(user, Permission.STAFF_MANAGE):
        raise Http404("Not found")


STAFF_MANAGERS = api_auth(_staff_managers_only)
STAFF = api_auth(require_staff)


class RoleOut(Schema):
    site: str
    site_name: str
    role: str


class MeOut(Schema):
    username: str
    name: str
    kind: str
    roles: list[RoleOut]


@router.get("/me", response=MeOut, summary="The signed-in user and their roles")
def me(request):
    user = request.auth
    roles = user_roles(user)
    sites = {s.pk: s for s in Site.objects.filter(pk__in={site_id for site_id, _ in roles})}
    return {
        "username": user.username,
        "name": user.display_name,
        "kind": user.kind,
        "roles": [{"site": sites[s].code, "site_name": sites[s].name, "role": r} for s, r in roles],
    }


class StaffRoleOut(Schema):
    site: str = Field(description="Site code")
    role: str


class StaffOut(Schema):
    id: int
    username: str
    name: str
    active: bool
    roles: list[StaffRoleOut] = Field(description="Roles at the sites you manage (only those)")


class StaffListParams(Schema):
    q: Line(200) = Field("", description="Any part of the username, first or last name.")
    status: Literal["", STATUS_ACTIVE, STATUS_INACTIVE] = Field(  # type: ignore[valid-type]
        "", description="Only active or only inactive accounts."
    )


class StaffIn(Schema):
    """A new staff member with their first role. Unknown fields are refused, not ignored."""

    model_config = ConfigDict(extra="forbid")

    username: Username(150) = Field(description="Letters of one script, digits and @ . + - _")
    first_name: Line(150, min_length=1)
    last_name: Line(150, min_length=1)
    email: Line(254) = ""
    role: RoleName
    site: Line(8, min_length=1) = Field(description="Code of a site you manage; any other code answers 404.")
    password: Secret(4096) = Field(
        description="Initial password, checked against the password policy; the person should change it.",
    )


def _staff_item(user: User, roles: list[tuple[str, str]]) -> dict:
    return {
        "id": user.pk,
        "username": user.username,
        "name": user.display_name,
        "active": user.is_active,
        "roles": [{"site": site, "role": role} for site, role in roles],
    }


def _staff_items(page) -> list[dict]:
    return [_staff_item(u, [(m.site.code, m.role) for m in u.managed_memberships]) for u in page]


@router.get("/staff", response=list[StaffOut], auth=STAFF_MANAGERS, summary="Staff of the sites you manage")
@paginate(LimitOffset, max_limit=MAX_LIMIT, to_items=_staff_items)
def staff_index(request, params: Query[StaffListParams]):
    """Staff holding a role at a site where you are clinic admin, by last name, with their roles there."""
    return staff_list(request.auth, query=params.q, status=params.status)


@router.post("/staff", response={201: StaffOut}, auth=STAFF_MANAGERS, summary="Add a staff member")
def staff_add(request, payload: StaffIn):
    """Create the account and its first role together, or neither."""
    site = managed_site_get(request.auth, payload.site)
    user = staff_member_create(
        username=payload.username,
        password=payload.password,
        first_name=payload.first_name,
        last_name=payload.last_name,
        email=payload.email,
        site=site,
        role=payload.role,
        actor=request.auth,
    )
    return Status(201, _staff_item(user, [(site.code, payload.role)]))


class TokenIn(Schema):
    """A name to tell the token apart. Unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")

    name: Line(80, min_length=1) = Field(description="Where you will use it, e.g. 'label printer'.")


class TokenOut(Schema):
    id: int
    name: str
    prefix: str = Field(description="The key's first characters, to tell tokens apart")
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreatedOut(TokenOut):
    key: str = Field(description="The bearer key. It is shown this once and never stored: copy it now.")


@router.get("/tokens", response=list[TokenOut], auth=STAFF, summary="Your API tokens")
@paginate(LimitOffset, max_limit=MAX_LIMIT)
def token_index(request):
    """Your own tokens, newest first; keys are never shown again."""
    return api_tokens_of(request.auth)


@router.post("/tokens", response={201: TokenCreatedOut}, auth=STAFF, summary="Create an API token")
def token_add(request, payload: TokenIn):
    """A new token for yourself. The key is in this answer only; only its hash is stored."""
    token, key = api_token_create(user=request.auth, name=payload.name, actor=request.auth)
    return Status(201, _token_created(token, key))


def _token_created(token: ApiToken, key: str) -> dict:
    return {
        "id": token.pk,
        "name": token.name,
        "prefix": token.prefix,
        "created_at": token.created_at,
        "last_used_at": token.last_used_at,
        "revoked_at": token.revoked_at,
        "key": key,
    }


@router.delete("/tokens/{int:token_id}", response={204: None}, auth=STAFF, summary="Revoke an API token")
def token_remove(request, token_id: Id):
    """Revoke one of your tokens; it stops working at once. Revoking it again changes nothing."""
    api_token_revoke(token=api_token_get_for_owner(request.auth, token_id), actor=request.auth)
    return Status(204, None)

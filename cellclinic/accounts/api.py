"""Who am I: the signed-in user, their kind and roles."""

from ninja import Router, Schema

from cellclinic.accounts.access import user_roles
from cellclinic.accounts.models import Site

router = Router(tags=["accounts"])


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

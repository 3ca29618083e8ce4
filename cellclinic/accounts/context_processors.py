"""Role-aware navigation: each link appears only for users who may follow it.

Every app registers its own links (core.plugs.register_nav_link) from its AppConfig.ready().
"""

from django.urls import reverse

from cellclinic.accounts.access import user_roles
from cellclinic.accounts.roles import ROLE_LABELS, Role
from cellclinic.core import plugs


def _href(target: str) -> str:
    """A path as it is, or the path of a URL name."""
    return target if target.startswith("/") else reverse(target)


def navigation(request):
    """The links and roles of the signed-in user, worked out once per request however many templates
    (a page and the panels in it) are rendered with it."""
    return plugs.request_cached(request, "navigation", lambda: _navigation(request))


def _navigation(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_links": []}
    links = [
        (link.key, link.label, _href(link.url_name), link.count(user) if link.count else 0)
        for link in plugs.nav_links_for(user)
    ]
    roles = sorted({ROLE_LABELS[Role(role)] for _, role in user_roles(user)})
    return {"nav_links": links, "nav_roles": roles}

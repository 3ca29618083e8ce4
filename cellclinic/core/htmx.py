"""One view for a full page and its htmx fragment."""

from django.shortcuts import render
from django.utils.cache import patch_vary_headers


def wants_partial(request) -> bool:
    """An htmx request for a fragment: not boosted, and not a history restore (which needs the page)."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def render_page_or_partial(request, page_template: str, partial_template: str, context: dict):
    """The partial for an htmx fragment request, the whole page otherwise."""
    template = partial_template if wants_partial(request) else page_template
    response = render(request, template, context)
    # Browsers and proxies must not serve a cached fragment as the page, or the reverse.
    patch_vary_headers(response, ("HX-Request",))
    return response

"""One view for a full page and its htmx fragment."""

from django.shortcuts import render


def render_page_or_partial(request, page_template: str, partial_template: str, context: dict):
    """The partial for an htmx request that is not boosted, the whole page otherwise."""
    htmx = getattr(request, "htmx", None)
    template = partial_template if htmx and not htmx.boosted else page_template
    return render(request, template, context)

"""Bounded pagination for HTML lists (the API uses limit/offset)."""

from dataclasses import dataclass

from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator

PAGE_SIZE = 25


@dataclass
class PageWindow:
    page: object
    querystring: str


def paginate(request, queryset, per_page: int = PAGE_SIZE):
    """Return the requested page of QUERYSET, clamping a bad page number to the nearest real page."""
    paginator = Paginator(queryset, per_page)
    number = request.GET.get("page", 1)
    try:
        page = paginator.page(number)
    except PageNotAnInteger:
        page = paginator.page(1)
    except EmptyPage:
        page = paginator.page(paginator.num_pages)
    params = request.GET.copy()
    params.pop("page", None)
    return PageWindow(page=page, querystring=params.urlencode())

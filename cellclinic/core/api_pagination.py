"""Limit/offset pagination for the JSON API's list endpoints, answering `{"count": N, "items": [...]}`.

    @router.get("", response=list[ThingOut])
    @paginate(LimitOffset, max_limit=200)
    def thing_list(request, filters: Query[ThingFilters]):
        return things_for(request.auth, filters.q)  # a QuerySet, not sliced: the paginator slices it

`limit` (1 to max_limit; default 50, or max_limit if lower) and `offset` (0 to MAX_OFFSET) become query
parameters beside the view's own; a value out of range answers 422 naming the parameter. The answer costs
one COUNT query and one page query.
"""

from collections.abc import Callable, Iterable
from functools import cache
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Schema
from ninja.conf import settings
from ninja.pagination import PaginationBase
from pydantic import create_model

DEFAULT_LIMIT = settings.PAGINATION_PER_PAGE
MAX_LIMIT = 200
# Far beyond any list here, and small enough for every database's OFFSET (a larger one would be a 500).
MAX_OFFSET = 10**9


@cache
def limit_offset_input(default_limit: int, max_limit: int) -> type[Schema]:
    """The query parameters for one page size range; one schema per range, shared by its endpoints."""
    if not 1 <= default_limit <= max_limit:
        raise ValueError(f"default_limit {default_limit} is not within 1 to max_limit {max_limit}")
    return create_model(
        f"LimitOffsetInput{default_limit}Of{max_limit}",
        __base__=Schema,
        limit=(int, Field(default_limit, ge=1, le=max_limit, description=f"Page size, 1 to {max_limit}.")),
        offset=(int, Field(0, ge=0, le=MAX_OFFSET)),
    )


class LimitOffset(PaginationBase):
    """`@paginate(LimitOffset, max_limit=N)` on a view returning a QuerySet (or a list).

    to_items: turns the page's rows into the answer's items (a callable taking the page, returning a
    list), for views whose rows are not what the item schema reads, e.g. `values()` rows.
    """

    Input = limit_offset_input(DEFAULT_LIMIT, MAX_LIMIT)

    class Output(Schema):
        count: int
        items: list[Any]

    def __init__(
        self,
        *,
        max_limit: int = MAX_LIMIT,
        default_limit: int | None = None,
        to_items: Callable[[Iterable[Any]], Iterable[Any]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.max_limit = max_limit
        self.to_items = to_items
        if default_limit is None:
            default_limit = min(DEFAULT_LIMIT, max_limit)
        self.Input = limit_offset_input(default_limit, max_limit)

    def paginate_queryset(
        self, queryset: QuerySet | list, pagination: Any, request: HttpRequest, **params: Any
    ) -> dict[str, Any]:
        offset = pagination.offset
        page = queryset[offset : offset + min(pagination.limit, self.max_limit)]
        items = self.to_items(page) if self.to_items is not None else page
        return {"count": self._items_count(queryset), self.items_attribute: items}

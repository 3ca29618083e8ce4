"""Free-text search over a few columns: every word typed must appear in one of them."""

from django.db.models import Q


def words_match(query: str, *fields: str) -> Q:
    """A filter where each word of QUERY is found (case-insensitively) in at least one of FIELDS."""
    condition = Q()
    for word in query.split():
        any_field = Q()
        for field in fields:
            any_field |= Q(**{f"{field}__icontains": word})
        condition &= any_field
    return condition

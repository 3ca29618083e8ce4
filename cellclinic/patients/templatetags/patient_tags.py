"""Display helpers for patient pages."""

from datetime import date

from django import template
from django.utils import timezone

register = template.Library()


def age_in_years(born: date, on: date) -> int:
    """Completed years of life on ON; someone born on 29 February turns a year older on 1 March."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


@register.filter
def age(born: date | None) -> int | str:
    """Age today in the clinic's time zone, for a date of birth."""
    if born is None:
        return ""
    return age_in_years(born, timezone.localdate())

"""Display helpers for the audit trail page."""

import re

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

_JOINS = re.compile(r"([._/:])")


@register.filter
def breakable(value) -> SafeString:
    """VALUE escaped, with a place to break the line after each dot, underscore, slash and colon, so a
    long identifier such as `consultation.expectations_discussed` wraps at its parts in a narrow column."""
    return mark_safe(_JOINS.sub(r"\1<wbr>", escape(str(value))))  # noqa: S308  # nosec B308 B703 - escaped before <wbr> is added

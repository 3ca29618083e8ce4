"""Display helpers for catalogue pages."""

from django import template

from cellclinic.catalogue import schema

register = template.Library()


@register.filter
def code_label(value) -> str:
    """A reader's name for a catalogue code (indication, cell source, delivery method, ...)."""
    return schema.code_label(value)


@register.inclusion_tag("catalogue/_cite.html")
def cite(item, prefix: str = "source") -> dict:
    """Source links for ITEM, and the unverified badge when it has one."""
    return {
        "tags": getattr(item, "source", None) or [],
        "unverified": getattr(item, "unverified", False),
        "prefix": prefix,
    }

"""Display helpers for candidacy results."""

from django import template

register = template.Library()

OUTCOME_WORDS = {
    "suitable": "You may be a suitable candidate",
    "consult": "A practitioner needs to talk with you first",
    "not_suitable": "Cell therapy is not suitable for you now",
}
OUTCOME_BADGES = {"suitable": "ok", "consult": "warn", "not_suitable": "danger"}


@register.filter
def outcome_label(outcome: str) -> str:
    """The outcome in plain words."""
    return OUTCOME_WORDS.get(outcome, outcome)


@register.filter
def outcome_badge(outcome: str) -> str:
    """The badge colour for an outcome (ok, warn, danger)."""
    return OUTCOME_BADGES.get(outcome, "brand")

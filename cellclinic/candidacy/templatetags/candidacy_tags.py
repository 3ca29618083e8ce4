"""Display helpers for candidacy results."""

from django import template

from cellclinic.candidacy.services import get_ruleset

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


STAFF_OUTCOME_WORDS = {
    "suitable": "Candidate: no rule raised a concern",
    "consult": "Review needed before deciding",
    "not_suitable": "Not a candidate now",
}


@register.filter
def outcome_label_staff(outcome: str) -> str:
    """The outcome as a clinician reads it."""
    return STAFF_OUTCOME_WORDS.get(outcome, outcome)


@register.filter
def person_reasons(reasons) -> list:
    """The reasons shown under "Why": all but a therapy's exclusion, which is listed with the therapy."""
    return [reason for reason in reasons or () if reason.get("effect") != "excludes"]


@register.filter
def staff_note(rule_id: str) -> str:
    """The clinicians' note on the rule a reason names, for staff pages; empty when it has none."""
    rule = get_ruleset().rule(rule_id or "")
    return rule.staff if rule is not None else ""

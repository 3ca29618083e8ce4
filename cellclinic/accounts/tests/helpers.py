"""Shared helpers for the account and staff management tests."""

from cellclinic.accounts.models import ApiToken, Membership, User
from cellclinic.audit.models import AuditEvent

NEW_PASSWORD = "plum tarts on a windy pier"
WRONG_ROLES = ["dr_ada", "nurse_bo", "lab_li", "qa_quinn", "pat"]


def row_counts() -> dict[str, int]:
    """Users, roles, tokens and audit events: what a refused request must leave as it found."""
    return {
        "users": User.objects.count(),
        "active_users": User.objects.filter(is_active=True).count(),
        "memberships": Membership.objects.count(),
        "tokens": ApiToken.objects.count(),
        "revoked_tokens": ApiToken.objects.filter(revoked_at__isnull=False).count(),
        "events": AuditEvent.objects.count(),
    }


def actions_since(count_before: int) -> list[str]:
    """The actions of the audit events written after COUNT_BEFORE events, oldest first."""
    return list(AuditEvent.objects.order_by("id").values_list("action", flat=True)[count_before:])


def roles_of(user: User) -> set[tuple[str, str]]:
    return set(Membership.objects.filter(user=user).values_list("site__code", "role"))


def field_errors(response) -> list[str]:
    """The API error fields, in order."""
    return [error["field"] for error in response.json()["errors"]]


def form_errors(response, form_name: str = "form") -> dict:
    return dict(response.context[form_name].errors)

"""What treatment adds to the staff worklist: plan steps due in the coming days, and steps running late.

Registered in TreatmentConfig.ready(). Only active plans count. A step is due soon when its date falls
today or in the next DUE_DAYS - 1 days. A plan keeps no record of a step being done, so a step counts
as overdue while its date has passed and its window is still open: the time left to do it. Once the
window has closed the step is part of the plan's history and leaves the worklist.
"""

from collections.abc import Callable
from datetime import date, timedelta

from django.db.models import Count, QuerySet, Window
from django.utils import timezone

from cellclinic.accounts.access import has_permission
from cellclinic.accounts.models import User
from cellclinic.accounts.roles import Permission
from cellclinic.core.plugs import WorkFound, WorkRow, worklist_day, worklist_links
from cellclinic.treatment.models import TreatmentPlan

DUE_SOON = "treatment.due_soon"
OVERDUE = "treatment.overdue"
DUE_DAYS = 7


def follows_plans(user: User) -> bool:
    """Staff who see patients' records follow their plans: practitioners, nurses, clinic admins."""
    return has_permission(user, Permission.PATIENT_VIEW)


def _active_plans(user: User) -> QuerySet[TreatmentPlan]:
    return TreatmentPlan.objects.visible_to(user).filter(status=TreatmentPlan.Status.ACTIVE)


def _due_soon(user: User, today: date) -> QuerySet[TreatmentPlan]:
    """The active plans joined to their steps due from TODAY to DUE_DAYS - 1 days on: a row per step."""
    return _active_plans(user).filter(
        steps__due_date__gte=today, steps__due_date__lt=today + timedelta(days=DUE_DAYS)
    )


def _overdue(user: User, today: date) -> QuerySet[TreatmentPlan]:
    """The active plans joined to their steps past their date with the window open: a row per step."""
    return _active_plans(user).filter(steps__due_date__lt=today, steps__window_end__gte=today)


def _first(steps: QuerySet[TreatmentPlan], limit: int) -> list[tuple]:
    """(plan id, family name, given name, label, due date, window end, total) of the first LIMIT steps."""
    fields = ("pk", "patient__family_name", "patient__given_name", "steps__label", "steps__due_date")
    return list(
        steps.annotate(total=Window(Count("steps__pk")))
        .order_by("steps__due_date", "pk", "steps__sequence")
        .values_list(*fields, "steps__window_end", "total")[:limit]
    )


def _found(found: list[tuple], when: Callable[[date, date], str]) -> WorkFound:
    """Rows naming the patient and the step, WHEN(due date, window end) saying when, each to its plan."""
    if not found:
        return WorkFound(0, [])
    link = worklist_links("treatment:detail")
    rows = [
        WorkRow(link(plan_id), f"{family.upper()}, {given}", label, when(due, end))
        for plan_id, family, given, label, due, end, _ in found
    ]
    return WorkFound(found[0][-1], rows)


def due_soon_count(user: User) -> int:
    return _due_soon(user, timezone.localdate()).count()


def due_soon(user: User, limit: int) -> WorkFound:
    """The steps due soonest in the coming DUE_DAYS days, each to its plan (one query)."""
    today = timezone.localdate()
    return _found(_first(_due_soon(user, today), limit), lambda due, end: f"due {worklist_day(due, today)}")


def overdue_count(user: User) -> int:
    return _overdue(user, timezone.localdate()).count()


def overdue(user: User, limit: int) -> WorkFound:
    """The steps longest past their date whose window is still open, each to its plan (one query)."""
    today = timezone.localdate()
    return _found(
        _first(_overdue(user, today), limit),
        lambda due, end: f"was due {worklist_day(due, today)}, window ends {worklist_day(end, today)}",
    )

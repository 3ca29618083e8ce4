"""The worklist's plan steps: due in the next seven days, or past their date while their window is open."""

from datetime import timedelta

import pytest
from django.utils import timezone

from cellclinic.demo.builder import at_stage
from cellclinic.treatment import worklist
from cellclinic.treatment.models import PlanStep
from conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _plan(practitioner, name: str, stage: str = "planned", **options):
    return at_stage(
        stage, practitioner=practitioner, password=PASSWORD, enquiry_data={"name": name}, **options
    ).plan


def _date_first_step(plan, *, due: int, window: tuple[int, int]) -> PlanStep:
    """Move the plan's first step to DUE days from today, its window WINDOW days either side of today;
    the other steps to a month away."""
    today = timezone.localdate()
    PlanStep.objects.filter(plan=plan).exclude(sequence=1).update(
        due_date=today + timedelta(days=40),
        window_start=today + timedelta(days=35),
        window_end=today + timedelta(days=45),
    )
    PlanStep.objects.filter(plan=plan, sequence=1).update(
        due_date=today + timedelta(days=due),
        window_start=today + timedelta(days=window[0]),
        window_end=today + timedelta(days=window[1]),
    )
    return PlanStep.objects.get(plan=plan, sequence=1)


def test_steps_due_from_today_to_six_days_on_are_due_soon(dr_ada, nurse_bo):
    today_plan = _plan(dr_ada, "Tia Today")
    _date_first_step(today_plan, due=0, window=(0, 0))
    sixth = _plan(dr_ada, "Sid Sixth")
    step = _date_first_step(sixth, due=6, window=(5, 7))
    seventh = _plan(dr_ada, "Sev Seventh")
    _date_first_step(seventh, due=7, window=(6, 8))
    found = worklist.due_soon(nurse_bo, 5)
    assert [(row.who, row.href) for row in found.rows] == [
        ("TODAY, Tia", f"/plans/{today_plan.pk}/"),
        ("SIXTH, Sid", f"/plans/{sixth.pk}/"),
    ]
    assert found.rows[0].when == "due today"
    assert found.rows[1].what == step.label
    assert found.count == 2 == worklist.due_soon_count(nurse_bo)


def test_a_step_past_its_date_is_overdue_while_its_window_is_open(dr_ada, admin_al):
    late = _plan(dr_ada, "Lou Late")
    _date_first_step(late, due=-2, window=(-4, 1))
    closed = _plan(dr_ada, "Cy Closed")
    _date_first_step(closed, due=-5, window=(-7, -1))
    found = worklist.overdue(admin_al, 5)
    assert [(row.who, row.href) for row in found.rows] == [("LATE, Lou", f"/plans/{late.pk}/")]
    assert found.rows[0].when.startswith("was due ")
    assert found.rows[0].when.endswith(", window ends tomorrow")
    assert found.count == 1 == worklist.overdue_count(admin_al)
    assert worklist.due_soon(admin_al, 5).count == 0


def test_a_stopped_plan_and_another_clinics_plan_wait_for_nothing(dr_ada, dr_cy, nurse_bo):
    stopped = at_stage("withdrawn", practitioner=dr_ada, password=PASSWORD, enquiry_data={"name": "Sam Stop"})
    _date_first_step(stopped.plan, due=1, window=(0, 2))
    elsewhere = _plan(dr_cy, "Ray River")
    _date_first_step(elsewhere, due=1, window=(0, 2))
    assert worklist.due_soon(nurse_bo, 5).count == 0
    assert worklist.due_soon_count(nurse_bo) == 0
    assert [row.who for row in worklist.due_soon(dr_cy, 5).rows] == ["RIVER, Ray"]


@pytest.mark.parametrize(
    ("user", "shown"),
    [
        ("dr_ada", True),
        ("nurse_bo", True),
        ("admin_al", True),
        ("lab_li", False),
        ("qa_quinn", False),
        ("pat", False),
    ],
)
def test_staff_who_see_records_follow_plans(request, user, shown):
    assert worklist.follows_plans(request.getfixturevalue(user)) is shown

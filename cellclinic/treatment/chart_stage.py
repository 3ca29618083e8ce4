"""Where a patient stands in treatment, for the header of their chart (registered in apps.py)."""

from django.urls import reverse
from django.utils import timezone

from cellclinic.core.plugs import Stage
from cellclinic.treatment.models import PlanStep, TreatmentPlan

RANK_ACTIVE = 40
RANK_ENDED = 45


def plan_stage(request, patient) -> Stage | None:
    """The newest plan, active ones first; for an active plan, its next step and date.

    One query without a plan or with ended plans only, two with an active plan. Plain rows rather than
    models, and no subqueries: the header is on every chart, so its reads are kept cheap to build.
    """
    # "active" sorts before "completed" and "stopped", so an active plan comes first.
    plan = (
        TreatmentPlan.objects.filter(patient=patient)
        .order_by("status", "-created_at", "-id")
        .values_list("pk", "status")
        .first()
    )
    if plan is None:
        return None
    plan_id, status = plan
    url = reverse("treatment:detail", kwargs={"plan_id": plan_id})
    if status == TreatmentPlan.Status.ACTIVE:
        step = (
            PlanStep.objects.filter(plan_id=plan_id, due_date__gte=timezone.localdate())
            .order_by("due_date", "sequence")
            .values_list("label", "due_date")
            .first()
        )
        if step is None:
            return Stage(RANK_ACTIVE, "Treatment plan active", "Review the plan: no step is due", url=url)
        return Stage(RANK_ACTIVE, "Treatment plan active", step[0], step[1], url)
    label = "Treatment completed" if status == TreatmentPlan.Status.COMPLETED else "Treatment plan stopped"
    return Stage(RANK_ENDED, label, url=url)

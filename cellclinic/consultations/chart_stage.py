"""Where a patient stands in consultation, for the header of their chart (registered in apps.py)."""

from django.urls import reverse

from cellclinic.catalogue.registry import therapy_name
from cellclinic.consultations.models import Consultation
from cellclinic.core.plugs import Stage

RANK_OPEN = 20
RANK_DECIDED = 25


def consultation_stage(request, patient) -> Stage | None:
    """The latest consultation: under way, or decided and what comes of the decision (one query)."""
    latest = (
        Consultation.objects.filter(patient=patient)
        .order_by("-created_at", "-id")
        .values_list("pk", "status", "decision", "therapy_code")
        .first()
    )
    if latest is None:
        return None
    consultation_id, status, decision, therapy_code = latest
    url = reverse("consultations:detail", args=[consultation_id])
    if status == Consultation.Status.OPEN:
        return Stage(RANK_OPEN, "Consultation in progress", next_step="Decision to sign", url=url)
    if decision == Consultation.Decision.PROCEED:
        therapy = therapy_name(therapy_code, "")
        label = f"Decided to proceed: {therapy}" if therapy else "Decided to proceed"
        return Stage(RANK_DECIDED, label, next_step="Prepare consent", url=url)
    return Stage(RANK_DECIDED, f"Decided: {Consultation.Decision(decision).label}", url=url)

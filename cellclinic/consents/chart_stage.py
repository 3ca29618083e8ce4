"""Where a patient stands with consent, for the header of their chart (registered in apps.py)."""

from django.urls import reverse

from cellclinic.consents.models import Consent
from cellclinic.core.plugs import Stage

RANK_AWAITING_PATIENT = 30
RANK_AWAITING_PRACTITIONER = 32
RANK_SIGNED = 35
# Withdrawal stops everything made under the consent, so it stands above the plan it stopped.
RANK_WITHDRAWN = 60


def consent_stage(request, patient) -> Stage | None:
    """The latest consent: waiting for a signature, in force, or withdrawn (one query)."""
    latest = (
        Consent.objects.filter(patient=patient)
        .order_by("-created_at", "-id")
        .values_list("pk", "status")
        .first()
    )
    if latest is None:
        return None
    consent_id, status = latest
    url = reverse("consents:detail", args=[consent_id])
    if status == Consent.Status.AWAITING_PATIENT:
        return Stage(
            RANK_AWAITING_PATIENT, "Consent prepared", next_step="The patient signs the consent", url=url
        )
    if status == Consent.Status.AWAITING_PRACTITIONER:
        return Stage(
            RANK_AWAITING_PRACTITIONER,
            "Consent signed by the patient",
            next_step="The practitioner countersigns",
            url=url,
        )
    if status == Consent.Status.SIGNED:
        return Stage(RANK_SIGNED, "Consent signed", next_step="Make the treatment plan", url=url)
    return Stage(RANK_WITHDRAWN, "Consent withdrawn", url=url)

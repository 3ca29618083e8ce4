"""Shared test helpers: consultations and consents made directly, as the consultation room leaves them."""

from datetime import date, timedelta

from django.utils import timezone

from cellclinic.audit.models import AuditEvent
from cellclinic.consents.models import Consent
from cellclinic.consultations.models import Consultation
from cellclinic.treatment.models import PlanStep, TreatmentPlan
from cellclinic.treatment.services import plan_create

CULTURED = "autologous_fibroblast_injection"
POINT_OF_CARE = "autologous_skin_cell_suspension"
DONOR = "cryopreserved_fibroblast_dermal_substitute"
INDICATION = {CULTURED: "premature_ageing", POINT_OF_CARE: "burn", DONOR: "wound"}


def in_days(days: int) -> date:
    return timezone.localdate() + timedelta(days=days)


def make_consultation(
    patient,
    practitioner,
    *,
    therapy_code: str = CULTURED,
    status: str = Consultation.Status.DECIDED,
    decision: str = Consultation.Decision.PROCEED,
    indication: str | None = None,
    goals: str = "Softer lines around the mouth",
    therapy_version: str = "1.0",
) -> Consultation:
    decided = status == Consultation.Status.DECIDED
    return Consultation.objects.create(
        site=patient.site,
        patient=patient,
        practitioner=practitioner,
        status=status,
        goals=goals,
        indication=INDICATION.get(therapy_code, "") if indication is None else indication,
        decision=decision if decided else "",
        therapy_code=therapy_code if decision == Consultation.Decision.PROCEED else "",
        therapy_version=therapy_version,
        decided_at=timezone.now() if decided else None,
    )


def make_consent(
    consultation: Consultation,
    *,
    status: str = Consent.Status.SIGNED,
    therapy_code: str | None = None,
    therapy_version: str | None = None,
) -> Consent:
    """A consent as consent_prepare leaves it; by default to the consultation's therapy and version."""
    return Consent.objects.create(
        site=consultation.site,
        patient=consultation.patient,
        consultation=consultation,
        therapy_code=therapy_code or consultation.therapy_code,
        therapy_version=therapy_version or consultation.therapy_version,
        template_version="1",
        document={"title": "Consent", "sections": []},
        document_hash="0" * 64,
        status=status,
        created_by=consultation.practitioner,
    )


def ready_consultation(patient, practitioner, therapy_code: str = CULTURED) -> Consultation:
    """A decided "proceed" consultation whose consent is signed and in force."""
    consultation = make_consultation(patient, practitioner, therapy_code=therapy_code)
    make_consent(consultation)
    return consultation


def make_plan(patient, practitioner, therapy_code: str = CULTURED, days: int = 7) -> TreatmentPlan:
    consultation = ready_consultation(patient, practitioner, therapy_code)
    if therapy_code == DONOR:
        return plan_create(consultation=consultation, actor=practitioner, start_date=in_days(days))
    return plan_create(consultation=consultation, actor=practitioner, harvest_date=in_days(days))


def counts() -> tuple[int, int, int]:
    """Plans, steps and audit events: what a refused request must leave unchanged."""
    return TreatmentPlan.objects.count(), PlanStep.objects.count(), AuditEvent.objects.count()


def field_errors(error) -> dict[str, str]:
    return {item.field: item.message for item in error.errors}

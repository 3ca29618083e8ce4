"""Shared test helpers for treatment plans: the therapies the tests use, and pathways built to a stage."""

from datetime import date, timedelta

from django.utils import timezone

from cellclinic.audit.models import AuditEvent
from cellclinic.consents.models import Consent
from cellclinic.consultations.models import Consultation
from cellclinic.demo.builder import Pathway, at_stage
from cellclinic.treatment.models import PlanStep, TreatmentPlan
from conftest import PASSWORD

CULTURED = "autologous_fibroblast_injection"
POINT_OF_CARE = "autologous_skin_cell_suspension"
DONOR = "cryopreserved_fibroblast_dermal_substitute"
INDICATION = {CULTURED: "premature_ageing", POINT_OF_CARE: "burn", DONOR: "wound"}


def in_days(days: int) -> date:
    return timezone.localdate() + timedelta(days=days)


def pathway_to(stage: str, patient, practitioner, therapy: str = CULTURED, **options) -> Pathway:
    """PATIENT's pathway with PRACTITIONER built by the pathway builder up to STAGE, for THERAPY and the
    indication it treats in these tests; OPTIONS are the builder's (goals=, in_days=, decision=, ...)."""
    return at_stage(
        stage,
        patient=patient,
        practitioner=practitioner,
        password=PASSWORD,
        therapy=therapy,
        indication=INDICATION[therapy],
        **options,
    )


def consented_directly(
    patient,
    practitioner,
    *,
    therapy_code: str = CULTURED,
    therapy_version: str = "1.0",
    consent_code: str | None = None,
    consent_version: str | None = None,
) -> Consultation:
    """Decided and consented, written as rows: only for states the services refuse on purpose."""
    consultation = Consultation.objects.create(
        site=patient.site,
        patient=patient,
        practitioner=practitioner,
        status=Consultation.Status.DECIDED,
        indication=INDICATION.get(therapy_code, patient.presenting_concern),
        decision=Consultation.Decision.PROCEED,
        therapy_code=therapy_code,
        therapy_version=therapy_version,
        decided_at=timezone.now(),
    )
    Consent.objects.create(
        site=patient.site,
        patient=patient,
        consultation=consultation,
        therapy_code=consent_code or therapy_code,
        therapy_version=consent_version or therapy_version,
        template_version="1",
        document={"title": "Consent", "sections": []},
        document_hash="0" * 64,
        status=Consent.Status.SIGNED,
        created_by=practitioner,
    )
    return consultation


def counts() -> tuple[int, int, int]:
    """Plans, steps and audit events: what a refused request must leave unchanged."""
    return TreatmentPlan.objects.count(), PlanStep.objects.count(), AuditEvent.objects.count()


def field_errors(error) -> dict[str, str]:
    return {item.field: item.message for item in error.errors}

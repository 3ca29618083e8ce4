"""Writes to treatment plans: made on a signed consent, laid out from the protocol, audited."""

from datetime import date

from django.db import transaction
from django.utils import timezone

from cellclinic.accounts.access import has_permission
from cellclinic.accounts.models import User
from cellclinic.accounts.roles import Permission
from cellclinic.audit.services import audit_record
from cellclinic.catalogue.registry import get_catalogue
from cellclinic.catalogue.schema import Therapy
from cellclinic.consents.models import Consent
from cellclinic.consultations.models import Consultation
from cellclinic.core.errors import FieldError, Forbidden, InvalidInput
from cellclinic.treatment.models import PlanStep, TreatmentPlan
from cellclinic.treatment.schedule import Step, lay_out

CANNOT_PLAN = "Only a practitioner at the patient's clinic can make a treatment plan."
NOT_DECIDED = "the consultation has no signed decision yet"
NOT_PROCEED = "the decision was not to go ahead with a cell therapy"
NO_CONSENT = "No plan without signed consent: the consent to this therapy must be signed and in force"
ALREADY_PLANNED = "this consultation already has an active plan; stop it before making another"
UNKNOWN_THERAPY = "the therapy decided on is not in the catalogue"
IN_THE_PAST = "cannot be in the past"
HARVEST_NEEDED = "required: the patient's own cells are taken on this day"
HARVEST_NOT_USED = "leave empty: a donor product needs no harvest"
START_NEEDED = "required: the day of the first treatment"
STOPPED_FOR_CONSENT = "The consent this plan was made on is no longer in force."
INVALID = "The plan cannot be made; nothing was saved."


def plan_therapy(consultation: Consultation) -> Therapy | None:
    """The catalogue therapy the consultation decided on, or None when it is not (or no longer) there."""
    return get_catalogue().therapies.get(consultation.therapy_code)


def plan_check_can_create(
    *, consultation: Consultation, harvest_date: date | None, start_date: date | None
) -> tuple[Therapy, Consent, list[Step]]:
    """Raise InvalidInput naming every reason the plan cannot be made; else the therapy, consent, steps."""
    errors: list[FieldError] = []
    if consultation.status != Consultation.Status.DECIDED:
        errors.append(FieldError("consultation", NOT_DECIDED))
    elif consultation.decision != Consultation.Decision.PROCEED:
        errors.append(FieldError("consultation", NOT_PROCEED))
    therapy = plan_therapy(consultation)
    if therapy is None and not errors:
        errors.append(FieldError("consultation", UNKNOWN_THERAPY))
    consent = (
        Consent.objects.filter(
            consultation=consultation, therapy_code=consultation.therapy_code, status=Consent.Status.SIGNED
        )
        .order_by("-created_at", "-id")
        .first()
    )
    if consent is None:
        errors.append(FieldError("consent", NO_CONSENT))
    if TreatmentPlan.objects.filter(consultation=consultation, status=TreatmentPlan.Status.ACTIVE).exists():
        errors.append(FieldError("consultation", ALREADY_PLANNED))
    today = timezone.localdate()
    for name, value in (("harvest_date", harvest_date), ("start_date", start_date)):
        if value is not None and value < today:
            errors.append(FieldError(name, IN_THE_PAST))
    if therapy is not None:
        if therapy.autologous and harvest_date is None:
            errors.append(FieldError("harvest_date", HARVEST_NEEDED))
        if not therapy.autologous:
            if harvest_date is not None:
                errors.append(FieldError("harvest_date", HARVEST_NOT_USED))
            if start_date is None:
                errors.append(FieldError("start_date", START_NEEDED))
    if errors:
        summary = "; ".join(f"{e.field}: {e.message}" for e in errors)
        raise InvalidInput(detail=f"{INVALID} {summary}", errors=errors)
    assert therapy is not None and consent is not None
    start = harvest_date if therapy.autologous else start_date
    steps = lay_out(therapy, indication=consultation.indication or None, start=start, harvest=harvest_date)
    return therapy, consent, steps


def plan_preview(
    *, consultation: Consultation, harvest_date: date | None, start_date: date | None
) -> list[Step]:
    """The steps a plan would have, checked exactly as plan_create checks them, without saving."""
    _, _, steps = plan_check_can_create(
        consultation=consultation, harvest_date=harvest_date, start_date=start_date
    )
    return steps


@transaction.atomic
def plan_create(
    *,
    consultation: Consultation,
    actor: User,
    harvest_date: date | None = None,
    start_date: date | None = None,
) -> TreatmentPlan:
    """Lay out and save the plan for a decided consultation whose consent is signed and in force."""
    if not has_permission(actor, Permission.PLAN_CREATE, consultation.site_id):
        raise Forbidden(CANNOT_PLAN)
    # Lock the consultation: two practitioners pressing "Save" at once must not make two plans.
    consultation = Consultation.objects.select_for_update().get(pk=consultation.pk)
    therapy, consent, steps = plan_check_can_create(
        consultation=consultation, harvest_date=harvest_date, start_date=start_date
    )
    plan = TreatmentPlan.objects.create(
        site_id=consultation.site_id,
        patient_id=consultation.patient_id,
        consultation=consultation,
        consent=consent,
        therapy_code=therapy.code,
        therapy_version=therapy.version,
        harvest_date=harvest_date,
        start_date=steps[0].due,
        created_by=actor,
    )
    PlanStep.objects.bulk_create(
        PlanStep(
            plan=plan,
            sequence=index,
            kind=step.kind.value,
            label=step.label[:200],
            detail=step.detail,
            due_date=step.due,
            window_start=step.window_start,
            window_end=step.window_end,
            primary_endpoint=step.primary_endpoint,
        )
        for index, step in enumerate(steps, start=1)
    )
    audit_record(
        actor=actor,
        action="plan.create",
        object_type="treatment_plan",
        object_id=plan.pk,
        site=consultation.site,
        patient_id=consultation.patient_id,
        after={
            "consultation": consultation.pk,
            "consent": consent.pk,
            "therapy_code": therapy.code,
            "therapy_version": therapy.version,
            "harvest_date": harvest_date,
            "start_date": plan.start_date,
            "steps": len(steps),
        },
    )
    return plan


@transaction.atomic
def plans_stop_for_consent(*, consent: Consent, actor: User | None, reason: str) -> int:
    """Stop every active plan made on CONSENT (for example when it is withdrawn); how many stopped.

    An empty REASON is recorded as the consent no longer being in force.
    """
    reason = (reason or "").strip() or STOPPED_FOR_CONSENT
    plans = list(
        TreatmentPlan.objects.select_for_update()
        .select_related("site")
        .filter(consent=consent, status=TreatmentPlan.Status.ACTIVE)
        .order_by("id")
    )
    for plan in plans:
        plan.status = TreatmentPlan.Status.STOPPED
        plan.stopped_reason = reason
        plan.save(update_fields=["status", "stopped_reason", "updated_at"])
        audit_record(
            actor=actor,
            action="plan.stop",
            object_type="treatment_plan",
            object_id=plan.pk,
            site=plan.site,
            patient_id=plan.patient_id,
            before={"status": TreatmentPlan.Status.ACTIVE.value},
            after={"status": TreatmentPlan.Status.STOPPED.value},
            reason=reason,
        )
    return len(plans)

"""Writes to treatment plans: made on a signed consent, laid out from the protocol, audited."""

from datetime import date

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from cellclinic.accounts.access import has_permission
from cellclinic.accounts.models import Site, User
from cellclinic.accounts.roles import Permission
from cellclinic.audit.services import audit_record, state_change
from cellclinic.catalogue.registry import get_catalogue
from cellclinic.catalogue.schema import ProcessingKind, Therapy, version_key
from cellclinic.consents.models import Consent
from cellclinic.consents.selectors import consent_in_force
from cellclinic.consultations.models import Consultation
from cellclinic.core import plugs
from cellclinic.core.errors import FieldError, Forbidden, InvalidInput
from cellclinic.notifications.services import notify
from cellclinic.treatment.models import PlanStep, TreatmentPlan
from cellclinic.treatment.schedule import Step, lay_out
from cellclinic.treatment.states import PLAN_STATES

CANNOT_PLAN = "Only a practitioner at the patient's clinic can make a treatment plan."
NOT_DECIDED = "the consultation has no signed decision yet"
NOT_PROCEED = "the decision was not to go ahead with a cell therapy"
NO_CONSENT = "No plan without signed consent: the consent to this therapy must be signed and in force"
ALREADY_PLANNED = "this consultation already has an active plan; stop it before making another"
UNKNOWN_THERAPY = "the therapy decided on is not in the catalogue"
CONSENT_VERSION_GONE = (
    "this consent was given to version {version} of the protocol, which is no longer in the catalogue; "
    "a new consent is needed"
)
CONSENT_VERSION_DIFFERS = (
    "this consent was given to version {consent} of the protocol, but the consultation decided on "
    "version {decided}; the decision and the consent must name the same version"
)
IN_THE_PAST = "cannot be in the past"
HARVEST_NEEDED = "required: the patient's own cells are taken on this day"
HARVEST_NOT_USED = "leave empty: a donor product needs no harvest"
START_NEEDED = "required: the day of the first treatment"
STOPPED_FOR_CONSENT = "The consent this plan was made on is no longer in force."
INVALID = "The plan cannot be made; nothing was saved."


def plan_therapy(consultation: Consultation, consent: Consent | None = None) -> Therapy | None:
    """The protocol version a plan follows: CONSENT's, or before consent the one decided on; None if gone."""
    version = consultation.therapy_version if consent is None else consent.therapy_version
    return get_catalogue().therapy(consultation.therapy_code, version)


def _consent_version_problem(consultation: Consultation, consent: Consent, therapy: Therapy | None) -> str:
    """Why the plan cannot follow CONSENT's protocol version, or "" when it can."""
    if version_key(consent.therapy_version) != version_key(consultation.therapy_version):
        return CONSENT_VERSION_DIFFERS.format(
            consent=consent.therapy_version, decided=consultation.therapy_version or "none"
        )
    if therapy is None:
        return CONSENT_VERSION_GONE.format(version=consent.therapy_version)
    return ""


def processing_slot(*, site: Site, therapy: Therapy, wanted: date) -> date | None:
    """The first day on or after WANTED that the lab serving SITE has a processing slot free for THERAPY,
    as the lab answers it (the `processing` scheduler of cellclinic.core.plugs).

    None when THERAPY's cells are not grown in a lab (a donor product, or prepared at the bedside) or
    when no lab answers: then processing is planned from the harvest day, as the protocol alone says.
    """
    if not therapy.autologous or therapy.processing.kind == ProcessingKind.POINT_OF_CARE:
        return None
    answer = plugs.scheduled("processing", site, therapy, wanted)
    return None if answer is None else answer[0]


def plan_check_can_create(
    *, consultation: Consultation, harvest_date: date | None, start_date: date | None
) -> tuple[Therapy, Consent, list[Step]]:
    """Raise InvalidInput naming every reason the plan cannot be made; else the therapy, consent, steps.

    Cells grown in a lab are processed from the lab's first free processing slot on or after the harvest.
    """
    errors: list[FieldError] = []
    if consultation.status != Consultation.Status.DECIDED:
        errors.append(FieldError("consultation", NOT_DECIDED))
    elif consultation.decision != Consultation.Decision.PROCEED:
        errors.append(FieldError("consultation", NOT_PROCEED))
    consent = consent_in_force(consultation)
    therapy = plan_therapy(consultation, consent)
    if not get_catalogue().versions(consultation.therapy_code):
        if not errors:
            errors.append(FieldError("consultation", UNKNOWN_THERAPY))
    elif consent is not None and (problem := _consent_version_problem(consultation, consent, therapy)):
        errors.append(FieldError("consent", problem))
        therapy = None
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
    slot_start = None
    if harvest_date is not None:
        slot_start = processing_slot(site=consultation.site, therapy=therapy, wanted=harvest_date)
    steps = lay_out(
        therapy,
        indication=consultation.indication or None,
        start=start,
        harvest=harvest_date,
        slot_start=slot_start,
    )
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
    notify(
        kind="plan.made",
        template="treatment/notifications/plan_made",
        site=consultation.site,
        recipient=consultation.patient.portal_user,
        link=reverse("patients:portal"),
        context={"steps": steps},
        actor=actor,
        object_type="treatment_plan",
        object_id=plan.pk,
    )
    return plan


@transaction.atomic
def plans_stop_for_consent(*, consent: Consent, actor: User | None, reason: str) -> int:
    """Stop every active plan made on CONSENT (for example when it is withdrawn); how many stopped.

    An empty REASON is recorded as the consent no longer being in force.
    """
    reason = (reason or "").strip() or STOPPED_FOR_CONSENT
    plans = list(
        TreatmentPlan.objects.select_for_update(of=("self",))
        .select_related("site")
        .filter(consent=consent, status=TreatmentPlan.Status.ACTIVE)
        .order_by("id")
    )
    for plan in plans:
        state_change(
            plan,
            to=TreatmentPlan.Status.STOPPED,
            table=PLAN_STATES,
            actor=actor,
            action="plan.stop",
            reason=reason,
            fields={"stopped_reason": reason},
        )
    return len(plans)

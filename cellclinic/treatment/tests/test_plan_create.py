"""plan_create: only on a decided "proceed" consultation with signed consent, dates that fit, audited."""

import pytest

from cellclinic.audit.models import AuditEvent
from cellclinic.consents.models import Consent
from cellclinic.consents.services import consent_withdraw
from cellclinic.consultations.models import Consultation
from cellclinic.core.errors import Forbidden, InvalidInput
from cellclinic.treatment.models import TreatmentPlan
from cellclinic.treatment.services import (
    ALREADY_PLANNED,
    HARVEST_NEEDED,
    HARVEST_NOT_USED,
    IN_THE_PAST,
    NO_CONSENT,
    NOT_DECIDED,
    NOT_PROCEED,
    START_NEEDED,
    UNKNOWN_THERAPY,
    plan_create,
    plan_preview,
)
from cellclinic.treatment.tests.helpers import (
    CULTURED,
    DONOR,
    POINT_OF_CARE,
    consented_directly,
    counts,
    field_errors,
    in_days,
    pathway_to,
)

pytestmark = pytest.mark.django_db


def _refused(consultation, actor, **dates) -> dict[str, str]:
    before = counts()
    with pytest.raises(InvalidInput) as caught:
        plan_create(consultation=consultation, actor=actor, **dates)
    assert counts() == before
    return field_errors(caught.value)


def test_it_lays_out_and_saves_a_cultured_plan_with_one_audit_event(dr_ada, patient_a):
    consultation = pathway_to("consent_signed", patient_a, dr_ada).consultation
    consent = consultation.consents.get()
    events = AuditEvent.objects.count()
    plan = plan_create(consultation=consultation, actor=dr_ada, harvest_date=in_days(3))
    assert plan.status == TreatmentPlan.Status.ACTIVE
    assert (plan.patient, plan.site, plan.consent, plan.created_by) == (
        patient_a,
        patient_a.site,
        consent,
        dr_ada,
    )
    assert (plan.therapy_code, plan.therapy_version) == (CULTURED, "1.1")
    assert plan.harvest_date == in_days(3) and plan.start_date == in_days(3)
    steps = list(plan.steps.order_by("sequence"))
    assert [s.sequence for s in steps] == list(range(1, len(steps) + 1))
    assert [s.kind for s in steps][:4] == ["harvest", "processing", "product_ready", "session"]
    assert steps[-1].kind == "follow_up" and steps[-1].primary_endpoint
    assert [s.due_date for s in steps] == sorted(s.due_date for s in steps)
    assert AuditEvent.objects.count() == events + 1
    event = AuditEvent.objects.latest("id")
    assert (event.action, event.object_type, event.object_id) == (
        "plan.create",
        "treatment_plan",
        str(plan.pk),
    )
    assert event.patient_id == patient_a.pk and event.site_id == patient_a.site_id
    assert event.after["consent"] == consent.pk and event.after["steps"] == len(steps)


def test_a_point_of_care_plan_is_harvested_and_treated_the_same_day(dr_ada, patient_a):
    consultation = pathway_to("consent_signed", patient_a, dr_ada, POINT_OF_CARE).consultation
    plan = plan_create(consultation=consultation, actor=dr_ada, harvest_date=in_days(0))
    session = plan.steps.get(kind="session")
    assert session.due_date == in_days(0)
    assert plan.steps.filter(kind="follow_up").count() == 4


def test_a_donor_plan_starts_on_the_start_date(dr_ada, patient_a):
    consultation = pathway_to("consent_signed", patient_a, dr_ada, DONOR).consultation
    plan = plan_create(consultation=consultation, actor=dr_ada, start_date=in_days(10))
    assert plan.harvest_date is None and plan.start_date == in_days(10)
    assert not plan.steps.filter(kind="harvest").exists()
    assert plan.steps.filter(kind="session").count() == 8


def test_preview_gives_the_steps_without_saving(dr_ada, patient_a):
    consultation = pathway_to("consent_signed", patient_a, dr_ada).consultation
    before = counts()
    steps = plan_preview(consultation=consultation, harvest_date=in_days(1), start_date=None)
    assert steps[0].kind == "harvest" and steps[0].due == in_days(1)
    assert counts() == before


def test_no_plan_without_signed_consent(dr_ada, patient_a):
    consultation = pathway_to("decided", patient_a, dr_ada).consultation
    assert _refused(consultation, dr_ada, harvest_date=in_days(1)) == {"consent": NO_CONSENT}


# How the pathway reaches a consent in each state that is not in force.
NOT_IN_FORCE = {
    Consent.Status.AWAITING_PATIENT: "consent_prepared",
    Consent.Status.AWAITING_PRACTITIONER: "patient_signed",
    Consent.Status.WITHDRAWN: "consent_signed",
}


@pytest.mark.parametrize("status", list(NOT_IN_FORCE))
def test_no_plan_on_a_consent_not_in_force(dr_ada, patient_a, status):
    pathway = pathway_to(NOT_IN_FORCE[status], patient_a, dr_ada)
    if status == Consent.Status.WITHDRAWN:
        consent_withdraw(consent=pathway.consent, actor=dr_ada, reason="The patient changed their mind")
    assert Consent.objects.get(pk=pathway.consent.pk).status == status
    assert _refused(pathway.consultation, dr_ada, harvest_date=in_days(1)) == {"consent": NO_CONSENT}


def test_no_plan_on_a_consent_to_another_therapy(dr_ada, patient_a):
    """Written directly: the services only prepare a consent to the therapy decided on."""
    consultation = consented_directly(patient_a, dr_ada, consent_code=POINT_OF_CARE)
    assert _refused(consultation, dr_ada, harvest_date=in_days(1)) == {"consent": NO_CONSENT}


def test_no_plan_on_a_consent_of_another_consultation(dr_ada, patient_a):
    consultation = pathway_to("decided", patient_a, dr_ada).consultation
    pathway_to("consent_signed", patient_a, dr_ada)
    assert _refused(consultation, dr_ada, harvest_date=in_days(1)) == {"consent": NO_CONSENT}


def test_no_plan_before_the_decision(dr_ada, patient_a):
    consultation = pathway_to("consultation_open", patient_a, dr_ada).consultation
    errors = _refused(consultation, dr_ada, harvest_date=in_days(1))
    assert errors["consultation"] == NOT_DECIDED


@pytest.mark.parametrize(
    ("decision", "options"),
    [
        (Consultation.Decision.ALTERNATIVE, {"alternative": "microneedling"}),
        (Consultation.Decision.DECLINE, {}),
        (Consultation.Decision.REFER, {"decision_notes": "To a dermatologist for the pigmentation"}),
    ],
)
def test_no_plan_unless_the_decision_was_to_proceed(dr_ada, patient_a, decision, options):
    consultation = pathway_to("decided", patient_a, dr_ada, decision=decision, **options).consultation
    assert consultation.decision == decision
    errors = _refused(consultation, dr_ada, harvest_date=in_days(1))
    assert errors["consultation"] == NOT_PROCEED


def test_no_plan_for_a_therapy_missing_from_the_catalogue(dr_ada, patient_a):
    """Written directly: the services never decide on a therapy the catalogue does not hold."""
    consultation = consented_directly(patient_a, dr_ada, therapy_code="retired_therapy")
    errors = _refused(consultation, dr_ada, harvest_date=in_days(1))
    assert errors == {"consultation": UNKNOWN_THERAPY}


def test_no_second_active_plan_for_a_consultation(dr_ada, patient_a):
    consultation = pathway_to("consent_signed", patient_a, dr_ada).consultation
    plan_create(consultation=consultation, actor=dr_ada, harvest_date=in_days(1))
    assert _refused(consultation, dr_ada, harvest_date=in_days(2)) == {"consultation": ALREADY_PLANNED}


def test_a_new_plan_may_follow_a_stopped_one(dr_ada, patient_a):
    consultation = pathway_to("consent_signed", patient_a, dr_ada).consultation
    first = plan_create(consultation=consultation, actor=dr_ada, harvest_date=in_days(1))
    TreatmentPlan.objects.filter(pk=first.pk).update(status=TreatmentPlan.Status.STOPPED)
    second = plan_create(consultation=consultation, actor=dr_ada, harvest_date=in_days(2))
    assert second.pk != first.pk


def test_dates_in_the_past_are_refused(dr_ada, patient_a):
    consultation = pathway_to("consent_signed", patient_a, dr_ada).consultation
    assert _refused(consultation, dr_ada, harvest_date=in_days(-1)) == {"harvest_date": IN_THE_PAST}
    donor = pathway_to("consent_signed", patient_a, dr_ada, DONOR).consultation
    assert _refused(donor, dr_ada, start_date=in_days(-1)) == {"start_date": IN_THE_PAST}


def test_an_autologous_plan_needs_the_harvest_date(dr_ada, patient_a):
    consultation = pathway_to("consent_signed", patient_a, dr_ada).consultation
    assert _refused(consultation, dr_ada, start_date=in_days(1)) == {"harvest_date": HARVEST_NEEDED}


def test_a_donor_plan_refuses_a_harvest_date_and_needs_a_start(dr_ada, patient_a):
    consultation = pathway_to("consent_signed", patient_a, dr_ada, DONOR).consultation
    assert _refused(consultation, dr_ada, harvest_date=in_days(1)) == {
        "harvest_date": HARVEST_NOT_USED,
        "start_date": START_NEEDED,
    }


def test_every_problem_is_named_at_once(dr_ada, patient_a):
    undecided = pathway_to("consultation_open", patient_a, dr_ada).consultation
    errors = _refused(undecided, dr_ada, start_date=in_days(-3))
    assert set(errors) == {"consultation", "consent", "start_date"}
    # Decided, the therapy is known, so the dates it needs are checked too.
    unconsented = pathway_to("decided", patient_a, dr_ada).consultation
    errors = _refused(unconsented, dr_ada, start_date=in_days(-3))
    assert set(errors) == {"consent", "start_date", "harvest_date"}


@pytest.mark.parametrize("persona", ["nurse_bo", "admin_al", "dr_cy", "lab_li"])
def test_only_a_practitioner_at_the_patients_clinic_may_make_a_plan(request, dr_ada, patient_a, persona):
    consultation = pathway_to("consent_signed", patient_a, dr_ada).consultation
    before = counts()
    with pytest.raises(Forbidden):
        plan_create(
            consultation=consultation, actor=request.getfixturevalue(persona), harvest_date=in_days(1)
        )
    assert counts() == before

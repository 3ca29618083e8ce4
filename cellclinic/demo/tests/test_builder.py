"""The pathway builder: every stage builds through the real services, and what it builds is consistent."""

import hashlib
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from cellclinic.audit.models import AuditEvent, Signature
from cellclinic.audit.selectors import audit_verify
from cellclinic.audit.services import record_hash
from cellclinic.catalogue.registry import get_catalogue
from cellclinic.consents.services import consent_document_for, consent_record
from cellclinic.consultations.services import decision_record
from cellclinic.core.errors import InvalidInput
from cellclinic.demo.builder import (
    DEFAULT_THERAPY,
    HEALTHY,
    NO_CONDITION,
    PLAN_IN_DAYS,
    STAGES,
    advance,
    at_stage,
    public_answers,
    room_answers,
    start,
)
from cellclinic.demo.data import DEMO_PASSWORD
from conftest import PASSWORD
from tests import factories

pytestmark = pytest.mark.django_db


def signatures(object_type: str, object_id) -> list[Signature]:
    return list(Signature.objects.filter(object_type=object_type, object_id=str(object_id)).order_by("id"))


def reached(stage: str, name: str) -> bool:
    return STAGES.index(stage) >= STAGES.index(name)


def assert_consistent(pathway) -> None:
    """Every invariant of the stage the pathway has reached, and of each stage before it."""
    stage = pathway.stage
    assessment = pathway.assessment
    assert assessment.source == "public" and assessment.outcome == "suitable"
    if reached(stage, "enquired"):
        enquiry = pathway.enquiry
        assert enquiry.assessment_id == assessment.pk and enquiry.site_id == pathway.site.pk
    if reached(stage, "registered"):
        patient = pathway.patient
        assert patient.site_id == pathway.site.pk and patient.mrn.startswith(pathway.site.code)
        assert pathway.enquiry.patient_id == patient.pk and assessment.patient_id == patient.pk
    if reached(stage, "consultation_open"):
        consultation = pathway.consultation
        assert consultation.patient_id == pathway.patient.pk and consultation.enquiry_id == pathway.enquiry.pk
        assert consultation.assessment.source == "practitioner" and consultation.expectations_discussed_at
        assert consultation.enquiry.status == "booked"
    if reached(stage, "decided"):
        consultation = pathway.consultation
        assert (consultation.status, consultation.decision) == ("decided", "proceed")
        [decision] = signatures("consultation", consultation.pk)
        assert decision.signer == pathway.practitioner and decision.meaning == "authored"
        assert decision.record_hash == record_hash(decision_record(consultation))
    if reached(stage, "consent_prepared"):
        consent = pathway.consent
        consent.refresh_from_db()
        therapy = get_catalogue().therapy(consent.therapy_code, consent.therapy_version)
        document = consent_document_for(pathway.consultation, therapy, minor=consent.minor)
        assert consent.document == document and consent.document_hash == record_hash(document)
        assert consent.therapy_code == pathway.consultation.therapy_code
    if reached(stage, "patient_signed"):
        [patient_signature, *_] = signatures("consent", pathway.consent.pk)
        assert patient_signature.signer == pathway.portal_user and patient_signature.meaning == "consented"
        assert patient_signature.record_hash == record_hash(consent_record(pathway.consent))
    if reached(stage, "consent_signed"):
        consent = pathway.consent
        assert consent.patient_signed_at and consent.practitioner_signed_at
        by_patient, by_practitioner = signatures("consent", consent.pk)
        assert (by_patient.signer, by_practitioner.signer) == (pathway.portal_user, pathway.practitioner)
        assert (by_patient.meaning, by_practitioner.meaning) == ("consented", "authored")
        assert by_patient.record_hash == by_practitioner.record_hash == record_hash(consent_record(consent))
        with default_storage.open(consent.pdf.name, "rb") as handle:
            assert hashlib.sha256(handle.read()).hexdigest() == consent.pdf_sha256
    if reached(stage, "planned"):
        plan = pathway.plan
        assert plan.consent_id == pathway.consent.pk and plan.consultation_id == pathway.consultation.pk
        assert plan.harvest_date == timezone.localdate() + timedelta(days=PLAN_IN_DAYS)
        assert plan.steps.count() > 0 and plan.steps.order_by("sequence").first().kind == "harvest"
    if stage == "consent_signed" or stage == "planned":
        assert pathway.consent.in_force
    if stage == "planned":
        assert pathway.plan.status == "active"
    if stage == "withdrawn":
        assert pathway.consent.status == "withdrawn" and not pathway.consent.in_force
        assert pathway.plan.status == "stopped"


@pytest.mark.parametrize("stage", STAGES)
def test_every_stage_builds_consistent_rows_and_the_audit_chain_verifies(stage):
    pathway = at_stage(stage)
    assert pathway.stage == stage
    assert_consistent(pathway)
    assert audit_verify().ok


def test_the_audit_chain_verifies_after_every_stage_of_one_pathway():
    pathway = start()
    for stage in STAGES:
        before = AuditEvent.objects.count()
        advance(pathway, stage)
        assert AuditEvent.objects.count() > before, f"{stage} recorded nothing"
        assert_consistent(pathway)
        assert audit_verify().ok, stage


def test_it_builds_on_the_personas_of_the_tests(patient_a, dr_ada, nurse_bo):
    pathway = at_stage("planned", patient=patient_a, practitioner=dr_ada, password=PASSWORD, nurse=nurse_bo)
    assert pathway.assessment is None and pathway.enquiry is None
    assert pathway.consultation.therapy_code == "autologous_fibroblast_injection_acne_scars"
    assert pathway.consent.in_force and pathway.plan.steps.exists()
    assert pathway.portal_user.patient == patient_a
    assert audit_verify().ok


def test_the_room_answers_for_a_persona_are_the_chart_with_every_open_question_healthy(patient_a, dr_ada):
    pathway = at_stage("consultation_open", patient=patient_a, practitioner=dr_ada)
    answers = pathway.consultation.assessment.answers
    assert (answers["concerns"], answers["area"], answers["expectation"]) == (
        ["scar"],
        "face",
        "gradual_improvement",
    )
    assert answers["health"] == HEALTHY
    assert answers["condition"] == {**NO_CONDITION, "wound_open": False, "months_since_injury": 24}
    # The persona's scar is served only by the acne-scar study: offered within the study, after a talk.
    assert pathway.consultation.assessment.outcome == "consult"
    assert any(r["rule"].startswith("study_only:") for r in pathway.consultation.assessment.result["reasons"])
    started = at_stage("consultation_open", patient=patient_a, practitioner=dr_ada, ready=False)
    again = room_answers(started.consultation)
    assert {key: again[key] for key in answers} == answers


def test_an_answer_given_in_the_room_overrides_the_chart(patient_a, dr_ada):
    pathway = at_stage(
        "decided",
        patient=patient_a,
        practitioner=dr_ada,
        password=PASSWORD,
        room_health={"pregnant_or_breastfeeding": True},
        decision_notes="Reviewed after delivery; proceeding in six months.",
    )
    assert pathway.consultation.assessment.outcome == "not_suitable"
    assert pathway.consultation.status == "decided"


@pytest.mark.parametrize(
    ("therapy", "indication"),
    [
        ("autologous_fibroblast_injection", "premature_ageing"),
        ("autologous_skin_cell_suspension", "burn"),
        ("cryopreserved_fibroblast_dermal_substitute", "wound"),
    ],
)
def test_a_persona_can_be_treated_for_another_indication(patient_a, dr_ada, therapy, indication):
    options = {"therapy": therapy, "indication": indication}
    pathway = at_stage("planned", patient=patient_a, practitioner=dr_ada, password=PASSWORD, **options)
    assert (pathway.consultation.indication, pathway.plan.therapy_code) == (indication, therapy)
    assessment = pathway.consultation.assessment
    if indication in {"burn", "wound"}:
        # An open burn or wound needs care now: the practitioner reviews it; it is never "suitable".
        assert assessment.outcome == "consult" and assessment.result["urgent"]
    else:
        assert assessment.outcome == "suitable"
    assert pathway.plan.steps.exists()


def test_users_it_makes_sign_with_the_demo_password_by_default():
    pathway = at_stage("consent_signed")
    assert pathway.practitioner.check_password(DEMO_PASSWORD)
    assert pathway.portal_user.check_password(DEMO_PASSWORD)
    assert pathway.consultation.therapy_code == DEFAULT_THERAPY


def test_existing_users_need_their_password(patient_a, dr_ada):
    with pytest.raises(InvalidInput) as error:
        at_stage("decided", patient=patient_a, practitioner=dr_ada)
    assert error.value.errors[0].field == "password"


def test_a_patient_signing_in_clinic_is_witnessed_by_the_practitioner():
    pathway = at_stage("consent_signed", in_clinic=True, photographs=False, outcome_reports=True)
    witnessed, authored = signatures("consent", pathway.consent.pk)
    assert (witnessed.meaning, authored.meaning) == ("witnessed", "authored")
    assert {witnessed.signer, authored.signer} == {pathway.practitioner}
    assert witnessed.record_hash == authored.record_hash == record_hash(consent_record(pathway.consent))
    assert (pathway.consent.photographs, pathway.consent.outcome_reports) == (False, True)
    assert pathway.portal_user is None and pathway.consent.patient_signed_in_clinic


def test_a_donor_product_is_planned_from_its_first_treatment():
    pathway = at_stage("planned", therapy="bilayered_living_cell_construct", in_days=3)
    assert pathway.patient.presenting_concern == "wound"
    assert pathway.assessment.answers["area"] == "legs"
    assert pathway.plan.harvest_date is None
    assert pathway.plan.start_date == timezone.localdate() + timedelta(days=3)


def test_today_sets_the_harvest_date():
    today = timezone.localdate() + timedelta(days=30)
    pathway = at_stage("planned", today=today, in_days=0)
    assert pathway.plan.harvest_date == today


def test_the_patient_may_withdraw_in_the_portal():
    pathway = at_stage("withdrawn", by_patient=True)
    assert pathway.consent.withdrawn_by == pathway.portal_user
    assert pathway.plan.status == "stopped"


@pytest.mark.parametrize(
    ("decision", "options"),
    [
        ("alternative", {"alternative": "dermal_filler", "decision_notes": "A filler meets the date."}),
        ("decline", {"decision_notes": "Not now."}),
    ],
)
def test_other_decisions_are_signed_too(decision, options):
    pathway = at_stage("decided", decision=decision, **options)
    assert pathway.consultation.decision == decision and pathway.consultation.therapy_code == ""
    assert len(signatures("consultation", pathway.consultation.pk)) == 1


def test_a_consultation_can_be_left_just_started(patient_a, dr_ada):
    pathway = at_stage("consultation_open", patient=patient_a, practitioner=dr_ada, ready=False)
    consultation = pathway.consultation
    assert consultation.status == "open" and consultation.assessment is None and consultation.goals == ""


def test_a_full_consultation_keeps_its_photos_and_alternatives():
    pathway = at_stage("consultation_open", photos=("front", "close_up"), alternatives=("dermal_filler",))
    assert [photo.view for photo in pathway.photos] == ["front", "close_up"]
    assert pathway.consultation.alternatives_discussed == ["dermal_filler"]


def test_a_pathway_goes_on_from_where_it_stopped():
    pathway = at_stage("consent_prepared")
    consent = pathway.consent
    advance(pathway, "planned")
    assert pathway.consent.pk == consent.pk and pathway.plan.consent_id == consent.pk


def test_two_pathways_at_one_clinic():
    first = at_stage("planned")
    second = at_stage("decided", site=first.site, practitioner=first.practitioner)
    assert second.patient.site == first.patient.site and second.patient != first.patient


def test_answers_for_a_concern_without_a_therapy_still_ask_plainly():
    answers = public_answers(concerns=["sun_damage"])
    assert answers["concerns"] == ["sun_damage"] and answers["area"] == "face"


def test_an_option_no_stage_takes_is_refused_and_nothing_is_made():
    events = AuditEvent.objects.count()
    with pytest.raises(TypeError, match="in_days"):
        at_stage("decided", in_days=3)
    assert AuditEvent.objects.count() == events


def test_a_refused_stage_leaves_nothing_behind(patient_a, dr_ada):
    events = AuditEvent.objects.count()
    with pytest.raises(InvalidInput):
        at_stage("planned", patient=patient_a, practitioner=dr_ada, password="not the password")
    assert AuditEvent.objects.count() == events


def test_stages_go_forward_only(patient_a, dr_ada):
    with pytest.raises(ValueError, match="already registered"):
        at_stage("enquired", patient=patient_a, practitioner=dr_ada)
    pathway = at_stage("decided", patient=patient_a, practitioner=dr_ada, password=PASSWORD)
    with pytest.raises(ValueError, match="past"):
        advance(pathway, "consultation_open")
    with pytest.raises(ValueError, match="unknown stage"):
        advance(pathway, "booked")


FACTORIES = [
    factories.LabFactory,
    factories.SiteFactory,
    factories.UserFactory,
    factories.PortalUserFactory,
    factories.MembershipFactory,
    factories.StaffFactory,
    factories.PractitionerFactory,
    factories.NurseFactory,
    factories.ApiTokenFactory,
    factories.PatientFactory,
    factories.AssessmentFactory,
    factories.EnquiryFactory,
    factories.ConsultationFactory,
    factories.PhotoFactory,
    factories.ConsentFactory,
    factories.TreatmentPlanFactory,
    factories.PlanStepFactory,
]


def _name(factory_class) -> str:
    return factory_class.__name__


@pytest.mark.parametrize("factory_class", FACTORIES, ids=_name)
def test_factories_create_valid_rows_through_the_services(factory_class):
    row = factory_class()
    row.refresh_from_db()
    row.full_clean()
    assert AuditEvent.objects.exists() and audit_verify().ok


@pytest.mark.parametrize("factory_class", FACTORIES, ids=_name)
def test_factories_build_valid_rows_without_the_database(factory_class, django_assert_num_queries):
    with django_assert_num_queries(0):
        row = factory_class.build()
        relations = [f.name for f in row._meta.concrete_fields if f.is_relation]
        row.clean_fields(exclude=relations)
        row.clean()
    assert row.pk is None


def test_a_staff_factory_gives_the_role_at_the_site():
    nurse = factories.NurseFactory()
    [membership] = nurse.memberships.all()
    assert membership.role == "nurse" and membership.site.kind == "clinic"
    practitioner = factories.PractitionerFactory(site=membership.site)
    assert practitioner.memberships.get().site == membership.site


def test_a_signed_consent_from_the_factory_has_its_signatures_and_pdf():
    consent = factories.ConsentFactory(signed=True)
    assert consent.in_force
    assert consent.document_hash == record_hash(consent.document)
    by_patient, by_practitioner = signatures("consent", consent.pk)
    assert (by_patient.signer, by_practitioner.signer) == (consent.patient.portal_user, consent.created_by)
    assert by_patient.record_hash == by_practitioner.record_hash == record_hash(consent_record(consent))
    with default_storage.open(consent.pdf.name, "rb") as handle:
        assert hashlib.sha256(handle.read()).hexdigest() == consent.pdf_sha256


def test_a_withdrawn_consent_and_a_stopped_plan_from_the_factories():
    consent = factories.ConsentFactory(withdrawn=True)
    assert consent.status == "withdrawn" and consent.treatment_plans.get().status == "stopped"
    assert factories.TreatmentPlanFactory(stopped=True).status == "stopped"


def test_pathway_factories_take_the_builders_options():
    consultation = factories.ConsultationFactory(decided=True, goals="Smoother cheeks.")
    assert consultation.status == "decided" and consultation.goals == "Smoother cheeks."
    plan = factories.TreatmentPlanFactory(in_days=12)
    assert plan.harvest_date == timezone.localdate() + timedelta(days=12)
    step = factories.PlanStepFactory(plan=plan, sequence=2)
    assert step.plan == plan and step.sequence == 2


def test_an_unsaved_signed_consent_is_refused():
    with pytest.raises(ValueError, match="create it"):
        factories.ConsentFactory.build(signed=True)


def test_a_token_from_the_factory_authenticates():
    from cellclinic.accounts.services import api_token_authenticate

    token = factories.ApiTokenFactory()
    assert api_token_authenticate(token.key) == token.user

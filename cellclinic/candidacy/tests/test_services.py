"""Services: assessments stored and audited once, enquiries handled, bad input changes nothing."""

from datetime import date

import pytest

from cellclinic.audit.models import AuditEvent
from cellclinic.candidacy.engine import CONDITION_KEYS
from cellclinic.candidacy.models import Assessment, Enquiry
from cellclinic.candidacy.services import (
    assessment_run,
    chart_answers,
    enquiry_create,
    enquiry_register_patient,
    enquiry_status_set,
)
from cellclinic.candidacy.tests.helpers import EXAMPLE, payload
from cellclinic.core.errors import Forbidden, InvalidInput
from cellclinic.patients.models import Patient
from cellclinic.patients.services import patient_history_review_sign, patient_update
from conftest import PASSWORD

pytestmark = pytest.mark.django_db


def contact(clinic, **changes):
    return {
        "site": clinic,
        "name": "Mo Farah",
        "email": "mo@example.org",
        "consent_to_contact": True,
        **changes,
    }


def test_a_practitioner_run_belongs_to_the_patient_and_may_carry_detailed_allergies(patient_a, dr_ada):
    answers = payload(allergies=["trypsin"], health={"product_component_allergy": True})

    assessment = assessment_run(answers=answers, source="practitioner", patient=patient_a, actor=dr_ada)

    assert assessment.patient == patient_a and assessment.created_by == dr_ada
    assert assessment.answers["allergies"] == ["trypsin"]
    assert [t["code"] for t in assessment.result["therapies"]] == ["melanocyte_keratinocyte_transplant"]
    event = AuditEvent.objects.get(action="assessment.create")
    assert event.patient_id == patient_a.pk and event.actor_id == dr_ada.pk


def test_a_practitioner_run_needs_a_patient(dr_ada):
    with pytest.raises(InvalidInput) as caught:
        assessment_run(answers=EXAMPLE, source="practitioner", actor=dr_ada)

    assert caught.value.errors[0].field == "patient"
    assert not Assessment.objects.exists() and not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    ("answers", "field"),
    [
        (payload(concerns="vitiligo"), "concerns"),
        (payload(age=True), "age"),
        (payload(age=131), "age"),
        (payload(health={"cold_sores": 1}), "health.cold_sores"),
        (payload(condition={"wound_open": "yes"}), "condition.wound_open"),
        (payload(condition={"scar_age": 3}), "condition.scar_age"),
        (payload(colour="blue"), "colour"),
        ("not a dict", "body"),
    ],
)
def test_bad_answers_name_the_field_and_change_nothing(answers, field):
    with pytest.raises(InvalidInput) as caught:
        assessment_run(answers=answers, source="public")

    assert field in [error.field for error in caught.value.errors]
    assert not Assessment.objects.exists() and not AuditEvent.objects.exists()


def test_chart_answers_take_the_age_history_and_allergies_from_the_chart(patient_a, dr_ada):
    patient = patient_update(
        patient=patient_a,
        actor=dr_ada,
        data={"history": ["keloid_history"], "allergies": ["trypsin"]},
        reason="Corrected at the visit",
    )

    answers = chart_answers(patient, concerns=["scar"], area="face", expectation="gradual_improvement")

    today = date.today()
    born = patient_a.date_of_birth
    assert answers["age"] == today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    assert answers["health"]["keloid_history"] is True
    assert answers["health"]["product_component_allergy"] is True
    assert answers["health"]["pregnant_or_breastfeeding"] is None
    assert answers["health"]["generally_fit_and_healthy"] is None
    assert answers["allergies"] == ["trypsin"]
    assert answers["condition"] == dict.fromkeys(CONDITION_KEYS)
    assessment_run(answers=answers, source="practitioner", patient=patient_a, actor=dr_ada)


def test_a_signed_history_review_turns_absent_items_into_no(patient_a, dr_ada):
    patient_history_review_sign(patient=patient_a, signer=dr_ada, password=PASSWORD)

    answers = chart_answers(
        patient_a,
        concerns=["vitiligo"],
        area="face",
        expectation="gradual_improvement",
        condition={"vitiligo_stable_months": 24},
    )

    assert answers["health"]["pregnant_or_breastfeeding"] is False
    assert answers["health"]["product_component_allergy"] is False
    assert answers["condition"]["vitiligo_stable_months"] == 24


def test_a_review_signed_before_the_history_changed_does_not_count(patient_a, dr_ada):
    patient_history_review_sign(patient=patient_a, signer=dr_ada, password=PASSWORD)
    patient_update(
        patient=patient_a, actor=dr_ada, data={"history": ["keloid_history"]}, reason="Corrected at the visit"
    )

    answers = chart_answers(
        Patient.objects.get(pk=patient_a.pk),
        concerns=["scar"],
        area="face",
        expectation="gradual_improvement",
    )

    assert answers["health"]["keloid_history"] is True
    assert answers["health"]["collagen_disorder"] is None


def test_an_enquiry_is_created_new_and_audited_without_an_actor(clinic_a, public_assessment):
    enquiry = enquiry_create(assessment=public_assessment, data=contact(clinic_a))

    assert enquiry.status == "new" and enquiry.site == clinic_a and enquiry.assessment == public_assessment
    event = AuditEvent.objects.get(action="enquiry.create")
    assert event.actor_id is None and event.site_id == clinic_a.pk
    assert "mo@example.org" not in str(event.after)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": "  "}, "name"),
        ({"email": "", "phone": ""}, "email"),
        ({"email": "not-an-email"}, "email"),
        ({"consent_to_contact": False}, "consent_to_contact"),
        ({"site": None}, "site"),
    ],
)
def test_a_bad_enquiry_names_the_field_and_changes_nothing(clinic_a, public_assessment, changes, field):
    before = AuditEvent.objects.count()

    with pytest.raises(InvalidInput) as caught:
        enquiry_create(assessment=public_assessment, data=contact(clinic_a, **changes))

    assert field in [error.field for error in caught.value.errors]
    assert not Enquiry.objects.exists()
    assert AuditEvent.objects.count() == before


def test_an_enquiry_cannot_go_to_a_lab(lab, public_assessment):
    with pytest.raises(InvalidInput):
        enquiry_create(assessment=public_assessment, data=contact(lab))


def test_a_phone_number_alone_is_enough(clinic_a, public_assessment):
    enquiry = enquiry_create(
        assessment=public_assessment, data=contact(clinic_a, email="", phone="01234 567890")
    )

    assert enquiry.phone == "01234 567890"


@pytest.fixture
def enquiry(clinic_a, public_assessment):
    return enquiry_create(assessment=public_assessment, data=contact(clinic_a))


def test_the_status_moves_on_with_a_dated_note_and_one_audit_event(enquiry, nurse_bo):
    before = AuditEvent.objects.count()

    updated = enquiry_status_set(
        enquiry=enquiry, actor=nurse_bo, status="contacted", notes="Left a voicemail"
    )

    assert updated.status == "contacted" and updated.handled_by == nurse_bo
    assert updated.notes.endswith("Bo Lindqvist: Left a voicemail")
    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.latest("id")
    assert event.before["status"] == "new" and event.after["status"] == "contacted"


def test_a_closed_enquiry_stays_closed(enquiry, nurse_bo):
    enquiry_status_set(enquiry=enquiry, actor=nurse_bo, status="closed")
    before = AuditEvent.objects.count()

    with pytest.raises(InvalidInput) as caught:
        enquiry_status_set(enquiry=enquiry, actor=nurse_bo, status="new")

    assert caught.value.errors[0].field == "status"
    assert Enquiry.objects.get().status == "closed"
    assert AuditEvent.objects.count() == before


def test_an_unknown_status_changes_nothing(enquiry, nurse_bo):
    with pytest.raises(InvalidInput):
        enquiry_status_set(enquiry=enquiry, actor=nurse_bo, status="lost")

    assert Enquiry.objects.get().status == "new"


def test_the_same_status_without_a_note_writes_nothing(enquiry, nurse_bo):
    before = AuditEvent.objects.count()

    enquiry_status_set(enquiry=enquiry, actor=nurse_bo, status="new")

    assert AuditEvent.objects.count() == before


def test_staff_of_another_clinic_cannot_change_the_status(enquiry, dr_cy):
    with pytest.raises(Forbidden):
        enquiry_status_set(enquiry=enquiry, actor=dr_cy, status="booked")

    assert Enquiry.objects.get().status == "new"


def test_registering_links_the_enquiry_and_the_assessment_to_the_new_patient(enquiry, dr_ada):
    patient = enquiry_register_patient(
        enquiry=enquiry,
        actor=dr_ada,
        data={"given_name": "Mo", "family_name": "Farah", "date_of_birth": date(1990, 1, 2)},
    )

    enquiry.refresh_from_db()
    assert enquiry.patient == patient and patient.site == enquiry.site
    assert Assessment.objects.get().patient == patient
    assert AuditEvent.objects.filter(action="enquiry.register", patient_id=patient.pk).count() == 1

    with pytest.raises(InvalidInput):
        enquiry_register_patient(
            enquiry=enquiry,
            actor=dr_ada,
            data={"given_name": "Mo", "family_name": "F", "date_of_birth": date(1990, 1, 2)},
        )
    assert Patient.objects.filter(family_name__startswith="F").count() == 1


def test_a_bad_registration_changes_nothing(enquiry, dr_ada):
    before = AuditEvent.objects.count()

    with pytest.raises(InvalidInput):
        enquiry_register_patient(enquiry=enquiry, actor=dr_ada, data={"given_name": "Mo", "family_name": ""})

    enquiry.refresh_from_db()
    assert enquiry.patient is None and not Patient.objects.filter(given_name="Mo").exists()
    assert AuditEvent.objects.count() == before


def test_the_patients_own_earlier_answers_fill_what_the_chart_leaves_open(patient_a):
    earlier = {
        "area": "hands",
        "health": {"pregnant_or_breastfeeding": False, "keloid_history": True, "cold_sores": None},
        "condition": {"vitiligo_stable_months": 30, "wound_open": None},
    }
    patient_a.history = ["immunosuppressed"]
    answers = chart_answers(
        patient_a, concerns=["vitiligo"], area="face", expectation="gradual_improvement", earlier=earlier
    )

    assert answers["health"]["pregnant_or_breastfeeding"] is False
    assert answers["health"]["keloid_history"] is True
    assert answers["health"]["cold_sores"] is None  # still unanswered: a practitioner asks
    assert answers["health"]["immunosuppressed"] is True  # the chart is never overridden
    assert answers["condition"]["vitiligo_stable_months"] == 30
    assert answers["area"] == "face"


def test_earlier_answers_never_turn_a_yes_on_the_chart_into_a_no(patient_a):
    patient_a.history = ["keloid_history"]
    answers = chart_answers(
        patient_a,
        concerns=["scar"],
        area="face",
        expectation="gradual_improvement",
        earlier={"health": {"keloid_history": False}},
    )
    assert answers["health"]["keloid_history"] is True

"""Consultation services: one audit event per change, nothing changed on bad input, the decision rules."""

from decimal import Decimal

import pytest

from cellclinic.audit.models import AuditEvent, Signature
from cellclinic.consultations.models import Consultation
from cellclinic.consultations.services import (
    DECIDED,
    NEEDS_ASSESSMENT,
    NEEDS_EXPECTATIONS,
    NEEDS_FINDINGS,
    NOT_SUITABLE_NEEDS_NOTES,
    consultation_alternatives_set,
    consultation_assessment_run,
    consultation_decide,
    consultation_expectations_discussed,
    consultation_start,
    consultation_update,
    decision_record,
)
from cellclinic.consultations.severity import VASI_REGIONS
from cellclinic.core.errors import Forbidden, InvalidInput
from cellclinic.demo.builder import at_stage, room_answers
from conftest import PASSWORD

from .conftest import THERAPY

pytestmark = pytest.mark.django_db

VSS_7 = {"vascularity": 2, "pigmentation": 1, "pliability": 3, "height": 1}


def _events(action):
    return list(AuditEvent.objects.filter(action=action))


def _fields(exc) -> set[str]:
    return {e.field for e in exc.value.errors}


def test_start_opens_a_consultation_prefilled_from_the_chart(patient_a, dr_ada):
    consultation = consultation_start(patient=patient_a, actor=dr_ada)
    assert consultation.status == Consultation.Status.OPEN
    assert consultation.site_id == patient_a.site_id and consultation.practitioner == dr_ada
    assert consultation.indication == "scar" and consultation.fitzpatrick_type == "II"
    [event] = _events("consultation.start")
    assert event.patient_id == patient_a.pk and event.object_id == str(consultation.pk)


def test_start_is_refused_without_the_role_or_at_another_clinic(patient_a, nurse_bo, dr_cy):
    for user in (nurse_bo, dr_cy):
        with pytest.raises(Forbidden):
            consultation_start(patient=patient_a, actor=user)
    assert not Consultation.objects.exists()


def test_start_from_an_enquiry_books_it(patient_a, dr_ada, clinic_a, clinic_b):
    from cellclinic.candidacy.models import Enquiry

    enquiry = Enquiry.objects.create(site=clinic_a, name="Grace Hopper", email="g@example.org")
    consultation = consultation_start(patient=patient_a, actor=dr_ada, enquiry=enquiry)
    enquiry.refresh_from_db()
    assert consultation.enquiry == enquiry and enquiry.status == "booked"
    elsewhere = Enquiry.objects.create(site=clinic_b, name="Someone", email="s@example.org")
    with pytest.raises(InvalidInput) as exc:
        consultation_start(patient=patient_a, actor=dr_ada, enquiry=elsewhere)
    assert _fields(exc) == {"enquiry"}
    assert Consultation.objects.count() == 1


def test_update_writes_only_changes_with_one_event(consultation, dr_ada):
    consultation_update(
        consultation=consultation,
        actor=dr_ada,
        data={
            "goals": "  Smoother cheeks  ",
            "target_areas": ["left cheek", " right  cheek ", "", "left cheek"],
            "severity_scale": "vss",
            "severity_items": VSS_7,
        },
    )
    consultation.refresh_from_db()
    assert consultation.goals == "Smoother cheeks"
    assert consultation.target_areas == ["left cheek", "right cheek"]
    assert consultation.severity_score == Decimal("7.00")
    [event] = _events("consultation.update")
    assert set(event.after) == {"goals", "target_areas", "severity_scale", "severity_items", "severity_score"}
    consultation_update(consultation=consultation, actor=dr_ada, data={"goals": "Smoother cheeks"})
    assert len(_events("consultation.update")) == 1  # no change, no event


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"indication": "tattoo"}, "indication"),
        ({"fitzpatrick_type": "VII"}, "fitzpatrick_type"),
        ({"severity_scale": "wsrs", "severity_items": {"left": 3, "right": 3}}, "severity_scale"),
        ({"severity_scale": "vss", "severity_items": {**VSS_7, "height": 4}}, "severity_items.height"),
        ({"severity_scale": "vss", "severity_items": {**VSS_7, "height": "2.5"}}, "severity_items.height"),
        ({"severity_scale": "vss", "severity_score": 7}, "severity_score"),
        ({"severity_score": 3}, "severity_scale"),
        ({"target_areas": "x" * 61}, "target_areas"),
        ({"target_areas": [1, 2]}, "target_areas"),
        ({"goals": 5}, "goals"),
        ({"mrn": "X"}, "mrn"),
    ],
)
def test_update_refuses_bad_input_and_changes_nothing(consultation, dr_ada, data, field):
    before = Consultation.objects.values().get(pk=consultation.pk)
    events = AuditEvent.objects.count()
    with pytest.raises(InvalidInput) as exc:
        consultation_update(consultation=consultation, actor=dr_ada, data={"goals": "new", **data})
    assert field in _fields(exc)
    assert Consultation.objects.values().get(pk=consultation.pk) == before
    assert AuditEvent.objects.count() == events


def test_a_new_indication_must_keep_a_fitting_scale(consultation, dr_ada):
    consultation_update(
        consultation=consultation, actor=dr_ada, data={"severity_scale": "vss", "severity_items": VSS_7}
    )
    with pytest.raises(InvalidInput) as exc:
        consultation_update(consultation=consultation, actor=dr_ada, data={"indication": "vitiligo"})
    assert _fields(exc) == {"severity_scale"}
    vasi = {f"{region}_{part}": 0 for region, _ in VASI_REGIONS for part in ("hu", "depigmentation")}
    vasi.update(hands_hu=3, hands_depigmentation=50, trunk_hu=4, trunk_depigmentation=75)
    consultation_update(
        consultation=consultation,
        actor=dr_ada,
        data={"indication": "vitiligo", "severity_scale": "t_vasi", "severity_items": vasi},
    )
    consultation.refresh_from_db()
    assert (consultation.indication, consultation.severity_score) == ("vitiligo", Decimal("4.50"))


def test_the_assessment_is_linked_and_the_sheet_must_be_discussed_again(ready, dr_ada):
    first = ready.assessment
    assert first.source == "practitioner" and first.patient_id == ready.patient_id
    assert ready.expectations_discussed_at is not None
    consultation_assessment_run(consultation=ready, actor=dr_ada, answers=room_answers(ready))
    ready.refresh_from_db()
    assert ready.assessment != first and ready.expectations_discussed_at is None
    assert len(_events("consultation.assessment")) == 2
    assert len(_events("consultation.expectations_discussed")) == 1


def test_bad_answers_change_nothing(consultation, dr_ada):
    from cellclinic.candidacy.models import Assessment

    answers = {**room_answers(consultation), "age": -3}
    with pytest.raises(InvalidInput) as exc:
        consultation_assessment_run(consultation=consultation, actor=dr_ada, answers=answers)
    assert "age" in _fields(exc)
    assert not Assessment.objects.exists()
    consultation.refresh_from_db()
    assert consultation.assessment is None


def test_expectations_need_an_assessment(consultation, dr_ada):
    with pytest.raises(InvalidInput) as exc:
        consultation_expectations_discussed(consultation=consultation, actor=dr_ada)
    assert exc.value.errors[0].message == NEEDS_ASSESSMENT
    assert not _events("consultation.expectations_discussed")


def test_alternatives_come_from_the_catalogue_for_the_indication(consultation, dr_ada):
    consultation_alternatives_set(
        consultation=consultation, actor=dr_ada, codes=["microneedling", "laser_resurfacing"]
    )
    consultation.refresh_from_db()
    assert consultation.alternatives_discussed == ["laser_resurfacing", "microneedling"]  # catalogue order
    with pytest.raises(InvalidInput) as exc:
        consultation_alternatives_set(consultation=consultation, actor=dr_ada, codes=["dermal_filler"])
    assert _fields(exc) == {"alternatives_discussed"}
    assert len(_events("consultation.alternatives")) == 1


def test_proceeding_needs_an_assessment_and_the_sheet_discussed(consultation, dr_ada):
    consultation_update(consultation=consultation, actor=dr_ada, data={"findings": "Examined."})
    with pytest.raises(InvalidInput) as exc:
        consultation_decide(
            consultation=consultation,
            actor=dr_ada,
            password=PASSWORD,
            decision="proceed",
            therapy_code=THERAPY,
        )
    messages = {e.field: e.message for e in exc.value.errors}
    assert messages == {"assessment": NEEDS_ASSESSMENT, "expectations": NEEDS_EXPECTATIONS}
    assert not Signature.objects.exists()
    consultation.refresh_from_db()
    assert consultation.status == "open" and consultation.decision == ""


@pytest.mark.parametrize(
    ("therapy_code", "message"),
    [("", "choose the therapy"), ("nope", "not a therapy"), ("autologous_fibroblast_injection", "not for")],
)
def test_the_therapy_must_be_in_the_catalogue_for_the_indication(ready, dr_ada, therapy_code, message):
    with pytest.raises(InvalidInput) as exc:
        consultation_decide(
            consultation=ready,
            actor=dr_ada,
            password=PASSWORD,
            decision="proceed",
            therapy_code=therapy_code,
        )
    assert exc.value.errors[0].field == "therapy_code" and message in exc.value.errors[0].message


def test_proceeding_against_not_suitable_needs_notes(patient_a, dr_ada):
    consultation = at_stage(
        "consultation_open",
        patient=patient_a,
        practitioner=dr_ada,
        password=PASSWORD,
        room_health={"pregnant_or_breastfeeding": True},
    ).consultation
    assert consultation.assessment.outcome == "not_suitable"
    with pytest.raises(InvalidInput) as exc:
        consultation_decide(
            consultation=consultation,
            actor=dr_ada,
            password=PASSWORD,
            decision="proceed",
            therapy_code=THERAPY,
        )
    assert {e.field: e.message for e in exc.value.errors} == {"decision_notes": NOT_SUITABLE_NEEDS_NOTES}
    decided = consultation_decide(
        consultation=consultation,
        actor=dr_ada,
        password=PASSWORD,
        decision="proceed",
        therapy_code=THERAPY,
        notes="Reviewed after delivery; proceeding in six months.",
    )
    assert decided.status == "decided"


def test_a_wrong_password_signs_nothing_and_changes_nothing(ready, dr_ada):
    before = Consultation.objects.values().get(pk=ready.pk)
    events = AuditEvent.objects.count()
    with pytest.raises(InvalidInput) as exc:
        consultation_decide(
            consultation=ready,
            actor=dr_ada,
            password="wrong",
            decision="proceed",
            therapy_code=THERAPY,
        )
    assert _fields(exc) == {"password"}
    assert Consultation.objects.values().get(pk=ready.pk) == before
    assert AuditEvent.objects.count() == events and not Signature.objects.exists()


def test_the_signed_decision(decided, dr_ada):
    assert decided.status == "decided" and decided.decided_at is not None
    assert decided.therapy_code == THERAPY and decided.therapy_version == "1.1"
    [signature] = Signature.objects.filter(object_type="consultation", object_id=str(decided.pk))
    assert signature.meaning == "authored" and signature.signer == dr_ada
    from cellclinic.audit.services import record_hash

    assert signature.record_hash == record_hash(decision_record(decided))
    [event] = _events("consultation.decide")
    assert event.after["status"] == "decided" and event.after["therapy_code"] == THERAPY


def test_a_decided_consultation_cannot_be_changed(decided, dr_ada):
    calls = [
        lambda: consultation_update(consultation=decided, actor=dr_ada, data={"goals": "x"}),
        lambda: consultation_expectations_discussed(consultation=decided, actor=dr_ada),
        lambda: consultation_alternatives_set(consultation=decided, actor=dr_ada, codes=[]),
        lambda: consultation_assessment_run(
            consultation=decided, actor=dr_ada, answers=room_answers(decided)
        ),
        lambda: consultation_decide(
            consultation=decided, actor=dr_ada, password=PASSWORD, decision="decline"
        ),
    ]
    events = AuditEvent.objects.count()
    for call in calls:
        with pytest.raises(InvalidInput) as exc:
            call()
        assert exc.value.errors[0].field == "status" and exc.value.detail == DECIDED
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize(
    ("decision", "extra", "field"),
    [
        ("alternative", {}, "alternative_code"),
        ("alternative", {"alternative_code": "dermal_filler"}, "alternative_code"),
        ("refer", {}, "decision_notes"),
        ("decline", {"therapy_code": THERAPY}, "therapy_code"),
        ("maybe", {}, "decision"),
    ],
)
def test_other_decisions_are_checked(consultation, dr_ada, decision, extra, field):
    with pytest.raises(InvalidInput) as exc:
        consultation_decide(
            consultation=consultation, actor=dr_ada, password=PASSWORD, decision=decision, **extra
        )
    assert field in _fields(exc)


def test_alternative_decline_and_refer_are_signed(patient_a, dr_ada):
    for decision, extra in [
        ("alternative", {"alternative_code": "microneedling"}),
        ("decline", {}),
        ("refer", {"notes": "To the regional burns unit"}),
    ]:
        consultation = at_stage(
            "consultation_open", patient=patient_a, practitioner=dr_ada, password=PASSWORD
        ).consultation
        decided = consultation_decide(
            consultation=consultation, actor=dr_ada, password=PASSWORD, decision=decision, **extra
        )
        assert decided.decision == decision and decided.therapy_version == ""


def test_a_patient_may_decline_before_any_step_is_done(patient_a, dr_ada):
    consultation = consultation_start(patient=patient_a, actor=dr_ada)
    declined = consultation_decide(
        consultation=consultation, actor=dr_ada, password=PASSWORD, decision="decline"
    )
    assert declined.status == "decided" and declined.decision == "decline"


@pytest.mark.parametrize(
    ("decision", "extra"),
    [
        ("proceed", {"therapy_code": THERAPY}),
        ("alternative", {"alternative_code": "microneedling"}),
        ("refer", {"notes": "To the regional burns unit"}),
    ],
)
def test_every_other_decision_is_refused_before_the_steps_it_rests_on(patient_a, dr_ada, decision, extra):
    consultation = consultation_start(patient=patient_a, actor=dr_ada)
    with pytest.raises(InvalidInput) as exc:
        consultation_decide(
            consultation=consultation, actor=dr_ada, password=PASSWORD, decision=decision, **extra
        )
    assert {(e.field, e.message) for e in exc.value.errors} >= {
        ("findings", NEEDS_FINDINGS),
        ("assessment", NEEDS_ASSESSMENT),
        ("expectations", NEEDS_EXPECTATIONS),
    }
    consultation_update(consultation=consultation, actor=dr_ada, data={"findings": "Examined."})
    with pytest.raises(InvalidInput) as exc:
        consultation_decide(
            consultation=consultation, actor=dr_ada, password=PASSWORD, decision=decision, **extra
        )
    assert "findings" not in _fields(exc) and {"assessment", "expectations"} <= _fields(exc)
    consultation.refresh_from_db()
    assert consultation.status == "open" and consultation.decision == ""
    assert not Signature.objects.exists() and not _events("consultation.decide")


def test_a_nurse_cannot_decide(consultation, nurse_bo):
    with pytest.raises(Forbidden):
        consultation_decide(consultation=consultation, actor=nurse_bo, password=PASSWORD, decision="decline")

"""Each event of the pathway notifies the right person, in-app and by email, with nothing they may not see."""

import pytest
from django.core import mail
from django.db import transaction

from cellclinic.catalogue.plain_words import problems
from cellclinic.catalogue.vocabulary import INDICATIONS
from cellclinic.demo.builder import advance, at_stage
from cellclinic.notifications.models import Notification
from cellclinic.notifications.services import notify
from cellclinic.notifications.tests.conftest import run_due_tasks
from cellclinic.patients.services import patient_portal_account_create
from tests.factories import SiteFactory

pytestmark = pytest.mark.django_db

BASE = "http://127.0.0.1:8000"


@pytest.fixture
def clinic():
    return SiteFactory(
        name="Harbour Skin Clinic",
        phone="0113 555 0199",
        email="front.desk@example.org",
        address="12 Harbour Street, Leeds",
    )


def _sent(django_capture_on_commit_callbacks, action):
    """Do ACTION, let its transaction's commit queue the emails, and run the worker."""
    with django_capture_on_commit_callbacks(execute=True):
        result = action()
    run_due_tasks()
    return result


def _clinical_words(pathway) -> list[str]:
    """What no email may carry: the record number, the concern, its name and the therapy's code."""
    consultation = pathway.consultation
    words = [pathway.patient.mrn, consultation.therapy_code]
    if consultation.indication:
        words += [consultation.indication, INDICATIONS[consultation.indication]]
    return words


def _assert_absent(text: str, words: list[str]) -> None:
    for word in words:
        assert word.lower() not in text.lower(), f"{word!r} is in the email"


def _only(kind: str) -> Notification:
    [notification] = Notification.objects.filter(kind=kind)
    return notification


def test_a_request_for_a_consultation_is_acknowledged_by_email_with_the_clinics_contact_details(
    clinic, django_capture_on_commit_callbacks
):
    pathway = _sent(
        django_capture_on_commit_callbacks,
        lambda: at_stage(
            "enquired", site=clinic, enquiry_data={"name": "Noor Haddad", "email": "noor@example.org"}
        ),
    )
    notification = _only("enquiry.received")
    assert notification.recipient is None  # no account: email only
    assert notification.site == clinic
    assert notification.object_id == str(pathway.enquiry.pk)
    assert notification.status == Notification.Status.SENT
    [email] = mail.outbox
    assert email.to == ["noor@example.org"]
    assert email.subject == "Harbour Skin Clinic has your request for a consultation"
    for detail in ("Dear Noor Haddad", "0113 555 0199", "front.desk@example.org", "12 Harbour Street"):
        assert detail in email.body
    assert problems(email.body) == []
    assert "&#x27;" not in email.body and "&amp;" not in email.body  # plain text, not HTML-escaped


def test_a_request_with_a_phone_number_alone_sends_nothing(clinic, django_capture_on_commit_callbacks):
    _sent(
        django_capture_on_commit_callbacks,
        lambda: at_stage("enquired", site=clinic, enquiry_data={"email": "", "phone": "07700 900123"}),
    )
    assert not Notification.objects.exists()
    assert mail.outbox == []


def test_a_consent_ready_to_sign_is_told_to_the_patient_in_their_list_and_by_email(
    clinic, django_capture_on_commit_callbacks
):
    pathway = at_stage("decided", site=clinic)
    portal_user = patient_portal_account_create(
        patient=pathway.patient, username="", password=pathway.password, actor=pathway.practitioner
    )
    _sent(django_capture_on_commit_callbacks, lambda: advance(pathway, "consent_prepared"))
    notification = _only("consent.ready_to_sign")
    assert notification.recipient == portal_user
    assert notification.link == f"/consents/{pathway.consent.pk}/"
    [email] = mail.outbox
    assert email.to == [pathway.patient.email]
    assert email.subject == "Your consent form from Harbour Skin Clinic is ready to read"
    assert f"{BASE}/consents/{pathway.consent.pk}/" in email.body
    _assert_absent(email.body + email.subject, _clinical_words(pathway))
    assert problems(email.body) == []


def test_no_portal_account_means_no_notification_of_a_consent_to_sign(
    clinic, django_capture_on_commit_callbacks
):
    _sent(django_capture_on_commit_callbacks, lambda: at_stage("consent_prepared", site=clinic))
    assert not Notification.objects.filter(kind="consent.ready_to_sign").exists()


def test_a_consent_signed_in_the_portal_is_told_to_the_practitioner_without_the_patients_name(
    clinic, django_capture_on_commit_callbacks
):
    pathway = at_stage("consent_prepared", site=clinic)
    _sent(django_capture_on_commit_callbacks, lambda: advance(pathway, "patient_signed"))
    notification = _only("consent.signed")
    assert notification.recipient == pathway.consultation.practitioner == pathway.practitioner
    [email] = [m for m in mail.outbox if m.to == [pathway.practitioner.email]]
    assert email.subject == "A consent was signed at Harbour Skin Clinic"
    assert f"Sign in to see it: {BASE}/consents/{pathway.consent.pk}/" in email.body
    patient = pathway.patient
    _assert_absent(
        email.body + email.subject, [*_clinical_words(pathway), patient.given_name, patient.family_name]
    )


def test_a_consent_signed_in_clinic_tells_nobody_as_the_practitioner_witnessed_it(
    clinic, django_capture_on_commit_callbacks
):
    pathway = at_stage("consent_prepared", site=clinic)
    _sent(django_capture_on_commit_callbacks, lambda: advance(pathway, "patient_signed", in_clinic=True))
    assert not Notification.objects.filter(kind="consent.signed").exists()


def test_a_withdrawal_by_the_patient_is_told_to_the_practitioner(clinic, django_capture_on_commit_callbacks):
    pathway = at_stage("planned", site=clinic)
    mail.outbox.clear()
    _sent(
        django_capture_on_commit_callbacks,
        lambda: advance(pathway, "withdrawn", by_patient=True, reason="I have changed my mind."),
    )
    notification = _only("consent.withdrawn")
    assert notification.recipient == pathway.practitioner
    [email] = mail.outbox
    assert email.to == [pathway.practitioner.email]
    assert email.subject == "A consent was withdrawn at Harbour Skin Clinic"
    assert f"{BASE}/consents/{pathway.consent.pk}/" in email.body
    patient = pathway.patient
    words = [*_clinical_words(pathway), patient.given_name, patient.family_name, "changed my mind"]
    _assert_absent(email.body + email.subject, words)


def test_the_practitioner_who_withdraws_a_consent_is_not_told_of_it(
    clinic, django_capture_on_commit_callbacks
):
    pathway = at_stage("planned", site=clinic)
    _sent(django_capture_on_commit_callbacks, lambda: advance(pathway, "withdrawn"))
    assert not Notification.objects.filter(kind="consent.withdrawn").exists()


def test_a_plan_made_is_told_to_the_patient_with_its_dates(clinic, django_capture_on_commit_callbacks):
    pathway = at_stage("consent_signed", site=clinic)
    mail.outbox.clear()
    _sent(django_capture_on_commit_callbacks, lambda: advance(pathway, "planned"))
    notification = _only("plan.made")
    assert notification.recipient == pathway.portal_user
    assert notification.link == "/patients/portal/"
    [email] = mail.outbox
    assert email.to == [pathway.patient.email]
    assert email.subject == "Your treatment plan at Harbour Skin Clinic is ready"
    visits = {"harvest": "a small sample of your skin is taken", "follow_up": "a check-up visit"}
    shown = 0
    for step in pathway.plan.steps.all():
        line = f"- {step.due_date:%A} {step.due_date.day} {step.due_date:%B %Y}: "
        if step.kind == "session":
            assert line + step.label in email.body
        elif step.kind in visits:
            assert line + visits[step.kind] in email.body
        else:  # work in the lab, and aftercare on a session's day, are not visits
            assert step.label not in email.body
            continue
        shown += 1
    assert shown >= 3 and email.body.count("\n- ") == shown
    assert f"{BASE}/patients/portal/" in email.body
    _assert_absent(email.body + email.subject, _clinical_words(pathway))
    assert problems(email.body) == []


def test_a_notification_of_a_change_that_is_rolled_back_is_neither_kept_nor_sent(
    clinic, dr_ada, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        notify(
            kind="test.rolled_back", template="consents/notifications/signed", site=clinic, recipient=dr_ada
        )
        raise RuntimeError("the action failed after notifying")
    assert callbacks == []
    assert not Notification.objects.exists()
    assert run_due_tasks() == 0


def test_a_deactivated_practitioner_is_not_told(clinic, django_capture_on_commit_callbacks):
    pathway = at_stage("consent_prepared", site=clinic)
    pathway.practitioner.is_active = False
    pathway.practitioner.save(update_fields=["is_active"])
    _sent(django_capture_on_commit_callbacks, lambda: advance(pathway, "patient_signed"))
    assert not Notification.objects.filter(kind="consent.signed").exists()

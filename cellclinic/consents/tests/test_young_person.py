"""A young person under 18: a parent or guardian consents at the clinic, with the young person's assent."""

from datetime import timedelta

import pytest
from django.urls import reverse

from cellclinic.audit.models import AuditEvent, Signature
from cellclinic.catalogue.plain_words import problems
from cellclinic.consents.models import Consent
from cellclinic.consents.services import (
    ASSENT_REQUIRED,
    GUARDIAN_NAME_REQUIRED,
    GUARDIAN_SIGNATURE,
    NOT_A_MINOR,
    RELATIONSHIP_REQUIRED,
    SIGNED_WITH_GUARDIAN,
    YOUNG_PERSON_NAME,
    YOUNG_PERSON_NAME_REQUIRED,
    consent_countersign,
    consent_patient_sign,
    consent_record,
    consent_render_pdf,
    consent_sign_in_clinic,
    consent_sign_with_guardian,
    consent_stored_pdf,
    patient_is_minor,
)
from cellclinic.core.errors import Forbidden, InvalidInput
from conftest import PASSWORD, make_user

from .helpers import consent_for, main_text, pdf_text, years_ago

pytestmark = pytest.mark.django_db

THERAPY = "autologous_skin_cell_suspension"
GOOD = {
    "guardian_name": "Sam Lovelace",
    "guardian_relationship": "parent",
    "guardian_signature": "sam  lovelace",
    "assent": True,
    "young_person_name": "Ada Lovelace",
    "photographs": True,
    "outcome_reports": False,
    "understood": True,
}


@pytest.fixture
def young(clinic_a, dr_ada):
    """Ada Lovelace, 16 today, at North Clinic, with a portal account."""
    from cellclinic.patients.services import patient_create, patient_link_portal_user

    patient = patient_create(
        site=clinic_a,
        actor=dr_ada,
        data={
            "given_name": "Ada",
            "family_name": "Lovelace",
            "date_of_birth": years_ago(16),
            "sex_at_birth": "female",
            "presenting_concern": "burn",
        },
    )
    user = make_user("ada.l", first="Ada", last="Lovelace", kind="patient")
    patient_link_portal_user(patient=patient, user=user, actor=dr_ada)
    patient.refresh_from_db()
    return patient


@pytest.fixture
def minor_consent(young, dr_ada):
    return consent_for(young, dr_ada, THERAPY, "burn")


def _sign(consent, practitioner, **changes):
    return consent_sign_with_guardian(
        consent=consent, practitioner=practitioner, password=PASSWORD, **{**GOOD, **changes}
    )


def _fields(exc) -> dict[str, str]:
    return {e.field: e.message for e in exc.value.errors}


def _unchanged(consent: Consent) -> None:
    consent.refresh_from_db()
    assert consent.status == Consent.Status.AWAITING_PATIENT
    assert consent.guardian_name == "" and consent.young_person_assent is None
    assert consent.photographs is None and consent.patient_signed_at is None
    assert not Signature.objects.filter(object_type="consent", object_id=str(consent.pk)).exists()
    assert not AuditEvent.objects.filter(action="consent.guardian_sign").exists()


def test_under_18_on_the_day_the_consent_is_prepared():
    from types import SimpleNamespace

    from django.utils import timezone

    today = timezone.localdate()
    eighteen_today = SimpleNamespace(date_of_birth=years_ago(18, today))
    eighteen_tomorrow = SimpleNamespace(date_of_birth=years_ago(18, today) + timedelta(days=1))
    assert not patient_is_minor(eighteen_today, today)
    assert patient_is_minor(eighteen_tomorrow, today)
    assert not patient_is_minor(eighteen_tomorrow, today + timedelta(days=1))


def test_prepare_records_a_minor_and_the_document_says_so(minor_consent):
    assert minor_consent.minor is True and minor_consent.document["minor"] is True
    assert [s["key"] for s in minor_consent.document["sections"]][0] == "minor"
    event = AuditEvent.objects.get(action="consent.prepare", object_id=str(minor_consent.pk))
    assert event.after["minor"] is True


def test_an_adult_consent_is_not_a_minors(patient_a, dr_ada):
    consent = consent_for(patient_a, dr_ada, THERAPY, "burn")
    assert consent.minor is False and "minor" not in [s["key"] for s in consent.document["sections"]]
    with pytest.raises(InvalidInput) as exc:
        _sign(consent, dr_ada, young_person_name="Grace Hopper")
    assert exc.value.detail == NOT_A_MINOR


def test_the_young_person_cannot_sign_in_the_portal(minor_consent, young):
    with pytest.raises(InvalidInput) as exc:
        consent_patient_sign(
            consent=minor_consent,
            signer=young.portal_user,
            password=PASSWORD,
            photographs=True,
            outcome_reports=True,
            understood=True,
        )
    assert exc.value.detail == SIGNED_WITH_GUARDIAN and _fields(exc) == {"status": SIGNED_WITH_GUARDIAN}
    _unchanged(minor_consent)


def test_the_adults_in_clinic_signature_is_refused_for_a_minor(minor_consent, dr_ada, young):
    with pytest.raises(InvalidInput) as exc:
        consent_sign_in_clinic(
            consent=minor_consent,
            practitioner=dr_ada,
            password=PASSWORD,
            typed_name=young.full_name,
            photographs=True,
            outcome_reports=True,
            understood=True,
        )
    assert exc.value.detail == SIGNED_WITH_GUARDIAN
    _unchanged(minor_consent)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"guardian_name": "  "}, "guardian_name", GUARDIAN_NAME_REQUIRED),
        ({"guardian_relationship": ""}, "guardian_relationship", RELATIONSHIP_REQUIRED),
        ({"guardian_relationship": "neighbour"}, "guardian_relationship", RELATIONSHIP_REQUIRED),
        ({"guardian_signature": "Sam"}, "guardian_signature", GUARDIAN_SIGNATURE.format(name="Sam Lovelace")),
        ({"assent": False}, "assent", ASSENT_REQUIRED),
        (
            {"young_person_name": "Sam Lovelace"},
            "young_person_name",
            YOUNG_PERSON_NAME.format(name="Ada Lovelace"),
        ),
        ({"young_person_name": " "}, "young_person_name", YOUNG_PERSON_NAME_REQUIRED),
        ({"photographs": None}, "photographs", "choose yes or no"),
        ({"understood": False}, "understood", "confirm that you have read and understood the consent"),
    ],
)
def test_bad_input_names_the_field_and_changes_nothing(minor_consent, dr_ada, changes, field, message):
    with pytest.raises(InvalidInput) as exc:
        _sign(minor_consent, dr_ada, **changes)
    assert _fields(exc)[field] == message
    _unchanged(minor_consent)


def test_everything_missing_names_every_field(minor_consent, dr_ada):
    with pytest.raises(InvalidInput) as exc:
        _sign(
            minor_consent,
            dr_ada,
            guardian_name="",
            guardian_relationship="",
            guardian_signature="",
            assent=False,
            young_person_name="",
            photographs=None,
            outcome_reports=None,
            understood=False,
        )
    assert set(_fields(exc)) == {
        "guardian_name",
        "guardian_relationship",
        "guardian_signature",
        "assent",
        "young_person_name",
        "photographs",
        "outcome_reports",
        "understood",
    }
    _unchanged(minor_consent)


def test_a_wrong_password_signs_nothing(minor_consent, dr_ada):
    with pytest.raises(InvalidInput) as exc:
        consent_sign_with_guardian(consent=minor_consent, practitioner=dr_ada, password="wrong", **GOOD)
    assert set(_fields(exc)) == {"password"}
    _unchanged(minor_consent)


@pytest.mark.parametrize("persona", ["nurse_bo", "dr_cy"])
def test_only_a_practitioner_at_the_clinic_witnesses(minor_consent, request, persona):
    with pytest.raises(Forbidden):
        _sign(minor_consent, request.getfixturevalue(persona))
    _unchanged(minor_consent)


def test_the_guardian_signs_with_assent_then_the_practitioner_countersigns(minor_consent, dr_ada, young):
    signed = _sign(minor_consent, dr_ada)
    assert signed.status == Consent.Status.AWAITING_PRACTITIONER and signed.patient_signed_in_clinic
    assert (signed.guardian_name, signed.guardian_relationship, signed.young_person_assent) == (
        "Sam Lovelace",
        "parent",
        True,
    )
    [witness] = Signature.objects.filter(object_type="consent", object_id=str(signed.pk))
    assert witness.meaning == "witnessed" and witness.signer == dr_ada
    assert "Sam Lovelace (parent) gave consent for Ada Lovelace" in witness.statement
    assert "Ada Lovelace gave their own assent" in witness.statement
    record = consent_record(signed)
    assert record["guardian_name"] == "Sam Lovelace" and record["young_person_assent"] is True
    event = AuditEvent.objects.get(action="consent.guardian_sign", object_id=str(signed.pk))
    assert event.after["guardian_name"] == "Sam Lovelace" and event.after["status"] == "awaiting_practitioner"

    done = consent_countersign(consent=signed, practitioner=dr_ada, password=PASSWORD)
    assert done.status == Consent.Status.SIGNED and done.in_force
    text = pdf_text(consent_stored_pdf(done))
    assert "Consent given by the parent or guardian: Sam Lovelace (parent)" in text
    assert "The young person's assent: agreed, confirmed by typing their own name at the clinic." in text
    assert "WITNESSED: Ada Okafor" in text and "AUTHORED: Ada Okafor" in text
    assert problems(text) == []


def test_an_unsigned_minors_pdf_says_how_it_is_signed(minor_consent):
    text = pdf_text(consent_render_pdf(minor_consent))
    assert "signed at the clinic by a parent or guardian, with the young person's own assent" in text
    assert problems(text) == []


# Pages --------------------------------------------------------------------------------------------------


def test_the_portal_tells_the_young_person_it_is_signed_at_the_clinic(client, minor_consent, young):
    client.force_login(young.portal_user)
    detail = client.get(reverse("consents:detail", args=[minor_consent.pk])).content.decode()
    text = main_text(detail)
    assert "signed with your parent or guardian at the clinic" in text
    assert reverse("consents:sign", args=[minor_consent.pk]) not in detail
    response = client.get(reverse("consents:sign", args=[minor_consent.pk]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("consents:detail", args=[minor_consent.pk])
    assert SIGNED_WITH_GUARDIAN in response.content.decode()
    portal = main_text(client.get(reverse("patients:portal")).content.decode())
    assert "signed with your parent or guardian at the clinic" in portal
    assert "Read and sign" not in portal
    post = client.post(
        reverse("consents:sign", args=[minor_consent.pk]),
        {"photographs": "yes", "outcome_reports": "yes", "understood": "on", "password": PASSWORD},
    )
    assert post.status_code == 302
    _unchanged(minor_consent)


def test_staff_are_led_to_signing_with_a_guardian(client, dr_ada, minor_consent):
    client.force_login(dr_ada)
    detail = client.get(reverse("consents:detail", args=[minor_consent.pk])).content.decode()
    assert "Sign here with a parent or guardian" in detail and "Patient signs here in clinic" not in detail
    adult = client.get(reverse("consents:sign_in_clinic", args=[minor_consent.pk]))
    assert adult["Location"] == reverse("consents:sign_with_guardian", args=[minor_consent.pk])
    assert client.get(reverse("consents:sign_with_guardian", args=[minor_consent.pk])).status_code == 200


def test_the_guardian_page_names_each_missing_field(client, dr_ada, minor_consent):
    client.force_login(dr_ada)
    url = reverse("consents:sign_with_guardian", args=[minor_consent.pk])
    response = client.post(
        url, {"photographs": "yes", "outcome_reports": "no", "understood": "on", "password": PASSWORD}
    )
    assert response.status_code == 422
    body = response.content.decode()
    for message in (GUARDIAN_NAME_REQUIRED, RELATIONSHIP_REQUIRED, ASSENT_REQUIRED):
        assert message.replace("'", "&#x27;") in body
    _unchanged(minor_consent)
    ok = client.post(
        url,
        {
            "guardian_name": "Sam Lovelace",
            "guardian_relationship": "guardian",
            "guardian_signature": "Sam Lovelace",
            "assent": "on",
            "young_person_name": "Ada Lovelace",
            "photographs": "yes",
            "outcome_reports": "no",
            "understood": "on",
            "password": PASSWORD,
        },
    )
    assert ok.status_code == 302
    minor_consent.refresh_from_db()
    assert minor_consent.guardian_relationship == "guardian" and minor_consent.young_person_assent is True
    detail = main_text(client.get(reverse("consents:detail", args=[minor_consent.pk])).content.decode())
    assert "Sam Lovelace (legal guardian), a parent or guardian" in detail
    assert "Agreed, confirmed by typing their own name at the clinic" in detail


def test_an_adults_consent_has_no_guardian_page(client, dr_ada, patient_a):
    consent = consent_for(patient_a, dr_ada, THERAPY, "burn")
    client.force_login(dr_ada)
    response = client.get(reverse("consents:sign_with_guardian", args=[consent.pk]))
    assert response["Location"] == reverse("consents:sign_in_clinic", args=[consent.pk])


def test_the_api_gives_the_guardian_and_assent(api_as, dr_ada, minor_consent):
    _sign(minor_consent, dr_ada)
    body = api_as(dr_ada).get(f"/api/v1/consents/{minor_consent.pk}").json()
    assert body["minor"] is True and body["guardian_name"] == "Sam Lovelace"
    assert body["guardian_relationship"] == "parent" and body["young_person_assent"] is True


def test_preparing_says_the_consent_is_signed_with_a_guardian(client, dr_ada, young, patient_a):
    from .helpers import decided_for

    client.force_login(dr_ada)
    minor = client.get(reverse("consents:new", args=[decided_for(young, dr_ada, THERAPY, "burn").pk]))
    adult = client.get(reverse("consents:new", args=[decided_for(patient_a, dr_ada, THERAPY, "burn").pk]))
    assert "Ada is under 18: a parent or guardian gives consent here in clinic" in minor.content.decode()
    assert "under 18" not in adult.content.decode()

"""The public self-assessment, result and consultation request pages: no sign-in, phone-friendly."""

import re

import pytest
from django.urls import reverse

from cellclinic.audit.models import AuditEvent
from cellclinic.candidacy.models import Assessment, Enquiry
from cellclinic.candidacy.services import assessment_run
from cellclinic.candidacy.tests.helpers import payload

pytestmark = pytest.mark.django_db
ASSESS = "/assess/"

VALID = {
    "concerns": ["vitiligo"],
    "area": "face",
    "age": "34",
    "health_generally_fit_and_healthy": "yes",
    "health_pregnant_or_breastfeeding": "no",
    "health_active_skin_infection": "no",
    "health_immunosuppressed": "no",
    "health_bleeding_disorder_or_anticoagulants": "no",
    "health_keloid_history": "no",
    "health_skin_cancer_at_site": "no",
    "health_collagen_disorder": "no",
    "health_anaesthetic_allergy": "no",
    "health_product_component_allergy": "no",
    "health_cold_sores": "no",
    "patches_diagnosed": "yes",
    "vitiligo_stable_months": "18",
    "vitiligo_treatments_tried": "yes",
    "expectation": "gradual_improvement",
}


def test_the_url_names_resolve(public_assessment):
    assert reverse("candidacy:assess") == ASSESS
    assert (
        reverse("candidacy:result", args=[public_assessment.public_id])
        == f"/assess/result/{public_assessment.public_id}/"
    )
    assert reverse("candidacy:request", args=[public_assessment.public_id]).endswith("/request/")
    assert reverse("candidacy:request_sent", args=[public_assessment.public_id]).endswith("/request/sent/")


def test_the_questionnaire_needs_no_sign_in_and_labels_every_control(client):
    response = client.get(ASSESS)

    assert response.status_code == 200
    body = response.content.decode()
    assert body.count("<h1") == 1
    assert "Are you pregnant or breastfeeding?" in body
    assert "have not been shown to be safe during pregnancy" in body
    ids = set(re.findall(r'<input[^>]*type="(?:radio|checkbox|number)"[^>]*id="([^"]+)"', body))
    labelled = set(re.findall(r'<label[^>]*for="([^"]+)"', body))
    assert ids and ids <= labelled
    assert "<script>" not in body and "style=" not in body


def test_a_valid_questionnaire_shows_the_result(client):
    response = client.post(ASSESS, VALID)

    assessment = Assessment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/assess/result/{assessment.public_id}/"
    assert assessment.answers["health"]["pregnant_or_breastfeeding"] is False
    page = client.get(response["Location"])
    body = page.content.decode()
    assert page.status_code == 200
    assert "You may be a suitable candidate" in body
    assert "Spray-on skin cells made from your own skin" in body
    assert "What to expect" in body and "How treatment goes" in body
    assert "Rule set" not in body and "[S1" not in body and "nverified" not in body
    assert "Light treatment (narrowband UVB)" in body
    assert f"/assess/result/{assessment.public_id}/request/" in body


def test_not_sure_counts_as_not_answered(client):
    client.post(
        ASSESS,
        {
            **VALID,
            "health_cold_sores": "not_sure",
            "vitiligo_stable_months": "",
            "vitiligo_stable_months_not_sure": "on",
        },
    )

    assessment = Assessment.objects.get()
    assert assessment.answers["health"]["cold_sores"] is None
    assert assessment.outcome == "consult"
    rules = {r["rule"].split(":")[0] for r in assessment.result["reasons"]}
    assert {"unanswered", "condition_unanswered", "vitiligo_stability_unknown"} <= rules


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"concerns": []}, "concerns"),
        ({"concerns": ["tattoo"]}, "concerns"),
        ({"age": "-1"}, "age"),
        ({"area": "elbow"}, "area"),
        ({"expectation": ""}, "expectation"),
        ({"health_cold_sores": "maybe"}, "health_cold_sores"),
    ],
)
def test_bad_answers_are_shown_on_the_page_and_nothing_is_stored(client, changes, field):
    response = client.post(ASSESS, {**VALID, **changes})

    assert response.status_code == 422
    assert response.context["form"].errors[field]
    assert "Some answers need another look" in response.content.decode()
    assert not Assessment.objects.exists() and not AuditEvent.objects.exists()


def test_the_questionnaire_is_rate_limited(client, settings):
    settings.PUBLIC_ASSESSMENT_RATE = "1/h"
    client.post(ASSESS, VALID)

    response = client.post(ASSESS, VALID)

    assert response.status_code == 429
    assert "Too many requests" in response.content.decode()
    assert Assessment.objects.count() == 1
    assert client.get(ASSESS).status_code == 200


def test_an_unknown_or_practitioner_result_is_not_found(client, patient_a, dr_ada):
    private = assessment_run(answers=payload(), source="practitioner", patient=patient_a, actor=dr_ada)

    assert client.get("/assess/result/00000000-0000-0000-0000-000000000000/").status_code == 404
    assert client.get(f"/assess/result/{private.public_id}/").status_code == 404
    assert client.get(f"/assess/result/{private.public_id}/request/").status_code == 404


def test_a_not_suitable_result_explains_why_with_alternatives(client):
    assessment = assessment_run(answers=payload(concerns=["sun_damage"]), source="public")

    body = client.get(f"/assess/result/{assessment.public_id}/").content.decode()

    assert "Cell therapy is not suitable for you now" in body
    assert "None of the cell therapies we offer fits sun damage" in body
    assert "Laser resurfacing" in body


def request_data(clinic, **changes):
    return {
        "name": "Mo Farah",
        "email": "mo@example.org",
        "phone": "",
        "site": str(clinic.pk),
        "preferred_times": "Mornings",
        "message": "Hello",
        "consent_to_contact": "on",
        **changes,
    }


def test_a_consultation_request_reaches_the_clinic_and_shows_no_contact_details_back(
    client, clinic_a, public_assessment
):
    url = f"/assess/result/{public_assessment.public_id}/request/"
    assert client.get(url).status_code == 200

    response = client.post(url, request_data(clinic_a))

    enquiry = Enquiry.objects.get()
    assert response.status_code == 302 and response["Location"].endswith("/request/sent/")
    assert enquiry.site == clinic_a and enquiry.status == "new" and enquiry.assessment == public_assessment
    assert enquiry.preferred_times == "Mornings"
    sent = client.get(response["Location"]).content.decode()
    assert "your request is sent" in sent
    assert "mo@example.org" not in sent and "Mo Farah" not in sent
    assert (
        "mo@example.org" not in client.get(f"/assess/result/{public_assessment.public_id}/").content.decode()
    )


def test_only_clinics_are_offered(client, clinic_a, clinic_b, lab, public_assessment):
    body = client.get(f"/assess/result/{public_assessment.public_id}/request/").content.decode()

    assert "North Clinic" in body and "Riverside Clinic" in body
    assert "Central Cell Lab" not in body


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"consent_to_contact": ""}, "consent_to_contact"),
        ({"email": "", "phone": ""}, "email"),
        ({"name": ""}, "name"),
        ({"site": ""}, "site"),
    ],
)
def test_a_bad_request_is_shown_with_errors_and_nothing_is_sent(
    client, clinic_a, public_assessment, changes, field
):
    before = AuditEvent.objects.count()

    response = client.post(
        f"/assess/result/{public_assessment.public_id}/request/", request_data(clinic_a, **changes)
    )

    assert response.status_code == 422
    assert response.context["form"].errors[field]
    assert not Enquiry.objects.exists()
    assert AuditEvent.objects.count() == before


def test_a_lab_cannot_be_chosen(client, lab, clinic_a, public_assessment):
    response = client.post(
        f"/assess/result/{public_assessment.public_id}/request/", request_data(clinic_a, site=str(lab.pk))
    )

    assert response.status_code == 422
    assert not Enquiry.objects.exists()


def test_requests_are_rate_limited(client, clinic_a, public_assessment, settings):
    settings.PUBLIC_ENQUIRY_RATE = "1/h"
    url = f"/assess/result/{public_assessment.public_id}/request/"
    client.post(url, request_data(clinic_a))

    response = client.post(url, request_data(clinic_a))

    assert response.status_code == 429
    assert Enquiry.objects.count() == 1


def test_the_sign_in_page_links_to_the_self_assessment(client):
    body = client.get("/sign-in/").content.decode()

    assert f'href="{ASSESS}"' in body and "Am I a suitable candidate?" in body

"""Consultation and consent pages: each role and site, the steps, signing with the pause, the PDF."""

import pytest
from django.urls import reverse

from cellclinic.candidacy.engine import HEALTH_KEYS
from cellclinic.consultations.models import Consultation
from conftest import PASSWORD

from .conftest import THERAPY

pytestmark = pytest.mark.django_db


STEP_NAMES = ("goals", "findings", "candidacy", "expectations", "alternatives", "decision")


def _url(name, *args):
    """A consultation page: a step by its name, the consent page beside it (names starting consent_), or
    another page by its URL name."""
    if name.startswith("consent_"):
        return reverse(f"consents:{name.removeprefix('consent_')}", args=args)
    if name in STEP_NAMES:
        return reverse("consultations:step", args=[*args, name])
    return reverse(f"consultations:{name}", args=args)


def test_anonymous_is_sent_to_sign_in(client, consent):
    for path in (
        _url("detail", consent.consultation_id),
        _url("consent_detail", consent.pk),
        _url("consent_pdf", consent.pk),
        _url("start", consent.patient_id),
    ):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/sign-in/")


@pytest.mark.parametrize("persona", ["dr_cy", "lab_li", "qa_quinn", "pat"])
def test_others_get_404_on_the_consultation(client, request, consultation, persona):
    client.force_login(request.getfixturevalue(persona))
    for name in ("detail", "photos", "consent_new", *STEP_NAMES):
        assert client.get(_url(name, consultation.pk)).status_code == 404
    for name in STEP_NAMES:
        assert client.post(_url(name, consultation.pk), {"goals": "x"}).status_code == 404
    assert client.get(_url("start", consultation.patient_id)).status_code == 404


def test_start_page_and_post(client, dr_ada, patient_a):
    client.force_login(dr_ada)
    page = client.get(_url("start", patient_a.pk))
    assert page.status_code == 200 and b"Start consultation" in page.content
    response = client.post(_url("start", patient_a.pk))
    consultation = Consultation.objects.get()
    assert response["Location"] == _url("goals", consultation.pk)


def test_start_from_an_unknown_enquiry_is_404(client, dr_ada, patient_a):
    client.force_login(dr_ada)
    assert client.get(_url("start", patient_a.pk) + "?enquiry=999").status_code == 404
    assert client.get(_url("start", patient_a.pk) + "?enquiry=abc").status_code == 404


def test_a_nurse_reads_but_cannot_run_or_decide(client, nurse_bo, consultation):
    client.force_login(nurse_bo)
    page = client.get(_url("detail", consultation.pk))
    assert page.status_code == 200 and b"Sign the decision" not in page.content
    assert client.post(_url("goals", consultation.pk), {"goals": "x"}).status_code == 404
    assert client.post(_url("decision", consultation.pk), {"decision": "decline"}).status_code == 404
    assert client.get(_url("start", consultation.patient_id)).status_code == 404
    assert client.get(_url("consent_new", consultation.pk)).status_code == 404
    consultation.refresh_from_db()
    assert consultation.goals == ""


def test_the_practitioner_works_through_the_steps(client, dr_ada, consultation):
    client.force_login(dr_ada)
    page = client.get(_url("detail", consultation.pk))
    assert page.status_code == 200
    for text in (b"Patient&#x27;s goals", b"Findings and photographs", b"Candidacy", b"Expectations"):
        assert text in page.content
    assert page.content.count(b"<h1") == 1 and b"Sign the decision" not in page.content
    for name in STEP_NAMES[:-1]:
        page = client.get(_url(name, consultation.pk))
        assert page.status_code == 200 and page.content.count(b"<h1") == 1
    response = client.post(
        _url("goals", consultation.pk), {"goals": "Smoother", "target_areas": "left cheek\nchin"}
    )
    assert response.status_code == 302 and response["Location"] == _url("findings", consultation.pk)
    response = client.post(
        _url("findings", consultation.pk),
        {
            "indication": "scar",
            "severity_scale": "vss",
            "vss__vascularity": "2",
            "vss__pigmentation": "1",
            "vss__pliability": "",
            "vss__height": "1",
            "fitzpatrick_type": "II",
        },
    )
    assert response.status_code == 422 and b"missing: give a value from 0 to 5" in response.content
    consultation.refresh_from_db()
    assert consultation.target_areas == ["left cheek", "chin"] and consultation.severity_score is None
    findings = {
        "indication": "scar",
        "severity_scale": "vss",
        "vss__vascularity": "2",
        "vss__pigmentation": "1",
        "vss__pliability": "2",
        "vss__height": "1",
        "fitzpatrick_type": "II",
    }
    response = client.post(_url("findings", consultation.pk), findings)
    assert response.status_code == 302 and response["Location"] == _url("candidacy", consultation.pk)
    data = {
        "concerns": ["scar"],
        "area": "face",
        "age": "45",
        "expectation": "gradual_improvement",
        "health_generally_fit_and_healthy": "yes",
        "wound_open": "no",
        "months_since_injury": "24",
    }
    for key in HEALTH_KEYS[1:]:
        data[f"health_{key}"] = "no"
    assert client.post(_url("candidacy", consultation.pk), data).status_code == 302
    assert client.post(_url("expectations", consultation.pk), {"discussed": "on"}).status_code == 302
    assert (
        client.post(
            _url("alternatives", consultation.pk), {"alternatives_discussed": ["microneedling"]}
        ).status_code
        == 302
    )
    page = client.get(_url("expectations", consultation.pk))
    assert b"Discussed with the patient" in page.content
    assert b"Sign the decision" in client.get(_url("decision", consultation.pk)).content
    decision = {"decision": "proceed", "therapy_code": THERAPY, "password": PASSWORD}
    response = client.post(_url("decision", consultation.pk), decision)
    assert response.status_code == 302 and response["Location"] == _url("detail", consultation.pk)
    consultation.refresh_from_db()
    assert consultation.status == "decided" and consultation.alternatives_discussed == ["microneedling"]
    page = client.get(_url("detail", consultation.pk))
    assert b"Sign the decision" not in page.content and b"Authored" in page.content
    assert b"Prepare consent" in page.content


def test_wrong_passwords_at_the_decision_count_towards_the_pause(client, dr_ada, ready, settings):
    client.force_login(dr_ada)
    data = {"decision": "proceed", "therapy_code": THERAPY, "password": "wrong"}
    statuses = [client.post(_url("decision", ready.pk), data).status_code for _ in range(6)]
    assert statuses[0] == 422 and statuses[-1] == 429
    response = client.post(_url("decision", ready.pk), {**data, "password": PASSWORD})
    assert response.status_code == 429
    ready.refresh_from_db()
    assert ready.status == "open"


def test_detail_page_queries_do_not_grow_with_photos(client, dr_ada, ready, django_assert_max_num_queries):
    from cellclinic.photos.services import photo_upload

    from .conftest import jpeg_with_gps

    client.force_login(dr_ada)
    url = _url("detail", ready.pk)
    with django_assert_max_num_queries(25):
        assert client.get(url).status_code == 200
    for view in ("front", "left_profile", "right_profile", "close_up"):
        photo_upload(consultation=ready, actor=dr_ada, data=jpeg_with_gps(), view=view)
    with django_assert_max_num_queries(25) as captured:
        assert client.get(url).status_code == 200
    few = len(captured.captured_queries)
    photo_upload(consultation=ready, actor=dr_ada, data=jpeg_with_gps(), view="front")
    with django_assert_max_num_queries(few):
        assert client.get(url).status_code == 200


def test_a_consultation_from_a_request_is_prefilled_with_the_patients_own_answers(client, dr_ada, patient_a):
    from cellclinic.candidacy.models import Assessment, Enquiry
    from cellclinic.consultations.services import consultation_start

    answers = {
        "concerns": ["vitiligo"],
        "area": "hands",
        "age": 30,
        "health": {"generally_fit_and_healthy": True, "pregnant_or_breastfeeding": False},
        "condition": {"vitiligo_stable_months": 27, "wound_open": None, "months_since_injury": None},
        "expectation": "instant_result",
    }
    assessment = Assessment.objects.create(
        source="public", answers=answers, result={}, outcome="consult", ruleset="t", patient=patient_a
    )
    enquiry = Enquiry.objects.create(
        site=patient_a.site, assessment=assessment, name="Grace Hopper", patient=patient_a
    )
    consultation = consultation_start(patient=patient_a, actor=dr_ada, enquiry=enquiry)
    client.force_login(dr_ada)

    form = client.get(_url("candidacy", consultation.pk)).context["form"]

    assert form.initial["area"] == "hands"
    assert form.initial["expectation"] == "instant_result"
    assert form.initial["vitiligo_stable_months"] == 27

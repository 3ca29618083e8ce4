"""The consultations API: start, list, read, record findings, read a consent; scoped by site and role."""

import pytest

from cellclinic.audit.models import AuditEvent
from cellclinic.consultations.models import Consultation

pytestmark = pytest.mark.django_db


def test_start_list_read_and_patch(api_as, dr_ada, patient_a):
    api = api_as(dr_ada)
    response = api.post("/api/v1/consultations", {"patient_id": patient_a.pk})
    assert response.status_code == 201
    body = response.json()
    assert body["patient_id"] == patient_a.pk and body["status"] == "open" and body["site"] == "NCL"
    assert body["practitioner"] == "Ada Okafor" and body["indication"] == "scar"
    cid = body["id"]
    listing = api.get("/api/v1/consultations", patient_id=patient_a.pk).json()
    assert listing["count"] == 1 and listing["items"][0]["id"] == cid
    assert api.get(f"/api/v1/consultations/{cid}").json()["id"] == cid
    patched = api.patch(
        f"/api/v1/consultations/{cid}",
        {
            "goals": "Smoother",
            "target_areas": ["chin"],
            "severity_scale": "vss",
            "severity_items": {"vascularity": 1, "pigmentation": 1, "pliability": 3, "height": 1},
        },
    )
    assert patched.status_code == 200
    assert patched.json()["severity_score"] == 6 and patched.json()["target_areas"] == ["chin"]
    assert patched.json()["severity_totals"] == {"total": 6}
    assert AuditEvent.objects.filter(action="consultation.update").count() == 1


def test_patch_errors_name_the_field_and_change_nothing(api_as, dr_ada, consultation):
    api = api_as(dr_ada)
    url = f"/api/v1/consultations/{consultation.pk}"
    items = {"vascularity": 1, "pigmentation": 1, "pliability": 3, "height": 9}
    response = api.patch(url, {"severity_scale": "vss", "severity_items": items})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "severity_items.height"
    assert api.patch(url, {"status": "decided"}).status_code == 422
    assert api.patch(url, {"goals": None}).status_code == 422
    consultation.refresh_from_db()
    assert consultation.severity_scale == "" and consultation.status == "open"
    assert not AuditEvent.objects.filter(action="consultation.update").exists()


def test_a_decided_consultation_cannot_be_patched(api_as, dr_ada, decided):
    response = api_as(dr_ada).patch(f"/api/v1/consultations/{decided.pk}", {"goals": "x"})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "status"


def test_start_from_an_unknown_enquiry(api_as, dr_ada, patient_a):
    response = api_as(dr_ada).post("/api/v1/consultations", {"patient_id": patient_a.pk, "enquiry_id": 999})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "enquiry_id"
    assert not Consultation.objects.exists()


def test_access(api_as, consultation, consent, nurse_bo, dr_cy, lab_li, pat, patient_a):
    nurse = api_as(nurse_bo)
    assert nurse.get(f"/api/v1/consultations/{consultation.pk}").status_code == 200
    assert nurse.patch(f"/api/v1/consultations/{consultation.pk}", {"goals": "x"}).status_code == 404
    assert nurse.post("/api/v1/consultations", {"patient_id": patient_a.pk}).status_code == 404
    assert nurse.get(f"/api/v1/consents/{consent.pk}").status_code == 200
    for user in (dr_cy, lab_li, pat):
        api = api_as(user)
        assert api.get(f"/api/v1/consultations/{consultation.pk}").status_code == 404
        assert api.get(f"/api/v1/consents/{consent.pk}").status_code == 404
        assert api.patch(f"/api/v1/consultations/{consultation.pk}", {"goals": "x"}).status_code == 404
        assert api.post("/api/v1/consultations", {"patient_id": patient_a.pk}).status_code == 404
    assert api_as(dr_cy).get("/api/v1/consultations").json() == {"count": 0, "items": []}
    anonymous = api_as(None)
    assert anonymous.get("/api/v1/consultations").status_code == 401
    assert anonymous.get(f"/api/v1/consents/{consent.pk}").status_code == 401


def test_read_a_consent(api_as, dr_ada, signed_consent):
    body = api_as(dr_ada).get(f"/api/v1/consents/{signed_consent.pk}").json()
    assert body["status"] == "signed" and body["photographs"] is True and body["outcome_reports"] is False
    # The persona's acne scar is treated only within a study: its consent is a research consent.
    assert body["document"]["title"].startswith("Consent to take part in research")
    assert [s["meaning"] for s in body["signatures"]] == ["authored", "consented"]
    assert body["pdf_sha256"] == signed_consent.pdf_sha256


def test_the_list_runs_a_bounded_number_of_queries(api_as, dr_ada, patient_a, django_assert_max_num_queries):
    from cellclinic.consultations.services import consultation_start

    api = api_as(dr_ada)
    consultation_start(patient=patient_a, actor=dr_ada)
    with django_assert_max_num_queries(8) as captured:
        assert api.get("/api/v1/consultations").status_code == 200
    few = len(captured.captured_queries)
    for _ in range(5):
        consultation_start(patient=patient_a, actor=dr_ada)
    with django_assert_max_num_queries(few):
        assert api.get("/api/v1/consultations").json()["count"] == 6

"""Findings over the API: items in, items and computed totals out, each bad item named; the scale table."""

import pytest

from cellclinic.audit.models import AuditEvent
from cellclinic.consultations.models import Consultation
from cellclinic.consultations.severity import POSAS

pytestmark = pytest.mark.django_db

POSAS_ITEMS = {**dict.fromkeys(POSAS.item_keys, 2), "observer_vascularity": 5, "observer_overall": 7}


def _url(consultation) -> str:
    return f"/api/v1/consultations/{consultation.pk}"


def test_items_in_items_and_totals_out(api_as, dr_ada, consultation):
    api = api_as(dr_ada)
    response = api.patch(_url(consultation), {"severity_scale": "posas", "severity_items": POSAS_ITEMS})
    assert response.status_code == 200
    body = response.json()
    assert body["severity_scale"] == "posas" and body["severity_items"] == POSAS_ITEMS
    assert body["severity_totals"] == {"observer_total": 15, "patient_total": 12}
    assert body["severity_score"] == 15
    assert api.get(_url(consultation)).json()["severity_items"] == POSAS_ITEMS
    listed = api.get("/api/v1/consultations").json()["items"][0]
    assert listed["severity_totals"] == body["severity_totals"] and listed["burn_depth"] == ""


def test_each_bad_item_is_named_and_nothing_changes(api_as, dr_ada, consultation):
    api = api_as(dr_ada)
    items = {**POSAS_ITEMS, "observer_relief": 0, "patient_pain": 2.5, "patient_mood": 3}
    del items["patient_colour"]
    response = api.patch(
        _url(consultation), {"goals": "x", "severity_scale": "posas", "severity_items": items}
    )
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {
        "severity_items.observer_relief",
        "severity_items.patient_pain",
        "severity_items.patient_colour",
        "severity_items.patient_mood",
    }
    assert api.patch(_url(consultation), {"severity_items": None}).status_code == 422
    response = api.patch(_url(consultation), {"severity_scale": "vss", "severity_score": 6})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "severity_score"
    consultation.refresh_from_db()
    assert (consultation.goals, consultation.severity_scale, consultation.severity_items) == ("", "", {})
    assert not AuditEvent.objects.filter(action="consultation.update").exists()


def test_a_one_item_scale_by_its_score(api_as, dr_ada, consultation):
    api = api_as(dr_ada)
    response = api.patch(_url(consultation), {"severity_scale": "elasa", "severity_score": 3})
    assert response.status_code == 200
    assert response.json()["severity_items"] == {"grade": 3} and response.json()["severity_totals"] == {}


def test_a_burn_and_a_wound_described(api_as, dr_ada, consultation):
    api = api_as(dr_ada)
    body = api.patch(
        _url(consultation), {"indication": "burn", "burn_depth": "full_thickness", "burn_tbsa_pct": 31}
    ).json()
    assert (body["burn_depth"], body["burn_tbsa_pct"]) == ("full_thickness", 31)
    response = api.patch(_url(consultation), {"indication": "wound"})
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"burn_depth", "burn_tbsa_pct"}
    body = api.patch(
        _url(consultation),
        {
            "indication": "wound",
            "burn_depth": "",
            "burn_tbsa_pct": None,
            "wound_area_cm2": 37.5,
            "wound_duration_weeks": 7,
        },
    ).json()
    assert (body["burn_depth"], body["burn_tbsa_pct"]) == ("", None)
    assert (body["wound_area_cm2"], body["wound_duration_weeks"]) == (37.5, 7)
    assert api.patch(_url(consultation), {"burn_depth": None}).status_code == 422


def test_a_total_recorded_before_items_reads_without_items(api_as, dr_ada, consultation):
    Consultation.objects.filter(pk=consultation.pk).update(severity_scale="posas_observer", severity_score=24)
    body = api_as(dr_ada).get(_url(consultation)).json()
    assert (body["severity_scale"], body["severity_score"]) == ("posas_observer", 24)
    assert body["severity_items"] == {} and body["severity_totals"] == {}


def test_the_scale_table(api_as, dr_ada, nurse_bo):
    scales = api_as(nurse_bo).get("/api/v1/consultations/scales").json()
    by_code = {scale["code"]: scale for scale in scales}
    posas = by_code["posas"]
    assert posas["score"] == "observer_total" and posas["source"] == ["S27"]
    overall = next(item for item in posas["items"] if item["key"] == "observer_overall")
    assert overall["summed"] is False and (overall["minimum"], overall["maximum"]) == (1, 10)
    assert "observer_overall" not in posas["totals"][0]["parts"]
    vasi = by_code["t_vasi"]
    level = next(item for item in vasi["items"] if item["key"] == "hands_depigmentation")
    assert level["allowed"] == [0, 10, 25, 50, 75, 90, 100] and level["levels"]["50"] == "equal"
    assert vasi["indications"] == ["vitiligo"] and by_code["wsrs"]["score"] is None
    vitiligo = api_as(dr_ada).get("/api/v1/consultations/scales", indication="vitiligo").json()
    assert [s["code"] for s in vitiligo] == ["t_vasi", "f_vasi", "repigmentation_pct", "repigmentation_grade"]
    assert api_as(dr_ada).get("/api/v1/consultations/scales", indication="tattoo").json() == []
    assert api_as(None).get("/api/v1/consultations/scales").status_code == 401

"""POST /api/v1/assessments: the public contract, its errors and its rate limit."""

import pytest

from cellclinic.audit.models import AuditEvent
from cellclinic.candidacy.models import Assessment
from cellclinic.candidacy.tests.helpers import EXAMPLE, payload

URL = "/api/v1/assessments"
pytestmark = pytest.mark.django_db


def test_the_contract_example_is_suitable_and_explained(api_as):
    response = api_as(None).post(URL, EXAMPLE)

    assert response.status_code == 200
    body = response.json()
    assert body["outcome"] == "suitable"
    assert [t["code"] for t in body["therapies"]] == [
        "autologous_skin_cell_suspension",
        "melanocyte_keratinocyte_transplant",
    ]
    statuses = {t["code"]: t["status"] for t in body["therapies"]}
    assert statuses == {
        "autologous_skin_cell_suspension": "suitable",
        # No source gives MKTP an age limit: adults only, and a practitioner checks.
        "melanocyte_keratinocyte_transplant": "consult",
    }
    assert all(t["name"] and (t["reasons"] or t["status"] == "suitable") for t in body["therapies"])
    assert "nb_uvb_phototherapy" in [a["code"] for a in body["alternatives"]]
    assert all(a["why"] for a in body["alternatives"])
    assert [r["rule"] for r in body["reasons"]] == ["limit_not_confirmed:melanocyte_keratinocyte_transplant"]
    assert body["urgent"] == [] and body["excluded"] == []
    assert body["ruleset"].startswith("2026.12-")
    assert [s["code"] for s in body["expectations"]["therapies"]] == [t["code"] for t in body["therapies"]]
    stored = Assessment.objects.get()
    assert str(stored.public_id) == body["id"]
    assert body["result_url"] == f"/assess/result/{stored.public_id}/"
    assert stored.source == "public" and stored.patient is None and stored.outcome == "suitable"


def test_it_stores_the_run_with_one_audit_event_without_an_actor(api_as):
    api_as(None).post(URL, EXAMPLE)

    event = AuditEvent.objects.get()
    assert event.action == "assessment.create"
    assert event.actor_id is None
    assert event.after["outcome"] == "suitable"


def test_omitted_health_answers_count_as_not_answered(api_as):
    data = payload()
    del data["health"]["collagen_disorder"]

    body = api_as(None).post(URL, data).json()

    assert body["outcome"] == "consult"
    unanswered = next(r for r in body["reasons"] if r["rule"] == "unanswered")
    assert "genetic skin or connective tissue conditions" in unanswered["text"]


def test_pregnancy_is_not_suitable_now(api_as):
    body = api_as(None).post(URL, payload(health={"pregnant_or_breastfeeding": True})).json()

    assert body["outcome"] == "not_suitable"
    assert "pregnancy" in [r["rule"] for r in body["reasons"]]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"concerns": ["tattoo"]}, "concerns.0"),
        ({"concerns": ["vitiligo", "tattoo"]}, "concerns.1"),
        ({"concerns": []}, "concerns"),
        ({"age": -1}, "age"),
        ({"age": "34"}, "age"),
        ({"area": "elbow"}, "area"),
        ({"expectation": "miracle"}, "expectation"),
        ({"health": {"pregnant_or_breastfeeding": "no"}}, "health.pregnant_or_breastfeeding"),
        ({"health": {"smoker": False}}, "health.smoker"),
        ({"condition": {"vitiligo_stable_months": -3}}, "condition.vitiligo_stable_months"),
        ({"allergies": ["trypsin"]}, "allergies"),
        ({"age": 121}, "age"),
        ({"age": 4000}, "age"),
        ({"condition": {"wound_open": "open"}}, "condition.wound_open"),
        ({"condition": {"weeks_of_wound_care": 1.5}}, "condition.weeks_of_wound_care"),
        ({"condition": {"skin_colour": 3}}, "condition.skin_colour"),
        # Contradictions: a healed wound with 0 months since the injury; longer than a lifetime; care
        # for longer than the wound has existed.
        (
            {"concerns": ["scar"], "condition": {"wound_open": False, "months_since_injury": 0}},
            "condition.months_since_injury",
        ),
        ({"age": 3, "condition": {"vitiligo_stable_months": 100}}, "condition.vitiligo_stable_months"),
        (
            {"concerns": ["wound"], "condition": {"months_since_injury": 1, "weeks_of_wound_care": 40}},
            "condition.weeks_of_wound_care",
        ),
    ],
)
def test_invalid_answers_name_the_field_and_change_nothing(api_as, changes, field):
    response = api_as(None).post(URL, payload(**changes))

    assert response.status_code == 422
    assert field in [error["field"] for error in response.json()["errors"]]
    assert not Assessment.objects.exists()
    assert not AuditEvent.objects.exists()


def test_a_16_year_old_is_sent_to_a_practitioner_with_a_parent_or_guardian(api_as):
    body = api_as(None).post(URL, payload(age=16)).json()

    assert body["outcome"] == "consult"
    assert any("parent or guardian" in r["text"] for r in body["reasons"] if r["rule"] == "under_18")


def test_an_open_wound_is_urgent_and_the_answer_says_whom_to_contact(api_as):
    body = (
        api_as(None)
        .post(
            URL,
            payload(
                concerns=["wound"],
                area="legs",
                condition={"wound_open": True, "wound_infected": True, "months_since_injury": 2},
            ),
        )
        .json()
    )

    assert body["outcome"] == "consult"
    assert body["urgent"] and any("emergency" in text for text in body["urgent"])


def test_missing_concerns_name_the_field(api_as):
    data = payload()
    del data["concerns"]

    response = api_as(None).post(URL, data)

    assert response.status_code == 422
    assert "concerns" in [error["field"] for error in response.json()["errors"]]


def test_a_body_that_is_not_json_answers_400(api_as):
    response = api_as(None).post(URL, raw="{not json")

    assert response.status_code == 400
    assert not Assessment.objects.exists()


def test_it_is_rate_limited_per_client_address(api_as, settings):
    settings.PUBLIC_ASSESSMENT_RATE = "2/h"
    client = api_as(None)

    statuses = [client.post(URL, EXAMPLE).status_code for _ in range(3)]

    assert statuses == [200, 200, 429]
    assert Assessment.objects.count() == 2


def test_the_limit_counts_each_forwarded_address_apart_behind_a_trusted_proxy(client, settings):
    settings.PUBLIC_ASSESSMENT_RATE = "1/h"
    settings.TRUSTED_PROXY_COUNT = 1

    def post(address):
        return client.post(
            URL, EXAMPLE, content_type="application/json", headers={"X-Forwarded-For": address}
        ).status_code

    assert [post("203.0.113.5"), post("203.0.113.5"), post("198.51.100.7")] == [200, 429, 200]
    # A client cannot dodge the limit by writing its own entries further left.
    assert post("1.2.3.4, 203.0.113.5") == 429


def test_without_trusted_proxies_a_forwarded_header_is_ignored(client, settings):
    settings.PUBLIC_ASSESSMENT_RATE = "1/h"

    def post(address):
        return client.post(
            URL, EXAMPLE, content_type="application/json", headers={"X-Forwarded-For": address}
        ).status_code

    assert [post("203.0.113.5"), post("198.51.100.7")] == [200, 429]


def test_the_429_answer_uses_the_error_shape_and_is_documented(api_as, settings, client):
    settings.PUBLIC_ASSESSMENT_RATE = "1/h"
    api = api_as(None)
    api.post(URL, EXAMPLE)

    response = api.post(URL, EXAMPLE)

    assert response.status_code == 429
    assert response.json()["detail"].startswith("Too many requests")
    assert response.json()["errors"] == []
    operation = client.get("/api/v1/openapi.json").json()["paths"][URL]["post"]
    assert "429" in operation["responses"]
    assert not operation.get("security")

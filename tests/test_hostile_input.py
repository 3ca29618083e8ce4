"""Cheap ways to knock the API over, each tried against the real endpoints: every answer is a 4xx in the
error shape naming the field, nothing is stored, and refused requests count towards the rate limits."""

import json
import re

import pytest
from django.test import Client

from cellclinic.candidacy.models import Assessment
from cellclinic.candidacy.tests.helpers import EXAMPLE, payload
from cellclinic.patients.models import Patient

pytestmark = pytest.mark.django_db

ASSESSMENTS = "/api/v1/assessments"
PATIENTS = "/api/v1/patients"
HUGE = "99999999999999999999"  # 20 digits: beyond any database integer
NEW_PATIENT = {"given_name": "Ada", "family_name": "Lovelace", "date_of_birth": "1990-02-03"}


def fields(response) -> list[str]:
    return [error["field"] for error in response.json()["errors"]]


# --- Finding 1: huge lists, many errors, and refused requests that did not count ---------------------


def test_a_huge_list_is_refused_at_once_with_one_error(api_as):
    body = json.dumps(payload(concerns=["x"] * 150_000))  # 750 kB: within the body limit

    response = api_as(None).post(ASSESSMENTS, raw=body)

    assert response.status_code == 422
    assert fields(response) == ["concerns"]
    assert len(response.content) < 2_000
    assert not Assessment.objects.exists()


def test_at_most_twenty_errors_are_listed_with_the_total_in_the_detail(api_as, dr_ada):
    data = {**NEW_PATIENT, **{f"unknown_{n}": n for n in range(60)}}

    response = api_as(dr_ada).post(PATIENTS, data)

    assert response.status_code == 422
    assert len(response.json()["errors"]) == 20
    assert "60 errors in all; the first 20 are listed" in response.json()["detail"]
    assert not Patient.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("given_name", "x" * 101),
        ("address", "x" * 5001),
        ("history", ["keloid_history"] * 51),
        ("allergies", ["x" * 65]),
    ],
)
def test_strings_and_lists_have_documented_bounds(api_as, dr_ada, field, value):
    response = api_as(dr_ada).post(PATIENTS, {**NEW_PATIENT, field: value})

    assert response.status_code == 422
    assert fields(response)[0].split(".")[0] == field
    assert not Patient.objects.exists()


def test_every_string_and_list_of_every_input_schema_is_bounded(client):
    """The OpenAPI document shows each bound: an input string without maxLength, or a list without
    maxItems, is a way to send a huge body that the schema lets through."""
    document = client.get("/api/v1/openapi.json").json()
    unbounded = []

    def walk(schema, where):
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            if name in seen:
                return
            seen.add(name)
            return walk(document["components"]["schemas"][name], name)
        for option in schema.get("anyOf", []) + schema.get("allOf", []):
            walk(option, where)
        kind = schema.get("type")
        if kind == "string" and "maxLength" not in schema and "enum" not in schema and "format" not in schema:
            unbounded.append(where)
        if kind == "array":
            if "maxItems" not in schema:
                unbounded.append(where)
            walk(schema.get("items", {}), where + "[]")
        extra = schema.get("additionalProperties")
        if kind == "object" and isinstance(extra, dict) and "maxProperties" not in schema:
            unbounded.append(where + "{}")
        for name, prop in schema.get("properties", {}).items():
            walk(prop, f"{where}.{name}")

    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            seen: set[str] = set()
            for parameter in operation.get("parameters", []):
                walk(parameter["schema"], f"{method.upper()} {path} {parameter['name']}")
            for content in operation.get("requestBody", {}).get("content", {}).values():
                walk(content["schema"], f"{method.upper()} {path} body")

    assert unbounded == []


def test_refused_requests_count_towards_the_assessment_limit(api_as, settings):
    settings.PUBLIC_ASSESSMENT_RATE = "3/h"
    api = api_as(None)

    statuses = [
        api.post(ASSESSMENTS, raw="{not json").status_code,
        api.post(ASSESSMENTS, payload(concerns=["nope"])).status_code,
        api.post(ASSESSMENTS, EXAMPLE).status_code,
        api.post(ASSESSMENTS, EXAMPLE).status_code,
        api.post(ASSESSMENTS, raw="{not json").status_code,
    ]

    assert statuses == [400, 422, 200, 429, 429]
    assert Assessment.objects.count() == 1


def test_refused_consultation_requests_count_towards_the_enquiry_limit(client, settings, clinic_a):
    from cellclinic.candidacy.models import Enquiry

    settings.PUBLIC_ENQUIRY_RATE = "2/h"
    assessment_id = Client().post(ASSESSMENTS, EXAMPLE, content_type="application/json").json()["id"]
    url = f"/assess/result/{assessment_id}/request/"

    statuses = [client.post(url, {"name": "\u202eevil"}).status_code for _ in range(3)]

    assert statuses == [422, 422, 429]
    assert not Enquiry.objects.exists()


# --- Finding 3: huge numbers, NUL, lone surrogates; JSON for every API answer ------------------------


@pytest.mark.parametrize(
    "path",
    [
        f"/api/v1/patients/{HUGE}",
        f"/api/v1/consultations/{HUGE}",
        f"/api/v1/consents/{HUGE}",
        f"/api/v1/plans/{HUGE}",
        f"/api/v1/enquiries/{HUGE}",
        f"/api/v1/patients?offset={HUGE}",
        f"/api/v1/patients?limit={HUGE}",
        f"/api/v1/plans?patient_id={HUGE}",
        f"/api/v1/consultations?patient_id={HUGE}",
        f"/api/v1/audit/events?patient_id={HUGE}",
        "/api/v1/patients/0",
    ],
)
def test_huge_numbers_answer_422_naming_the_parameter(api_as, admin_al, dr_ada, path):
    for user in (dr_ada, admin_al):
        response = api_as(user).get(path)
        if response.status_code == 404:  # a route the user's role does not reach at all
            continue
        assert response.status_code == 422, (path, response.content)
        named = path.split("?")[1].split("=")[0] if "?" in path else None
        assert fields(response)[0] == named if named else fields(response)[0].endswith("_id")


def test_huge_ids_in_a_body_answer_422(api_as, dr_ada):
    response = api_as(dr_ada).post("/api/v1/consultations", {"patient_id": int(HUGE)})

    assert response.status_code == 422
    assert fields(response) == ["patient_id"]


@pytest.mark.parametrize("bad", ["a\u0000b", "a\ud800b", "a\u202eb", "a\u2066b"])
def test_nul_surrogates_and_bidi_controls_in_a_name_answer_422_and_nothing_is_stored(api_as, dr_ada, bad):
    body = json.dumps({**NEW_PATIENT, "given_name": bad})  # json escapes the surrogate as \ud800

    response = api_as(dr_ada).post(PATIENTS, raw=body)

    assert response.status_code == 422
    assert fields(response) == ["given_name"]
    assert not Patient.objects.exists()


@pytest.mark.parametrize("bad", ["%00", "a%00b"])
def test_a_nul_in_a_search_answers_422(api_as, dr_ada, bad):
    response = api_as(dr_ada).get(f"{PATIENTS}?q={bad}")

    assert response.status_code == 422
    assert fields(response) == ["q"]


def test_a_lone_surrogate_anywhere_in_an_assessment_answers_422(api_as):
    body = json.dumps(payload(area="\ud800"))

    response = api_as(None).post(ASSESSMENTS, raw=body)

    assert response.status_code == 422
    assert fields(response) == ["area"]
    assert not Assessment.objects.exists()


def test_text_is_stored_in_nfc(api_as, dr_ada):
    response = api_as(dr_ada).post(PATIENTS, {**NEW_PATIENT, "given_name": "Zoe\u0308"})

    assert response.status_code == 201
    assert Patient.objects.get().given_name == "Zo\u00eb"


@pytest.mark.parametrize("value", [0, 19900203, 1.5, True])
def test_a_number_is_not_a_date_of_birth(api_as, dr_ada, value):
    response = api_as(dr_ada).post(PATIENTS, {**NEW_PATIENT, "date_of_birth": value})

    assert response.status_code == 422
    assert fields(response) == ["date_of_birth"]
    assert not Patient.objects.exists()


def test_a_mixed_script_username_is_refused(api_as, admin_al):
    from cellclinic.accounts.models import User

    data = {
        "username": "\u0430dmin",
        "first_name": "Eve",
        "last_name": "Spoof",
        "role": "nurse",
        "site": "NCL",
        "password": "a long enough password 2026",
    }

    response = api_as(admin_al).post("/api/v1/accounts/staff", data)

    assert response.status_code == 422
    assert fields(response) == ["username"]
    assert not User.objects.filter(last_name="Spoof").exists()


def test_an_unforeseen_error_answers_500_in_the_error_shape(api_as, dr_ada, monkeypatch):
    import cellclinic.patients.api as patients_api

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(patients_api, "patient_search", broken)

    response = api_as(dr_ada).get(PATIENTS)

    assert response.status_code == 500
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"detail": "An error on the server; nothing was changed.", "errors": []}


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete", "options"])
@pytest.mark.parametrize("path", ["/api/v1/nothing-here", "/api/v2/patients", "/api/v1/patients/abc"])
def test_unknown_api_paths_answer_json_404_for_every_method(method, path):
    client = Client(enforce_csrf_checks=True)

    response = getattr(client, method)(path)

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "errors": []}


@pytest.mark.parametrize(
    ("method", "path"),
    [("post", PATIENTS), ("patch", f"{PATIENTS}/1"), ("delete", "/api/v1/accounts/tokens/1")],
)
def test_an_anonymous_unsafe_request_gets_401_not_a_csrf_refusal(method, path):
    client = Client(enforce_csrf_checks=True)

    response = getattr(client, method)(path, "{}", content_type="application/json")

    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication required.", "errors": []}


def test_a_signed_in_session_still_needs_the_csrf_token(dr_ada):
    client = Client(enforce_csrf_checks=True)
    client.force_login(dr_ada)
    count = Patient.objects.count()

    response = client.post(PATIENTS, json.dumps(NEW_PATIENT), content_type="application/json")

    assert response.status_code == 403
    assert response.json()["detail"] == "CSRF check Failed"
    assert Patient.objects.count() == count


# --- A sweep over every list endpoint and every one-record endpoint -------------------------------


def _operations(client, method):
    document = client.get("/api/v1/openapi.json").json()
    return [path for path, operations in document["paths"].items() if method in operations]


@pytest.mark.parametrize(
    "query",
    [f"offset={HUGE}", f"limit={HUGE}", "offset=-1", "limit=0", f"offset=1e{HUGE}", "limit=%00", "q=%00"],
)
def test_every_list_endpoint_answers_4xx_to_hostile_paging(client, api_as, admin_al, dr_ada, query):
    for user in (admin_al, dr_ada):
        api = api_as(user)
        for path in _operations(client, "get"):
            if "{" in path:
                continue
            response = api.get(f"{path}?{query}")
            assert response.status_code < 500, (path, query, response.content[:200])
            if response.status_code >= 400:
                assert set(response.json()) == {"detail", "errors"}


def test_every_one_record_endpoint_answers_4xx_to_huge_ids(client, api_as, admin_al, dr_ada):
    for user in (admin_al, dr_ada):
        api = api_as(user)
        for path in _operations(client, "get") + _operations(client, "patch") + _operations(client, "delete"):
            if "{" not in path:
                continue
            concrete = re.sub(r"\{\w+\}", HUGE, path.replace("{code}", "x" * 65))
            for method in ("get", "patch", "delete"):
                response = api.get(concrete) if method == "get" else getattr(api, method)(concrete)
                assert response.status_code in {404, 405, 422}, (method, concrete, response.status_code)

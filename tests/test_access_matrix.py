"""Every route, every persona: sign-in is required, and no page or endpoint leaks another's patient.

Routes are read from the URL configuration and the OpenAPI document, so a new page or endpoint is
covered here the day it is added.
"""

import re

import pytest
from django.urls import URLResolver, get_resolver

from conftest import pathway_ids, registered_from_a_request

PUBLIC_PAGES = {
    "sign-in/",
    "assess/",
    "assess/questions/",
    "assess/result/<uuid:public_id>/",
    "assess/result/<uuid:public_id>/request/",
    "assess/result/<uuid:public_id>/request/sent/",
}
NOT_PAGES = ("api/", "^api/")


def _walk(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern)


PAGE_ROUTES = sorted(
    {route for route in _walk(get_resolver().url_patterns) if not route.startswith(NOT_PAGES)} - PUBLIC_PAGES
)


def fill(route: str, ids: dict) -> str:
    """A concrete path for ROUTE, with each <converter:name> replaced by a sample value."""

    def value(match):
        name = match.group("name")
        return str(ids.get(name, ids["pk"]))

    return "/" + re.sub(r"<(?:(?P<conv>\w+):)?(?P<name>\w+)>", value, route)


def api_operations(client):
    schema = client.get("/api/v1/openapi.json").json()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            yield method, path, bool(operation.get("security"))


def api_path(path: str, ids: dict) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(ids.get(m.group(1), ids["pk"])), path)


@pytest.fixture
def pathway(grace_from_a_request):
    return grace_from_a_request


@pytest.fixture
def patient_a(pathway):
    """The pathway's patient stands in for patient_a here, so `pat` is their portal account."""
    return pathway.patient


@pytest.fixture
def ids(pathway, pat, dr_ada):
    """The ids of the pathway's records; `pat` is linked first, so the patient signs the consent as pat."""
    membership = dr_ada.memberships.first()
    return {**pathway_ids(pathway), "membership_pk": membership.pk, "token_id": 1}


@pytest.mark.django_db
@pytest.mark.parametrize("route", PAGE_ROUTES)
def test_every_page_needs_sign_in(client, ids, route):
    path = fill(route, ids)
    for method in ("get", "post"):
        response = getattr(client, method)(path)
        if route == "sign-out/":
            assert response.status_code in {302, 405}
            continue
        if response.status_code == 405:
            continue
        assert response.status_code == 302, f"{method.upper()} {path}: {response.status_code}"
        assert response["Location"].startswith("/sign-in/"), path


@pytest.mark.django_db
def test_every_api_operation_needs_credentials(client, ids):
    checked = 0
    for method, path, secured in api_operations(client):
        if not secured:
            continue
        response = getattr(client, method)(api_path(path, ids), content_type="application/json")
        assert response.status_code == 401, f"{method.upper()} {path}: {response.status_code}"
        assert response.json() == {"detail": "Authentication required.", "errors": []}
        checked += 1
    assert checked >= 10


def _bodies(client, api, ids):
    """Every page and every API read, as this persona sees them."""
    for route in PAGE_ROUTES:
        path = fill(route, ids)
        if route == "sign-out/":
            continue
        yield path, client.get(path).content.decode()
    for method, path, _ in api_operations(client):
        if method == "get":
            concrete = api_path(path, ids)
            yield concrete, api.get(concrete).content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["lab_li", "qa_quinn", "dr_cy", "pat"])
def test_no_page_or_endpoint_shows_a_patient_the_persona_may_not_see(
    client, api_as, ids, request, persona, patient_a, patient_b
):
    user = request.getfixturevalue(persona)
    hidden = {"pat": patient_b, "dr_cy": patient_a}.get(persona)
    hidden_patients = [hidden] if hidden else [patient_a, patient_b]
    if persona == "pat":
        other = registered_from_a_request(
            patient_b.site, request.getfixturevalue("dr_cy"), given_name="Dorothy", family_name="Hodgkin"
        )
        ids = {**ids, **pathway_ids(other)}
        hidden_patients.append(other.patient)
    client.force_login(user)
    api = api_as(user)
    for path, body in _bodies(client, api, ids):
        for patient in hidden_patients:
            for secret in (patient.family_name, patient.family_name.upper(), patient.mrn):
                assert secret not in body, f"{persona} sees {secret!r} at {path}"


@pytest.mark.django_db
@pytest.mark.parametrize("route", sorted(PUBLIC_PAGES - {"sign-in/"}))
def test_public_pages_answer_without_sign_in_and_name_no_one(client, ids, patient_a, route):
    """The self-assessment pages are public; a result linked to a patient still shows no identity."""
    response = client.get(fill(route, ids))
    assert response.status_code == 200
    body = response.content.decode()
    for secret in (patient_a.family_name, patient_a.family_name.upper(), patient_a.mrn):
        assert secret not in body

"""One table of statuses for domain errors: pages answer with an error page, the API in its JSON shape."""

import json

import jsonschema
import pytest
from django.test import RequestFactory
from django.urls import path

from cellclinic import urls as project_urls
from cellclinic.api import ERROR_SCHEMA, api
from cellclinic.core.errors import HTTP_STATUS, Forbidden, InvalidInput, NotFound, http_status_of

REFUSAL = "Only the treating practitioner may do this."


class OtherClinicForbidden(Forbidden):
    """A narrower refusal: answered as its base class is."""


RAISED = {
    "forbidden": Forbidden(REFUSAL),
    "narrower-forbidden": OtherClinicForbidden(REFUSAL),
    "not-found": NotFound(),
    "invalid": InvalidInput.single("name", "is required"),
    "other": ValueError("a bug"),
}


def raising_page(request, kind):
    raise RAISED[kind]


# This module is the URLconf of the page tests: the raising page beside every real route, which the
# layout links to.
urlpatterns = [path("raise/<str:kind>/", raising_page), *project_urls.urlpatterns]


def test_it_gives_each_domain_error_its_status_and_no_status_to_anything_else():
    assert http_status_of(Forbidden()) == 403
    assert http_status_of(OtherClinicForbidden()) == 403
    assert http_status_of(NotFound()) == 404
    assert http_status_of(InvalidInput.single("name", "is required")) == 422
    assert http_status_of(ValueError()) is None


@pytest.mark.django_db
@pytest.mark.urls(__name__)
@pytest.mark.parametrize("kind", ["forbidden", "narrower-forbidden"])
def test_a_page_that_raises_forbidden_answers_with_the_403_page(client, dr_ada, kind):
    client.force_login(dr_ada)
    response = client.get(f"/raise/{kind}/")
    assert response.status_code == 403
    assert [t.name for t in response.templates][0] == "errors/403.html"
    assert b"Your role does not allow this." in response.content
    # The answer goes back out through the other middleware: request id and security headers.
    assert response["X-Request-ID"]
    assert "default-src 'self'" in response["Content-Security-Policy"]


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_a_page_that_raises_not_found_answers_with_the_404_page(client, dr_ada):
    client.force_login(dr_ada)
    response = client.get("/raise/not-found/")
    assert response.status_code == 404
    assert [t.name for t in response.templates][0] == "errors/404.html"


@pytest.mark.django_db
@pytest.mark.urls(__name__)
@pytest.mark.parametrize(("kind", "error"), [("invalid", InvalidInput), ("other", ValueError)])
def test_it_leaves_every_other_error_alone(client, dr_ada, kind, error):
    client.force_login(dr_ada)
    with pytest.raises(error):
        client.get(f"/raise/{kind}/")


# One example of each error in the table.
EXAMPLES = {Forbidden: RAISED["forbidden"], NotFound: RAISED["not-found"], InvalidInput: RAISED["invalid"]}


def test_the_examples_cover_the_table():
    assert set(EXAMPLES) == set(HTTP_STATUS)


@pytest.mark.parametrize("error", [*EXAMPLES.values(), RAISED["narrower-forbidden"]], ids=repr)
def test_the_api_answers_each_domain_error_with_its_status_in_the_error_shape(error):
    response = api.on_exception(RequestFactory().get("/api/v1/"), error)
    assert response.status_code == http_status_of(error)
    assert response["Content-Type"] == "application/json; charset=utf-8"
    jsonschema.validate(json.loads(response.content), ERROR_SCHEMA)


def test_the_api_keeps_the_message_of_a_refusal_and_never_that_of_a_missing_record():
    request = RequestFactory().get("/api/v1/")
    refused = json.loads(api.on_exception(request, Forbidden(REFUSAL)).content)
    missing = json.loads(api.on_exception(request, NotFound("patient 7 is at RSC")).content)
    invalid = json.loads(api.on_exception(request, InvalidInput.single("name", "is required")).content)
    assert refused == {"detail": REFUSAL, "errors": []}
    assert missing == {"detail": "Not found.", "errors": []}
    assert invalid == {"detail": "name: is required", "errors": [{"field": "name", "message": "is required"}]}

"""Property-based fuzzing of every API operation against its own OpenAPI document.

Every operation is called with generated requests, valid and invalid, as an anonymous client, as a
practitioner and as a patient (bearer tokens), through the WSGI application. Each answer must:

- never be a server error (5xx);
- match the response schema the document gives for its status;
- refuse data that breaks the schema (a 4xx, never a 2xx);
- not ignore authentication: a success with a token must fail without one and with a wrong one.

The number of generated requests per operation and role is `API_FUZZ_EXAMPLES` (20 by default, to keep
CI short; see README "Drills and fuzzing" for a longer run).
"""

import os

import hypothesis
import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import (
    ignored_auth,
    negative_data_rejection,
    response_schema_conformance,
)

from conftest import grace_from_a_request, pathway_ids  # noqa: F401 - fixtures used by name

EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "20"))
CHECKS = [not_a_server_error, response_schema_conformance, negative_data_rejection, ignored_auth]


def _document() -> dict:
    from cellclinic.api import api

    return api.get_openapi_schema()


schema = schemathesis.openapi.from_dict(
    _document(),
    config=schemathesis.Config.from_dict(
        {
            "generation": {
                "mode": "all",
                "max-examples": EXAMPLES,
                "deterministic": True,
                "with-security-parameters": False,
            },
            "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
        }
    ),
)
schema.app = WSGIHandler()

# Ids of records that exist, filled in by the `known_records` fixture: a generated id is swapped for a
# real one half the time, so operations on one record are fuzzed past their 404.
KNOWN: dict[str, object] = {}


def _with_known_ids(case):
    case.path_parameters = {name: KNOWN.get(name, value) for name, value in case.path_parameters.items()}
    return case


@schema.hook
def flatmap_case(context, case):
    if not case.path_parameters or (
        case.meta is not None and case.meta.is_negative_at(ParameterLocation.PATH)
    ):
        return st.just(case)  # an invalid id stays invalid: it must be refused
    return st.booleans().map(lambda known: _with_known_ids(case) if known else case)


@pytest.fixture(autouse=True)
def _connection_kept_between_requests():
    """The test's transaction must outlive each request, as with Django's test client: the WSGI handler
    would otherwise close the database connection when a request finishes."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def patient_a(grace_from_a_request):  # noqa: F811 - overrides the shared patient with a full pathway
    return grace_from_a_request.patient


@pytest.fixture
def known_records(grace_from_a_request, pat, dr_ada):  # noqa: F811
    ids = pathway_ids(grace_from_a_request)
    KNOWN.clear()
    KNOWN.update(ids)
    from cellclinic.accounts.services import api_token_create

    token, _ = api_token_create(user=dr_ada, name="fuzzed")
    KNOWN["token_id"] = token.pk
    yield
    KNOWN.clear()


@pytest.fixture(params=["anonymous", "practitioner", "patient"])
def credentials(request, known_records, dr_ada, pat) -> dict:
    from cellclinic.accounts.services import api_token_create

    user = {"anonymous": None, "practitioner": dr_ada, "patient": pat}[request.param]
    if user is None:
        return {}
    _, key = api_token_create(user=user, name="fuzz")
    return {"Authorization": f"Bearer {key}"}


@pytest.mark.django_db
@schema.parametrize()
@hypothesis.settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(hypothesis.HealthCheck),
)
def test_api_answers_every_request_as_documented(case, credentials):
    case.call_and_validate(headers=credentials, checks=CHECKS)

"""Idempotency-Key on the API's POSTs: a retry answers the first answer and makes nothing new."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from cellclinic.idempotency import locks
from cellclinic.idempotency.models import IdempotentAnswer
from cellclinic.patients.models import Patient

NEW_PATIENT = {"given_name": "Ada", "family_name": "Lovelace", "date_of_birth": "1985-12-10"}


def post(client, token, body, key, path="/api/v1/patients"):
    import json

    headers = {"Idempotency-Key": key}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return client.post(path, json.dumps(body), content_type="application/json", headers=headers)


@pytest.fixture
def token(dr_ada):
    from cellclinic.accounts.services import api_token_create

    return api_token_create(user=dr_ada)[1]


def test_a_retry_answers_the_first_answer_and_makes_nothing_new(client, token):
    first = post(client, token, NEW_PATIENT, "key-1")
    again = post(client, token, NEW_PATIENT, "key-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true" and not first.has_header("Idempotent-Replayed")
    assert Patient.objects.filter(family_name="Lovelace").count() == 1


def test_the_same_key_with_another_body_is_refused(client, token):
    post(client, token, NEW_PATIENT, "key-1")
    other = post(client, token, {**NEW_PATIENT, "given_name": "Augusta"}, "key-1")
    assert other.status_code == 422
    assert other.json()["errors"] == [
        {"field": "Idempotency-Key", "message": other.json()["errors"][0]["message"]}
    ]
    assert "different request" in other.json()["detail"]
    assert Patient.objects.filter(family_name="Lovelace").count() == 1


def test_the_same_key_on_another_endpoint_is_refused(client, token):
    post(client, token, NEW_PATIENT, "key-1")
    assert post(client, token, {"name": "laptop"}, "key-1", path="/api/v1/accounts/tokens").status_code == 422


@pytest.mark.parametrize("key", ["", "a" * 256, "with space", "naïve"])
def test_a_malformed_key_is_refused(client, token, key):
    answer = post(client, token, NEW_PATIENT, key)
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "Idempotency-Key"
    assert not Patient.objects.exists()


def test_a_refused_request_is_not_kept_so_the_corrected_retry_runs(client, token):
    assert post(client, token, {**NEW_PATIENT, "date_of_birth": "2999-01-01"}, "key-1").status_code == 422
    assert not IdempotentAnswer.objects.exists()
    assert post(client, token, NEW_PATIENT, "key-1").status_code == 201


def test_keys_are_kept_per_user(client, token, dr_cy):
    from cellclinic.accounts.services import api_token_create

    other_token = api_token_create(user=dr_cy)[1]
    post(client, token, NEW_PATIENT, "shared-key")
    answer = post(client, other_token, NEW_PATIENT, "shared-key")
    assert answer.status_code == 201 and not answer.has_header("Idempotent-Replayed")
    assert Patient.objects.filter(family_name="Lovelace").count() == 2


def test_a_key_expires_after_a_day(client, token):
    first = post(client, token, NEW_PATIENT, "key-1")
    with time_machine.travel(timezone.now() + timedelta(days=1, minutes=1)):
        later = post(client, token, NEW_PATIENT, "key-1")
    assert later.status_code == 201 and later.json()["id"] != first.json()["id"]
    assert IdempotentAnswer.objects.count() == 1  # the expired answer was cleared


def test_a_key_still_being_answered_answers_409(client, token, monkeypatch):
    from contextlib import contextmanager

    @contextmanager
    def held_elsewhere(connection, scope, key):
        yield False

    monkeypatch.setattr("cellclinic.idempotency.middleware.guarded_transaction", held_elsewhere)
    answer = post(client, token, NEW_PATIENT, "key-1")
    assert answer.status_code == 409 and answer["Retry-After"] == "1"
    assert not Patient.objects.exists()


def test_anonymous_keys_are_kept_per_client_address(client, db):
    from cellclinic.idempotency.middleware import caller_scope

    request = type("Request", (), {"headers": {}, "user": None, "META": {"REMOTE_ADDR": "192.0.2.7"}})()
    assert caller_scope(request) == "address:192.0.2.7"


def test_without_a_key_nothing_is_kept(client, token):
    import json

    for _ in range(2):
        client.post(
            "/api/v1/patients",
            json.dumps(NEW_PATIENT),
            content_type="application/json",
            headers={"Authorization": f"Bearer {token}"},
        )
    assert Patient.objects.filter(family_name="Lovelace").count() == 2
    assert not IdempotentAnswer.objects.exists()


def test_the_guard_holds_a_key_against_a_second_request(db):
    """While one request holds a key, another cannot take it: on SQLite neither another thread of the
    process nor the lock file admits it; on PostgreSQL another database session cannot take the lock."""
    from django.db import connection, connections

    number = locks.key_number("user:1", "k")
    if connection.vendor == "postgresql":
        with locks.guarded_transaction(connection, "user:1", "k") as first:
            other = connections.create_connection("default")
            try:
                with other.cursor() as cursor:
                    cursor.execute(
                        "SELECT pg_try_advisory_xact_lock(%s, %s)", [locks._PG_CLASS, number % 2**31]
                    )
                    second = bool(cursor.fetchone()[0])
            finally:
                other.close()
        assert (first, second) == (True, False)
        return
    with (
        locks.guarded_transaction(connection, "user:1", "k") as first,
        locks._file_guard(connection, number) as second,
    ):
        assert (first, second) == (True, False)
    with locks._file_guard(connection, number) as again:
        assert again


def test_the_openapi_document_names_the_header_on_every_post():
    from cellclinic.api import api

    for path, operations in api.get_openapi_schema()["paths"].items():
        for method, operation in operations.items():
            names = [p["name"] for p in operation.get("parameters", [])]
            assert ("Idempotency-Key" in names) == (method == "post"), (method, path)
            if method == "post":
                assert "409" in operation["responses"]

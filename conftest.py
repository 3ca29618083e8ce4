"""Shared test fixtures: sites and named personas covering the permission cases.

- dr_ada: practitioner at North Clinic (NCL)      - nurse_bo: nurse at NCL
- admin_al: clinic admin at NCL                     - dr_cy: practitioner at Riverside Clinic (RSC)
- lab_li: lab technician at the Central Lab (LAB)   - qa_quinn: QA reviewer at LAB
- pat: a patient portal account, linked to a patient at NCL
"""

import os
from datetime import date

import pytest
from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher
from hypothesis import settings as hypothesis_settings

PASSWORD = "correct horse battery staple"

# Property tests judge behaviour, never time: no per-example deadline on a busy machine, and in CI
# the same examples every run, so a landing never depends on a lucky draw.
hypothesis_settings.register_profile("default", deadline=None)
hypothesis_settings.register_profile("ci", deadline=None, derandomize=True, print_blob=True)
hypothesis_settings.load_profile("ci" if os.environ.get("CI") == "true" else "default")


class FastArgon2Hasher(Argon2PasswordHasher):
    """Argon2 with tiny costs: the production code path, without 100 MB and 0.1 s per hash."""

    time_cost = 1
    memory_cost = 256
    parallelism = 1


def pytest_configure(config):
    settings.PASSWORD_HASHERS = ["conftest.FastArgon2Hasher"]
    # Every API answer given during the tests is checked against the OpenAPI document.
    settings.MIDDLEWARE = ["tests.openapi_oracle.OpenApiOracleMiddleware", *settings.MIDDLEWARE]
    # The manifest storage needs collectstatic; tests serve static files from the finders instead.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    # Playwright's sync API runs an event loop in the test thread; the ORM calls around it are safe.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session", autouse=True)
def _no_stray_connections_at_the_end(django_db_setup, django_db_blocker):
    """Close connections left open outside the main test context, so the test database can be dropped.

    After the browser tests (live server threads, Playwright's event loop beside the test code) one
    such connection can outlive Django's own teardown, which then fails to drop the database.
    """
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture
def client():
    """Django's test client; its force_login is a whole sign-in, second factor included (tests.two_factor)."""
    from tests.two_factor import TwoFactorClient

    return TwoFactorClient()


@pytest.fixture
def password_only_client():
    """A client whose force_login is the password step alone: the session still owes its second factor."""
    from django.test import Client

    return Client()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters live in the cache: each test starts with none."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _photos_in_a_temporary_media_root(settings, tmp_path):
    """Uploaded photos and consent copies go to a folder of the test's own."""
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture(autouse=True)
def _audit_triggers_lifted_for_flush(request):
    """Let Django empty the audit tables between transactional tests.

    The append-only triggers refuse the DELETE (SQLite) or TRUNCATE (PostgreSQL) that Django's
    flush uses. They are dropped just before the flush and put back when the next test starts.
    """
    marker = request.node.get_closest_marker("django_db")
    transactional = (
        "transactional_db" in request.fixturenames
        or "live_server" in request.fixturenames
        or (
            marker is not None
            and bool(marker.kwargs.get("transaction", marker.args[0] if marker.args else False))
        )
    )
    if not transactional:
        yield
        return
    from django.db import connection

    from cellclinic.audit import triggers

    request.getfixturevalue("transactional_db")
    triggers.install(connection)
    yield
    triggers.uninstall(connection)


def make_user(username, *, first, last, roles=(), kind="staff"):
    from cellclinic.accounts.models import User

    user = User(
        username=username, first_name=first, last_name=last, kind=kind, email=f"{username}@example.org"
    )
    user.set_password(PASSWORD)
    user.save()
    from cellclinic.accounts.models import Membership

    for site, role in roles:
        Membership.objects.create(user=user, site=site, role=role)
    return user


@pytest.fixture
def lab(db):
    from cellclinic.accounts.models import Site

    return Site.objects.create(code="LAB", name="Central Cell Lab", kind="lab")


@pytest.fixture
def clinic_a(db, lab):
    from cellclinic.accounts.models import Site

    return Site.objects.create(code="NCL", name="North Clinic", kind="clinic", lab=lab)


@pytest.fixture
def clinic_b(db, lab):
    from cellclinic.accounts.models import Site

    return Site.objects.create(code="RSC", name="Riverside Clinic", kind="clinic", lab=lab)


@pytest.fixture
def dr_ada(clinic_a):
    return make_user("ada", first="Ada", last="Okafor", roles=[(clinic_a, "practitioner")])


@pytest.fixture
def nurse_bo(clinic_a):
    return make_user("bo", first="Bo", last="Lindqvist", roles=[(clinic_a, "nurse")])


@pytest.fixture
def admin_al(clinic_a):
    return make_user("al", first="Al", last="Rahman", roles=[(clinic_a, "clinic_admin")])


@pytest.fixture
def dr_cy(clinic_b):
    return make_user("cy", first="Cy", last="Moreau", roles=[(clinic_b, "practitioner")])


@pytest.fixture
def lab_li(lab):
    return make_user("li", first="Li", last="Chen", roles=[(lab, "lab_technician")])


@pytest.fixture
def qa_quinn(lab):
    return make_user("quinn", first="Quinn", last="Adeyemi", roles=[(lab, "qa_reviewer")])


@pytest.fixture
def patient_a(clinic_a, dr_ada):
    """A patient at North Clinic, registered through the service (so the MRN is real)."""
    from cellclinic.patients.services import patient_create

    return patient_create(
        site=clinic_a,
        actor=dr_ada,
        data={
            "given_name": "Grace",
            "family_name": "Hopper",
            "date_of_birth": date(1980, 12, 9),
            "sex_at_birth": "female",
            "presenting_concern": "scar",
            "fitzpatrick_type": "II",
        },
    )


@pytest.fixture
def patient_b(clinic_b, dr_cy):
    """A patient at Riverside Clinic: out of reach for North Clinic staff."""
    from cellclinic.patients.services import patient_create

    return patient_create(
        site=clinic_b,
        actor=dr_cy,
        data={
            "given_name": "Rosalind",
            "family_name": "Franklin",
            "date_of_birth": date(1975, 7, 25),
            "sex_at_birth": "female",
            "presenting_concern": "vitiligo",
        },
    )


@pytest.fixture
def pat(patient_a, dr_ada):
    """The portal account of patient_a."""
    from cellclinic.patients.services import patient_link_portal_user

    user = make_user("pat", first="Grace", last="Hopper", kind="patient")
    patient_link_portal_user(patient=patient_a, user=user, actor=dr_ada)
    return user


class ApiClient:
    """Django's test client speaking JSON with a bearer token (or none)."""

    def __init__(self, client, token=None):
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, path, **params):
        return self.client.get(path, params, headers=self.headers)

    def post(self, path, data=None, raw=None):
        body = raw if raw is not None else __import__("json").dumps(data or {})
        return self.client.post(path, body, content_type="application/json", headers=self.headers)

    def patch(self, path, data=None, raw=None):
        body = raw if raw is not None else __import__("json").dumps(data or {})
        return self.client.patch(path, body, content_type="application/json", headers=self.headers)

    def delete(self, path):
        return self.client.delete(path, headers=self.headers)


@pytest.fixture
def api_as(client):
    """api_as(user) -> a JSON client authenticated with a fresh bearer token; api_as(None) -> anonymous."""
    from cellclinic.accounts.services import api_token_create

    def _make(user):
        if user is None:
            return ApiClient(client)
        _, key = api_token_create(user=user)
        return ApiClient(client, key)

    return _make


def registered_from_a_request(site, practitioner, *, given_name: str, family_name: str):
    """A patient at SITE who assessed themself online and asked for a consultation, registered from that
    request by PRACTITIONER: a pathway of the builder, which `pathway_ids` takes on to a plan."""
    from cellclinic.demo.builder import at_stage

    return at_stage(
        "registered",
        site=site,
        practitioner=practitioner,
        password=PASSWORD,
        concerns=["scar"],
        enquiry_data={"name": f"{given_name} {family_name}"},
        patient_data={"date_of_birth": date(1980, 12, 9), "sex_at_birth": "female", "fitzpatrick_type": "II"},
    )


@pytest.fixture
def grace_from_a_request(clinic_a, dr_ada):
    """Grace Hopper at North Clinic, registered from her own request: tests that probe every record of a
    pathway override patient_a with her, so that `pat` is her portal account."""
    return registered_from_a_request(clinic_a, dr_ada, given_name="Grace", family_name="Hopper")


def pathway_ids(pathway) -> dict:
    """PATHWAY taken on to a plan through the services, with a baseline photograph on the way: one record
    of every kind (self-assessment, request, patient, consultation, photo, consent, plan), their ids and
    the code of the therapy decided on."""
    from cellclinic.demo.builder import advance

    advance(pathway, "planned", photos=("front",))
    return {
        "pk": pathway.patient.pk,
        "patient_id": pathway.patient.pk,
        "public_id": pathway.assessment.public_id,
        "enquiry_id": pathway.enquiry.pk,
        "consultation_id": pathway.consultation.pk,
        "photo_uid": pathway.photos[0].uid,
        "consent_id": pathway.consent.pk,
        "plan_id": pathway.plan.pk,
        "code": pathway.consultation.therapy_code,
    }

"""The access log: reads of health data and sign-in events, hash-chained, append-only, one query a read."""

import io

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test import Client, RequestFactory, override_settings

from cellclinic.audit import triggers
from cellclinic.audit.chain import ACCESS_FIELDS, GENESIS_HASH, access_hash, verify_chain
from cellclinic.audit.models import AccessEvent
from cellclinic.audit.services import ACCESS_TEXT_LIMIT, record_access
from cellclinic.demo.builder import at_stage
from conftest import PASSWORD

pytestmark = pytest.mark.django_db


def verify(*args):
    out = io.StringIO()
    try:
        call_command("verify_audit", *args, stdout=out, stderr=io.StringIO())
    except SystemExit as exc:
        return exc.code, out.getvalue()
    return 0, out.getvalue()


def chain_rows():
    return AccessEvent.objects.order_by("id").values("id", *ACCESS_FIELDS, "prev_hash", "hash")


def reads(action, **where):
    return list(AccessEvent.objects.filter(action=action, **where).order_by("id"))


@pytest.fixture
def planned(dr_ada, patient_a):
    """Patient A with a signed consent, a plan and a baseline photo."""
    return at_stage("planned", patient=patient_a, practitioner=dr_ada, password=PASSWORD, photos=("front",))


# The log itself ---------------------------------------------------------------------------------------


def test_a_read_costs_one_query_and_extends_the_chain(dr_ada, clinic_a, django_assert_num_queries):
    with django_assert_num_queries(1):
        record_access(
            dr_ada, "patient.view", object_type="patient", object_id=7, patient_id=7, site_id=clinic_a.pk
        )
    with django_assert_num_queries(1):
        record_access(dr_ada, "patient.search", object_type="patient", details={"terms": {"q": "Zoë 李"}})
    first, second = AccessEvent.objects.order_by("id")
    assert first.prev_hash == GENESIS_HASH and second.prev_hash == first.hash
    assert (first.actor, first.actor_name, first.patient_id, first.site_id) == (
        dr_ada,
        "Ada Okafor",
        7,
        clinic_a.pk,
    )
    assert second.details == {"terms": {"q": "Zoë 李"}}
    assert verify_chain(chain_rows(), access_hash).ok


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_accessevent SET action = 'patient.nothing' WHERE id = %s",
        "DELETE FROM audit_accessevent WHERE id = %s",
    ],
)
def test_the_access_log_is_append_only_at_the_database(dr_ada, sql):
    record_access(dr_ada, "patient.view", object_type="patient", object_id=1)
    event_id = AccessEvent.objects.get().pk
    refused = pytest.raises(DatabaseError, match="append-only")
    with refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [event_id])
    assert AccessEvent.objects.get().action == "patient.view"


def test_verify_audit_finds_an_edited_or_deleted_access_event(dr_ada):
    for n in range(3):
        record_access(dr_ada, "patient.view", object_type="patient", object_id=n, patient_id=n)
    status, out = verify()
    assert status == 0 and "OK: 3 access events, access log intact" in out
    ids = list(AccessEvent.objects.order_by("id").values_list("id", flat=True))
    triggers.uninstall(connection)
    try:
        with connection.cursor() as cursor:
            cursor.execute("UPDATE audit_accessevent SET object_id = '99' WHERE id = %s", [ids[1]])
        status, out = verify()
        assert status == 1
        assert f"ACCESS LOG BROKEN at access event {ids[1]}: its content does not match its hash" in out
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM audit_accessevent WHERE id = %s", [ids[1]])
        status, out = verify()
        assert status == 1 and f"ACCESS LOG BROKEN at access event {ids[2]}: its previous hash" in out
    finally:
        triggers.install(connection)


# Reads of health data, page by page --------------------------------------------------------------------


def test_the_chart_is_logged_as_a_read_of_the_patient(client, dr_ada, patient_a):
    client.force_login(dr_ada)
    response = client.get(f"/patients/{patient_a.pk}/", headers={"X-Request-ID": "client-chosen-id-1"})
    assert response.status_code == 200
    (event,) = reads("patient.view")
    assert (event.actor, event.object_type, event.object_id) == (dr_ada, "patient", str(patient_a.pk))
    assert (event.patient_id, event.site_id) == (patient_a.pk, patient_a.site_id)
    assert event.request_id == response["X-Request-ID"] != "client-chosen-id-1"
    assert event.client_request_id == "client-chosen-id-1"


def test_a_chart_that_is_not_yours_is_not_logged_as_read(client, dr_cy, patient_a):
    client.force_login(dr_cy)
    assert client.get(f"/patients/{patient_a.pk}/").status_code == 404
    assert reads("patient.view") == []


def test_the_patient_search_is_logged_with_its_terms(client, dr_ada, patient_a):
    client.force_login(dr_ada)
    assert client.get("/patients/", {"q": "hopper", "page": "1"}).status_code == 200
    (event,) = reads("patient.search")
    assert event.actor == dr_ada and event.patient_id is None
    assert event.details == {"terms": {"q": "hopper", "page": "1"}, "path": "/patients/"}


def test_a_search_term_is_kept_as_typed_up_to_a_bounded_length(client, dr_ada):
    client.force_login(dr_ada)
    client.get("/patients/", {"q": "x" * 5000})
    (event,) = reads("patient.search")
    assert event.details["terms"]["q"] == "x" * ACCESS_TEXT_LIMIT


def test_consent_photo_consultation_and_plan_pages_are_logged(client, dr_ada, planned):
    client.force_login(dr_ada)
    consent, plan, photo = planned.consent, planned.plan, planned.photos[0]
    assert client.get(f"/consents/{consent.pk}/").status_code == 200
    assert client.get(f"/consents/{consent.pk}/pdf/").status_code == 200
    assert client.get(f"/photos/{photo.uid}/").status_code == 200
    assert client.get(f"/consultations/{planned.consultation.pk}/").status_code == 200
    assert client.get(f"/plans/{plan.pk}/").status_code == 200
    logged = {
        (e.action, e.object_type, e.object_id, e.patient_id)
        for e in AccessEvent.objects.filter(actor=dr_ada).exclude(action__startswith="user.")
    }
    patient = planned.patient.pk
    assert logged == {
        ("consent.view", "consent", str(consent.pk), patient),
        ("consent.pdf", "consent", str(consent.pk), patient),
        ("photo.view", "photo", str(photo.pk), patient),
        ("consultation.view", "consultation", str(planned.consultation.pk), patient),
        ("treatment_plan.view", "treatment_plan", str(plan.pk), patient),
    }
    (pdf,) = reads("consent.pdf")
    assert pdf.details["file"].startswith(f"consent-{consent.pk}-")


def test_a_patient_reading_their_own_consent_is_logged(client, pat, dr_ada, patient_a):
    pathway = at_stage("consent_prepared", patient=patient_a, practitioner=dr_ada, password=PASSWORD)
    client.force_login(pat)
    assert client.get(f"/consents/{pathway.consent.pk}/").status_code == 200
    (event,) = reads("consent.view")
    assert event.actor == pat and event.patient_id == patient_a.pk


def test_api_detail_and_list_endpoints_are_logged(api_as, dr_ada, planned):
    api = api_as(dr_ada)
    patient = planned.patient.pk
    for path in (
        f"/api/v1/patients/{patient}",
        f"/api/v1/consultations/{planned.consultation.pk}",
        f"/api/v1/consents/{planned.consent.pk}",
        f"/api/v1/plans/{planned.plan.pk}",
    ):
        assert api.get(path).status_code == 200, path
    assert api.get("/api/v1/patients", q="hop").status_code == 200
    assert api.get("/api/v1/consultations", patient_id=patient).status_code == 200
    assert api.get("/api/v1/plans", patient_id=patient).status_code == 200
    assert [e.action for e in AccessEvent.objects.order_by("id")] == [
        "patient.view",
        "consultation.view",
        "consent.view",
        "treatment_plan.view",
        "patient.search",
        "consultation.search",
        "treatment_plan.search",
    ]
    assert all(e.actor == dr_ada for e in AccessEvent.objects.all())
    assert reads("patient.search")[0].details["terms"] == {"q": "hop"}
    assert reads("treatment_plan.search")[0].patient_id == patient


def test_enquiries_are_logged_on_pages_and_in_the_api(client, api_as, dr_ada, clinic_a):
    pathway = at_stage("enquired", site=clinic_a, practitioner=dr_ada, password=PASSWORD)
    enquiry = pathway.enquiry
    client.force_login(dr_ada)
    assert client.get(f"/enquiries/{enquiry.pk}/").status_code == 200
    assert client.get("/enquiries/", {"status": "new"}).status_code == 200
    api = api_as(dr_ada)
    assert api.get(f"/api/v1/enquiries/{enquiry.pk}").status_code == 200
    assert len(reads("enquiry.view", object_id=str(enquiry.pk))) == 2
    assert reads("enquiry.search")[0].details["terms"] == {"status": "new"}


# Sign-ins, sign-outs, failures and lockouts -------------------------------------------------------------


def sign_in_request():
    return RequestFactory().post("/sign-in/", REMOTE_ADDR="203.0.113.9")


def test_a_sign_in_and_a_sign_out_are_logged(dr_ada):
    client = Client()
    client.force_login(dr_ada)
    client.post("/sign-out/")
    sign_in, sign_out = AccessEvent.objects.order_by("id")
    assert (sign_in.action, sign_in.actor, sign_in.object_id) == ("user.sign_in", dr_ada, str(dr_ada.pk))
    assert (sign_out.action, sign_out.actor) == ("user.sign_out", dr_ada)


def test_a_failed_sign_in_keeps_the_username_as_typed_and_never_the_password(dr_ada):
    assert authenticate(sign_in_request(), username=dr_ada.username, password="wrong guess 42") is None
    assert authenticate(sign_in_request(), username="No Such User", password="wrong guess 43") is None
    known, unknown = reads("user.sign_in_failed")
    assert known.actor is None and known.object_id == str(dr_ada.pk)
    assert known.details == {"username": dr_ada.username, "address": "203.0.113.9"}
    assert unknown.object_id == "" and unknown.details["username"] == "No Such User"
    stored = str(list(AccessEvent.objects.values()))
    assert "wrong guess" not in stored


def test_a_very_long_username_is_cut_to_a_bounded_length(db):
    # Longer than the log keeps, within what the lockout records store (255).
    authenticate(sign_in_request(), username="u" * 250, password="x")
    (event,) = reads("user.sign_in_failed")
    assert event.details["username"] == "u" * ACCESS_TEXT_LIMIT


@override_settings(AXES_FAILURE_LIMIT=2)
def test_a_lockout_is_logged(dr_ada):
    authenticate(sign_in_request(), username=dr_ada.username, password="wrong")
    assert reads("user.locked_out") == []
    authenticate(sign_in_request(), username=dr_ada.username, password="wrong")
    event = reads("user.locked_out")[0]
    assert event.object_id == str(dr_ada.pk)
    assert event.details == {"username": dr_ada.username, "address": "203.0.113.9"}


def test_sign_in_events_are_in_the_verified_chain(dr_ada):
    Client().force_login(dr_ada)
    authenticate(sign_in_request(), username=dr_ada.username, password="wrong")
    status, out = verify()
    assert status == 0 and "OK: 2 access events, access log intact" in out


# The audit page ------------------------------------------------------------------------------------------


def test_the_admin_sees_reads_and_sign_ins_of_their_clinic_only(
    client, admin_al, dr_ada, dr_cy, patient_a, patient_b
):
    record_access(
        dr_ada,
        "patient.view",
        object_type="patient",
        object_id=patient_a.pk,
        patient_id=patient_a.pk,
        site_id=patient_a.site_id,
    )
    record_access(
        dr_cy,
        "patient.view",
        object_type="patient",
        object_id=patient_b.pk,
        patient_id=patient_b.pk,
        site_id=patient_b.site_id,
    )
    authenticate(sign_in_request(), username=dr_ada.username, password="wrong")
    client.force_login(admin_al)
    response = client.get("/audit/", {"log": "access"})
    assert response.status_code == 200
    rows = response.context["rows"]
    shown = {(row["action"], row["patient_id"]) for row in rows}
    assert ("patient.view", patient_a.pk) in shown
    assert ("patient.view", patient_b.pk) not in shown
    assert ("user.sign_in_failed", None) in shown
    text = response.content.decode()
    assert "Viewed patient" in text and "Sign-in failed" in text
    changes = client.get("/audit/")
    assert all("details" not in row for row in changes.context["rows"])


def test_the_access_list_filters_by_patient_and_user(client, admin_al, dr_ada, nurse_bo, patient_a):
    record_access(
        dr_ada,
        "patient.view",
        object_type="patient",
        object_id=patient_a.pk,
        patient_id=patient_a.pk,
        site_id=patient_a.site_id,
    )
    record_access(
        nurse_bo,
        "patient.view",
        object_type="patient",
        object_id=patient_a.pk,
        patient_id=patient_a.pk,
        site_id=patient_a.site_id,
    )
    client.force_login(admin_al)
    response = client.get("/audit/", {"log": "access", "user": nurse_bo.username, "patient": patient_a.mrn})
    assert [row["actor__username"] for row in response.context["rows"]] == [nurse_bo.username]


@pytest.mark.django_db(transaction=True)
def test_readers_at_the_same_moment_never_fork_the_chain(dr_ada):
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connections

    def read_many(worker):
        try:
            for n in range(15):
                record_access(dr_ada, "patient.view", object_type="patient", object_id=worker * 100 + n)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(read_many, range(6)))
    rows = list(chain_rows())
    assert len(rows) == 90
    assert verify_chain(rows, access_hash).ok

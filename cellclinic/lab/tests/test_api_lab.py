"""The lab's JSON API: specimens, batches, products, the bedside check and administration, and look-back;
each scoped to the reader (another clinic's record or a portal patient: 404), with no patient identity in
any answer a lab reader gets."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cellclinic.audit.models import AuditEvent
from cellclinic.lab import states
from cellclinic.lab.administration import ACTION_HARD_STOP, ACTION_PASSED
from cellclinic.lab.isbt import Din
from cellclinic.lab.models import (
    BedsideCheck,
    CustodyEvent,
    Deviation,
    ProcessStep,
    Product,
    QCResult,
    ReagentLot,
)
from cellclinic.lab.tests import rows
from cellclinic.patients.models import Patient
from cellclinic.treatment.tests.helpers import DONOR

pytestmark = pytest.mark.django_db

API = "/api/v1"
CHECKS = f"{API}/bedside-checks"
UNUSED_DIN = Din(rows.FACILITY, 26, 999_999).din


def recorded() -> tuple[int, int, int]:
    return BedsideCheck.objects.count(), CustodyEvent.objects.count(), AuditEvent.objects.count()


@pytest.fixture
def world(patient_a, patient_b, dr_ada, dr_cy, lab, lab_li, clinic_a):
    """Patient A's own dose (with its batch's record), patient B's own dose at the other clinic, and a
    donor dose given to patient A; A has an e-mail address and a phone number on file."""
    Patient.objects.filter(pk=patient_a.pk).update(email="grace@example.org", phone="+44 20 7946 0958")
    patient_a.refresh_from_db()
    own = rows.own_product(patient_a, dr_ada, lab_li)
    batch = own.batch
    now = timezone.now()
    ProcessStep.objects.create(
        batch=batch,
        name="Passage",
        passage=2,
        cell_count=Decimal("12000000"),
        viability_percent=Decimal("92.5"),
        performed_by=lab_li,
        performed_at=now - timedelta(days=3),
    )
    Deviation.objects.create(
        batch=batch,
        description="Incubator door left open for 2 minutes",
        reason="Alarm fault",
        recorded_by=lab_li,
        recorded_at=now - timedelta(days=2),
    )
    for test, value, limit, status in (
        ("Viability", "92.5", "≥ 70%", states.QC_PASSED),
        ("Endotoxin", "0.4", "< 0.25 EU/mL", states.QC_FAILED),
        ("Sterility", "", "No growth", states.QC_PENDING),
    ):
        QCResult.objects.create(
            batch=batch,
            test=test,
            value=value,
            unit="",
            limit=limit,
            status=status,
            entered_by=lab_li,
            entered_at=now - timedelta(days=1),
        )
    reagent = ReagentLot.objects.create(site=lab, name="Trypsin-EDTA 0.05%", lot_number="T-2291")
    batch.reagent_lots.add(reagent)
    theirs = rows.own_product(patient_b, dr_cy, lab_li)
    rows.chain_for(patient_a, dr_ada, therapy=DONOR)
    donor = rows.donor_product(lab, lab_li, site=clinic_a)
    given = rows.administered(donor, patient_a, dr_ada)
    return {"own": own, "theirs": theirs, "donor": donor, "reagent": reagent, "given": given}


def _secrets(patient) -> list[str]:
    return [
        patient.given_name,
        patient.family_name,
        patient.family_name.upper(),
        patient.mrn,
        patient.date_of_birth.isoformat(),
        *(value for value in (patient.email, patient.phone) if value),
    ]


# --- lists and details -------------------------------------------------------------------------------------


def test_clinic_staff_list_their_patients_specimens_batches_and_products(api_as, dr_ada, world):
    api = api_as(dr_ada)
    own = world["own"]
    specimens = api.get(f"{API}/specimens").json()
    assert [item["id"] for item in specimens["items"]] == [own.batch.specimen_id]
    assert specimens["items"][0]["coi"] == own.coi and specimens["items"][0]["site"] == "NCL"
    batches = api.get(f"{API}/batches").json()
    assert {item["code"] for item in batches["items"]} == {own.batch.code}
    products = api.get(f"{API}/products").json()
    assert {item["din"] for item in products["items"]} == {own.din, world["donor"].din}
    item = next(item for item in products["items"] if item["din"] == own.din)
    assert (len(item["din"]), len(item["din_flags"]), len(item["din_check"])) == (13, 2, 1)
    assert item["din_check"] == Din(own.din[:5], int(own.din[5:7]), int(own.din[7:])).check
    assert item["status"] == "received" and item["coi"] == own.coi and item["dose_number"] == 1
    assert item["therapy_code"] == own.therapy_code and item["expires_at"]


def test_lab_staff_list_the_records_of_every_clinic_their_lab_serves(api_as, lab_li, world):
    api = api_as(lab_li)
    assert api.get(f"{API}/specimens").json()["count"] == 2
    assert api.get(f"{API}/batches").json()["count"] == 3
    dins = {item["din"] for item in api.get(f"{API}/products").json()["items"]}
    assert dins == {world["own"].din, world["theirs"].din, world["donor"].din}


def test_another_clinic_sees_only_its_own(api_as, dr_cy, world):
    api = api_as(dr_cy)
    assert [item["din"] for item in api.get(f"{API}/products").json()["items"]] == [world["theirs"].din]
    own = world["own"]
    for path in (
        f"{API}/specimens/{own.batch.specimen_id}",
        f"{API}/batches/{own.batch_id}",
        f"{API}/products/{own.din}",
        f"{API}/batches/{own.batch_id}/lookback",
    ):
        response = api.get(path)
        assert response.status_code == 404, path
        assert response.json() == {"detail": "Not found.", "errors": []}


def test_lists_page_with_limit_and_offset(api_as, lab_li, world):
    api = api_as(lab_li)
    everything = api.get(f"{API}/products").json()
    page = api.get(f"{API}/products", limit=1, offset=1).json()
    assert page["count"] == everything["count"] == 3
    assert page["items"] == everything["items"][1:2]
    for params in ({"limit": 0}, {"limit": 201}, {"offset": -1}):
        response = api.get(f"{API}/products", **params)
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == next(iter(params))


def test_lists_filter_by_status_coi_and_batch(api_as, lab_li, world):
    api = api_as(lab_li)
    own = world["own"]
    by_coi = api.get(f"{API}/products", coi=own.coi.lower()).json()
    assert [item["din"] for item in by_coi["items"]] == [own.din]
    given = api.get(f"{API}/products", status="administered").json()
    assert [item["din"] for item in given["items"]] == [world["donor"].din]
    assert api.get(f"{API}/products", batch_id=own.batch_id).json()["count"] == 1
    assert api.get(f"{API}/specimens", coi=own.coi).json()["count"] == 1
    assert api.get(f"{API}/batches", status="released").json()["count"] == 3
    response = api.get(f"{API}/products", status="lost")
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "status"
    assert api.get(f"{API}/products", coi="x" * 25).status_code == 422


def test_a_specimen_with_its_custody_timeline(api_as, nurse_bo, world):
    own = world["own"]
    body = api_as(nurse_bo).get(f"{API}/specimens/{own.batch.specimen_id}").json()
    assert body["coi"] == own.coi and body["kind"] == "punch_biopsy" and body["status"] == "used"
    assert [event["kind"] for event in body["custody"]] == ["collected"]
    assert body["custody"][0]["at_site"] == "NCL" and body["custody"][0]["temperature_c"] == 4.0


def test_a_batch_with_steps_deviations_qc_results_and_reagent_lots(api_as, lab_li, world):
    own = world["own"]
    body = api_as(lab_li).get(f"{API}/batches/{own.batch_id}").json()
    assert body["code"] == own.batch.code and body["coi"] == own.coi and body["processed_by"] == "Li Chen"
    assert body["steps"] == [
        {
            "name": "Passage",
            "passage": 2,
            "cell_count": 12000000,
            "viability_percent": 92.5,
            "note": "",
            "performed_by": "Li Chen",
            "performed_at": body["steps"][0]["performed_at"],
        }
    ]
    assert body["deviations"][0]["reason"] == "Alarm fault"
    results = {result["test"]: result for result in body["qc_results"]}
    assert (results["Viability"]["limit"], results["Viability"]["outcome"]) == ("≥ 70%", "pass")
    assert (results["Endotoxin"]["limit"], results["Endotoxin"]["outcome"]) == ("< 0.25 EU/mL", "fail")
    assert results["Sterility"]["outcome"] is None and results["Sterility"]["status"] == "pending"
    assert [lot["lot_number"] for lot in body["reagent_lots"]] == ["T-2291"]


def test_a_product_by_its_din_with_its_custody_timeline(api_as, dr_ada, world):
    donor = world["donor"]
    body = api_as(dr_ada).get(f"{API}/products/{donor.din.lower()}").json()
    assert body["din"] == donor.din and body["status"] == "administered" and body["coi"] == ""
    assert body["donor_lot"] == donor.donor_lot.lot_number
    assert [event["kind"] for event in body["custody"]] == ["administered"]
    assert body["custody"][0]["by"] == "Ada Okafor"


def test_a_din_that_names_nothing_or_is_not_13_characters(api_as, dr_ada, world):
    api = api_as(dr_ada)
    assert api.get(f"{API}/products/{UNUSED_DIN}").status_code == 404
    response = api.get(f"{API}/products/{UNUSED_DIN[:12]}")
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "din"


@pytest.mark.parametrize("persona", ["pat", "admin_al"])
def test_portal_patients_get_not_found_and_a_clinic_admin_reads_only(api_as, request, persona, world):
    api = api_as(request.getfixturevalue(persona))
    own = world["own"]
    reads = [
        api.get(f"{API}/specimens/{own.batch.specimen_id}"),
        api.get(f"{API}/products/{own.din}"),
        api.get(f"{API}/batches/{own.batch_id}"),
    ]
    expected = 404 if persona == "pat" else 200
    assert [response.status_code for response in reads] == [expected] * 3
    if persona == "pat":
        for path in ("specimens", "batches", "products"):
            assert api.get(f"{API}/{path}").status_code == 404


def test_anonymous_callers_must_authenticate(api_as, world):
    api = api_as(None)
    for response in (
        api.get(f"{API}/products"),
        api.get(f"{API}/products/{world['own'].din}"),
        api.post(CHECKS, {"mrn": "x", "din": "y"}),
        api.post(f"{CHECKS}/1/administration"),
    ):
        assert response.status_code == 401


# --- lab staff never see who the patient is --------------------------------------------------------------


@pytest.mark.parametrize("persona", ["lab_li", "qa_quinn"])
def test_lab_staff_answers_never_carry_a_patients_identity(
    api_as, request, persona, world, patient_a, patient_b
):
    api = api_as(request.getfixturevalue(persona))
    own, donor = world["own"], world["donor"]
    paths = [
        f"{API}/specimens",
        f"{API}/batches",
        f"{API}/products",
        f"{API}/specimens/{own.batch.specimen_id}",
        f"{API}/specimens/{world['theirs'].batch.specimen_id}",
        f"{API}/batches/{own.batch_id}",
        f"{API}/batches/{donor.batch_id}",
        f"{API}/products/{own.din}",
        f"{API}/products/{donor.din}",
        f"{API}/batches/{own.batch_id}/lookback",
        f"{API}/batches/{donor.batch_id}/lookback",
        f"{API}/donor-lots/{donor.donor_lot_id}/lookback",
        f"{API}/reagent-lots/{world['reagent'].pk}/lookback",
    ]
    for path in paths:
        response = api.get(path)
        assert response.status_code == 200, path
        body = response.content.decode()
        for secret in _secrets(patient_a) + _secrets(patient_b):
            assert secret not in body, f"{persona} sees {secret!r} at {path}"
    assert api.get(f"{API}/patients/{patient_a.pk}/lab-records").status_code == 404


# --- the bedside check -------------------------------------------------------------------------------------


def test_a_passed_check_answers_the_contract(api_as, nurse_bo, patient_a, world):
    own = world["own"]
    response = api_as(nurse_bo).post(CHECKS, {"mrn": patient_a.mrn, "din": own.din})
    assert response.status_code == 200
    body = response.json()
    made = BedsideCheck.objects.get(pk=body["id"])
    assert body == {
        "id": made.pk,
        "passed": True,
        "reasons": [],
        "product": {"din": own.din, "status": "received", "expires_at": body["product"]["expires_at"]},
        "checked_at": body["checked_at"],
    }
    assert AuditEvent.objects.filter(action=ACTION_PASSED, object_id=str(made.pk)).exists()


def test_a_stopped_check_names_each_reason_and_is_recorded(api_as, dr_ada, patient_a, world):
    theirs = world["theirs"]
    response = api_as(dr_ada).post(
        CHECKS, {"mrn": patient_a.mrn, "din": theirs.din, "din_check": theirs.din_check}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["passed"] is False
    assert [reason["code"] for reason in body["reasons"]] == ["wrong_patient"]
    assert body["product"]["din"] == theirs.din
    assert "Franklin" not in response.content.decode()
    made = BedsideCheck.objects.get(pk=body["id"])
    assert made.passed is False and made.patient_id == patient_a.pk
    assert AuditEvent.objects.filter(action=ACTION_HARD_STOP, object_id=str(made.pk)).exists()


def test_an_unknown_product_is_a_stop_with_no_product(api_as, dr_ada, patient_a, world):
    body = api_as(dr_ada).post(CHECKS, {"mrn": patient_a.mrn, "din": UNUSED_DIN}).json()
    assert body["passed"] is False and body["product"] is None
    assert [reason["code"] for reason in body["reasons"]] == ["unknown_product"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"din": "A999926000001"}, "mrn"),
        ({"mrn": "NCL-000001-1"}, "din"),
        ({"mrn": "NCL-000001-1", "din": "A999926000001", "din_check": "AB"}, "din_check"),
        ({"mrn": "NCL-000001-1", "din": "A999926000001", "din_check": ""}, "din_check"),
        ({"mrn": "N" * 25, "din": "A999926000001"}, "mrn"),
        ({"mrn": "NCL-000001-1", "din": "A" * 25}, "din"),
        ({"mrn": "NCL-000001-1", "din": "A9999 26"}, "din"),
        ({"mrn": "not-an-mrn", "din": "A999926000001"}, "mrn"),
        ({"mrn": "NCL-000001-1", "din": "A999926000001", "patient": "Grace"}, "patient"),
        ({"mrn": 42, "din": "A999926000001"}, "mrn"),
        ({"mrn": "NCL-000001-1\u202e", "din": "A999926000001"}, "mrn"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_nothing_is_recorded(api_as, dr_ada, world, payload, field):
    api = api_as(dr_ada)
    before = recorded()
    response = api.post(CHECKS, payload)
    assert response.status_code == 422
    assert field in [error["field"] for error in response.json()["errors"]]
    assert recorded() == before


def test_a_check_character_that_does_not_match_is_refused(api_as, dr_ada, patient_a, world):
    own = world["own"]
    wrong = "A" if own.din_check != "A" else "B"
    api = api_as(dr_ada)
    before = recorded()
    response = api.post(CHECKS, {"mrn": patient_a.mrn, "din": own.din, "din_check": wrong})
    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == ["din_check"]
    assert recorded() == before


@pytest.mark.parametrize("persona", ["lab_li", "qa_quinn", "admin_al", "dr_cy", "pat"])
def test_only_the_patients_practitioners_and_nurses_may_check(api_as, request, persona, patient_a, world):
    api = api_as(request.getfixturevalue(persona))
    before = recorded()
    for payload in (
        {"mrn": patient_a.mrn, "din": world["own"].din},
        {"mrn": patient_a.mrn, "din": "bad"},
    ):
        response = api.post(CHECKS, payload)
        expected = 422 if persona == "dr_cy" and payload["din"] == "bad" else 404
        assert response.status_code == expected, payload
    assert recorded() == before


def test_an_mrn_not_found_answers_as_missing(api_as, dr_ada, patient_b, world):
    response = api_as(dr_ada).post(CHECKS, {"mrn": patient_b.mrn, "din": world["own"].din})
    assert response.status_code == 404 and response.json() == {"detail": "Not found.", "errors": []}


# --- administration ----------------------------------------------------------------------------------------


def test_the_administration_is_recorded_on_a_passed_check_once(api_as, nurse_bo, patient_a, world):
    api = api_as(nurse_bo)
    own = world["own"]
    made = api.post(CHECKS, {"mrn": patient_a.mrn, "din": own.din}).json()
    response = api.post(f"{CHECKS}/{made['id']}/administration")
    assert response.status_code == 200
    body = response.json()
    assert body["din"] == own.din and body["status"] == "administered" and body["administered_at"]
    assert [event["kind"] for event in body["custody"]] == ["administered"]
    again = api.post(f"{CHECKS}/{made['id']}/administration")
    assert again.status_code == 422
    errors = again.json()["errors"]
    assert errors[0]["field"] == "check" and errors[0]["message"].startswith("already_administered: ")


def test_the_administration_is_refused_on_a_stopped_or_someone_elses_check(
    api_as, dr_ada, nurse_bo, patient_a, world
):
    theirs = world["theirs"]
    doctor, nurse = api_as(dr_ada), api_as(nurse_bo)
    stopped = doctor.post(CHECKS, {"mrn": patient_a.mrn, "din": theirs.din}).json()
    passed = doctor.post(CHECKS, {"mrn": patient_a.mrn, "din": world["own"].din}).json()
    before = recorded()
    refused = doctor.post(f"{CHECKS}/{stopped['id']}/administration")
    assert refused.status_code == 422 and refused.json()["errors"][0]["message"].startswith("not_passed: ")
    refused = nurse.post(f"{CHECKS}/{passed['id']}/administration")
    assert refused.status_code == 422 and refused.json()["errors"][0]["message"].startswith(
        "not_your_check: "
    )
    assert recorded() == before


@pytest.mark.parametrize("persona", ["dr_cy", "lab_li", "admin_al", "pat"])
def test_no_one_outside_the_clinic_reaches_a_check(api_as, request, persona, dr_ada, patient_a, world):
    doctor = api_as(dr_ada)
    made = doctor.post(CHECKS, {"mrn": patient_a.mrn, "din": world["own"].din}).json()
    api = api_as(request.getfixturevalue(persona))
    before = recorded()
    assert api.post(f"{CHECKS}/{made['id']}/administration").status_code == 404
    assert doctor.post(f"{CHECKS}/{10**12}/administration").status_code == 404
    assert recorded() == before
    assert Product.objects.get(pk=world["own"].pk).status == states.PRODUCT_RECEIVED


# --- look-back ---------------------------------------------------------------------------------------------


def test_lookback_from_a_batch_names_the_patient_to_clinic_staff_only(
    api_as, dr_ada, lab_li, patient_a, world
):
    donor = world["donor"]
    path = f"{API}/batches/{donor.batch_id}/lookback"
    lab_body = api_as(lab_li).get(path).json()
    assert lab_body["count"] == 1
    recipient = lab_body["items"][0]["recipient"]
    assert recipient["patient"] is None and recipient["site"] == "NCL"
    assert recipient["bedside_check_id"] == world["given"].pk and recipient["coi"].startswith("COI-")
    own = world["own"]
    clinic_body = api_as(dr_ada).get(f"{API}/batches/{own.batch_id}/lookback").json()
    assert clinic_body["items"][0]["recipient"] is None  # not given yet


def test_lookback_from_a_donor_lot_and_a_reagent_lot(api_as, lab_li, dr_ada, world):
    donor = world["donor"]
    body = api_as(lab_li).get(f"{API}/donor-lots/{donor.donor_lot_id}/lookback").json()
    assert [item["din"] for item in body["items"]] == [donor.din]
    assert body["items"][0]["recipient"]["site"] == "NCL"
    body = api_as(lab_li).get(f"{API}/reagent-lots/{world['reagent'].pk}/lookback", limit=1).json()
    assert body["count"] == 1 and body["items"][0]["din"] == world["own"].din
    assert api_as(dr_ada).get(f"{API}/donor-lots/{donor.donor_lot_id}/lookback").status_code == 404
    assert api_as(dr_ada).get(f"{API}/reagent-lots/{world['reagent'].pk}/lookback").status_code == 404


def test_a_patients_lab_records_for_clinic_staff(api_as, dr_ada, dr_cy, patient_a, world):
    response = api_as(dr_ada).get(f"{API}/patients/{patient_a.pk}/lab-records")
    assert response.status_code == 200
    body = response.json()
    assert body["patient_id"] == patient_a.pk
    assert [item["id"] for item in body["specimens"]] == [world["own"].batch.specimen_id]
    assert {item["din"] for item in body["products"]} == {world["own"].din, world["donor"].din}
    assert {item["id"] for item in body["batches"]} == {world["own"].batch_id, world["donor"].batch_id}
    assert api_as(dr_cy).get(f"{API}/patients/{patient_a.pk}/lab-records").status_code == 404


def test_clinic_staff_see_who_received_a_dose_in_a_lookback(api_as, dr_ada, lab_li, patient_a, world):
    own = world["own"]
    rows.administered(own, patient_a, dr_ada)
    body = api_as(dr_ada).get(f"{API}/batches/{own.batch_id}/lookback").json()
    patient = body["items"][0]["recipient"]["patient"]
    assert patient == {
        "id": patient_a.pk,
        "mrn": patient_a.mrn,
        "given_name": "Grace",
        "family_name": "Hopper",
    }
    assert body["items"][0]["recipient"]["coi"] == own.coi


# --- flat query counts -------------------------------------------------------------------------------------


def _queries(api, path) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert api.get(path).status_code == 200
    return len(captured.captured_queries)


def _grow(batch, technician, patient, practitioner, doses: int) -> None:
    """DOSES more doses of BATCH given to PATIENT, and a step, a deviation and a QC result per dose."""
    now = timezone.now()
    for _ in range(doses):
        rows.administered(rows.product(batch), patient, practitioner)
        ProcessStep.objects.create(batch=batch, name="Count", performed_by=technician, performed_at=now)
        Deviation.objects.create(
            batch=batch, description="Late feed", reason="Holiday", recorded_by=technician, recorded_at=now
        )
        QCResult.objects.create(
            batch=batch, test="Viability", value="90", limit="≥ 70%", entered_by=technician, entered_at=now
        )


@pytest.mark.parametrize("reader", ["lab_li", "dr_ada"])
def test_every_read_costs_the_same_for_2_or_20_products(
    api_as, request, reader, patient_a, dr_ada, lab_li, django_assert_max_num_queries
):
    first = rows.own_product(patient_a, dr_ada, lab_li)
    api = api_as(request.getfixturevalue(reader))
    paths = [
        f"{API}/specimens",
        f"{API}/specimens/{first.batch.specimen_id}",
        f"{API}/batches",
        f"{API}/batches/{first.batch_id}",
        f"{API}/products",
        f"{API}/products/{first.din}",
        f"{API}/batches/{first.batch_id}/lookback",
    ]
    if reader == "dr_ada":
        paths.append(f"{API}/patients/{patient_a.pk}/lab-records")
    rows.administered(first, patient_a, dr_ada)
    _grow(first.batch, lab_li, patient_a, dr_ada, 1)
    api.get(f"{API}/products")  # a token's use is written at most once a minute: not in what is counted
    few = {path: _queries(api, path) for path in paths}
    _grow(first.batch, lab_li, patient_a, dr_ada, 18)
    many = {path: _queries(api, path) for path in paths}
    assert many == few
    # The token and its user, the roles, the served clinics, the count and the page, the recipients
    # and the access-log entry: a dozen or so queries whatever the number of products.
    with django_assert_max_num_queries(16):
        api.get(f"{API}/batches/{first.batch_id}/lookback")

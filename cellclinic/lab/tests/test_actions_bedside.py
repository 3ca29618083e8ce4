"""The bedside check in the browser's pages: scan the MRN and the DIN, see PASS or a HARD STOP naming each
reason, record the administration on a pass; every check is recorded."""

import re
from datetime import date, timedelta

import pytest
import time_machine
from django.utils import timezone
from django.utils.html import escape

from cellclinic.lab import administration, available, states
from cellclinic.lab.bedside import STOP
from cellclinic.lab.models import BedsideCheck, CustodyEvent
from cellclinic.lab.tests.actions_pages import page, submit
from cellclinic.lab.tests.builders import lab_counts, lab_pathway_to
from cellclinic.patients.services import patient_create

pytestmark = pytest.mark.django_db

BEDSIDE = "/lab/bedside/"


@pytest.fixture
def at_clinic(patient_a, dr_ada, lab_li, qa_quinn):
    return lab_pathway_to("at_clinic", patient_a, dr_ada, technician=lab_li, reviewer=qa_quinn)


@pytest.fixture
def someone_else(clinic_a, dr_ada):
    """Another patient of the same clinic, whose wristband might be scanned by mistake."""
    return patient_create(
        site=clinic_a,
        actor=dr_ada,
        data={
            "given_name": "Ada",
            "family_name": "Lovelace",
            "date_of_birth": date(1985, 12, 10),
            "sex_at_birth": "female",
            "presenting_concern": "scar",
        },
    )


def check(client, user, mrn: str, din: str) -> tuple[BedsideCheck, str]:
    """USER's check of DIN against MRN through the page: the check recorded and the page it leads to."""
    response = submit(client, user, BEDSIDE, {"mrn": mrn, "din": din})
    recorded = BedsideCheck.objects.latest("id")
    assert response["Location"] == f"/lab/bedside/checks/{recorded.pk}/"
    return recorded, client.get(response["Location"]).content.decode()


def test_the_page_asks_for_the_wristband_first_with_inputs_fit_for_a_scanner(client, nurse_bo):
    body = page(client, nurse_bo, BEDSIDE)
    mrn = re.search(r'<input type="text" name="mrn"[^>]*>', body).group(0)
    din = re.search(r'<input type="text" name="din"[^>]*>', body).group(0)
    assert "autofocus" in mrn and "autofocus" not in din
    for field in (mrn, din):
        for attribute in (
            'inputmode="text"',
            'autocapitalize="characters"',
            'autocomplete="off"',
            'spellcheck="false"',
        ):
            assert attribute in field
    assert (
        '<label for="id_mrn">Patient&#x27;s MRN' in body and '<label for="id_din">Product&#x27;s DIN' in body
    )


def test_a_scanners_enter_after_the_wristband_waits_for_the_din(client, nurse_bo, patient_a):
    response = submit(client, nurse_bo, BEDSIDE, {"mrn": patient_a.mrn, "din": ""}, status=200)
    body = response.content.decode()
    assert "Now scan or type the product&#x27;s DIN." in body
    assert f'value="{patient_a.mrn}"' in body
    assert "autofocus" in re.search(r'<input type="text" name="din"[^>]*>', body).group(0)
    assert "autofocus" not in re.search(r'<input type="text" name="mrn"[^>]*>', body).group(0)
    assert not BedsideCheck.objects.exists()


def test_a_passed_check_leads_to_recording_the_administration_and_then_stops_a_second_one(
    client, dr_ada, at_clinic
):
    product = at_clinic.products[0]
    passed, body = check(client, dr_ada, at_clinic.patient.mrn, product.din)
    assert passed.passed and passed.product == product and passed.checked_by == dr_ada
    assert '<span class="stat">PASS</span>' in body and "HARD STOP" not in body
    assert "Grace HOPPER" in body and at_clinic.patient.mrn in body and product.din_check in body
    assert ">Record administration</button>" in body
    response = submit(client, dr_ada, f"/lab/bedside/checks/{passed.pk}/administer/", {})
    assert response["Location"] == f"/lab/products/{product.din}/"
    product.refresh_from_db()
    assert product.status == states.PRODUCT_ADMINISTERED
    given = product.custody.get(kind=CustodyEvent.Kind.ADMINISTERED)
    assert (given.by, given.at_site) == (dr_ada, at_clinic.clinic)
    shown = client.get(response["Location"]).content.decode()
    assert f"The administration of {product.din} to Grace HOPPER is recorded" in shown
    assert re.findall(r'custody-event custody-(\w+)"', shown)[-1] == "administered"
    # The same DIN again: a hard stop, recorded like any check.
    stopped, body = check(client, dr_ada, at_clinic.patient.mrn, product.din)
    assert not stopped.passed and [r["code"] for r in stopped.reasons] == ["already_administered"]
    assert "HARD STOP" in body and escape(STOP) in body
    assert escape(stopped.reasons[0]["text"]) in body
    assert "Record administration" not in body


def test_the_wrong_patients_wristband_is_a_hard_stop(client, nurse_bo, at_clinic, someone_else):
    product = at_clinic.products[0]
    stopped, body = check(client, nurse_bo, someone_else.mrn, product.din)
    assert not stopped.passed and stopped.patient == someone_else
    assert "wrong_patient" in [reason["code"] for reason in stopped.reasons]
    texts = [escape(reason["text"]) for reason in stopped.reasons]
    items = re.findall(
        r"<li>(.*?)</li>", body.split('class="lab-bedside-reasons"', 1)[1].split("</ul>", 1)[0]
    )
    assert items == texts
    assert "Ada LOVELACE" in body and "Record administration" not in body
    assert product.custody.filter(kind=CustodyEvent.Kind.ADMINISTERED).count() == 0


@pytest.mark.parametrize("written", ["barcode", "eye-readable", "lower case"])
def test_the_din_is_read_as_scanned_or_as_printed(client, nurse_bo, at_clinic, written):
    product = at_clinic.products[0]
    din = {
        "barcode": f"={product.din}{product.din_flags}",
        "eye-readable": " ".join(
            (product.din[:5], product.din[5:7], product.din[7:], product.din_flags, product.din_check)
        ),
        "lower case": product.din.lower(),
    }[written]
    passed, _ = check(client, nurse_bo, at_clinic.patient.mrn, din)
    assert passed.passed and passed.product == product


def test_a_din_that_cannot_be_read_is_refused_beside_it_and_nothing_is_checked(client, nurse_bo, at_clinic):
    before = lab_counts()
    checks = BedsideCheck.objects.count()
    product = at_clinic.products[0]
    wrong = "0" if product.din_check != "0" else "1"
    response = submit(
        client, nurse_bo, BEDSIDE, {"mrn": at_clinic.patient.mrn, "din": product.din + wrong}, status=422
    )
    body = response.content.decode()
    assert "is wrong for DIN" in body and "Nothing was checked." in body
    assert BedsideCheck.objects.count() == checks and lab_counts() == before


def test_an_mrn_of_no_patient_at_the_clinic_is_answered_as_missing(client, dr_cy, at_clinic):
    response = submit(
        client, dr_cy, BEDSIDE, {"mrn": at_clinic.patient.mrn, "din": at_clinic.products[0].din}, status=404
    )
    body = response.content.decode()
    assert "No patient at your clinic has this MRN" in body and "Grace" not in body
    assert not BedsideCheck.objects.exists()


@pytest.mark.parametrize("persona", ["lab_li", "qa_quinn", "admin_al", "pat"])
def test_only_clinic_staff_who_give_products_find_the_page(client, request, at_clinic, persona):
    user = request.getfixturevalue(persona)
    page(client, user, BEDSIDE, status=404)
    submit(
        client, user, BEDSIDE, {"mrn": at_clinic.patient.mrn, "din": at_clinic.products[0].din}, status=404
    )
    assert not BedsideCheck.objects.exists()


def test_someone_elses_check_offers_no_administration(client, dr_ada, nurse_bo, at_clinic):
    passed, _ = check(client, dr_ada, at_clinic.patient.mrn, at_clinic.products[0].din)
    body = page(client, nurse_bo, f"/lab/bedside/checks/{passed.pk}/")
    assert "PASS" in body and "Record administration" not in body
    assert escape(administration.NOT_YOURS_TEXT) in body
    before = lab_counts()
    response = submit(client, nurse_bo, f"/lab/bedside/checks/{passed.pk}/administer/", {}, status=422)
    assert "The administration was not recorded." in response.content.decode()
    assert lab_counts() == before


def test_a_check_grown_old_asks_for_a_new_scan(client, dr_ada, at_clinic):
    passed, _ = check(client, dr_ada, at_clinic.patient.mrn, at_clinic.products[0].din)
    with time_machine.travel(timezone.now() + administration.CHECK_VALID_FOR + timedelta(minutes=1)):
        body = page(client, dr_ada, f"/lab/bedside/checks/{passed.pk}/")
        assert "Record administration" not in body and "scan the patient and product again" in body
        before = lab_counts()
        submit(client, dr_ada, f"/lab/bedside/checks/{passed.pk}/administer/", {}, status=422)
        assert lab_counts() == before


def test_a_product_not_yet_received_passes_but_waits_to_be_received(
    client, dr_ada, patient_a, lab_li, qa_quinn
):
    made = lab_pathway_to("issued", patient_a, dr_ada, technician=lab_li, reviewer=qa_quinn)
    passed, body = check(client, dr_ada, patient_a.mrn, made.products[0].din)
    assert passed.passed
    assert "Record administration" not in body and escape(available.NOT_RECEIVED_YET) in body


def test_a_check_of_another_clinic_is_not_found(client, dr_ada, dr_cy, at_clinic):
    passed, _ = check(client, dr_ada, at_clinic.patient.mrn, at_clinic.products[0].din)
    page(client, dr_cy, f"/lab/bedside/checks/{passed.pk}/", status=404)
    submit(client, dr_cy, f"/lab/bedside/checks/{passed.pk}/administer/", {}, status=404)
    at_clinic.refresh()
    assert at_clinic.products[0].status == states.PRODUCT_RECEIVED


def test_the_check_page_reads_a_pinned_number_of_queries(
    client, dr_ada, at_clinic, django_assert_num_queries
):
    passed, _ = check(client, dr_ada, at_clinic.patient.mrn, at_clinic.products[0].din)
    path = f"/lab/bedside/checks/{passed.pk}/"
    client.get(path)
    # The session, the user and the roles (3); the check with its clinic, patient, product and checker;
    # the latest check of the product by this person; the read logged; the navigation's counts of new
    # requests and unread notifications (2).
    with django_assert_num_queries(3 + 1 + 1 + 1 + 2):
        assert client.get(path).status_code == 200
    with django_assert_num_queries(3 + 2):
        assert client.get(BEDSIDE).status_code == 200

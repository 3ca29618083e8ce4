"""Recording reagent and donor lots through their pages: a technician of the lab records them, each
refusal lands beside its field and changes nothing, a reagent lot recorded from a batch's start page
is there to choose, and a donor lot recorded goes on to QA for its eligibility."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.html import escape

from cellclinic.accounts.models import Site
from cellclinic.audit.models import AuditEvent
from cellclinic.catalogue.registry import therapy_name
from cellclinic.lab import available, services
from cellclinic.lab.donor import DONOR_TESTS
from cellclinic.lab.models import DonorLot, ReagentLot
from cellclinic.lab.tests.actions_pages import NOT_NOW, field_error, href_of, notes, offered, page, submit
from cellclinic.lab.tests.builders import NEGATIVE_SCREENING, lab_advance, lab_counts, lab_pathway_to
from cellclinic.treatment.tests.helpers import CULTURED, DONOR
from conftest import make_user

pytestmark = pytest.mark.django_db

REAGENTS = "/lab/reagent-lots/"
NEW_REAGENT = "/lab/reagent-lots/new/"
DONORS = "/lab/donor-lots/"
NEW_DONOR = "/lab/donor-lots/new/"
# The session, the user and the roles (3); the labs where the reader records lots; the Lab link's count:
# the clinics the lab serves, then one count each of specimens, batches and products (4); the unread
# notifications.
LOT_PAGE_QUERIES = 3 + 1 + 4 + 1


def _in_a_year() -> str:
    return f"{timezone.localdate() + timedelta(days=365):%Y-%m-%d}"


# Reagent lots


def reagent(**changes) -> dict:
    return {"name": "DMEM culture medium", "lot_number": "RM-2231", "expires_on": _in_a_year(), **changes}


def test_a_technician_records_a_reagent_lot_from_the_list(client, lab, lab_li):
    listing = page(client, lab_li, REAGENTS)
    assert href_of(listing, "Record a reagent lot") == NEW_REAGENT
    body = page(client, lab_li, NEW_REAGENT)
    assert f"For {lab.name}." in body and ">Record the lot</button>" in body
    assert 'name="lab"' not in body  # one lab: nothing to choose
    response = submit(client, lab_li, NEW_REAGENT, reagent())
    assert response["Location"] == REAGENTS
    lot = ReagentLot.objects.get()
    assert (lot.site, lot.name, lot.lot_number, lot.expires_on) == (
        lab,
        "DMEM culture medium",
        "RM-2231",
        timezone.localdate() + timedelta(days=365),
    )
    assert AuditEvent.objects.filter(
        action="reagent_lot.create", object_id=str(lot.pk), actor=lab_li
    ).exists()
    listing = client.get(REAGENTS).content.decode()
    assert "DMEM culture medium lot RM-2231 is recorded." in listing
    assert '<td data-label="Lot" class="mono">RM-2231</td>' in listing


def test_a_reagent_lot_may_have_no_expiry_date(client, lab_li):
    submit(client, lab_li, NEW_REAGENT, reagent(expires_on=""))
    assert ReagentLot.objects.get().expires_on is None
    assert "No expiry date" in page(client, lab_li, REAGENTS)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": ""}, "name", "This field is required."),
        ({"lot_number": "   "}, "lot_number", "This field is required."),
        ({"expires_on": "31/02/2027"}, "expires_on", "Enter a valid date."),
        ({"lot_number": "x" * 41}, "lot_number", "Ensure this value has at most 40 characters (it has 41)."),
    ],
)
def test_a_reagent_lot_the_form_refuses_changes_nothing(client, lab_li, changes, field, message):
    before = lab_counts()
    response = submit(client, lab_li, NEW_REAGENT, reagent(**changes), status=422)
    assert field_error(response.content.decode(), field) == message
    assert lab_counts() == before


def test_a_reagent_lot_recorded_already_is_refused_beside_its_number(client, lab, lab_li):
    ReagentLot.objects.create(site=lab, name="DMEM culture medium", lot_number="RM-2231")
    before = lab_counts()
    response = submit(client, lab_li, NEW_REAGENT, reagent(), status=422)
    body = response.content.decode()
    assert field_error(body, "lot_number") == services.LOT_EXISTS
    assert 'value="DMEM culture medium"' in body  # what was typed is kept
    assert lab_counts() == before
    # Another reagent may carry the same lot number.
    submit(client, lab_li, NEW_REAGENT, reagent(name="Trypsin-EDTA"))
    assert ReagentLot.objects.filter(lot_number="RM-2231").count() == 2


def test_a_reagent_lot_recorded_from_the_start_page_is_there_to_choose(
    client, lab_li, patient_a, dr_ada, qa_quinn
):
    made = lab_pathway_to("at_lab", patient_a, dr_ada, technician=lab_li, reviewer=qa_quinn)
    batch = services.batch_plan(actor=lab_li, specimen=made.specimen, doses=2)
    start = f"/lab/batches/{batch.pk}/start/"
    assert "No reagent lot in date is recorded at this lab." in page(client, lab_li, start)
    path = f"{NEW_REAGENT}?batch={batch.pk}"
    body = page(client, lab_li, path)
    assert f'<a href="{start}">Batch {batch.code}: start processing</a>' in body
    response = submit(client, lab_li, path, reagent())
    assert response["Location"] == start
    lot = ReagentLot.objects.get()
    body = client.get(start).content.decode()
    assert "DMEM culture medium lot RM-2231 is recorded." in body
    assert f'value="{lot.pk}"' in body and "DMEM culture medium lot RM-2231</label>" in body


@pytest.mark.parametrize("wanted", ["999999", "first"])
def test_a_batch_out_of_reach_is_not_found(client, lab_li, wanted):
    page(client, lab_li, f"{NEW_REAGENT}?batch={wanted}", status=404)
    submit(client, lab_li, f"{NEW_REAGENT}?batch={wanted}", reagent(), status=404)
    assert not ReagentLot.objects.exists()


def test_a_technician_at_two_labs_chooses_the_lab(client, lab, lab_li):
    other = Site.objects.create(code="ELAB", name="East Lab", kind="lab")
    both = make_user(
        "sam", first="Sam", last="Both", roles=[(lab, "lab_technician"), (other, "lab_technician")]
    )
    body = page(client, both, NEW_REAGENT)
    assert 'name="lab"' in body and "East Lab" in body and lab.name in body
    before = lab_counts()
    response = submit(client, both, NEW_REAGENT, reagent(), status=422)
    assert field_error(response.content.decode(), "lab") == "This field is required."
    assert lab_counts() == before
    submit(client, both, NEW_REAGENT, reagent(lab=str(other.pk)))
    assert ReagentLot.objects.get().site == other


def test_qa_reviewers_are_told_they_do_not_record_reagent_lots(client, qa_quinn):
    assert offered(page(client, qa_quinn, REAGENTS)) == []
    assert services.CANNOT_PROCESS in page(client, qa_quinn, NEW_REAGENT, status=403)
    before = lab_counts()
    response = submit(client, qa_quinn, NEW_REAGENT, reagent(), status=403)
    assert services.CANNOT_PROCESS in response.content.decode()
    assert lab_counts() == before


@pytest.mark.parametrize("persona", ["dr_ada", "nurse_bo", "admin_al", "pat"])
@pytest.mark.parametrize("path", [NEW_REAGENT, NEW_DONOR])
def test_the_clinic_and_patients_find_no_lot_to_record(client, request, lab, persona, path):
    user = request.getfixturevalue(persona)
    page(client, user, path, status=404)
    submit(client, user, path, {**reagent(), **donor()}, status=404)
    assert not ReagentLot.objects.exists() and not DonorLot.objects.exists()


def test_a_clinic_reaching_for_a_batch_finds_no_reagent_page(client, dr_ada, lab_li, patient_a, qa_quinn):
    made = lab_pathway_to("in_process", patient_a, dr_ada, technician=lab_li, reviewer=qa_quinn)
    page(client, dr_ada, f"{NEW_REAGENT}?batch={made.batch.pk}", status=404)


@pytest.mark.parametrize("path", [NEW_REAGENT, NEW_DONOR])
def test_anonymous_visitors_are_sent_to_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302 and response["Location"].startswith("/sign-in/?next=")


def test_the_reagent_lot_page_reads_a_pinned_number_of_queries(client, lab_li, django_assert_num_queries):
    client.force_login(lab_li)
    client.get(NEW_REAGENT)
    with django_assert_num_queries(LOT_PAGE_QUERIES):
        assert client.get(NEW_REAGENT).status_code == 200


# Donor lots


def donor(**changes) -> dict:
    return {
        "lot_number": "DL-2026-001",
        "therapy_code": DONOR,
        "expires_on": _in_a_year(),
        "quantity": "12",
        **dict.fromkeys(DONOR_TESTS, "Negative"),
        **changes,
    }


def test_a_technician_records_a_donor_lot_and_qa_documents_its_eligibility(client, lab, lab_li, qa_quinn):
    assert href_of(page(client, lab_li, DONORS), "Record a donor lot") == NEW_DONOR
    body = page(client, lab_li, NEW_DONOR)
    assert f'<option value="{DONOR}">{escape(therapy_name(DONOR))}</option>' in body
    assert f'value="{CULTURED}"' not in body  # only therapies made from donor cells
    assert "<legend>Donor screening and testing</legend>" in body
    assert all(f'name="{test}"' in body for test in DONOR_TESTS)
    response = submit(client, lab_li, NEW_DONOR, donor())
    lot = DonorLot.objects.get()
    assert response["Location"] == f"/lab/donor-lots/{lot.pk}/"
    assert (lot.site, lot.lot_number, lot.therapy_code, lot.quantity, lot.created_by) == (
        lab,
        "DL-2026-001",
        DONOR,
        12,
        lab_li,
    )
    assert lot.screening == NEGATIVE_SCREENING and not lot.eligible
    assert AuditEvent.objects.filter(action="donor_lot.create", object_id=str(lot.pk)).exists()
    detail = client.get(response["Location"]).content.decode()
    assert "Donor lot DL-2026-001 is recorded." in detail
    assert "Donor eligibility is not documented." in detail
    # QA takes it from here.
    assert offered(page(client, qa_quinn, response["Location"])) == ["Document donor eligibility"]
    submit(client, qa_quinn, f"/lab/donor-lots/{lot.pk}/eligibility/", {})
    lot.refresh_from_db()
    assert lot.eligible


def test_a_donor_lot_is_recorded_with_the_results_known_so_far(client, lab_li, qa_quinn):
    blank = dict.fromkeys(list(DONOR_TESTS)[2:], "")
    submit(client, lab_li, NEW_DONOR, donor(**blank))
    lot = DonorLot.objects.get()
    assert lot.screening == dict.fromkeys(list(DONOR_TESTS)[:2], "Negative")
    detail = page(client, qa_quinn, f"/lab/donor-lots/{lot.pk}/")
    assert offered(detail) == [] and "no result recorded" in notes(detail)[0]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"lot_number": ""}, "lot_number", "This field is required."),
        ({"therapy_code": CULTURED}, "therapy_code", f"Select a valid choice. {CULTURED} is not one of the"),
        ({"expires_on": "2027-02-30"}, "expires_on", "Enter a valid date."),
        ({"quantity": "0"}, "quantity", "Ensure this value is greater than or equal to 1."),
        ({"quantity": "ten"}, "quantity", "Enter a whole number."),
        ({"hiv_nat": "N" * 201}, "hiv_nat", "Ensure this value has at most 200 characters (it has 201)."),
    ],
)
def test_a_donor_lot_the_form_refuses_changes_nothing(client, lab_li, changes, field, message):
    before = lab_counts()
    response = submit(client, lab_li, NEW_DONOR, donor(**changes), status=422)
    assert field_error(response.content.decode(), field).startswith(message)
    assert lab_counts() == before


def test_a_donor_lot_past_its_expiry_is_refused_beside_the_date(client, lab_li):
    yesterday = f"{timezone.localdate() - timedelta(days=1):%Y-%m-%d}"
    before = lab_counts()
    response = submit(client, lab_li, NEW_DONOR, donor(expires_on=yesterday), status=422)
    assert field_error(response.content.decode(), "expires_on") == services.IN_THE_PAST
    assert lab_counts() == before


def test_a_donor_lot_number_the_lab_holds_already_is_refused_beside_it(client, lab_li):
    submit(client, lab_li, NEW_DONOR, donor())
    before = lab_counts()
    response = submit(client, lab_li, NEW_DONOR, donor(quantity="3"), status=422)
    assert field_error(response.content.decode(), "lot_number") == services.LOT_EXISTS
    assert lab_counts() == before


def test_without_a_donor_therapy_in_the_catalogue_no_donor_lot_is_recorded(client, lab_li, monkeypatch):
    monkeypatch.setattr(available, "donor_therapies", lambda: [])
    listing = page(client, lab_li, DONORS)
    assert offered(listing) == [] and notes(listing) == [available.NO_DONOR_THERAPY]
    body = page(client, lab_li, NEW_DONOR)
    assert NOT_NOW in body and available.NO_DONOR_THERAPY in body and 'name="lot_number"' not in body


def test_qa_reviewers_are_told_they_do_not_record_donor_lots(client, qa_quinn):
    assert offered(page(client, qa_quinn, DONORS)) == []
    assert services.CANNOT_PROCESS in page(client, qa_quinn, NEW_DONOR, status=403)
    before = lab_counts()
    response = submit(client, qa_quinn, NEW_DONOR, donor(), status=403)
    assert services.CANNOT_PROCESS in response.content.decode()
    assert lab_counts() == before


def test_the_donor_lot_page_reads_a_pinned_number_of_queries(client, lab_li, django_assert_num_queries):
    client.force_login(lab_li)
    client.get(NEW_DONOR)
    with django_assert_num_queries(LOT_PAGE_QUERIES):
        assert client.get(NEW_DONOR).status_code == 200


def test_a_batch_from_another_lab_is_out_of_reach(client, lab_li, patient_a, dr_ada, qa_quinn):
    made = lab_pathway_to("at_lab", patient_a, dr_ada, technician=lab_li, reviewer=qa_quinn)
    lab_advance(made, "in_process")
    other = Site.objects.create(code="ELAB", name="East Lab", kind="lab")
    stranger = make_user("elsie", first="Elsie", last="Park", roles=[(other, "lab_technician")])
    page(client, stranger, f"{NEW_REAGENT}?batch={made.batch.pk}", status=404)
    submit(client, stranger, f"{NEW_REAGENT}?batch={made.batch.pk}", reagent(), status=404)
    assert not ReagentLot.objects.exists()

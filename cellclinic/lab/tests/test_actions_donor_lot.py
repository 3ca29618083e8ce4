"""A recorded donor lot's own pages: its technicians record the screening results that come later (NAT
results often do) until QA documents eligibility, and plan batches of its cells when the lab would
accept one. Each refusal lands beside its field and changes nothing; the buttons on the lot's page
follow what the services accept."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.text import capfirst

from cellclinic.accounts.models import Site
from cellclinic.audit.models import AuditEvent
from cellclinic.core.errors import InvalidInput
from cellclinic.lab import available, forms, services, states
from cellclinic.lab.donor import DONOR_TESTS
from cellclinic.lab.models import Batch, DonorLot, LabProfile
from cellclinic.lab.tests.actions_pages import NOT_NOW, field_error, href_of, notes, offered, page, submit
from cellclinic.lab.tests.builders import donor_lot_ready, lab_counts
from cellclinic.treatment.tests.helpers import CULTURED
from conftest import make_user

pytestmark = pytest.mark.django_db

SEROLOGY = [test for test in DONOR_TESTS if test.endswith("_serology")]
NAT = [test for test in DONOR_TESTS if test.endswith("_nat")]


def lot_page(lot: DonorLot) -> str:
    return f"/lab/donor-lots/{lot.pk}/"


def screening_path(lot: DonorLot) -> str:
    return f"/lab/donor-lots/{lot.pk}/screening/"


def plan_path(lot: DonorLot) -> str:
    return f"/lab/donor-lots/{lot.pk}/plan-batch/"


def screening_of(lot: DonorLot) -> dict:
    return DonorLot.objects.values_list("screening", flat=True).get(pk=lot.pk)


@pytest.fixture
def waiting(lab, lab_li, qa_quinn):
    """A lot recorded with its serology, still waiting for its NAT results."""
    return donor_lot_ready(
        lab, lab_li, qa_quinn, eligible=False, screening=dict.fromkeys(SEROLOGY, "Negative"), quantity=5
    )


@pytest.fixture
def eligible(lab, lab_li, qa_quinn):
    return donor_lot_ready(lab, lab_li, qa_quinn, quantity=5)


@pytest.fixture
def elsewhere():
    """A technician of another lab."""
    other = Site.objects.create(code="ELAB", name="East Lab", kind="lab")
    return make_user("elsie", first="Elsie", last="Park", roles=[(other, "lab_technician")])


# Screening results


def test_the_nat_results_that_came_later_are_recorded_and_qa_takes_it_from_there(
    client, lab_li, qa_quinn, waiting
):
    path = screening_path(waiting)
    assert href_of(page(client, lab_li, lot_page(waiting)), "Record screening results") == path
    body = page(client, lab_li, path)
    assert ">Record the results</button>" in body and "<legend>Donor screening and testing</legend>" in body
    # What is recorded is shown, and filled in; what is missing says so.
    assert (
        '<td data-label="Test" class="lab-test">HIV-1 nucleic acid test (NAT)</td>'
        '<td data-label="Result"><span class="muted">No result recorded</span></td>'
    ) in body
    assert '<input type="text" name="hiv_serology" value="Negative"' in body
    assert '<input type="text" name="hiv_nat" maxlength="200"' in body
    typed = {**dict.fromkeys(SEROLOGY, "Negative"), **dict.fromkeys(NAT, "Not detected")}
    response = submit(client, lab_li, path, typed)
    assert response["Location"] == lot_page(waiting)
    assert screening_of(waiting) == typed
    event = AuditEvent.objects.get(action="donor_lot.screening", object_id=str(waiting.pk))
    assert event.actor == lab_li
    assert (event.before["screening"], event.after["screening"]) == (
        dict.fromkeys(SEROLOGY, "Negative"),
        typed,
    )
    detail = client.get(response["Location"]).content.decode()
    assert "The screening results are recorded. Every donor test now has a negative result" in detail
    # QA documents eligibility; then the results are closed.
    assert offered(page(client, qa_quinn, lot_page(waiting))) == ["Document donor eligibility"]
    submit(client, qa_quinn, f"/lab/donor-lots/{waiting.pk}/eligibility/", {})
    assert "Record screening results" not in offered(page(client, lab_li, lot_page(waiting)))
    body = page(client, lab_li, path)
    assert (
        NOT_NOW in body and capfirst(services.ELIGIBILITY_DOCUMENTED) in body and 'name="hiv_nat"' not in body
    )
    before = lab_counts()
    response = submit(client, lab_li, path, {**typed, "hiv_nat": "Reactive"}, status=422)
    assert services.ELIGIBILITY_DOCUMENTED in response.content.decode()
    assert lab_counts() == before and screening_of(waiting) == typed


def test_a_recorded_result_is_replaced_beside_a_new_one(client, lab_li, qa_quinn, waiting):
    recorded = screening_of(waiting)
    typed = {**recorded, "hcv_serology": "Non-reactive", "hiv_nat": "Not detected"}
    response = submit(client, lab_li, screening_path(waiting), typed)
    assert screening_of(waiting) == typed
    event = AuditEvent.objects.get(action="donor_lot.screening", object_id=str(waiting.pk))
    assert (event.before["screening"], event.after["screening"]) == (recorded, typed)
    detail = client.get(response["Location"]).content.decode()
    assert "The screening results are recorded." in detail and "Every donor test" not in detail
    # Two NAT results are still missing: QA is told, and the technician may record them.
    assert "no result recorded" in notes(page(client, qa_quinn, lot_page(waiting)))[0]
    assert "Record screening results" in offered(page(client, lab_li, lot_page(waiting)))
    assert '<input type="text" name="hcv_serology" value="Non-reactive"' in page(
        client, lab_li, screening_path(waiting)
    )


def test_a_result_that_is_not_negative_is_recorded_and_holds_eligibility_back(
    client, lab_li, qa_quinn, waiting
):
    submit(
        client,
        lab_li,
        screening_path(waiting),
        {**dict.fromkeys(SEROLOGY, "Negative"), "hiv_nat": "Reactive"},
    )
    assert screening_of(waiting)["hiv_nat"] == "Reactive"
    assert "&#x27;Reactive&#x27; is not negative" in notes(page(client, qa_quinn, lot_page(waiting)))[0]


def test_results_recorded_under_other_names_are_shown_and_kept(client, lab_li, waiting):
    DonorLot.objects.filter(pk=waiting.pk).update(
        screening={"HBsAg": {"result": "non-reactive", "on": "2026-01-04"}}
    )
    body = page(client, lab_li, screening_path(waiting))
    assert (
        '<td data-label="Test" class="lab-test">HBsAg</td><td data-label="Result">result: non-reactive'
        in body
    )
    submit(client, lab_li, screening_path(waiting), {"hiv_nat": "Not detected"})
    assert screening_of(waiting) == {
        "HBsAg": {"result": "non-reactive", "on": "2026-01-04"},
        "hiv_nat": "Not detected",
    }


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"hiv_nat": "N" * 201}, "hiv_nat", "Ensure this value has at most 200 characters (it has 201)."),
        ({"hiv_serology": ""}, "hiv_serology", forms.NOT_REMOVED),
        ({"hiv_serology": "   "}, "hiv_serology", forms.NOT_REMOVED),
        ({"hiv_nat": "Not\u202edetected"}, "hiv_nat", ""),
    ],
)
def test_screening_results_the_form_refuses_change_nothing(client, lab_li, waiting, changes, field, message):
    recorded = screening_of(waiting)
    before = lab_counts()
    data = {**recorded, "hbv_nat": "Not detected", **changes}
    response = submit(client, lab_li, screening_path(waiting), data, status=422)
    error = field_error(response.content.decode(), field)
    assert error == message if message else error
    assert lab_counts() == before and screening_of(waiting) == recorded
    assert not AuditEvent.objects.filter(action="donor_lot.screening").exists()


def test_nothing_new_typed_is_refused_and_changes_nothing(client, lab_li, waiting):
    recorded = screening_of(waiting)
    before = lab_counts()
    response = submit(client, lab_li, screening_path(waiting), recorded, status=422)
    body = response.content.decode()
    assert forms.NOTHING_NEW in body and 'value="Negative"' in body
    assert lab_counts() == before and screening_of(waiting) == recorded
    assert not AuditEvent.objects.filter(action="donor_lot.screening").exists()


def test_qa_reviewers_are_told_they_do_not_record_screening_results(client, qa_quinn, waiting):
    assert "Record screening results" not in offered(page(client, qa_quinn, lot_page(waiting)))
    assert services.CANNOT_PROCESS in page(client, qa_quinn, screening_path(waiting), status=403)
    before, recorded = lab_counts(), screening_of(waiting)
    typed = {**recorded, "hiv_nat": "Not detected"}
    response = submit(client, qa_quinn, screening_path(waiting), typed, status=403)
    assert services.CANNOT_PROCESS in response.content.decode()
    assert lab_counts() == before and screening_of(waiting) == recorded


# Planning a batch from the lot


def test_a_technician_plans_a_batch_from_an_eligible_lot_in_the_earliest_slot(client, lab, lab_li, eligible):
    path = plan_path(eligible)
    detail = page(client, lab_li, lot_page(eligible))
    assert offered(detail) == ["Plan a batch"] and href_of(detail, "Plan a batch") == path
    body = page(client, lab_li, path)
    today = timezone.localdate()
    slot = f'<time datetime="{today:%Y-%m-%d}">{today:%-d %b %Y}</time>'
    assert f"<dt>Earliest processing slot</dt><dd>The lab has a slot free from {slot}" in body
    assert "<dt>Doses left</dt><dd>5 of 5</dd>" in body and ">Plan the batch</button>" in body
    assert "Donor eligibility is not documented." not in body
    response = submit(client, lab_li, path, {"doses": "3"})
    batch = Batch.objects.get()
    assert response["Location"] == f"/lab/batches/{batch.pk}/"
    assert (batch.donor_lot, batch.lab, batch.doses_planned, batch.status, batch.slot_start) == (
        eligible,
        lab,
        3,
        states.BATCH_PLANNED,
        today,
    )
    event = AuditEvent.objects.get(action="batch.plan", object_id=str(batch.pk))
    assert (event.actor, event.after["donor_lot"]) == (lab_li, eligible.pk)
    shown = client.get(response["Location"]).content.decode()
    assert f"Batch {batch.code} is planned: its slot starts {today:%-d %b %Y}." in shown
    assert "<dt>Doses left</dt><dd>2 of 5</dd>" in page(client, lab_li, path)


def test_a_lot_without_documented_eligibility_is_planned_and_the_page_says_what_that_means(
    client, lab_li, waiting
):
    detail = page(client, lab_li, lot_page(waiting))
    assert offered(detail) == ["Record screening results", "Plan a batch"]
    body = page(client, lab_li, plan_path(waiting))
    assert "Donor eligibility is not documented.</strong> A batch can be planned and processed" in body
    submit(client, lab_li, plan_path(waiting), {"doses": "1"})
    assert Batch.objects.get().donor_lot == waiting


def _expired(lot, lab):
    DonorLot.objects.filter(pk=lot.pk).update(expires_on=timezone.localdate() - timedelta(days=1))
    return services.LOT_EXPIRED.format(day=timezone.localdate() - timedelta(days=1))


def _used_up(lot, lab):
    services.batch_plan(actor=lot.created_by, donor_lot=lot, doses=5)
    return services.TOO_FEW_DOSES_LEFT.format(left=0)


def _not_donor_cells(lot, lab):
    DonorLot.objects.filter(pk=lot.pk).update(therapy_code=CULTURED)
    return services.LOT_NOT_DONOR


def _not_in_the_catalogue(lot, lab):
    DonorLot.objects.filter(pk=lot.pk).update(therapy_code="retired-therapy")
    return available.NOT_IN_CATALOGUE.format(code="retired-therapy")


def _lab_not_set_up(lot, lab):
    LabProfile.objects.filter(site=lab).delete()
    return services.LAB_NOT_READY


@pytest.mark.parametrize(
    "state",
    [_expired, _used_up, _not_donor_cells, _not_in_the_catalogue, _lab_not_set_up],
    ids=lambda f: f.__name__,
)
def test_a_lot_the_lab_would_not_plan_from_says_why_and_its_service_refuses_too(
    client, lab, lab_li, eligible, state
):
    reason = state(eligible, lab)
    detail = page(client, lab_li, lot_page(eligible))
    assert "Plan a batch" not in offered(detail)
    if state is not _expired:  # the lot's page says it has expired already
        assert notes(detail) == [reason.replace("'", "&#x27;")]
    body = page(client, lab_li, plan_path(eligible))
    assert NOT_NOW in body and capfirst(reason).replace("'", "&#x27;") in body and 'name="doses"' not in body
    before = lab_counts()
    submit(client, lab_li, plan_path(eligible), {"doses": "1"}, status=422)
    assert lab_counts() == before
    with pytest.raises(InvalidInput):
        services.batch_plan(actor=lab_li, donor_lot=DonorLot.objects.get(pk=eligible.pk), doses=1)


def test_a_cancelled_or_failed_batch_gives_its_doses_back(client, lab_li, eligible):
    batch = services.batch_plan(actor=lab_li, donor_lot=eligible, doses=5)
    assert "Plan a batch" not in offered(page(client, lab_li, lot_page(eligible)))
    services.batch_cancel(actor=lab_li, batch=batch, reason="Incubator out of service")
    assert "Plan a batch" in offered(page(client, lab_li, lot_page(eligible)))
    assert "<dt>Doses left</dt><dd>5 of 5</dd>" in page(client, lab_li, plan_path(eligible))


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"doses": "0"}, "doses", "Ensure this value is greater than or equal to 1."),
        ({"doses": "two"}, "doses", "Enter a whole number."),
        ({"doses": "6"}, "doses", services.TOO_FEW_DOSES_LEFT.format(left=5)),
        ({"doses": "1", "wanted": "2027-02-30"}, "wanted", "Enter a valid date."),
        (
            {"doses": "1", "wanted": f"{timezone.localdate() - timedelta(days=1):%Y-%m-%d}"},
            "wanted",
            services.IN_THE_PAST,
        ),
    ],
)
def test_a_plan_the_lab_refuses_is_answered_beside_its_field_and_changes_nothing(
    client, lab_li, eligible, data, field, message
):
    before = lab_counts()
    response = submit(client, lab_li, plan_path(eligible), data, status=422)
    assert field_error(response.content.decode(), field) == message
    assert lab_counts() == before and not Batch.objects.exists()


def test_qa_reviewers_are_told_they_do_not_plan_batches(client, qa_quinn, eligible):
    assert offered(page(client, qa_quinn, lot_page(eligible))) == []
    assert services.CANNOT_PROCESS in page(client, qa_quinn, plan_path(eligible), status=403)
    before = lab_counts()
    response = submit(client, qa_quinn, plan_path(eligible), {"doses": "1"}, status=403)
    assert services.CANNOT_PROCESS in response.content.decode()
    assert lab_counts() == before


# Who reaches these pages


@pytest.mark.parametrize("action", [screening_path, plan_path], ids=["screening", "plan-batch"])
@pytest.mark.parametrize("persona", ["elsewhere", "dr_ada", "nurse_bo", "admin_al", "pat"])
def test_another_lab_the_clinic_and_patients_find_neither_page(client, request, waiting, action, persona):
    user = request.getfixturevalue(persona)
    before, recorded = lab_counts(), screening_of(waiting)
    page(client, user, action(waiting), status=404)
    submit(client, user, action(waiting), {"hiv_nat": "Not detected", "doses": "1"}, status=404)
    assert lab_counts() == before and screening_of(waiting) == recorded


@pytest.mark.parametrize("action", [screening_path, plan_path], ids=["screening", "plan-batch"])
def test_a_missing_lot_is_not_found(client, lab_li, action):
    missing = DonorLot(pk=999999)
    page(client, lab_li, action(missing), status=404)
    submit(client, lab_li, action(missing), {"hiv_nat": "Not detected", "doses": "1"}, status=404)


@pytest.mark.parametrize("action", [screening_path, plan_path], ids=["screening", "plan-batch"])
def test_anonymous_visitors_are_sent_to_sign_in(client, waiting, action):
    for response in (client.get(action(waiting)), client.post(action(waiting), {"doses": "1"})):
        assert response.status_code == 302 and response["Location"].startswith("/sign-in/?next=")
    assert not Batch.objects.exists()


# Queries

# The session, the user and the roles (3); the clinics the lab serves, for the lot's scope; the lot; the
# Lab link's count: the clinics the lab serves again, then one count each of specimens, batches and
# products (4); the unread notifications.
SCREENING_PAGE_QUERIES = 3 + 1 + 1 + 4 + 1
# As the screening page, with the lot's batches (for the doses left) and the earliest free slot: the
# lab's profile and the batches holding its slots (2).
PLAN_PAGE_QUERIES = SCREENING_PAGE_QUERIES + 1 + 2
# The session, the user and the roles (3); the clinics the lab serves, for the lot's scope; the lot with
# its lab's profile; its batches; the access log's insert; the Lab link's count (4); the unread
# notifications.
LOT_PAGE_QUERIES = 3 + 1 + 1 + 1 + 1 + 4 + 1


def test_the_screening_page_reads_a_pinned_number_of_queries(
    client, lab_li, waiting, django_assert_num_queries
):
    client.force_login(lab_li)
    client.get(screening_path(waiting))
    with django_assert_num_queries(SCREENING_PAGE_QUERIES):
        assert client.get(screening_path(waiting)).status_code == 200


@pytest.mark.parametrize("path", [plan_path, lot_page], ids=["plan-batch", "lot"])
def test_the_plan_and_lot_pages_read_a_pinned_number_of_queries_for_2_or_20_batches(
    client, lab_li, django_assert_num_queries, lab, qa_quinn, path
):
    lot = donor_lot_ready(lab, lab_li, qa_quinn, quantity=100)
    expected = PLAN_PAGE_QUERIES if path is plan_path else LOT_PAGE_QUERIES
    client.force_login(lab_li)
    for count in (2, 18):
        for _ in range(count):
            services.batch_plan(actor=lab_li, donor_lot=lot, doses=1)
        client.get(path(lot))
        with django_assert_num_queries(expected):
            body = client.get(path(lot)).content.decode()
        assert "Plan a batch" in (offered(body) if path is lot_page else body)

"""The lab's worklist: what waits for lab staff and for clinics, on the start page, /lab/ and its lists."""

import re
from datetime import date, timedelta

import pytest
import time_machine
from django.utils import timezone

from cellclinic.audit.models import AccessEvent
from cellclinic.core import plugs
from cellclinic.lab import states, worklist
from cellclinic.lab.models import Batch, Product
from cellclinic.lab.tests import rows
from cellclinic.treatment.models import PlanStep

pytestmark = pytest.mark.django_db

LAB_KEYS = [
    worklist.SPECIMENS_IN_TRANSIT,
    worklist.SPECIMENS_TO_PROCESS,
    worklist.BATCHES_IN_PROCESS,
    worklist.QC_PENDING,
    worklist.AWAITING_RELEASE,
    worklist.TO_SHIP,
    worklist.AWAITING_RECEIPT,
    worklist.EXPIRING_SOON,
]
CLINIC_KEYS = [worklist.PRODUCTS_ARRIVING, worklist.TO_ADMINISTER_TODAY, worklist.SPECIMENS_TO_SHIP]


def _fresh(user):
    """USER as a new request sees them: nothing kept from an earlier read."""
    return type(user).objects.get(pk=user.pk)


def _found(user, key: str, limit: int = 50):
    return worklist.BY_KEY[key].found(_fresh(user), limit)


def _session_today(chain) -> None:
    """Move the first treatment session of CHAIN's plan to today."""
    step = PlanStep.objects.filter(plan=chain.plan, kind=PlanStep.Kind.SESSION).order_by("sequence").first()
    step.due_date = timezone.localdate()
    step.save(update_fields=["due_date"])


@pytest.fixture
def chain(patient_a, dr_ada, lab):
    rows.lab_profile(lab)
    return rows.chain_for(patient_a, dr_ada)


def _batch(chain, collector, technician, status, **fields) -> Batch:
    made = rows.batch(
        lab=chain.site.lab,
        creator=technician,
        specimen=rows.specimen(chain, collector, status=states.SPECIMEN_IN_PROCESSING),
        status=status,
    )
    if fields:
        Batch.objects.filter(pk=made.pk).update(**fields)
        made.refresh_from_db()
    return made


def _product(chain, collector, technician, status, **options) -> Product:
    return rows.product(_batch(chain, collector, technician, states.BATCH_RELEASED), status=status, **options)


# Who sees which items


@pytest.mark.parametrize(
    ("persona", "keys"),
    [
        ("lab_li", LAB_KEYS),
        ("qa_quinn", LAB_KEYS),
        ("dr_ada", CLINIC_KEYS),
        ("nurse_bo", CLINIC_KEYS),
        ("admin_al", CLINIC_KEYS),
        ("pat", []),
    ],
)
def test_lab_staff_see_the_labs_items_and_clinic_staff_their_clinics(request, persona, keys):
    user = request.getfixturevalue(persona)
    assert [item.key for item in worklist.items_for(user)] == keys
    shown = [item.key for item in plugs.worklist_items_for(user) if item.key.startswith("lab.")]
    assert shown == keys


# The lab's items


def test_specimens_shipped_to_the_lab_are_in_transit_with_when_they_left(chain, dr_ada, lab, lab_li):
    shipped = rows.specimen(chain, dr_ada, status=states.SPECIMEN_SHIPPED)
    rows.custody(shipped, "shipped", dr_ada, at_site=chain.site, at=timezone.now() - timedelta(days=1))
    rows.specimen(chain, dr_ada, status=states.SPECIMEN_PACKED)
    rows.specimen(chain, dr_ada, status=states.SPECIMEN_RECEIVED)
    found = _found(lab_li, worklist.SPECIMENS_IN_TRANSIT)
    assert found.count == 1
    (row,) = found.rows
    assert row.href == f"/lab/specimens/{shipped.pk}/"
    assert row.who == "" and row.what == f"{chain.coi} · Punch biopsy from NCL"
    assert row.when.startswith("shipped yesterday ")


def test_specimens_received_without_a_batch_wait_for_one(chain, dr_ada, lab, lab_li):
    waiting = rows.specimen(chain, dr_ada, status=states.SPECIMEN_RECEIVED)
    rows.custody(waiting, "received", lab_li, at_site=lab)
    booked = rows.specimen(chain, dr_ada, status=states.SPECIMEN_RECEIVED)
    rows.batch(lab=lab, creator=lab_li, specimen=booked, status=states.BATCH_PLANNED)
    (row,) = _found(lab_li, worklist.SPECIMENS_TO_PROCESS).rows
    assert row.href == f"/lab/specimens/{waiting.pk}/" and row.when.startswith("received today ")


def test_batches_in_process_show_their_window_and_the_late_ones_come_first_flagged(chain, dr_ada, lab_li):
    today = timezone.localdate()
    on_time = _batch(chain, dr_ada, lab_li, states.BATCH_IN_PROCESS)
    late = _batch(
        chain,
        dr_ada,
        lab_li,
        states.BATCH_PLANNED,
        ready_from=today - timedelta(days=6),
        ready_to=today - timedelta(days=1),
    )
    _batch(chain, dr_ada, lab_li, states.BATCH_QC_PENDING)
    found = _found(lab_li, worklist.BATCHES_IN_PROCESS)
    assert [row.href for row in found.rows] == [f"/lab/batches/{late.pk}/", f"/lab/batches/{on_time.pk}/"]
    assert found.rows[0].when == "overdue: ready by yesterday"
    assert found.rows[0].what == f"{late.code} · {chain.coi}, planned"
    assert found.rows[1].when == f"ready {worklist.ready_window(on_time.ready_from, on_time.ready_to)}"


def test_batches_wait_for_qc_then_for_release(chain, dr_ada, lab, lab_li):
    qc = _batch(chain, dr_ada, lab_li, states.BATCH_QC_PENDING)
    release = _batch(chain, dr_ada, lab_li, states.BATCH_AWAITING_RELEASE)
    donor = rows.batch(
        lab=lab, creator=lab_li, donor_lot=rows.donor_lot(lab, lab_li), status=states.BATCH_AWAITING_RELEASE
    )
    _batch(chain, dr_ada, lab_li, states.BATCH_RELEASED)
    assert [row.href for row in _found(lab_li, worklist.QC_PENDING).rows] == [f"/lab/batches/{qc.pk}/"]
    waiting = _found(lab_li, worklist.AWAITING_RELEASE)
    assert [row.href for row in waiting.rows] == [f"/lab/batches/{release.pk}/", f"/lab/batches/{donor.pk}/"]
    assert waiting.rows[1].what == f"{donor.code} · donor lot {donor.donor_lot.lot_number}"


def test_released_products_wait_to_ship_and_shipped_ones_wait_for_receipt(chain, dr_ada, lab_li):
    released = _product(chain, dr_ada, lab_li, states.PRODUCT_RELEASED)
    shipped = _product(chain, dr_ada, lab_li, states.PRODUCT_SHIPPED)
    _product(chain, dr_ada, lab_li, states.PRODUCT_RECEIVED)
    to_ship = _found(lab_li, worklist.TO_SHIP)
    assert [row.href for row in to_ship.rows] == [f"/lab/products/{released.din}/"]
    assert to_ship.rows[0].what == f"{released.din} · dose 1 for NCL ({chain.coi})"
    receipt = _found(lab_li, worklist.AWAITING_RECEIPT)
    assert [row.href for row in receipt.rows] == [f"/lab/products/{shipped.din}/"]


def test_usable_products_expiring_within_48_hours_are_listed_soonest_first(chain, dr_ada, lab_li):
    soon = _product(chain, dr_ada, lab_li, states.PRODUCT_RELEASED, expires_in=timedelta(hours=47))
    sooner = _product(chain, dr_ada, lab_li, states.PRODUCT_RECEIVED, expires_in=timedelta(hours=3))
    passed = _product(chain, dr_ada, lab_li, states.PRODUCT_SHIPPED, expires_in=timedelta(hours=-2))
    _product(chain, dr_ada, lab_li, states.PRODUCT_RELEASED, expires_in=timedelta(hours=49))
    _product(chain, dr_ada, lab_li, states.PRODUCT_ADMINISTERED, expires_in=timedelta(hours=3))
    _product(chain, dr_ada, lab_li, states.PRODUCT_EXPIRED, expires_in=timedelta(hours=-3))
    found = _found(lab_li, worklist.EXPIRING_SOON)
    assert [row.href for row in found.rows] == [f"/lab/products/{p.din}/" for p in (passed, sooner, soon)]
    assert found.rows[0].when.startswith("expired ") and found.rows[1].when.startswith("expires ")


def test_a_lab_sees_only_its_own_work(chain, dr_ada, lab_li):
    from cellclinic.accounts.models import Site
    from conftest import make_user

    _batch(chain, dr_ada, lab_li, states.BATCH_QC_PENDING)
    other = Site.objects.create(code="ELAB", name="Elsewhere Lab", kind="lab")
    stranger = make_user("elsie", first="Elsie", last="Park", roles=[(other, "lab_technician")])
    assert _found(stranger, worklist.QC_PENDING).count == 0
    assert worklist.nav_count(_fresh(stranger)) == 0


# The clinic's items


def test_products_on_their_way_name_the_patient(chain, dr_ada, nurse_bo, lab_li):
    shipped = _product(chain, dr_ada, lab_li, states.PRODUCT_SHIPPED)
    rows.custody(shipped, "shipped", lab_li, at_site=chain.site.lab)
    (row,) = _found(nurse_bo, worklist.PRODUCTS_ARRIVING).rows
    assert (row.who, row.href) == ("HOPPER, Grace", f"/lab/products/{shipped.din}/")
    assert row.what == f"Product {shipped.din} (dose 1) from Central Cell Lab"
    assert row.when.startswith("shipped today ")


def test_a_received_product_is_to_administer_on_the_day_of_a_session(chain, dr_ada, nurse_bo, lab_li):
    received = _product(chain, dr_ada, lab_li, states.PRODUCT_RECEIVED)
    assert _found(nurse_bo, worklist.TO_ADMINISTER_TODAY).count == 0
    _session_today(chain)
    (row,) = _found(nurse_bo, worklist.TO_ADMINISTER_TODAY).rows
    assert (row.who, row.href) == ("HOPPER, Grace", "/lab/bedside/")
    assert received.din in row.what and row.when.startswith("expires ")
    # Tomorrow the session is past: nothing to give.
    with time_machine.travel(timezone.now() + timedelta(days=1)):
        assert _found(nurse_bo, worklist.TO_ADMINISTER_TODAY).count == 0


def test_a_stopped_plan_has_nothing_to_administer(chain, dr_ada, nurse_bo, lab_li):
    _product(chain, dr_ada, lab_li, states.PRODUCT_RECEIVED)
    _session_today(chain)
    chain.plan.status = "stopped"
    chain.plan.save(update_fields=["status"])
    assert _found(nurse_bo, worklist.TO_ADMINISTER_TODAY).count == 0


def test_specimens_collected_or_packed_wait_to_be_shipped(chain, dr_ada, nurse_bo):
    collected = rows.specimen(chain, dr_ada)
    packed = rows.specimen(chain, dr_ada, status=states.SPECIMEN_PACKED)
    rows.specimen(chain, dr_ada, status=states.SPECIMEN_SHIPPED)
    found = _found(nurse_bo, worklist.SPECIMENS_TO_SHIP)
    assert {row.href for row in found.rows} == {f"/lab/specimens/{s.pk}/" for s in (collected, packed)}
    assert {row.who for row in found.rows} == {"HOPPER, Grace"}
    assert any(row.what.endswith("packed for shipping") for row in found.rows)


def test_another_clinic_sees_none_of_it(chain, dr_ada, dr_cy, lab_li):
    _product(chain, dr_ada, lab_li, states.PRODUCT_SHIPPED)
    rows.specimen(chain, dr_ada)
    for key in CLINIC_KEYS:
        assert _found(dr_cy, key).count == 0


# Counts and words


def test_each_items_count_agrees_with_its_rows(chain, dr_ada, nurse_bo, lab_li):
    rows.specimen(chain, dr_ada, status=states.SPECIMEN_SHIPPED)
    rows.specimen(chain, dr_ada, status=states.SPECIMEN_RECEIVED)
    _batch(chain, dr_ada, lab_li, states.BATCH_IN_PROCESS)
    _batch(chain, dr_ada, lab_li, states.BATCH_QC_PENDING)
    _batch(chain, dr_ada, lab_li, states.BATCH_AWAITING_RELEASE)
    _product(chain, dr_ada, lab_li, states.PRODUCT_RELEASED, expires_in=timedelta(hours=5))
    _product(chain, dr_ada, lab_li, states.PRODUCT_SHIPPED)
    _product(chain, dr_ada, lab_li, states.PRODUCT_RECEIVED)
    _session_today(chain)
    rows.specimen(chain, dr_ada)
    for user, keys in ((lab_li, LAB_KEYS), (nurse_bo, CLINIC_KEYS)):
        for key in keys:
            assert worklist.BY_KEY[key].count(_fresh(user)) == _found(user, key).count >= 1, key
    # The Lab link counts what waits for a lab action: to receive, to book, QC, release and shipping.
    assert worklist.nav_count(_fresh(lab_li)) == 5


@pytest.mark.parametrize(
    ("start", "end", "words"),
    [
        (date(2027, 1, 12), date(2027, 1, 19), "12–19 Jan"),
        (date(2027, 1, 12), date(2027, 1, 12), "12 Jan"),
        (date(2027, 1, 28), date(2027, 2, 4), "28 Jan – 4 Feb"),
        (date(2026, 12, 28), date(2027, 1, 4), "28 Dec 2026 – 4 Jan 2027"),
    ],
)
def test_a_ready_window_reads_briefly(start, end, words):
    assert worklist.ready_window(start, end) == words


# The pages: the start page, the Lab link, /lab/ and each item's list


def test_the_lab_link_counts_what_waits_for_lab_staff_only(client, chain, dr_ada, lab_li):
    _batch(chain, dr_ada, lab_li, states.BATCH_QC_PENDING)
    _batch(chain, dr_ada, lab_li, states.BATCH_AWAITING_RELEASE)
    client.force_login(lab_li)
    body = client.get("/account/").content.decode()
    assert re.search(r'href="/lab/"[^>]*>Lab <span class="nav-count">2<', body)
    client.force_login(dr_ada)
    assert 'href="/lab/"' not in client.get("/account/").content.decode()


def test_lab_staff_start_on_their_worklist_without_patient_names(client, chain, dr_ada, lab_li, patient_a):
    _batch(chain, dr_ada, lab_li, states.BATCH_QC_PENDING)
    client.force_login(lab_li)
    body = client.get("/").content.decode()
    assert 'id="h-worklist"' in body and "Batches waiting for QC results" in body
    assert chain.coi in body
    for secret in (patient_a.given_name, patient_a.family_name, patient_a.mrn):
        assert secret.lower() not in body.lower()


def test_the_lab_page_lists_each_item_with_its_count_and_a_link_to_all(client, chain, dr_ada, lab_li):
    for _ in range(12):
        _batch(chain, dr_ada, lab_li, states.BATCH_QC_PENDING)
    client.force_login(lab_li)
    response = client.get("/lab/")
    body = response.content.decode()
    assert body.count("<h1>") == 1
    section = body[body.index('id="worklist-lab-qc-pending"') :]
    section = section[: section.index("</section>")]
    assert '<span class="worklist-count">12</span>' in section
    assert section.count("<li>") == 10
    assert 'href="/lab/waiting/?item=qc-pending">See all 12' in section
    assert "No specimen is on its way." in body
    assert 'href="/lab/donor-lots/"' in body
    assert AccessEvent.objects.filter(action="lab_worklist.view", actor=lab_li).count() == 1


def test_clinic_staff_see_their_clinics_items_on_the_lab_page(client, chain, dr_ada, nurse_bo, lab_li):
    _product(chain, dr_ada, lab_li, states.PRODUCT_SHIPPED)
    client.force_login(nurse_bo)
    body = client.get("/lab/").content.decode()
    assert "Products on their way to the clinic" in body and "HOPPER, Grace" in body
    assert "Batches waiting for QC results" not in body and "Donor lots" not in body


def test_an_items_list_pages_through_every_row(client, chain, dr_ada, lab_li):
    made = [_batch(chain, dr_ada, lab_li, states.BATCH_QC_PENDING) for _ in range(27)]
    Batch.objects.filter(pk__in=[b.pk for b in made]).update(updated_at=timezone.now())
    client.force_login(lab_li)
    first = client.get("/lab/waiting/?item=qc-pending").content.decode()
    assert first.count("<h1>") == 1 and "Batches waiting for QC results" in first
    assert first.count('<li><a href="/lab/batches/') == 25
    assert "Page 1 of 2 · 27 in all" in first and 'href="?item=qc-pending&amp;page=2"' in first
    second = client.get("/lab/waiting/?item=qc-pending&page=2").content.decode()
    assert second.count('<li><a href="/lab/batches/') == 2
    listed = re.findall(r'href="/lab/batches/(\d+)/"', first + second)
    assert sorted(map(int, listed)) == sorted(b.pk for b in made)
    # A page past the last shows the last.
    assert "Page 2 of 2" in client.get("/lab/waiting/?item=qc-pending&page=9").content.decode()


def test_an_items_list_is_only_for_those_who_see_the_item(client, dr_ada, lab_li, pat):
    client.force_login(dr_ada)
    assert client.get("/lab/waiting/?item=qc-pending").status_code == 404
    assert client.get("/lab/waiting/?item=products-arriving").status_code == 200
    client.force_login(lab_li)
    assert client.get("/lab/waiting/?item=products-arriving").status_code == 404
    client.force_login(pat)
    assert client.get("/lab/").status_code == 404


# Queries, flat as the work grows


def _work(chain, collector, technician, each: int) -> None:
    """EACH of everything the lab's and the clinic's items list."""
    _session_today(chain)
    for _ in range(each):
        rows.specimen(chain, collector, status=states.SPECIMEN_SHIPPED)
        rows.specimen(chain, collector, status=states.SPECIMEN_RECEIVED)
        rows.specimen(chain, collector)
        for status in (states.BATCH_IN_PROCESS, states.BATCH_QC_PENDING, states.BATCH_AWAITING_RELEASE):
            _batch(chain, collector, technician, status)
        for status in (states.PRODUCT_RELEASED, states.PRODUCT_SHIPPED, states.PRODUCT_RECEIVED):
            _product(chain, collector, technician, status, expires_in=timedelta(hours=10))


# The roles; for lab staff the clinics their lab serves, once; one query per item shown.
WORKLIST_QUERIES = {"lab_li": 1 + 1 + len(LAB_KEYS), "nurse_bo": 1 + len(CLINIC_KEYS)}
# The lab page: the session, the user and the roles; the items (as above); the access log's insert; the
# products past their expiry in the reader's care, counted for the offer to take them out of use (lab
# technicians, and nurses who give products); the navigation's counts: for lab staff, the Lab link's
# (specimens, batches, products: the item queries did not count them in one go), for clinic staff the
# new requests; and the unread notifications.
LAB_PAGE_QUERIES = {
    "lab_li": 2 + WORKLIST_QUERIES["lab_li"] + 1 + 1 + 3 + 1,
    "nurse_bo": 2 + WORKLIST_QUERIES["nurse_bo"] + 1 + 1 + 1 + 1,
}
# An item's list: the session, the user and the roles; the clinics served (lab staff); its count; its rows;
# the access log's insert; the navigation's counts as above and the unread notifications. (Only the list
# of products expiring soon counts those past their expiry, for its offer: test_actions_expire.py.)
WAITING_QUERIES = {"lab_li": 3 + 1 + 1 + 1 + 1 + 2 + 1, "nurse_bo": 3 + 1 + 1 + 1 + 1 + 1}


@pytest.mark.parametrize("persona", ["lab_li", "nurse_bo"])
def test_the_worklist_and_the_lab_pages_cost_the_same_queries_for_2_or_20_of_each(
    client, request, chain, dr_ada, lab_li, persona, django_assert_num_queries
):
    user = request.getfixturevalue(persona)
    item = "qc-pending" if persona == "lab_li" else "products-arriving"
    client.force_login(user)
    client.get("/lab/")  # the first request after signing in also touches the session
    for each in (2, 18):
        _work(chain, dr_ada, lab_li, each)
        fresh = _fresh(user)
        with django_assert_num_queries(WORKLIST_QUERIES[persona]):
            found = [item.items(fresh, plugs.WORKLIST_ROWS) for item in worklist.items_for(fresh)]
        assert all(entry.count >= each for entry in found)
        with django_assert_num_queries(LAB_PAGE_QUERIES[persona]):
            assert client.get("/lab/").status_code == 200
        with django_assert_num_queries(WAITING_QUERIES[persona]):
            assert client.get(f"/lab/waiting/?item={item}").status_code == 200


def test_every_row_links_to_a_page_that_opens(client, chain, dr_ada, nurse_bo, lab_li):
    _work(chain, dr_ada, lab_li, 1)
    for user in (lab_li, nurse_bo):
        client.force_login(user)
        for entry in worklist.items_for(user):
            for row in entry.found(_fresh(user), 5).rows:
                assert client.get(row.href).status_code == 200, row.href


# The items follow records made through the lab's services, stage by stage


@pytest.mark.parametrize(
    ("stage", "lab_keys", "clinic_keys"),
    [
        ("collected", [], [worklist.SPECIMENS_TO_SHIP]),
        ("shipped", [worklist.SPECIMENS_IN_TRANSIT], []),
        ("at_lab", [worklist.SPECIMENS_TO_PROCESS], []),
        ("in_process", [worklist.BATCHES_IN_PROCESS], []),
        ("qc_pending", [worklist.QC_PENDING], []),
        ("awaiting_release", [worklist.AWAITING_RELEASE], []),
        ("failed", [], []),
        # The cultured product keeps 24 hours: from release on it is also expiring soon.
        ("released", [worklist.TO_SHIP, worklist.EXPIRING_SOON], []),
        ("issued", [worklist.TO_SHIP, worklist.EXPIRING_SOON], []),
        ("at_clinic", [worklist.EXPIRING_SOON], []),
    ],
)
def test_each_stage_waits_where_the_next_person_looks(
    dr_ada, nurse_bo, lab_li, qa_quinn, patient_a, stage, lab_keys, clinic_keys
):
    from cellclinic.lab.tests.builders import lab_pathway_to

    lab_pathway_to(stage, patient_a, dr_ada, technician=lab_li, reviewer=qa_quinn)
    for user, expected in ((lab_li, lab_keys), (nurse_bo, clinic_keys)):
        waiting = [item.key for item in worklist.items_for(user) if _found(user, item.key).count]
        assert waiting == expected, (stage, user.username)


def test_a_product_received_at_the_clinic_is_to_give_on_its_session_day(
    dr_ada, nurse_bo, lab_li, qa_quinn, patient_a
):
    from cellclinic.lab.tests.builders import lab_pathway_to

    made = lab_pathway_to("at_clinic", patient_a, dr_ada, technician=lab_li, reviewer=qa_quinn)
    _session_today(made.chain)
    found = _found(nurse_bo, worklist.TO_ADMINISTER_TODAY)
    assert found.count == len(made.products) >= 1
    assert {row.who for row in found.rows} == {"HOPPER, Grace"}

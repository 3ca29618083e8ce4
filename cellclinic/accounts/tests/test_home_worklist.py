"""The staff start page is a worklist: what waits for each role at its sites, linked to where it is done."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from cellclinic.audit.models import AccessEvent
from cellclinic.core import plugs
from cellclinic.demo.builder import at_stage
from cellclinic.treatment.models import PlanStep
from conftest import PASSWORD

pytestmark = pytest.mark.django_db

# One person per kind of work, named so that each row is easy to find on the page.
KINDS = {
    "new_request": ("enquired", "Nadia Newreq", {}),
    "in_progress": ("consultation_open", "Olga Openconsult", {}),
    "to_sign": ("consent_prepared", "Pia Prepared", {}),
    "to_countersign": ("patient_signed", "Cora Countersign", {}),
    "due_soon": ("planned", "Dana Duesoon", {"in_days": 1}),
    "overdue": ("planned", "Omar Overdue", {}),
    "withdrawn": ("withdrawn", "Will Withdrawn", {}),
}


def _make_overdue(plan) -> None:
    """The plan's first step was due two days ago and may still be done until the day after tomorrow."""
    today = timezone.localdate()
    PlanStep.objects.filter(plan=plan, sequence=1).update(
        due_date=today - timedelta(days=2),
        window_start=today - timedelta(days=3),
        window_end=today + timedelta(days=2),
    )


def build_work(practitioner, *, each: int = 1, prefix: str = "") -> dict:
    """EACH pathway of every kind at PRACTITIONER's clinic; the pathways by kind."""
    made = {}
    for kind, (stage, name, options) in KINDS.items():
        made[kind] = []
        for number in range(each):
            given, family = name.split()
            full = f"{prefix}{given} {family}{'' if each == 1 else chr(ord('a') + number % 26)}"
            pathway = at_stage(
                stage, practitioner=practitioner, password=PASSWORD, enquiry_data={"name": full}, **options
            )
            if kind == "overdue":
                _make_overdue(pathway.plan)
            made[kind].append(pathway)
    return made


@pytest.fixture
def north(dr_ada):
    return build_work(dr_ada)


@pytest.fixture
def riverside(dr_cy):
    return build_work(dr_cy, prefix="Zed")


def _home(client, user) -> str:
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 200
    return response.content.decode()


def _worklist(body: str) -> str:
    """The HTML of the worklist section ("" when the page has none)."""
    start = body.find('<section class="worklist"')
    return "" if start < 0 else body[start : body.index('<div class="grid">', start)]


def _item(body: str, label: str) -> str:
    """The HTML of the worklist item headed LABEL ("" when it is not on the page)."""
    for section in body.split('<section class="card worklist-item"')[1:]:
        if f"<span>{label}</span>" in section:
            return section.split("</section>")[0]
    return ""


ALL_LABELS = [
    "New consultation requests",
    "Consultations in progress",
    "Consents to countersign",
    "Consents waiting for the patient&#x27;s signature",
    "Plan steps past their date",
    "Plan steps due in the next 7 days",
    "Consents withdrawn in the last 14 days",
]


def test_a_practitioner_sees_every_kind_of_work_each_linked_to_where_it_is_done(client, dr_ada, north):
    body = _home(client, dr_ada)
    assert body.count("<h1") == 1
    expected = {
        "New consultation requests": ("Nadia Newreq", f"/enquiries/{north['new_request'][0].enquiry.pk}/"),
        "Consultations in progress": (
            "OPENCONSULT, Olga",
            f"/consultations/{north['in_progress'][0].consultation.pk}/",
        ),
        "Consents to countersign": (
            "COUNTERSIGN, Cora",
            f"/consents/{north['to_countersign'][0].consent.pk}/",
        ),
        "Consents waiting for the patient&#x27;s signature": (
            "PREPARED, Pia",
            f"/consents/{north['to_sign'][0].consent.pk}/",
        ),
        "Plan steps past their date": ("OVERDUE, Omar", f"/plans/{north['overdue'][0].plan.pk}/"),
        "Plan steps due in the next 7 days": ("DUESOON, Dana", f"/plans/{north['due_soon'][0].plan.pk}/"),
        "Consents withdrawn in the last 14 days": (
            "WITHDRAWN, Will",
            f"/consents/{north['withdrawn'][0].consent.pk}/",
        ),
    }
    for label, (who, href) in expected.items():
        item = _item(body, label)
        assert who in item, label
        assert f'href="{href}"' in item, label
    # Each row is in the one item it belongs to.
    assert "DUESOON" not in _item(body, "Plan steps past their date")
    assert "OVERDUE" not in _item(body, "Plan steps due in the next 7 days")
    assert "WITHDRAWN, Will" not in _item(body, "Plan steps due in the next 7 days")  # a stopped plan
    assert 'href="/enquiries/?status=new"' in _item(body, "New consultation requests")
    assert "Decision to sign, with you" in _item(body, "Consultations in progress")


def test_the_items_follow_their_order_on_the_page(client, dr_ada, north):
    body = _home(client, dr_ada)
    positions = [body.index(f"<span>{label}</span>") for label in ALL_LABELS]
    assert positions == sorted(positions)


@pytest.mark.parametrize("user", ["nurse_bo", "admin_al"])
def test_nurses_and_clinic_admins_see_requests_plans_and_withdrawals_not_signatures(
    client, request, user, north
):
    body = _home(client, request.getfixturevalue(user))
    assert "Nadia Newreq" in _item(body, "New consultation requests")
    assert "OVERDUE, Omar" in _item(body, "Plan steps past their date")
    assert "DUESOON, Dana" in _item(body, "Plan steps due in the next 7 days")
    assert "WITHDRAWN, Will" in _item(body, "Consents withdrawn in the last 14 days")
    worklist = _worklist(body)
    for label in ALL_LABELS[1:4]:
        assert f"<span>{label}</span>" not in worklist
    assert "OPENCONSULT" not in worklist and "Cora" not in worklist and "Pia" not in worklist


@pytest.mark.parametrize("user", ["lab_li", "qa_quinn"])
def test_lab_staff_see_the_lab_s_worklist_and_no_patient_names(client, request, user, north):
    body = _home(client, request.getfixturevalue(user))
    assert 'id="h-worklist"' in body
    assert "New consultation requests" not in body
    for _stage, name, _options in KINDS.values():
        given, family = name.split()
        assert family not in body and family.upper() not in body and given not in body
    assert "North Clinic" in body  # their lab's tile is still there


def test_a_portal_patient_has_no_worklist(client, pat, north):
    assert plugs.worklist_for(pat) == []
    client.force_login(pat)
    assert client.get("/").status_code == 302


def test_another_clinics_work_never_appears(client, dr_ada, dr_cy, north, riverside):
    ada = _home(client, dr_ada)
    assert "Zed" not in ada and "ZED" not in ada
    cy = _home(client, dr_cy)
    assert "ZedNadia Newreq" in cy and "OVERDUE, ZedOmar" in cy
    assert "Nadia Newreq" not in cy.replace("ZedNadia", "") and "OVERDUE, Omar" not in cy


def test_nothing_waiting_is_said_calmly(client, dr_ada):
    body = _home(client, dr_ada)
    assert "No new requests: every request has been answered." in body
    assert "<span>Consultations in progress</span>" not in body  # an item with nothing waiting is left out
    assert not AccessEvent.objects.filter(action="worklist.view").exists()


def test_only_the_first_five_are_listed_with_the_count_and_a_link_to_all(client, dr_ada):
    for number in range(7):
        at_stage(
            "enquired",
            practitioner=dr_ada,
            password=PASSWORD,
            enquiry_data={"name": f"Kim Lee{'abcdefg'[number]}"},
        )
    item = _item(_home(client, dr_ada), "New consultation requests")
    assert item.count("<li>") == 5
    assert '<span class="worklist-count">7</span>' in item
    assert "Kim Leea" in item and "Kim Leeg" not in item  # the longest waiting first
    assert "See all 7" in item


def test_reading_the_worklist_is_logged_once(client, dr_ada, north):
    _home(client, dr_ada)
    events = AccessEvent.objects.filter(action="worklist.view")
    assert [(event.actor_id, event.object_type) for event in events] == [(dr_ada.pk, "worklist")]


def test_the_enquiries_link_counts_new_requests(client, dr_ada, nurse_bo, north):
    client.force_login(nurse_bo)
    body = client.get("/account/").content.decode()
    assert re.search(r'href="/enquiries/"[^>]*>Enquiries <span class="nav-count">1<', body)
    at_stage("enquired", practitioner=dr_ada, password=PASSWORD, enquiry_data={"name": "Ivy Second"})
    body = client.get("/account/").content.decode()
    assert re.search(r'href="/enquiries/"[^>]*>Enquiries <span class="nav-count">2<', body)


# The home page: the session, the user, their roles and sites; one query for each of the ten worklist
# items (seven of the front desk, three of the lab's for the clinic); the access log's one insert; the
# patients tile's count; the unread notifications of the navigation (the Enquiries count is the
# worklist's, already read).
HOME_QUERIES = 17
# The account page: its own six reads, the roles, the Enquiries count and the notifications count.
ACCOUNT_QUERIES = 9


def test_the_home_and_a_page_with_nav_counts_cost_the_same_queries_for_2_or_20_of_each(
    client, dr_ada, django_assert_num_queries
):
    build_work(dr_ada, each=2)
    client.force_login(dr_ada)
    client.get("/")  # the first request after signing in also touches the session
    with django_assert_num_queries(HOME_QUERIES):
        assert client.get("/").status_code == 200
    with django_assert_num_queries(ACCOUNT_QUERIES):
        assert client.get("/account/").status_code == 200
    build_work(dr_ada, each=18, prefix="More")
    with django_assert_num_queries(HOME_QUERIES):
        body = client.get("/").content.decode()
    with django_assert_num_queries(ACCOUNT_QUERIES):
        client.get("/account/")
    assert '<span class="worklist-count">20</span>' in _item(body, "New consultation requests")

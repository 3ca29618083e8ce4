"""The worklist's new consultation requests: new ones at the user's clinics, the longest waiting first."""

import pytest

from cellclinic.candidacy import worklist
from cellclinic.demo.builder import at_stage
from conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db


def _request(practitioner, name: str, **options):
    return at_stage(
        "enquired", practitioner=practitioner, password=PASSWORD, enquiry_data={"name": name}, **options
    ).enquiry


def test_new_requests_are_listed_oldest_first_each_to_its_page(dr_ada, nurse_bo):
    first, second = _request(dr_ada, "Ann First"), _request(dr_ada, "Ben Second")
    found = worklist.new_requests(nurse_bo, 5)
    assert found.count == 2 == worklist.new_requests_count(nurse_bo)
    assert [(row.who, row.href, row.what) for row in found.rows] == [
        ("Ann First", f"/enquiries/{first.pk}/", "New request"),
        ("Ben Second", f"/enquiries/{second.pk}/", "New request"),
    ]
    assert found.rows[0].when == "sent today"


def test_requests_already_answered_are_not_waiting(dr_ada, nurse_bo):
    _request(dr_ada, "Cat Contacted", enquiry_status="contacted")
    at_stage("consultation_open", practitioner=dr_ada, password=PASSWORD, enquiry_data={"name": "Bo Oked"})
    assert worklist.new_requests(nurse_bo, 5).count == 0
    assert worklist.new_requests_count(nurse_bo) == 0


def test_a_new_request_whose_enquirer_is_registered_still_waits_and_says_so(dr_ada, nurse_bo):
    at_stage("registered", practitioner=dr_ada, password=PASSWORD, enquiry_data={"name": "Reg Istered"})
    [row] = worklist.new_requests(nurse_bo, 5).rows
    assert (row.who, row.what) == ("Reg Istered", "New request, registered as a patient")


def test_the_limit_bounds_the_rows_not_the_count(dr_ada, admin_al):
    for name in ("Ann One", "Ann Two", "Ann Three"):
        _request(dr_ada, name)
    found = worklist.new_requests(admin_al, 2)
    assert (found.count, [row.who for row in found.rows]) == (3, ["Ann One", "Ann Two"])


def test_another_clinics_requests_are_not_shown_and_a_two_clinic_nurse_reads_where(
    dr_ada, dr_cy, nurse_bo, clinic_a, clinic_b
):
    _request(dr_ada, "Ann North")
    _request(dr_cy, "Ray River")
    assert [row.who for row in worklist.new_requests(nurse_bo, 5).rows] == ["Ann North"]
    both = make_user("sam", first="Sam", last="Okoro", roles=[(clinic_a, "nurse"), (clinic_b, "nurse")])
    rows = worklist.new_requests(both, 5).rows
    assert sorted((row.who, row.what) for row in rows) == [
        ("Ann North", "New request at NCL"),
        ("Ray River", "New request at RSC"),
    ]


@pytest.mark.parametrize(
    ("user", "shown"),
    [
        ("dr_ada", True),
        ("nurse_bo", True),
        ("admin_al", True),
        ("lab_li", False),
        ("qa_quinn", False),
        ("pat", False),
    ],
)
def test_who_handles_requests(request, user, shown):
    assert worklist.handles_requests(request.getfixturevalue(user)) is shown

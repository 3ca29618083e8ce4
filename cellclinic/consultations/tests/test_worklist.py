"""The worklist's consultations in progress: open ones at the practitioner's clinics, with whom."""

import pytest

from cellclinic.consultations import worklist
from cellclinic.demo.builder import at_stage
from conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db


def _consultation(practitioner, name: str, stage: str = "consultation_open"):
    return at_stage(
        stage, practitioner=practitioner, password=PASSWORD, enquiry_data={"name": name}
    ).consultation


def test_open_consultations_are_listed_with_whom_and_decided_ones_are_not(dr_ada, clinic_a):
    mine = _consultation(dr_ada, "Olga Open")
    dr_eve = make_user("eve", first="Eve", last="Stone", roles=[(clinic_a, "practitioner")])
    theirs = _consultation(dr_eve, "Pam Other")
    _consultation(dr_ada, "Dee Decided", stage="decided")
    found = worklist.in_progress(dr_ada, 5)
    assert found.count == 2 == worklist.in_progress_count(dr_ada)
    assert [(row.who, row.what, row.href) for row in found.rows] == [
        ("OPEN, Olga", "Decision to sign, with you", f"/consultations/{mine.pk}/"),
        ("OTHER, Pam", "Decision to sign, with Eve Stone", f"/consultations/{theirs.pk}/"),
    ]
    assert found.rows[0].when == "started today"


def test_another_clinics_consultations_are_not_shown(dr_ada, dr_cy):
    _consultation(dr_cy, "Ray River")
    assert worklist.in_progress(dr_ada, 5).count == 0
    assert worklist.in_progress_count(dr_ada) == 0


@pytest.mark.parametrize(
    ("user", "shown"),
    [
        ("dr_ada", True),
        ("nurse_bo", False),
        ("admin_al", False),
        ("lab_li", False),
        ("qa_quinn", False),
        ("pat", False),
    ],
)
def test_practitioners_run_consultations(request, user, shown):
    assert worklist.runs_consultations(request.getfixturevalue(user)) is shown

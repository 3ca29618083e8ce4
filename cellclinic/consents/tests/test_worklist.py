"""The worklist's consents: waiting for the patient, waiting for the countersignature, recently withdrawn."""

from datetime import timedelta

import pytest
from django.utils import timezone

from cellclinic.consents import worklist
from cellclinic.consents.models import Consent
from cellclinic.demo.builder import at_stage
from conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _consent(practitioner, name: str, stage: str):
    return at_stage(stage, practitioner=practitioner, password=PASSWORD, enquiry_data={"name": name}).consent


@pytest.fixture
def consents(dr_ada):
    return {
        stage: _consent(dr_ada, name, stage)
        for stage, name in [
            ("consent_prepared", "Pia Prepared"),
            ("patient_signed", "Cora Signed"),
            ("consent_signed", "Sol Complete"),
            ("withdrawn", "Will Withdrawn"),
        ]
    }


def test_each_consent_is_in_the_one_list_it_waits_in(dr_ada, consents):
    lists = {
        "awaiting_patient": worklist.awaiting_patient(dr_ada, 5),
        "awaiting_countersign": worklist.awaiting_countersign(dr_ada, 5),
        "withdrawn_recently": worklist.withdrawn_recently(dr_ada, 5),
    }
    assert {key: [row.who for row in found.rows] for key, found in lists.items()} == {
        "awaiting_patient": ["PREPARED, Pia"],
        "awaiting_countersign": ["SIGNED, Cora"],
        "withdrawn_recently": ["WITHDRAWN, Will"],
    }
    assert lists["awaiting_patient"].rows[0].href == f"/consents/{consents['consent_prepared'].pk}/"
    assert lists["awaiting_countersign"].rows[0].href == f"/consents/{consents['patient_signed'].pk}/"
    assert lists["awaiting_countersign"].rows[0].what.startswith("To countersign: ")
    assert lists["awaiting_countersign"].rows[0].when == "patient signed today"
    assert lists["withdrawn_recently"].rows[0].when == "withdrawn today"
    assert worklist.awaiting_patient_count(dr_ada) == 1
    assert worklist.awaiting_countersign_count(dr_ada) == 1
    assert worklist.withdrawn_recently_count(dr_ada) == 1


def test_a_withdrawal_older_than_two_weeks_leaves_the_list(dr_ada, nurse_bo, consents):
    withdrawn = consents["withdrawn"]
    Consent.objects.filter(pk=withdrawn.pk).update(
        withdrawn_at=timezone.now() - timedelta(days=worklist.WITHDRAWN_DAYS, minutes=1)
    )
    assert worklist.withdrawn_recently(nurse_bo, 5).count == 0
    assert worklist.withdrawn_recently_count(nurse_bo) == 0


def test_a_nurse_reads_the_withdrawals_and_not_the_signatures(nurse_bo, consents):
    assert [row.who for row in worklist.withdrawn_recently(nurse_bo, 5).rows] == ["WITHDRAWN, Will"]
    assert worklist.awaiting_patient(nurse_bo, 5).count == 0
    assert worklist.awaiting_countersign(nurse_bo, 5).count == 0


def test_the_limit_bounds_each_list_on_its_own(dr_ada, consents):
    for name in ("Ann One", "Ann Two"):
        _consent(dr_ada, name, "consent_prepared")
    found = worklist.awaiting_patient(dr_ada, 2)
    assert (found.count, [row.who for row in found.rows]) == (3, ["PREPARED, Pia", "ONE, Ann"])
    assert [row.who for row in worklist.awaiting_countersign(dr_ada, 2).rows] == ["SIGNED, Cora"]


def test_another_clinics_consents_are_not_shown(dr_cy, consents):
    for items in (worklist.awaiting_patient, worklist.awaiting_countersign, worklist.withdrawn_recently):
        assert items(dr_cy, 5).count == 0


@pytest.mark.parametrize(
    ("user", "prepares", "withdrawals"),
    [
        ("dr_ada", True, True),
        ("nurse_bo", False, True),
        ("admin_al", False, True),
        ("lab_li", False, False),
        ("qa_quinn", False, False),
        ("pat", False, False),
    ],
)
def test_who_sees_which_consents(request, user, prepares, withdrawals):
    person = request.getfixturevalue(user)
    assert (worklist.prepares_consent(person), worklist.handles_withdrawals(person)) == (
        prepares,
        withdrawals,
    )

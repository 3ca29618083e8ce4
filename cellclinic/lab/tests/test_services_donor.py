"""Donor lots and reagent lots: recorded at the lab; donor eligibility documented only on a full negative
screening."""

from datetime import timedelta

import pytest
from django.utils import timezone

from cellclinic.audit.models import AuditEvent
from cellclinic.core.errors import Forbidden, InvalidInput, NotFound
from cellclinic.lab.donor import DONOR_TESTS
from cellclinic.lab.models import DonorLot
from cellclinic.lab.services import (
    ELIGIBILITY_DOCUMENTED,
    IN_THE_PAST,
    LOT_EXISTS,
    LOT_NOT_DONOR,
    NOT_IN_CATALOGUE,
    REQUIRED,
    donor_lot_create,
    donor_lot_document_eligibility,
    donor_lot_screening_record,
    reagent_lot_create,
)
from cellclinic.lab.tests.builders import NEGATIVE_SCREENING, field_errors, lab_counts
from cellclinic.treatment.tests.helpers import CULTURED, DONOR

pytestmark = pytest.mark.django_db


def refused(call, **arguments) -> dict[str, str]:
    before = lab_counts()
    with pytest.raises(InvalidInput) as caught:
        call(**arguments)
    assert lab_counts() == before
    return field_errors(caught.value)


def create(actor, lab, **overrides):
    arguments = {
        "lot_number": "DL-001",
        "therapy_code": DONOR,
        "screening": {"hiv_serology": "Negative"},
        "expires_on": timezone.localdate() + timedelta(days=180),
        "quantity": 12,
        **overrides,
    }
    return donor_lot_create(actor=actor, lab=lab, **arguments)


def test_a_technician_records_a_lot_with_its_screening_so_far(lab, lab_li):
    lot = create(lab_li, lab, screening={"hiv_serology": " Negative "})
    assert (lot.site, lot.lot_number, lot.therapy_code, lot.quantity, lot.created_by) == (
        lab,
        "DL-001",
        DONOR,
        12,
        lab_li,
    )
    assert lot.screening == {"hiv_serology": "Negative"} and not lot.eligible
    event = AuditEvent.objects.latest("id")
    assert (event.action, event.object_type, event.after["lot_number"]) == (
        "donor_lot.create",
        "donor_lot",
        "DL-001",
    )


def test_only_the_labs_technicians_record_lots(lab, qa_quinn, dr_ada):
    with pytest.raises(Forbidden):
        create(qa_quinn, lab)
    with pytest.raises(NotFound):
        create(dr_ada, lab)
    assert not DonorLot.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"lot_number": ""}, {"lot_number": REQUIRED}),
        ({"therapy_code": "no_such_therapy"}, {"therapy_code": NOT_IN_CATALOGUE}),
        ({"therapy_code": CULTURED}, {"therapy_code": LOT_NOT_DONOR}),
        ({"screening": {"cmv": "Negative"}}, {"screening": "cmv: is not a donor screening test"}),
        ({"screening": "all negative"}, {"screening": "expected results by test, got str"}),
        ({"expires_on": timezone.localdate() - timedelta(days=1)}, {"expires_on": IN_THE_PAST}),
        ({"quantity": 0}, {"quantity": "must be from 1 to 100000"}),
    ],
)
def test_bad_lots_are_named(lab, lab_li, overrides, expected):
    errors = refused(create, actor=lab_li, lab=lab, **overrides)
    assert set(errors) == set(expected)
    for field, words in expected.items():
        assert words in errors[field]


def test_a_lot_number_is_used_once_at_a_lab(lab, lab_li):
    create(lab_li, lab)
    assert refused(create, actor=lab_li, lab=lab) == {"lot_number": LOT_EXISTS}


def test_results_are_added_until_eligibility_is_documented(lab, lab_li, qa_quinn):
    lot = create(lab_li, lab)
    lot = donor_lot_screening_record(actor=lab_li, lot=lot, results={"hbv_serology": "Non-reactive"})
    assert lot.screening == {"hiv_serology": "Negative", "hbv_serology": "Non-reactive"}
    lot = donor_lot_screening_record(actor=lab_li, lot=lot, results=NEGATIVE_SCREENING)
    donor_lot_document_eligibility(actor=qa_quinn, lot=lot)
    assert refused(donor_lot_screening_record, actor=lab_li, lot=lot, results={"hiv_nat": "Negative"}) == {
        "lot": ELIGIBILITY_DOCUMENTED
    }


def test_qa_documents_eligibility_on_a_complete_negative_screening(lab, lab_li, qa_quinn):
    lot = create(lab_li, lab, screening=NEGATIVE_SCREENING)
    with pytest.raises(Forbidden):
        donor_lot_document_eligibility(actor=lab_li, lot=lot)
    lot = donor_lot_document_eligibility(actor=qa_quinn, lot=lot)
    assert lot.eligible and lot.eligibility_documented_by == qa_quinn
    assert AuditEvent.objects.latest("id").action == "donor_lot.eligibility"
    assert refused(donor_lot_document_eligibility, actor=qa_quinn, lot=lot) == {"lot": ELIGIBILITY_DOCUMENTED}


def test_every_missing_or_reactive_test_is_named(lab, lab_li, qa_quinn):
    screening = {**NEGATIVE_SCREENING, "hcv_serology": "Reactive"}
    del screening["htlv_serology"]
    lot = create(lab_li, lab, screening=screening)
    errors = refused(donor_lot_document_eligibility, actor=qa_quinn, lot=lot)
    assert errors == {
        "screening": f"{DONOR_TESTS['hcv_serology']}: the result 'Reactive' is not negative "
        f"(expected Negative or Non-reactive); {DONOR_TESTS['htlv_serology']}: no result recorded"
    }
    lot.refresh_from_db()
    assert not lot.eligible


def test_an_expired_lot_is_not_made_eligible(lab, lab_li, qa_quinn):
    lot = create(lab_li, lab, screening=NEGATIVE_SCREENING)
    DonorLot.objects.filter(pk=lot.pk).update(expires_on=timezone.localdate() - timedelta(days=1))
    lot.refresh_from_db()
    errors = refused(donor_lot_document_eligibility, actor=qa_quinn, lot=lot)
    assert set(errors) == {"lot"}


def test_reagent_lots_are_recorded_once_per_lab(lab, lab_li, dr_ada):
    lot = reagent_lot_create(actor=lab_li, lab=lab, name="DMEM", lot_number="M-1")
    assert (lot.site, str(lot)) == (lab, "DMEM lot M-1")
    assert refused(reagent_lot_create, actor=lab_li, lab=lab, name="DMEM", lot_number="M-1") == {
        "lot_number": LOT_EXISTS
    }
    assert refused(reagent_lot_create, actor=lab_li, lab=lab, name="", lot_number="") == {
        "name": REQUIRED,
        "lot_number": REQUIRED,
    }
    with pytest.raises(NotFound):
        reagent_lot_create(actor=dr_ada, lab=lab, name="FBS", lot_number="F-1")

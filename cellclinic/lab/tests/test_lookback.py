"""Look-back both ways: from a batch, donor lot or reagent lot to every product and who received it, and
from a patient to every specimen, batch and product of theirs; lab staff never learn who a patient is."""

from datetime import date

import pytest
from django.http import Http404

from cellclinic.accounts.models import User
from cellclinic.lab import states
from cellclinic.lab.administration import bedside_check, product_administer
from cellclinic.lab.lookback import (
    lookback,
    patient_lab_records,
    products_from_batch,
    products_from_donor_lot,
    products_from_reagent_lot,
    trace,
)
from cellclinic.lab.models import ReagentLot
from cellclinic.lab.tests import rows
from cellclinic.patients.services import patient_create
from cellclinic.treatment.tests.helpers import DONOR

pytestmark = pytest.mark.django_db


def fresh(user: User) -> User:
    """USER read again, so that the roles read per request are read inside the measured block."""
    return User.objects.get(pk=user.pk)


@pytest.fixture
def own_batch(patient_a, dr_ada, lab_li):
    """Patient A's batch with three doses: the first given to her, the others still at the clinic."""
    first = rows.own_product(patient_a, dr_ada, lab_li)
    for _ in range(2):
        rows.product(first.batch)
    given, _ = bedside_check(actor=dr_ada, mrn=patient_a.mrn, din=first.din)
    product_administer(actor=dr_ada, check=given)
    first.refresh_from_db()
    return first.batch


@pytest.fixture
def donor_given(patient_a, patient_b, dr_ada, dr_cy, lab, lab_li, clinic_a, clinic_b):
    """One donor lot's batch with a dose given at each clinic, to patient A and to patient B."""
    first = rows.donor_product(lab, lab_li, site=clinic_a)
    second = rows.product(first.batch, site=clinic_b)
    rows.product(first.batch)  # a third dose, still at the lab
    checks = {}
    for product, patient, practitioner in ((first, patient_a, dr_ada), (second, patient_b, dr_cy)):
        rows.chain_for(patient, practitioner, therapy=DONOR)
        checks[patient.pk], _ = bedside_check(actor=practitioner, mrn=patient.mrn, din=product.din)
        product_administer(actor=practitioner, check=checks[patient.pk])
    return first.donor_lot, checks


def by_din(traced):
    return {item.product.din: item for item in traced}


def test_from_a_batch_lab_staff_get_the_recipient_by_chain_of_identity_only(own_batch, lab_li, patient_a):
    traced = lookback(lab_li, batch_id=own_batch.pk)
    assert [item.product.dose_number for item in traced] == [1, 2, 3]
    given = [item for item in traced if item.recipient is not None]
    assert len(given) == 1
    recipient = given[0].recipient
    assert recipient.coi == own_batch.coi and recipient.site == patient_a.site.code
    assert recipient.patient is None and recipient.check_id is not None
    assert given[0].product.status == states.PRODUCT_ADMINISTERED


@pytest.mark.parametrize("persona", ["dr_ada", "nurse_bo"])
def test_from_a_batch_clinic_staff_also_get_the_patient(request, persona, own_batch, patient_a):
    traced = lookback(request.getfixturevalue(persona), batch_id=own_batch.pk)
    recipients = [item.recipient for item in traced if item.recipient]
    assert [recipient.patient for recipient in recipients] == [patient_a]


@pytest.mark.parametrize("persona", ["dr_cy", "pat"])
def test_a_batch_out_of_reach_is_not_found(request, persona, own_batch):
    with pytest.raises(Http404):
        products_from_batch(request.getfixturevalue(persona), own_batch.pk)


def test_from_a_donor_lot_every_recipient_at_every_clinic(
    donor_given, lab_li, qa_quinn, patient_a, patient_b
):
    lot, checks = donor_given
    for reader in (lab_li, qa_quinn):
        traced = lookback(reader, donor_lot_id=lot.pk)
        assert len(traced) == 3
        recipients = {item.recipient.check_id: item.recipient for item in traced if item.recipient}
        assert set(recipients) == {checks[patient_a.pk].pk, checks[patient_b.pk].pk}
        for patient in (patient_a, patient_b):
            recipient = recipients[checks[patient.pk].pk]
            assert recipient.site == patient.site.code and recipient.patient is None
            assert recipient.coi and recipient.coi.startswith("COI-")


@pytest.mark.parametrize("persona", ["dr_ada", "admin_al", "pat"])
def test_only_the_labs_staff_look_back_from_a_donor_lot(request, persona, donor_given):
    lot, _ = donor_given
    with pytest.raises(Http404):
        products_from_donor_lot(request.getfixturevalue(persona), lot.pk)


def test_from_a_reagent_lot_every_product_of_every_batch_that_used_it(own_batch, lab, lab_li, dr_ada):
    lot = ReagentLot.objects.create(site=lab, name="Trypsin-EDTA 0.05%", lot_number="T-2291")
    unused = ReagentLot.objects.create(site=lab, name="DMEM", lot_number="D-1")
    own_batch.reagent_lots.add(lot)
    traced = lookback(lab_li, reagent_lot_id=lot.pk)
    assert {item.product.batch_id for item in traced} == {own_batch.pk} and len(traced) == 3
    assert lookback(lab_li, reagent_lot_id=unused.pk) == []
    for reader, lot_id in ((dr_ada, lot.pk), (lab_li, 10**9)):
        with pytest.raises(Http404):
            products_from_reagent_lot(reader, lot_id)


def test_lookback_takes_exactly_one_source(lab_li):
    with pytest.raises(ValueError, match="exactly one"):
        lookback(lab_li)
    with pytest.raises(ValueError, match="exactly one"):
        lookback(lab_li, batch_id=1, donor_lot_id=1)


def _batch_of(count: int, patient, practitioner, technician):
    """A batch of COUNT doses of PATIENT's own cells, every other one given to them."""
    first = rows.own_product(patient, practitioner, technician)
    products = [first] + [rows.product(first.batch) for _ in range(count - 1)]
    for product in products[::2]:
        rows.administered(product, patient, practitioner)
    return first.batch


# Lab staff: their roles (1); the served clinics, read once for batches and products alike (1); the
# batch (1); the products with their recipients, read in the same query (1).
LAB_LOOKBACK_QUERIES = 4
# Clinic staff: their roles (1); the batch (1); the products (1); the recipients they may see (1).
CLINIC_LOOKBACK_QUERIES = 4


@pytest.mark.parametrize("count", [2, 20])
def test_a_lookback_costs_the_same_queries_for_2_or_20_products(
    count, patient_a, dr_ada, lab_li, django_assert_num_queries
):
    batch = _batch_of(count, patient_a, dr_ada, lab_li)
    for reader, queries in ((lab_li, LAB_LOOKBACK_QUERIES), (dr_ada, CLINIC_LOOKBACK_QUERIES)):
        reader = fresh(reader)
        with django_assert_num_queries(queries):
            traced = lookback(reader, batch_id=batch.pk)
        assert len(traced) == count
        assert sum(1 for item in traced if item.recipient) == (count + 1) // 2


@pytest.mark.parametrize("count", [2, 20])
def test_a_donor_lot_lookback_costs_the_same_queries_for_2_or_20_products(
    count, patient_a, dr_ada, lab, lab_li, clinic_a, django_assert_num_queries
):
    first = rows.donor_product(lab, lab_li, site=clinic_a)
    products = [first] + [rows.product(first.batch, site=clinic_a) for _ in range(count - 1)]
    for product in products:
        rows.administered(product, patient_a, dr_ada)
    reader = fresh(lab_li)
    # Roles (1); the served clinics for the lot (1); the lot (1); its batches' ids (1); the served clinics
    # for the products (1); the products (1).
    with django_assert_num_queries(6):
        traced = lookback(reader, donor_lot_id=first.donor_lot_id)
    assert [item.recipient.site for item in traced] == [clinic_a.code] * count


# --- from a patient ----------------------------------------------------------------------------------------


def test_from_a_patient_every_specimen_batch_and_product_of_theirs(
    own_batch, donor_given, patient_a, patient_b, dr_ada, dr_cy, lab_li
):
    lot, _ = donor_given
    theirs = rows.own_product(patient_b, dr_cy, lab_li)
    records = patient_lab_records(dr_ada, patient_a.pk)
    assert records.patient == patient_a
    assert [specimen.pk for specimen in records.specimens] == [own_batch.specimen_id]
    donor_dose = lot.products.get(site=patient_a.site)
    assert {product.pk for product in records.products} == {
        *own_batch.products.values_list("pk", flat=True),
        donor_dose.pk,
    }
    assert {batch.pk for batch in records.batches} == {own_batch.pk, donor_dose.batch_id}
    assert theirs.pk not in {product.pk for product in records.products}


def test_a_donor_dose_checked_for_a_patient_but_given_to_another_is_not_theirs(
    patient_a, dr_ada, lab, lab_li, clinic_a
):
    other = patient_create(
        site=clinic_a,
        actor=dr_ada,
        data={"given_name": "Mary", "family_name": "Somerville", "date_of_birth": date(1970, 2, 1)},
    )
    for patient in (patient_a, other):
        rows.chain_for(patient, dr_ada, therapy=DONOR)
    donor = rows.donor_product(lab, lab_li, site=clinic_a)
    bedside_check(actor=dr_ada, mrn=patient_a.mrn, din=donor.din)
    given, _ = bedside_check(actor=dr_ada, mrn=other.mrn, din=donor.din)
    product_administer(actor=dr_ada, check=given)
    assert patient_lab_records(dr_ada, patient_a.pk).products == []
    assert [p.pk for p in patient_lab_records(dr_ada, other.pk).products] == [donor.pk]


@pytest.mark.parametrize("persona", ["lab_li", "qa_quinn", "dr_cy", "pat"])
def test_a_patients_lab_records_are_for_their_clinic_staff_only(request, persona, own_batch, patient_a):
    with pytest.raises(Http404):
        patient_lab_records(request.getfixturevalue(persona), patient_a.pk)


@pytest.mark.parametrize("count", [2, 20])
def test_a_patients_lab_records_cost_the_same_queries_for_2_or_20_products(
    count, patient_a, dr_ada, lab_li, django_assert_num_queries
):
    _batch_of(count, patient_a, dr_ada, lab_li)
    reader = fresh(dr_ada)
    # Roles (1); the patient (1); the ids of their chains of identity (1) and of the products given to
    # them after a passed bedside check (1); the products (1); the specimens (1); the batches (1).
    with django_assert_num_queries(7):
        records = patient_lab_records(reader, patient_a.pk)
    assert len(records.products) == count and len(records.batches) == 1


def test_trace_tells_lab_staff_no_patient_even_from_a_clinic_query(own_batch, lab_li, dr_ada):
    traced = trace(lab_li, products_from_batch(dr_ada, own_batch.pk))
    assert all(item.recipient is None or item.recipient.patient is None for item in traced)

"""The bedside check and the administration as services: every hard stop recorded and audited, bad
input refused with nothing recorded, and one product given once only, even by two people at once."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import OperationalError, connection, connections
from django.utils import timezone

from cellclinic.audit.models import AuditEvent
from cellclinic.consents.models import Consent
from cellclinic.core.errors import InvalidInput, NotFound
from cellclinic.lab import states
from cellclinic.lab.administration import (
    ACTION_ADMINISTERED,
    ACTION_HARD_STOP,
    ACTION_PASSED,
    CHECK_VALID_FOR,
    DIN_CHECK_INVALID,
    MRN_INVALID,
    REFUSED_NOT_PASSED,
    REFUSED_NOT_RECEIVED,
    REFUSED_NOT_YOURS,
    REFUSED_SUPERSEDED,
    REFUSED_TOO_OLD,
    AdministrationRefused,
    bedside_check,
    product_administer,
    with_administration,
)
from cellclinic.lab.isbt import Din
from cellclinic.lab.models import BedsideCheck, CustodyEvent, Product
from cellclinic.lab.tests import rows
from cellclinic.patients.identifiers import mrn_format
from cellclinic.patients.services import patient_create
from cellclinic.treatment.tests.helpers import DONOR

pytestmark = pytest.mark.django_db

UNUSED_DIN = Din(rows.FACILITY, 26, 999_999).din


def recorded() -> tuple[int, int, int, int]:
    """Bedside checks, custody events, audit events and administered products: what a refusal leaves alone."""
    return (
        BedsideCheck.objects.count(),
        CustodyEvent.objects.count(),
        AuditEvent.objects.count(),
        Product.objects.filter(status=states.PRODUCT_ADMINISTERED).count(),
    )


@pytest.fixture
def own(patient_a, dr_ada, lab_li):
    """Patient A's own cells, released and received back at the clinic."""
    return rows.own_product(patient_a, dr_ada, lab_li)


def check(actor, patient, product, **options):
    return bedside_check(actor=actor, mrn=patient.mrn, din=product.din, **options)


# --- the check ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["dr_ada", "nurse_bo"])
def test_the_patients_own_received_product_passes_and_is_recorded(request, persona, patient_a, own):
    actor = request.getfixturevalue(persona)
    made, result = check(actor, patient_a, own)
    assert result.passed and result.reasons == ()
    made.refresh_from_db()
    assert (made.passed, made.reasons, made.product_id, made.patient_id) == (True, [], own.pk, patient_a.pk)
    assert (made.din_scanned, made.site_id, made.checked_by_id) == (own.din, patient_a.site_id, actor.pk)
    event = AuditEvent.objects.get(action=ACTION_PASSED)
    assert (event.object_type, event.object_id, event.patient_id) == (
        "bedside_check",
        str(made.pk),
        patient_a.pk,
    )
    assert event.after["din"] == own.din and event.after["reasons"] == []


def test_an_eligible_donor_product_passes_under_a_signed_consent_to_its_therapy(
    patient_a, dr_ada, lab, lab_li, clinic_a
):
    rows.chain_for(patient_a, dr_ada, therapy=DONOR)  # her consent to the donor therapy, signed
    donor = rows.donor_product(lab, lab_li, site=clinic_a)
    assert check(dr_ada, patient_a, donor)[1].passed


def _stop(actor, patient, product, code):
    before = AuditEvent.objects.count()
    made, result = check(actor, patient, product)
    assert not result.passed
    assert code in result.codes
    made.refresh_from_db()
    assert made.passed is False and code in [reason["code"] for reason in made.reasons]
    event = AuditEvent.objects.get(action=ACTION_HARD_STOP, object_id=str(made.pk))
    assert code in event.after["reasons"] and event.patient_id == patient.pk
    assert AuditEvent.objects.count() == before + 1
    return result


def test_hard_stop_wrong_patient_names_no_one(patient_a, dr_ada, lab_li, clinic_a):
    other = patient_create(
        site=clinic_a,
        actor=dr_ada,
        data={
            "given_name": "Ada",
            "family_name": "Lovelace",
            "date_of_birth": timezone.localdate().replace(year=1990),
        },
    )
    theirs = rows.own_product(other, dr_ada, lab_li)
    result = _stop(dr_ada, patient_a, theirs, "wrong_patient")
    text = " ".join(reason.text for reason in result.reasons)
    for secret in (other.given_name, other.family_name, other.mrn, theirs.coi):
        assert secret not in text


def test_hard_stop_wrong_patient_for_another_clinics_product(patient_a, patient_b, dr_ada, dr_cy, lab_li):
    theirs = rows.own_product(patient_b, dr_cy, lab_li)
    result = _stop(dr_ada, patient_a, theirs, "wrong_patient")
    text = " ".join(reason.text for reason in result.reasons)
    assert patient_b.family_name not in text and patient_b.mrn not in text


@pytest.mark.parametrize(
    ("options", "code"),
    [
        ({"expires_in": timedelta(minutes=-1)}, "expired"),
        ({"status": states.PRODUCT_EXPIRED}, "expired"),
        ({"status": states.PRODUCT_AWAITING_RELEASE}, "not_released"),
        ({"status": states.PRODUCT_QUARANTINED}, "not_released"),
        ({"status": states.PRODUCT_REJECTED}, "not_released"),
        ({"status": states.PRODUCT_RECALLED}, "recalled"),
        ({"status": states.PRODUCT_ADMINISTERED}, "already_administered"),
    ],
)
def test_hard_stops_of_the_product_itself(patient_a, dr_ada, lab_li, options, code):
    product = rows.own_product(patient_a, dr_ada, lab_li, **options)
    assert _stop(dr_ada, patient_a, product, code).codes == (code,)


def test_hard_stop_a_product_given_once_is_not_given_again(patient_a, dr_ada, nurse_bo, own):
    first, _ = check(dr_ada, patient_a, own)
    product_administer(actor=dr_ada, check=first)
    assert _stop(nurse_bo, patient_a, own, "already_administered").codes == ("already_administered",)


@pytest.mark.parametrize(
    ("status", "codes"),
    [
        (Consent.Status.AWAITING_PRACTITIONER, ("no_consent",)),
        (Consent.Status.AWAITING_PATIENT, ("no_consent",)),
        (Consent.Status.WITHDRAWN, ("consent_withdrawn",)),
    ],
)
def test_hard_stops_of_the_consent(patient_a, dr_ada, own, status, codes):
    signed = status == Consent.Status.WITHDRAWN
    Consent.objects.filter(pk=own.chain.consent_id).update(
        status=status,
        practitioner_signed_at=own.chain.consent.practitioner_signed_at if signed else None,
        patient_signed_at=own.chain.consent.patient_signed_at
        if status != Consent.Status.AWAITING_PATIENT
        else None,
    )
    assert _stop(dr_ada, patient_a, own, codes[0]).codes == codes


def test_hard_stop_a_donor_product_without_consent_to_its_therapy(patient_a, dr_ada, lab, lab_li, clinic_a):
    donor = rows.donor_product(lab, lab_li, site=clinic_a)
    assert _stop(dr_ada, patient_a, donor, "no_consent").codes == ("no_consent",)


def test_hard_stop_a_donor_product_after_the_latest_consent_was_withdrawn(
    patient_a, dr_ada, lab, lab_li, clinic_a
):
    consent = rows.chain_for(patient_a, dr_ada, therapy=DONOR).consent
    Consent.objects.filter(pk=consent.pk).update(status=Consent.Status.WITHDRAWN)
    donor = rows.donor_product(lab, lab_li, site=clinic_a)
    assert _stop(dr_ada, patient_a, donor, "consent_withdrawn").codes == ("consent_withdrawn",)


def test_hard_stop_a_donor_lot_without_documented_eligibility(patient_a, dr_ada, lab, lab_li, clinic_a):
    rows.chain_for(patient_a, dr_ada, therapy=DONOR)
    donor = rows.donor_product(lab, lab_li, eligible=False, site=clinic_a)
    assert _stop(dr_ada, patient_a, donor, "donor_not_eligible").codes == ("donor_not_eligible",)


def test_hard_stop_unknown_product_is_recorded_without_a_product(patient_a, dr_ada):
    made, result = bedside_check(actor=dr_ada, mrn=patient_a.mrn, din=UNUSED_DIN)
    assert result.codes == ("unknown_product",)
    made.refresh_from_db()
    assert made.product_id is None and made.din_scanned == UNUSED_DIN and not made.passed
    assert AuditEvent.objects.filter(action=ACTION_HARD_STOP, object_id=str(made.pk)).exists()


def test_several_reasons_are_all_listed(patient_a, dr_ada, lab_li):
    product = rows.own_product(
        patient_a, dr_ada, lab_li, status=states.PRODUCT_RECALLED, expires_in=timedelta(hours=-2)
    )
    assert check(dr_ada, patient_a, product)[1].codes == ("expired", "recalled")


@pytest.mark.parametrize(
    "typed",
    [
        lambda din: din.din.lower(),
        lambda din: f"  {din.din}{din.check} ",
        lambda din: din.barcode,
        lambda din: din.eye_readable,
    ],
)
def test_a_din_is_read_as_typed_or_scanned(patient_a, dr_ada, own, typed):
    din = Din(own.din[:5], int(own.din[5:7]), int(own.din[7:]), own.din_flags)
    made, result = bedside_check(actor=dr_ada, mrn=patient_a.mrn.lower(), din=typed(din))
    assert result.passed and made.product_id == own.pk and made.din_scanned == own.din


def test_a_matching_check_character_is_accepted(patient_a, dr_ada, own):
    assert check(dr_ada, patient_a, own, din_check=own.din_check.lower())[1].passed


# --- refused input: nothing recorded ---------------------------------------------------------------------


def _refused(field, **given):
    before = recorded()
    with pytest.raises(InvalidInput) as refused:
        bedside_check(**given)
    assert field in [error.field for error in refused.value.errors]
    assert recorded() == before
    return {error.field: error.message for error in refused.value.errors}


def test_a_check_character_that_does_not_match_is_refused_and_nothing_recorded(patient_a, dr_ada, own):
    wrong = "A" if own.din_check != "A" else "B"
    message = _refused("din_check", actor=dr_ada, mrn=patient_a.mrn, din=own.din, din_check=wrong)[
        "din_check"
    ]
    assert own.din in message and "mistyped" in message


@pytest.mark.parametrize("din_check", ["", "AB", "  "])
def test_a_check_character_must_be_one_character(patient_a, dr_ada, own, din_check):
    errors = _refused("din_check", actor=dr_ada, mrn=patient_a.mrn, din=own.din, din_check=din_check)
    assert errors["din_check"] == DIN_CHECK_INVALID


@pytest.mark.parametrize(
    "din", ["", "A9999", "A99992612345", "O99992612345600", "A9999AB123456", "=A999926123456"]
)
def test_a_din_that_cannot_be_read_is_refused(patient_a, dr_ada, din):
    _refused("din", actor=dr_ada, mrn=patient_a.mrn, din=din)


def test_a_typed_din_with_a_wrong_check_character_is_refused(patient_a, dr_ada, own):
    wrong = "A" if own.din_check != "A" else "B"
    errors = _refused("din", actor=dr_ada, mrn=patient_a.mrn, din=own.din + wrong)
    assert "check character" in errors["din"]


@pytest.mark.parametrize("mrn", ["", "NCL-000001", "NCL-000001-?", "not an mrn"])
def test_an_mrn_that_cannot_be_read_is_refused_with_the_din_too(dr_ada, mrn):
    errors = _refused("mrn", actor=dr_ada, mrn=mrn, din="short")
    assert errors["mrn"] == MRN_INVALID and "din" in errors


@pytest.mark.parametrize("persona", ["lab_li", "qa_quinn", "admin_al", "dr_cy", "pat"])
def test_anyone_but_the_patients_clinical_staff_gets_not_found(request, persona, patient_a, own):
    actor = request.getfixturevalue(persona)
    before = recorded()
    with pytest.raises(NotFound):
        check(actor, patient_a, own)
    assert recorded() == before


def test_an_mrn_not_found_is_not_found(dr_ada, patient_b, own):
    with pytest.raises(NotFound):
        bedside_check(actor=dr_ada, mrn=patient_b.mrn, din=own.din)
    with pytest.raises(NotFound):
        bedside_check(actor=dr_ada, mrn=mrn_format("NCL", 999_999), din=own.din)
    assert BedsideCheck.objects.count() == 0


# --- administration ---------------------------------------------------------------------------------------


def test_a_passed_check_records_the_administration(patient_a, nurse_bo, clinic_a, own):
    made, _ = check(nurse_bo, patient_a, own)
    given = product_administer(actor=nurse_bo, check=made)
    own.refresh_from_db()
    assert own.status == states.PRODUCT_ADMINISTERED and own.administered_at is not None
    assert given.pk == own.pk
    event = CustodyEvent.objects.get(product=own, kind=CustodyEvent.Kind.ADMINISTERED)
    assert (event.by_id, event.at_site_id, event.at) == (nurse_bo.pk, clinic_a.pk, own.administered_at)
    audit = AuditEvent.objects.get(action=ACTION_ADMINISTERED)
    assert (audit.object_type, audit.object_id, audit.patient_id) == ("product", str(own.pk), patient_a.pk)
    assert audit.before["status"] == states.PRODUCT_RECEIVED
    assert audit.after["status"] == states.PRODUCT_ADMINISTERED and audit.after["bedside_check"] == made.pk
    row = with_administration(Product.objects.filter(pk=own.pk)).get()
    assert (row.administered_by_id, row.administered_check_id, row.recipient_id) == (
        nurse_bo.pk,
        made.pk,
        patient_a.pk,
    )


def _administer_refused(actor, made, code, **options):
    before = recorded()
    with pytest.raises(AdministrationRefused) as refused:
        product_administer(actor=actor, check=made, **options)
    assert code in refused.value.codes
    assert refused.value.errors[0].field == "check"
    assert refused.value.errors[0].message.startswith(f"{code}: ")
    assert recorded() == before
    return refused.value


def test_no_administration_on_a_stopped_check(patient_a, dr_ada, lab_li):
    recalled = rows.own_product(patient_a, dr_ada, lab_li, status=states.PRODUCT_RECALLED)
    made, _ = check(dr_ada, patient_a, recalled)
    _administer_refused(dr_ada, made, REFUSED_NOT_PASSED)


def test_no_administration_on_someone_elses_check(patient_a, dr_ada, nurse_bo, own):
    made, _ = check(dr_ada, patient_a, own)
    _administer_refused(nurse_bo, made, REFUSED_NOT_YOURS)


def test_no_administration_on_an_old_check(patient_a, dr_ada, own):
    made, _ = check(dr_ada, patient_a, own)
    _administer_refused(dr_ada, made, REFUSED_TOO_OLD, now=made.checked_at + CHECK_VALID_FOR)
    assert product_administer(
        actor=dr_ada, check=made, now=made.checked_at + CHECK_VALID_FOR - timedelta(seconds=1)
    )


def test_no_administration_on_a_check_superseded_by_a_later_one(patient_a, dr_ada, own):
    first, _ = check(dr_ada, patient_a, own)
    later, _ = check(dr_ada, patient_a, own)
    _administer_refused(dr_ada, first, REFUSED_SUPERSEDED)
    assert product_administer(actor=dr_ada, check=later).status == states.PRODUCT_ADMINISTERED


def test_the_product_is_checked_again_when_given(patient_a, dr_ada, own):
    made, _ = check(dr_ada, patient_a, own)
    Product.objects.filter(pk=own.pk).update(status=states.PRODUCT_RECALLED)
    _administer_refused(dr_ada, made, "recalled")
    Product.objects.filter(pk=own.pk).update(
        status=states.PRODUCT_RECEIVED, expires_at=timezone.now() - timedelta(seconds=1)
    )
    _administer_refused(dr_ada, made, "expired")


def test_a_product_given_once_is_refused_the_second_time(patient_a, dr_ada, own):
    made, _ = check(dr_ada, patient_a, own)
    product_administer(actor=dr_ada, check=made)
    _administer_refused(dr_ada, made, "already_administered")


def test_a_product_not_yet_received_at_the_clinic_is_not_given(patient_a, dr_ada, lab_li):
    shipped = rows.own_product(patient_a, dr_ada, lab_li, status=states.PRODUCT_SHIPPED)
    made, result = check(dr_ada, patient_a, shipped)
    assert result.passed
    refused = _administer_refused(dr_ada, made, REFUSED_NOT_RECEIVED)
    assert "on its way to the clinic" in refused.detail


@pytest.mark.parametrize("persona", ["dr_cy", "lab_li", "admin_al"])
def test_no_administration_by_anyone_outside_the_clinic(request, persona, patient_a, dr_ada, own):
    made, _ = check(dr_ada, patient_a, own)
    actor = request.getfixturevalue(persona)
    before = recorded()
    with pytest.raises(NotFound):
        product_administer(actor=actor, check=made)
    assert recorded() == before


def test_the_recipient_of_a_donor_product_is_the_patient_of_the_check_it_was_given_on(
    patient_a, dr_ada, nurse_bo, lab, lab_li, clinic_a
):
    other = patient_create(
        site=clinic_a,
        actor=dr_ada,
        data={
            "given_name": "Mary",
            "family_name": "Somerville",
            "date_of_birth": timezone.localdate().replace(year=1970),
        },
    )
    for patient in (patient_a, other):
        rows.chain_for(patient, dr_ada, therapy=DONOR)
    donor = rows.donor_product(lab, lab_li, site=clinic_a)
    for_a, _ = check(nurse_bo, patient_a, donor)
    for_other, _ = check(nurse_bo, other, donor)
    _administer_refused(nurse_bo, for_a, REFUSED_SUPERSEDED)
    check(dr_ada, patient_a, donor)  # someone else's later check does not supersede the nurse's
    product_administer(actor=nurse_bo, check=for_other)
    row = with_administration(Product.objects.filter(pk=donor.pk)).get()
    assert (row.administered_check_id, row.recipient_id) == (for_other.pk, other.pk)


# --- two people at once ------------------------------------------------------------------------------------


def _as_the_server_would(work):
    """Run WORK on this thread's own connection, waiting its turn as the server's database would.

    A file database waits for the write lock (the settings' timeout); the shared in-memory SQLite the
    tests use answers "table is locked" at once instead, so here the waiting is a retry on a new connection.
    """
    for _ in range(2000):
        try:
            return work()
        except OperationalError as error:
            if connection.vendor != "sqlite" or "locked" not in str(error):
                raise
            connections.close_all()
            time.sleep(0.005)
    raise AssertionError("the database stayed locked")


@pytest.mark.django_db(transaction=True)
def test_two_people_giving_the_same_product_at_once_give_it_once(patient_a, dr_ada, nurse_bo, lab_li):
    own = rows.own_product(patient_a, dr_ada, lab_li)
    checks = {actor.pk: check(actor, patient_a, own)[0] for actor in (dr_ada, nurse_bo)}
    start = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def give(actor):
        try:
            start.wait()
            _as_the_server_would(lambda: product_administer(actor=actor, check=checks[actor.pk]))
            outcomes[actor.username] = "given"
        except AdministrationRefused as refused:
            outcomes[actor.username] = ",".join(refused.codes)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=give, args=(actor,)) for actor in (dr_ada, nurse_bo)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes.values()) == ["already_administered", "given"]
    own.refresh_from_db()
    assert own.status == states.PRODUCT_ADMINISTERED
    assert CustodyEvent.objects.filter(product=own, kind=CustodyEvent.Kind.ADMINISTERED).count() == 1
    assert AuditEvent.objects.filter(action=ACTION_ADMINISTERED).count() == 1

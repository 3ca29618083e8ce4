from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cellclinic.lab.bedside import (
    BedsideResult,
    ConsentFacts,
    DonorLot,
    ProductFacts,
    ProductStatus,
    Reason,
    ReasonCode,
    ScannedPatient,
    check_administration,
)

DIN = "A999917123456"
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=24)
PATIENT = ScannedPatient("p-1")
SIGNED = ConsentFacts(signed=True, withdrawn=False)


def autologous(**changes) -> ProductFacts:
    fields = {"din": DIN, "status": ProductStatus.RECEIVED, "expires_at": LATER, "owner_patient_id": "p-1"}
    return ProductFacts(**{**fields, **changes})


def allogeneic(eligible: bool = True, **changes) -> ProductFacts:
    fields = {
        "din": DIN,
        "status": ProductStatus.RECEIVED,
        "expires_at": LATER,
        "donor_lot": DonorLot("LOT-7", eligibility_documented=eligible),
    }
    return ProductFacts(**{**fields, **changes})


def codes(product, consent=SIGNED, patient=PATIENT, now=NOW) -> tuple[str, ...]:
    return check_administration(patient, product, consent, now).codes


# --- a valid administration ----------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["released", "shipped", "received"])
def test_a_released_unexpired_own_consented_product_passes(status):
    result = check_administration(PATIENT, autologous(status=status), SIGNED, NOW)
    assert result == BedsideResult(passed=True, reasons=())


def test_an_eligible_allogeneic_product_passes_for_any_patient():
    assert check_administration(ScannedPatient("p-2"), allogeneic(), SIGNED, NOW).passed


def test_status_text_is_read_as_a_product_status():
    assert autologous(status="shipped").status is ProductStatus.SHIPPED


# --- each hard stop ------------------------------------------------------------------------------------


def test_wrong_patient():
    result = check_administration(ScannedPatient("p-2"), autologous(), SIGNED, NOW)
    assert not result.passed
    assert result.codes == (ReasonCode.WRONG_PATIENT,)
    assert "another patient's cells" in result.reasons[0].text
    assert DIN in result.reasons[0].text


def test_unknown_product_is_the_only_reason_when_no_product_has_the_din():
    result = check_administration(PATIENT, None, None, NOW)
    assert result.codes == ("unknown_product",)
    assert "No product has the scanned DIN" in result.reasons[0].text


@pytest.mark.parametrize("status", ["awaiting_release", "quarantined", "rejected", "disposed"])
def test_not_released(status):
    result = check_administration(PATIENT, autologous(status=status), SIGNED, NOW)
    assert result.codes == ("not_released",)
    assert status.replace("_", " ") in result.reasons[0].text


def test_expired_at_the_exact_expiry_time():
    assert codes(autologous(expires_at=NOW)) == ("expired",)
    assert codes(autologous(expires_at=NOW - timedelta(days=1))) == ("expired",)
    assert codes(autologous(expires_at=NOW + timedelta(microseconds=1))) == ()


def test_expired_by_status_even_before_the_recorded_expiry():
    assert codes(autologous(status="expired")) == ("expired",)


def test_expiry_compares_instants_across_time_zones():
    tokyo = timezone(timedelta(hours=9))
    assert codes(autologous(expires_at=NOW.astimezone(tokyo))) == ("expired",)
    assert codes(autologous(), now=(LATER - timedelta(minutes=1)).astimezone(tokyo)) == ()


def test_recalled():
    result = check_administration(PATIENT, autologous(status="recalled"), SIGNED, NOW)
    assert result.codes == ("recalled",)
    assert "recalled" in result.reasons[0].text


def test_already_administered():
    assert codes(autologous(status="administered")) == ("already_administered",)


def test_no_consent_record():
    assert codes(autologous(), consent=None) == ("no_consent",)


def test_unsigned_consent():
    assert codes(autologous(), consent=ConsentFacts(signed=False, withdrawn=False)) == ("no_consent",)


def test_consent_withdrawn():
    assert codes(autologous(), consent=ConsentFacts(signed=True, withdrawn=True)) == ("consent_withdrawn",)


def test_consent_withdrawn_before_it_was_signed_gives_both_reasons():
    consent = ConsentFacts(signed=False, withdrawn=True)
    assert codes(autologous(), consent=consent) == ("no_consent", "consent_withdrawn")


def test_donor_not_eligible():
    result = check_administration(PATIENT, allogeneic(eligible=False), SIGNED, NOW)
    assert result.codes == ("donor_not_eligible",)
    assert "LOT-7" in result.reasons[0].text


def test_every_failing_condition_is_listed_in_order():
    product = autologous(status="recalled", expires_at=NOW - timedelta(hours=1))
    consent = ConsentFacts(signed=False, withdrawn=True)
    result = check_administration(ScannedPatient("p-9"), product, consent, NOW)
    assert result.codes == ("wrong_patient", "expired", "recalled", "no_consent", "consent_withdrawn")
    assert all(reason.text.endswith("Do not administer.") for reason in result.reasons)


def test_the_codes_are_exactly_the_published_ones():
    assert {code.value for code in ReasonCode} == {
        "wrong_patient",
        "unknown_product",
        "not_released",
        "expired",
        "recalled",
        "already_administered",
        "no_consent",
        "consent_withdrawn",
        "donor_not_eligible",
    }


# --- bad input -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"din": "A99991712345"}, "din: 'A99991712345' must be the 13 characters of a DIN"),
        ({"din": "O999917123456"}, "facility identification number"),
        ({"din": "a999917123456"}, "din: 'a999917123456' must be written in capital letters"),
        ({"din": 42}, "din: 42 must be"),
        ({"status": "lost"}, "status: 'lost' is not a product status"),
        ({"expires_at": datetime(2026, 12, 2)}, "expires at: .* has no time zone"),
        ({"expires_at": "2026-12-02"}, "expires at: expected a date and time, got str"),
        ({"owner_patient_id": None}, "exactly one of the two"),
        ({"donor_lot": DonorLot("LOT-1", True)}, "exactly one of the two"),
        ({"owner_patient_id": "  "}, "owner patient id: expected non-blank text"),
    ],
)
def test_bad_product_facts_are_refused_naming_the_field(changes, message):
    with pytest.raises(ValueError, match=message):
        autologous(**changes)


def test_a_donor_lot_must_be_a_donor_lot():
    with pytest.raises(ValueError, match="donor lot: expected a DonorLot, got str"):
        ProductFacts(din=DIN, status="released", expires_at=LATER, donor_lot="LOT-1")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: ScannedPatient(""), "patient id: expected non-blank text"),
        (lambda: ScannedPatient(7), "patient id: expected non-blank text, got 7"),
        (lambda: DonorLot("", True), "lot number"),
        (lambda: DonorLot("LOT-1", "yes"), "eligibility documented: expected True or False"),
        (lambda: ConsentFacts(signed=1, withdrawn=False), "consent signed: expected True or False"),
        (lambda: ConsentFacts(signed=True, withdrawn=None), "consent withdrawn: expected True or False"),
        (lambda: BedsideResult(passed=True, reasons=(Reason(ReasonCode.EXPIRED, "x"),)), "reasons"),
        (lambda: BedsideResult(passed=False, reasons=()), "reasons"),
    ],
)
def test_bad_facts_are_refused(build, message):
    with pytest.raises(ValueError, match=message):
        build()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("p-1", autologous(), SIGNED, NOW), "patient: expected a ScannedPatient, got str"),
        ((PATIENT, DIN, SIGNED, NOW), "product: expected ProductFacts or None, got str"),
        ((PATIENT, autologous(), True, NOW), "consent: expected ConsentFacts or None, got bool"),
        ((PATIENT, autologous(), SIGNED, datetime(2026, 12, 1, 9)), "now: .* has no time zone"),
        ((PATIENT, None, None, None), "now: expected a date and time, got NoneType"),
    ],
)
def test_bad_arguments_are_refused(args, message):
    with pytest.raises(ValueError, match=message):
        check_administration(*args)


# --- every scenario ------------------------------------------------------------------------------------

PATIENT_IDS = ("p-1", "p-2", "p-3")
RELEASED = {"released", "shipped", "received"}
ZONES = (UTC, timezone(timedelta(hours=-5)), timezone(timedelta(hours=5, minutes=30)))

products = st.one_of(
    st.none(),
    st.builds(
        ProductFacts,
        din=st.just(DIN),
        status=st.sampled_from(list(ProductStatus)),
        expires_at=st.builds(
            lambda minutes, zone: (NOW + timedelta(minutes=minutes)).astimezone(zone),
            st.integers(min_value=-3, max_value=3),
            st.sampled_from(ZONES),
        ),
        owner_patient_id=st.sampled_from(PATIENT_IDS),
    ),
    st.builds(
        ProductFacts,
        din=st.just(DIN),
        status=st.sampled_from(list(ProductStatus)),
        expires_at=st.builds(lambda minutes: NOW + timedelta(minutes=minutes), st.integers(-3, 3)),
        donor_lot=st.builds(DonorLot, lot_number=st.just("LOT-1"), eligibility_documented=st.booleans()),
    ),
)
consents = st.one_of(st.none(), st.builds(ConsentFacts, signed=st.booleans(), withdrawn=st.booleans()))


@settings(max_examples=10_000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    patient=st.sampled_from(PATIENT_IDS).map(ScannedPatient),
    product=products,
    consent=consents,
    now=st.sampled_from(ZONES).map(NOW.astimezone),
)
def test_the_check_passes_exactly_when_every_condition_holds(patient, product, consent, now):
    result = check_administration(patient, product, consent, now)

    known = product is not None
    own_or_eligible = known and (
        product.owner_patient_id == patient.patient_id
        if product.donor_lot is None
        else product.donor_lot.eligibility_documented
    )
    released = known and product.status in RELEASED
    unexpired = known and now < product.expires_at
    consented = consent is not None and consent.signed and not consent.withdrawn
    safe = own_or_eligible and released and unexpired and consented

    assert result.passed is safe
    assert (result.reasons == ()) is safe

    found = set(result.codes)
    assert len(found) == len(result.codes)
    assert all(isinstance(reason.text, str) and reason.text for reason in result.reasons)
    if not known:
        assert result.codes == ("unknown_product",)
        return
    autologous_product = product.donor_lot is None
    assert ("wrong_patient" in found) == (
        autologous_product and product.owner_patient_id != patient.patient_id
    )
    assert ("donor_not_eligible" in found) == (
        not autologous_product and not product.donor_lot.eligibility_documented
    )
    assert ("expired" in found) == (now >= product.expires_at or product.status == "expired")
    assert ("recalled" in found) == (product.status == "recalled")
    assert ("already_administered" in found) == (product.status == "administered")
    assert ("not_released" in found) == (
        product.status not in RELEASED | {"administered", "recalled", "expired"}
    )
    assert ("no_consent" in found) == (consent is None or not consent.signed)
    assert ("consent_withdrawn" in found) == (consent is not None and consent.withdrawn)
    assert "unknown_product" not in found
    assert list(result.codes) == sorted(result.codes, key=list(ReasonCode).index)


def test_the_check_knows_every_state_of_the_product_table_and_no_other():
    from cellclinic.lab.states import PRODUCT_STATES

    assert {status.value for status in ProductStatus} == set(PRODUCT_STATES.states)

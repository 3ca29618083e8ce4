"""The check made at the bedside before a cell product is given to a patient.

Pure: no Django. `check_administration` takes the patient whose identifier was scanned, the product
the scanned DIN names (None when no product has that DIN), the consent facts for that patient and the
product's therapy, and the current time, and lists every reason the product may not be given. The
check passes exactly when there is no reason. The conditions, each with its code:

- `unknown_product`: no product has the scanned DIN. Nothing else can be judged, so this is then the
  only reason.
- `wrong_patient`: the product is autologous and was made from another patient's cells.
- `donor_not_eligible`: the product is allogeneic and its donor lot has no documented donor
  eligibility.
- `not_released`: the product's status is awaiting release, quarantined, rejected or disposed, so it
  has not been released for use. Statuses that have their own reason (administered, recalled,
  expired) are reported under that reason instead.
- `expired`: `now` is at or after the product's expiry (`now >= expires_at`), or its status is expired.
- `recalled`: the product's status is recalled.
- `already_administered`: the product's status is administered.
- `no_consent`: there is no consent for this patient and therapy, or it was never signed.
- `consent_withdrawn`: the consent has been withdrawn.

So a product may be given only when it is released (status released, shipped or received back at the
clinic), unexpired, the patient's own (or from an eligible donor lot), and covered by a signed consent
that has not been withdrawn.
"""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from cellclinic.lab.isbt import DIN_LENGTH, parse_din


class ProductStatus(StrEnum):
    """Where a product stands, with the same values as the product's status."""

    AWAITING_RELEASE = "awaiting_release"
    RELEASED = "released"
    SHIPPED = "shipped"
    RECEIVED = "received"
    ADMINISTERED = "administered"
    RECALLED = "recalled"
    QUARANTINED = "quarantined"
    EXPIRED = "expired"
    REJECTED = "rejected"
    DISPOSED = "disposed"


RELEASED_STATUSES = frozenset({ProductStatus.RELEASED, ProductStatus.SHIPPED, ProductStatus.RECEIVED})
NOT_RELEASED_STATUSES = frozenset(
    {
        ProductStatus.AWAITING_RELEASE,
        ProductStatus.QUARANTINED,
        ProductStatus.REJECTED,
        ProductStatus.DISPOSED,
    }
)


class ReasonCode(StrEnum):
    """Why a product may not be given; the order here is the order reasons are listed."""

    UNKNOWN_PRODUCT = "unknown_product"
    WRONG_PATIENT = "wrong_patient"
    DONOR_NOT_ELIGIBLE = "donor_not_eligible"
    NOT_RELEASED = "not_released"
    EXPIRED = "expired"
    RECALLED = "recalled"
    ALREADY_ADMINISTERED = "already_administered"
    NO_CONSENT = "no_consent"
    CONSENT_WITHDRAWN = "consent_withdrawn"


def _text(field: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{field}: expected non-blank text, got {value!r}")
    return value


def _aware(field: str, value: object) -> datetime:
    if not isinstance(value, datetime):
        raise ValueError(f"{field}: expected a date and time, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{field}: {value.isoformat()} has no time zone; give an aware date and time")
    return value


@dataclass(frozen=True)
class ScannedPatient:
    """The patient whose identifier was scanned or typed: PATIENT_ID is the patient record's id."""

    patient_id: str

    def __post_init__(self) -> None:
        _text("patient id", self.patient_id)


@dataclass(frozen=True)
class DonorLot:
    """The donor lot an allogeneic product was made from, and whether donor eligibility is documented."""

    lot_number: str
    eligibility_documented: bool

    def __post_init__(self) -> None:
        _text("lot number", self.lot_number)
        if not isinstance(self.eligibility_documented, bool):
            raise ValueError(
                f"eligibility documented: expected True or False, got {self.eligibility_documented!r}"
            )


@dataclass(frozen=True)
class ProductFacts:
    """A product as the records know it.

    DIN is its 13-character Donation Identification Number. An autologous product names the patient
    whose cells it was made from (OWNER_PATIENT_ID); an allogeneic one names its DONOR_LOT; exactly one
    of the two is given. STATUS is one of `ProductStatus` (its value as text is accepted), EXPIRES_AT an
    aware date and time.
    """

    din: str
    status: ProductStatus
    expires_at: datetime
    owner_patient_id: str | None = None
    donor_lot: DonorLot | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.din, str) or len(self.din) != DIN_LENGTH:
            raise ValueError(f"din: {self.din!r} must be the 13 characters of a DIN")
        if parse_din(self.din).din != self.din:
            raise ValueError(f"din: {self.din!r} must be written in capital letters")
        try:
            object.__setattr__(self, "status", ProductStatus(self.status))
        except ValueError:
            known = ", ".join(status.value for status in ProductStatus)
            raise ValueError(f"status: {self.status!r} is not a product status ({known})") from None
        _aware("expires at", self.expires_at)
        if (self.owner_patient_id is None) == (self.donor_lot is None):
            raise ValueError(
                "owner patient id / donor lot: give the owner patient id of an autologous product or the "
                "donor lot of an allogeneic one, exactly one of the two"
            )
        if self.owner_patient_id is not None:
            _text("owner patient id", self.owner_patient_id)
        if self.donor_lot is not None and not isinstance(self.donor_lot, DonorLot):
            raise ValueError(f"donor lot: expected a DonorLot, got {type(self.donor_lot).__name__}")

    @property
    def autologous(self) -> bool:
        """True for a product made from the patient's own cells."""
        return self.owner_patient_id is not None


@dataclass(frozen=True)
class ConsentFacts:
    """The patient's consent to the product's therapy: whether it was signed, and whether withdrawn."""

    signed: bool
    withdrawn: bool

    def __post_init__(self) -> None:
        for field, value in (("signed", self.signed), ("withdrawn", self.withdrawn)):
            if not isinstance(value, bool):
                raise ValueError(f"consent {field}: expected True or False, got {value!r}")


@dataclass(frozen=True)
class Reason:
    """One reason the product may not be given: its CODE and a TEXT for the practitioner."""

    code: ReasonCode
    text: str


@dataclass(frozen=True)
class BedsideResult:
    """The outcome: PASSED exactly when REASONS is empty."""

    passed: bool
    reasons: tuple[Reason, ...]

    def __post_init__(self) -> None:
        if self.passed == bool(self.reasons):
            raise ValueError("reasons: a check passes exactly when it has no reasons")

    @property
    def codes(self) -> tuple[ReasonCode, ...]:
        """The codes of the reasons, in order."""
        return tuple(reason.code for reason in self.reasons)


STOP = "Do not administer."


def _product_reasons(patient: ScannedPatient, product: ProductFacts, now: datetime) -> list[Reason]:
    din = product.din
    reasons: list[Reason] = []
    if product.autologous and product.owner_patient_id != patient.patient_id:
        reasons.append(
            Reason(
                ReasonCode.WRONG_PATIENT,
                f"Product {din} was made from another patient's cells and is for that patient only. {STOP}",
            )
        )
    if product.donor_lot is not None and not product.donor_lot.eligibility_documented:
        reasons.append(
            Reason(
                ReasonCode.DONOR_NOT_ELIGIBLE,
                f"Product {din} comes from donor lot {product.donor_lot.lot_number}, whose donor "
                f"eligibility is not documented. {STOP}",
            )
        )
    if product.status in NOT_RELEASED_STATUSES:
        state = product.status.value.replace("_", " ")
        reasons.append(
            Reason(
                ReasonCode.NOT_RELEASED,
                f"Product {din} has not been released for use (it is {state}). {STOP}",
            )
        )
    if now >= product.expires_at or product.status == ProductStatus.EXPIRED:
        reasons.append(
            Reason(
                ReasonCode.EXPIRED,
                f"Product {din} expired at {product.expires_at.isoformat(timespec='minutes')}. {STOP}",
            )
        )
    if product.status == ProductStatus.RECALLED:
        reasons.append(Reason(ReasonCode.RECALLED, f"Product {din} has been recalled. {STOP}"))
    if product.status == ProductStatus.ADMINISTERED:
        reasons.append(
            Reason(
                ReasonCode.ALREADY_ADMINISTERED,
                f"Product {din} has already been administered; a product is given once only. {STOP}",
            )
        )
    return reasons


def _consent_reasons(consent: ConsentFacts | None) -> list[Reason]:
    reasons: list[Reason] = []
    if consent is None or not consent.signed:
        reasons.append(
            Reason(
                ReasonCode.NO_CONSENT,
                f"The patient has no signed consent to this therapy. {STOP}",
            )
        )
    if consent is not None and consent.withdrawn:
        reasons.append(
            Reason(
                ReasonCode.CONSENT_WITHDRAWN,
                f"The patient has withdrawn consent to this therapy. {STOP}",
            )
        )
    return reasons


def check_administration(
    patient: ScannedPatient,
    product: ProductFacts | None,
    consent: ConsentFacts | None,
    now: datetime,
) -> BedsideResult:
    """Every reason PRODUCT may not be given to PATIENT at NOW, as the module docstring defines them.

    PRODUCT is None when the scanned DIN names no product; CONSENT is None when the patient has no
    consent to the product's therapy. NOW must be an aware date and time.
    """
    if not isinstance(patient, ScannedPatient):
        raise ValueError(f"patient: expected a ScannedPatient, got {type(patient).__name__}")
    if product is not None and not isinstance(product, ProductFacts):
        raise ValueError(f"product: expected ProductFacts or None, got {type(product).__name__}")
    if consent is not None and not isinstance(consent, ConsentFacts):
        raise ValueError(f"consent: expected ConsentFacts or None, got {type(consent).__name__}")
    _aware("now", now)
    if product is None:
        reasons = [
            Reason(
                ReasonCode.UNKNOWN_PRODUCT,
                f"No product has the scanned DIN; check the label and scan again. {STOP}",
            )
        ]
    else:
        reasons = _product_reasons(patient, product, now) + _consent_reasons(consent)
    return BedsideResult(passed=not reasons, reasons=tuple(reasons))

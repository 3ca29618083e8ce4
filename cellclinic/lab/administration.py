"""The bedside check and the administration it allows: the last gate before cells go into a patient.

`bedside_check` reads the scanned patient identifier (the MRN) and the scanned DIN, gathers the facts
the pure rule needs (the product, its owner or donor lot, the consent) and lets
`cellclinic.lab.bedside.check_administration` decide. Every check, passed or not, is kept as a
`BedsideCheck` row and audited; a stop has its own action name, so the audit trail lists hard stops apart.

`product_administer` then records the administration on a check that passed: the same person's, made
minutes ago, for a product that still passes when checked again under its row lock. Two people giving
the same product at once queue on that lock, and the second finds it already administered.

Who received a product is told by the check its administration was recorded on: the administering
person's latest check of that product (a later check by them supersedes an earlier one, so the
administration can only be recorded on the latest). `with_administration` reads it back.
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from cellclinic.accounts.access import staff_site_ids
from cellclinic.accounts.models import User
from cellclinic.accounts.roles import Permission
from cellclinic.audit.services import audit_record
from cellclinic.consents.models import Consent
from cellclinic.core.errors import FieldError, InvalidInput, NotFound
from cellclinic.core.states import TransitionRefused
from cellclinic.lab import states
from cellclinic.lab.bedside import (
    STOP,
    BedsideResult,
    ConsentFacts,
    ProductFacts,
    Reason,
    ScannedPatient,
    check_administration,
)
from cellclinic.lab.bedside import DonorLot as DonorLotFacts
from cellclinic.lab.isbt import Din, parse_din
from cellclinic.lab.models import BedsideCheck, CustodyEvent, Product
from cellclinic.patients.identifiers import mrn_is_valid
from cellclinic.patients.models import Patient

# A passed check allows the administration for this long; after that the product is scanned again.
CHECK_VALID_FOR = timedelta(minutes=30)

ACTION_PASSED = "bedside_check.passed"
ACTION_HARD_STOP = "bedside_check.hard_stop"
ACTION_ADMINISTERED = "product.administer"
MRN_INVALID = "is not a medical record number (such as NCL-000042-X); check it and scan again"
DIN_CHECK_INVALID = "must be the one check character printed in the box beside the DIN"
DIN_CHECK_WRONG = (
    "{given!r} is not the check character of DIN {din}; a character was mistyped or misread, scan again"
)
NOT_CHECKED = "Nothing was checked."
NOT_ADMINISTERED = "The product was not administered."
# Why an administration is refused, beyond the bedside check's own reasons.
REFUSED_NOT_PASSED = "not_passed"
REFUSED_NOT_YOURS = "not_your_check"
REFUSED_TOO_OLD = "check_too_old"
REFUSED_SUPERSEDED = "superseded"
REFUSED_NOT_RECEIVED = "not_received"
NOT_PASSED_TEXT = "This bedside check did not pass, so nothing may be given on it. " + STOP
NOT_YOURS_TEXT = (
    "This bedside check was made by someone else; whoever gives the product scans it themselves. " + STOP
)
TOO_OLD_TEXT = "This bedside check is more than {minutes} minutes old; scan the patient and product again."
SUPERSEDED_TEXT = "You have checked this product again since; record the administration on your latest check."


class AdministrationRefused(InvalidInput):
    """An administration that may not be recorded: CODES say why, each error's message gives the text."""

    def __init__(self, reasons: list[Reason] | list[tuple[str, str]]) -> None:
        pairs = [(str(r.code), r.text) if isinstance(r, Reason) else r for r in reasons]
        errors = [FieldError("check", f"{code}: {text}") for code, text in pairs]
        summary = "; ".join(f"check: {error.message}" for error in errors)
        super().__init__(detail=f"{NOT_ADMINISTERED} {summary}", errors=errors)
        self.codes = tuple(code for code, _ in pairs)


def _administering_sites(actor: User) -> set[int]:
    """Clinics where ACTOR may give a product to a patient they can see."""
    return staff_site_ids(actor, Permission.PRODUCT_ADMINISTER) & staff_site_ids(
        actor, Permission.PATIENT_VIEW
    )


def _scanned(mrn: object, din: object, din_check: object) -> tuple[str, Din]:
    """The MRN and the DIN as read, the DIN with its check character when one was given.

    Raises InvalidInput naming every field that cannot be read.
    """
    errors: list[FieldError] = []
    wanted = mrn.strip().upper() if isinstance(mrn, str) else ""
    if not mrn_is_valid(wanted):
        errors.append(FieldError("mrn", MRN_INVALID))
    parsed: Din | None = None
    try:
        parsed = parse_din(din) if isinstance(din, str) else parse_din("")
    except ValueError as error:
        errors.append(FieldError("din", str(error)))
    if din_check is not None:
        given = din_check.strip().upper() if isinstance(din_check, str) else ""
        if len(given) != 1:
            errors.append(FieldError("din_check", DIN_CHECK_INVALID))
        elif parsed is not None and given != parsed.check:
            errors.append(FieldError("din_check", DIN_CHECK_WRONG.format(given=given, din=parsed.din)))
    if errors:
        summary = "; ".join(f"{error.field}: {error.message}" for error in errors)
        raise InvalidInput(detail=f"{NOT_CHECKED} {summary}", errors=errors)
    assert parsed is not None
    return wanted, parsed


def consent_facts(consent: Consent | None) -> ConsentFacts | None:
    """What the bedside rule needs of CONSENT: signed by both parties, and whether it was withdrawn."""
    if consent is None:
        return None
    both_signed = consent.patient_signed_at is not None and consent.practitioner_signed_at is not None
    return ConsentFacts(
        signed=consent.status == Consent.Status.SIGNED or both_signed,
        withdrawn=consent.status == Consent.Status.WITHDRAWN,
    )


def _consent_for(patient: Patient, product: Product) -> Consent | None:
    """The consent that covers giving PRODUCT to PATIENT.

    The patient's own product: the consent its chain of identity was made on. Any other product (a donor
    product, or one made from someone else's cells, which is stopped anyway): the patient's latest consent
    to the product's therapy, so that the answer is about this patient's consent and no one else's.
    """
    chain = product.chain
    if chain is not None and chain.patient_id == patient.pk:
        return chain.consent
    return (
        Consent.objects.filter(patient=patient, therapy_code=product.therapy_code)
        .order_by("-created_at", "-id")
        .first()
    )


def _product_facts(product: Product) -> ProductFacts:
    lot = product.donor_lot
    if product.chain_id is not None:
        return ProductFacts(
            din=product.din,
            status=product.status,
            expires_at=product.expires_at,
            owner_patient_id=str(product.chain.patient_id),
        )
    return ProductFacts(
        din=product.din,
        status=product.status,
        expires_at=product.expires_at,
        donor_lot=DonorLotFacts(lot.lot_number, eligibility_documented=lot.eligible) if lot else None,
    )


def evaluate(patient: Patient, product: Product | None, now: datetime) -> BedsideResult:
    """The bedside rule over PATIENT, PRODUCT (None when the DIN names none) and the consent, at NOW."""
    if product is None:
        return check_administration(ScannedPatient(str(patient.pk)), None, None, now)
    consent = consent_facts(_consent_for(patient, product))
    return check_administration(ScannedPatient(str(patient.pk)), _product_facts(product), consent, now)


def _locked_product(**lookup) -> Product | None:
    """The product row locked until the transaction ends, with what the rule reads of it."""
    return (
        Product.objects.select_for_update(of=("self",))
        .select_related("chain", "chain__consent", "donor_lot")
        .filter(**lookup)
        .first()
    )


def _reasons_json(result: BedsideResult) -> list[dict[str, str]]:
    return [{"code": str(reason.code), "text": reason.text} for reason in result.reasons]


def bedside_check(
    *,
    actor: User,
    mrn: str,
    din: str,
    din_check: str | None = None,
    now: datetime | None = None,
) -> tuple[BedsideCheck, BedsideResult]:
    """Check the product with DIN against the patient with MRN, record the check and audit it.

    The patient is looked up among the clinics where ACTOR may administer products and see patients;
    anyone else, or an MRN not found there, gets NotFound. A DIN that cannot be read, or a DIN_CHECK
    that is not its check character, is refused with InvalidInput before anything is recorded. The DIN
    may be typed (13 characters, with or without its check character and flags) or scanned (`=` and 15
    characters). A DIN that names no product is a stop (`unknown_product`), recorded like any other.
    """
    sites = _administering_sites(actor)
    if not sites:
        raise NotFound()
    wanted_mrn, parsed = _scanned(mrn, din, din_check)
    patient = Patient.objects.filter(site_id__in=sites, mrn=wanted_mrn).select_related("site").first()
    if patient is None:
        raise NotFound()
    now = now or timezone.now()
    with transaction.atomic():
        product = _locked_product(din=parsed.din)
        result = evaluate(patient, product, now)
        check = BedsideCheck.objects.create(
            site=patient.site,
            patient=patient,
            product=product,
            din_scanned=parsed.din,
            passed=result.passed,
            reasons=_reasons_json(result),
            checked_by=actor,
            checked_at=now,
        )
        audit_record(
            actor=actor,
            action=ACTION_PASSED if result.passed else ACTION_HARD_STOP,
            object_type=BedsideCheck.AUDIT_OBJECT_TYPE,
            object_id=check.pk,
            site=patient.site,
            patient_id=patient.pk,
            after={
                "din": parsed.din,
                "product": product.pk if product else None,
                "passed": result.passed,
                "reasons": [str(code) for code in result.codes],
                "checked_at": now,
            },
        )
    return check, result


def _latest_check_id(check: BedsideCheck) -> int | None:
    return (
        BedsideCheck.objects.filter(product_id=check.product_id, checked_by_id=check.checked_by_id)
        .order_by("-id")
        .values_list("pk", flat=True)
        .first()
    )


def product_administer(*, actor: User, check: BedsideCheck, now: datetime | None = None) -> Product:
    """Record that ACTOR gave the product of CHECK to its patient, after checking it again now.

    Allowed only on a passed check of ACTOR's own, made less than CHECK_VALID_FOR ago and not
    superseded by a later check of theirs of the same product, for a product that still passes the
    bedside rule and has been received at the clinic. The product moves to administered with its time,
    a custody event and an audit event, all under the product's row lock. Otherwise
    AdministrationRefused (a 422) names each reason and nothing changes; someone who may not administer
    at the check's clinic gets NotFound.
    """
    if check.site_id not in _administering_sites(actor):
        raise NotFound()
    now = now or timezone.now()
    if not check.passed or check.product_id is None:
        raise AdministrationRefused([(REFUSED_NOT_PASSED, NOT_PASSED_TEXT)])
    if check.checked_by_id != actor.pk:
        raise AdministrationRefused([(REFUSED_NOT_YOURS, NOT_YOURS_TEXT)])
    if now - check.checked_at >= CHECK_VALID_FOR:
        minutes = int(CHECK_VALID_FOR.total_seconds() // 60)
        raise AdministrationRefused([(REFUSED_TOO_OLD, TOO_OLD_TEXT.format(minutes=minutes))])
    with transaction.atomic():
        product = _locked_product(pk=check.product_id)
        if _latest_check_id(check) != check.pk:
            raise AdministrationRefused([(REFUSED_SUPERSEDED, SUPERSEDED_TEXT)])
        patient = Patient.objects.select_related("site").get(pk=check.patient_id)
        result = evaluate(patient, product, now)
        if not result.passed:
            raise AdministrationRefused(list(result.reasons))
        try:
            states.PRODUCT_STATES.check(product.status, states.PRODUCT_ADMINISTERED)
        except TransitionRefused as refused:
            raise AdministrationRefused([(REFUSED_NOT_RECEIVED, str(refused))]) from None
        before = {"status": product.status, "administered_at": None}
        product.status = states.PRODUCT_ADMINISTERED
        product.administered_at = now
        product.save(update_fields=["status", "administered_at", "updated_at"])
        CustodyEvent.objects.create(
            site=product.site,
            at_site=check.site,
            product=product,
            kind=CustodyEvent.Kind.ADMINISTERED,
            at=now,
            by=actor,
        )
        audit_record(
            actor=actor,
            action=ACTION_ADMINISTERED,
            object_type=Product.AUDIT_OBJECT_TYPE,
            object_id=product.pk,
            site=check.site,
            patient_id=check.patient_id,
            before=before,
            after={
                "status": product.status,
                "administered_at": now,
                "din": product.din,
                "bedside_check": check.pk,
            },
        )
    return product


def with_administration(products: QuerySet[Product]) -> QuerySet[Product]:
    """PRODUCTS annotated with `administered_by_id`, `administered_check_id` and `recipient_id`.

    The check is the latest passed check of the product by whoever recorded its administration (see the
    module docstring), so the recipient is read in the same query as the products, however many there are.
    """
    given = CustodyEvent.objects.filter(product=OuterRef("pk"), kind=CustodyEvent.Kind.ADMINISTERED).order_by(
        "-at", "-id"
    )
    used = BedsideCheck.objects.filter(
        product=OuterRef("pk"), passed=True, checked_by=OuterRef("administered_by_id")
    ).order_by("-id")
    return products.annotate(administered_by_id=Subquery(given.values("by")[:1])).annotate(
        administered_check_id=Subquery(used.values("pk")[:1]),
        recipient_id=Subquery(used.values("patient")[:1]),
    )

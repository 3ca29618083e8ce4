"""Writes of the lab: harvest, custody, batches, QC, release, products, donor lots, and withdrawal.

Every function here takes its actor first, as a keyword, and works in one transaction: it checks the
actor's role at the site the record belongs to (Forbidden when they see the record but may not do
this; NotFound when they may not even see it), checks every input (InvalidInput naming each field and
why) and every status move against its table in `cellclinic.lab.states` before anything is written,
then writes the rows, their custody events and the audit event together.

Two parties share these records. Clinic staff collect specimens, pack and dispatch them, and receive
products back; lab technicians receive specimens, process batches, enter QC results and ship
products; QA reviewers release or reject batches with an electronic signature, and never a batch
they processed. Nothing a lab reader is told (messages, notifications) names the patient: records
carry the chain-of-identity id.

A specimen or product moves on only while the consent it was collected under is in force: a
withdrawal quarantines at once what can be quarantined (`quarantine_for_consent`, the
`consent_withdrawn` hook), and every later step refuses the rest.

Product codes follow a local scheme shaped like the ISBT 128 Product Code (Data Structure 003): see
`product_code`.
"""

import hashlib
import uuid
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from cellclinic.accounts.access import has_permission, staff_site_ids
from cellclinic.accounts.models import Site, User
from cellclinic.accounts.roles import Permission, Role
from cellclinic.audit.models import Signature
from cellclinic.audit.services import audit_record, signature_create, snapshot, state_change
from cellclinic.catalogue.registry import get_catalogue
from cellclinic.catalogue.schema import CellSource, ProcessingKind, ShelfLife, Therapy
from cellclinic.consents.models import Consent
from cellclinic.consents.selectors import consent_in_force
from cellclinic.core.errors import FieldError, Forbidden, InvalidInput, NotFound
from cellclinic.core.states import TransitionRefused, TransitionTable
from cellclinic.lab import release, selectors, states
from cellclinic.lab.capacity import earliest_slot, processing_days
from cellclinic.lab.donor import DONOR_TESTS, eligibility_problems, screening_shape_problems
from cellclinic.lab.identity import new_coi
from cellclinic.lab.isbt import Din, next_din, validate_facility
from cellclinic.lab.models import (
    MAX_SLOTS,
    Batch,
    ChainOfIdentity,
    CustodyEvent,
    Deviation,
    DinSequence,
    DonorLot,
    LabProfile,
    ProcessStep,
    Product,
    QCResult,
    ReagentLot,
    Shipment,
    Specimen,
)
from cellclinic.notifications.services import notify
from cellclinic.treatment.models import TreatmentPlan

# --- messages, reused by the tests ---------------------------------------------------------------------

NOT_FOUND = "Not found"
CANNOT_SET_UP = "only a cell-processing lab has a lab profile"
CANNOT_COLLECT = "Only clinic staff who collect specimens at this clinic can record or send a harvest."
CANNOT_RECEIVE_PRODUCTS = "Only clinic staff at this clinic can receive its products."
CANNOT_PROCESS = "Only lab technicians of this lab can do this."
CANNOT_RELEASE = "Only a QA reviewer of this lab can release, reject or recall."
CANNOT_HANDLE_PRODUCT = "Only this product's lab or the clinic staff who hold it can do this."
CANNOT_EXPIRE = "Only lab staff, or clinic staff who give products, can mark products expired."
INVALID = "Nothing was changed."
REQUIRED = "required"
TOO_LONG = "can have at most {limit} characters"
NOT_TEXT = "must be text"
NOT_A_WHOLE_NUMBER = "must be a whole number"
OUT_OF_RANGE = "must be from {low} to {high}"
NOT_A_NUMBER = "must be a number"
NOT_A_DATE = "must be a date"
NOT_A_TIME = "must be a date and time with its time zone"
NOT_YES_NO = "must be true or false"
IN_THE_FUTURE = "cannot be in the future"
IN_THE_PAST = "cannot be in the past"

LAB_NOT_READY = (
    "the lab has no lab profile (ISBT 128 facility and processing slots): set it up with "
    "`cellclinic labprofile`"
)
NO_LAB = "this clinic has no lab to process its cells"
NO_CONSENT = "the consent must be signed and in force to harvest"
CONSENT_NOT_IN_FORCE = "the consent for {coi} is no longer in force"
THERAPY_GONE = "version {version} of {code} is not in the catalogue"
NO_HARVEST = "this therapy has no harvest of the patient's own cells"
AT_THE_BEDSIDE = "this therapy's cells are prepared at the bedside: nothing goes to the lab"
UNKNOWN_KIND = "must be one of: {kinds}"
BEFORE_CONSENT = "cannot be before the consent was signed"
PLAN_OF_ANOTHER_CONSENT = "this plan was not made on this consent"
ALREADY_HARVESTED = (
    "this consent already has a specimen; a new harvest names the specimen it replaces (replaces=)"
)
NOT_REPLACEABLE = (
    "only a specimen of this consent that was rejected, lost, or whose culture failed can be replaced"
)
ALREADY_REPLACED = "this specimen was already replaced by another harvest"

PACK_ONE_KIND = "pack specimens or products: one of the two, not both or neither"
ONE_ROUTE = "everything in a shipment goes from one clinic to its lab, or from one lab to one clinic"
ALREADY_IN_A_SHIPMENT = "{what} is already in a shipment"
NO_DESTINATION = "a donor product needs the clinic it is sent to"
NOT_SERVED = "must be a clinic this lab serves"
WRONG_DESTINATION = "these products belong to {clinic}"
RANGE_REVERSED = "must be at least the lowest temperature"
OUTSIDE_RANGE = "{value} °C is outside the shipment's range ({low} to {high} °C)"
CANNOT_ACCEPT_OUTSIDE_RANGE = (
    "the contents arrived at {value} °C, outside the shipment's range ({low} to {high} °C): "
    "reject them, with the reason"
)
REASON_FOR_REJECTION = "say why the contents are rejected"
PRODUCT_EXPIRED = "{din} is past its expiry"

ONE_SOURCE = "give a specimen or a donor lot: one of the two, not both or neither"
SPECIMEN_NOT_RECEIVED = "the specimen must be received and accepted at the lab (it is {status})"
SPECIMEN_HAS_BATCH = "this specimen already has a batch"
LOT_EXPIRED = "the donor lot expired on {day}"
LOT_NOT_DONOR = "this therapy is not made from donor cells"
TOO_FEW_DOSES_LEFT = "the lot has {left} doses left"
REAGENT_ELSEWHERE = "{lot} belongs to another lab"
REAGENT_EXPIRED = "{lot} expired on {day}"
BATCH_NOT_IN_PROCESS = "the batch must be in process (it is {status})"
BATCH_FINISHED = "the batch is {status}: nothing more is recorded on it"
BEFORE_START = "cannot be before processing started"
NO_SHELF_LIFE = (
    "the protocol gives no shelf life counted from making the product, so no expiry can be labelled"
)
MORE_THAN_PLANNED = "cannot be more than the {planned} planned"
DINS_USED_UP = "the lab has used every DIN sequence number of this year"

UNKNOWN_TEST = "is not a release criterion of this protocol; the criteria are: {tests}"
ALREADY_ENTERED = "this test already has a result; correct it instead"
NO_CRITERIA = "the protocol has no release criteria"
RESULT_NOT_CURRENT = "only a current result can be corrected (this one is {status})"
QC_CLOSED = "the batch is {status}: its QC results are closed"
NEEDS_TEXT = "needs a text result such as {answer!r}"
NEEDS_NUMBER = "needs a number in {unit}"
TEXT_HAS_NO_UNIT = "a text result has no unit"

RELEASER_PROCESSED = "the person who processed the batch, or recorded a step of it, cannot release it"
NOT_ELIGIBLE = "donor eligibility of this lot is not documented"
NOTHING_TO_RELEASE = "the batch has no products waiting for release"
BATCH_NOT_RELEASED = "its batch was never released, so the product cannot be"
RELEASE_STATEMENT = "I release this batch: every release criterion passes and the record is complete."
REJECT_STATEMENT = "I reject this batch: {reason}"
RELEASE_FROM_QUARANTINE_STATEMENT = "I release this product from quarantine: {reason}"
ALREADY_DISPOSED = "this product's disposal is already recorded"
NO_BANKED_CELLS = "the batch has no banked cells"
CANNOT_DISPOSE_SPECIMEN = "only the site that holds the specimen can dispose of it"

LOT_EXISTS = "this lab already has a lot with this number"
NOT_IN_CATALOGUE = "is not a therapy in the catalogue"
ELIGIBILITY_DOCUMENTED = "donor eligibility of this lot is already documented; its screening is closed"

QUARANTINED_FOR_CONSENT = "Consent withdrawn"

MAX_TEXT = 5000
MAX_DOSES = 50
MAX_BANKED_VIALS = 500
MAX_PASSAGE = 99
MAX_CELL_COUNT = 10**14 - 1
MAX_LOT_QUANTITY = 100_000
LOWEST_C, HIGHEST_C = Decimal("-200"), Decimal("100")
TENTH = Decimal("0.1")
OPEN_BATCHES = (states.BATCH_PLANNED, states.BATCH_IN_PROCESS)
QC_OPEN = (states.BATCH_IN_PROCESS, states.BATCH_QC_PENDING, states.BATCH_AWAITING_RELEASE)
CURRENT_QC = (states.QC_PASSED, states.QC_FAILED)
# A product counted as used is never quarantined or disposed of for a withdrawal.
SPENT_PRODUCTS = (states.PRODUCT_ADMINISTERED, states.PRODUCT_DISPOSED)
# A batch of a donor lot in one of these states gives its planned doses back to the lot.
DOSES_RETURNED = (states.BATCH_FAILED, states.BATCH_CANCELLED, states.BATCH_REJECTED)
# A specimen whose harvest may be repeated: lost, rejected on arrival, or used by a failed culture.
REPLACEABLE_SPECIMENS = (states.SPECIMEN_REJECTED, states.SPECIMEN_LOST, states.SPECIMEN_USED)
# Shelf lives that count from when the product is made; those from thawing or opening count at use.
MADE_AT = frozenset({"formulation", "release", "manufacture", "preparation", "cryopreservation"})
LAB_ROLES = (Role.LAB_TECHNICIAN, Role.QA_REVIEWER)

SHIPMENT_OBJECT_TYPE = "shipment"
LAB_PROFILE_OBJECT_TYPE = "lab_profile"
REAGENT_LOT_OBJECT_TYPE = "reagent_lot"


# --- checks shared by every service --------------------------------------------------------------------


def _invalid(errors: list[FieldError]) -> None:
    """Raise one InvalidInput listing ERRORS, if there are any."""
    if errors:
        summary = "; ".join(f"{error.field}: {error.message}" for error in errors)
        raise InvalidInput(detail=f"{INVALID} {summary}", errors=errors)


def _text(errors: list[FieldError], field: str, value: object, *, limit: int, required: bool = True) -> str:
    """VALUE stripped; an error when it is not text, is missing though REQUIRED, or is longer than LIMIT."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors.append(FieldError(field, NOT_TEXT))
        return ""
    text = value.strip()
    if required and not text:
        errors.append(FieldError(field, REQUIRED))
    elif len(text) > limit:
        errors.append(FieldError(field, TOO_LONG.format(limit=limit)))
    return text


def _whole(errors: list[FieldError], field: str, value: object, *, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        errors.append(FieldError(field, NOT_A_WHOLE_NUMBER))
        return low
    if not low <= value <= high:
        errors.append(FieldError(field, OUT_OF_RANGE.format(low=low, high=high)))
    return value


def _decimal(
    errors: list[FieldError], field: str, value: object, *, low: Decimal, high: Decimal
) -> Decimal | None:
    """VALUE as a decimal to a tenth (a number or its text), within LOW to HIGH; None when it is not."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        errors.append(FieldError(field, NOT_A_NUMBER))
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        errors.append(FieldError(field, NOT_A_NUMBER))
        return None
    if not number.is_finite():
        errors.append(FieldError(field, NOT_A_NUMBER))
        return None
    if not low <= number <= high:
        errors.append(FieldError(field, OUT_OF_RANGE.format(low=low, high=high)))
        return None
    return number.quantize(TENTH, rounding=ROUND_HALF_EVEN)


def _day(errors: list[FieldError], field: str, value: object) -> date | None:
    if isinstance(value, datetime) or not isinstance(value, date):
        errors.append(FieldError(field, NOT_A_DATE))
        return None
    return value


def _moment(errors: list[FieldError], field: str, value: object) -> datetime | None:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        errors.append(FieldError(field, NOT_A_TIME))
        return None
    return value


def _move(errors: list[FieldError], table: TransitionTable, current: str, target: str, field: str) -> None:
    """An error in the table's own words when CURRENT may not become TARGET."""
    try:
        table.check(current, target)
    except TransitionRefused as refused:
        errors.append(FieldError(field, str(refused)))


def _sees(actor: User, *, clinic_id: int | None, lab_id: int | None) -> bool:
    """True when ACTOR may read a lab record of CLINIC_ID processed at LAB_ID."""
    return (clinic_id is not None and clinic_id in staff_site_ids(actor, Permission.PATIENT_VIEW)) or (
        lab_id is not None and lab_id in staff_site_ids(actor, Permission.LAB_VIEW)
    )


def _require(
    actor: User,
    allowed: Sequence[tuple[Permission, int | None]],
    message: str,
    *,
    clinic_id: int | None,
    lab_id: int | None,
) -> Permission:
    """The first (permission, site) of ALLOWED that ACTOR holds; else Forbidden (MESSAGE) when they see
    the record (of CLINIC_ID, processed at LAB_ID), NotFound when they do not."""
    for permission, site_id in allowed:
        if site_id is not None and has_permission(actor, permission, site_id):
            return permission
    if _sees(actor, clinic_id=clinic_id, lab_id=lab_id):
        raise Forbidden(message)
    raise NotFound(NOT_FOUND)


def _in_force(consent: Consent) -> bool:
    return consent.status == Consent.Status.SIGNED


def _event(
    kind: str,
    *,
    by: User,
    at_site_id: int,
    when: datetime,
    specimen: Specimen | None = None,
    product: Product | None = None,
    shipment: Shipment | None = None,
    temperature_c: Decimal | None = None,
    condition: str = "",
    note: str = "",
) -> CustodyEvent:
    """One custody event (unsaved) of SPECIMEN or PRODUCT, on its owner's site."""
    owner = specimen if specimen is not None else product
    assert owner is not None
    return CustodyEvent(
        site_id=owner.site_id,
        at_site_id=at_site_id,
        specimen=specimen,
        product=product,
        shipment=shipment,
        kind=kind,
        at=when,
        by=by,
        temperature_c=temperature_c,
        condition=condition,
        note=note,
    )


def _therapy(code: str, version: str) -> Therapy | None:
    return get_catalogue().therapy(code, version)


def _profile(lab_id: int) -> LabProfile | None:
    return LabProfile.objects.filter(site_id=lab_id).first()


def _people(site_id: int, roles: Iterable[str]) -> list[User]:
    """The active staff holding one of ROLES at SITE_ID, each once, in a stable order."""
    return list(
        User.objects.filter(is_active=True, memberships__site_id=site_id, memberships__role__in=list(roles))
        .distinct()
        .order_by("id")
    )


def _tell(
    people: Iterable[User], *, kind: str, template: str, site: Site, actor: User, obj, context, link: str
) -> None:
    """Notify each of PEOPLE about OBJ (its page at LINK)."""
    for person in people:
        notify(
            kind=kind,
            template=template,
            site=site,
            recipient=person,
            link=link,
            context=context,
            actor=actor,
            object_type=type(obj).AUDIT_OBJECT_TYPE,
            object_id=obj.pk,
        )


# --- lab profiles and capacity -------------------------------------------------------------------------


@transaction.atomic
def lab_profile_set(
    *, lab: Site, facility_code: str, processing_slots: int, actor: User | None = None
) -> LabProfile:
    """Set a lab's ISBT 128 facility identification number and its number of processing slots."""
    errors: list[FieldError] = []
    if lab.kind != Site.Kind.LAB:
        errors.append(FieldError("lab", CANNOT_SET_UP))
    try:
        validate_facility(facility_code)
    except ValueError as error:
        errors.append(FieldError("facility_code", str(error)))
    _whole(errors, "processing_slots", processing_slots, low=1, high=MAX_SLOTS)
    _invalid(errors)
    fields = ["facility_code", "processing_slots"]
    profile = LabProfile.objects.select_for_update().filter(site=lab).first()
    before = snapshot(profile, fields=fields) if profile is not None else None
    if profile is None:
        profile = LabProfile.objects.create(
            site=lab, facility_code=facility_code, processing_slots=processing_slots
        )
    else:
        profile.facility_code, profile.processing_slots = facility_code, processing_slots
        profile.save(update_fields=fields)
    audit_record(
        actor=actor,
        action="lab_profile.set",
        object_type=LAB_PROFILE_OBJECT_TYPE,
        object_id=profile.pk,
        site=lab,
        before=before,
        after=snapshot(profile, fields=fields),
    )
    return profile


def protocol_days(therapy: Therapy) -> tuple[int, int] | None:
    """(shortest, longest) days the protocol processes in a lab slot; None at the bedside or untimed."""
    if therapy.processing.kind == ProcessingKind.POINT_OF_CARE:
        return None
    return processing_days(therapy.processing.duration)


def earliest_processing(*, lab: Site, therapy: Therapy, wanted: date) -> tuple[date, date, date]:
    """(slot start, ready from, ready to): the earliest day on or after WANTED that LAB has a processing
    slot free for THERAPY's whole processing time, and the window its product is expected ready in.

    Open batches (planned or in process) hold their slots from their first day to the last day their
    product may be ready; a batch still in process past that day holds its slot until today.
    """
    errors: list[FieldError] = []
    wanted = _day(errors, "wanted", wanted)
    profile = _profile(lab.pk)
    if profile is None:
        errors.append(FieldError("lab", LAB_NOT_READY))
    _invalid(errors)
    assert profile is not None and wanted is not None
    today = timezone.localdate()
    booked = [
        (start, max(end, today) if status == states.BATCH_IN_PROCESS else end)
        for start, end, status in Batch.objects.filter(lab=lab, status__in=OPEN_BATCHES).values_list(
            "slot_start", "ready_to", "status"
        )
    ]
    slot = earliest_slot(
        slots=profile.processing_slots, booked=booked, days=protocol_days(therapy), wanted=wanted
    )
    return slot.start, slot.ready_from, slot.ready_to


# --- harvest -------------------------------------------------------------------------------------------


def _scoped(indications: list, indication: str | None) -> bool:
    return not indications or (indication is not None and indication in {code.value for code in indications})


def harvest_aftercare(therapy: Therapy, indication: str | None = None) -> list[str]:
    """What the patient is handed about the place the cells were taken from, in the catalogue's words:
    the therapy's own harvest-site aftercare, then the harvest step's recovery advice."""
    lines = [
        f"{item.text} for {item.duration.text}" if item.duration else item.text
        for item in therapy.aftercare.harvest_site
        if _scoped(item.indications, indication)
    ]
    step = get_catalogue().steps.get("harvest")
    if therapy.harvest is not None and step is not None:
        lines += [line.text for line in step.recovery if _scoped(line.indications, indication)]
    return lines


def _unique_coi(avoid: list[str]) -> str:
    while True:
        coi = new_coi(avoid=avoid)
        if not ChainOfIdentity.objects.filter(coi=coi).exists():
            return coi


def _replaceable(replaces: Specimen, consent: Consent) -> str:
    """Why REPLACES cannot be replaced by a new harvest on CONSENT; "" when it can."""
    if replaces.chain.consent_id != consent.pk or replaces.status not in REPLACEABLE_SPECIMENS:
        return NOT_REPLACEABLE
    if (
        replaces.status == states.SPECIMEN_USED
        and not replaces.batches.filter(status=states.BATCH_FAILED).exists()
    ):
        return NOT_REPLACEABLE
    if replaces.replaced_by.exists():
        return ALREADY_REPLACED
    return ""


@transaction.atomic
def specimen_collect(
    *,
    actor: User,
    consent: Consent,
    plan: TreatmentPlan | None = None,
    kind: str,
    body_site: str,
    size: str,
    collected_at: datetime,
    replaces: Specimen | None = None,
) -> Specimen:
    """Record a harvest at the clinic under a consent in force, with its COLLECTED custody event.

    The consent's first harvest makes its chain of identity (the id the lab, the labels and the barcodes
    carry); a re-harvest after a lost or rejected specimen or a failed culture names the specimen it
    REPLACES and keeps the same chain, consent and plan.
    """
    _require(
        actor,
        [(Permission.SPECIMEN_COLLECT, consent.site_id)],
        CANNOT_COLLECT,
        clinic_id=consent.site_id,
        lab_id=None,
    )
    consent = (
        Consent.objects.select_for_update(of=("self",))
        .select_related("site", "site__lab", "patient", "consultation")
        .get(pk=consent.pk)
    )
    errors: list[FieldError] = []
    in_force = consent_in_force(consent.consultation)
    if in_force is None or in_force.pk != consent.pk:
        errors.append(FieldError("consent", NO_CONSENT))
    therapy = _therapy(consent.therapy_code, consent.therapy_version)
    if therapy is None:
        errors.append(
            FieldError(
                "consent", THERAPY_GONE.format(version=consent.therapy_version, code=consent.therapy_code)
            )
        )
    elif therapy.cell_source != CellSource.AUTOLOGOUS or therapy.harvest is None:
        errors.append(FieldError("consent", NO_HARVEST))
    elif therapy.processing.kind == ProcessingKind.POINT_OF_CARE:
        errors.append(FieldError("consent", AT_THE_BEDSIDE))
    lab = consent.site.lab
    if lab is None:
        errors.append(FieldError("lab", NO_LAB))
    elif _profile(lab.pk) is None:
        errors.append(FieldError("lab", LAB_NOT_READY))
    if kind not in Specimen.Kind.values:
        errors.append(FieldError("kind", UNKNOWN_KIND.format(kinds=", ".join(Specimen.Kind.values))))
    body_site = _text(errors, "body_site", body_site, limit=120)
    size = _text(errors, "size", size, limit=60)
    collected_at = _moment(errors, "collected_at", collected_at)
    if collected_at is not None:
        if collected_at > timezone.now():
            errors.append(FieldError("collected_at", IN_THE_FUTURE))
        elif consent.practitioner_signed_at and collected_at < consent.practitioner_signed_at:
            errors.append(FieldError("collected_at", BEFORE_CONSENT))
    if plan is not None and plan.consent_id != consent.pk:
        errors.append(FieldError("plan", PLAN_OF_ANOTHER_CONSENT))
    chain = ChainOfIdentity.objects.filter(consent=consent).first()
    if replaces is None:
        if chain is not None and chain.specimens.exists():
            errors.append(FieldError("replaces", ALREADY_HARVESTED))
    else:
        replaces = Specimen.objects.select_related("chain").get(pk=replaces.pk)
        if problem := _replaceable(replaces, consent):
            errors.append(FieldError("replaces", problem))
    _invalid(errors)
    assert therapy is not None and lab is not None and collected_at is not None
    patient = consent.patient
    if chain is None:
        chain = ChainOfIdentity.objects.create(
            coi=_unique_coi([patient.given_name, patient.family_name, patient.mrn]),
            site=consent.site,
            patient=patient,
            consent=consent,
            plan=plan,
            therapy_code=consent.therapy_code,
            therapy_version=consent.therapy_version,
        )
        audit_record(
            actor=actor,
            action="chain_of_identity.create",
            object_type=ChainOfIdentity.AUDIT_OBJECT_TYPE,
            object_id=chain.pk,
            site=consent.site,
            patient_id=patient.pk,
            after={"coi": chain.coi, "consent": consent.pk, "plan": plan.pk if plan else None},
        )
    elif plan is not None and chain.plan_id is None:
        chain.plan = plan
        chain.save(update_fields=["plan"])
    specimen = Specimen.objects.create(
        site=consent.site,
        lab=lab,
        chain=chain,
        coi=chain.coi,
        therapy_code=chain.therapy_code,
        therapy_version=chain.therapy_version,
        kind=kind,
        body_site=body_site,
        size=size,
        collected_at=collected_at,
        collected_by=actor,
        replaces=replaces,
    )
    _event(
        CustodyEvent.Kind.COLLECTED,
        by=actor,
        at_site_id=consent.site_id,
        when=collected_at,
        specimen=specimen,
    ).save()
    audit_record(
        actor=actor,
        action="specimen.collect",
        object_type=Specimen.AUDIT_OBJECT_TYPE,
        object_id=specimen.pk,
        site=consent.site,
        patient_id=patient.pk,
        after={
            **snapshot(
                specimen, fields=["coi", "therapy_code", "therapy_version", "kind", "body_site", "size"]
            ),
            "collected_at": collected_at,
            "replaces": replaces.pk if replaces else None,
        },
    )
    return specimen


@transaction.atomic
def specimen_dispose(*, actor: User, specimen: Specimen, reason: str) -> Specimen:
    """Record that a specimen was disposed of, by the site that holds it: the clinic before it is sent,
    the lab once it has arrived."""
    locked = Specimen.objects.select_for_update(of=("self",)).select_related("site").get(pk=specimen.pk)
    at_clinic = locked.status in (states.SPECIMEN_COLLECTED, states.SPECIMEN_PACKED)
    holder = (
        (Permission.SPECIMEN_COLLECT, locked.site_id)
        if at_clinic
        else (Permission.LAB_PROCESS, locked.lab_id)
    )
    _require(actor, [holder], CANNOT_DISPOSE_SPECIMEN, clinic_id=locked.site_id, lab_id=locked.lab_id)
    errors: list[FieldError] = []
    reason = _text(errors, "reason", reason, limit=MAX_TEXT)
    _move(errors, states.SPECIMEN_STATES, locked.status, states.SPECIMEN_DISPOSED, "status")
    _invalid(errors)
    state_change(
        locked,
        to=states.SPECIMEN_DISPOSED,
        table=states.SPECIMEN_STATES,
        actor=actor,
        action="specimen.dispose",
        reason=reason,
    )
    _event(
        CustodyEvent.Kind.DISPOSED,
        by=actor,
        at_site_id=holder[1],
        when=timezone.now(),
        specimen=locked,
        note=reason,
    ).save()
    return locked


# --- custody: shipments --------------------------------------------------------------------------------


def _temperatures(
    errors: list[FieldError], low: object, high: object
) -> tuple[Decimal | None, Decimal | None]:
    low_c = _decimal(errors, "temperature_min_c", low, low=LOWEST_C, high=HIGHEST_C)
    high_c = _decimal(errors, "temperature_max_c", high, low=LOWEST_C, high=HIGHEST_C)
    if low_c is not None and high_c is not None and high_c < low_c:
        errors.append(FieldError("temperature_max_c", RANGE_REVERSED))
    return low_c, high_c


def _audit_shipment(actor: User, action: str, shipment: Shipment, *, after: dict, reason: str = "") -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type=SHIPMENT_OBJECT_TYPE,
        object_id=shipment.pk,
        site=shipment.site,
        after=after,
        reason=reason,
    )


@transaction.atomic
def shipment_pack(
    *,
    actor: User,
    specimens: Iterable[Specimen] = (),
    products: Iterable[Product] = (),
    courier: str,
    temperature_min_c: Decimal | float | str,
    temperature_max_c: Decimal | float | str,
    tracking: str = "",
    clinic: Site | None = None,
) -> Shipment:
    """Pack specimens at their clinic for its lab, or released products at their lab for one clinic.

    Each item gets a custody event (specimens PACKED, products ISSUED from the lab's stock). Donor
    products belong to no clinic until they are sent: CLINIC names where they go.
    """
    specimen_ids = sorted({item.pk for item in specimens})
    product_ids = sorted({item.pk for item in products})
    if bool(specimen_ids) == bool(product_ids):
        raise InvalidInput.single("specimens", PACK_ONE_KIND)
    if specimen_ids:
        return _pack_specimens(actor, specimen_ids, courier, temperature_min_c, temperature_max_c, tracking)
    return _pack_products(actor, product_ids, courier, temperature_min_c, temperature_max_c, tracking, clinic)


def _shipment_fields(
    errors: list[FieldError], courier: object, low: object, high: object, tracking: object
) -> dict[str, Any]:
    courier = _text(errors, "courier", courier, limit=120)
    tracking = _text(errors, "tracking", tracking, limit=80, required=False)
    low_c, high_c = _temperatures(errors, low, high)
    return {"courier": courier, "tracking": tracking, "temperature_min_c": low_c, "temperature_max_c": high_c}


def _pack_specimens(actor, ids, courier, low, high, tracking) -> Shipment:
    found = list(
        Specimen.objects.select_for_update(of=("self",))
        .select_related("chain__consent")
        .filter(pk__in=ids)
        .order_by("id")
    )
    if len(found) != len(ids):
        raise NotFound(NOT_FOUND)
    routes = {(item.site_id, item.lab_id) for item in found}
    clinic_id, lab_id = next(iter(routes))
    _require(
        actor, [(Permission.SPECIMEN_COLLECT, clinic_id)], CANNOT_COLLECT, clinic_id=clinic_id, lab_id=lab_id
    )
    errors: list[FieldError] = []
    if len(routes) > 1:
        errors.append(FieldError("specimens", ONE_ROUTE))
    for item in found:
        _move(errors, states.SPECIMEN_STATES, item.status, states.SPECIMEN_PACKED, "specimens")
        if item.shipment_id is not None:
            errors.append(FieldError("specimens", ALREADY_IN_A_SHIPMENT.format(what=item.coi)))
        if not _in_force(item.chain.consent):
            errors.append(FieldError("specimens", CONSENT_NOT_IN_FORCE.format(coi=item.coi)))
    fields = _shipment_fields(errors, courier, low, high, tracking)
    _invalid(errors)
    shipment = Shipment.objects.create(
        site_id=clinic_id, lab_id=lab_id, direction=Shipment.Direction.TO_LAB, created_by=actor, **fields
    )
    Specimen.objects.filter(pk__in=ids).update(
        status=states.SPECIMEN_PACKED, shipment=shipment, updated_at=timezone.now()
    )
    now = timezone.now()
    CustodyEvent.objects.bulk_create(
        _event(
            CustodyEvent.Kind.PACKED,
            by=actor,
            at_site_id=clinic_id,
            when=now,
            specimen=item,
            shipment=shipment,
        )
        for item in found
    )
    _audit_shipment(
        actor,
        "shipment.pack",
        shipment,
        after={**snapshot(shipment, exclude=("created_by",)), "specimens": [item.coi for item in found]},
    )
    return shipment


def _pack_products(actor, ids, courier, low, high, tracking, clinic) -> Shipment:
    found = list(
        Product.objects.select_for_update(of=("self",))
        .select_related("chain__consent", "site")
        .filter(pk__in=ids)
        .order_by("id")
    )
    if len(found) != len(ids):
        raise NotFound(NOT_FOUND)
    labs = {item.lab_id for item in found}
    lab_id = next(iter(labs))
    owners = {item.site_id for item in found if item.site_id != item.lab_id}
    _require(
        actor,
        [(Permission.LAB_PROCESS, lab_id)],
        CANNOT_PROCESS,
        clinic_id=next(iter(owners)) if owners else None,
        lab_id=lab_id,
    )
    errors: list[FieldError] = []
    if len(labs) > 1 or len(owners) > 1:
        errors.append(FieldError("products", ONE_ROUTE))
    destination = next(iter(owners)) if owners else None
    if clinic is not None:
        if clinic.kind != Site.Kind.CLINIC or clinic.lab_id != lab_id:
            errors.append(FieldError("clinic", NOT_SERVED))
        elif destination is not None and clinic.pk != destination:
            errors.append(FieldError("clinic", WRONG_DESTINATION.format(clinic=found[0].site.name)))
        destination = clinic.pk
    elif any(item.site_id == item.lab_id for item in found):
        errors.append(FieldError("clinic", NO_DESTINATION))
    now = timezone.now()
    for item in found:
        _move(errors, states.PRODUCT_STATES, item.status, states.PRODUCT_SHIPPED, "products")
        if item.shipment_id is not None:
            errors.append(FieldError("products", ALREADY_IN_A_SHIPMENT.format(what=item.din)))
        if item.expires_at <= now:
            errors.append(FieldError("products", PRODUCT_EXPIRED.format(din=item.din)))
        if item.chain is not None and not _in_force(item.chain.consent):
            errors.append(FieldError("products", CONSENT_NOT_IN_FORCE.format(coi=item.coi)))
    fields = _shipment_fields(errors, courier, low, high, tracking)
    _invalid(errors)
    shipment = Shipment.objects.create(
        site_id=destination, lab_id=lab_id, direction=Shipment.Direction.TO_CLINIC, created_by=actor, **fields
    )
    # A donor product belongs to the clinic it is sent to from now on (its lab still sees it).
    Product.objects.filter(pk__in=ids).update(shipment=shipment, site_id=destination, updated_at=now)
    for item in found:
        item.site_id = destination
    CustodyEvent.objects.bulk_create(
        _event(
            CustodyEvent.Kind.ISSUED, by=actor, at_site_id=lab_id, when=now, product=item, shipment=shipment
        )
        for item in found
    )
    _audit_shipment(
        actor,
        "shipment.pack",
        shipment,
        after={**snapshot(shipment, exclude=("created_by",)), "products": [item.din for item in found]},
    )
    return shipment


def _shipment_gate(actor: User, shipment: Shipment, *, receiving: bool) -> None:
    """Clinic staff send specimens and receive products at their clinic; lab staff the other way round."""
    at_clinic = (shipment.direction == Shipment.Direction.TO_LAB) != receiving
    if at_clinic:
        message = CANNOT_RECEIVE_PRODUCTS if receiving else CANNOT_COLLECT
        allowed = [(Permission.SPECIMEN_COLLECT, shipment.site_id)]
    else:
        message, allowed = CANNOT_PROCESS, [(Permission.LAB_PROCESS, shipment.lab_id)]
    _require(actor, allowed, message, clinic_id=shipment.site_id, lab_id=shipment.lab_id)


def _contents(shipment: Shipment) -> tuple[list[Specimen], list[Product]]:
    """The shipment's specimens or products, locked, with their consents."""
    if shipment.direction == Shipment.Direction.TO_LAB:
        found = Specimen.objects.select_for_update(of=("self",)).select_related("chain__consent")
        return list(found.filter(shipment=shipment).order_by("id")), []
    found = Product.objects.select_for_update(of=("self",)).select_related("chain__consent")
    return [], list(found.filter(shipment=shipment).order_by("id"))


def _within(shipment: Shipment, value: Decimal) -> bool:
    return shipment.temperature_min_c <= value <= shipment.temperature_max_c


@transaction.atomic
def shipment_dispatch(*, actor: User, shipment: Shipment, temperature_c: Decimal | float | str) -> Shipment:
    """Hand the packed shipment to its courier at TEMPERATURE_C (within its range): a SHIPPED event each."""
    _shipment_gate(actor, shipment, receiving=False)
    locked = Shipment.objects.select_for_update(of=("self",)).select_related("site").get(pk=shipment.pk)
    specimens, products = _contents(locked)
    errors: list[FieldError] = []
    _move(errors, states.SHIPMENT_STATES, locked.status, states.SHIPMENT_IN_TRANSIT, "status")
    value = _decimal(errors, "temperature_c", temperature_c, low=LOWEST_C, high=HIGHEST_C)
    if value is not None and not _within(locked, value):
        errors.append(
            FieldError(
                "temperature_c",
                OUTSIDE_RANGE.format(
                    value=value, low=locked.temperature_min_c, high=locked.temperature_max_c
                ),
            )
        )
    now = timezone.now()
    for specimen in specimens:
        _move(errors, states.SPECIMEN_STATES, specimen.status, states.SPECIMEN_SHIPPED, "specimens")
        if not _in_force(specimen.chain.consent):
            errors.append(FieldError("specimens", CONSENT_NOT_IN_FORCE.format(coi=specimen.coi)))
    for product in products:
        _move(errors, states.PRODUCT_STATES, product.status, states.PRODUCT_SHIPPED, "products")
        if product.expires_at <= now:
            errors.append(FieldError("products", PRODUCT_EXPIRED.format(din=product.din)))
        if product.chain is not None and not _in_force(product.chain.consent):
            errors.append(FieldError("products", CONSENT_NOT_IN_FORCE.format(coi=product.coi)))
    _invalid(errors)
    origin = locked.site_id if specimens else locked.lab_id
    if specimens:
        Specimen.objects.filter(pk__in=[s.pk for s in specimens]).update(
            status=states.SPECIMEN_SHIPPED, updated_at=now
        )
    else:
        Product.objects.filter(pk__in=[p.pk for p in products]).update(
            status=states.PRODUCT_SHIPPED, updated_at=now
        )
    CustodyEvent.objects.bulk_create(
        [
            *(
                _event(
                    CustodyEvent.Kind.SHIPPED,
                    by=actor,
                    at_site_id=origin,
                    when=now,
                    specimen=s,
                    shipment=locked,
                    temperature_c=value,
                )
                for s in specimens
            ),
            *(
                _event(
                    CustodyEvent.Kind.SHIPPED,
                    by=actor,
                    at_site_id=origin,
                    when=now,
                    product=p,
                    shipment=locked,
                    temperature_c=value,
                )
                for p in products
            ),
        ]
    )
    locked.status = states.SHIPMENT_IN_TRANSIT
    locked.save(update_fields=["status"])
    _audit_shipment(
        actor,
        "shipment.dispatch",
        locked,
        after={"status": locked.status, "temperature_c": value, "courier": locked.courier},
    )
    return locked


@transaction.atomic
def shipment_receive(
    *,
    actor: User,
    shipment: Shipment,
    temperature_c: Decimal | float | str,
    condition: str,
    accepted: bool,
    reason: str = "",
) -> Shipment:
    """Record the shipment's arrival: its temperature and condition, and whether its contents are
    accepted. At the lab each specimen is received (and quarantined at once if its consent has been
    withdrawn meanwhile) or rejected with REASON; at the clinic each product is received, or held in
    quarantine with REASON for the lab to decide. Contents arriving outside the shipment's temperature
    range cannot be accepted. Items whose status changed on the way (quarantined, recalled) keep it and
    have their arrival recorded."""
    _shipment_gate(actor, shipment, receiving=True)
    locked = Shipment.objects.select_for_update(of=("self",)).select_related("site").get(pk=shipment.pk)
    specimens, products = _contents(locked)
    errors: list[FieldError] = []
    _move(errors, states.SHIPMENT_STATES, locked.status, states.SHIPMENT_DELIVERED, "status")
    value = _decimal(errors, "temperature_c", temperature_c, low=LOWEST_C, high=HIGHEST_C)
    condition = _text(errors, "condition", condition, limit=200)
    if not isinstance(accepted, bool):
        errors.append(FieldError("accepted", NOT_YES_NO))
    reason = _text(errors, "reason", reason, limit=MAX_TEXT, required=False)
    if accepted is False and not reason:
        errors.append(FieldError("reason", REASON_FOR_REJECTION))
    if accepted is True and value is not None and not _within(locked, value):
        errors.append(
            FieldError(
                "accepted",
                CANNOT_ACCEPT_OUTSIDE_RANGE.format(
                    value=value, low=locked.temperature_min_c, high=locked.temperature_max_c
                ),
            )
        )
    _invalid(errors)
    now, here = timezone.now(), (locked.lab_id if specimens else locked.site_id)
    events: list[CustodyEvent] = []
    arrival = {
        "by": actor,
        "at_site_id": here,
        "when": now,
        "shipment": locked,
        "temperature_c": value,
        "condition": condition,
    }
    if specimens:
        target = states.SPECIMEN_RECEIVED if accepted else states.SPECIMEN_REJECTED
        kind = CustodyEvent.Kind.RECEIVED if accepted else CustodyEvent.Kind.REJECTED
        withdrawn = [s for s in specimens if accepted and not _in_force(s.chain.consent)]
        moving = [s.pk for s in specimens if s not in withdrawn]
        update = {"status": target, "updated_at": now}
        if not accepted:
            update["rejected_reason"] = reason
        Specimen.objects.filter(pk__in=moving).update(**update)
        Specimen.objects.filter(pk__in=[s.pk for s in withdrawn]).update(
            status=states.SPECIMEN_QUARANTINED, updated_at=now
        )
        for specimen in specimens:
            events.append(_event(kind, specimen=specimen, note=reason, **arrival))
            if specimen in withdrawn:
                note = CONSENT_NOT_IN_FORCE.format(coi=specimen.coi)
                events.append(_event(CustodyEvent.Kind.QUARANTINED, specimen=specimen, note=note, **arrival))
    else:
        target = states.PRODUCT_RECEIVED if accepted else states.PRODUCT_QUARANTINED
        kind = CustodyEvent.Kind.RECEIVED if accepted else CustodyEvent.Kind.REJECTED
        moving = [p.pk for p in products if p.status == states.PRODUCT_SHIPPED]
        update = {"status": target, "updated_at": now}
        if not accepted:
            update["status_reason"] = reason
        Product.objects.filter(pk__in=moving).update(**update)
        events += [_event(kind, product=product, note=reason, **arrival) for product in products]
    CustodyEvent.objects.bulk_create(events)
    locked.status = states.SHIPMENT_DELIVERED
    locked.save(update_fields=["status"])
    _audit_shipment(
        actor,
        "shipment.receive",
        locked,
        after={"status": locked.status, "temperature_c": value, "condition": condition, "accepted": accepted},
        reason=reason,
    )
    return locked


# --- batches -------------------------------------------------------------------------------------------


def _lab_gate(actor: User, batch: Batch, permission: Permission = Permission.LAB_PROCESS) -> None:
    message = CANNOT_PROCESS if permission == Permission.LAB_PROCESS else CANNOT_RELEASE
    _require(actor, [(permission, batch.lab_id)], message, clinic_id=batch.site_id, lab_id=batch.lab_id)


def _lock_batch(batch: Batch) -> Batch:
    return (
        Batch.objects.select_for_update(of=("self",))
        .select_related("site", "lab", "specimen__chain__consent", "donor_lot")
        .get(pk=batch.pk)
    )


def _batch_consent_problem(batch: Batch) -> FieldError | None:
    """The batch's consent is no longer in force (autologous), or its donor lot has expired."""
    if batch.specimen is not None and not _in_force(batch.specimen.chain.consent):
        return FieldError("consent", CONSENT_NOT_IN_FORCE.format(coi=batch.coi))
    if batch.donor_lot is not None and batch.donor_lot.expires_on < timezone.localdate():
        return FieldError("donor_lot", LOT_EXPIRED.format(day=batch.donor_lot.expires_on))
    return None


def _lot_doses_left(lot: DonorLot, excluding: int | None = None) -> int:
    spent = (
        Batch.objects.filter(donor_lot=lot)
        .exclude(status__in=DOSES_RETURNED)
        .exclude(pk=excluding)
        .aggregate(total=Sum("doses_planned"))["total"]
    )
    return lot.quantity - (spent or 0)


@transaction.atomic
def batch_plan(
    *,
    actor: User,
    specimen: Specimen | None = None,
    donor_lot: DonorLot | None = None,
    doses: int,
    wanted: date | None = None,
) -> Batch:
    """Plan a batch for a received specimen (under the protocol version its consent names) or a donor
    lot (under the current version), in the earliest processing slot free on or after WANTED (today)."""
    if (specimen is None) == (donor_lot is None):
        raise InvalidInput.single("specimen", ONE_SOURCE)
    errors: list[FieldError] = []
    today = timezone.localdate()
    if specimen is not None:
        _require(
            actor,
            [(Permission.LAB_PROCESS, specimen.lab_id)],
            CANNOT_PROCESS,
            clinic_id=specimen.site_id,
            lab_id=specimen.lab_id,
        )
        specimen = (
            Specimen.objects.select_for_update(of=("self",))
            .select_related("site", "lab", "chain__consent")
            .get(pk=specimen.pk)
        )
        lab, site_id, coi = specimen.lab, specimen.site_id, specimen.coi
        if specimen.status != states.SPECIMEN_RECEIVED:
            errors.append(
                FieldError(
                    "specimen",
                    SPECIMEN_NOT_RECEIVED.format(status=states.SPECIMEN_STATES.label(specimen.status)),
                )
            )
        elif specimen.batches.exclude(status=states.BATCH_CANCELLED).exists():
            errors.append(FieldError("specimen", SPECIMEN_HAS_BATCH))
        if not _in_force(specimen.chain.consent):
            errors.append(FieldError("specimen", CONSENT_NOT_IN_FORCE.format(coi=coi)))
        code, version = specimen.therapy_code, specimen.therapy_version
        therapy = _therapy(code, version)
        if therapy is None:
            errors.append(FieldError("specimen", THERAPY_GONE.format(version=version, code=code)))
    else:
        assert donor_lot is not None
        _require(
            actor,
            [(Permission.LAB_PROCESS, donor_lot.site_id)],
            CANNOT_PROCESS,
            clinic_id=None,
            lab_id=donor_lot.site_id,
        )
        donor_lot = (
            DonorLot.objects.select_for_update(of=("self",)).select_related("site").get(pk=donor_lot.pk)
        )
        lab, site_id, coi = donor_lot.site, donor_lot.site_id, ""
        therapy = get_catalogue().therapies.get(donor_lot.therapy_code)
        if therapy is None:
            errors.append(FieldError("donor_lot", NOT_IN_CATALOGUE))
        elif therapy.cell_source != CellSource.ALLOGENEIC:
            errors.append(FieldError("donor_lot", LOT_NOT_DONOR))
        if donor_lot.expires_on < today:
            errors.append(FieldError("donor_lot", LOT_EXPIRED.format(day=donor_lot.expires_on)))
    doses = _whole(errors, "doses", doses, low=1, high=MAX_DOSES)
    if donor_lot is not None and isinstance(doses, int) and doses > (left := _lot_doses_left(donor_lot)):
        errors.append(FieldError("doses", TOO_FEW_DOSES_LEFT.format(left=max(left, 0))))
    if wanted is None:
        wanted = today
    elif _day(errors, "wanted", wanted) is not None and wanted < today:
        errors.append(FieldError("wanted", IN_THE_PAST))
    # Lock the lab's profile: two batches planned at once must not both take the last free slot.
    if LabProfile.objects.select_for_update().filter(site_id=lab.pk).first() is None:
        errors.append(FieldError("lab", LAB_NOT_READY))
    _invalid(errors)
    assert therapy is not None
    slot_start, ready_from, ready_to = earliest_processing(lab=lab, therapy=therapy, wanted=wanted)
    batch = Batch.objects.create(
        site_id=site_id,
        lab=lab,
        code=uuid.uuid4().hex[:24],  # unique until the row has its number, just below
        specimen=specimen,
        donor_lot=donor_lot,
        coi=coi,
        therapy_code=therapy.code,
        therapy_version=specimen.therapy_version if specimen is not None else therapy.version,
        slot_start=slot_start,
        ready_from=ready_from,
        ready_to=ready_to,
        doses_planned=doses,
        created_by=actor,
    )
    # The code counts batches in the order they were planned: "B26-000123".
    batch.code = f"B{today.year % 100:02d}-{batch.pk:06d}"
    batch.save(update_fields=["code"])
    audit_record(
        actor=actor,
        action="batch.plan",
        object_type=Batch.AUDIT_OBJECT_TYPE,
        object_id=batch.pk,
        site=lab if specimen is None else specimen.site,
        after=snapshot(
            batch,
            fields=[
                "code",
                "coi",
                "therapy_code",
                "therapy_version",
                "slot_start",
                "ready_from",
                "ready_to",
                "doses_planned",
            ],
        )
        | {"specimen": specimen.pk if specimen else None, "donor_lot": donor_lot.pk if donor_lot else None},
    )
    return batch


@transaction.atomic
def batch_start(*, actor: User, batch: Batch, reagent_lots: Iterable[ReagentLot] = ()) -> Batch:
    """Start processing: the actor is the batch's processor; the specimen goes into processing."""
    _lab_gate(actor, batch)
    locked = _lock_batch(batch)
    lots = list(ReagentLot.objects.filter(pk__in=sorted({lot.pk for lot in reagent_lots})).order_by("id"))
    errors: list[FieldError] = []
    _move(errors, states.BATCH_STATES, locked.status, states.BATCH_IN_PROCESS, "status")
    if problem := _batch_consent_problem(locked):
        errors.append(problem)
    today = timezone.localdate()
    for lot in lots:
        if lot.site_id != locked.lab_id:
            errors.append(FieldError("reagent_lots", REAGENT_ELSEWHERE.format(lot=lot)))
        elif lot.expires_on is not None and lot.expires_on < today:
            errors.append(FieldError("reagent_lots", REAGENT_EXPIRED.format(lot=lot, day=lot.expires_on)))
    if locked.specimen is not None:
        _move(
            errors, states.SPECIMEN_STATES, locked.specimen.status, states.SPECIMEN_IN_PROCESSING, "specimen"
        )
    _invalid(errors)
    now = timezone.now()
    state_change(
        locked,
        to=states.BATCH_IN_PROCESS,
        table=states.BATCH_STATES,
        actor=actor,
        action="batch.start",
        fields={"processed_by": actor, "started_at": now},
        extra_after={"reagent_lots": [str(lot) for lot in lots]},
    )
    locked.reagent_lots.add(*lots)
    if locked.specimen is not None:
        specimen = locked.specimen
        state_change(
            specimen,
            to=states.SPECIMEN_IN_PROCESSING,
            table=states.SPECIMEN_STATES,
            actor=actor,
            action="specimen.process",
            extra_after={"batch": locked.code},
        )
        _event(
            CustodyEvent.Kind.PROCESSING,
            by=actor,
            at_site_id=locked.lab_id,
            when=now,
            specimen=specimen,
            note=locked.code,
        ).save()
    return locked


def _open_for_records(errors: list[FieldError], batch: Batch, allowed: Sequence[str]) -> None:
    if batch.status not in allowed:
        errors.append(
            FieldError("batch", BATCH_FINISHED.format(status=states.BATCH_STATES.label(batch.status)))
        )


@transaction.atomic
def process_step_record(
    *,
    actor: User,
    batch: Batch,
    name: str,
    passage: int | None = None,
    cell_count: int | None = None,
    viability_percent: Decimal | float | str | None = None,
    note: str = "",
    performed_at: datetime | None = None,
) -> ProcessStep:
    """Record one step of processing (a passage, a count, harvesting the culture) of a batch in process."""
    _lab_gate(actor, batch)
    locked = _lock_batch(batch)
    errors: list[FieldError] = []
    if locked.status != states.BATCH_IN_PROCESS:
        errors.append(
            FieldError("batch", BATCH_NOT_IN_PROCESS.format(status=states.BATCH_STATES.label(locked.status)))
        )
    name = _text(errors, "name", name, limit=120)
    if passage is not None:
        _whole(errors, "passage", passage, low=0, high=MAX_PASSAGE)
    if cell_count is not None:
        _whole(errors, "cell_count", cell_count, low=0, high=MAX_CELL_COUNT)
    viability = None
    if viability_percent is not None:
        viability = _decimal(
            errors, "viability_percent", viability_percent, low=Decimal(0), high=Decimal(100)
        )
    note = _text(errors, "note", note, limit=MAX_TEXT, required=False)
    now = timezone.now()
    when = now if performed_at is None else _moment(errors, "performed_at", performed_at)
    if when is not None:
        if when > now:
            errors.append(FieldError("performed_at", IN_THE_FUTURE))
        elif locked.started_at is not None and when < locked.started_at:
            errors.append(FieldError("performed_at", BEFORE_START))
    _invalid(errors)
    step = ProcessStep.objects.create(
        batch=locked,
        name=name,
        passage=passage,
        cell_count=cell_count,
        viability_percent=viability,
        note=note,
        performed_by=actor,
        performed_at=when,
    )
    audit_record(
        actor=actor,
        action="batch.step",
        object_type=Batch.AUDIT_OBJECT_TYPE,
        object_id=locked.pk,
        site=locked.site,
        after={
            "step": name,
            "passage": passage,
            "cell_count": cell_count,
            "viability_percent": viability,
            "performed_at": when,
            "note": note,
        },
    )
    return step


@transaction.atomic
def deviation_record(*, actor: User, batch: Batch, description: str, reason: str) -> Deviation:
    """Record a departure from the protocol on a batch not yet decided, with its reason."""
    _lab_gate(actor, batch)
    locked = _lock_batch(batch)
    errors: list[FieldError] = []
    _open_for_records(errors, locked, (states.BATCH_PLANNED, *QC_OPEN))
    description = _text(errors, "description", description, limit=MAX_TEXT)
    reason = _text(errors, "reason", reason, limit=MAX_TEXT)
    _invalid(errors)
    deviation = Deviation.objects.create(
        batch=locked, description=description, reason=reason, recorded_by=actor, recorded_at=timezone.now()
    )
    audit_record(
        actor=actor,
        action="batch.deviation",
        object_type=Batch.AUDIT_OBJECT_TYPE,
        object_id=locked.pk,
        site=locked.site,
        after={"deviation": description},
        reason=reason,
    )
    return deviation


@transaction.atomic
def batch_cancel(*, actor: User, batch: Batch, reason: str) -> Batch:
    """Cancel a planned batch before processing starts, freeing its slot."""
    _lab_gate(actor, batch)
    locked = _lock_batch(batch)
    errors: list[FieldError] = []
    _move(errors, states.BATCH_STATES, locked.status, states.BATCH_CANCELLED, "status")
    reason = _text(errors, "reason", reason, limit=MAX_TEXT)
    _invalid(errors)
    return state_change(
        locked,
        to=states.BATCH_CANCELLED,
        table=states.BATCH_STATES,
        actor=actor,
        action="batch.cancel",
        reason=reason,
    )


@transaction.atomic
def batch_fail(*, actor: User, batch: Batch, reason: str) -> Batch:
    """Record a failed culture. The specimen is used up; the clinic's practitioners are told, so that
    the clinic can harvest again (`specimen_collect(replaces=...)`) under the same consent and plan."""
    _lab_gate(actor, batch)
    locked = _lock_batch(batch)
    errors: list[FieldError] = []
    _move(errors, states.BATCH_STATES, locked.status, states.BATCH_FAILED, "status")
    reason = _text(errors, "reason", reason, limit=MAX_TEXT)
    specimen = locked.specimen
    if specimen is not None and specimen.status == states.SPECIMEN_IN_PROCESSING:
        _move(errors, states.SPECIMEN_STATES, specimen.status, states.SPECIMEN_USED, "specimen")
    _invalid(errors)
    state_change(
        locked,
        to=states.BATCH_FAILED,
        table=states.BATCH_STATES,
        actor=actor,
        action="batch.fail",
        reason=reason,
        fields={"failed_reason": reason},
    )
    if specimen is not None and specimen.status == states.SPECIMEN_IN_PROCESSING:
        state_change(
            specimen,
            to=states.SPECIMEN_USED,
            table=states.SPECIMEN_STATES,
            actor=actor,
            action="specimen.use",
        )
    if specimen is not None and _in_force(specimen.chain.consent):
        _tell(
            _people(locked.site_id, [Role.PRACTITIONER]),
            kind="lab.culture_failed",
            template="lab/notifications/culture_failed",
            site=locked.site,
            actor=actor,
            obj=locked,
            link=reverse("lab:batch", args=[locked.pk]),
            context={"batch": locked, "lab": locked.lab, "reason": reason},
        )
    return locked


def _shelf_life(therapy: Therapy) -> ShelfLife | None:
    """The protocol's shelf life that counts from making the product (not from thawing or opening)."""
    return next((item for item in therapy.shelf_life if item.after.value in MADE_AT), None)


def storage_text(therapy: Therapy) -> str:
    """How a product of THERAPY is kept, for its label: "Store at 2–8 °C"."""
    storage = therapy.storage
    if storage is not None and storage.temperature_c is not None:
        return f"Store at {storage.temperature_c.text}"[:80]
    shelf = _shelf_life(therapy)
    if shelf is not None and shelf.condition:
        return f"Store {shelf.condition}"[:80]
    return "Store as the protocol directs"


def product_code(therapy_code: str, *, autologous: bool) -> str:
    """The 8-character product code of THERAPY_CODE's products, shaped like ISBT 128's (Data Structure 003).

    A local scheme, not codes assigned by ICCBBA: the product description code is "S" (the letter we
    take for cellular therapy; DOMAIN.md §6 marks it unverified) and four digits derived from the
    therapy code (the first 8 bytes of its SHA-256, modulo 9999, plus 1), so one therapy always has one
    code; then the collection type, "1" for autologous use only and "V" for a volunteer donor, and the
    division "00" (each dose has its own DIN, so none is divided). An installation with ICCBBA
    product codes maps its therapies to them here.
    """
    digest = int.from_bytes(hashlib.sha256(therapy_code.encode()).digest()[:8], "big")
    return f"S{digest % 9999 + 1:04d}{'1' if autologous else 'V'}00"


def _allocate_dins(lab_id: int, facility: str, count: int) -> list[Din]:
    """COUNT new DINs of the lab, in sequence, under a lock on its sequence row for this year."""
    year = timezone.localdate().year
    # Lock the row: two batches finishing at once must never be given the same number.
    sequence, _ = DinSequence.objects.select_for_update().get_or_create(lab_id=lab_id, year=year)
    dins: list[Din] = []
    last = sequence.last or None
    try:
        for _ in range(count):
            din = next_din(facility, year % 100, last)
            dins.append(din)
            last = din.sequence
    except ValueError:
        raise InvalidInput.single("lab", DINS_USED_UP) from None
    sequence.last = last or 0
    sequence.save(update_fields=["last"])
    return dins


def _criteria(batch: Batch) -> list[release.Criterion]:
    therapy = _therapy(batch.therapy_code, batch.therapy_version)
    if therapy is None:
        raise InvalidInput.single(
            "batch", THERAPY_GONE.format(version=batch.therapy_version, code=batch.therapy_code)
        )
    return [release.criterion_from(item) for item in therapy.release_criteria]


def _current_results(batch: Batch) -> list[QCResult]:
    return list(QCResult.objects.filter(batch=batch, status__in=CURRENT_QC).order_by("entered_at", "id"))


def _key(test: str) -> str:
    return " ".join(test.split()).casefold()


def _qc_complete(actor: User, batch: Batch) -> None:
    """Move a batch waiting for QC to waiting for release once every criterion has a current result."""
    if batch.status != states.BATCH_QC_PENDING:
        return
    criteria = {_key(c.test) for c in _criteria(batch)}
    entered = {_key(r.test) for r in _current_results(batch)}
    if criteria and criteria <= entered:
        state_change(
            batch,
            to=states.BATCH_AWAITING_RELEASE,
            table=states.BATCH_STATES,
            actor=actor,
            action="batch.qc_complete",
        )


@transaction.atomic
def batch_finish_processing(*, actor: User, batch: Batch, doses_made: int, banked_vials: int = 0) -> Batch:
    """End processing: the batch waits for QC and its doses become products awaiting release.

    Each product gets the next DIN of the lab (under a lock on its sequence), the protocol's product code,
    an expiry from the protocol's shelf life counted from now, and its storage. Cells kept frozen
    (BANKED_VIALS) are stored until the end of the storage consent (CELLCLINIC_CELL_BANKING_MONTHS).
    """
    _lab_gate(actor, batch)
    locked = _lock_batch(batch)
    errors: list[FieldError] = []
    _move(errors, states.BATCH_STATES, locked.status, states.BATCH_QC_PENDING, "status")
    doses_made = _whole(errors, "doses_made", doses_made, low=1, high=MAX_DOSES)
    if isinstance(doses_made, int) and doses_made > locked.doses_planned:
        errors.append(FieldError("doses_made", MORE_THAN_PLANNED.format(planned=locked.doses_planned)))
    banked_vials = _whole(errors, "banked_vials", banked_vials, low=0, high=MAX_BANKED_VIALS)
    if problem := _batch_consent_problem(locked):
        errors.append(problem)
    therapy = _therapy(locked.therapy_code, locked.therapy_version)
    shelf = _shelf_life(therapy) if therapy is not None else None
    if therapy is None:
        errors.append(
            FieldError("batch", THERAPY_GONE.format(version=locked.therapy_version, code=locked.therapy_code))
        )
    elif shelf is None:
        errors.append(FieldError("batch", NO_SHELF_LIFE))
    profile = _profile(locked.lab_id)
    if profile is None:
        errors.append(FieldError("lab", LAB_NOT_READY))
    _invalid(errors)
    assert therapy is not None and shelf is not None and profile is not None
    now = timezone.now()
    expiry = release.expires_at(now, shelf.max, shelf.unit)
    chain = locked.specimen.chain if locked.specimen is not None else None
    code = product_code(therapy.code, autologous=chain is not None)
    storage = storage_text(therapy)
    dins = _allocate_dins(locked.lab_id, profile.facility_code, doses_made)
    Product.objects.bulk_create(
        Product(
            site_id=locked.site_id,
            lab_id=locked.lab_id,
            batch=locked,
            chain=chain,
            coi=locked.coi,
            donor_lot=locked.donor_lot,
            din=din.din,
            din_flags=din.flags,
            din_check=din.check,
            product_code=code,
            therapy_code=locked.therapy_code,
            therapy_version=locked.therapy_version,
            dose_number=number,
            expires_at=expiry,
            storage=storage,
        )
        for number, din in enumerate(dins, start=1)
    )
    banked_until = timezone.localdate(
        release.expires_at(now, settings.CELLCLINIC_CELL_BANKING_MONTHS, "months")
    )
    state_change(
        locked,
        to=states.BATCH_QC_PENDING,
        table=states.BATCH_STATES,
        actor=actor,
        action="batch.finish",
        fields={"banked_vials": banked_vials, "banked_until": banked_until if banked_vials else None},
        extra_after={
            "doses_made": doses_made,
            "products": [din.din for din in dins],
            "product_code": code,
            "expires_at": expiry,
        },
    )
    specimen = locked.specimen
    if specimen is not None and specimen.status == states.SPECIMEN_IN_PROCESSING:
        state_change(
            specimen,
            to=states.SPECIMEN_USED,
            table=states.SPECIMEN_STATES,
            actor=actor,
            action="specimen.use",
        )
    _qc_complete(actor, locked)
    return locked


# --- QC ------------------------------------------------------------------------------------------------


def _judge(
    errors: list[FieldError], criteria: list[release.Criterion], test: object, value: object, unit: object
) -> tuple[release.Criterion, release.Evaluation, str, str] | None:
    """The criterion TEST names, its evaluation against VALUE in UNIT, and the value and unit as stored."""
    names = ", ".join(c.test for c in criteria) or "none"
    if not criteria:
        errors.append(FieldError("test", NO_CRITERIA))
        return None
    if not isinstance(test, str) or not test.strip():
        errors.append(FieldError("test", REQUIRED))
        return None
    criterion = next((c for c in criteria if _key(c.test) == _key(test)), None)
    if criterion is None:
        errors.append(FieldError("test", UNKNOWN_TEST.format(tests=names)))
        return None
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        value = str(value)
    written = _text(errors, "value", value, limit=120)
    unit_text = _text(errors, "unit", unit, limit=40, required=False)
    if not written:
        return None
    if criterion.is_numeric:
        try:
            number = Decimal(written)
            if not number.is_finite():
                raise InvalidOperation
        except InvalidOperation:
            errors.append(FieldError("value", NEEDS_NUMBER.format(unit=criterion.unit or "no unit")))
            return None
        result = release.QCResult(test=criterion.test, value=number, unit=unit_text or None)
    else:
        if unit_text:
            errors.append(FieldError("unit", TEXT_HAS_NO_UNIT))
            return None
        result = release.QCResult(test=criterion.test, text=written)
    try:
        evaluation = release.evaluate_one(criterion, result)
    except ValueError as error:
        field = "unit" if "unit:" in str(error) else "value"
        errors.append(FieldError(field, str(error).split(": ", 1)[-1]))
        return None
    return criterion, evaluation, written, unit_text


def _qc_row(batch: Batch, actor: User, judged) -> QCResult:
    criterion, evaluation, written, unit_text = judged
    return QCResult.objects.create(
        batch=batch,
        test=criterion.test,
        value=written,
        unit=unit_text,
        limit=criterion.specification[:160],
        status=states.QC_PASSED if evaluation.passed else states.QC_FAILED,
        entered_by=actor,
        entered_at=timezone.now(),
    )


def _qc_after(result: QCResult, evaluation: release.Evaluation) -> dict[str, Any]:
    return {
        "test": result.test,
        "value": result.value,
        "unit": result.unit,
        "limit": result.limit,
        "status": result.status,
        "judged": evaluation.reason,
    }


@transaction.atomic
def qc_result_enter(*, actor: User, batch: Batch, test: str, value: str, unit: str = "") -> QCResult:
    """Enter one QC result, judged at once against the protocol version's release criterion for TEST.

    When every criterion has a current result the batch waits for release.
    """
    _lab_gate(actor, batch)
    locked = _lock_batch(batch)
    errors: list[FieldError] = []
    _open_for_records(errors, locked, (states.BATCH_IN_PROCESS, states.BATCH_QC_PENDING))
    judged = _judge(errors, _criteria(locked), test, value, unit)
    if judged is not None and any(_key(r.test) == _key(judged[0].test) for r in _current_results(locked)):
        errors.append(FieldError("test", ALREADY_ENTERED))
    _invalid(errors)
    assert judged is not None
    result = _qc_row(locked, actor, judged)
    audit_record(
        actor=actor,
        action="qc.enter",
        object_type=Batch.AUDIT_OBJECT_TYPE,
        object_id=locked.pk,
        site=locked.site,
        after=_qc_after(result, judged[1]),
    )
    _qc_complete(actor, locked)
    return result


@transaction.atomic
def qc_result_correct(*, actor: User, result: QCResult, value: str, unit: str = "", reason: str) -> QCResult:
    """Correct a QC result: the earlier one is kept, marked corrected with REASON; a new one replaces it."""
    batch = result.batch
    _lab_gate(actor, batch)
    locked_batch = _lock_batch(batch)
    locked = QCResult.objects.select_for_update().get(pk=result.pk)
    errors: list[FieldError] = []
    if locked.status not in CURRENT_QC:
        errors.append(
            FieldError(
                "result", RESULT_NOT_CURRENT.format(status=states.QC_RESULT_STATES.label(locked.status))
            )
        )
    if locked_batch.status not in QC_OPEN:
        errors.append(
            FieldError("batch", QC_CLOSED.format(status=states.BATCH_STATES.label(locked_batch.status)))
        )
    reason = _text(errors, "reason", reason, limit=MAX_TEXT)
    judged = _judge(errors, _criteria(locked_batch), locked.test, value, unit)
    _invalid(errors)
    assert judged is not None
    replacement = _qc_row(locked_batch, actor, judged)
    before = {"test": locked.test, "value": locked.value, "unit": locked.unit, "status": locked.status}
    locked.status, locked.corrected_by, locked.correction_reason = states.QC_CORRECTED, replacement, reason
    locked.save(update_fields=["status", "corrected_by", "correction_reason"])
    audit_record(
        actor=actor,
        action="qc.correct",
        object_type=Batch.AUDIT_OBJECT_TYPE,
        object_id=locked_batch.pk,
        site=locked_batch.site,
        before=before,
        after=_qc_after(replacement, judged[1]),
        reason=reason,
    )
    _qc_complete(actor, locked_batch)
    return replacement


# --- release -------------------------------------------------------------------------------------------


def _evaluations(batch: Batch) -> tuple[release.Evaluation, ...]:
    criteria = _criteria(batch)
    results = []
    for row in _current_results(batch):
        criterion = next((c for c in criteria if _key(c.test) == _key(row.test)), None)
        if criterion is not None and criterion.is_numeric:
            results.append(release.QCResult(test=row.test, value=Decimal(row.value), unit=row.unit or None))
        else:
            results.append(release.QCResult(test=row.test, text=row.value))
    try:
        return release.evaluate(criteria, results)
    except ValueError as error:
        raise InvalidInput.single("qc_results", str(error)) from None


def _processors(batch: Batch) -> set[int]:
    """Everyone who processed BATCH: its processor and whoever recorded a step of it."""
    people = set(ProcessStep.objects.filter(batch=batch).values_list("performed_by_id", flat=True))
    if batch.processed_by_id is not None:
        people.add(batch.processed_by_id)
    return people


def _release_problems(actor: User, batch: Batch, evaluations) -> list[FieldError]:
    """Every reason ACTOR may not release BATCH now, by field."""
    errors: list[FieldError] = []
    processors = _processors(batch)
    decision = release.release_decision(evaluations, batch.processed_by_id or 0, actor.pk)
    for refusal in decision.reasons:
        if refusal.code != release.RefusalCode.RELEASER_PROCESSED:
            errors.append(FieldError("qc_results", refusal.text))
    if actor.pk in processors:
        errors.append(FieldError("actor", RELEASER_PROCESSED))
    if batch.donor_lot is not None and not batch.donor_lot.eligible:
        errors.append(FieldError("donor_lot", NOT_ELIGIBLE))
    if problem := _batch_consent_problem(batch):
        errors.append(problem)
    return errors


def _batch_record(batch: Batch, evaluations, products: list[Product]) -> dict[str, Any]:
    """What a QA reviewer signs: the batch, every criterion as judged, and the products."""
    return {
        "batch": batch.code,
        "coi": batch.coi,
        "donor_lot": batch.donor_lot.lot_number if batch.donor_lot else "",
        "therapy_code": batch.therapy_code,
        "therapy_version": batch.therapy_version,
        "results": [
            {"test": e.test, "limit": e.specification, "outcome": e.outcome.value, "reason": e.reason}
            for e in evaluations
        ],
        "products": [p.din for p in products],
    }


@transaction.atomic
def batch_release(*, actor: User, batch: Batch, password: str) -> Batch:
    """Release a batch with the QA reviewer's electronic signature (meaning: released).

    Only when every release criterion passes, the reviewer neither processed the batch nor recorded a
    step of it, the consent is still in force (or, for a donor lot, eligibility is documented and the
    lot unexpired) and its products are unexpired. Its products are released, each with a RELEASED event.
    """
    _lab_gate(actor, batch, Permission.LAB_RELEASE)
    locked = _lock_batch(batch)
    errors: list[FieldError] = []
    _move(errors, states.BATCH_STATES, locked.status, states.BATCH_RELEASED, "status")
    _invalid(errors)
    evaluations = _evaluations(locked)
    errors = _release_problems(actor, locked, evaluations)
    now = timezone.now()
    products = list(
        Product.objects.select_for_update(of=("self",))
        .filter(batch=locked, status=states.PRODUCT_AWAITING_RELEASE)
        .order_by("dose_number")
    )
    if not products:
        errors.append(FieldError("products", NOTHING_TO_RELEASE))
    errors += [
        FieldError("products", PRODUCT_EXPIRED.format(din=p.din)) for p in products if p.expires_at <= now
    ]
    _invalid(errors)
    signature_create(
        signer=actor,
        password=password,
        meaning=Signature.Meaning.RELEASED,
        object_type=Batch.AUDIT_OBJECT_TYPE,
        object_id=locked.pk,
        record=_batch_record(locked, evaluations, products),
        site=locked.site,
        statement=RELEASE_STATEMENT,
        signed_at=now,
    )
    state_change(
        locked,
        to=states.BATCH_RELEASED,
        table=states.BATCH_STATES,
        actor=actor,
        action="batch.release",
        fields={"decided_by": actor, "decided_at": now, "decision_meaning": Signature.Meaning.RELEASED.value},
        extra_after={"products_released": [p.din for p in products]},
    )
    Product.objects.filter(pk__in=[p.pk for p in products]).update(
        status=states.PRODUCT_RELEASED, updated_at=now
    )
    CustodyEvent.objects.bulk_create(
        _event(
            CustodyEvent.Kind.RELEASED,
            by=actor,
            at_site_id=locked.lab_id,
            when=now,
            product=p,
            note=locked.code,
        )
        for p in products
    )
    return locked


@transaction.atomic
def batch_reject(*, actor: User, batch: Batch, reason: str, password: str) -> Batch:
    """Reject a batch waiting for release, signed by the QA reviewer; its products are rejected for good."""
    _lab_gate(actor, batch, Permission.LAB_RELEASE)
    locked = _lock_batch(batch)
    errors: list[FieldError] = []
    _move(errors, states.BATCH_STATES, locked.status, states.BATCH_REJECTED, "status")
    reason = _text(errors, "reason", reason, limit=MAX_TEXT)
    _invalid(errors)
    products = list(
        Product.objects.select_for_update(of=("self",))
        .filter(batch=locked, status__in=(states.PRODUCT_AWAITING_RELEASE, states.PRODUCT_QUARANTINED))
        .order_by("dose_number")
    )
    now = timezone.now()
    statement = REJECT_STATEMENT.format(reason=reason)
    signature_create(
        signer=actor,
        password=password,
        meaning=Signature.Meaning.REVIEWED,
        object_type=Batch.AUDIT_OBJECT_TYPE,
        object_id=locked.pk,
        record={
            **_batch_record(locked, _evaluations(locked), products),
            "decision": "rejected",
            "reason": reason,
        },
        site=locked.site,
        statement=statement[:300],
        signed_at=now,
    )
    state_change(
        locked,
        to=states.BATCH_REJECTED,
        table=states.BATCH_STATES,
        actor=actor,
        action="batch.reject",
        reason=reason,
        fields={
            "decided_by": actor,
            "decided_at": now,
            "decision_meaning": "rejected",
            "rejected_reason": reason,
        },
        extra_after={"products_rejected": [p.din for p in products]},
    )
    Product.objects.filter(pk__in=[p.pk for p in products]).update(
        status=states.PRODUCT_REJECTED, status_reason=reason, updated_at=now
    )
    CustodyEvent.objects.bulk_create(
        _event(
            CustodyEvent.Kind.REJECTED, by=actor, at_site_id=locked.lab_id, when=now, product=p, note=reason
        )
        for p in products
    )
    return locked


# --- products ------------------------------------------------------------------------------------------


def _lock_product(product: Product) -> Product:
    return (
        Product.objects.select_for_update(of=("self",))
        .select_related("site", "batch", "chain__consent", "donor_lot")
        .get(pk=product.pk)
    )


def _handler_site(actor: User, product: Product, message: str, *, clinic_too: bool) -> int:
    """Where ACTOR handles PRODUCT: its lab (lab staff) or, when CLINIC_TOO, the clinic that holds it."""
    allowed: list[tuple[Permission, int | None]] = [
        (Permission.LAB_PROCESS, product.lab_id),
        (Permission.LAB_RELEASE, product.lab_id),
    ]
    if clinic_too and product.site_id != product.lab_id:
        allowed.append((Permission.PRODUCT_ADMINISTER, product.site_id))
    held = _require(actor, allowed, message, clinic_id=product.site_id, lab_id=product.lab_id)
    return product.site_id if held == Permission.PRODUCT_ADMINISTER else product.lab_id


def _product_change(
    actor: User, product: Product, to: str, *, action: str, reason: str, kind: str, at_site_id: int
) -> Product:
    state_change(
        product,
        to=to,
        table=states.PRODUCT_STATES,
        actor=actor,
        action=action,
        reason=reason,
        fields={"status_reason": reason},
    )
    _event(kind, by=actor, at_site_id=at_site_id, when=timezone.now(), product=product, note=reason).save()
    return product


@transaction.atomic
def product_quarantine(*, actor: User, product: Product, reason: str) -> Product:
    """Hold a product in quarantine, by its lab or by the clinic that holds it."""
    locked = _lock_product(product)
    where = _handler_site(actor, locked, CANNOT_HANDLE_PRODUCT, clinic_too=True)
    errors: list[FieldError] = []
    _move(errors, states.PRODUCT_STATES, locked.status, states.PRODUCT_QUARANTINED, "status")
    reason = _text(errors, "reason", reason, limit=MAX_TEXT)
    _invalid(errors)
    return _product_change(
        actor,
        locked,
        states.PRODUCT_QUARANTINED,
        action="product.quarantine",
        reason=reason,
        kind=CustodyEvent.Kind.QUARANTINED,
        at_site_id=where,
    )


@transaction.atomic
def product_release_from_quarantine(*, actor: User, product: Product, reason: str, password: str) -> Product:
    """Release a quarantined product again, signed by a QA reviewer who did not process its batch.

    Only a product whose batch was released, unexpired, under a consent in force (or from an eligible,
    unexpired donor lot).
    """
    locked = _lock_product(product)
    _require(
        actor,
        [(Permission.LAB_RELEASE, locked.lab_id)],
        CANNOT_RELEASE,
        clinic_id=locked.site_id,
        lab_id=locked.lab_id,
    )
    batch = _lock_batch(locked.batch)
    errors: list[FieldError] = []
    _move(errors, states.PRODUCT_STATES, locked.status, states.PRODUCT_RELEASED, "status")
    reason = _text(errors, "reason", reason, limit=MAX_TEXT)
    if batch.status != states.BATCH_RELEASED:
        errors.append(FieldError("product", BATCH_NOT_RELEASED))
    if locked.expires_at <= timezone.now():
        errors.append(FieldError("product", PRODUCT_EXPIRED.format(din=locked.din)))
    if actor.pk in _processors(batch):
        errors.append(FieldError("actor", RELEASER_PROCESSED))
    if batch.donor_lot is not None and not batch.donor_lot.eligible:
        errors.append(FieldError("donor_lot", NOT_ELIGIBLE))
    if problem := _batch_consent_problem(batch):
        errors.append(problem)
    _invalid(errors)
    signature_create(
        signer=actor,
        password=password,
        meaning=Signature.Meaning.RELEASED,
        object_type=Product.AUDIT_OBJECT_TYPE,
        object_id=locked.pk,
        record={"din": locked.din, "batch": batch.code, "coi": locked.coi, "reason": reason},
        site=locked.site,
        statement=RELEASE_FROM_QUARANTINE_STATEMENT.format(reason=reason)[:300],
    )
    return _product_change(
        actor,
        locked,
        states.PRODUCT_RELEASED,
        action="product.release_from_quarantine",
        reason=reason,
        kind=CustodyEvent.Kind.RELEASED,
        at_site_id=locked.lab_id,
    )


@transaction.atomic
def product_recall(*, actor: User, product: Product, reason: str) -> Product:
    """Recall a released product (QA); the clinic's practitioners are told."""
    locked = _lock_product(product)
    _require(
        actor,
        [(Permission.LAB_RELEASE, locked.lab_id)],
        CANNOT_RELEASE,
        clinic_id=locked.site_id,
        lab_id=locked.lab_id,
    )
    errors: list[FieldError] = []
    _move(errors, states.PRODUCT_STATES, locked.status, states.PRODUCT_RECALLED, "status")
    reason = _text(errors, "reason", reason, limit=MAX_TEXT)
    _invalid(errors)
    _product_change(
        actor,
        locked,
        states.PRODUCT_RECALLED,
        action="product.recall",
        reason=reason,
        kind=CustodyEvent.Kind.RECALLED,
        at_site_id=locked.lab_id,
    )
    if locked.site_id != locked.lab_id:
        _tell(
            _people(locked.site_id, [Role.PRACTITIONER, Role.NURSE]),
            kind="lab.product_recalled",
            template="lab/notifications/product_recalled",
            site=locked.site,
            actor=actor,
            obj=locked,
            link=reverse("lab:product", args=[locked.din]),
            context={"product": locked, "reason": reason},
        )
    return locked


@transaction.atomic
def product_dispose(*, actor: User, product: Product, reason: str) -> Product:
    """Record that a product was disposed of, by its lab or the clinic that holds it, with the reason.

    A rejected product stays rejected: its disposal is recorded beside that status, once.
    """
    locked = _lock_product(product)
    where = _handler_site(actor, locked, CANNOT_HANDLE_PRODUCT, clinic_too=True)
    errors: list[FieldError] = []
    reason = _text(errors, "reason", reason, limit=MAX_TEXT)
    rejected = locked.status == states.PRODUCT_REJECTED
    if rejected:
        if locked.custody.filter(kind=CustodyEvent.Kind.DISPOSED).exists():
            errors.append(FieldError("status", ALREADY_DISPOSED))
    else:
        _move(errors, states.PRODUCT_STATES, locked.status, states.PRODUCT_DISPOSED, "status")
    _invalid(errors)
    if not rejected:
        return _product_change(
            actor,
            locked,
            states.PRODUCT_DISPOSED,
            action="product.dispose",
            reason=reason,
            kind=CustodyEvent.Kind.DISPOSED,
            at_site_id=where,
        )
    _event(
        CustodyEvent.Kind.DISPOSED,
        by=actor,
        at_site_id=where,
        when=timezone.now(),
        product=locked,
        note=reason,
    ).save()
    audit_record(
        actor=actor,
        action="product.dispose",
        object_type=Product.AUDIT_OBJECT_TYPE,
        object_id=locked.pk,
        site=locked.site,
        after={"status": locked.status, "disposed": True},
        reason=reason,
    )
    return locked


@transaction.atomic
def product_expire(*, actor: User, now: datetime | None = None) -> int:
    """Mark expired every product past its expiry (at NOW) that ACTOR handles; how many. Lab staff
    handle their lab's products released, in transit or received; clinic staff who give products handle
    those received at their clinic (`selectors.past_expiry`, which the page listing them reads too).
    Each gets an EXPIRED event where it is, and an audit event."""
    labs, clinics = selectors.expiry_scopes(actor)
    if not labs and not clinics:
        raise Forbidden(CANNOT_EXPIRE)
    errors: list[FieldError] = []
    now = timezone.now() if now is None else _moment(errors, "now", now)
    _invalid(errors)
    expired = list(
        selectors.past_expiry(actor, now)
        .select_for_update(of=("self",))
        .select_related("site")
        .order_by("id")
    )
    if not expired:
        return 0
    Product.objects.filter(pk__in=[p.pk for p in expired]).update(
        status=states.PRODUCT_EXPIRED, status_reason="Past its expiry", updated_at=timezone.now()
    )
    CustodyEvent.objects.bulk_create(
        _event(
            CustodyEvent.Kind.EXPIRED,
            by=actor,
            at_site_id=p.site_id if p.status == states.PRODUCT_RECEIVED else p.lab_id,
            when=now,
            product=p,
            note=f"Expired at {p.expires_at.isoformat()}",
        )
        for p in expired
    )
    for product in expired:
        audit_record(
            actor=actor,
            action="product.expire",
            object_type=Product.AUDIT_OBJECT_TYPE,
            object_id=product.pk,
            site=product.site,
            before={"status": product.status},
            after={"status": states.PRODUCT_EXPIRED, "expires_at": product.expires_at},
        )
    return len(expired)


@transaction.atomic
def banked_cells_dispose(*, actor: User, batch: Batch, reason: str) -> Batch:
    """Record that the cells a batch kept frozen were disposed of (at the end of the storage consent,
    or when the consent was withdrawn)."""
    _require(
        actor,
        [(Permission.LAB_PROCESS, batch.lab_id), (Permission.LAB_RELEASE, batch.lab_id)],
        CANNOT_PROCESS,
        clinic_id=batch.site_id,
        lab_id=batch.lab_id,
    )
    locked = _lock_batch(batch)
    errors: list[FieldError] = []
    reason = _text(errors, "reason", reason, limit=MAX_TEXT)
    if not locked.banked_vials:
        errors.append(FieldError("batch", NO_BANKED_CELLS))
    _invalid(errors)
    before = {"banked_vials": locked.banked_vials, "banked_until": locked.banked_until}
    locked.banked_vials = 0
    locked.save(update_fields=["banked_vials", "updated_at"])
    audit_record(
        actor=actor,
        action="batch.banked_dispose",
        object_type=Batch.AUDIT_OBJECT_TYPE,
        object_id=locked.pk,
        site=locked.site,
        before=before,
        after={"banked_vials": 0, "banked_until": locked.banked_until},
        reason=reason,
    )
    return locked


# --- donor lots and reagent lots -----------------------------------------------------------------------


def _screening_errors(errors: list[FieldError], screening: object) -> dict[str, str]:
    """SCREENING's results, stripped; an error per problem of its shape (an unknown test, a blank result)."""
    problems = screening_shape_problems(screening)
    for test, problem in problems.items():
        label = DONOR_TESTS.get(test, test)
        errors.append(FieldError("screening", problem if test == "screening" else f"{label}: {problem}"))
    if problems or not isinstance(screening, dict):
        return {}
    return {test: result.strip() for test, result in screening.items()}


@transaction.atomic
def donor_lot_create(
    *,
    actor: User,
    lab: Site,
    lot_number: str,
    therapy_code: str,
    screening: dict[str, str],
    expires_on: date,
    quantity: int,
) -> DonorLot:
    """Record a lot of donor cells at a lab, with its donor screening results as far as they are known."""
    _require(actor, [(Permission.LAB_PROCESS, lab.pk)], CANNOT_PROCESS, clinic_id=None, lab_id=lab.pk)
    errors: list[FieldError] = []
    lot_number = _text(errors, "lot_number", lot_number, limit=40)
    if lot_number and DonorLot.objects.filter(site=lab, lot_number=lot_number).exists():
        errors.append(FieldError("lot_number", LOT_EXISTS))
    therapy = get_catalogue().therapies.get(therapy_code) if isinstance(therapy_code, str) else None
    if therapy is None:
        errors.append(FieldError("therapy_code", NOT_IN_CATALOGUE))
    elif therapy.cell_source != CellSource.ALLOGENEIC:
        errors.append(FieldError("therapy_code", LOT_NOT_DONOR))
    results = _screening_errors(errors, screening)
    expires = _day(errors, "expires_on", expires_on)
    if expires is not None and expires < timezone.localdate():
        errors.append(FieldError("expires_on", IN_THE_PAST))
    _whole(errors, "quantity", quantity, low=1, high=MAX_LOT_QUANTITY)
    _invalid(errors)
    lot = DonorLot.objects.create(
        site=lab,
        lot_number=lot_number,
        therapy_code=therapy_code,
        screening=results,
        expires_on=expires_on,
        quantity=quantity,
        created_by=actor,
    )
    audit_record(
        actor=actor,
        action="donor_lot.create",
        object_type=DonorLot.AUDIT_OBJECT_TYPE,
        object_id=lot.pk,
        site=lab,
        after=snapshot(lot, fields=["lot_number", "therapy_code", "screening", "expires_on", "quantity"]),
    )
    return lot


def _lot_gate(actor: User, lot: DonorLot, permission: Permission) -> None:
    message = CANNOT_PROCESS if permission == Permission.LAB_PROCESS else CANNOT_RELEASE
    _require(actor, [(permission, lot.site_id)], message, clinic_id=None, lab_id=lot.site_id)


@transaction.atomic
def donor_lot_screening_record(*, actor: User, lot: DonorLot, results: dict[str, str]) -> DonorLot:
    """Add or replace screening results of a lot whose eligibility is not documented yet."""
    _lot_gate(actor, lot, Permission.LAB_PROCESS)
    locked = DonorLot.objects.select_for_update().select_related("site").get(pk=lot.pk)
    errors: list[FieldError] = []
    if locked.eligible:
        errors.append(FieldError("lot", ELIGIBILITY_DOCUMENTED))
    checked = _screening_errors(errors, results)
    _invalid(errors)
    before = dict(locked.screening)
    locked.screening = {**before, **checked}
    locked.save(update_fields=["screening"])
    audit_record(
        actor=actor,
        action="donor_lot.screening",
        object_type=DonorLot.AUDIT_OBJECT_TYPE,
        object_id=locked.pk,
        site=locked.site,
        before={"screening": before},
        after={"screening": locked.screening},
    )
    return locked


@transaction.atomic
def donor_lot_document_eligibility(*, actor: User, lot: DonorLot) -> DonorLot:
    """Document donor eligibility (QA): refused unless every donor test of DOMAIN.md §7 is recorded and
    negative, and the lot is unexpired."""
    _lot_gate(actor, lot, Permission.LAB_RELEASE)
    locked = DonorLot.objects.select_for_update().select_related("site").get(pk=lot.pk)
    errors: list[FieldError] = []
    if locked.eligible:
        errors.append(FieldError("lot", ELIGIBILITY_DOCUMENTED))
    if locked.expires_on < timezone.localdate():
        errors.append(FieldError("lot", LOT_EXPIRED.format(day=locked.expires_on)))
    for test, problem in eligibility_problems(locked.screening).items():
        errors.append(FieldError("screening", f"{DONOR_TESTS.get(test, test)}: {problem}"))
    _invalid(errors)
    now = timezone.now()
    locked.eligibility_documented_at, locked.eligibility_documented_by = now, actor
    locked.save(update_fields=["eligibility_documented_at", "eligibility_documented_by"])
    audit_record(
        actor=actor,
        action="donor_lot.eligibility",
        object_type=DonorLot.AUDIT_OBJECT_TYPE,
        object_id=locked.pk,
        site=locked.site,
        after={"eligibility_documented_at": now, "screening": locked.screening},
    )
    return locked


@transaction.atomic
def reagent_lot_create(
    *, actor: User, lab: Site, name: str, lot_number: str, expires_on: date | None = None
) -> ReagentLot:
    """Record a lot of a reagent or medium at a lab, for look-back from it to the products it touched."""
    _require(actor, [(Permission.LAB_PROCESS, lab.pk)], CANNOT_PROCESS, clinic_id=None, lab_id=lab.pk)
    errors: list[FieldError] = []
    name = _text(errors, "name", name, limit=120)
    lot_number = _text(errors, "lot_number", lot_number, limit=40)
    if expires_on is not None:
        _day(errors, "expires_on", expires_on)
    if name and lot_number and ReagentLot.objects.filter(site=lab, name=name, lot_number=lot_number).exists():
        errors.append(FieldError("lot_number", LOT_EXISTS))
    _invalid(errors)
    lot = ReagentLot.objects.create(site=lab, name=name, lot_number=lot_number, expires_on=expires_on)
    audit_record(
        actor=actor,
        action="reagent_lot.create",
        object_type=REAGENT_LOT_OBJECT_TYPE,
        object_id=lot.pk,
        site=lab,
        after={"name": name, "lot_number": lot_number, "expires_on": expires_on},
    )
    return lot


# --- consent withdrawn ---------------------------------------------------------------------------------


QUARANTINABLE_SPECIMENS = (states.SPECIMEN_RECEIVED, states.SPECIMEN_IN_PROCESSING)


def quarantine_for_consent(*, consent: Consent, actor: User | None, reason: str) -> None:
    """What a withdrawn consent leaves at the lab and the clinic, held at once (the `consent_withdrawn` hook).

    In the withdrawal's own transaction: every product of the consent's chain of identity that is not
    used (administered or disposed of) is quarantined where the table allows it, every specimen not yet
    used up is quarantined once it is at the lab, planned batches are cancelled, and banked cells reach
    the end of their storage consent today. One audit event records all of it; the lab's staff are told
    what to dispose of "as the consent says" (by chain-of-identity id and DIN, never the patient's name),
    and `product_dispose`, `specimen_dispose` and `banked_cells_dispose` then record each disposal.
    """
    chains = list(ChainOfIdentity.objects.select_related("site").filter(consent=consent).order_by("id"))
    if not chains:
        return
    by = actor or consent.withdrawn_by or consent.created_by
    reason = (reason or "").strip() or QUARANTINED_FOR_CONSENT
    now, today = timezone.now(), timezone.localdate()
    products = list(
        Product.objects.select_for_update(of=("self",))
        .select_related("batch")
        .filter(chain__in=chains)
        .exclude(status__in=SPENT_PRODUCTS)
        .order_by("id")
    )
    held = [p for p in products if states.PRODUCT_STATES.allows(p.status, states.PRODUCT_QUARANTINED)]
    specimens = list(
        Specimen.objects.select_for_update(of=("self",))
        .filter(chain__in=chains)
        .exclude(status__in=(states.SPECIMEN_USED, states.SPECIMEN_DISPOSED, states.SPECIMEN_LOST))
        .order_by("id")
    )
    quarantined = [s for s in specimens if s.status in QUARANTINABLE_SPECIMENS]
    batches = list(
        Batch.objects.select_for_update(of=("self",)).filter(specimen__chain__in=chains).order_by("id")
    )
    planned = [b for b in batches if b.status == states.BATCH_PLANNED]
    banked = [b for b in batches if b.banked_vials]
    Product.objects.filter(pk__in=[p.pk for p in held]).update(
        status=states.PRODUCT_QUARANTINED, status_reason=reason, updated_at=now
    )
    Specimen.objects.filter(pk__in=[s.pk for s in quarantined]).update(
        status=states.SPECIMEN_QUARANTINED, updated_at=now
    )
    Batch.objects.filter(pk__in=[b.pk for b in planned]).update(status=states.BATCH_CANCELLED, updated_at=now)
    Batch.objects.filter(pk__in=[b.pk for b in banked], banked_until__gt=today).update(
        banked_until=today, updated_at=now
    )
    CustodyEvent.objects.bulk_create(
        [
            *(
                _event(
                    CustodyEvent.Kind.QUARANTINED,
                    by=by,
                    at_site_id=p.site_id if p.status == states.PRODUCT_RECEIVED else p.lab_id,
                    when=now,
                    product=p,
                    note=reason,
                )
                for p in held
            ),
            *(
                _event(
                    CustodyEvent.Kind.QUARANTINED,
                    by=by,
                    at_site_id=s.lab_id,
                    when=now,
                    specimen=s,
                    note=reason,
                )
                for s in quarantined
            ),
        ]
    )
    to_dispose = {
        "products": [p.din for p in products],
        "specimens": [s.coi for s in specimens],
        "banked_vials": sum(b.banked_vials for b in banked),
    }
    for chain in chains:
        audit_record(
            actor=by,
            action="chain_of_identity.quarantine",
            object_type=ChainOfIdentity.AUDIT_OBJECT_TYPE,
            object_id=chain.pk,
            site=chain.site,
            patient_id=chain.patient_id,
            after={
                "products_quarantined": [p.din for p in held if p.chain_id == chain.pk],
                "specimens_quarantined": [s.pk for s in quarantined if s.chain_id == chain.pk],
                "batches_cancelled": [b.code for b in planned],
                "to_dispose": to_dispose,
            },
            reason=reason,
        )
    if not (products or specimens or banked):
        return
    labs = sorted(
        {*(p.lab_id for p in products), *(s.lab_id for s in specimens), *(b.lab_id for b in banked)}
    )
    for lab_id in labs:
        _tell(
            _people(lab_id, LAB_ROLES),
            kind="lab.consent_withdrawn",
            template="lab/notifications/consent_withdrawn",
            site=Site.objects.get(pk=lab_id),
            actor=by,
            obj=chains[0],
            link=reverse("lab:index"),
            context={
                "cois": [chain.coi for chain in chains],
                "products": [p for p in products if p.lab_id == lab_id],
                "specimens": [s for s in specimens if s.lab_id == lab_id],
                "banked": [b for b in banked if b.lab_id == lab_id],
            },
        )

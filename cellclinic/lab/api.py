"""The lab over JSON: specimens, batches and products as each reader may see them, the bedside check,
the administration it allows, and look-back both ways.

Lab staff read every record here by chain-of-identity id: no answer they get carries a patient's name,
MRN, date of birth or contact detail. Clinic staff see the records of their clinics' patients, and only
they may check a product at the bedside, give it, or look a patient's records up.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from django.http import Http404
from ninja import Field, Path, Query, Router, Schema
from ninja.pagination import paginate
from pydantic import ConfigDict

from cellclinic.accounts.access import has_permission, require_staff
from cellclinic.accounts.auth import api_auth
from cellclinic.accounts.roles import Permission
from cellclinic.audit.services import record_access, record_read, record_search
from cellclinic.core.api_pagination import LimitOffset
from cellclinic.core.api_types import Id, Line
from cellclinic.lab import lookback, selectors, states
from cellclinic.lab.administration import CHECK_VALID_FOR, bedside_check, product_administer
from cellclinic.lab.isbt import DIN_LENGTH
from cellclinic.lab.models import Batch, CustodyEvent, DonorLot, Product, Specimen

MAX_LIMIT = 200
DIN_TEXT_MAX = 24  # a DIN as typed or scanned: 13 characters, with check character, flags and spaces


def _lab_reader(user) -> None:
    """Clinic staff who see patients and lab staff; portal patients and anyone else get 404."""
    require_staff(user)
    if not selectors.sees_lab_records(user):
        raise Http404(selectors.NOT_FOUND)


def _administers(user) -> None:
    """Clinic staff who may give a product to a patient (practitioners and nurses); else 404."""
    require_staff(user)
    if not has_permission(user, Permission.PRODUCT_ADMINISTER):
        raise Http404(selectors.NOT_FOUND)


router = Router(tags=["lab"], auth=api_auth(_lab_reader))


def _name(user) -> str | None:
    return user.display_name if user is not None else None


def _number(value: Decimal | None) -> float | None:
    return float(value) if value is not None else None


ProductStatus = Literal[tuple(states.PRODUCT_STATES.states)]  # type: ignore[valid-type]
SpecimenStatus = Literal[tuple(states.SPECIMEN_STATES.states)]  # type: ignore[valid-type]
BatchStatus = Literal[tuple(states.BATCH_STATES.states)]  # type: ignore[valid-type]


# --- answers ---------------------------------------------------------------------------------------------


class CustodyEventOut(Schema):
    kind: str = Field(description="collected, packed, shipped, received, rejected, ..., administered.")
    at: datetime
    at_site: str = Field(description="The code of the site where it happened.")
    by: str = Field(description="The name of the staff member who recorded it.")
    temperature_c: float | None
    condition: str
    note: str
    shipment_id: int | None

    @staticmethod
    def resolve_at_site(obj: CustodyEvent) -> str:
        return obj.at_site.code

    @staticmethod
    def resolve_by(obj: CustodyEvent) -> str:
        return obj.by.display_name

    @staticmethod
    def resolve_temperature_c(obj: CustodyEvent) -> float | None:
        return _number(obj.temperature_c)


class SpecimenOut(Schema):
    id: int
    coi: str = Field(description="The chain-of-identity id: it names no patient.")
    site: str = Field(description="The clinic's code.")
    lab: str = Field(description="The lab's code.")
    therapy_code: str
    therapy_version: str
    kind: str
    body_site: str
    size: str
    collected_at: datetime
    collected_by: str
    status: SpecimenStatus
    shipment_id: int | None
    replaces_id: int | None = Field(description="The specimen this one re-harvests, after a failed culture.")
    rejected_reason: str
    created_at: datetime

    @staticmethod
    def resolve_site(obj: Specimen) -> str:
        return obj.site.code

    @staticmethod
    def resolve_lab(obj: Specimen) -> str:
        return obj.lab.code

    @staticmethod
    def resolve_collected_by(obj: Specimen) -> str:
        return obj.collected_by.display_name


class SpecimenDetailOut(SpecimenOut):
    custody: list[CustodyEventOut] = Field(description="Every hand-off, in the order it happened.")

    @staticmethod
    def resolve_custody(obj: Specimen) -> list:
        return selectors.timeline(obj.custody.all())


class BatchOut(Schema):
    id: int
    code: str
    site: str
    lab: str
    specimen_id: int | None
    donor_lot: str | None = Field(description="The donor lot's number, for a donor (allogeneic) batch.")
    coi: str = Field(description="The chain-of-identity id (empty for a donor lot's batch).")
    therapy_code: str
    therapy_version: str
    status: BatchStatus
    slot_start: date
    ready_from: date
    ready_to: date
    doses_planned: int
    processed_by: str | None
    started_at: datetime | None
    failed_reason: str
    decided_by: str | None
    decided_at: datetime | None
    decision_meaning: str
    rejected_reason: str
    banked_vials: int
    banked_until: date | None
    created_at: datetime

    @staticmethod
    def resolve_site(obj: Batch) -> str:
        return obj.site.code

    @staticmethod
    def resolve_lab(obj: Batch) -> str:
        return obj.lab.code

    @staticmethod
    def resolve_donor_lot(obj: Batch) -> str | None:
        return obj.donor_lot.lot_number if obj.donor_lot_id else None

    @staticmethod
    def resolve_processed_by(obj: Batch) -> str | None:
        return _name(obj.processed_by)

    @staticmethod
    def resolve_decided_by(obj: Batch) -> str | None:
        return _name(obj.decided_by)


class ProcessStepOut(Schema):
    name: str
    passage: int | None
    cell_count: int | None = Field(description="Total viable cells counted.")
    viability_percent: float | None
    note: str
    performed_by: str
    performed_at: datetime


class DeviationOut(Schema):
    description: str
    reason: str
    recorded_by: str
    recorded_at: datetime


class QCResultOut(Schema):
    id: int
    test: str
    value: str
    unit: str
    limit: str = Field(description="The release criterion's limit, as shown when the result was judged.")
    status: str = Field(description="pending, passed, failed, or corrected (replaced by a later result).")
    outcome: Literal["pass", "fail"] | None = Field(description="pass or fail; null while pending.")
    entered_by: str
    entered_at: datetime
    correction_reason: str


class ReagentLotOut(Schema):
    id: int
    name: str
    lot_number: str
    expires_on: date | None


class BatchDetailOut(BatchOut):
    steps: list[ProcessStepOut]
    deviations: list[DeviationOut]
    qc_results: list[QCResultOut]
    reagent_lots: list[ReagentLotOut]

    @staticmethod
    def resolve_steps(obj: Batch) -> list[dict]:
        return [
            {
                "name": step.name,
                "passage": step.passage,
                "cell_count": int(step.cell_count) if step.cell_count is not None else None,
                "viability_percent": _number(step.viability_percent),
                "note": step.note,
                "performed_by": step.performed_by.display_name,
                "performed_at": step.performed_at,
            }
            for step in obj.steps.all()
        ]

    @staticmethod
    def resolve_deviations(obj: Batch) -> list[dict]:
        return [
            {
                "description": deviation.description,
                "reason": deviation.reason,
                "recorded_by": deviation.recorded_by.display_name,
                "recorded_at": deviation.recorded_at,
            }
            for deviation in obj.deviations.all()
        ]

    @staticmethod
    def resolve_qc_results(obj: Batch) -> list[dict]:
        outcomes = {states.QC_PASSED: "pass", states.QC_FAILED: "fail"}
        return [
            {
                "id": result.pk,
                "test": result.test,
                "value": result.value,
                "unit": result.unit,
                "limit": result.limit,
                "status": result.status,
                "outcome": outcomes.get(result.status),
                "entered_by": result.entered_by.display_name,
                "entered_at": result.entered_at,
                "correction_reason": result.correction_reason,
            }
            for result in obj.qc_results.all()
        ]

    @staticmethod
    def resolve_reagent_lots(obj: Batch) -> list:
        return list(obj.reagent_lots.all())


class ProductOut(Schema):
    din: str = Field(description="The ISBT 128 Donation Identification Number: 13 characters.")
    din_flags: str = Field(description="The two flag characters carried after the DIN in its barcode.")
    din_check: str = Field(description="The ISO 7064 Mod 37-2 check character, printed boxed.")
    status: ProductStatus
    expires_at: datetime
    coi: str = Field(description="The chain-of-identity id (empty for a donor product).")
    therapy_code: str
    therapy_version: str
    dose_number: int
    product_code: str
    batch: str = Field(description="The code of the batch that made it.")
    batch_id: int
    site: str
    lab: str
    donor_lot: str | None = Field(description="The donor lot's number, for a donor (allogeneic) product.")
    storage: str
    administered_at: datetime | None
    status_reason: str
    created_at: datetime

    @staticmethod
    def resolve_batch(obj: Product) -> str:
        return obj.batch.code

    @staticmethod
    def resolve_site(obj: Product) -> str:
        return obj.site.code

    @staticmethod
    def resolve_lab(obj: Product) -> str:
        return obj.lab.code

    @staticmethod
    def resolve_donor_lot(obj: Product) -> str | None:
        return obj.donor_lot.lot_number if obj.donor_lot_id else None


class ProductDetailOut(ProductOut):
    custody: list[CustodyEventOut] = Field(description="Every hand-off, in the order it happened.")

    @staticmethod
    def resolve_custody(obj: Product) -> list:
        return selectors.timeline(obj.custody.all())


class ReasonOut(Schema):
    code: str = Field(
        description=(
            "wrong_patient, unknown_product, donor_not_eligible, not_released, expired, recalled, "
            "already_administered, no_consent or consent_withdrawn."
        )
    )
    text: str


class CheckedProductOut(Schema):
    din: str
    status: ProductStatus
    expires_at: datetime


class BedsideCheckOut(Schema):
    id: int = Field(description="The recorded check: record the administration on it.")
    passed: bool
    reasons: list[ReasonOut] = Field(description="Every reason not to give the product; empty when passed.")
    product: CheckedProductOut | None = Field(description="The product the DIN names; null when none.")
    checked_at: datetime


class PatientRefOut(Schema):
    id: int
    mrn: str
    given_name: str
    family_name: str


class RecipientOut(Schema):
    coi: str | None = Field(description="The recipient's chain-of-identity id, when they have one.")
    site: str | None = Field(description="The clinic where it was given.")
    bedside_check_id: int | None = Field(description="The bedside check it was given on.")
    patient: PatientRefOut | None = Field(
        description="Who received it: only for clinic staff who may see that patient; null for lab staff."
    )


class TracedProductOut(Schema):
    din: str
    din_flags: str
    din_check: str
    status: ProductStatus
    expires_at: datetime
    coi: str
    therapy_code: str
    dose_number: int
    batch: str
    site: str
    administered_at: datetime | None
    recipient: RecipientOut | None = Field(description="Who received it; null when not administered.")


class LabRecordsOut(Schema):
    patient_id: int
    specimens: list[SpecimenOut]
    batches: list[BatchOut]
    products: list[ProductOut]


# --- input ---------------------------------------------------------------------------------------------


class SpecimenListParams(Schema):
    status: SpecimenStatus | None = None
    coi: Line(24) | None = Field(None, description="Only this chain-of-identity id's specimens.")


class BatchListParams(Schema):
    status: BatchStatus | None = None
    coi: Line(24) | None = Field(None, description="Only this chain-of-identity id's batches.")


class ProductListParams(Schema):
    status: ProductStatus | None = None
    coi: Line(24) | None = Field(None, description="Only this chain-of-identity id's products.")
    batch_id: Id | None = Field(None, description="Only this batch's products.")


class BedsideCheckIn(Schema):
    """What was scanned at the bedside. Unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")

    mrn: Line(24, min_length=1) = Field(description="The patient's medical record number, e.g. NCL-000042-X.")
    din: Line(DIN_TEXT_MAX, min_length=1) = Field(
        description=(
            "The product's 13-character DIN as typed (spaces, its check character and flags may follow) "
            "or as scanned (`=`, the DIN and two flag digits)."
        )
    )
    din_check: Line(1, min_length=1) | None = Field(
        None, description="The boxed check character, when typed: it must match the DIN."
    )


DinPath = Path[Line(DIN_LENGTH, min_length=DIN_LENGTH)]


def _filtered(rows, params):
    for name in ("status", "coi", "batch_id"):
        value = getattr(params, name, None)
        if value is not None:
            rows = rows.filter(**{name: value.strip().upper() if name == "coi" else value})
    return rows


# --- specimens, batches, products -------------------------------------------------------------------------


@router.get("/specimens", response=list[SpecimenOut], summary="List specimens")
@paginate(LimitOffset, max_limit=MAX_LIMIT)
def specimen_list(request, params: Query[SpecimenListParams]):
    """Specimens of your clinics, or of your lab and the clinics it serves; newest first."""
    rows = selectors.specimens_for(request.auth).select_related("site", "lab", "collected_by")
    record_search(request, "specimen")
    return _filtered(rows, params).order_by("-collected_at", "-id")


@router.get("/specimens/{int:specimen_id}", response=SpecimenDetailOut, summary="One specimen")
def specimen_read(request, specimen_id: Id):
    """The specimen with its custody timeline."""
    specimen = selectors.specimen_get(request.auth, specimen_id)
    record_read(request, specimen)
    return specimen


@router.get("/batches", response=list[BatchOut], summary="List batches")
@paginate(LimitOffset, max_limit=MAX_LIMIT)
def batch_list(request, params: Query[BatchListParams]):
    """Batches of your clinics' patients, or of your lab and the clinics it serves; newest first."""
    rows = selectors.batches_for(request.auth).select_related(
        "site", "lab", "donor_lot", "processed_by", "decided_by"
    )
    record_search(request, "batch")
    return _filtered(rows, params).order_by("-created_at", "-id")


@router.get("/batches/{int:batch_id}", response=BatchDetailOut, summary="One batch")
def batch_read(request, batch_id: Id):
    """The batch with its process steps, deviations, QC results (limit, pass or fail) and reagent lots."""
    batch = selectors.batch_record_get(request.auth, batch_id)
    record_read(request, batch)
    return batch


@router.get("/products", response=list[ProductOut], summary="List products")
@paginate(LimitOffset, max_limit=MAX_LIMIT)
def product_list(request, params: Query[ProductListParams]):
    """Clinic staff: the products of their clinics' patients. Lab staff: their lab's and its clinics'."""
    rows = selectors.products_for(request.auth).select_related("site", "lab", "batch", "donor_lot")
    record_search(request, "product")
    return _filtered(rows, params).order_by("-created_at", "-id")


@router.get("/products/{din}", response=ProductDetailOut, summary="One product, by its DIN")
def product_read(request, din: DinPath):
    """The product with its custody timeline."""
    product = selectors.product_get(request.auth, din)
    record_read(request, product)
    return product


# --- the bedside check and the administration -------------------------------------------------------------


def _check_answer(check, result) -> dict:
    product = check.product
    return {
        "id": check.pk,
        "passed": result.passed,
        "reasons": [{"code": str(reason.code), "text": reason.text} for reason in result.reasons],
        "product": (
            {"din": product.din, "status": product.status, "expires_at": product.expires_at}
            if product is not None
            else None
        ),
        "checked_at": check.checked_at,
    }


@router.post(
    "/bedside-checks",
    response={200: BedsideCheckOut},
    auth=api_auth(_administers),
    summary="Check a product against a patient at the bedside",
)
def bedside_check_make(request, payload: BedsideCheckIn):
    """Passes only for the patient's own released, unexpired product (or one from an eligible donor lot)
    that is not recalled or already given, under a signed consent not withdrawn; otherwise every reason
    is listed. Passed or not, the check is recorded and audited. Practitioners and nurses of the
    patient's clinic only: anyone else, and an MRN not found, get 404."""
    check, result = bedside_check(
        actor=request.auth, mrn=payload.mrn, din=payload.din, din_check=payload.din_check
    )
    return _check_answer(check, result)


ADMINISTRATION = (
    f"On your own passed check, made less than {int(CHECK_VALID_FOR.total_seconds() // 60)} minutes ago "
    "and not followed by a later check of yours of the same product, for a product that still passes "
    "and has been received at the clinic: the product is then administered, with its custody event. "
    'Otherwise 422 names each reason (field "check", message "code: text"; codes: not_passed, '
    "not_your_check, check_too_old, superseded, not_received, or a bedside check's own reason such as "
    "already_administered). Two people giving one product at once: one succeeds, the other gets 422."
)


@router.post(
    "/bedside-checks/{int:check_id}/administration",
    response={200: ProductDetailOut},
    auth=api_auth(_administers),
    summary="Record the administration on a passed bedside check",
    description=ADMINISTRATION,
)
def product_administration_make(request, check_id: Id):
    check = selectors.bedside_check_get(request.auth, check_id)
    return product_administer(actor=request.auth, check=check)


# --- look-back ---------------------------------------------------------------------------------------------


class _TracedPages:
    """A look-back query as LimitOffset pages it: the count from the query, each page traced for READER."""

    def __init__(self, reader, products) -> None:
        self.reader = reader
        self.products = products

    def __len__(self) -> int:
        return self.products.count()

    def __getitem__(self, page: slice) -> list[dict]:
        return [_traced_item(traced) for traced in lookback.trace(self.reader, self.products[page])]


def _traced_item(traced: lookback.Traced) -> dict:
    product, recipient = traced.product, traced.recipient
    item = {
        "din": product.din,
        "din_flags": product.din_flags,
        "din_check": product.din_check,
        "status": product.status,
        "expires_at": product.expires_at,
        "coi": product.coi,
        "therapy_code": product.therapy_code,
        "dose_number": product.dose_number,
        "batch": product.batch.code,
        "site": product.site.code,
        "administered_at": product.administered_at,
        "recipient": None,
    }
    if recipient is not None:
        patient = recipient.patient
        item["recipient"] = {
            "coi": recipient.coi,
            "site": recipient.site,
            "bedside_check_id": recipient.check_id,
            "patient": (
                {
                    "id": patient.pk,
                    "mrn": patient.mrn,
                    "given_name": patient.given_name,
                    "family_name": patient.family_name,
                }
                if patient is not None
                else None
            ),
        }
    return item


def _lookback(request, object_type: str, object_id: int, products) -> _TracedPages:
    record_access(request, f"{object_type}.lookback", object_type=object_type, object_id=object_id)
    return _TracedPages(request.auth, products)


LOOKBACK = (
    "Every product made from it that you may see, and for each one administered who received it: by "
    "chain-of-identity id, clinic and bedside check; the patient only for clinic staff who may see them."
)


@router.get(
    "/batches/{int:batch_id}/lookback",
    response=list[TracedProductOut],
    summary="Look back from a batch",
    description=LOOKBACK,
)
@paginate(LimitOffset, max_limit=MAX_LIMIT)
def batch_lookback(request, batch_id: Id):
    products = lookback.products_from_batch(request.auth, batch_id)
    return _lookback(request, Batch.AUDIT_OBJECT_TYPE, batch_id, products)


@router.get(
    "/donor-lots/{int:lot_id}/lookback",
    response=list[TracedProductOut],
    summary="Look back from a donor lot",
    description=LOOKBACK + " The lab's staff only.",
)
@paginate(LimitOffset, max_limit=MAX_LIMIT)
def donor_lot_lookback(request, lot_id: Id):
    products = lookback.products_from_donor_lot(request.auth, lot_id)
    return _lookback(request, DonorLot.AUDIT_OBJECT_TYPE, lot_id, products)


@router.get(
    "/reagent-lots/{int:lot_id}/lookback",
    response=list[TracedProductOut],
    summary="Look back from a reagent lot",
    description=LOOKBACK + " The lab's staff only.",
)
@paginate(LimitOffset, max_limit=MAX_LIMIT)
def reagent_lot_lookback(request, lot_id: Id):
    products = lookback.products_from_reagent_lot(request.auth, lot_id)
    return _lookback(request, "reagent_lot", lot_id, products)


@router.get(
    "/patients/{int:patient_id}/lab-records",
    response=LabRecordsOut,
    summary="A patient's specimens, batches and products",
)
def patient_lab_records(request, patient_id: Id):
    """Clinic staff who may see the patient only (lab staff and anyone else get 404): every specimen,
    batch and product of the patient's own cells, and every donor product given to them."""
    records = lookback.patient_lab_records(request.auth, patient_id)
    record_read(request, records.patient, action="patient.lab_records")
    return {
        "patient_id": records.patient.pk,
        "specimens": records.specimens,
        "batches": records.batches,
        "products": records.products,
    }

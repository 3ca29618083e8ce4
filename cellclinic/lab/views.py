"""The lab's pages: what waits, specimens, batches, products, their labels, and donor and reagent lots.

Lab staff (LAB_VIEW) and clinic staff (PATIENT_VIEW) read the same pages, each scoped by the lab's
selectors: a record out of reach answers as a missing one does (404). Lab staff read chain-of-identity
ids only; clinic staff of the patient's clinic also read the patient's name beside the id
(`selectors.patients_by_coi`). Every page that shows a record logs the read in the access log.

Each detail page has an actions area in its heading; it lists only what the reader can do there now
(`available` decides, as the services would), and notes why an action the reader holds is held back.
"""

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from cellclinic.accounts.access import has_permission, require_permission
from cellclinic.accounts.models import User
from cellclinic.accounts.roles import Permission
from cellclinic.audit.services import record_access, record_search
from cellclinic.catalogue.registry import get_catalogue, therapy_name
from cellclinic.core.errors import InvalidInput
from cellclinic.core.pagination import PAGE_SIZE, PageWindow, paginate
from cellclinic.lab import available, labels, release, selectors, states, worklist
from cellclinic.lab.available import Action
from cellclinic.lab.donor import DONOR_TESTS
from cellclinic.lab.isbt import Din, parse_din
from cellclinic.lab.models import Batch, CustodyEvent, DonorLot, Product, QCResult, Specimen
from cellclinic.patients.models import Patient

INDEX_ROWS = 10  # rows each item lists on /lab/; its own page lists them all
LABEL_CANNOT_PRINT = "The label cannot be printed"
NO_PROTOCOL = (
    "Protocol version {version} of {therapy} is not in the catalogue, so the results cannot be judged "
    "against its release criteria. A QA reviewer must check them."
)
NOT_A_CRITERION = "not a release criterion of protocol version {version}"


# The colour of a status badge, by the status's value (the tables share their words).
TONES: dict[str, str] = {
    **dict.fromkeys(("released", "received", "administered", "used"), "ok"),
    **dict.fromkeys(("quarantined", "awaiting_release", "qc_pending"), "warn"),
    **dict.fromkeys(("rejected", "failed", "lost", "recalled", "expired"), "danger"),
}


def _reader(request) -> User:
    """Staff who may read some lab record; anyone else gets the answer a missing page gets."""
    if not selectors.sees_lab_records(request.user):
        raise Http404(selectors.NOT_FOUND)
    return request.user


def _patient_of(user: User, coi: str) -> Patient | None:
    """The patient behind COI, for clinic staff of the patient's clinic; None for everyone else."""
    if not coi or not has_permission(user, Permission.PATIENT_VIEW):
        return None
    return selectors.patients_by_coi(user, [coi]).get(coi)


def _record_read(request, obj, kind: str, patient: Patient | None, **details) -> None:
    """One line in the access log: the record read, and the patient it names (only when shown)."""
    record_access(
        request,
        f"{kind}.view",
        object_type=kind,
        object_id=obj.pk,
        patient_id=patient.pk if patient else None,
        site_id=obj.site_id,
        details={key: value for key, value in details.items() if value},
    )


def din_of(product: Product) -> Din | None:
    """The product's DIN with its flags, or None if the stored characters are not a DIN."""
    try:
        return parse_din(product.din + product.din_flags)
    except ValueError:
        return None


# What waits -----------------------------------------------------------------------------------------------


@login_required
@require_GET
def lab_home(request):
    """The lab's worklist for this reader: each item with its count and first rows."""
    user = _reader(request)
    entries = [(item, item.found(user, INDEX_ROWS)) for item in worklist.items_for(user)]
    if any(found.rows for _, found in entries):
        record_search(request, "lab_worklist", action="lab_worklist.view")
    context = {
        "nav_active": "lab",
        "entries": [
            (item, found, f"{reverse('lab:waiting')}?item={worklist.slug(item)}") for item, found in entries
        ],
        "works_in_the_lab": worklist.works_in_the_lab(user),
        "actions": available.expired_offer(user).actions,
    }
    return render(request, "lab/index.html", context)


@login_required
@require_GET
def waiting(request):
    """Every row of one worklist item, a page at a time."""
    user = _reader(request)
    item = worklist.item_by_slug(request.GET.get("item", ""))
    if item is None or not item.shown_to(user):
        raise Http404(selectors.NOT_FOUND)
    page = Paginator(range(item.count(user)), PAGE_SIZE).get_page(request.GET.get("page"))
    found = item.found(user, PAGE_SIZE, page.start_index() - 1 if page.paginator.count else 0)
    if found.rows:
        record_search(request, "lab_worklist", action="lab_worklist.view")
    params = request.GET.copy()
    params.pop("page", None)
    # Products past their expiry are listed among those expiring soon: the way to take them out of use.
    offer = available.expired_offer(user) if item.key == worklist.EXPIRING_SOON else available.Offer()
    context = {
        "nav_active": "lab",
        "item": item,
        "rows": found.rows,
        "window": PageWindow(page=page, querystring=params.urlencode()),
        "actions": offer.actions,
    }
    return render(request, "lab/waiting.html", context)


# Specimens ------------------------------------------------------------------------------------------------


def _specimen_offer(user: User, specimen: Specimen, patient: Patient | None, **facts) -> available.Offer:
    offer = available.specimen_offer(user, specimen, **facts)
    if patient is not None:
        # The specimen label carries the patient's name and second identifier: the clinic prints it.
        href = reverse("lab:specimen_label", args=[specimen.pk])
        offer.actions.append(Action("Print the specimen label (PDF)", href))
    return offer


@login_required
@require_GET
def specimen_detail(request, specimen_id: int):
    """A specimen, its custody timeline and its batches."""
    user = _reader(request)
    specimen = selectors.specimen_get(user, specimen_id)
    patient = _patient_of(user, specimen.coi)
    # The specimen it replaces after a failed culture, and any that replace it, in one read.
    related = {
        row.pk: row for row in Specimen.objects.filter(Q(pk=specimen.replaces_id) | Q(replaces=specimen))
    }
    batches = list(Batch.objects.filter(specimen=specimen).order_by("created_at", "id"))
    replaced_by = [row for pk, row in related.items() if pk != specimen.replaces_id]
    offer = _specimen_offer(
        user, specimen, patient, batches=batches, replaced=bool(replaced_by), shipment=specimen.shipment
    )
    _record_read(request, specimen, "specimen", patient, coi=specimen.coi)
    context = {
        "nav_active": "lab",
        "specimen": specimen,
        "patient": patient,
        "therapy_name": therapy_name(specimen.therapy_code),
        "status": states.SPECIMEN_STATES.label(specimen.status),
        "tone": TONES.get(specimen.status, ""),
        "shipment_status": (
            states.SHIPMENT_STATES.label(specimen.shipment.status) if specimen.shipment else ""
        ),
        "events": selectors.timeline(CustodyEvent.objects.filter(specimen=specimen)),
        "batches": batches,
        "replaces": related.get(specimen.replaces_id),
        "replaced_by": replaced_by,
        "actions": offer.actions,
        "action_notes": offer.notes,
    }
    return render(request, "lab/specimen.html", context)


# Batches --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QCLine:
    """One release criterion (or a result for none) as the batch page shows it.

    OUTCOME is "pass", "fail", "waiting" (no result yet) or "unjudged" (a result that cannot be compared
    with the criterion, or a criterion the catalogue no longer holds): never read as a pass.
    """

    test: str
    reading: str
    specification: str
    outcome: str
    reason: str
    result: QCResult | None
    listed: bool = True  # a release criterion of the protocol version


def _test_key(text: str) -> str:
    """A test name as release.evaluate matches it: case, spacing and a final full stop ignored."""
    return " ".join(text.split()).casefold().rstrip(".").strip()


def _reading(result: QCResult) -> str:
    return release.quantity(result.value, result.unit or None)


def _as_result(criterion: release.Criterion, result: QCResult) -> release.QCResult:
    """The stored result as release.QCResult: a number for a numeric criterion when it reads as one."""
    if criterion.is_numeric:
        try:
            number = Decimal(result.value.strip().replace("\u2212", "-"))
        except InvalidOperation:
            number = None
        if number is not None and number.is_finite():
            return release.QCResult(result.test, value=number, unit=result.unit or None)
    return release.QCResult(result.test, text=result.value)


def _judged(criterion: release.Criterion, result: QCResult | None) -> QCLine:
    if result is None:
        evaluation = release.evaluate_one(criterion, None)
        return QCLine(criterion.test, "", criterion.specification, "waiting", evaluation.reason, None)
    try:
        evaluation = release.evaluate_one(criterion, _as_result(criterion, result))
    except ValueError as error:
        return QCLine(
            criterion.test, _reading(result), criterion.specification, "unjudged", str(error), result
        )
    outcome = "pass" if evaluation.passed else "fail"
    return QCLine(
        criterion.test, _reading(result), criterion.specification, outcome, evaluation.reason, result
    )


def qc_lines(batch: Batch, results: list[QCResult]) -> tuple[list[QCLine], bool]:
    """Each release criterion of the batch's protocol version against its current result, in the
    protocol's order, then any result for a test the protocol does not list; and whether the protocol
    version was found. Corrected results are left out (the page lists them apart)."""
    current = [result for result in results if result.status != states.QC_CORRECTED]
    therapy = get_catalogue().therapy(batch.therapy_code, batch.therapy_version)
    criteria: list[release.Criterion] = []
    if therapy is not None:
        for source in therapy.release_criteria:
            try:
                criteria.append(release.criterion_from(source))
            except ValueError:
                continue
    by_test: dict[str, QCResult] = {}
    for result in current:
        by_test[_test_key(result.test)] = result  # the latest entered stands
    lines = [_judged(criterion, by_test.pop(_test_key(criterion.test), None)) for criterion in criteria]
    left = NOT_A_CRITERION.format(version=batch.therapy_version)
    for result in by_test.values():
        lines.append(QCLine(result.test, _reading(result), result.limit, "unjudged", left, result, False))
    return lines, therapy is not None


@login_required
@require_GET
def batch_detail(request, batch_id: int):
    """A batch: its slot and ready window, steps, deviations, reagents, QC against its criteria, products."""
    user = _reader(request)
    batch = selectors.batch_get(user, batch_id)
    patient = _patient_of(user, batch.coi)
    results = list(batch.qc_results.select_related("entered_by").order_by("entered_at", "id"))
    lines, protocol_found = qc_lines(batch, results)
    today = timezone.localdate()
    steps = list(batch.steps.select_related("performed_by"))
    products = list(batch.products.select_related("shipment").order_by("dose_number", "id"))
    offer = available.batch_offer(
        user,
        batch,
        outcomes=[line.outcome for line in lines if line.listed],
        steps=steps,
        products=products,
    )
    _record_read(request, batch, "batch", patient, coi=batch.coi, code=batch.code)
    context = {
        "nav_active": "lab",
        "batch": batch,
        "patient": patient,
        "therapy_name": therapy_name(batch.therapy_code),
        "status": states.BATCH_STATES.label(batch.status),
        "tone": TONES.get(batch.status, ""),
        "overdue": batch.status in worklist.IN_PROCESS and batch.ready_to < today,
        "steps": steps,
        "deviations": list(batch.deviations.select_related("recorded_by")),
        "reagents": list(batch.reagent_lots.order_by("name", "lot_number")),
        "qc_lines": lines,
        "qc_summary": _qc_summary(lines),
        "protocol_missing": (
            ""
            if protocol_found
            else NO_PROTOCOL.format(version=batch.therapy_version, therapy=therapy_name(batch.therapy_code))
        ),
        "corrected": [result for result in results if result.status == states.QC_CORRECTED],
        "products": products,
        # Banked cells keep their storage date when they are disposed of; a batch that banked none has none.
        "banked_disposed": not batch.banked_vials and batch.banked_until is not None,
        "sees_donor_lots": has_permission(user, Permission.LAB_VIEW),
        "actions": offer.actions,
        "action_notes": offer.notes,
    }
    return render(request, "lab/batch.html", context)


def _qc_summary(lines: list[QCLine]) -> str:
    """ "5 of 7 criteria pass; 1 fails; 1 waits for a result." (empty without criteria)"""
    listed = sum(line.listed for line in lines)
    if not listed:
        return ""
    passed = sum(line.outcome == "pass" for line in lines)
    parts = [f"{passed} of {listed} criteria pass"]
    failed = sum(line.outcome == "fail" for line in lines)
    waiting = sum(line.outcome == "waiting" for line in lines)
    unjudged = sum(line.outcome == "unjudged" for line in lines)
    if failed:
        parts.append(f"{failed} {'fails' if failed == 1 else 'fail'}")
    if waiting:
        parts.append(f"{waiting} {'waits' if waiting == 1 else 'wait'} for a result")
    if unjudged:
        parts.append(f"{unjudged} cannot be judged")
    return "; ".join(parts) + "."


# Products -------------------------------------------------------------------------------------------------


def _product_offer(user: User, product: Product, **facts) -> available.Offer:
    offer = available.product_offer(user, product, **facts)
    offer.actions.append(
        Action("Print the product label (PDF)", reverse("lab:product_label", args=[product.din]))
    )
    return offer


@login_required
@require_GET
def product_detail(request, din: str):
    """A product: its DIN with the boxed check character, status, expiry, storage and custody timeline."""
    user = _reader(request)
    product = selectors.product_get(user, din)
    patient = _patient_of(user, product.coi)
    now = timezone.now()
    # The box it travels (or travelled) in to the clinic, when it has one: read only then.
    shipment = product.shipment if product.shipment_id else None
    events = selectors.timeline(CustodyEvent.objects.filter(product=product))
    offer = _product_offer(user, product, shipment=shipment, events=events)
    _record_read(request, product, "product", patient, coi=product.coi, din=product.din)
    context = {
        "nav_active": "lab",
        "product": product,
        "din": din_of(product),
        "patient": patient,
        "therapy_name": therapy_name(product.therapy_code),
        "status": states.PRODUCT_STATES.label(product.status),
        "tone": TONES.get(product.status, ""),
        "shipment_status": states.SHIPMENT_STATES.label(product.shipment.status)
        if product.shipment_id
        else "",
        "autologous": product.chain_id is not None,
        "expired": product.expires_at <= now,
        "shipment": shipment,
        "events": events,
        "sees_donor_lots": has_permission(user, Permission.LAB_VIEW),
        "actions": offer.actions,
        "action_notes": offer.notes,
    }
    return render(request, "lab/product.html", context)


# Labels ---------------------------------------------------------------------------------------------------


def _pdf(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


def _traceable_id(product: Product) -> str:
    """What the label prints as the chain of identity: the patient's id, or for a donor product the
    donor lot (its number when it fits a label's identifier, else the batch code)."""
    if product.coi:
        return product.coi
    lot = (product.donor_lot.lot_number if product.donor_lot else "").upper()
    return lot if labels.CHAIN_OF_IDENTITY.fullmatch(lot) else product.batch.code


def product_label_data(product: Product) -> labels.ProductLabel:
    """The label of PRODUCT: the DIN, code, therapy, storage, expiry on the site's clock, the lab; the
    chain-of-identity id and never a patient's name."""
    din = din_of(product)
    if din is None:
        raise InvalidInput.single("din", f"{LABEL_CANNOT_PRINT}: {product.din!r} is not a valid DIN.")
    try:
        return labels.ProductLabel(
            din=din,
            product_code=product.product_code,
            description=therapy_name(product.therapy_code),
            autologous=product.chain_id is not None,
            chain_of_identity=_traceable_id(product),
            storage=product.storage,
            expires_at=timezone.localtime(product.expires_at),
            lab_name=product.lab.name,
        )
    except ValueError as error:
        raise InvalidInput.single("label", f"{LABEL_CANNOT_PRINT}: {error}") from None


def _label_refused(request, error: InvalidInput, back: str) -> HttpResponse:
    """A label that cannot be printed: the reason, named, and the way back to its record (422)."""
    context = {"nav_active": "lab", "messages_list": [e.message for e in error.errors], "back": back}
    return render(request, "lab/label_refused.html", context, status=422)


@login_required
@require_GET
def product_label(request, din: str):
    """The product's label as a PDF, shown in the browser and never kept in a cache."""
    user = _reader(request)
    product = selectors.product_get(user, din)
    try:
        content = labels.product_label(product_label_data(product))
    except InvalidInput as error:
        return _label_refused(request, error, reverse("lab:product", args=[product.din]))
    except ValueError as error:
        refusal = InvalidInput.single("label", f"{LABEL_CANNOT_PRINT}: {error}")
        return _label_refused(request, refusal, reverse("lab:product", args=[product.din]))
    _record_read(request, product, "product_label", None, coi=product.coi, din=product.din)
    return _pdf(content, f"product-{product.din}.pdf")


@login_required
@require_GET
def specimen_label(request, specimen_id: int):
    """The specimen's label as a PDF, for clinic staff of the patient's clinic only: it names the patient."""
    user = _reader(request)
    specimen = selectors.specimen_get(user, specimen_id)
    patient = _patient_of(user, specimen.coi)
    if patient is None:
        raise Http404(selectors.NOT_FOUND)
    try:
        content = labels.specimen_label(
            labels.SpecimenLabel(
                chain_of_identity=specimen.coi,
                kind=specimen.get_kind_display(),
                site=f"{specimen.body_site}, {specimen.size}",
                collected_at=timezone.localtime(specimen.collected_at),
                patient_name=f"{patient.given_name} {patient.family_name.upper()}",
                date_of_birth=patient.date_of_birth,
                mrn=patient.mrn,
            )
        )
    except ValueError as error:
        refusal = InvalidInput.single("label", f"{LABEL_CANNOT_PRINT}: {error}")
        return _label_refused(request, refusal, reverse("lab:specimen", args=[specimen.pk]))
    _record_read(request, specimen, "specimen_label", patient, coi=specimen.coi)
    return _pdf(content, f"specimen-{specimen.coi}.pdf")


# Donor lots -----------------------------------------------------------------------------------------------


@login_required
@require_GET
def donor_lot_list(request):
    """The lab's donor lots: eligibility documented or not, expiry, quantity."""
    user = request.user
    require_permission(user, Permission.LAB_VIEW)
    lots = selectors.donor_lots_for(user).select_related("site").order_by("expires_on", "lot_number")
    window = paginate(request, lots)
    offer = available.donor_lots_offer(user)
    context = {
        "nav_active": "lab",
        "lots": [(lot, therapy_name(lot.therapy_code)) for lot in window.page.object_list],
        "window": window,
        "today": timezone.localdate(),
        "actions": offer.actions,
        "action_notes": offer.notes,
    }
    return render(request, "lab/donor_lots.html", context)


def screening_rows(screening: object) -> list[tuple[str, str]]:
    """(test, result) of a donor lot's screening record, as recorded, in a stable order."""
    if not isinstance(screening, dict):
        return []
    rows = []
    for test, result in screening.items():
        if isinstance(result, dict):
            # The result first, then its details by name: the same on every database.
            keys = sorted(result, key=lambda key: (key != "result", str(key)))
            text = ", ".join(f"{key}: {result[key]}" for key in keys)
        elif isinstance(result, list):
            text = ", ".join(str(value) for value in result)
        else:
            text = str(result)
        rows.append((str(test), text))
    return sorted(rows, key=lambda row: row[0].casefold())


def screening_table(screening: object) -> list[tuple[str, str]]:
    """(test, result) for every donor test by its name, "" where no result is recorded, then any other
    entry of the lot's screening record as it was recorded."""
    rows = dict(screening_rows(screening))
    tests = [(label, rows.pop(test, "")) for test, label in DONOR_TESTS.items()]
    return tests + list(rows.items())


@login_required
@require_GET
def donor_lot_detail(request, lot_id: int):
    """A donor lot: eligibility, screening results, expiry, and the batches made from it."""
    user = request.user
    require_permission(user, Permission.LAB_VIEW)
    lot = (
        selectors.donor_lots_for(user)
        .select_related("site__lab_profile", "eligibility_documented_by", "created_by")
        .filter(pk=lot_id)
        .first()
    )
    if lot is None:
        raise Http404(selectors.NOT_FOUND)
    batches = list(lot.batches.order_by("-created_at", "-id"))
    offer = available.donor_lot_offer(user, lot, batches=batches, ready=available.lab_ready(lot))
    _record_read(request, lot, DonorLot.AUDIT_OBJECT_TYPE, None, lot=lot.lot_number)
    context = {
        "nav_active": "lab",
        "lot": lot,
        "therapy_name": therapy_name(lot.therapy_code),
        "screening": screening_table(lot.screening),
        "expired": lot.expires_on < timezone.localdate(),
        "batches": batches,
        "actions": offer.actions,
        "action_notes": offer.notes,
    }
    return render(request, "lab/donor_lot.html", context)


# Reagent lots ---------------------------------------------------------------------------------------------


@login_required
@require_GET
def reagent_lot_list(request):
    """The lab's reagent and medium lots by name, with their expiry."""
    user = request.user
    require_permission(user, Permission.LAB_VIEW)
    lots = selectors.reagent_lots_for(user).order_by("name", "lot_number", "id")
    window = paginate(request, lots)
    offer = available.reagent_lots_offer(user)
    context = {
        "nav_active": "lab",
        "lots": window.page.object_list,
        "window": window,
        "today": timezone.localdate(),
        "actions": offer.actions,
        "action_notes": offer.notes,
    }
    return render(request, "lab/reagent_lots.html", context)

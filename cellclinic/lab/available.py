"""Which lab actions a reader may take on a record now, and what a page says when one is held back.

Each rule mirrors the service its action calls: the permission the service asks for at the site where it
asks for it, and the move the state table must allow. An action is offered only when its service would
not refuse it for who the reader is or where the record stands (what the reader then types is the
service's to judge), so a page never shows a button that will be refused. A rule answers a `Verdict`:
allowed; forbidden, with the service's own words (the reader lacks the role at that site); or not now,
with the reason (the record's state, the consent, the QC results).

The detail pages (views.py) list the allowed actions in their actions area; the action pages
(actions.py) show the reason instead of the form when an action is not open now, and answer 403 with
the reason to a reader who may see the record but not do this.
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache

from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from cellclinic.accounts.access import has_permission, staff_site_ids
from cellclinic.accounts.models import User
from cellclinic.accounts.roles import Permission
from cellclinic.catalogue.registry import get_catalogue, therapy_name
from cellclinic.catalogue.schema import CellSource, ProcessingKind
from cellclinic.consents.models import Consent
from cellclinic.core.states import TransitionRefused, TransitionTable
from cellclinic.lab import selectors, services, states
from cellclinic.lab.administration import (
    CHECK_VALID_FOR,
    NOT_PASSED_TEXT,
    NOT_YOURS_TEXT,
    SUPERSEDED_TEXT,
    TOO_OLD_TEXT,
)
from cellclinic.lab.donor import DONOR_TESTS, eligibility_problems
from cellclinic.lab.models import (
    Batch,
    BedsideCheck,
    CustodyEvent,
    DonorLot,
    ProcessStep,
    Product,
    Shipment,
    Specimen,
)
from cellclinic.patients.models import Patient
from cellclinic.treatment.models import TreatmentPlan

P = Permission

NOT_ALL_PASS = "Release needs every release criterion to pass; {count} of {total} do not yet."
NOTHING_TO_PACK = "No released product of this batch is waiting to be packed."
NO_DONOR_THERAPY = "No therapy in the catalogue is made from donor cells, so no donor lot can be recorded."
NOT_IN_CATALOGUE = "the lot's therapy ({code}) is not in the catalogue"
NOT_RECEIVED_YET = (
    "The product has not been received at the clinic yet: receive it, then check it at the bedside."
)
ADMINISTERED = "The administration of this product is recorded."
PROCESSED_IT = (
    "You processed this batch (or recorded a step of it), so you cannot release it: another QA reviewer must."
)
NOTHING_PAST_EXPIRY = "No product in your care is past its expiry."


@dataclass(frozen=True)
class Action:
    """A link in a detail page's actions area; PRIMARY marks the record's next step."""

    label: str
    href: str
    primary: bool = False


@dataclass(frozen=True)
class Verdict:
    """Whether a reader may take an action now: allowed, FORBIDDEN to them, or NOT_NOW, each with why."""

    forbidden: str = ""
    not_now: str = ""

    @property
    def allowed(self) -> bool:
        return not self.forbidden and not self.not_now


ALLOWED = Verdict()


def forbidden(message: str) -> Verdict:
    return Verdict(forbidden=message)


def not_now(message: str) -> Verdict:
    return Verdict(not_now=message)


@dataclass
class Offer:
    """What a detail page offers its reader: the actions, and notes on what is held back and why."""

    actions: list[Action] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, verdict: Verdict, label: str, href: str, *, primary: bool = False, say_why: bool = False):
        """Offer the action when VERDICT allows it; with SAY_WHY, note why not when it is the reader's to
        take but not now."""
        if verdict.allowed:
            self.actions.append(Action(label, href, primary))
        elif say_why and verdict.not_now:
            self.notes.append(verdict.not_now)


# --- shared checks -------------------------------------------------------------------------------------


def _refusal(table: TransitionTable, current: str, target: str) -> str:
    """The table's words when CURRENT may not become TARGET; "" when it may."""
    try:
        table.check(current, target)
    except TransitionRefused as refused:
        return str(refused)
    return ""


def _first(*checks: Callable[[], str]) -> Verdict:
    """Not now with the first reason CHECKS give (each run only while the ones before found none)."""
    for check in checks:
        reason = check()
        if reason:
            return not_now(reason)
    return ALLOWED


def consent_in_force(chain_id: int | None) -> bool:
    """True when the consent behind the chain of identity CHAIN_ID is signed and not withdrawn (a
    donor product, with no chain, has none to check). One query."""
    if chain_id is None:
        return True
    return Consent.objects.filter(chains_of_identity=chain_id, status=Consent.Status.SIGNED).exists()


def _consent(chain_id: int | None, coi: str) -> Callable[[], str]:
    return lambda: "" if consent_in_force(chain_id) else services.CONSENT_NOT_IN_FORCE.format(coi=coi)


def _collects(user: User, clinic_id: int) -> bool:
    return has_permission(user, P.SPECIMEN_COLLECT, clinic_id)


def _processes(user: User, lab_id: int) -> bool:
    return has_permission(user, P.LAB_PROCESS, lab_id)


def _releases(user: User, lab_id: int) -> bool:
    return has_permission(user, P.LAB_RELEASE, lab_id)


def administering_sites(user: User) -> set[int]:
    """The clinics where USER gives products to the patients they see (administration's own rule)."""
    return staff_site_ids(user, P.PRODUCT_ADMINISTER) & staff_site_ids(user, P.PATIENT_VIEW)


def administers(user: User, clinic_id: int) -> bool:
    """True for clinic staff who give products to the patients they see at CLINIC_ID."""
    return clinic_id in administering_sites(user)


# --- harvest -------------------------------------------------------------------------------------------


def harvest(user: User, plan: TreatmentPlan, therapy, replaces: Specimen | None = None) -> Verdict:
    """Record a harvest on PLAN's consent (its protocol version is THERAPY, None when it is gone): its
    first, or a re-harvest that REPLACES a specimen of it."""
    verdict = _harvest_open(user, plan, therapy)
    if not verdict.allowed:
        return verdict
    if replaces is None:
        harvested = Specimen.objects.filter(chain__consent_id=plan.consent_id).exists()
        return not_now(services.ALREADY_HARVESTED) if harvested else ALLOWED
    failed = replaces.batches.filter(status=states.BATCH_FAILED).exists()
    why = replaceable(replaces, failed=failed, replaced=replaces.replaced_by.exists())
    return not_now(why) if why else ALLOWED


def _harvest_open(user: User, plan: TreatmentPlan, therapy) -> Verdict:
    if not _collects(user, plan.site_id):
        return forbidden(services.CANNOT_COLLECT)
    if plan.status != TreatmentPlan.Status.ACTIVE or plan.consent.status != Consent.Status.SIGNED:
        return not_now(services.NO_CONSENT)
    if therapy is None:
        return not_now(services.THERAPY_GONE.format(version=plan.therapy_version, code=plan.therapy_code))
    if therapy.cell_source != CellSource.AUTOLOGOUS or therapy.harvest is None:
        return not_now(services.NO_HARVEST)
    if therapy.processing.kind == ProcessingKind.POINT_OF_CARE:
        return not_now(services.AT_THE_BEDSIDE)
    if plan.site.lab_id is None:
        return not_now(services.NO_LAB)
    return ALLOWED


def replaceable(specimen: Specimen, *, failed: bool, replaced: bool) -> str:
    """Why SPECIMEN cannot be replaced by a re-harvest ("" when it can): FAILED tells whether a batch of
    it failed, REPLACED whether a later harvest replaces it already."""
    if specimen.status not in services.REPLACEABLE_SPECIMENS:
        return services.NOT_REPLACEABLE
    if specimen.status == states.SPECIMEN_USED and not failed:
        return services.NOT_REPLACEABLE
    if replaced:
        return services.ALREADY_REPLACED
    return ""


# --- specimens and shipments ---------------------------------------------------------------------------


def specimen_pack(user: User, specimen: Specimen) -> Verdict:
    if not _collects(user, specimen.site_id):
        return forbidden(services.CANNOT_COLLECT)
    return _first(
        lambda: _refusal(states.SPECIMEN_STATES, specimen.status, states.SPECIMEN_PACKED),
        lambda: services.ALREADY_IN_A_SHIPMENT.format(what=specimen.coi) if specimen.shipment_id else "",
        _consent(specimen.chain_id, specimen.coi),
    )


def specimen_dispose(user: User, specimen: Specimen) -> Verdict:
    at_clinic = specimen.status in (states.SPECIMEN_COLLECTED, states.SPECIMEN_PACKED)
    holds = _collects(user, specimen.site_id) if at_clinic else _processes(user, specimen.lab_id)
    if not holds:
        return forbidden(services.CANNOT_DISPOSE_SPECIMEN)
    return _first(lambda: _refusal(states.SPECIMEN_STATES, specimen.status, states.SPECIMEN_DISPOSED))


def batch_plan(user: User, specimen: Specimen, batches: Sequence[Batch]) -> Verdict:
    """Plan a batch for SPECIMEN, whose batches are BATCHES."""
    if not _processes(user, specimen.lab_id):
        return forbidden(services.CANNOT_PROCESS)
    label = states.SPECIMEN_STATES.label(specimen.status)
    return _first(
        lambda: (
            ""
            if specimen.status == states.SPECIMEN_RECEIVED
            else services.SPECIMEN_NOT_RECEIVED.format(status=label)
        ),
        lambda: (
            services.SPECIMEN_HAS_BATCH
            if any(batch.status != states.BATCH_CANCELLED for batch in batches)
            else ""
        ),
        _consent(specimen.chain_id, specimen.coi),
    )


def _at_clinic(shipment: Shipment, *, receiving: bool) -> bool:
    return (shipment.direction == Shipment.Direction.TO_LAB) != receiving


def shipment_dispatch(user: User, shipment: Shipment) -> Verdict:
    """Hand a packed shipment to its courier: the clinic sends specimens, the lab sends products."""
    if _at_clinic(shipment, receiving=False):
        if not _collects(user, shipment.site_id):
            return forbidden(services.CANNOT_COLLECT)
    elif not _processes(user, shipment.lab_id):
        return forbidden(services.CANNOT_PROCESS)
    return _first(lambda: _refusal(states.SHIPMENT_STATES, shipment.status, states.SHIPMENT_IN_TRANSIT))


def shipment_receive(user: User, shipment: Shipment) -> Verdict:
    """Receive a shipment in transit: the lab receives specimens, the clinic receives products."""
    if _at_clinic(shipment, receiving=True):
        if not _collects(user, shipment.site_id):
            return forbidden(services.CANNOT_RECEIVE_PRODUCTS)
    elif not _processes(user, shipment.lab_id):
        return forbidden(services.CANNOT_PROCESS)
    return _first(lambda: _refusal(states.SHIPMENT_STATES, shipment.status, states.SHIPMENT_DELIVERED))


# --- batches -------------------------------------------------------------------------------------------


def _lab_work(user: User, batch: Batch) -> Verdict | None:
    return None if _processes(user, batch.lab_id) else forbidden(services.CANNOT_PROCESS)


def _chain_of(batch: Batch) -> int | None:
    return batch.specimen.chain_id if batch.specimen_id else None


def batch_start(user: User, batch: Batch) -> Verdict:
    specimen = batch.specimen if batch.specimen_id else None
    return _lab_work(user, batch) or _first(
        lambda: _refusal(states.BATCH_STATES, batch.status, states.BATCH_IN_PROCESS),
        lambda: (
            _refusal(states.SPECIMEN_STATES, specimen.status, states.SPECIMEN_IN_PROCESSING)
            if specimen
            else ""
        ),
        _consent(_chain_of(batch), batch.coi),
    )


def batch_step(user: User, batch: Batch) -> Verdict:
    label = states.BATCH_STATES.label(batch.status)
    return _lab_work(user, batch) or _first(
        lambda: (
            ""
            if batch.status == states.BATCH_IN_PROCESS
            else services.BATCH_NOT_IN_PROCESS.format(status=label)
        )
    )


def batch_deviation(user: User, batch: Batch) -> Verdict:
    label = states.BATCH_STATES.label(batch.status)
    open_states = (states.BATCH_PLANNED, *services.QC_OPEN)
    return _lab_work(user, batch) or _first(
        lambda: "" if batch.status in open_states else services.BATCH_FINISHED.format(status=label)
    )


def batch_fail(user: User, batch: Batch) -> Verdict:
    return _lab_work(user, batch) or _first(
        lambda: _refusal(states.BATCH_STATES, batch.status, states.BATCH_FAILED)
    )


def batch_cancel(user: User, batch: Batch) -> Verdict:
    """Cancel a batch that is planned and not started: its slot is freed."""
    return _lab_work(user, batch) or _first(
        lambda: _refusal(states.BATCH_STATES, batch.status, states.BATCH_CANCELLED)
    )


def banked_cells_dispose(user: User, batch: Batch) -> Verdict:
    """Record the disposal of the cells BATCH keeps frozen: its lab's technicians or QA reviewers."""
    if not (_processes(user, batch.lab_id) or _releases(user, batch.lab_id)):
        return forbidden(services.CANNOT_PROCESS)
    return _first(lambda: "" if batch.banked_vials else services.NO_BANKED_CELLS)


def batch_finish(user: User, batch: Batch) -> Verdict:
    return _lab_work(user, batch) or _first(
        lambda: _refusal(states.BATCH_STATES, batch.status, states.BATCH_QC_PENDING),
        _consent(_chain_of(batch), batch.coi),
    )


QC_ENTRY = (states.BATCH_IN_PROCESS, states.BATCH_QC_PENDING)


def qc_enter(user: User, batch: Batch) -> Verdict:
    label = states.BATCH_STATES.label(batch.status)
    return _lab_work(user, batch) or _first(
        lambda: "" if batch.status in QC_ENTRY else services.BATCH_FINISHED.format(status=label)
    )


def qc_correct(user: User, batch: Batch) -> Verdict:
    label = states.BATCH_STATES.label(batch.status)
    return _lab_work(user, batch) or _first(
        lambda: "" if batch.status in services.QC_OPEN else services.QC_CLOSED.format(status=label)
    )


def processors(batch: Batch, steps: Iterable[ProcessStep] | None = None) -> set[int]:
    """Everyone who processed BATCH: its processor and whoever recorded a step (STEPS when read)."""
    found = (
        {step.performed_by_id for step in steps}
        if steps is not None
        else set(ProcessStep.objects.filter(batch=batch).values_list("performed_by_id", flat=True))
    )
    return found | ({batch.processed_by_id} if batch.processed_by_id else set())


def _failing(outcomes: Sequence[str]) -> str:
    """Why the QC results do not allow release yet, from each criterion's outcome ("pass", ...)."""
    short = sum(outcome != "pass" for outcome in outcomes)
    if outcomes and not short:
        return ""
    return NOT_ALL_PASS.format(count=short, total=len(outcomes)) if outcomes else services.NO_CRITERIA


def batch_release(
    user: User,
    batch: Batch,
    *,
    outcomes: Sequence[str],
    steps: Iterable[ProcessStep] | None = None,
    products: Sequence[Product],
) -> Verdict:
    """Release BATCH (its criteria's OUTCOMES as the batch page judged them, its PRODUCTS)."""
    if not _releases(user, batch.lab_id):
        return forbidden(services.CANNOT_RELEASE)
    now = timezone.now()
    waiting = [p for p in products if p.status == states.PRODUCT_AWAITING_RELEASE]
    lot = batch.donor_lot if batch.donor_lot_id else None
    return _first(
        lambda: _refusal(states.BATCH_STATES, batch.status, states.BATCH_RELEASED),
        lambda: PROCESSED_IT if user.pk in processors(batch, steps) else "",
        lambda: _failing(outcomes),
        lambda: services.NOT_ELIGIBLE if lot is not None and not lot.eligible else "",
        lambda: services.NOTHING_TO_RELEASE if not waiting else "",
        lambda: next(
            (services.PRODUCT_EXPIRED.format(din=p.din) for p in waiting if p.expires_at <= now), ""
        ),
        _consent(_chain_of(batch), batch.coi),
    )


def batch_reject(user: User, batch: Batch) -> Verdict:
    if not _releases(user, batch.lab_id):
        return forbidden(services.CANNOT_RELEASE)
    return _first(lambda: _refusal(states.BATCH_STATES, batch.status, states.BATCH_REJECTED))


def to_pack(products: Iterable[Product]) -> list[Product]:
    """The released products, not yet in a shipment and unexpired, that can be packed for the clinic."""
    now = timezone.now()
    return [
        p
        for p in products
        if p.status == states.PRODUCT_RELEASED and p.shipment_id is None and p.expires_at > now
    ]


def batch_ship(user: User, batch: Batch, products: Sequence[Product]) -> Verdict:
    return _lab_work(user, batch) or _first(
        lambda: "" if to_pack(products) else NOTHING_TO_PACK,
        _consent(_chain_of(batch), batch.coi),
    )


# --- products ------------------------------------------------------------------------------------------


def _handles(user: User, product: Product) -> bool:
    """The product's lab staff, or clinic staff who give products where it is held (services' rule)."""
    lab = _processes(user, product.lab_id) or _releases(user, product.lab_id)
    clinic = product.site_id != product.lab_id and has_permission(user, P.PRODUCT_ADMINISTER, product.site_id)
    return lab or clinic


def product_quarantine(user: User, product: Product) -> Verdict:
    if not _handles(user, product):
        return forbidden(services.CANNOT_HANDLE_PRODUCT)
    return _first(lambda: _refusal(states.PRODUCT_STATES, product.status, states.PRODUCT_QUARANTINED))


def product_release_from_quarantine(user: User, product: Product) -> Verdict:
    if not _releases(user, product.lab_id):
        return forbidden(services.CANNOT_RELEASE)
    batch = product.batch
    lot = product.donor_lot if product.donor_lot_id else None
    return _first(
        lambda: _refusal(states.PRODUCT_STATES, product.status, states.PRODUCT_RELEASED),
        lambda: "" if batch.status == states.BATCH_RELEASED else services.BATCH_NOT_RELEASED,
        lambda: (
            services.PRODUCT_EXPIRED.format(din=product.din) if product.expires_at <= timezone.now() else ""
        ),
        lambda: PROCESSED_IT if user.pk in processors(batch) else "",
        lambda: services.NOT_ELIGIBLE if lot is not None and not lot.eligible else "",
        _consent(product.chain_id, product.coi),
    )


def product_recall(user: User, product: Product) -> Verdict:
    if not _releases(user, product.lab_id):
        return forbidden(services.CANNOT_RELEASE)
    return _first(lambda: _refusal(states.PRODUCT_STATES, product.status, states.PRODUCT_RECALLED))


def product_dispose(user: User, product: Product, events: Iterable[CustodyEvent] | None = None) -> Verdict:
    """Dispose of PRODUCT (EVENTS: its custody events when already read)."""
    if not _handles(user, product):
        return forbidden(services.CANNOT_HANDLE_PRODUCT)
    if product.status != states.PRODUCT_REJECTED:
        return _first(lambda: _refusal(states.PRODUCT_STATES, product.status, states.PRODUCT_DISPOSED))
    if events is None:
        disposed = product.custody.filter(kind=CustodyEvent.Kind.DISPOSED).exists()
    else:
        disposed = any(event.kind == CustodyEvent.Kind.DISPOSED for event in events)
    return not_now(services.ALREADY_DISPOSED) if disposed else ALLOWED


def products_expire(user: User, past: int) -> Verdict:
    """Take the products past their expiry out of use, PAST of them being in USER's care now: lab
    technicians and QA reviewers their lab's, practitioners and nurses those received at their clinic
    (services.product_expire's rule, `selectors.expiry_scopes`)."""
    labs, clinics = selectors.expiry_scopes(user)
    if not labs and not clinics:
        return forbidden(services.CANNOT_EXPIRE)
    return ALLOWED if past else not_now(NOTHING_PAST_EXPIRY)


def expired_label(count: int) -> str:
    return f"Take {count} expired product{'s' if count != 1 else ''} out of use"


def bedside(user: User, product: Product) -> Verdict:
    """Check PRODUCT at the bedside: clinic staff who give products, once it is received at the clinic."""
    if not administers(user, product.site_id):
        return forbidden(services.CANNOT_RECEIVE_PRODUCTS)
    return ALLOWED if product.status == states.PRODUCT_RECEIVED else not_now(NOT_RECEIVED_YET)


def administration(user: User, check: BedsideCheck) -> Verdict:
    """Record the administration on CHECK: a passed check of the reader's own, recent, their latest of
    the product, for a product received at the clinic (administration.product_administer's rule)."""
    if not administers(user, check.site_id):
        return forbidden(services.CANNOT_RECEIVE_PRODUCTS)
    product = check.product
    minutes = int(CHECK_VALID_FOR.total_seconds() // 60)
    return _first(
        lambda: "" if check.passed and product is not None else NOT_PASSED_TEXT,
        lambda: ADMINISTERED if product.status == states.PRODUCT_ADMINISTERED else "",
        lambda: "" if check.checked_by_id == user.pk else NOT_YOURS_TEXT,
        lambda: "" if product.status == states.PRODUCT_RECEIVED else NOT_RECEIVED_YET,
        lambda: (
            ""
            if timezone.now() - check.checked_at < CHECK_VALID_FOR
            else TOO_OLD_TEXT.format(minutes=minutes)
        ),
        lambda: "" if _latest_check(check) == check.pk else SUPERSEDED_TEXT,
    )


def _latest_check(check: BedsideCheck) -> int | None:
    return (
        BedsideCheck.objects.filter(product_id=check.product_id, checked_by_id=check.checked_by_id)
        .order_by("-id")
        .values_list("pk", flat=True)
        .first()
    )


# --- donor lots ----------------------------------------------------------------------------------------


def donor_lot_eligibility(user: User, lot: DonorLot) -> Verdict:
    if not _releases(user, lot.site_id):
        return forbidden(services.CANNOT_RELEASE)
    problems = eligibility_problems(lot.screening)
    return _first(
        lambda: services.ELIGIBILITY_DOCUMENTED if lot.eligible else "",
        lambda: (
            services.LOT_EXPIRED.format(day=lot.expires_on) if lot.expires_on < timezone.localdate() else ""
        ),
        lambda: "; ".join(f"{DONOR_TESTS.get(test, test)}: {why}" for test, why in problems.items()),
    )


def donor_lot_screening(user: User, lot: DonorLot) -> Verdict:
    """Record screening results on LOT: its lab's technicians, until donor eligibility is documented."""
    if not _processes(user, lot.site_id):
        return forbidden(services.CANNOT_PROCESS)
    return _first(lambda: services.ELIGIBILITY_DOCUMENTED if lot.eligible else "")


def doses_left(lot: DonorLot, batches: Iterable[Batch]) -> int:
    """The doses LOT has left for new batches, BATCHES being all its batches: a failed, cancelled or
    rejected batch gives its doses back (the services' count)."""
    spent = sum(batch.doses_planned for batch in batches if batch.status not in services.DOSES_RETURNED)
    return lot.quantity - spent


def lab_ready(lot: DonorLot) -> bool:
    """True when LOT's lab has its profile (facility and processing slots), read with the lot's
    `site__lab_profile`."""
    return hasattr(lot.site, "lab_profile")


def batch_plan_from_lot(user: User, lot: DonorLot, batches: Sequence[Batch], *, ready: bool) -> Verdict:
    """Plan a batch of LOT's donor cells, whose batches are BATCHES; READY tells whether the lab has its
    profile. As services.batch_plan: the lab's technicians, a therapy of the catalogue made from donor
    cells, an unexpired lot with a dose left. Donor eligibility is needed to release the products, not
    to plan the batch."""
    if not _processes(user, lot.site_id):
        return forbidden(services.CANNOT_PROCESS)
    therapy = get_catalogue().therapies.get(lot.therapy_code)
    left = doses_left(lot, batches)
    return _first(
        lambda: "" if therapy is not None else NOT_IN_CATALOGUE.format(code=lot.therapy_code),
        lambda: "" if therapy.cell_source == CellSource.ALLOGENEIC else services.LOT_NOT_DONOR,
        lambda: (
            services.LOT_EXPIRED.format(day=lot.expires_on) if lot.expires_on < timezone.localdate() else ""
        ),
        lambda: "" if left >= 1 else services.TOO_FEW_DOSES_LEFT.format(left=max(left, 0)),
        lambda: "" if ready else services.LAB_NOT_READY,
    )


def recording_labs(user: User) -> set[int]:
    """The labs where USER records reagent and donor lots (the services' rule: LAB_PROCESS there)."""
    return staff_site_ids(user, P.LAB_PROCESS)


def reagent_lot_create(user: User, lab_ids: Iterable[int]) -> Verdict:
    """Record a reagent lot at one of the labs LAB_IDS."""
    if not recording_labs(user) & set(lab_ids):
        return forbidden(services.CANNOT_PROCESS)
    return ALLOWED


def donor_therapies() -> list[tuple[str, str]]:
    """(code, name) of each therapy in the catalogue made from donor cells, by name."""
    therapies = get_catalogue().therapies.values()
    found = [(t.code, t.name) for t in therapies if t.cell_source == CellSource.ALLOGENEIC]
    return sorted(found, key=lambda item: item[1].casefold())


def donor_lot_create(user: User, lab_ids: Iterable[int]) -> Verdict:
    """Record a donor lot at one of the labs LAB_IDS, for a therapy made from donor cells."""
    if not recording_labs(user) & set(lab_ids):
        return forbidden(services.CANNOT_PROCESS)
    return ALLOWED if donor_therapies() else not_now(NO_DONOR_THERAPY)


# --- what each detail page offers ----------------------------------------------------------------------


def _shipment_actions(offer: Offer, user: User, shipment: Shipment | None) -> None:
    if shipment is None:
        return
    dispatch = shipment_dispatch(user, shipment)
    offer.add(
        dispatch, "Hand to the courier", reverse("lab:shipment_dispatch", args=[shipment.pk]), primary=True
    )
    receive = shipment_receive(user, shipment)
    where = "lab" if shipment.direction == Shipment.Direction.TO_LAB else "clinic"
    offer.add(
        receive, f"Receive at the {where}", reverse("lab:shipment_receive", args=[shipment.pk]), primary=True
    )


def specimen_offer(
    user: User, specimen: Specimen, *, batches: Sequence[Batch], replaced: bool, shipment: Shipment | None
) -> Offer:
    """What the specimen page offers: pack, hand over, receive, plan a batch, re-harvest, dispose."""
    offer = Offer()
    href = lambda name: reverse(name, args=[specimen.pk])  # noqa: E731
    offer.add(specimen_pack(user, specimen), "Pack for the lab", href("lab:specimen_pack"), primary=True)
    _shipment_actions(offer, user, shipment)
    offer.add(batch_plan(user, specimen, batches), "Plan a batch", href("lab:batch_plan"), primary=True)
    failed = any(batch.status == states.BATCH_FAILED for batch in batches)
    if _collects(user, specimen.site_id) and not replaceable(specimen, failed=failed, replaced=replaced):
        plan_id = specimen.chain.plan_id
        if plan_id is not None:
            again = f"{reverse('lab:harvest', args=[plan_id])}?replaces={specimen.pk}"
            offer.actions.append(Action("Record a re-harvest", again, primary=True))
    offer.add(specimen_dispose(user, specimen), "Dispose of the specimen", href("lab:specimen_dispose"))
    return offer


def batch_offer(user: User, batch: Batch, *, outcomes: Sequence[str], steps, products) -> Offer:
    """What the batch page offers: the next step of processing, QC, the QA decision, shipping."""
    offer = Offer()
    href = lambda name: reverse(name, args=[batch.pk])  # noqa: E731
    offer.add(batch_start(user, batch), "Start processing", href("lab:batch_start"), primary=True)
    offer.add(batch_step(user, batch), "Record a process step", href("lab:batch_step"), primary=True)
    offer.add(qc_enter(user, batch), "Enter QC results", href("lab:batch_qc"), primary=True)
    offer.add(batch_finish(user, batch), "Finish processing", href("lab:batch_finish"))
    offer.add(batch_deviation(user, batch), "Record a deviation", href("lab:batch_deviation"))
    offer.add(batch_fail(user, batch), "Record a failed culture", href("lab:batch_fail"))
    offer.add(batch_cancel(user, batch), "Cancel the batch", href("lab:batch_cancel"))
    release = batch_release(user, batch, outcomes=outcomes, steps=steps, products=products)
    # Why a batch waiting for release cannot be released by this reviewer: said on the page.
    waits = states.BATCH_STATES.allows(batch.status, states.BATCH_RELEASED)
    offer.add(release, "Release the batch", href("lab:batch_release"), primary=True, say_why=waits)
    offer.add(batch_reject(user, batch), "Reject the batch", href("lab:batch_reject"))
    offer.add(
        batch_ship(user, batch, products),
        "Pack products for the clinic",
        href("lab:batch_ship"),
        primary=True,
    )
    packed = next((p for p in products if p.shipment_id and p.status == states.PRODUCT_RELEASED), None)
    if packed is not None:
        _shipment_actions(offer, user, packed.shipment)
    offer.add(
        banked_cells_dispose(user, batch), "Dispose of the banked cells", href("lab:banked_cells_dispose")
    )
    return offer


def product_offer(user: User, product: Product, *, shipment: Shipment | None, events) -> Offer:
    """What the product page offers: the bedside check, shipping, and QA's and the handlers' decisions."""
    offer = Offer()
    href = lambda name: reverse(name, args=[product.din])  # noqa: E731
    if administers(user, product.site_id):
        offer.add(bedside(user, product), "Check at the bedside", reverse("lab:bedside"), primary=True)
    _shipment_actions(offer, user, shipment)
    offer.add(
        product_release_from_quarantine(user, product),
        "Release from quarantine",
        href("lab:product_unquarantine"),
    )
    offer.add(product_quarantine(user, product), "Quarantine", href("lab:product_quarantine"))
    offer.add(product_recall(user, product), "Recall", href("lab:product_recall"))
    offer.add(product_dispose(user, product, events), "Dispose of the product", href("lab:product_dispose"))
    return offer


def donor_lot_offer(user: User, lot: DonorLot, *, batches: Sequence[Batch], ready: bool) -> Offer:
    """What the donor lot page offers: QA documents eligibility; the lab's technicians record screening
    results while it is not documented, and plan batches of the lot (BATCHES: all of them; READY: the
    lab has its profile)."""
    offer = Offer()
    href = lambda name: reverse(name, args=[lot.pk])  # noqa: E731
    verdict = donor_lot_eligibility(user, lot)
    offer.add(
        verdict,
        "Document donor eligibility",
        href("lab:donor_lot_eligibility"),
        primary=True,
        say_why=not lot.eligible,
    )
    offer.add(
        donor_lot_screening(user, lot),
        "Record screening results",
        href("lab:donor_lot_screening"),
        primary=True,
    )
    # An expired lot says so on its page already.
    expired = lot.expires_on < timezone.localdate()
    offer.add(
        batch_plan_from_lot(user, lot, batches, ready=ready),
        "Plan a batch",
        href("lab:donor_lot_plan_batch"),
        primary=lot.eligible,
        say_why=not expired,
    )
    return offer


def donor_lots_offer(user: User) -> Offer:
    """What the donor lots page offers: record a lot, at a lab where the reader processes."""
    offer = Offer()
    verdict = donor_lot_create(user, recording_labs(user))
    offer.add(verdict, "Record a donor lot", reverse("lab:donor_lot_create"), primary=True, say_why=True)
    return offer


def reagent_lots_offer(user: User) -> Offer:
    """What the reagent lots page offers: record a lot, at a lab where the reader processes."""
    offer = Offer()
    verdict = reagent_lot_create(user, recording_labs(user))
    offer.add(verdict, "Record a reagent lot", reverse("lab:reagent_lot_create"), primary=True)
    return offer


def expired_offer(user: User) -> Offer:
    """What /lab/ and the list of products expiring soon offer: the page that takes the products past
    their expiry out of use, when USER has some in their care. One COUNT through the indexes
    `selectors.past_expiry` reads by; no query for a reader who takes no product out of use."""
    offer = Offer()
    labs, clinics = selectors.expiry_scopes(user)
    if not labs and not clinics:
        return offer
    past = selectors.past_expiry(user, timezone.now()).count()
    if past:
        offer.actions.append(Action(expired_label(past), reverse("lab:products_expire"), primary=True))
    return offer


# --- the chart: what comes next at the clinic ----------------------------------------------------------


@cache
def _harvested_therapy(code: str, version: str) -> bool:
    """True when a protocol version harvests the patient's cells for processing at a lab."""
    therapy = get_catalogue().therapy(code, version)
    return (
        therapy is not None
        and therapy.cell_source == CellSource.AUTOLOGOUS
        and therapy.harvest is not None
        and therapy.processing.kind != ProcessingKind.POINT_OF_CARE
    )


def chart_next(request, patient: Patient) -> dict | None:
    """The chart's next lab steps for clinic staff: record the harvest a plan is waiting for, record a
    re-harvest after a failed culture (or a lost or rejected specimen), and check a product received
    for the patient at the bedside. None when there is nothing to do. One query, two with a
    specimen to replace."""
    user = request.user
    if user.is_patient:
        return None
    collects = _collects(user, patient.site_id)
    gives = administers(user, patient.site_id)
    if not collects and not gives:
        return None
    harvested = Specimen.objects.filter(chain__consent_id=OuterRef("consent_id"))
    received = Product.objects.filter(site_id=patient.site_id, status=states.PRODUCT_RECEIVED).filter(
        Q(chain__consent_id=OuterRef("consent_id"))
        | Q(chain__isnull=True, therapy_code=OuterRef("therapy_code"))
    )
    plans = list(
        TreatmentPlan.objects.filter(
            patient=patient, status=TreatmentPlan.Status.ACTIVE, consent__status=Consent.Status.SIGNED
        )
        .annotate(harvested=Exists(harvested), to_give=Exists(received))
        .order_by("-created_at", "-id")
    )
    lab_id = patient.site.lab_id
    harvests, again = [], []
    if collects and lab_id is not None:
        wanting = [p for p in plans if _harvested_therapy(p.therapy_code, p.therapy_version)]
        harvests = [(p, therapy_name(p.therapy_code)) for p in wanting if not p.harvested]
        again = _reharvests([p for p in wanting if p.harvested])
    give = gives and any(p.to_give for p in plans)
    if not harvests and not again and not give:
        return None
    return {"harvests": harvests, "reharvests": again, "bedside": give}


def _reharvests(plans: list[TreatmentPlan]) -> list[tuple[TreatmentPlan, Specimen, str]]:
    """(plan, specimen, why) for each specimen of PLANS' consents a re-harvest may replace."""
    if not plans:
        return []
    by_consent = {plan.consent_id: plan for plan in plans}
    failed = Batch.objects.filter(specimen=OuterRef("pk"), status=states.BATCH_FAILED)
    replaced = Specimen.objects.filter(replaces=OuterRef("pk"))
    candidates = (
        Specimen.objects.filter(
            chain__consent_id__in=list(by_consent), status__in=services.REPLACEABLE_SPECIMENS
        )
        .annotate(failed=Exists(failed), replaced=Exists(replaced))
        .select_related("chain")
        .order_by("collected_at", "id")
    )
    found = []
    for specimen in candidates:
        if replaceable(specimen, failed=specimen.failed, replaced=specimen.replaced):
            continue
        why = "its culture failed" if specimen.failed else states.SPECIMEN_STATES.label(specimen.status)
        found.append((by_consent[specimen.chain.consent_id], specimen, why))
    return found

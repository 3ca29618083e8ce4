"""What the lab adds to the staff worklist, for lab staff and for the clinics the lab serves.

Registered in LabConfig.ready(); the lab's own page (/lab/) lists the same items in full.

For lab staff (LAB_VIEW), at the labs where they hold it:

- specimens on their way to the lab: dispatched by the clinic, not yet received;
- specimens received and accepted with no batch booked for them yet;
- batches in process: booked or processing, with their ready window; a batch past the last day of its
  window is flagged overdue;
- batches waiting for QC results, and batches waiting for release by QA;
- released products to ship to the clinic;
- products awaiting receipt: shipped to the clinic and not yet received there, so the lab knows where
  its products stand until custody passes to the clinic;
- products expiring within EXPIRING_HOURS hours that are still usable (released, shipped or received),
  and those past their expiry not yet taken out of use.

For clinic staff (PATIENT_VIEW), at their clinics, each row naming the patient:

- products on their way to the clinic;
- products to administer today: received at the clinic, for a patient whose active plan has a
  treatment session today, each leading to the bedside check;
- specimens collected (or packed) and not yet shipped to the lab.

Lab rows carry chain-of-identity ids and DINs, never a patient's name. Each item answers its first rows
and their total in one query; the counts behind the Lab navigation link come from one aggregate query
per table (specimens, batches, products), kept on the user for the request.
"""

import operator
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import reduce

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery, Window
from django.urls import reverse
from django.utils import timezone

from cellclinic.accounts.access import has_permission, staff_site_ids
from cellclinic.accounts.models import User
from cellclinic.accounts.roles import Permission
from cellclinic.core import plugs
from cellclinic.core.plugs import WorkFound, WorkRow, worklist_day, worklist_links
from cellclinic.lab import selectors, states
from cellclinic.lab.models import Batch, CustodyEvent, Product, Specimen
from cellclinic.treatment.models import PlanStep, TreatmentPlan

SPECIMENS_IN_TRANSIT = "lab.specimens_in_transit"
SPECIMENS_TO_PROCESS = "lab.specimens_to_process"
BATCHES_IN_PROCESS = "lab.batches_in_process"
QC_PENDING = "lab.qc_pending"
AWAITING_RELEASE = "lab.awaiting_release"
TO_SHIP = "lab.to_ship"
AWAITING_RECEIPT = "lab.awaiting_receipt"
EXPIRING_SOON = "lab.expiring_soon"
PRODUCTS_ARRIVING = "lab.products_arriving"
TO_ADMINISTER_TODAY = "lab.to_administer_today"
SPECIMENS_TO_SHIP = "lab.specimens_to_ship"

EXPIRING_HOURS = 48
IN_PROCESS = (states.BATCH_PLANNED, states.BATCH_IN_PROCESS)
USABLE = (states.PRODUCT_RELEASED, states.PRODUCT_SHIPPED, states.PRODUCT_RECEIVED)
NOT_SHIPPED = (states.SPECIMEN_COLLECTED, states.SPECIMEN_PACKED)
# What the Lab navigation link counts: what waits for a lab action now.
NAV_KEYS = (SPECIMENS_IN_TRANSIT, SPECIMENS_TO_PROCESS, QC_PENDING, AWAITING_RELEASE, TO_SHIP)

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


# Who sees which items ------------------------------------------------------------------------------------


def works_in_the_lab(user: User) -> bool:
    """Lab technicians and QA reviewers: the lab's own items and the Lab navigation link."""
    return has_permission(user, Permission.LAB_VIEW)


def follows_lab_work(user: User) -> bool:
    """Clinic staff who see patients' records follow their cells and products."""
    return has_permission(user, Permission.PATIENT_VIEW)


# Words ---------------------------------------------------------------------------------------------------


def ready_window(start: date, end: date) -> str:
    """ "12–19 Jan", "28 Jan – 4 Feb", "28 Dec 2026 – 4 Jan 2027"; one day reads "12 Jan"."""
    if start == end:
        return f"{start.day} {_MONTHS[start.month - 1]}"
    if start.year != end.year:
        first, last = _MONTHS[start.month - 1], _MONTHS[end.month - 1]
        return f"{start.day} {first} {start.year} – {end.day} {last} {end.year}"
    if start.month == end.month:
        return f"{start.day}\u2013{end.day} {_MONTHS[end.month - 1]}"
    return f"{start.day} {_MONTHS[start.month - 1]} – {end.day} {_MONTHS[end.month - 1]}"


def moment(when: datetime, today: date) -> str:
    """WHEN on the site's clock, in a few words: "today 14:00", "Thu 3 Dec 09:30"."""
    local = timezone.localtime(when)
    return f"{worklist_day(local.date(), today)} {local:%H:%M}"


def _patient(family: str | None, given: str | None) -> str:
    return f"{(family or '').upper()}, {given or ''}" if family else ""


# Scopes: what one user may see, read once per request ----------------------------------------------------


def _lab_ids(user: User) -> set[int]:
    return staff_site_ids(user, Permission.LAB_VIEW)


def _clinic_ids(user: User) -> set[int]:
    return staff_site_ids(user, Permission.PATIENT_VIEW)


def _lab_specimens(user: User) -> QuerySet[Specimen]:
    return selectors.in_reach(Specimen, user).filter(lab_id__in=_lab_ids(user))


def _lab_batches(user: User) -> QuerySet[Batch]:
    return selectors.in_reach(Batch, user).filter(lab_id__in=_lab_ids(user))


def _lab_products(user: User) -> QuerySet[Product]:
    return selectors.in_reach(Product, user).filter(lab_id__in=_lab_ids(user))


def _clinic_products(user: User) -> QuerySet[Product]:
    """Products of the patients of the user's clinics: the patient's chain is at one of those clinics too,
    as `selectors.chains_for` requires before anyone learns who the patient is."""
    clinics = _clinic_ids(user)
    return selectors.in_reach(Product, user).filter(site_id__in=clinics, chain__site_id__in=clinics)


def _clinic_specimens(user: User) -> QuerySet[Specimen]:
    clinics = _clinic_ids(user)
    return selectors.in_reach(Specimen, user).filter(site_id__in=clinics, chain__site_id__in=clinics)


def _last_custody(kind: str, subject: str) -> Subquery:
    """When the newest custody event of KIND happened to the row (SUBJECT: "specimen" or "product")."""
    events = CustodyEvent.objects.filter(**{subject: OuterRef("pk")}, kind=kind).order_by("-at", "-id")
    return Subquery(events.values("at")[:1])


def _session_today(today: date) -> Exists:
    """The product's patient has an active plan with a treatment session dated TODAY."""
    return Exists(
        PlanStep.objects.filter(
            plan_id=OuterRef("chain__plan_id"),
            plan__status=TreatmentPlan.Status.ACTIVE,
            kind=PlanStep.Kind.SESSION,
            due_date=today,
        )
    )


# The items -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """One worklist item: who sees it, the rows it selects and how one row reads.

    ROWS(user, now) is the item's scoped queryset; FIELDS the values a row needs (the total last);
    ORDER its order; ROW(values, today) the WorkRow; COUNT_GROUP and COUNT_FILTER the aggregate
    it is counted in.
    """

    key: str
    label: str
    lab: bool
    rows: Callable[[User, datetime], QuerySet]
    fields: tuple[str, ...]
    order: tuple[str, ...]
    row: Callable[[tuple, date], WorkRow]
    count_group: str
    count_filter: Callable[[datetime], Q]
    empty_text: str = ""  # on the start page too; without it the start page leaves the item out
    idle_text: str = ""  # on /lab/ when nothing waits

    @property
    def quiet(self) -> str:
        """What /lab/ says when nothing waits."""
        return self.empty_text or self.idle_text

    @property
    def anchor(self) -> str:
        """The item's HTML id, as the start page gives it."""
        return "worklist-" + self.key.replace(".", "-").replace("_", "-")

    @property
    def shown_to(self) -> Callable[[User], bool]:
        return works_in_the_lab if self.lab else follows_lab_work

    def found(self, user: User, limit: int, offset: int = 0) -> WorkFound:
        """Rows OFFSET to OFFSET + LIMIT and the total, in one query (a second only past the last row)."""
        now = timezone.now()
        rows = self.rows(user, now).annotate(total=Window(Count("pk"))).order_by(*self.order)
        found = list(rows.values_list(*self.fields, "total")[offset : offset + limit])
        if not found:
            return WorkFound(self.rows(user, now).count() if offset else 0, [])
        today = timezone.localdate()
        return WorkFound(found[0][-1], [self.row(values, today) for values in found])

    def items(self, user: User, limit: int) -> WorkFound:
        return self.found(user, limit)

    def count(self, user: User) -> int:
        return _counts(user, self.count_group)[self.key]


def _specimen_link() -> Callable[[int], str]:
    return worklist_links("lab:specimen")


def _batch_link() -> Callable[[int], str]:
    return worklist_links("lab:batch")


def _product_link(din: str) -> str:
    return reverse("lab:product", args=[din])


def _in_transit(user: User, now: datetime) -> QuerySet:
    return _lab_specimens(user).filter(status=states.SPECIMEN_SHIPPED)


def _in_transit_row(values: tuple, today: date) -> WorkRow:
    pk, coi, kind, clinic, shipped, _ = values
    what = f"{coi} · {Specimen.Kind(kind).label} from {clinic}"
    return WorkRow(_specimen_link()(pk), "", what, f"shipped {moment(shipped, today)}" if shipped else "")


def _to_process(user: User, now: datetime) -> QuerySet:
    return _lab_specimens(user).filter(status=states.SPECIMEN_RECEIVED).filter(_no_batch())


def _no_batch() -> Q:
    return ~Q(Exists(Batch.objects.filter(specimen=OuterRef("pk"))))


def _to_process_row(values: tuple, today: date) -> WorkRow:
    pk, coi, kind, clinic, received, _ = values
    what = f"{coi} · {Specimen.Kind(kind).label} from {clinic}"
    return WorkRow(_specimen_link()(pk), "", what, f"received {moment(received, today)}" if received else "")


def _batch_what(code: str, coi: str, lot: str | None) -> str:
    return f"{code} · {coi or f'donor lot {lot}'}"


def _in_process(user: User, now: datetime) -> QuerySet:
    return _lab_batches(user).filter(status__in=IN_PROCESS)


def _in_process_row(values: tuple, today: date) -> WorkRow:
    pk, code, coi, lot, status, ready_from, ready_to, _ = values
    what = f"{_batch_what(code, coi, lot)}, {states.BATCH_STATES.label(status)}"
    if ready_to < today:
        when = f"overdue: ready by {worklist_day(ready_to, today)}"
    else:
        when = f"ready {ready_window(ready_from, ready_to)}"
    return WorkRow(_batch_link()(pk), "", what, when)


def _batch_status(status: str) -> Callable[[User, datetime], QuerySet]:
    return lambda user, now: _lab_batches(user).filter(status=status)


def _waiting_batch_row(values: tuple, today: date) -> WorkRow:
    pk, code, coi, lot, since, _ = values
    return WorkRow(_batch_link()(pk), "", _batch_what(code, coi, lot), f"since {moment(since, today)}")


def _to_ship(user: User, now: datetime) -> QuerySet:
    return _lab_products(user).filter(status=states.PRODUCT_RELEASED)


def _to_ship_row(values: tuple, today: date) -> WorkRow:
    din, dose, coi, clinic, expires, _ = values
    what = f"{din} · dose {dose} for {clinic}" + (f" ({coi})" if coi else "")
    return WorkRow(_product_link(din), "", what, f"expires {moment(expires, today)}")


def _awaiting_receipt(user: User, now: datetime) -> QuerySet:
    return _lab_products(user).filter(status=states.PRODUCT_SHIPPED)


def _awaiting_receipt_row(values: tuple, today: date) -> WorkRow:
    din, dose, clinic, shipped, _ = values
    what = f"{din} · dose {dose}, sent to {clinic}"
    return WorkRow(_product_link(din), "", what, f"shipped {moment(shipped, today)}" if shipped else "")


def _expiring(now: datetime) -> Q:
    return Q(status__in=USABLE, expires_at__lt=now + timedelta(hours=EXPIRING_HOURS))


def _expiring_soon(user: User, now: datetime) -> QuerySet:
    return _lab_products(user).filter(_expiring(now))


def _expiring_row(values: tuple, today: date) -> WorkRow:
    din, status, expires, _ = values
    passed = expires <= timezone.now()
    when = f"{'expired' if passed else 'expires'} {moment(expires, today)}"
    return WorkRow(_product_link(din), "", f"{din} · {states.PRODUCT_STATES.label(status)}", when)


PATIENT_FIELDS = ("chain__patient__family_name", "chain__patient__given_name")


def _arriving(user: User, now: datetime) -> QuerySet:
    return _clinic_products(user).filter(status=states.PRODUCT_SHIPPED)


def _arriving_row(values: tuple, today: date) -> WorkRow:
    din, dose, family, given, lab, shipped, _ = values
    when = f"shipped {moment(shipped, today)}" if shipped else ""
    what = f"Product {din} (dose {dose}) from {lab}"
    return WorkRow(_product_link(din), _patient(family, given), what, when)


def _administer_today(user: User, now: datetime) -> QuerySet:
    return (
        _clinic_products(user)
        .filter(status=states.PRODUCT_RECEIVED)
        .filter(_session_today(timezone.localdate()))
    )


def _administer_row(values: tuple, today: date) -> WorkRow:
    din, dose, family, given, expires, _ = values
    # Where the work is done: the bedside check, which scans the patient and the product.
    return WorkRow(
        reverse("lab:bedside"),
        _patient(family, given),
        f"Product {din} (dose {dose}), session today",
        f"expires {moment(expires, today)}",
    )


def _to_ship_to_lab(user: User, now: datetime) -> QuerySet:
    return _clinic_specimens(user).filter(status__in=NOT_SHIPPED)


def _to_ship_to_lab_row(values: tuple, today: date) -> WorkRow:
    pk, coi, kind, status, family, given, collected, _ = values
    what = f"{Specimen.Kind(kind).label} {coi}, {states.SPECIMEN_STATES.label(status)}"
    return WorkRow(
        _specimen_link()(pk), _patient(family, given), what, f"collected {moment(collected, today)}"
    )


def _shipped_first(subject: str) -> dict:
    return {"shipped_at": _last_custody(CustodyEvent.Kind.SHIPPED, subject)}


def _annotated(read: Callable[[User, datetime], QuerySet], **annotations) -> Callable:
    return lambda user, now: read(user, now).annotate(**annotations)


ITEMS: tuple[Item, ...] = (
    Item(
        SPECIMENS_IN_TRANSIT,
        "Specimens on their way to the lab",
        True,
        _annotated(_in_transit, **_shipped_first("specimen")),
        ("pk", "coi", "kind", "site__code", "shipped_at"),
        ("shipped_at", "pk"),
        _in_transit_row,
        "specimens",
        lambda now: Q(status=states.SPECIMEN_SHIPPED),
        empty_text="No specimen is on its way.",
    ),
    Item(
        SPECIMENS_TO_PROCESS,
        "Specimens received, no batch booked",
        True,
        _annotated(_to_process, received_at=_last_custody(CustodyEvent.Kind.RECEIVED, "specimen")),
        ("pk", "coi", "kind", "site__code", "received_at"),
        ("received_at", "pk"),
        _to_process_row,
        "specimens",
        lambda now: Q(status=states.SPECIMEN_RECEIVED) & _no_batch(),
        idle_text="Every specimen received has a batch booked.",
    ),
    Item(
        BATCHES_IN_PROCESS,
        "Batches in process",
        True,
        _in_process,
        ("pk", "code", "coi", "donor_lot__lot_number", "status", "ready_from", "ready_to"),
        ("ready_to", "ready_from", "pk"),
        _in_process_row,
        "batches",
        lambda now: Q(status__in=IN_PROCESS),
        idle_text="No batch is in process.",
    ),
    Item(
        QC_PENDING,
        "Batches waiting for QC results",
        True,
        _batch_status(states.BATCH_QC_PENDING),
        ("pk", "code", "coi", "donor_lot__lot_number", "updated_at"),
        ("updated_at", "pk"),
        _waiting_batch_row,
        "batches",
        lambda now: Q(status=states.BATCH_QC_PENDING),
        empty_text="No batch is waiting for QC results.",
    ),
    Item(
        AWAITING_RELEASE,
        "Batches waiting for release by QA",
        True,
        _batch_status(states.BATCH_AWAITING_RELEASE),
        ("pk", "code", "coi", "donor_lot__lot_number", "updated_at"),
        ("updated_at", "pk"),
        _waiting_batch_row,
        "batches",
        lambda now: Q(status=states.BATCH_AWAITING_RELEASE),
        empty_text="No batch is waiting for release.",
    ),
    Item(
        TO_SHIP,
        "Released products to ship",
        True,
        _to_ship,
        ("din", "dose_number", "coi", "site__code", "expires_at"),
        ("expires_at", "pk"),
        _to_ship_row,
        "products",
        lambda now: Q(status=states.PRODUCT_RELEASED),
        empty_text="No released product is waiting to be shipped.",
    ),
    Item(
        AWAITING_RECEIPT,
        "Products awaiting receipt at the clinic",
        True,
        _annotated(_awaiting_receipt, **_shipped_first("product")),
        ("din", "dose_number", "site__code", "shipped_at"),
        ("shipped_at", "pk"),
        _awaiting_receipt_row,
        "products",
        lambda now: Q(status=states.PRODUCT_SHIPPED),
        idle_text="No product is on its way to a clinic.",
    ),
    Item(
        EXPIRING_SOON,
        f"Products expiring within {EXPIRING_HOURS} hours",
        True,
        _expiring_soon,
        ("din", "status", "expires_at"),
        ("expires_at", "pk"),
        _expiring_row,
        "products",
        _expiring,
        idle_text=f"No product expires within {EXPIRING_HOURS} hours.",
    ),
    Item(
        PRODUCTS_ARRIVING,
        "Products on their way to the clinic",
        False,
        _annotated(_arriving, **_shipped_first("product")),
        ("din", "dose_number", *PATIENT_FIELDS, "lab__name", "shipped_at"),
        ("shipped_at", "pk"),
        _arriving_row,
        "clinic_products",
        lambda now: Q(status=states.PRODUCT_SHIPPED),
        idle_text="No product is on its way to the clinic.",
    ),
    Item(
        TO_ADMINISTER_TODAY,
        "Products to administer today",
        False,
        _administer_today,
        ("din", "dose_number", *PATIENT_FIELDS, "expires_at"),
        ("expires_at", "pk"),
        _administer_row,
        "clinic_products",
        lambda now: Q(status=states.PRODUCT_RECEIVED) & Q(_session_today(timezone.localdate())),
        idle_text="No product is due to be given today.",
    ),
    Item(
        SPECIMENS_TO_SHIP,
        "Specimens waiting to be shipped to the lab",
        False,
        _to_ship_to_lab,
        ("pk", "coi", "kind", "status", *PATIENT_FIELDS, "collected_at"),
        ("collected_at", "pk"),
        _to_ship_to_lab_row,
        "clinic_specimens",
        lambda now: Q(status__in=NOT_SHIPPED),
        idle_text="Every specimen collected has been shipped.",
    ),
)
BY_KEY: dict[str, Item] = {item.key: item for item in ITEMS}
# The rows each count group aggregates over.
_GROUPS: dict[str, Callable[[User], QuerySet]] = {
    "specimens": _lab_specimens,
    "batches": _lab_batches,
    "products": _lab_products,
    "clinic_products": _clinic_products,
    "clinic_specimens": _clinic_specimens,
}


def _counts(user: User, group: str) -> dict[str, int]:
    """The count of every item of GROUP, in one aggregate query kept on the user for the request."""

    def read() -> dict[str, int]:
        now = timezone.now()
        filters = {item.key: item.count_filter(now) for item in ITEMS if item.count_group == group}
        # Only the rows some item counts: each filter names its statuses, so the (lab or site, status)
        # index finds them, rather than every row of the group being read to be counted.
        counted = _GROUPS[group](user).filter(reduce(operator.or_, filters.values()))
        return counted.aggregate(**{key: Count("pk", filter=where) for key, where in filters.items()})

    return plugs.user_cached(user, f"lab:counts:{group}", read)


def items_for(user: User) -> list[Item]:
    """The items USER is shown, lab items first."""
    return [item for item in ITEMS if item.shown_to(user)]


def nav_count(user: User) -> int:
    """What waits for a lab action now: the count beside the Lab navigation link."""
    return sum(plugs.worklist_count(user, key) for key in NAV_KEYS)


def register() -> None:
    """Register every item with the worklist; called from LabConfig.ready()."""
    for order, item in enumerate(ITEMS):
        plugs.register_worklist(
            item.key,
            label=item.label,
            shown_to=item.shown_to,
            count=item.count,
            items=item.items,
            href=f"lab:waiting?item={slug(item)}",
            order=70 + order,
            empty_text=item.empty_text,
        )


def slug(item: Item) -> str:
    """The item's part of its list page's address: "lab.qc_pending" -> "qc-pending"."""
    return item.key.removeprefix("lab.").replace("_", "-")


def item_by_slug(name: str) -> Item | None:
    return next((item for item in ITEMS if slug(item) == name), None)

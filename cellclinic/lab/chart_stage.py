"""Where a patient's cells stand at the lab, for the header of their chart (registered in apps.py).

Reported only to clinic staff who see the patient, and only while something is under way: cells
collected or on their way, a batch in process (with its ready window), a product released, on its way
or waiting at the clinic, or a culture that failed or a specimen the lab could not use, which needs a
decision. Once every product is given (or nothing is under way) the lab reports nothing, and the
treatment plan's next step shows instead. The ranks sit between an active plan (40) and an ended one
(45), so a withdrawn consent (60) is still what the header shows.
"""

from django.db.models import Case, IntegerField, OuterRef, QuerySet, Subquery, Value, When
from django.urls import reverse
from django.utils import timezone

from cellclinic.accounts.access import has_permission
from cellclinic.accounts.roles import Permission
from cellclinic.core.plugs import Stage
from cellclinic.lab import states
from cellclinic.lab.models import Batch, ChainOfIdentity, Product, Specimen
from cellclinic.lab.worklist import ready_window

RANK_SPECIMEN = 41
RANK_BATCH = 42
RANK_PRODUCT = 43
RANK_AT_CLINIC = 44

ON_THE_WAY = (states.PRODUCT_RECEIVED, states.PRODUCT_SHIPPED, states.PRODUCT_RELEASED)
BATCH_UNDER_WAY = (
    states.BATCH_PLANNED,
    states.BATCH_IN_PROCESS,
    states.BATCH_QC_PENDING,
    states.BATCH_AWAITING_RELEASE,
)
REHARVEST = "Discuss a new harvest with the patient"
SPECIMEN_STAGES: dict[str, tuple[str, str]] = {
    states.SPECIMEN_COLLECTED: ("Cells collected at the clinic", "Pack and ship them to the lab"),
    states.SPECIMEN_PACKED: ("Cells packed for the lab", "Hand them to the courier"),
    states.SPECIMEN_SHIPPED: ("Cells on their way to the lab", "The lab receives them"),
    states.SPECIMEN_RECEIVED: ("Cells received at the lab", "The lab books processing"),
    states.SPECIMEN_REJECTED: ("Cells rejected on arrival at the lab", REHARVEST),
    states.SPECIMEN_LOST: ("Cells lost in transit", REHARVEST),
    states.SPECIMEN_QUARANTINED: ("Cells held in quarantine at the lab", "The lab reviews them"),
}


def _first(rows: QuerySet, field: str) -> Subquery:
    return Subquery(rows.values(field)[:1])


def _newest_chain(patient) -> dict | None:
    """The patient's newest chain of identity with its newest specimen and batch and its most advanced
    unused product (at the clinic, then on its way, then released): one query."""
    specimen = Specimen.objects.filter(chain=OuterRef("pk")).order_by("-collected_at", "-id")
    batch = Batch.objects.filter(specimen__chain=OuterRef("pk")).order_by("-created_at", "-id")
    product = (
        Product.objects.filter(chain=OuterRef("pk"), status__in=ON_THE_WAY)
        .annotate(
            priority=Case(
                *(When(status=status, then=Value(rank)) for rank, status in enumerate(ON_THE_WAY)),
                output_field=IntegerField(),
            )
        )
        .order_by("priority", "expires_at", "id")
    )
    return (
        ChainOfIdentity.objects.filter(patient=patient)
        .order_by("-created_at", "-id")
        .annotate(
            specimen_id=_first(specimen, "pk"),
            specimen_status=_first(specimen, "status"),
            batch_id=_first(batch, "pk"),
            batch_status=_first(batch, "status"),
            ready_from=_first(batch, "ready_from"),
            ready_to=_first(batch, "ready_to"),
            product_din=_first(product, "din"),
            product_status=_first(product, "status"),
            product_expires=_first(product, "expires_at"),
        )
        .values(
            "specimen_id",
            "specimen_status",
            "batch_id",
            "batch_status",
            "ready_from",
            "ready_to",
            "product_din",
            "product_status",
            "product_expires",
        )
        .first()
    )


def lab_stage(request, patient) -> Stage | None:
    """The patient's cells at the lab as a Stage, or None when nothing is under way there."""
    user = request.user
    if user.is_patient or not has_permission(user, Permission.PATIENT_VIEW, patient.site_id):
        return None
    found = _newest_chain(patient)
    if found is None:
        return None
    if found["product_din"]:
        return _product_stage(found)
    if found["batch_id"] and found["batch_status"] in BATCH_UNDER_WAY:
        window = ready_window(found["ready_from"], found["ready_to"])
        url = reverse("lab:batch", args=[found["batch_id"]])
        label = f"Cells at the lab, ready {window}"
        return Stage(RANK_BATCH, label, "Product ready", found["ready_from"], url)
    if found["batch_id"] and found["batch_status"] in (states.BATCH_FAILED, states.BATCH_REJECTED):
        url = reverse("lab:batch", args=[found["batch_id"]])
        label = "Culture failed" if found["batch_status"] == states.BATCH_FAILED else "Batch rejected by QA"
        # A re-harvest after the failure is followed from its own specimen.
        if not _reharvest_under_way(found):
            return Stage(RANK_BATCH, label, REHARVEST, url=url)
    if found["specimen_status"] in SPECIMEN_STAGES:
        label, next_step = SPECIMEN_STAGES[found["specimen_status"]]
        url = reverse("lab:specimen", args=[found["specimen_id"]])
        return Stage(RANK_SPECIMEN, label, next_step, url=url)
    return None


def _reharvest_under_way(found: dict) -> bool:
    """The newest specimen came after the failed batch's own (a re-harvest): it speaks for the chain."""
    return found["specimen_status"] in (
        states.SPECIMEN_COLLECTED,
        states.SPECIMEN_PACKED,
        states.SPECIMEN_SHIPPED,
        states.SPECIMEN_RECEIVED,
    )


def _product_stage(found: dict) -> Stage:
    url = reverse("lab:product", args=[found["product_din"]])
    expires = found["product_expires"]
    if found["product_status"] == states.PRODUCT_RECEIVED:
        return Stage(
            RANK_AT_CLINIC,
            "Product at the clinic",
            "Give it before it expires",
            timezone.localdate(expires),
            url,
        )
    if found["product_status"] == states.PRODUCT_SHIPPED:
        return Stage(RANK_PRODUCT, "Product on its way to the clinic", "Receive it at the clinic", url=url)
    return Stage(RANK_PRODUCT, "Product released by the lab", "The lab ships it to the clinic", url=url)

"""Reads of the lab's records, scoped to what one user may see.

Specimens, batches, products, shipments, donor lots and custody events carry a chain-of-identity id and
no patient identity, so clinic staff see those of their clinic and lab staff those of their own lab and
of the clinics it serves (`lab_visible`). Who the patient behind a chain-of-identity id is, only clinic
staff of the patient's clinic learn (`patients_by_coi`); lab staff never do.
"""

from collections.abc import Iterable
from datetime import datetime

from django.db.models import Prefetch, Q, QuerySet, prefetch_related_objects
from django.http import Http404

from cellclinic.accounts.access import has_permission, staff_site_ids
from cellclinic.accounts.models import User
from cellclinic.accounts.roles import Permission
from cellclinic.lab import states
from cellclinic.lab.isbt import DIN_LENGTH
from cellclinic.lab.models import (
    Batch,
    BedsideCheck,
    ChainOfIdentity,
    CustodyEvent,
    Deviation,
    DonorLot,
    ProcessStep,
    Product,
    QCResult,
    ReagentLot,
    Shipment,
    Specimen,
)
from cellclinic.patients.models import Patient

NOT_FOUND = "Not found"
# A reader sees these records through PATIENT_VIEW at a clinic, or LAB_VIEW at the lab that serves it.
READ = Permission.PATIENT_VIEW


def sees_lab_records(user: User) -> bool:
    """True for staff who may read some lab record: clinic staff who see patients, and lab staff."""
    return has_permission(user, READ) or has_permission(user, Permission.LAB_VIEW)


def _visible(model, user: User) -> QuerySet:
    """MODEL's rows USER may see: clinic staff through PATIENT_VIEW at their clinic; lab staff through
    LAB_VIEW at their lab, which reaches the clinics it serves. One `site_id IN (...)` list, which the
    planner can use with the model's site and lab indexes (an OR of two scopes it cannot)."""
    return in_reach(model, user)


def specimens_for(user: User) -> QuerySet[Specimen]:
    return _visible(Specimen, user)


def batches_for(user: User) -> QuerySet[Batch]:
    return _visible(Batch, user)


def products_for(user: User) -> QuerySet[Product]:
    return _visible(Product, user)


def shipments_for(user: User) -> QuerySet[Shipment]:
    return _visible(Shipment, user)


def custody_for(user: User) -> QuerySet[CustodyEvent]:
    return _visible(CustodyEvent, user)


def donor_lots_for(user: User) -> QuerySet[DonorLot]:
    """Donor lots belong to a lab: its staff see them."""
    return DonorLot.objects.visible_to(user, Permission.LAB_VIEW)


def reagent_lots_for(user: User) -> QuerySet[ReagentLot]:
    return ReagentLot.objects.visible_to(user, Permission.LAB_VIEW)


def _one(queryset: QuerySet, **lookup):
    found = queryset.filter(**lookup).first()
    if found is None:
        raise Http404(NOT_FOUND)
    return found


def specimen_get(user: User, specimen_id: int) -> Specimen:
    """One specimen USER may see; 404 whether it is out of reach or does not exist."""
    return _one(specimens_for(user).select_related("site", "lab", "collected_by", "shipment"), pk=specimen_id)


def batch_get(user: User, batch_id: int) -> Batch:
    return _one(
        batches_for(user).select_related(
            "site", "lab", "specimen", "donor_lot", "processed_by", "decided_by"
        ),
        pk=batch_id,
    )


def product_get(user: User, din: str) -> Product:
    """The product with DIN (its 13 characters, any case) that USER may see; 404 otherwise."""
    din = din.strip().upper()
    if len(din) != DIN_LENGTH:
        raise Http404(NOT_FOUND)
    return _one(products_for(user).select_related("site", "lab", "batch", "donor_lot"), din=din)


def timeline(events: QuerySet[CustodyEvent]) -> list[CustodyEvent]:
    """Custody events in the order they happened, with where and by whom read in the same query."""
    return list(events.select_related("at_site", "by").order_by("at", "id"))


def chains_for(user: User) -> QuerySet[ChainOfIdentity]:
    """Chains of identity of the patients USER may see: clinic staff of the patient's clinic only."""
    return ChainOfIdentity.objects.visible_to(user, Permission.PATIENT_VIEW)


def patients_by_coi(user: User, cois: Iterable[str]) -> dict[str, Patient]:
    """The patient behind each chain-of-identity id in COIS that USER may know; lab staff get none."""
    wanted = {coi for coi in cois if coi}
    if not wanted:
        return {}
    chains = chains_for(user).filter(coi__in=wanted).select_related("patient")
    return {chain.coi: chain.patient for chain in chains}


def products_of_patient(user: User, patient: Patient) -> QuerySet[Product]:
    """PATIENT's products (autologous, through their chains) for clinic staff who may see PATIENT."""
    chains = chains_for(user).filter(patient=patient)
    return (
        Product.objects.filter(chain__in=chains)
        .select_related("batch", "lab")
        .prefetch_related(Prefetch("custody", queryset=CustodyEvent.objects.order_by("at", "id")))
    )


def patients_by_id(user: User, ids: Iterable[int]) -> dict[int, Patient]:
    """The patients among IDS whom USER may know: clinic staff of each patient's clinic; no one else."""
    wanted = {pk for pk in ids if pk}
    if not wanted or not user.is_authenticated or user.is_patient:
        return {}
    patients = Patient.objects.visible_to(user, Permission.PATIENT_VIEW).filter(pk__in=wanted)
    return {patient.pk: patient for patient in patients}


def bedside_checks_for(user: User) -> QuerySet[BedsideCheck]:
    """Bedside checks at the clinics where USER may administer products; no one else sees any."""
    return BedsideCheck.objects.visible_to(user, Permission.PRODUCT_ADMINISTER)


def bedside_check_get(user: User, check_id: int) -> BedsideCheck:
    """One bedside check at a clinic where USER may administer products; 404 otherwise."""
    return _one(bedside_checks_for(user).select_related("site", "product"), pk=check_id)


def record_site_ids(user: User) -> set[int]:
    """The sites whose specimens, batches, products and custody events USER reads, by the rule of the
    `*_for` selectors above (PATIENT_VIEW at a clinic; LAB_VIEW at a lab, which reaches the clinics it
    serves), worked out once per request: a page that counts several kinds of record asks once."""
    from cellclinic.accounts.access import site_ids_for_lab_staff
    from cellclinic.core.plugs import user_cached

    def read() -> set[int]:
        lab = staff_site_ids(user, Permission.LAB_VIEW)
        served = site_ids_for_lab_staff(user, Permission.LAB_VIEW) if lab else set()
        return staff_site_ids(user, READ) | lab | served

    return user_cached(user, "lab:record_sites", read)


def in_reach(model, user: User) -> QuerySet:
    """MODEL's rows (a `lab_visible` model) that USER may read: the same rows as its `*_for` selector."""
    return model.objects.filter(site_id__in=record_site_ids(user))


def batch_record_get(user: User, batch_id: int) -> Batch:
    """`batch_get` with the batch's whole record read alongside: its steps, deviations and QC results
    with who recorded each, and its reagent lots; four queries more however long the record is."""
    batch = batch_get(user, batch_id)
    prefetch_related_objects(
        [batch],
        Prefetch("steps", queryset=ProcessStep.objects.select_related("performed_by")),
        Prefetch("deviations", queryset=Deviation.objects.select_related("recorded_by")),
        Prefetch("qc_results", queryset=QCResult.objects.select_related("entered_by")),
        "reagent_lots",
    )
    return batch


# --- products past their expiry ------------------------------------------------------------------------

# Products still in use: released at the lab, on their way to the clinic, or received there.
EXPIRABLE = (states.PRODUCT_RELEASED, states.PRODUCT_SHIPPED, states.PRODUCT_RECEIVED)


def expiry_scopes(user: User) -> tuple[set[int], set[int]]:
    """(labs, clinics): the labs whose products USER takes out of use once past their expiry (lab
    technicians and QA reviewers: LAB_PROCESS or LAB_RELEASE there), and the clinics where they do it
    for the products received there (practitioners and nurses: PRODUCT_ADMINISTER there). No query."""
    labs = staff_site_ids(user, Permission.LAB_PROCESS) | staff_site_ids(user, Permission.LAB_RELEASE)
    return labs, staff_site_ids(user, Permission.PRODUCT_ADMINISTER)


def past_expiry(user: User, now: datetime) -> QuerySet[Product]:
    """The products past their expiry at NOW that USER takes out of use: their labs' products in use,
    and those received at their clinics (`expiry_scopes`). The page that lists them and
    services.product_expire, which marks them expired, both read them here. Each scope is read
    through its own index: (lab, status, expires_at) for a lab's, (site, status) for a clinic's."""
    labs, clinics = expiry_scopes(user)
    scopes = []
    if labs:
        scopes.append(Q(lab_id__in=labs, status__in=EXPIRABLE))
    if clinics:
        scopes.append(Q(site_id__in=clinics, status=states.PRODUCT_RECEIVED))
    if not scopes:
        return Product.objects.none()
    where = scopes[0] if len(scopes) == 1 else scopes[0] | scopes[1]
    return Product.objects.filter(where, expires_at__lte=now)

"""Look-back both ways, reads only: from a source to every product and who received it; from a patient
to every specimen, batch and product of theirs.

From a batch, a donor lot or a reagent lot: every product made from it that the reader may see and, for
each one administered, who received it. Lab staff learn the recipient by chain-of-identity id (and the
clinic and bedside check it was given on); only clinic staff who may see the recipient also get the
patient. A product's recipient is read in the query that reads the products
(`administration.with_administration`), so a look-back costs the same few queries for two products or
twenty thousand.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import F, OuterRef, Q, QuerySet, Subquery
from django.http import Http404

from cellclinic.accounts.access import require_staff
from cellclinic.accounts.models import User
from cellclinic.accounts.roles import Permission
from cellclinic.lab import selectors, states
from cellclinic.lab.administration import with_administration
from cellclinic.lab.models import Batch, BedsideCheck, ChainOfIdentity, Product, Specimen
from cellclinic.patients.models import Patient


@dataclass(frozen=True)
class Recipient:
    """Who received an administered product, as far as the reader may know.

    COI is the recipient's chain-of-identity id (None for a donor product's recipient without one);
    SITE the code of the clinic where it was given; CHECK_ID the bedside check it was given on (None
    when the administration was recorded without one); PATIENT only for clinic staff who may see them.
    """

    coi: str | None
    site: str | None
    check_id: int | None
    patient: Patient | None


@dataclass(frozen=True)
class Traced:
    """One product of a look-back, with its RECIPIENT when it was administered (else None)."""

    product: Product
    recipient: Recipient | None


@dataclass(frozen=True)
class PatientLabRecords:
    """Every specimen, batch and product of one patient, for clinic staff who may see the patient."""

    patient: Patient
    specimens: list[Specimen]
    batches: list[Batch]
    products: list[Product]


def _traceable(products: QuerySet[Product]) -> QuerySet[Product]:
    """PRODUCTS in dose order, each with its batch, its recipient and the recipient's chain-of-identity id."""
    products = with_administration(products)
    given_on = BedsideCheck.objects.filter(pk=OuterRef("administered_check_id"))
    chain = ChainOfIdentity.objects.filter(
        patient_id=OuterRef("recipient_id"), therapy_code=OuterRef("therapy_code")
    ).order_by("-created_at", "-id")
    return (
        products.annotate(
            owner_id=F("chain__patient_id"),
            recipient_site=Subquery(given_on.values("site__code")[:1]),
            recipient_chain=Subquery(chain.values("coi")[:1]),
        )
        .select_related("batch", "lab", "site", "donor_lot")
        .order_by("batch__code", "dose_number", "id")
    )


def products_from_batch(user: User, batch_id: int) -> QuerySet[Product]:
    """Every product of the batch USER may see (404 otherwise) that USER may see, ready for `trace`."""
    batch = selectors.batch_get(user, batch_id)
    return _traceable(selectors.products_for(user).filter(batch=batch))


def products_from_donor_lot(user: User, lot_id: int) -> QuerySet[Product]:
    """Every product made from the donor lot, for the staff of the lab that holds it (404 otherwise)."""
    lot = selectors.donor_lots_for(user).filter(pk=lot_id).first()
    if lot is None:
        raise Http404(selectors.NOT_FOUND)
    # The lot's batches first: an OR across the join to batches would read every product in reach.
    batches = list(Batch.objects.filter(donor_lot=lot).values_list("pk", flat=True))
    return _traceable(selectors.products_for(user).filter(Q(donor_lot=lot) | Q(batch_id__in=batches)))


def products_from_reagent_lot(user: User, lot_id: int) -> QuerySet[Product]:
    """Every product of a batch that used the reagent lot, for the lab's staff (404 otherwise)."""
    lot = selectors.reagent_lots_for(user).filter(pk=lot_id).first()
    if lot is None:
        raise Http404(selectors.NOT_FOUND)
    # The lot's batches first, by id and by code. The code is redundant to the id, but it puts a
    # condition on the batches table itself: without it PostgreSQL hashes every batch there is to find
    # the few hundred the page sorts by code.
    used = list(
        Batch.reagent_lots.through.objects.filter(reagentlot=lot).values_list("batch_id", "batch__code")
    )
    ids, codes = [pk for pk, _ in used], [code for _, code in used]
    return _traceable(selectors.products_for(user).filter(batch_id__in=ids, batch__code__in=codes))


def _administered(product: Product) -> bool:
    return product.status == states.PRODUCT_ADMINISTERED or product.administered_at is not None


def _recipient_id(product: Product) -> int | None:
    """The patient who received PRODUCT: the one of the check it was given on, else its owner's (an
    administration recorded without a check, only possible for the patient's own cells)."""
    return product.recipient_id or product.owner_id


def trace(user: User, products: Iterable[Product]) -> list[Traced]:
    """PRODUCTS (from a `products_from_*` query) with who received each administered one.

    One more query when USER is clinic staff and some recipient is theirs to see; none for lab staff,
    who never get a patient.
    """
    rows = list(products)
    recipients = {_recipient_id(row) for row in rows if _administered(row)}
    patients = selectors.patients_by_id(user, {pk for pk in recipients if pk})
    traced = []
    for row in rows:
        if not _administered(row):
            traced.append(Traced(row, None))
            continue
        recipient = _recipient_id(row)
        traced.append(
            Traced(
                row,
                Recipient(
                    coi=row.coi or row.recipient_chain or None,
                    site=row.recipient_site,
                    check_id=row.administered_check_id,
                    patient=patients.get(recipient) if recipient else None,
                ),
            )
        )
    return traced


def lookback(
    user: User,
    *,
    batch_id: int | None = None,
    donor_lot_id: int | None = None,
    reagent_lot_id: int | None = None,
) -> list[Traced]:
    """Every product of one source (give exactly one id) with its recipients, as USER may see them."""
    if sum(value is not None for value in (batch_id, donor_lot_id, reagent_lot_id)) != 1:
        raise ValueError("give exactly one of batch_id, donor_lot_id and reagent_lot_id")
    if batch_id is not None:
        return trace(user, products_from_batch(user, batch_id))
    if donor_lot_id is not None:
        return trace(user, products_from_donor_lot(user, donor_lot_id))
    assert reagent_lot_id is not None
    return trace(user, products_from_reagent_lot(user, reagent_lot_id))


def patient_get_for_lab_records(user: User, patient_id: int) -> Patient:
    """A patient USER sees as clinic staff; 404 for lab staff, portal patients, elsewhere or missing."""
    require_staff(user)
    patient = Patient.objects.visible_to(user, Permission.PATIENT_VIEW).filter(pk=patient_id).first()
    if patient is None:
        raise Http404(selectors.NOT_FOUND)
    return patient


def patient_lab_records(user: User, patient_id: int) -> PatientLabRecords:
    """Every specimen, batch and product of the patient (their own cells, and donor products they
    received), for clinic staff who may see the patient; six queries however many there are.

    The patient's chains and checked products are read first, so that each later read is by indexed
    ids (an OR across joins to the patient would read every product and batch there is)."""
    patient = patient_get_for_lab_records(user, patient_id)
    chains = list(ChainOfIdentity.objects.filter(patient=patient).values_list("pk", flat=True))
    received = list(
        BedsideCheck.objects.filter(patient=patient, passed=True).values_list("product_id", flat=True)
    )
    candidates = _traceable(Product.objects.filter(Q(chain_id__in=chains) | Q(pk__in=received)))
    products = [product for product in candidates if patient.pk in (product.owner_id, product.recipient_id)]
    specimens = list(
        Specimen.objects.filter(chain_id__in=chains)
        .select_related("site", "lab", "collected_by")
        .order_by("-collected_at", "-id")
    )
    batches = list(
        Batch.objects.filter(
            Q(specimen_id__in=[specimen.pk for specimen in specimens])
            | Q(pk__in={product.batch_id for product in products})
        )
        .select_related("site", "lab", "donor_lot", "processed_by", "decided_by")
        .order_by("-created_at", "-id")
    )
    return PatientLabRecords(patient=patient, specimens=specimens, batches=batches, products=products)

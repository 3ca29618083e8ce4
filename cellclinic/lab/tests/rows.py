"""Lab rows in a given state, written directly: for tests that read, list and check them.

Tests of the services that make these rows build them through the services (builders.py). These
helpers write rows as they would stand at a stage, so tests of pages, the API and the bedside check
can have any mix of states (an expired product, a recalled one, one of another patient) in a few lines.
"""

from datetime import timedelta
from decimal import Decimal
from itertools import count

from django.utils import timezone

from cellclinic.lab import states
from cellclinic.lab.isbt import Din
from cellclinic.lab.models import (
    Batch,
    BedsideCheck,
    ChainOfIdentity,
    CustodyEvent,
    DonorLot,
    LabProfile,
    Product,
    Specimen,
)
from cellclinic.treatment.tests.helpers import CULTURED, DONOR, pathway_to

FACILITY = "A9999"
_sequence = count(1)


def lab_profile(lab, *, facility: str = FACILITY, slots: int = 4) -> LabProfile:
    profile, _ = LabProfile.objects.get_or_create(
        site=lab, defaults={"facility_code": facility, "processing_slots": slots}
    )
    return profile


def chain_for(patient, practitioner, *, therapy: str = CULTURED, stage: str = "planned") -> ChainOfIdentity:
    """PATIENT's chain of identity on a consent signed for THERAPY (the pathway built to STAGE)."""
    pathway = pathway_to(stage, patient, practitioner, therapy=therapy)
    number = next(_sequence)
    return ChainOfIdentity.objects.create(
        coi=f"COI-T{number:04d}-ROWS",
        site=patient.site,
        patient=patient,
        consent=pathway.consent,
        plan=pathway.plan,
        therapy_code=pathway.consent.therapy_code,
        therapy_version=pathway.consent.therapy_version,
    )


def specimen(chain: ChainOfIdentity, collector, *, status: str = states.SPECIMEN_COLLECTED) -> Specimen:
    """A punch biopsy of CHAIN's patient at STATUS, with its collection on the custody timeline."""
    clinic = chain.site
    made = Specimen.objects.create(
        site=clinic,
        lab=clinic.lab,
        chain=chain,
        coi=chain.coi,
        therapy_code=chain.therapy_code,
        therapy_version=chain.therapy_version,
        kind=Specimen.Kind.PUNCH_BIOPSY,
        body_site="behind the left ear",
        size="2 punches of 4 mm",
        collected_at=timezone.now() - timedelta(days=1),
        collected_by=collector,
        status=status,
    )
    CustodyEvent.objects.create(
        site=clinic,
        at_site=clinic,
        specimen=made,
        kind=CustodyEvent.Kind.COLLECTED,
        at=made.collected_at,
        by=collector,
        temperature_c=Decimal("4.0"),
    )
    return made


def batch(
    *,
    lab,
    creator,
    specimen: Specimen | None = None,
    donor_lot: DonorLot | None = None,
    status: str = states.BATCH_IN_PROCESS,
    processed_by=None,
) -> Batch:
    """A batch of SPECIMEN (or DONOR_LOT) at LAB, booked from today for six weeks."""
    today = timezone.localdate()
    source = specimen or donor_lot
    return Batch.objects.create(
        site=specimen.site if specimen else lab,
        lab=lab,
        code=f"B{today:%y}-{next(_sequence):06d}",
        specimen=specimen,
        donor_lot=donor_lot,
        coi=specimen.coi if specimen else "",
        therapy_code=source.therapy_code,
        therapy_version=specimen.therapy_version if specimen else "1.1",
        status=status,
        slot_start=today,
        ready_from=today + timedelta(weeks=5),
        ready_to=today + timedelta(weeks=6),
        processed_by=processed_by,
        started_at=timezone.now() if processed_by else None,
        created_by=creator,
    )


def donor_lot(lab, creator, *, eligible: bool = True, therapy: str = DONOR) -> DonorLot:
    now = timezone.now()
    return DonorLot.objects.create(
        site=lab,
        lot_number=f"LOT-{next(_sequence):05d}",
        therapy_code=therapy,
        screening={},
        eligibility_documented_at=now if eligible else None,
        eligibility_documented_by=creator if eligible else None,
        expires_on=timezone.localdate() + timedelta(days=365),
        quantity=10,
        created_by=creator,
    )


def product(
    made_by: Batch,
    *,
    status: str = states.PRODUCT_RECEIVED,
    expires_in: timedelta = timedelta(hours=20),
    dose: int | None = None,
    site=None,
) -> Product:
    """A dose of MADE_BY at STATUS with a fresh, valid DIN; it expires EXPIRES_IN from now.

    An autologous batch's product belongs to its specimen's chain of identity; a donor lot's to none,
    and sits at SITE (default: the lab).
    """
    din = Din(FACILITY, timezone.now().year % 100, next(_sequence))
    chain = made_by.specimen.chain if made_by.specimen else None
    dose = dose or made_by.products.count() + 1
    return Product.objects.create(
        site=chain.site if chain else (site or made_by.lab),
        lab=made_by.lab,
        batch=made_by,
        chain=chain,
        coi=chain.coi if chain else "",
        donor_lot=made_by.donor_lot,
        din=din.din,
        din_flags=din.flags,
        din_check=din.check,
        product_code="E0001V00",
        therapy_code=made_by.therapy_code,
        therapy_version=made_by.therapy_version,
        dose_number=dose,
        status=status,
        expires_at=timezone.now() + expires_in,
        storage="at 2–8 °C",
    )


def own_product(patient, practitioner, technician, *, therapy: str = CULTURED, **options) -> Product:
    """A dose of PATIENT's own cells (chain, specimen and released batch written as rows) at a stage:
    OPTIONS are `product`'s (status=, expires_in=, ...); by default received back at the clinic."""
    chain = chain_for(patient, practitioner, therapy=therapy)
    cells = specimen(chain, practitioner, status=states.SPECIMEN_USED)
    made = batch(
        lab=chain.site.lab,
        creator=technician,
        specimen=cells,
        status=states.BATCH_RELEASED,
        processed_by=technician,
    )
    return product(made, **options)


def donor_product(lab, technician, *, eligible: bool = True, site=None, **options) -> Product:
    """A dose from a donor lot at LAB (eligibility documented or not), sitting at SITE (default: the lab)."""
    lot = donor_lot(lab, technician, eligible=eligible)
    made = batch(
        lab=lab, creator=technician, donor_lot=lot, status=states.BATCH_RELEASED, processed_by=technician
    )
    return product(made, site=site, **options)


def administered(given: Product, patient, by, *, at=None) -> BedsideCheck:
    """GIVEN written as given to PATIENT by BY: a passed bedside check, the custody event, the status."""
    at = at or timezone.now()
    check = BedsideCheck.objects.create(
        site=patient.site,
        patient=patient,
        product=given,
        din_scanned=given.din,
        passed=True,
        reasons=[],
        checked_by=by,
        checked_at=at,
    )
    CustodyEvent.objects.create(
        site=given.site,
        at_site=patient.site,
        product=given,
        kind=CustodyEvent.Kind.ADMINISTERED,
        at=at,
        by=by,
    )
    Product.objects.filter(pk=given.pk).update(status=states.PRODUCT_ADMINISTERED, administered_at=at)
    given.refresh_from_db()
    return check


def custody(
    subject, kind: str, by, *, at_site, at=None, temperature: str | None = None, **more
) -> CustodyEvent:
    """A custody event of KIND for SUBJECT (a specimen or a product) at AT_SITE, by BY, at AT (now)."""
    owner = {"specimen": subject} if isinstance(subject, Specimen) else {"product": subject}
    return CustodyEvent.objects.create(
        site=subject.site,
        at_site=at_site,
        kind=kind,
        at=at or timezone.now(),
        by=by,
        temperature_c=Decimal(temperature) if temperature is not None else None,
        **owner,
        **more,
    )


def qc_result(made: Batch, test: str, value: str, by, *, unit: str = "", status: str = states.QC_PASSED):
    """A QC result of MADE for TEST as entered (VALUE in UNIT), with the STATUS it was judged at."""
    from cellclinic.lab.models import QCResult

    return QCResult.objects.create(
        batch=made,
        test=test,
        value=value,
        unit=unit,
        limit="as the protocol says",
        status=status,
        entered_by=by,
        entered_at=timezone.now(),
    )


def story(patient, practitioner, technician, *, product_status: str = states.PRODUCT_RECEIVED):
    """PATIENT's cells from harvest to a product back at the clinic, written as rows with something of
    every kind a page shows: a custody timeline for the specimen (collected, packed, shipped, received)
    and the product (released, shipped, received), two process steps, a deviation, a reagent lot, QC
    results (passing, failing, corrected, one criterion without a result) and one dose at
    PRODUCT_STATUS. Answers a SimpleNamespace of chain, specimen, batch, product and reagent."""
    from types import SimpleNamespace

    from cellclinic.lab.models import Deviation, ProcessStep, ReagentLot

    clinic = patient.site
    lab = clinic.lab
    lab_profile(lab)
    chain = chain_for(patient, practitioner)
    cells = specimen(chain, practitioner, status=states.SPECIMEN_USED)
    start = cells.collected_at
    for hours, kind, where, by, temperature in (
        (1, CustodyEvent.Kind.PACKED, clinic, practitioner, "4.0"),
        (2, CustodyEvent.Kind.SHIPPED, clinic, practitioner, "4.5"),
        (20, CustodyEvent.Kind.RECEIVED, lab, technician, "5.5"),
    ):
        custody(cells, kind, by, at_site=where, at=start + timedelta(hours=hours), temperature=temperature)
    made = batch(
        lab=lab, creator=technician, specimen=cells, status=states.BATCH_RELEASED, processed_by=technician
    )
    reagent, _ = ReagentLot.objects.get_or_create(site=lab, name="DMEM culture medium", lot_number="RM-2231")
    made.reagent_lots.add(reagent)
    for passage, (count_, viability) in enumerate(
        ((Decimal("2400000"), "91.5"), (Decimal("18000000"), "88.0"))
    ):
        ProcessStep.objects.create(
            batch=made,
            name=f"Passage {passage + 1}",
            passage=passage + 1,
            cell_count=count_,
            viability_percent=Decimal(viability),
            performed_by=technician,
            performed_at=start + timedelta(days=7 * (passage + 1)),
        )
    Deviation.objects.create(
        batch=made,
        description="Incubator door left open for four minutes",
        reason="Alarm fault during a power cut",
        recorded_by=technician,
        recorded_at=start + timedelta(days=8),
    )
    wrong = qc_result(made, "Viability", "65", technician, unit="%", status=states.QC_CORRECTED)
    wrong.correction_reason = "Counted the wrong slide"
    wrong.save(update_fields=["correction_reason"])
    qc_result(made, "Viability", "72", technician, unit="%")
    qc_result(made, "Sterility", "No growth", technician)
    qc_result(made, "Endotoxin", "7.5", technician, unit="EU/kg", status=states.QC_FAILED)
    dose = product(made, status=product_status)
    released = timezone.now() - timedelta(hours=10)
    for hours, kind, where, by in (
        (0, CustodyEvent.Kind.RELEASED, lab, technician),
        (2, CustodyEvent.Kind.SHIPPED, lab, technician),
        (8, CustodyEvent.Kind.RECEIVED, clinic, practitioner),
    ):
        custody(dose, kind, by, at_site=where, at=released + timedelta(hours=hours), temperature="5.0")
    return SimpleNamespace(chain=chain, specimen=cells, batch=made, product=dose, reagent=reagent)

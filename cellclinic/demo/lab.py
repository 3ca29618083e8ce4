"""Demo records at the lab: patients' cells at every stage from the harvest to the bedside, and donor lots.

Every record is made by the lab's services (`cellclinic.lab.services`, `cellclinic.lab.administration`)
as the demo's people would make them: the practitioner harvests and gives the product after the bedside
check, the nurse packs, sends and receives, the lab technician ("lab") receives, processes, enters the QC
results and ships, and the QA reviewer ("qa") releases or rejects with an electronic signature. So each
record has its custody events, audit events and signatures, and the lab's staff know each patient's cells
by the chain-of-identity id alone.

Each patient below has a signed consent and a plan for the cultured fibroblast therapy, made by the
pathway builder with the harvest planned for the day the demo is loaded. The lab's services stamp their
events with the time they run (a harvest may be given its own time, but never one before the consent), so
everything here happens on that day.

    in transit     a harvest from Riverside Clinic on its way to the lab
    at the lab     received and accepted, waiting for a batch
    in process     passages with cell counts and viability, and a deviation with its reason
    failed         a culture that did not grow: the clinic told, and a re-harvest under the same consent
                   and plan, collected and not yet sent
    QC pending     processing finished, the 14-day sterility and mycoplasma cultures still running
    to release     every QC result in and passing, waiting for QA
    released       released by QA: one dose on its way to the clinic, one still at the lab
    rejected       an endotoxin result over its limit: rejected by QA with the reason
    at the clinic  received at North Clinic: one dose given after a passed bedside check, one ready
    withdrawn      released, then consent withdrawn: the doses quarantined at once, banked cells to dispose

Beside them, a donor lot with documented eligibility whose products are released and at North Clinic, and
a donor lot whose NAT results are still awaited, so its eligibility is not documented.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from cellclinic.accounts.models import Site, User
from cellclinic.catalogue.registry import get_catalogue
from cellclinic.demo.builder import Pathway, advance, at_stage
from cellclinic.lab import release, services
from cellclinic.lab.administration import bedside_check, product_administer
from cellclinic.lab.models import Batch, DonorLot, Product, ReagentLot, Shipment, Specimen
from cellclinic.patients.models import Patient
from cellclinic.patients.services import patient_create

CULTURED = "autologous_fibroblast_injection"
DONOR = "cryopreserved_fibroblast_dermal_substitute"
# A facility identification number of the range ICCBBA keeps for testing: never a real lab's.
FACILITY = "A9999"
SLOTS = 4
COURIER = "Cold Chain Couriers"
# The cultured product and its biopsies travel at 2–8 °C; the donor product frozen at −75 °C ± 10 °C.
COLD = (Decimal("2.0"), Decimal("8.0"))
COLD_AT = Decimal("4.6")
FROZEN = (Decimal("-85.0"), Decimal("-65.0"))
FROZEN_AT = Decimal("-76.0")
ARRIVED = "Sealed, cold packs intact, data logger within range"

REAGENT_LOTS = (
    ("DMEM, high glucose", "DM-24117", 320),
    ("Human platelet lysate", "HPL-0932", 180),
    ("TrypLE Select", "TS-55810", 260),
)

# A QC result per release criterion of the fibroblast protocol, each within its limit; the unit is the
# criterion's own.
RESULTS = {
    "Sterility": "No growth",
    "Mycoplasma": "Negative",
    "Endotoxin": "0.6",
    "Viability": "92.4",
    "Cell count (formulated)": "1.5",
    "Identity and purity: fibroblasts": "99.1",
    "Passages": "4",
}
FAILING = {"Endotoxin": "7.4"}
# Their cultures take 14 days: a batch waiting for QC has every other result.
SLOW_TESTS = ("Sterility", "Mycoplasma")
REJECTED_BECAUSE = (
    "Endotoxin 7.4 EU/kg is over the limit of 5 EU/kg. Batch rejected; the clinic is asked to arrange a "
    "new harvest."
)
FAILED_BECAUSE = "No fibroblast outgrowth from the explants after 21 days; contamination ruled out."
WITHDRAWN_BECAUSE = "The patient has moved abroad and no longer wants the treatment."

# Donor screening as the donor's testing laboratory reported it (DOMAIN.md §7).
SEROLOGY = {
    "hiv_serology": "Non-reactive",
    "hbv_serology": "Non-reactive",
    "hcv_serology": "Non-reactive",
    "htlv_serology": "Non-reactive",
    "syphilis_serology": "Non-reactive",
}
NAT = {"hiv_nat": "Not detected", "hbv_nat": "Not detected", "hcv_nat": "Not detected"}


@dataclass(frozen=True)
class LabPatient:
    """A patient registered for the lab's stories: premature ageing of the face, WSRS SCORE."""

    given: str
    family: str
    sex: str
    gender: str
    details: str
    skin: str
    age: int
    score: int


LAB_PATIENTS = (
    LabPatient("Nadia", "Rahimi", "female", "woman", "Nasolabial folds after weight loss", "III", 44, 3),
    LabPatient("Graham", "Whitfield", "male", "man", "Deep nasolabial folds", "II", 57, 4),
    LabPatient("Renée", "Gauthier", "female", "woman", "Nasolabial folds and marionette lines", "II", 52, 3),
    LabPatient("Thabo", "Nkosi", "male", "man", "Moderate nasolabial folds", "V", 48, 3),
    LabPatient("Siobhan", "Walsh", "female", "woman", "Nasolabial folds; wants no filler", "I", 46, 3),
    LabPatient("Søren", "Holm", "male", "man", "Nasolabial folds, outdoor work", "II", 61, 4),
    LabPatient("Farah", "Siddiqui", "female", "woman", "Moderate nasolabial folds", "IV", 41, 3),
    LabPatient("Kenji", "Sato", "male", "man", "Nasolabial folds after a long illness", "III", 55, 3),
    LabPatient("Isabel", "Moreno", "female", "woman", "Nasolabial folds and fine lines", "III", 50, 3),
)


# Letters of the names above that an email address spells in plain ASCII.
_ASCII = str.maketrans({"é": "e", "ø": "o"})


@dataclass
class Cells:
    """One patient's cells as far as the lab's services have taken them."""

    pathway: Pathway
    specimen: Specimen | None = None
    shipment: Shipment | None = None
    batch: Batch | None = None
    products: list[Product] = field(default_factory=list)
    reharvest: Specimen | None = None


@dataclass
class LabDemo:
    """Who works where in the demo lab, and what each story made."""

    lab: Site
    practitioner: User
    nurse: User
    technician: User
    reviewer: User
    password: str
    reagents: list[ReagentLot] = field(default_factory=list)
    stories: dict[str, Cells] = field(default_factory=dict)
    donor_lots: list[DonorLot] = field(default_factory=list)
    donor_batch: Batch | None = None


# The steps, each through its service ------------------------------------------------------------------


def _harvest(pathway: Pathway, collector: User, replaces: Specimen | None = None) -> Specimen:
    return services.specimen_collect(
        actor=collector,
        consent=pathway.consent,
        plan=pathway.plan,
        kind=Specimen.Kind.PUNCH_BIOPSY,
        body_site="Behind the left ear",
        size="3 punches of 3 mm",
        collected_at=timezone.now(),
        replaces=replaces,
    )


def _send_to_lab(specimen: Specimen, sender: User) -> Shipment:
    shipment = services.shipment_pack(
        actor=sender,
        specimens=[specimen],
        courier=COURIER,
        temperature_min_c=COLD[0],
        temperature_max_c=COLD[1],
        tracking=f"CCC-{specimen.pk:06d}",
    )
    return services.shipment_dispatch(actor=sender, shipment=shipment, temperature_c=COLD_AT)


def _process(demo: LabDemo, specimen: Specimen, *, doses: int) -> Batch:
    """A batch planned in the lab's first free slot and started, with two passages recorded."""
    batch = services.batch_plan(actor=demo.technician, specimen=specimen, doses=doses)
    services.batch_start(actor=demo.technician, batch=batch, reagent_lots=demo.reagents)
    services.process_step_record(
        actor=demo.technician,
        batch=batch,
        name="Explants set up",
        passage=0,
        note="Biopsies minced into explants in human platelet lysate medium.",
    )
    services.process_step_record(
        actor=demo.technician,
        batch=batch,
        name="Passage 1",
        passage=1,
        cell_count=4_200_000,
        viability_percent=Decimal("94.1"),
    )
    return batch


def _enter_results(
    demo: LabDemo, batch: Batch, *, skip: tuple[str, ...] = (), failing: dict | None = None
) -> None:
    """A QC result for each release criterion of the batch's protocol but SKIP, FAILING's where it names."""
    therapy = get_catalogue().therapy(batch.therapy_code, batch.therapy_version)
    for item in therapy.release_criteria:
        criterion = release.criterion_from(item)
        if criterion.test in skip:
            continue
        if criterion.is_numeric:
            value = (failing or {}).get(criterion.test, RESULTS[criterion.test])
            unit = criterion.unit or ""
        else:
            value, unit = RESULTS.get(criterion.test, criterion.expected), ""
        services.qc_result_enter(
            actor=demo.technician, batch=batch, test=criterion.test, value=value, unit=unit
        )


def _ship_products(
    demo: LabDemo, products: list[Product], clinic: Site | None = None, *, frozen: bool = False
) -> Shipment:
    low, high = FROZEN if frozen else COLD
    shipment = services.shipment_pack(
        actor=demo.technician,
        products=products,
        courier=COURIER,
        temperature_min_c=low,
        temperature_max_c=high,
        clinic=clinic,
    )
    return services.shipment_dispatch(
        actor=demo.technician, shipment=shipment, temperature_c=FROZEN_AT if frozen else COLD_AT
    )


def _receive_at_clinic(demo: LabDemo, shipment: Shipment, *, frozen: bool = False) -> Shipment:
    return services.shipment_receive(
        actor=demo.nurse,
        shipment=shipment,
        temperature_c=FROZEN_AT if frozen else COLD_AT,
        condition="Frozen, sealed, dry ice left" if frozen else ARRIVED,
        accepted=True,
    )


STAGES = ("collected", "shipped", "at_lab", "in_process", "qc_pending", "awaiting_release", "released")


def _cells_to(
    demo: LabDemo,
    pathway: Pathway,
    stage: str,
    *,
    collector: User,
    sender: User,
    doses: int = 2,
    banked_vials: int = 0,
    failing: dict | None = None,
) -> Cells:
    """PATHWAY's cells taken from the harvest up to STAGE (one of STAGES)."""
    cells = Cells(pathway)
    steps = STAGES[: STAGES.index(stage) + 1]
    if "collected" in steps:
        cells.specimen = _harvest(pathway, collector)
    if "shipped" in steps:
        cells.shipment = _send_to_lab(cells.specimen, sender)
    if "at_lab" in steps:
        services.shipment_receive(
            actor=demo.technician,
            shipment=cells.shipment,
            temperature_c=COLD_AT,
            condition=ARRIVED,
            accepted=True,
        )
    if "in_process" in steps:
        cells.batch = _process(demo, cells.specimen, doses=doses)
    if "qc_pending" in steps:
        services.process_step_record(
            actor=demo.technician,
            batch=cells.batch,
            name="Harvest and formulation",
            passage=4,
            cell_count=61_000_000,
            viability_percent=Decimal("92.4"),
            note="Cells harvested from the flasks and formulated at 1.5 ×10⁷ cells/mL, one vial a dose.",
        )
        services.batch_finish_processing(
            actor=demo.technician, batch=cells.batch, doses_made=doses, banked_vials=banked_vials
        )
        _enter_results(demo, cells.batch, skip=SLOW_TESTS, failing=failing)
    if "awaiting_release" in steps:
        for test in SLOW_TESTS:
            services.qc_result_enter(actor=demo.technician, batch=cells.batch, test=test, value=RESULTS[test])
    if "released" in steps:
        services.batch_release(actor=demo.reviewer, batch=cells.batch, password=demo.password)
    if cells.batch is not None:
        cells.products = list(cells.batch.products.order_by("dose_number"))
    return cells


# The patients -----------------------------------------------------------------------------------------


def _register(site: Site, actor: User) -> list[Patient]:
    today = timezone.localdate()
    made = []
    for index, spec in enumerate(LAB_PATIENTS):
        made.append(
            patient_create(
                site=site,
                actor=actor,
                data={
                    "given_name": spec.given,
                    "family_name": spec.family,
                    "date_of_birth": date(today.year - spec.age, 1 + index % 12, 3 + index * 3),
                    "sex_at_birth": spec.sex,
                    "gender_identity": spec.gender,
                    "email": f"{spec.given}.{spec.family}@example.org".lower().translate(_ASCII),
                    "phone": f"07700 9{index:05d}",
                    "postcode": "LS1 4AB",
                    "fitzpatrick_type": spec.skin,
                    "presenting_concern": "premature_ageing",
                    "concern_details": spec.details,
                    "history": [],
                    "allergies": [],
                },
            )
        )
    return made


def _planned(patient: Patient, practitioner: User, password: str, score: int) -> Pathway:
    """PATIENT's consent signed in clinic and the plan made, the harvest planned for today."""
    return at_stage(
        "planned",
        patient=patient,
        practitioner=practitioner,
        password=password,
        therapy=CULTURED,
        goals="Softer nasolabial folds that still look like me.",
        target_areas=["nasolabial folds"],
        area="face",
        severity_scale="wsrs",
        severity_score=score,
        findings=f"Nasolabial folds, WSRS {score} on both sides; skin otherwise healthy.",
        in_clinic=True,
        photographs=True,
        outcome_reports=True,
        in_days=0,
    )


# The stories ------------------------------------------------------------------------------------------


def _stories(demo: LabDemo, users: dict[str, User], patients: dict[str, Patient]) -> None:
    north, river = demo.practitioner, users["practitioner2"]
    scores = {f"{spec.given} {spec.family}": spec.score for spec in LAB_PATIENTS}

    def planned(name: str, practitioner: User = north) -> Pathway:
        return _planned(patients[name], practitioner, demo.password, scores.get(name, 3))

    def cells(name: str, stage: str, practitioner: User = north, **options) -> Cells:
        sender = demo.nurse if practitioner is north else practitioner
        return _cells_to(
            demo, planned(name, practitioner), stage, collector=practitioner, sender=sender, **options
        )

    made = demo.stories
    made["in_transit"] = cells("Ingrid Larsen", "shipped", practitioner=river)
    made["at_lab"] = cells("Nadia Rahimi", "at_lab")

    made["in_process"] = story = cells("Graham Whitfield", "in_process")
    services.process_step_record(
        actor=demo.technician,
        batch=story.batch,
        name="Passage 2",
        passage=2,
        cell_count=11_800_000,
        viability_percent=Decimal("91.7"),
    )
    services.deviation_record(
        actor=demo.technician,
        batch=story.batch,
        description="The incubator's CO₂ read 6.4% for 35 minutes during passage 2 (set point 5%).",
        reason=(
            "The door was left ajar during a cleaning round; the alarm was answered, the door closed and "
            "the flasks checked: medium colour and cell morphology normal."
        ),
    )

    made["failed"] = story = cells("Renée Gauthier", "in_process")
    services.batch_fail(actor=demo.technician, batch=story.batch, reason=FAILED_BECAUSE)
    story.reharvest = _harvest(story.pathway, north, replaces=story.specimen)

    made["qc_pending"] = cells("Thabo Nkosi", "qc_pending", banked_vials=2)
    made["awaiting_release"] = cells("Siobhan Walsh", "awaiting_release", banked_vials=2)

    made["released"] = story = cells("Isabel Moreno", "released")
    _ship_products(demo, story.products[:1])

    made["rejected"] = story = cells("Søren Holm", "awaiting_release", failing=FAILING)
    services.batch_reject(
        actor=demo.reviewer, batch=story.batch, reason=REJECTED_BECAUSE, password=demo.password
    )

    made["at_clinic"] = story = cells("Farah Siddiqui", "released")
    _receive_at_clinic(demo, _ship_products(demo, story.products))
    check, _ = bedside_check(actor=north, mrn=story.pathway.patient.mrn, din=story.products[0].din)
    product_administer(actor=north, check=check)

    made["withdrawn"] = story = cells("Kenji Sato", "released", banked_vials=2)
    advance(story.pathway, "withdrawn", reason=WITHDRAWN_BECAUSE)

    for story in made.values():
        for record in (story.specimen, story.batch, *story.products):
            if record is not None:
                record.refresh_from_db()
        story.products = list(story.batch.products.order_by("dose_number")) if story.batch else []


def _donor_lots(demo: LabDemo, north: Site) -> None:
    """An eligible donor lot whose doses are at North Clinic, and one still waiting for its NAT results."""
    today = timezone.localdate()
    lot = services.donor_lot_create(
        actor=demo.technician,
        lab=demo.lab,
        lot_number="DFS-0417",
        therapy_code=DONOR,
        screening={**SEROLOGY, **NAT},
        expires_on=today + timedelta(days=180),
        quantity=8,
    )
    lot = services.donor_lot_document_eligibility(actor=demo.reviewer, lot=lot)
    batch = services.batch_plan(actor=demo.technician, donor_lot=lot, doses=2)
    services.batch_start(actor=demo.technician, batch=batch)
    services.process_step_record(
        actor=demo.technician,
        batch=batch,
        name="Thawed and rinsed",
        viability_percent=Decimal("88.0"),
        note="Two pieces from the lot thawed at 36 °C and rinsed three times in saline.",
    )
    services.batch_finish_processing(actor=demo.technician, batch=batch, doses_made=2)
    _enter_results(demo, batch)
    services.batch_release(actor=demo.reviewer, batch=batch, password=demo.password)
    products = list(batch.products.order_by("dose_number"))
    _receive_at_clinic(demo, _ship_products(demo, products, north, frozen=True), frozen=True)
    waiting = services.donor_lot_create(
        actor=demo.technician,
        lab=demo.lab,
        lot_number="DFS-0523",
        therapy_code=DONOR,
        screening=dict(SEROLOGY),
        expires_on=today + timedelta(days=240),
        quantity=8,
    )
    batch.refresh_from_db()
    demo.donor_batch = batch
    demo.donor_lots = [lot, waiting]


def demo_lab(
    sites: dict[str, Site],
    users: dict[str, User],
    patients: list[Patient],
    password: str,
    progress: Callable[[str], None] = lambda _msg: None,
) -> LabDemo:
    """The lab's profile and reagents, patients' cells at every stage, and two donor lots."""
    lab = sites["LAB"]
    services.lab_profile_set(lab=lab, facility_code=FACILITY, processing_slots=SLOTS)
    demo = LabDemo(
        lab=lab,
        practitioner=users["practitioner"],
        nurse=users["nurse"],
        technician=users["lab"],
        reviewer=users["qa"],
        password=password,
    )
    today = timezone.localdate()
    demo.reagents = [
        services.reagent_lot_create(
            actor=demo.technician,
            lab=lab,
            name=name,
            lot_number=number,
            expires_on=today + timedelta(days=days),
        )
        for name, number, days in REAGENT_LOTS
    ]
    progress(
        f"lab: {lab.name} set up (facility {FACILITY}, {SLOTS} processing slots), "
        f"{len(demo.reagents)} reagent lots"
    )
    registered = _register(sites["NCL"], users["practitioner"])
    by_name = {patient.full_name: patient for patient in [*patients, *registered]}
    progress(f"lab: {len(registered)} more patients with a consent and a plan for cultured fibroblasts")
    _stories(demo, users, by_name)
    progress(
        "lab: specimens collected, in transit and at the lab; batches in process (with a deviation), failed "
        "(re-harvest collected), waiting for QC, waiting for release, released and rejected"
    )
    progress(
        "lab: products in transit, at North Clinic, given after a bedside check, and quarantined after a "
        "consent withdrawal"
    )
    _donor_lots(demo, sites["NCL"])
    progress("lab: a donor lot with documented eligibility and its doses at North Clinic; one awaiting NAT")
    return demo

"""Lab records built through the lab's services, up to a named stage: for tests that need real ones.

Every row is made by the service a person would use (`cellclinic.lab.services`), so each carries its
custody events, audit events and signatures. (`rows.py` writes rows directly, for tests that only read.)

    lab_ready(lab)                      the lab's profile: FIN A9999, 4 processing slots
    lab_pathway_to(stage, patient, practitioner, technician=..., reviewer=...)
                                        a patient's cells from harvest up to STAGE (below)
    lab_advance(made, stage, ...)       the same pathway taken on to a later stage
    donor_lot_ready(lab, technician, reviewer)
                                        a donor lot, its eligibility documented unless eligible=False
    donor_batch_to(stage, lot, technician, reviewer, clinic=...)
                                        donor products up to STAGE (from "in_process" on)
    enter_results(batch, technician, failing=())
                                        a QC result for every release criterion (passing_value,
                                        failing_value give one for a single criterion)
    lab_counts(), statuses(*records), field_errors(error)
                                        what a refused call must leave unchanged, and its messages

The stages of `lab_pathway_to`, in order, each with the service that reaches it:

    collected         specimen_collect: the chain of identity, the specimen, its COLLECTED event
    shipped           shipment_pack + shipment_dispatch by the collector (clinic to lab)
    at_lab            shipment_receive at the lab, accepted (the specimen is received)
    in_process        batch_plan + batch_start by the technician, with one recorded passage
    qc_pending        batch_finish_processing: DOSES products awaiting release, with their DINs
    awaiting_release  a result for every release criterion (all passing unless FAILING names tests)
    released          batch_release signed by the reviewer (products released)
    issued            shipment_pack of the products at the lab for the clinic (ISSUED events)
    at_clinic         shipment_dispatch by the technician, shipment_receive at the clinic

and two branches, each reached from the stage before it in the list above:

    failed            from in_process: batch_fail (the clinic's practitioners are told)
    rejected          from awaiting_release: batch_reject signed by the reviewer

Options go to the step that takes them: doses= (in_process, default 2), doses_made= and banked_vials=
(qc_pending), failing= (awaiting_release: the tests whose results fail, e.g. ("Endotoxin",)).

`LabPathway` holds what was made (chain, specimen, shipment, batch, products, product_shipment) and
who made it (collector, technician, reviewer), with the clinic's own pathway (`pathway`: patient,
consent, plan). Users not given are made (a lab technician and a QA reviewer at the patient's lab);
every user has the tests' PASSWORD, which signatures ask for. Its records are re-read from the
database after each call (`refresh()` does it again after a service of your own).
"""

from dataclasses import dataclass, field
from decimal import Decimal
from itertools import count

from django.utils import timezone

from cellclinic.accounts.models import Site, User
from cellclinic.audit.models import AuditEvent, Signature
from cellclinic.catalogue.registry import get_catalogue
from cellclinic.demo.builder import Pathway
from cellclinic.lab import release, services
from cellclinic.lab.donor import DONOR_TESTS
from cellclinic.lab.models import (
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
from cellclinic.notifications.models import Notification
from cellclinic.treatment.tests.helpers import CULTURED, DONOR, pathway_to
from conftest import PASSWORD, make_user

FACILITY = "A9999"
SLOTS = 4
COURIER = "Cold Chain Couriers"
# The cultured protocol ships and keeps at 2-8 °C.
RANGE_C = (Decimal("2.0"), Decimal("8.0"))
AT_C = Decimal("4.5")
DOSES = 2

STAGES = (
    "collected",
    "shipped",
    "at_lab",
    "in_process",
    "qc_pending",
    "awaiting_release",
    "released",
    "issued",
    "at_clinic",
)
# A branch, and the stage it is taken from.
BRANCHES = {"failed": "in_process", "rejected": "awaiting_release"}
NEGATIVE_SCREENING = dict.fromkeys(DONOR_TESTS, "Negative")

_people = count(1)
_lots = count(1)


COUNTED = (
    LabProfile,
    DinSequence,
    ChainOfIdentity,
    DonorLot,
    ReagentLot,
    Shipment,
    Specimen,
    Batch,
    ProcessStep,
    Deviation,
    QCResult,
    Product,
    CustodyEvent,
    AuditEvent,
    Signature,
    Notification,
)


def lab_counts() -> dict[str, int]:
    """How many rows each lab model, the audit trail, signatures and notifications hold: what a refused
    call must leave unchanged."""
    return {model.__name__: model.objects.count() for model in COUNTED}


def statuses(*records) -> list[str]:
    """The status of each record as the database holds it now."""
    return [type(record).objects.values_list("status", flat=True).get(pk=record.pk) for record in records]


def field_errors(error) -> dict[str, str]:
    """An InvalidInput's messages by field; several messages for one field are joined with "; "."""
    found: dict[str, list[str]] = {}
    for item in error.errors:
        found.setdefault(item.field, []).append(item.message)
    return {name: "; ".join(messages) for name, messages in found.items()}


def lab_ready(lab: Site, *, facility: str = FACILITY, slots: int = SLOTS) -> LabProfile:
    """LAB's profile (FACILITY and SLOTS), set through the service; an existing one is kept as it is."""
    existing = LabProfile.objects.filter(site=lab).first()
    if existing is not None:
        return existing
    return services.lab_profile_set(lab=lab, facility_code=facility, processing_slots=slots)


def lab_staff(lab: Site, role: str) -> User:
    """A new user holding ROLE at LAB."""
    number = next(_people)
    return make_user(
        f"{role}{number}", first=role.replace("_", " ").title(), last=str(number), roles=[(lab, role)]
    )


def passing_value(criterion: release.Criterion) -> tuple[str, str]:
    """A result (value, unit) that meets CRITERION."""
    if not criterion.is_numeric:
        return release.accepted_answer(criterion), ""
    limit = criterion.limit
    assert limit is not None
    value = {
        release.Operator.LT: limit - 1 if limit > 1 else limit / 2,
        release.Operator.LE: limit,
        release.Operator.GT: limit + 1,
        release.Operator.GE: limit,
        release.Operator.EQ: limit,
        release.Operator.BETWEEN: (limit + (criterion.limit_max or limit)) / 2,
    }[criterion.operator]
    return str(value), criterion.unit or ""


def failing_value(criterion: release.Criterion) -> tuple[str, str]:
    """A result (value, unit) that does not meet CRITERION."""
    if not criterion.is_numeric:
        return "Positive", ""
    limit = criterion.limit
    assert limit is not None
    value = {
        release.Operator.LT: limit,
        release.Operator.LE: limit + 1,
        release.Operator.GT: limit,
        release.Operator.GE: limit - 1,
        release.Operator.EQ: limit + 1,
        release.Operator.BETWEEN: (criterion.limit_max or limit) + 1,
    }[criterion.operator]
    return str(value), criterion.unit or ""


def criteria_of(batch: Batch) -> list[release.Criterion]:
    """The release criteria of BATCH's protocol version."""
    therapy = get_catalogue().therapy(batch.therapy_code, batch.therapy_version)
    assert therapy is not None
    return [release.criterion_from(item) for item in therapy.release_criteria]


@dataclass
class LabPathway:
    """What the lab builder made, stage by stage, and who made it."""

    stage: str | None
    pathway: Pathway
    collector: User
    technician: User
    reviewer: User
    chain: ChainOfIdentity | None = None
    specimen: Specimen | None = None
    shipment: Shipment | None = None
    batch: Batch | None = None
    products: list[Product] = field(default_factory=list)
    product_shipment: Shipment | None = None

    @property
    def patient(self):
        return self.pathway.patient

    @property
    def consent(self):
        return self.pathway.consent

    @property
    def plan(self):
        return self.pathway.plan

    @property
    def clinic(self) -> Site:
        return self.pathway.patient.site

    @property
    def lab(self) -> Site:
        return self.clinic.lab

    def refresh(self) -> "LabPathway":
        """Every record re-read from the database (the consent and plan too)."""
        for record in (self.consent, self.plan, self.chain, self.specimen, self.shipment, self.batch):
            if record is not None:
                record.refresh_from_db()
        if self.product_shipment is not None:
            self.product_shipment.refresh_from_db()
        self.products = [Product.objects.get(pk=p.pk) for p in self.products]
        return self


def _collected(made: LabPathway) -> None:
    made.specimen = services.specimen_collect(
        actor=made.collector,
        consent=made.consent,
        plan=made.plan,
        kind=Specimen.Kind.PUNCH_BIOPSY,
        body_site="Behind the left ear",
        size="3 punches of 3 mm",
        collected_at=timezone.now(),
    )
    made.chain = made.specimen.chain


def _shipped(made: LabPathway) -> None:
    made.shipment = services.shipment_pack(
        actor=made.collector,
        specimens=[made.specimen],
        courier=COURIER,
        temperature_min_c=RANGE_C[0],
        temperature_max_c=RANGE_C[1],
    )
    services.shipment_dispatch(actor=made.collector, shipment=made.shipment, temperature_c=AT_C)


def _at_lab(made: LabPathway) -> None:
    services.shipment_receive(
        actor=made.technician,
        shipment=made.shipment,
        temperature_c=AT_C,
        condition="Sealed, cold packs intact",
        accepted=True,
    )


def _in_process(made: LabPathway, *, doses: int = DOSES) -> None:
    made.batch = services.batch_plan(actor=made.technician, specimen=made.specimen, doses=doses)
    services.batch_start(actor=made.technician, batch=made.batch)
    services.process_step_record(
        actor=made.technician,
        batch=made.batch,
        name="Passage 1",
        passage=1,
        cell_count=12_000_000,
        viability_percent=Decimal("92.5"),
    )


def _failed(made: LabPathway) -> None:
    services.batch_fail(actor=made.technician, batch=made.batch, reason="No growth after 21 days")


def _qc_pending(made: LabPathway, *, doses_made: int | None = None, banked_vials: int = 0) -> None:
    services.batch_finish_processing(
        actor=made.technician,
        batch=made.batch,
        doses_made=doses_made or made.batch.doses_planned,
        banked_vials=banked_vials,
    )
    made.products = list(made.batch.products.order_by("dose_number"))


def enter_results(batch: Batch, technician: User, *, failing: tuple[str, ...] = ()) -> None:
    """A result for every release criterion of BATCH: passing, except the tests named in FAILING."""
    for criterion in criteria_of(batch):
        value, unit = (failing_value if criterion.test in failing else passing_value)(criterion)
        services.qc_result_enter(actor=technician, batch=batch, test=criterion.test, value=value, unit=unit)


def _awaiting_release(made: LabPathway, *, failing: tuple[str, ...] = ()) -> None:
    enter_results(made.batch, made.technician, failing=failing)


def _released(made: LabPathway) -> None:
    services.batch_release(actor=made.reviewer, batch=made.batch, password=PASSWORD)


def _rejected(made: LabPathway) -> None:
    services.batch_reject(
        actor=made.reviewer, batch=made.batch, reason="Endotoxin out of limit", password=PASSWORD
    )


def _issued(made: LabPathway) -> None:
    made.product_shipment = services.shipment_pack(
        actor=made.technician,
        products=made.products,
        courier=COURIER,
        temperature_min_c=RANGE_C[0],
        temperature_max_c=RANGE_C[1],
    )


def _at_clinic(made: LabPathway) -> None:
    services.shipment_dispatch(actor=made.technician, shipment=made.product_shipment, temperature_c=AT_C)
    services.shipment_receive(
        actor=made.collector,
        shipment=made.product_shipment,
        temperature_c=AT_C,
        condition="Sealed, cold packs intact",
        accepted=True,
    )


STEPS = {
    "collected": _collected,
    "shipped": _shipped,
    "at_lab": _at_lab,
    "in_process": _in_process,
    "failed": _failed,
    "qc_pending": _qc_pending,
    "awaiting_release": _awaiting_release,
    "released": _released,
    "rejected": _rejected,
    "issued": _issued,
    "at_clinic": _at_clinic,
}
# The options each step takes.
OPTIONS = {
    "in_process": {"doses"},
    "qc_pending": {"doses_made", "banked_vials"},
    "awaiting_release": {"failing"},
}


def _route(current: str | None, stage: str) -> list[str]:
    """The steps from CURRENT (None: nothing made yet) to STAGE."""
    if stage not in STEPS:
        raise ValueError(f"unknown stage {stage!r}; the stages are {', '.join(STEPS)}")
    if current in BRANCHES:
        raise ValueError(f"the pathway is at {current!r}, where it ends")
    main = BRANCHES.get(stage, stage)
    start = 0 if current is None else STAGES.index(current) + 1
    end = STAGES.index(main) + 1
    if end < start:
        raise ValueError(f"the pathway is already at {current!r}, past {stage!r}")
    route = list(STAGES[start:end])
    return [*route, stage] if stage in BRANCHES else route


def lab_advance(made: LabPathway, stage: str, **options) -> LabPathway:
    """MADE taken through each stage after its own up to STAGE; each step takes the OPTIONS it names
    (in_process: doses; qc_pending: doses_made, banked_vials; awaiting_release: failing)."""
    route = _route(made.stage, stage)
    unknown = set(options) - set().union(*(OPTIONS.get(step, set()) for step in route))
    if unknown:
        raise TypeError(f"no stage up to {stage!r} takes {', '.join(sorted(unknown))}")
    for step in route:
        STEPS[step](made, **{k: v for k, v in options.items() if k in OPTIONS.get(step, set())})
        made.stage = step
    return made.refresh()


def lab_pathway_to(
    stage: str,
    patient,
    practitioner: User,
    *,
    technician: User | None = None,
    reviewer: User | None = None,
    collector: User | None = None,
    therapy: str = CULTURED,
    **options,
) -> LabPathway:
    """PATIENT's cells taken through the lab's services up to STAGE (see the module's list).

    The clinic's pathway is built to "planned" first (a signed consent and a plan for THERAPY, a
    cultured autologous one). COLLECTOR (default PRACTITIONER) harvests, packs, sends and receives at
    the clinic; TECHNICIAN processes and ships at the lab; REVIEWER signs the QA decisions.
    """
    clinic = patient.site
    lab_ready(clinic.lab)
    made = LabPathway(
        stage=None,
        pathway=pathway_to("planned", patient, practitioner, therapy=therapy),
        collector=collector or practitioner,
        technician=technician or lab_staff(clinic.lab, "lab_technician"),
        reviewer=reviewer or lab_staff(clinic.lab, "qa_reviewer"),
    )
    return lab_advance(made, stage, **options)


def donor_lot_ready(
    lab: Site,
    technician: User,
    reviewer: User,
    *,
    therapy: str = DONOR,
    eligible: bool = True,
    quantity: int = 10,
    screening: dict[str, str] | None = None,
) -> DonorLot:
    """A donor lot at LAB with negative screening (or SCREENING), its eligibility documented by
    REVIEWER unless ELIGIBLE is false."""
    lab_ready(lab)
    lot = services.donor_lot_create(
        actor=technician,
        lab=lab,
        lot_number=f"LOT-{next(_lots):04d}",
        therapy_code=therapy,
        screening=NEGATIVE_SCREENING if screening is None else screening,
        expires_on=timezone.localdate().replace(year=timezone.localdate().year + 1),
        quantity=quantity,
    )
    if eligible:
        lot = services.donor_lot_document_eligibility(actor=reviewer, lot=lot)
    return lot


DONOR_STAGES = ("in_process", "qc_pending", "awaiting_release", "released", "issued", "at_clinic")


def donor_batch_to(
    stage: str,
    lot: DonorLot,
    technician: User,
    reviewer: User,
    *,
    clinic: Site | None = None,
    doses: int = DOSES,
    failing: tuple[str, ...] = (),
) -> tuple[Batch, list[Product], Shipment | None]:
    """A batch of LOT's donor cells up to STAGE (one of DONOR_STAGES); "issued" and "at_clinic" send the
    products to CLINIC, where TECHNICIAN's lab serves it. Returns the batch, its products and the
    shipment to the clinic (None before "issued")."""
    if stage not in DONOR_STAGES:
        raise ValueError(f"unknown stage {stage!r}; the donor stages are {', '.join(DONOR_STAGES)}")
    reached = DONOR_STAGES.index(stage)
    batch = services.batch_plan(actor=technician, donor_lot=lot, doses=doses)
    services.batch_start(actor=technician, batch=batch)
    products: list[Product] = []
    shipment = None
    if reached >= 1:
        services.batch_finish_processing(actor=technician, batch=batch, doses_made=doses)
        products = list(batch.products.order_by("dose_number"))
    if reached >= 2:
        enter_results(batch, technician, failing=failing)
    if reached >= 3:
        services.batch_release(actor=reviewer, batch=batch, password=PASSWORD)
    if reached >= 4:
        assert clinic is not None, "give the clinic the products are sent to"
        shipment = services.shipment_pack(
            actor=technician,
            products=products,
            courier=COURIER,
            temperature_min_c=Decimal("-85"),
            temperature_max_c=Decimal("-65"),
            clinic=clinic,
        )
    if reached >= 5:
        assert shipment is not None
        services.shipment_dispatch(actor=technician, shipment=shipment, temperature_c=Decimal("-75"))
        receiver = User.objects.filter(
            memberships__site=clinic, memberships__role__in=["practitioner", "nurse"]
        ).first()
        assert receiver is not None, "the clinic needs a practitioner or nurse to receive the products"
        services.shipment_receive(
            actor=receiver,
            shipment=shipment,
            temperature_c=Decimal("-75"),
            condition="Frozen, sealed",
            accepted=True,
        )
    batch.refresh_from_db()
    products = [Product.objects.get(pk=p.pk) for p in products]
    if shipment is not None:
        shipment.refresh_from_db()
    return batch, products, shipment

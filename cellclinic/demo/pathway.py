"""Demo records along the pathway: self-assessments and enquiries, consultations, consent, plans.

Every record is made by the pathway builder (cellclinic/demo/builder.py), through the same services a
person would use, so it is validated, signed where the pathway signs and audited, exactly as in real use.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils import timezone

from cellclinic.accounts.models import Site, User
from cellclinic.candidacy.models import Enquiry
from cellclinic.demo.builder import Pathway, advance, at_stage
from cellclinic.patients.models import Patient


@dataclass(frozen=True)
class PublicVisit:
    """Someone who answered the self-assessment and asked for a consultation."""

    name: str
    email: str
    clinic: str
    concerns: tuple[str, ...]
    area: str
    age: int
    expectation: str = "gradual_improvement"
    condition: dict = field(default_factory=dict)
    health: dict = field(default_factory=dict)
    preferred_times: str = ""
    message: str = ""
    status: str = "new"
    register: bool = False


PUBLIC_VISITS = (
    PublicVisit(
        "Jordan Ellis",
        "jordan.ellis@example.org",
        "NCL",
        ("vitiligo",),
        "face",
        29,
        condition={
            "patches_diagnosed": True,
            "vitiligo_stable_months": 26,
            "vitiligo_treatments_tried": True,
        },
        preferred_times="Weekday mornings",
        message="Patches around my eyes have not changed for two years.",
    ),
    PublicVisit(
        "Sam Okafor",
        "sam.okafor@example.org",
        "NCL",
        ("premature_ageing",),
        "face",
        48,
        expectation="instant_result",
        preferred_times="After 5 pm",
        message="I have an event in three weeks.",
        status="contacted",
    ),
    PublicVisit(
        "Bea Lindqvist",
        "bea.lindqvist@example.org",
        "RSC",
        ("scar", "hypopigmentation"),
        "arms",
        36,
        condition={"wound_open": False, "months_since_injury": 30, "patches_diagnosed": True},
        health={"keloid_history": None},
        preferred_times="Any Friday",
    ),
    PublicVisit(
        "Chris Taylor",
        "chris.taylor@example.org",
        "NCL",
        ("vitiligo",),
        "hands",
        41,
        condition={
            "patches_diagnosed": True,
            "vitiligo_stable_months": 20,
            "vitiligo_treatments_tried": True,
        },
        preferred_times="Tuesday or Thursday afternoons",
        register=True,
    ),
)


def _public_visits(sites: dict[str, Site], users: dict[str, User], password: str) -> list[Pathway]:
    """Self-assessments from the public, each with a request for a consultation."""
    pathways = []
    for visit in PUBLIC_VISITS:
        north = visit.clinic == "NCL"
        pathways.append(
            at_stage(
                "enquired",
                site=sites[visit.clinic],
                practitioner=users["practitioner"] if north else users["practitioner2"],
                nurse=users["nurse"] if north else users["practitioner2"],
                password=password,
                concerns=visit.concerns,
                area=visit.area,
                age=visit.age,
                expectation=visit.expectation,
                condition=dict(visit.condition),
                health=dict(visit.health),
                enquiry_data={
                    "name": visit.name,
                    "email": visit.email,
                    "preferred_times": visit.preferred_times,
                    "message": visit.message,
                },
                enquiry_status=visit.status,
                enquiry_notes=(
                    "" if visit.status == "new" else "Called back; explained what the consultation covers."
                ),
            )
        )
    return pathways


def demo_pathway(
    sites: dict[str, Site],
    users: dict[str, User],
    patients: list[Patient],
    password: str,
    progress: Callable[[str], None] = lambda _msg: None,
) -> dict:
    """Patients at every stage, from a public self-assessment to a plan, and a withdrawal."""
    by_name = {patient.full_name: patient for patient in patients}
    north, river = users["practitioner"], users["practitioner2"]

    visits = _public_visits(sites, users, password)
    enquiries: list[Enquiry] = [pathway.enquiry for pathway in visits]
    progress(f"self-assessments: {len(enquiries)} with consultation requests on the clinics' worklists")

    # Registered from an enquiry; the consultation is under way, nothing decided yet.
    chris = next(p for p, v in zip(visits, PUBLIC_VISITS, strict=True) if v.register)
    advance(
        chris,
        "consultation_open",
        patient_data={
            "given_name": "Chris",
            "family_name": "Taylor",
            "date_of_birth": timezone.localdate().replace(year=timezone.localdate().year - 41, day=1),
            "email": "chris.taylor@example.org",
            "presenting_concern": "vitiligo",
            "concern_details": "Vitiligo on the backs of both hands, no new patches for 20 months",
            "fitzpatrick_type": "IV",
        },
        goals="Even colour on the backs of my hands; I work with customers.",
        target_areas=["left hand", "right hand"],
        area="hands",
        severity_scale="t_vasi",
        severity_score=1.5,
        findings="Depigmented macules on both dorsal hands, no Koebner phenomenon, no new lesions.",
        condition={
            "patches_diagnosed": True,
            "vitiligo_stable_months": 20,
            "vitiligo_treatments_tried": True,
        },
        photos=("front", "close_up"),
    )

    # Decided, consent prepared: waiting for the patient to sign in the portal.
    at_stage(
        "consent_prepared",
        patient=by_name["Maya Thompson"],
        practitioner=north,
        password=password,
        therapy="autologous_skin_cell_suspension",
        goals="Less visible scarring on my forearm; I want it to heal well.",
        target_areas=["left forearm"],
        area="arms",
        severity_scale="re_epithelialised_pct",
        severity_score=70,
        findings="Partial-thickness scald, 6 weeks, granulating, no sign of infection.",
        condition={"wound_open": True, "wound_infected": False, "months_since_injury": 1},
        alternatives=("split_thickness_skin_graft",),
        photos=("front",),
    )

    # Consent signed in clinic and countersigned; the plan is on the chart.
    at_stage(
        "planned",
        patient=by_name["Helen Carter"],
        practitioner=north,
        password=password,
        therapy="autologous_fibroblast_injection",
        goals="Softer nasolabial folds that look like me, not filled.",
        target_areas=["nasolabial folds"],
        area="face",
        severity_scale="wsrs",
        severity_score=3,
        findings="Moderate nasolabial folds, WSRS 3 on both sides.",
        alternatives=("dermal_filler",),
        photos=("front", "left_oblique", "right_oblique"),
        in_clinic=True,
        photographs=True,
        outcome_reports=True,
        in_days=7,
    )
    at_stage(
        "planned",
        patient=by_name["Zanele Dlamini"],
        practitioner=north,
        password=password,
        therapy="autologous_skin_cell_suspension",
        goals="Repigment the patches on my knees.",
        target_areas=["left knee", "right knee"],
        area="legs",
        severity_scale="repigmentation_pct",
        severity_score=0,
        findings="Stable non-segmental vitiligo on both knees, no new lesions for 18 months.",
        condition={
            "patches_diagnosed": True,
            "vitiligo_stable_months": 18,
            "vitiligo_treatments_tried": True,
        },
        alternatives=("nb_uvb_phototherapy",),
        in_clinic=True,
        photographs=True,
        outcome_reports=False,
        in_days=14,
    )
    at_stage(
        "planned",
        patient=by_name["Aisha Khan"],
        practitioner=river,
        password=password,
        therapy="melanocyte_keratinocyte_transplant",
        goals="Match the colour of my left cheek.",
        target_areas=["left cheek"],
        area="face",
        severity_scale="f_vasi",
        severity_score=0.5,
        findings="Segmental vitiligo of the left cheek, stable for 3 years.",
        condition={
            "patches_diagnosed": True,
            "vitiligo_stable_months": 36,
            "vitiligo_treatments_tried": True,
        },
        in_clinic=True,
        photographs=False,
        outcome_reports=True,
        in_days=21,
    )

    # Consent withdrawn after the plan was made: the plan is stopped.
    at_stage(
        "withdrawn",
        patient=by_name["Grace Achterberg"],
        practitioner=north,
        password=password,
        therapy="bilayered_living_cell_construct",
        goals="Heal the ulcer on my ankle.",
        target_areas=["left ankle"],
        area="legs",
        severity_scale="re_epithelialised_pct",
        severity_score=20,
        findings="Venous leg ulcer, 4 months, on compression, clean base.",
        condition={
            "wound_open": True,
            "wound_infected": False,
            "months_since_injury": 4,
            "weeks_of_wound_care": 14,
            "wound_improving": False,
            "tendon_or_bone_exposed": False,
        },
        alternatives=("standard_wound_care",),
        in_clinic=True,
        photographs=True,
        outcome_reports=True,
        in_days=10,
        reason="The patient prefers to continue compression therapy alone for now.",
    )

    # An alternative chosen, and a decline with the reason.
    at_stage(
        "decided",
        patient=by_name["Yusuf Demir"],
        practitioner=north,
        password=password,
        goals="A natural result before my daughter's wedding in two months.",
        target_areas=["nasolabial folds"],
        area="face",
        severity_scale="wsrs",
        severity_score=4,
        findings="Severe nasolabial folds, WSRS 4; the timescale does not allow culture.",
        alternatives=("dermal_filler",),
        decision="alternative",
        alternative="dermal_filler",
        decision_notes=(
            "Culture takes 11–22 weeks; a filler meets the date. Fibroblast injection discussed for later."
        ),
    )
    at_stage(
        "decided",
        patient=by_name["Rahul Mehta"],
        practitioner=north,
        password=password,
        goals="Stop the patches spreading and bring the colour back.",
        target_areas=["hands"],
        area="hands",
        severity_scale="t_vasi",
        severity_score=3,
        findings="Active non-segmental vitiligo: new patches within the last 4 months.",
        condition={"patches_diagnosed": True, "vitiligo_stable_months": 0, "vitiligo_treatments_tried": True},
        alternatives=("nb_uvb_phototherapy", "topical_treatment_and_camouflage"),
        decision="decline",
        decision_notes=(
            "Not stable: cell grafting waits for 12 months without new lesions. Phototherapy referral."
        ),
    )
    progress(
        "pathway: an enquiry registered with a consultation under way, consent awaiting the portal "
        "patient's signature, three plans, one withdrawal, an alternative and a decline"
    )
    return {"enquiries": enquiries}

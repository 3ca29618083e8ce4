"""Demo records along the pathway: self-assessments and enquiries, consultations, consent, plans.

Everything goes through the same services a person would use, so every record is validated, signed
where the pathway signs and audited, exactly as in real use.
"""

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from django.utils import timezone
from PIL import Image, ImageDraw

from cellclinic.accounts.models import Site, User
from cellclinic.candidacy.engine import FITNESS_KEY, HEALTH_KEYS
from cellclinic.candidacy.models import Enquiry
from cellclinic.candidacy.services import (
    assessment_run,
    chart_answers,
    enquiry_create,
    enquiry_register_patient,
    enquiry_status_set,
)
from cellclinic.consents.services import (
    consent_countersign,
    consent_prepare,
    consent_sign_in_clinic,
    consent_withdraw,
)
from cellclinic.consultations.models import Consultation
from cellclinic.consultations.services import (
    consultation_alternatives_set,
    consultation_assessment_run,
    consultation_decide,
    consultation_expectations_discussed,
    consultation_start,
    consultation_update,
)
from cellclinic.patients.models import Patient
from cellclinic.photos.services import photo_upload
from cellclinic.treatment.services import plan_create

# Fit and well, every screening answer "no".
HEALTHY = {key: key == FITNESS_KEY for key in HEALTH_KEYS}


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
        condition={"vitiligo_stable_months": 26},
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
        condition={"wound_open": False, "months_since_injury": 30},
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
        condition={"vitiligo_stable_months": 20},
        preferred_times="Tuesday or Thursday afternoons",
        register=True,
    ),
)


def _photo(seed: int) -> bytes:
    """A plain illustrative image (not a person): the demo shows where baseline photographs go."""
    image = Image.new("RGB", (640, 480), (222, 196, 178))
    draw = ImageDraw.Draw(image)
    for ring in range(6):
        inset = 40 + ring * 28 + seed * 3
        shade = 240 - ring * 6
        draw.ellipse((inset + 80, inset, 560 - inset, 480 - inset), fill=(shade, shade - 18, shade - 30))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


class Pathway:
    """Moves one patient along the pathway, as their practitioner would."""

    def __init__(self, patient: Patient, practitioner: User, password: str):
        self.patient = patient
        self.practitioner = practitioner
        self.password = password
        self.consultation: Consultation | None = None
        self.consent = None

    def consult(
        self,
        *,
        goals: str,
        areas: list[str],
        area: str,
        scale: str,
        score: float,
        findings: str,
        condition: dict | None = None,
        expectation: str = "gradual_improvement",
        enquiry: Enquiry | None = None,
        alternatives: tuple[str, ...] = (),
        photos: tuple[str, ...] = (),
    ) -> "Pathway":
        patient, actor = self.patient, self.practitioner
        consultation = consultation_start(patient=patient, actor=actor, enquiry=enquiry)
        consultation = consultation_update(
            consultation=consultation,
            actor=actor,
            data={
                "goals": goals,
                "target_areas": areas,
                "indication": patient.presenting_concern,
                "severity_scale": scale,
                "severity_score": score,
                "fitzpatrick_type": patient.fitzpatrick_type,
                "findings": findings,
            },
        )
        answers = chart_answers(
            patient,
            concerns=[patient.presenting_concern],
            area=area,
            expectation=expectation,
            condition=condition,
        )
        # Whatever the chart left open was asked in the room: the patient is fit and answered "no".
        answers["health"] = {
            key: (HEALTHY[key] if value is None else value) for key, value in answers["health"].items()
        }
        consultation_assessment_run(consultation=consultation, actor=actor, answers=answers)
        consultation_expectations_discussed(consultation=consultation, actor=actor)
        if alternatives:
            consultation_alternatives_set(consultation=consultation, actor=actor, codes=list(alternatives))
        for index, view in enumerate(photos):
            photo_upload(
                consultation=consultation,
                actor=actor,
                data=_photo(index),
                view=view,
                area=", ".join(areas),
                taken_on=timezone.localdate(),
            )
        self.consultation = consultation
        return self

    def decide(
        self, decision: str, *, therapy: str = "", alternative: str = "", notes: str = ""
    ) -> "Pathway":
        self.consultation = consultation_decide(
            consultation=self.consultation,
            actor=self.practitioner,
            password=self.password,
            decision=decision,
            therapy_code=therapy,
            alternative_code=alternative,
            notes=notes,
        )
        return self

    def prepare_consent(self) -> "Pathway":
        self.consent = consent_prepare(consultation=self.consultation, actor=self.practitioner)
        return self

    def sign_consent_in_clinic(self, *, photographs: bool, outcome_reports: bool) -> "Pathway":
        self.consent = consent_sign_in_clinic(
            consent=self.consent,
            practitioner=self.practitioner,
            password=self.password,
            typed_name=self.patient.full_name,
            photographs=photographs,
            outcome_reports=outcome_reports,
            understood=True,
        )
        self.consent = consent_countersign(
            consent=self.consent, practitioner=self.practitioner, password=self.password
        )
        return self

    def plan(self, *, in_days: int) -> "Pathway":
        day = timezone.localdate() + timedelta(days=in_days)
        autologous = self.consultation.therapy_code not in {
            "bilayered_living_cell_construct",
            "cryopreserved_fibroblast_dermal_substitute",
        }
        plan_create(
            consultation=self.consultation,
            actor=self.practitioner,
            harvest_date=day if autologous else None,
            start_date=None if autologous else day,
        )
        return self

    def withdraw(self, reason: str) -> "Pathway":
        self.consent = consent_withdraw(consent=self.consent, actor=self.practitioner, reason=reason)
        return self


def _public_visits(sites: dict[str, Site], users: dict[str, User]) -> list[Enquiry]:
    """Self-assessments from the public, each with a request for a consultation."""
    enquiries = []
    for visit in PUBLIC_VISITS:
        health = {**HEALTHY, **visit.health}
        answers = {
            "concerns": list(visit.concerns),
            "area": visit.area,
            "age": visit.age,
            "health": {key: value for key, value in health.items() if value is not None},
            "condition": {
                "vitiligo_stable_months": None,
                "wound_open": None,
                "months_since_injury": None,
                **visit.condition,
            },
            "expectation": visit.expectation,
        }
        assessment = assessment_run(answers=answers, source="public")
        enquiry = enquiry_create(
            assessment=assessment,
            data={
                "site": sites[visit.clinic],
                "name": visit.name,
                "email": visit.email,
                "preferred_times": visit.preferred_times,
                "message": visit.message,
                "consent_to_contact": True,
            },
        )
        handler = users["nurse"] if visit.clinic == "NCL" else users["practitioner2"]
        if visit.status != "new":
            enquiry_status_set(
                enquiry=enquiry,
                actor=handler,
                status=visit.status,
                notes="Called back; explained what the consultation covers.",
            )
        enquiries.append(enquiry)
    return enquiries


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

    enquiries = _public_visits(sites, users)
    progress(f"self-assessments: {len(enquiries)} with consultation requests on the clinics' worklists")

    # Registered from an enquiry; the consultation is under way, nothing decided yet.
    chris_enquiry = next(e for e, v in zip(enquiries, PUBLIC_VISITS, strict=True) if v.register)
    chris = enquiry_register_patient(
        enquiry=chris_enquiry,
        actor=users["nurse"],
        data={
            "given_name": "Chris",
            "family_name": "Taylor",
            "date_of_birth": timezone.localdate().replace(year=timezone.localdate().year - 41, day=1),
            "email": "chris.taylor@example.org",
            "presenting_concern": "vitiligo",
            "concern_details": "Vitiligo on the backs of both hands, no new patches for 20 months",
            "fitzpatrick_type": "IV",
        },
    )
    Pathway(chris, north, password).consult(
        goals="Even colour on the backs of my hands; I work with customers.",
        areas=["left hand", "right hand"],
        area="hands",
        scale="t_vasi",
        score=1.5,
        findings="Depigmented macules on both dorsal hands, no Koebner phenomenon, no new lesions.",
        condition={"vitiligo_stable_months": 20},
        enquiry=chris_enquiry,
        photos=("front", "close_up"),
    )

    # Decided, consent prepared: waiting for the patient to sign in the portal.
    Pathway(by_name["Maya Thompson"], north, password).consult(
        goals="Less visible scarring on my forearm; I want it to heal well.",
        areas=["left forearm"],
        area="arms",
        scale="re_epithelialised_pct",
        score=70,
        findings="Partial-thickness scald, 6 weeks, granulating, no sign of infection.",
        condition={"wound_open": True, "months_since_injury": 1},
        alternatives=("split_thickness_skin_graft",),
        photos=("front",),
    ).decide("proceed", therapy="autologous_skin_cell_suspension").prepare_consent()

    # Consent signed in clinic and countersigned; the plan is on the chart.
    Pathway(by_name["Helen Carter"], north, password).consult(
        goals="Softer nasolabial folds that look like me, not filled.",
        areas=["nasolabial folds"],
        area="face",
        scale="wsrs",
        score=3,
        findings="Moderate nasolabial folds, WSRS 3 on both sides.",
        alternatives=("dermal_filler",),
        photos=("front", "left_oblique", "right_oblique"),
    ).decide("proceed", therapy="autologous_fibroblast_injection").prepare_consent().sign_consent_in_clinic(
        photographs=True, outcome_reports=True
    ).plan(in_days=7)

    Pathway(by_name["Zanele Dlamini"], north, password).consult(
        goals="Repigment the patches on my knees.",
        areas=["left knee", "right knee"],
        area="legs",
        scale="repigmentation_pct",
        score=0,
        findings="Stable non-segmental vitiligo on both knees, no new lesions for 18 months.",
        condition={"vitiligo_stable_months": 18},
        alternatives=("nb_uvb_phototherapy",),
    ).decide("proceed", therapy="autologous_skin_cell_suspension").prepare_consent().sign_consent_in_clinic(
        photographs=True, outcome_reports=False
    ).plan(in_days=14)

    aisha = Pathway(by_name["Aisha Khan"], river, password)
    aisha.consult(
        goals="Match the colour of my left cheek.",
        areas=["left cheek"],
        area="face",
        scale="f_vasi",
        score=0.5,
        findings="Segmental vitiligo of the left cheek, stable for 3 years.",
        condition={"vitiligo_stable_months": 36},
    ).decide("proceed", therapy="melanocyte_keratinocyte_transplant").prepare_consent()
    aisha.sign_consent_in_clinic(photographs=False, outcome_reports=True).plan(in_days=21)

    # Consent withdrawn after the plan was made: the plan is stopped.
    Pathway(by_name["Grace Achterberg"], north, password).consult(
        goals="Heal the ulcer on my ankle.",
        areas=["left ankle"],
        area="legs",
        scale="re_epithelialised_pct",
        score=20,
        findings="Venous leg ulcer, 4 months, on compression, clean base.",
        condition={"wound_open": True, "months_since_injury": 4},
        alternatives=("standard_wound_care",),
    ).decide("proceed", therapy="bilayered_living_cell_construct").prepare_consent().sign_consent_in_clinic(
        photographs=True, outcome_reports=True
    ).plan(in_days=10).withdraw("The patient prefers to continue compression therapy alone for now.")

    # An alternative chosen, and a decline with the reason.
    Pathway(by_name["Yusuf Demir"], north, password).consult(
        goals="A natural result before my daughter's wedding in two months.",
        areas=["nasolabial folds"],
        area="face",
        scale="wsrs",
        score=4,
        findings="Severe nasolabial folds, WSRS 4; the timescale does not allow culture.",
        alternatives=("dermal_filler",),
    ).decide(
        "alternative",
        alternative="dermal_filler",
        notes="Culture takes 11–22 weeks; a filler meets the date. Fibroblast injection discussed for later.",
    )
    Pathway(by_name["Rahul Mehta"], north, password).consult(
        goals="Stop the patches spreading and bring the colour back.",
        areas=["hands"],
        area="hands",
        scale="t_vasi",
        score=3,
        findings="Active non-segmental vitiligo: new patches within the last 4 months.",
        condition={"vitiligo_stable_months": 0},
        alternatives=("nb_uvb_phototherapy", "topical_treatment_and_camouflage"),
    ).decide(
        "decline",
        notes="Not stable: cell grafting waits for 12 months without new lesions. Phototherapy referral.",
    )
    progress(
        "pathway: an enquiry registered with a consultation under way, consent awaiting the portal "
        "patient's signature, three plans, one withdrawal, an alternative and a decline"
    )
    return {"enquiries": enquiries}

"""Demo data: two clinics, one lab, one user per role and realistic patients over all seven indications.

Demo-only passwords; never use them on a real installation.
"""

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from cellclinic.accounts.models import Site, User
from cellclinic.accounts.services import membership_grant, site_create, user_create
from cellclinic.audit.services import signature_create
from cellclinic.demo.lab import demo_lab
from cellclinic.demo.pathway import demo_pathway
from cellclinic.patients.services import patient_create, patient_link_portal_user

DEMO_PASSWORD = "demo-only-2026"


@dataclass(frozen=True)
class DemoUser:
    username: str
    first: str
    last: str
    role: str | None
    site: str | None
    what: str


DEMO_USERS = (
    DemoUser("practitioner", "Ada", "Okafor", "practitioner", "NCL", "Practitioner at North Clinic"),
    DemoUser("nurse", "Bo", "Lindqvist", "nurse", "NCL", "Nurse at North Clinic"),
    DemoUser("admin", "Alma", "Rahman", "clinic_admin", "NCL", "Clinic admin at North Clinic"),
    DemoUser("practitioner2", "Cyrus", "Moreau", "practitioner", "RSC", "Practitioner at Riverside Clinic"),
    DemoUser("lab", "Li", "Chen", "lab_technician", "LAB", "Lab technician at Central Cell Lab"),
    DemoUser("qa", "Quinn", "Adeyemi", "qa_reviewer", "LAB", "QA reviewer at Central Cell Lab"),
    DemoUser("patient", "Maya", "Thompson", None, None, "Patient portal (Maya Thompson, North Clinic)"),
)

# (given, family, sex at birth, gender identity, concern, details, skin type, age)
_PATIENTS = (
    (
        "Maya",
        "Thompson",
        "female",
        "woman",
        "burn",
        "Scald to the left forearm, partial thickness, 6 weeks ago",
        "III",
        34,
    ),
    (
        "Daniel",
        "Osei",
        "male",
        "man",
        "burn",
        "Flame burn to the back of the right hand, healed with contracture",
        "V",
        41,
    ),
    (
        "Priya",
        "Raman",
        "female",
        "woman",
        "burn",
        "Partial-thickness burn to the neck from hot oil",
        "IV",
        29,
    ),
    (
        "Tomasz",
        "Nowak",
        "male",
        "man",
        "burn",
        "Deep partial-thickness burn to the thigh, 2 weeks ago",
        "II",
        52,
    ),
    ("Amara", "Nwosu", "female", "", "scar", "Depressed acne scars on both cheeks", "VI", 27),
    ("Oliver", "Brennan", "male", "man", "scar", "Hypertrophic surgical scar after appendicectomy", "I", 38),
    (
        "Sofia",
        "Martinez",
        "female",
        "woman",
        "scar",
        "Atrophic scar on the chin after a fall in childhood",
        "III",
        31,
    ),
    ("Kwame", "Boateng", "male", "man", "scar", "Burn scar on the upper arm, stable for 2 years", "VI", 45),
    (
        "Hannah",
        "Kowalski",
        "female",
        "woman",
        "scar",
        "Acne scarring, rolling type, temples and cheeks",
        "II",
        24,
    ),
    (
        "Lucas",
        "Ferreira",
        "male",
        "non-binary",
        "wound",
        "Open wound on the shin after a cycling accident, 5 weeks",
        "III",
        36,
    ),
    (
        "Grace",
        "Achterberg",
        "female",
        "woman",
        "wound",
        "Venous leg ulcer, left ankle, 4 months, on compression",
        "II",
        71,
    ),
    ("Samuel", "Adeyemi", "male", "man", "wound", "Neuropathic diabetic foot ulcer, 7 weeks", "V", 63),
    (
        "Elif",
        "Yilmaz",
        "female",
        "woman",
        "wound",
        "Dehisced surgical wound after abdominal surgery",
        "III",
        55,
    ),
    (
        "Noah",
        "Lindgren",
        "male",
        "man",
        "wound",
        "Degloving injury to the forearm, grafted, donor site slow to heal",
        "I",
        22,
    ),
    (
        "Aisha",
        "Khan",
        "female",
        "woman",
        "vitiligo",
        "Segmental vitiligo on the left cheek, stable 3 years",
        "IV",
        26,
    ),
    (
        "Rahul",
        "Mehta",
        "male",
        "man",
        "vitiligo",
        "Non-segmental vitiligo on the hands, new patches 4 months ago",
        "V",
        39,
    ),
    (
        "Zanele",
        "Dlamini",
        "female",
        "woman",
        "vitiligo",
        "Stable vitiligo patches on the knees for 18 months",
        "VI",
        33,
    ),
    ("Marco", "Rossi", "male", "man", "vitiligo", "Vitiligo of the lip and chin, stable 2 years", "III", 47),
    (
        "Fatima",
        "Haddad",
        "female",
        "woman",
        "vitiligo",
        "Focal vitiligo on the forehead, stable 14 months",
        "IV",
        30,
    ),
    (
        "Jun",
        "Watanabe",
        "male",
        "man",
        "hypopigmentation",
        "Post-inflammatory hypopigmentation after eczema, upper back",
        "III",
        28,
    ),
    (
        "Chloe",
        "Dubois",
        "female",
        "woman",
        "hypopigmentation",
        "Hypopigmented burn scar on the shoulder",
        "II",
        35,
    ),
    (
        "Ibrahim",
        "Sow",
        "male",
        "man",
        "hypopigmentation",
        "Hypopigmentation after laser treatment on the cheek",
        "VI",
        42,
    ),
    (
        "Leila",
        "Farahani",
        "female",
        "woman",
        "hypopigmentation",
        "Piebaldism patch on the forehead",
        "IV",
        23,
    ),
    (
        "Margaret",
        "Hughes",
        "female",
        "woman",
        "sun_damage",
        "Photoageing of the face and hands, Glogau III",
        "I",
        62,
    ),
    (
        "Peter",
        "Van Dijk",
        "male",
        "man",
        "sun_damage",
        "Sun damage with dyschromia on the forehead and scalp",
        "II",
        58,
    ),
    (
        "Rosa",
        "Esposito",
        "female",
        "woman",
        "sun_damage",
        "Solar lentigines and fine lines on the décolletage",
        "III",
        54,
    ),
    (
        "Alex",
        "Morgan",
        "intersex",
        "non-binary",
        "sun_damage",
        "Weathered skin on the neck, outdoor work",
        "II",
        49,
    ),
    (
        "Helen",
        "Carter",
        "female",
        "woman",
        "premature_ageing",
        "Moderate nasolabial folds, WSRS 3 both sides",
        "II",
        46,
    ),
    (
        "Yusuf",
        "Demir",
        "male",
        "man",
        "premature_ageing",
        "Severe nasolabial folds, WSRS 4, wants natural result",
        "III",
        51,
    ),
    (
        "Ingrid",
        "Larsen",
        "female",
        "woman",
        "premature_ageing",
        "Fine lines and loss of elasticity around the eyes",
        "I",
        44,
    ),
    (
        "Mei",
        "Lin",
        "female",
        "woman",
        "premature_ageing",
        "Nasolabial folds, moderate, after weight loss",
        "IV",
        40,
    ),
    (
        "Joseph",
        "Mensah",
        "male",
        "man",
        "scar",
        "Keloid history on the chest; enquiring about a facial scar",
        "VI",
        37,
    ),
    (
        "Anna",
        "Schmidt",
        "female",
        "woman",
        "burn",
        "Healed partial-thickness burn to the foot, pigment change",
        "II",
        19,
    ),
    ("Diego", "Alvarez", "male", "man", "wound", "Pressure injury on the heel, 10 weeks", "IV", 78),
)

_HISTORY_CHOICES = (
    [],
    [],
    [],
    ["bleeding_disorder_or_anticoagulants"],
    ["herpes_labialis"],
    ["keloid_history"],
    ["immunosuppressed"],
)
_ALLERGY_CHOICES = ([], [], [], [], ["antibiotic"], ["anaesthetic"], ["animal_material"], ["antiseptic"])


def _phone(rng: random.Random) -> str:
    return f"07{rng.randint(100, 999)} {rng.randint(100000, 999999)}"


def demo_present() -> bool:
    return Site.objects.filter(code__in=["NCL", "RSC", "LAB"]).exists()


@transaction.atomic
def demo_create(progress: Callable[[str], None] = lambda _msg: None) -> dict:
    """Create the demo data. Deterministic: the same run gives the same people."""
    rng = random.Random(20261125)  # noqa: S311 - demo data, not security
    lab = site_create(
        code="LAB",
        name="Central Cell Lab",
        kind=Site.Kind.LAB,
        address="Unit 4, Science Park, Cambridge CB4 0WS",
        phone="01223 555 0100",
        email="central.cell.lab@example.org",
    )
    north = site_create(
        code="NCL",
        name="North Clinic",
        kind=Site.Kind.CLINIC,
        lab=lab,
        address="12 Harbour Street, Leeds LS1 4AB",
        phone="0113 555 0101",
        email="north.clinic@example.org",
    )
    river = site_create(
        code="RSC",
        name="Riverside Clinic",
        kind=Site.Kind.CLINIC,
        lab=lab,
        address="3 Quayside, Bristol BS1 5TX",
        phone="0117 555 0102",
        email="riverside.clinic@example.org",
    )
    sites = {"LAB": lab, "NCL": north, "RSC": river}
    progress("sites: North Clinic (NCL), Riverside Clinic (RSC), Central Cell Lab (LAB)")

    users: dict[str, User] = {}
    for spec in DEMO_USERS:
        kind = User.Kind.PATIENT if spec.role is None else User.Kind.STAFF
        user = user_create(
            username=spec.username,
            password=DEMO_PASSWORD,
            first_name=spec.first,
            last_name=spec.last,
            email=f"{spec.username}@example.org",
            kind=kind,
            site=sites[spec.site or "NCL"],
        )
        if spec.role:
            membership_grant(user=user, site=sites[spec.site], role=spec.role)
        users[spec.username] = user
    progress(f"users: {len(users)} (one per role, and a patient portal account)")

    today = timezone.localdate()
    created = []
    for index, (given, family, sex, gender, concern, details, skin, age) in enumerate(_PATIENTS):
        site = north if index % 3 != 2 else river
        actor = users["practitioner"] if site is north else users["practitioner2"]
        born = today.replace(year=today.year - age) - timedelta(days=rng.randint(20, 340))
        history = list(rng.choice(_HISTORY_CHOICES))
        if concern == "scar" and "Keloid" in details:
            history = ["keloid_history"]
        patient = patient_create(
            site=site,
            actor=actor,
            data={
                "given_name": given,
                "family_name": family,
                "date_of_birth": born if born.month != 2 or born.day != 29 else date(born.year, 2, 28),
                "sex_at_birth": sex,
                "gender_identity": gender,
                "email": f"{given}.{family}".lower().replace(" ", "") + "@example.org",
                "phone": _phone(rng),
                "postcode": rng.choice(["LS1 4AB", "LS6 2QT", "BS1 5TX", "BS8 1TH", "HG1 2RE", "BA1 1LZ"]),
                "fitzpatrick_type": skin,
                "presenting_concern": concern,
                "concern_details": details,
                "history": history,
                "allergies": list(rng.choice(_ALLERGY_CHOICES)),
            },
        )
        created.append(patient)
        if index % 5 == 0:
            signature_create(
                signer=actor,
                password=DEMO_PASSWORD,
                meaning="reviewed",
                object_type="patient",
                object_id=patient.pk,
                site=site,
                patient_id=patient.pk,
                record={
                    "mrn": patient.mrn,
                    "history": patient.history,
                    "allergies": patient.allergies,
                    "history_notes": patient.history_notes,
                    "allergy_notes": patient.allergy_notes,
                },
                statement="Relevant history and allergies reviewed",
            )
        if (index + 1) % 10 == 0:
            progress(f"patients: {index + 1} of {len(_PATIENTS)}")
    patient_link_portal_user(patient=created[0], user=users["patient"], actor=users["practitioner"])
    progress(
        f"patients: {len(created)} over all seven indications; portal account linked to {created[0].mrn}"
    )
    pathway = demo_pathway(sites, users, created, DEMO_PASSWORD, progress)
    lab_demo = demo_lab(sites, users, created, DEMO_PASSWORD, progress)
    return {"sites": sites, "users": users, "patients": created, **pathway, "lab": lab_demo}

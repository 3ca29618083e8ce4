"""One patient's pathway, built through the real services: the same sequence for the tests and the demo.

`at_stage("planned")` gives a patient with signed consent and a plan, in one line; every row on the way
is validated, signed with the signer's password and audited, exactly as a person using the app leaves it.
The stages, in order:

    assessed           a public self-assessment
    enquired           a request for a consultation at the clinic, with the assessment attached
    registered         the enquirer registered as a patient (skipped when a patient is given)
    consultation_open  the consultation under way: findings, the rules re-run, expectations discussed
    decided            the decision signed (proceed with a therapy, unless told otherwise)
    consent_prepared   the consent document generated from the therapy's protocol
    patient_signed     signed by the patient in the portal (or in clinic, witnessed); a young
                       person's with a parent or guardian at the clinic, with their assent
    consent_signed     countersigned by the practitioner, the signed PDF kept
    planned            the treatment plan laid out from the protocol
    withdrawn          consent withdrawn, the plan stopped

Each stage is a plain function of the same name that moves a `Pathway` from the stage before to its
own; `advance` runs them in order and gives each the options it takes, and `at_stage` starts a new
pathway first. Users the builder makes get PASSWORD (default: the demo password); given users must
have the `password=` given, because every signature asks for it again. `public_answers` and
`room_answers` are the candidacy answers the stages use, for tests that call the services themselves.
"""

import inspect
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageDraw

from cellclinic.accounts.models import Site, User
from cellclinic.accounts.roles import Role
from cellclinic.accounts.services import site_create, staff_member_create
from cellclinic.candidacy.engine import CONDITION_KEYS, FITNESS_KEY, HEALTH_KEYS
from cellclinic.candidacy.models import Assessment, Enquiry
from cellclinic.candidacy.services import (
    assessment_run,
    chart_answers,
    enquiry_create,
    enquiry_patient_prefill,
    enquiry_register_patient,
    enquiry_status_set,
)
from cellclinic.catalogue.registry import get_catalogue
from cellclinic.catalogue.schema import Therapy
from cellclinic.catalogue.vocabulary import INDICATIONS
from cellclinic.consents.models import Consent
from cellclinic.consents.services import (
    consent_countersign,
    consent_patient_sign,
    consent_prepare,
    consent_sign_in_clinic,
    consent_sign_with_guardian,
    consent_withdraw,
)
from cellclinic.consultations.models import Consultation
from cellclinic.consultations.selectors import consultation_earlier_answers
from cellclinic.consultations.services import (
    consultation_alternatives_set,
    consultation_assessment_run,
    consultation_decide,
    consultation_expectations_discussed,
    consultation_start,
    consultation_update,
    therapies_for_indication,
)
from cellclinic.consultations.severity import F_VASI, SCALES, T_VASI
from cellclinic.patients.models import Patient
from cellclinic.patients.services import patient_portal_account_create
from cellclinic.photos.models import Photo
from cellclinic.photos.services import photo_upload
from cellclinic.treatment.models import TreatmentPlan
from cellclinic.treatment.services import plan_create, plan_therapy

DEFAULT_THERAPY = "autologous_fibroblast_injection"
DEFAULT_AGE = 34
DEFAULT_NAME = "Robin Ashby"
DEFAULT_GOALS = "Healthier-looking skin where it bothers me."
DEFAULT_WITHDRAWAL = "The patient has decided not to go ahead for now."
DEFAULT_GUARDIAN = "Sam"  # a young person's parent: this given name and the young person's family name
PLAN_IN_DAYS = 7

# Fit and well, every screening answer "no".
HEALTHY = {key: key == FITNESS_KEY for key in HEALTH_KEYS}
NO_CONDITION = dict.fromkeys(CONDITION_KEYS)
# What a patient with this concern says of it when a test does not say: enough for a clear answer.
CONDITION_BY_CONCERN: dict[str, dict[str, Any]] = {
    "vitiligo": {"patches_diagnosed": True, "vitiligo_stable_months": 24, "vitiligo_treatments_tried": True},
    "hypopigmentation": {"patches_diagnosed": True},
    "scar": {"wound_open": False, "months_since_injury": 24},
    "burn": {"wound_open": True, "wound_infected": False, "months_since_injury": 0},
    "wound": {
        "wound_open": True,
        "wound_infected": False,
        "months_since_injury": 4,
        "weeks_of_wound_care": 10,
        "wound_improving": False,
        "tendon_or_bone_exposed": False,
    },
}

# The severity a practitioner records for each concern when a test does not say: item by item, as on
# the scale, and the burn's or the wound's description.
SEVERITY_BY_CONCERN: dict[str, tuple[str, dict[str, Any]]] = {
    "burn": ("re_epithelialised_pct", {"re_epithelialised_pct": 60}),
    "scar": ("vss", {"vascularity": 1, "pigmentation": 1, "pliability": 2, "height": 1}),
    "wound": ("re_epithelialised_pct", {"re_epithelialised_pct": 25}),
    "vitiligo": ("t_vasi", {}),  # F-VASI for the face; the region of the target area: severity_items_for
    "hypopigmentation": ("vss", {"vascularity": 0, "pigmentation": 1, "pliability": 1, "height": 0}),
    "sun_damage": ("glogau", {"type": 3}),
    "premature_ageing": ("wsrs", {"left": 3, "right": 3}),
}
DESCRIPTION_BY_CONCERN: dict[str, dict[str, Any]] = {
    "burn": {"burn_depth": "partial_thickness_deep", "burn_tbsa_pct": 1.5},
    "wound": {"wound_area_cm2": 12.5, "wound_duration_weeks": 17},
}
VASI_REGION_BY_AREA = {
    "hands": "hands",
    "arms": "upper_limbs",
    "trunk": "trunk",
    "legs": "lower_limbs",
    "feet": "feet",
}
WEEKS_A_MONTH = 30.44 / 7

UNKNOWN_STAGE = "unknown stage {stage!r}; the stages are: {stages}"
BEHIND = "the pathway is already at {current!r}, past {stage!r}"
UNKNOWN_OPTIONS = "no stage up to {stage!r} takes {names}; they take: {accepted}"
PATIENT_GIVEN = "a given patient is already registered: ask for 'registered' or a later stage"
OTHER_SITE = "the patient is registered at {patient_site}, not at {site}"
NO_CLINIC = "{user} holds no practitioner role at a clinic: give site="
NO_THERAPY = "no therapy in the catalogue treats {indication!r}: give therapy="
NO_PORTAL_ACCOUNT = "the patient signed in clinic and has no portal account to withdraw from"
WRONG_STAGE = "{step} builds on a pathway at {expected!r}; this one is at {current!r}"


def _default_password() -> str:
    # data.py loads the demo through pathway.py, which uses this module: read its constant on use.
    from cellclinic.demo.data import DEMO_PASSWORD

    return DEMO_PASSWORD


@dataclass
class Pathway:
    """What one patient's pathway has made so far, who made it, and the stage it has reached."""

    site: Site
    practitioner: User
    password: str
    nurse: User | None = None
    therapy: str | None = None
    stage: str | None = None
    assessment: Assessment | None = None
    enquiry: Enquiry | None = None
    patient: Patient | None = None
    portal_user: User | None = None
    consultation: Consultation | None = None
    photos: list[Photo] = field(default_factory=list)
    consent: Consent | None = None
    plan: TreatmentPlan | None = None

    @property
    def handler(self) -> User:
        """Who handles the request and registers the patient: the nurse, or else the practitioner."""
        return self.nurse or self.practitioner


# Defaults read from the catalogue ---------------------------------------------------------------------


def therapy_for(indication: str | None, code: str | None = None) -> Therapy:
    """The therapy CODE, or else the default one when it treats INDICATION, or else the first that does."""
    catalogue = get_catalogue()
    if code:
        return catalogue.therapies[code]
    default = catalogue.therapies[DEFAULT_THERAPY]
    if not indication or indication in {c.value for c in default.indication_codes}:
        return default
    fitting = therapies_for_indication(indication)
    if not fitting:
        raise ValueError(NO_THERAPY.format(indication=indication))
    return fitting[0]


def area_for(therapy: Therapy, indication: str) -> str:
    """The first body area THERAPY treats INDICATION on ("face" when any area will do)."""
    for item in therapy.indications:
        if item.code.value == indication and item.areas:
            return item.areas[0].value
    return "face"


def default_area(indication: str, therapy: str | None = None) -> str:
    """Where THERAPY (or the one `therapy_for` picks) treats INDICATION; "face" when no therapy does."""
    try:
        return area_for(therapy_for(indication, therapy), indication)
    except ValueError:
        return "face"


def public_answers(
    *,
    concerns: Sequence[str] | None = None,
    therapy: str | None = None,
    area: str | None = None,
    age: int = DEFAULT_AGE,
    expectation: str = "gradual_improvement",
    condition: dict | None = None,
    health: dict | None = None,
) -> dict[str, Any]:
    """Self-assessment answers as the public form sends them: fit and well unless HEALTH says otherwise.

    A health answer given as None is left out (not answered). CONDITION defaults to what fits the first
    concern; the concern and area default to THERAPY's (or the default therapy's) first indication.
    """
    concerns = list(concerns or [therapy_for(None, therapy).indication_codes[0].value])
    merged = {**HEALTHY, **(health or {})}
    told = CONDITION_BY_CONCERN.get(concerns[0], {}) if condition is None else condition
    return {
        "concerns": concerns,
        "area": area or default_area(concerns[0], therapy),
        "age": age,
        "health": {key: value for key, value in merged.items() if value is not None},
        "condition": {**NO_CONDITION, **told},
        "expectation": expectation,
    }


def illustrative_photo(seed: int = 0) -> bytes:
    """A plain illustrative JPEG (not a person): where baseline photographs go."""
    image = Image.new("RGB", (640, 480), (222, 196, 178))
    draw = ImageDraw.Draw(image)
    for ring in range(6):
        inset = 40 + ring * 28 + seed * 3
        shade = 240 - ring * 6
        draw.ellipse((inset + 80, inset, 560 - inset, 480 - inset), fill=(shade, shade - 18, shade - 30))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def birth_date(age: int, today: date | None = None) -> date:
    """A date of birth that makes someone AGE today (the first of this month, AGE years ago)."""
    today = today or timezone.localdate()
    return today.replace(year=today.year - age, day=1)


# Starting ---------------------------------------------------------------------------------------------


def _free(exists: Callable[[str], bool], base: str) -> str:
    candidate, number = base, 1
    while exists(candidate):
        number += 1
        candidate = f"{base}{number}"
    return candidate


def _new_clinic() -> Site:
    """A clinic with its own lab, under codes nobody uses yet."""

    def taken(code: str) -> bool:
        return Site.objects.filter(code=code).exists()

    lab = site_create(code=_free(taken, "PWL"), name="Pathway Cell Lab", kind=Site.Kind.LAB)
    return site_create(code=_free(taken, "PWC"), name="Pathway Clinic", kind=Site.Kind.CLINIC, lab=lab)


def _new_practitioner(site: Site, password: str) -> User:
    username = _free(lambda name: User.objects.filter(username__iexact=name).exists(), "pathway.practitioner")
    return staff_member_create(
        username=username,
        password=password,
        first_name="Iris",
        last_name="Marsh",
        email=f"{username}@example.org",
        site=site,
        role=Role.PRACTITIONER,
        actor=None,
    )


def _clinic_of(practitioner: User) -> Site:
    site = (
        Site.objects.filter(
            kind=Site.Kind.CLINIC, memberships__user=practitioner, memberships__role=Role.PRACTITIONER
        )
        .order_by("pk")
        .first()
    )
    if site is None:
        raise ValueError(NO_CLINIC.format(user=practitioner.username))
    return site


def start(
    *,
    patient: Patient | None = None,
    practitioner: User | None = None,
    site: Site | None = None,
    password: str | None = None,
    nurse: User | None = None,
    therapy: str | None = None,
) -> Pathway:
    """A pathway with nothing made yet, or at 'registered' when PATIENT is given.

    The site is the patient's, else the practitioner's clinic, else a new clinic and lab; without a
    PRACTITIONER a new one is made there with PASSWORD. THERAPY is the one a decision proceeds with.
    """
    password = password or _default_password()
    if patient is not None:
        if site is not None and site.pk != patient.site_id:
            raise ValueError(OTHER_SITE.format(patient_site=patient.site.code, site=site.code))
        site = patient.site
    if site is None:
        site = _clinic_of(practitioner) if practitioner is not None else _new_clinic()
    if practitioner is None:
        practitioner = _new_practitioner(site, password)
    pathway = Pathway(site=site, practitioner=practitioner, password=password, nurse=nurse, therapy=therapy)
    if patient is not None:
        pathway.patient = patient
        pathway.portal_user = patient.portal_user
        pathway.stage = "registered"
    return pathway


def _expect(pathway: Pathway, step: str) -> None:
    index = STAGES.index(step)
    expected = STAGES[index - 1] if index else None
    if pathway.stage != expected:
        raise ValueError(WRONG_STAGE.format(step=step, expected=expected, current=pathway.stage))


# The stages -------------------------------------------------------------------------------------------


def assessed(
    pathway: Pathway,
    *,
    answers: dict | None = None,
    concerns: Sequence[str] | None = None,
    area: str | None = None,
    age: int = DEFAULT_AGE,
    expectation: str | None = None,
    condition: dict | None = None,
    health: dict | None = None,
) -> Pathway:
    """A public self-assessment: ANSWERS as given, or else `public_answers` of the other options."""
    _expect(pathway, "assessed")
    if answers is None:
        answers = public_answers(
            concerns=concerns,
            therapy=pathway.therapy,
            area=area,
            age=age,
            expectation=expectation or "gradual_improvement",
            condition=condition,
            health=health,
        )
    pathway.assessment = assessment_run(answers=answers, source=Assessment.Source.PUBLIC)
    pathway.stage = "assessed"
    return pathway


def enquired(
    pathway: Pathway,
    *,
    enquiry_data: dict | None = None,
    enquiry_status: str = Enquiry.Status.NEW,
    enquiry_notes: str = "",
) -> Pathway:
    """A request for a consultation at the pathway's clinic; moved on to ENQUIRY_STATUS by the handler."""
    _expect(pathway, "enquired")
    name = (enquiry_data or {}).get("name", DEFAULT_NAME)
    data = {
        "name": name,
        "email": ".".join(name.lower().split()) + "@example.org",
        "consent_to_contact": True,
        **(enquiry_data or {}),
        "site": pathway.site,
    }
    enquiry = enquiry_create(assessment=pathway.assessment, data=data)
    if enquiry_status != Enquiry.Status.NEW or enquiry_notes:
        enquiry = enquiry_status_set(
            enquiry=enquiry, actor=pathway.handler, status=enquiry_status, notes=enquiry_notes
        )
    pathway.enquiry = enquiry
    pathway.stage = "enquired"
    return pathway


def registered(pathway: Pathway, *, patient_data: dict | None = None) -> Pathway:
    """The enquirer registered as a patient by the handler, from the request's prefill and PATIENT_DATA."""
    _expect(pathway, "registered")
    enquiry = pathway.enquiry
    age = (enquiry.assessment.answers.get("age") if enquiry.assessment else None) or DEFAULT_AGE
    prefill = {key: value for key, value in enquiry_patient_prefill(enquiry).items() if value not in ("", [])}
    data = {"date_of_birth": birth_date(age), "fitzpatrick_type": "III", **prefill, **(patient_data or {})}
    pathway.patient = enquiry_register_patient(enquiry=enquiry, actor=pathway.handler, data=data)
    if pathway.assessment is not None:
        pathway.assessment.refresh_from_db(fields=["patient"])
    pathway.stage = "registered"
    return pathway


def room_answers(
    consultation: Consultation,
    *,
    therapy: str | None = None,
    area: str | None = None,
    expectation: str | None = None,
    condition: dict | None = None,
    health: dict | None = None,
) -> dict:
    """The candidacy answers as the consultation room has them: prefilled from the chart and the
    patient's own self-assessment, with HEALTH as answered in the room over them; whatever is still
    open was asked in the room too (fit, and "no"). AREA and CONDITION default to the patient's own
    answers, else to what suits THERAPY (or the one `therapy_for` picks) for the indication."""
    earlier = consultation_earlier_answers(consultation)
    indication = consultation.indication
    if condition is None:
        said = {key for key, value in (earlier.get("condition") or {}).items() if value is not None}
        condition = {k: v for k, v in CONDITION_BY_CONCERN.get(indication, {}).items() if k not in said}
    answers = chart_answers(
        consultation.patient,
        concerns=[indication] if indication else [],
        area=area or earlier.get("area") or default_area(indication, therapy),
        expectation=expectation or earlier.get("expectation") or "gradual_improvement",
        condition=condition,
        earlier=earlier,
    )
    told = {**answers["health"], **(health or {})}
    answers["health"] = {key: (HEALTHY[key] if value is None else value) for key, value in told.items()}
    return answers


def _spread(total: int, items, parts: tuple[str, ...]) -> dict[str, int]:
    """TOTAL spread over PARTS as evenly as their ranges allow (each from its minimum)."""
    scores = {item.key: int(item.minimum) for item in items if item.key in parts}
    room = sum(int(item.maximum) for item in items if item.key in parts) - sum(scores.values())
    left = min(total - sum(scores.values()), room)
    while left > 0:
        for item in items:
            if left and item.key in scores and scores[item.key] < item.maximum:
                scores[item.key] += 1
                left -= 1
    return scores


def severity_items_for(scale_code: str, score: float | None = None, area: str = "") -> dict[str, Any]:
    """Realistic item scores on SCALE_CODE: its usual ones, or, given the SCORE it should come to,
    items that add up to it. VASI's affected region is the target AREA's, at half depigmented."""
    scale = SCALES[scale_code]
    if scale_code in (T_VASI.code, F_VASI.code):
        score = (0.5 if scale is F_VASI else 1.5) if score is None else score
        region = "face" if scale is F_VASI else VASI_REGION_BY_AREA.get(area, "hands")
        level = 50 if score * 2 <= (3 if scale is F_VASI else 100) else 100
        items = {item.key: 0 for item in scale.items}
        items.update({f"{region}_hu": score * 100 / level, f"{region}_depigmentation": level})
        return items
    usual = next((items for code, items in SEVERITY_BY_CONCERN.values() if code == scale_code), None)
    if score is None and usual:
        return dict(usual)
    if len(scale.items) == 1:
        item = scale.items[0]
        return {item.key: int((item.minimum + item.maximum) / 2) if score is None else score}
    if not scale.totals:  # scored per side: both sides alike
        return {item.key: int(score or item.minimum) for item in scale.items}
    items: dict[str, Any] = {}
    for total in scale.totals:
        target = int(total.minimum + (total.maximum - total.minimum) / 3) if score is None else int(score)
        items.update(_spread(target, scale.items, total.parts))
        score = None  # the score given is the first total's; the others take a usual value
    for item in scale.items:  # recorded beside the totals (POSAS's overall opinion): the items' mean
        if item.key not in items:
            side = [v for k, v in items.items() if k.split("_")[0] == item.key.split("_")[0]]
            items[item.key] = round(sum(side) / len(side)) if side else int(item.minimum)
    return items


def consultation_open(
    pathway: Pathway,
    *,
    ready: bool = True,
    goals: str = DEFAULT_GOALS,
    target_areas: Sequence[str] | None = None,
    indication: str | None = None,
    severity_scale: str = "",
    severity_score: float | None = None,
    severity_items: dict | None = None,
    description: dict | None = None,
    findings: str | None = None,
    area: str | None = None,
    expectation: str | None = None,
    condition: dict | None = None,
    room_health: dict | None = None,
    alternatives: Sequence[str] = (),
    photos: Sequence[str] = (),
) -> Pathway:
    """The consultation started (from the request, when there is one) and, unless READY is False,
    filled in as the practitioner would: goals and findings, the candidacy rules re-run on the room's
    answers (ROOM_HEALTH over the chart's), the expectation sheet discussed, ALTERNATIVES discussed and
    baseline PHOTOS in those views.

    The findings score every item of SEVERITY_SCALE: SEVERITY_ITEMS, or items that come to
    SEVERITY_SCORE, or the concern's usual ones (SEVERITY_BY_CONCERN). A burn or a wound is described
    too: DESCRIPTION over the concern's usual one, a wound's weeks from the months since injury of
    CONDITION."""
    _expect(pathway, "consultation_open")
    patient, actor = pathway.patient, pathway.practitioner
    enquiry = pathway.enquiry if pathway.enquiry is not None and pathway.enquiry.patient_id else None
    consultation = consultation_start(patient=patient, actor=actor, enquiry=enquiry)
    if ready:
        indication = indication or patient.presenting_concern
        earlier = consultation_earlier_answers(consultation)
        area = area or earlier.get("area") or default_area(indication, pathway.therapy)
        areas = list(target_areas or [area])
        if findings is None:
            findings = f"{INDICATIONS.get(indication, 'Skin')}, examined."
        consultation = consultation_update(
            consultation=consultation,
            actor=actor,
            data={
                "goals": goals,
                "target_areas": areas,
                "indication": indication,
                **_findings_severity(indication, severity_scale, severity_score, severity_items, area),
                **_description(indication, description, condition),
                "fitzpatrick_type": patient.fitzpatrick_type,
                "findings": findings,
            },
        )
        answers = room_answers(
            consultation,
            therapy=pathway.therapy,
            area=area,
            expectation=expectation,
            condition=condition,
            health=room_health,
        )
        consultation_assessment_run(consultation=consultation, actor=actor, answers=answers)
        consultation = consultation_expectations_discussed(consultation=consultation, actor=actor)
        if alternatives:
            consultation = consultation_alternatives_set(
                consultation=consultation, actor=actor, codes=list(alternatives)
            )
        for index, view in enumerate(photos):
            pathway.photos.append(
                photo_upload(
                    consultation=consultation,
                    actor=actor,
                    data=illustrative_photo(index),
                    view=view,
                    area=", ".join(areas),
                    taken_on=timezone.localdate(),
                )
            )
    pathway.consultation = Consultation.objects.get(pk=consultation.pk)
    pathway.stage = "consultation_open"
    return pathway


def _findings_severity(indication, scale: str, score, items: dict | None, area: str) -> dict[str, Any]:
    """The scale and every item score the findings record: ITEMS, or items that come to SCORE, or the
    concern's usual ones. A code that is no scale goes to the service as it is, to be refused there."""
    if not scale:
        scale = SEVERITY_BY_CONCERN.get(indication, ("", {}))[0]
        if scale == T_VASI.code and area == "face":
            scale = F_VASI.code  # vitiligo of the face is scored on F-VASI
    if not scale:
        return {}
    if items is None and scale in SCALES:
        items = severity_items_for(scale, score, area)
    if items is None:
        return {"severity_scale": scale, "severity_score": score}
    return {"severity_scale": scale, "severity_items": items}


def _description(indication, given: dict | None, condition: dict | None) -> dict[str, Any]:
    """A burn's depth and area, or a wound's area and weeks open: GIVEN over the concern's usual one."""
    usual = dict(DESCRIPTION_BY_CONCERN.get(indication, {}))
    said = CONDITION_BY_CONCERN.get(indication, {}) if condition is None else condition
    months = said.get("months_since_injury")
    if indication == "wound" and months is not None:
        usual["wound_duration_weeks"] = round(months * WEEKS_A_MONTH)
    return {**usual, **(given or {})}


def decided(
    pathway: Pathway,
    *,
    decision: str = Consultation.Decision.PROCEED,
    therapy: str | None = None,
    alternative: str = "",
    decision_notes: str = "",
) -> Pathway:
    """The practitioner signs the DECISION: to proceed with THERAPY (the pathway's, or else the default
    for the indication), or an ALTERNATIVE, a decline or a referral with DECISION_NOTES."""
    _expect(pathway, "decided")
    consultation = pathway.consultation
    code = ""
    if decision == Consultation.Decision.PROCEED:
        code = therapy_for(consultation.indication, therapy or pathway.therapy).code
    pathway.consultation = consultation_decide(
        consultation=consultation,
        actor=pathway.practitioner,
        password=pathway.password,
        decision=decision,
        therapy_code=code,
        alternative_code=alternative,
        notes=decision_notes,
    )
    pathway.stage = "decided"
    return pathway


def consent_prepared(pathway: Pathway) -> Pathway:
    """The consent document generated from the decided therapy's protocol, waiting for the patient."""
    _expect(pathway, "consent_prepared")
    pathway.consent = consent_prepare(consultation=pathway.consultation, actor=pathway.practitioner)
    pathway.stage = "consent_prepared"
    return pathway


def patient_signed(
    pathway: Pathway,
    *,
    in_clinic: bool = False,
    photographs: bool = True,
    outcome_reports: bool = False,
    guardian: str = "",
) -> Pathway:
    """The patient signs with both optional choices: in the portal (a portal account is made with the
    pathway's password when the patient has none), or IN_CLINIC, typed and witnessed by the practitioner.
    A young person's consent is signed at the clinic by a parent, GUARDIAN (default: DEFAULT_GUARDIAN
    and the young person's family name), with the young person's assent, witnessed by the practitioner."""
    _expect(pathway, "patient_signed")
    patient = pathway.patient
    consent = Consent.objects.get(pk=pathway.consent.pk)
    if consent.minor:
        name = guardian or f"{DEFAULT_GUARDIAN} {patient.family_name}"
        pathway.consent = consent_sign_with_guardian(
            consent=consent,
            practitioner=pathway.practitioner,
            password=pathway.password,
            guardian_name=name,
            guardian_relationship=Consent.Relationship.PARENT,
            guardian_signature=name,
            assent=True,
            young_person_name=patient.full_name,
            photographs=photographs,
            outcome_reports=outcome_reports,
            understood=True,
        )
    elif in_clinic:
        pathway.consent = consent_sign_in_clinic(
            consent=consent,
            practitioner=pathway.practitioner,
            password=pathway.password,
            typed_name=patient.full_name,
            photographs=photographs,
            outcome_reports=outcome_reports,
            understood=True,
        )
    else:
        if patient.portal_user_id is None:
            patient_portal_account_create(
                patient=patient, username="", password=pathway.password, actor=pathway.practitioner
            )
        pathway.portal_user = patient.portal_user
        pathway.consent = consent_patient_sign(
            consent=consent,
            signer=pathway.portal_user,
            password=pathway.password,
            photographs=photographs,
            outcome_reports=outcome_reports,
            understood=True,
        )
    pathway.stage = "patient_signed"
    return pathway


def consent_signed(pathway: Pathway) -> Pathway:
    """The practitioner countersigns: the consent is in force and its signed PDF is kept."""
    _expect(pathway, "consent_signed")
    pathway.consent = consent_countersign(
        consent=pathway.consent, practitioner=pathway.practitioner, password=pathway.password
    )
    pathway.stage = "consent_signed"
    return pathway


def planned(pathway: Pathway, *, today: date | None = None, in_days: int = PLAN_IN_DAYS) -> Pathway:
    """The plan laid out from the protocol: the harvest (for a donor product, the first treatment)
    IN_DAYS after TODAY (default: the local date)."""
    _expect(pathway, "planned")
    day = (today or timezone.localdate()) + timedelta(days=in_days)
    autologous = plan_therapy(pathway.consultation, pathway.consent).autologous
    pathway.plan = plan_create(
        consultation=pathway.consultation,
        actor=pathway.practitioner,
        harvest_date=day if autologous else None,
        start_date=None if autologous else day,
    )
    pathway.stage = "planned"
    return pathway


def withdrawn(pathway: Pathway, *, reason: str = "", by_patient: bool = False) -> Pathway:
    """Consent withdrawn, which stops the plan: by the practitioner with a REASON, or BY_PATIENT in the
    portal with their password."""
    _expect(pathway, "withdrawn")
    if by_patient and pathway.portal_user is None:
        raise ValueError(NO_PORTAL_ACCOUNT)
    if by_patient:
        pathway.consent = consent_withdraw(
            consent=pathway.consent, actor=pathway.portal_user, reason=reason, password=pathway.password
        )
    else:
        pathway.consent = consent_withdraw(
            consent=pathway.consent, actor=pathway.practitioner, reason=reason or DEFAULT_WITHDRAWAL
        )
    pathway.plan.refresh_from_db()
    pathway.stage = "withdrawn"
    return pathway


STEPS: dict[str, Callable[..., Pathway]] = {
    "assessed": assessed,
    "enquired": enquired,
    "registered": registered,
    "consultation_open": consultation_open,
    "decided": decided,
    "consent_prepared": consent_prepared,
    "patient_signed": patient_signed,
    "consent_signed": consent_signed,
    "planned": planned,
    "withdrawn": withdrawn,
}
STAGES = tuple(STEPS)


def _options_of(step: Callable[..., Pathway]) -> set[str]:
    parameters = inspect.signature(step).parameters.values()
    return {p.name for p in parameters if p.kind is inspect.Parameter.KEYWORD_ONLY}


def _index(stage: str) -> int:
    if stage not in STAGES:
        raise ValueError(UNKNOWN_STAGE.format(stage=stage, stages=", ".join(STAGES)))
    return STAGES.index(stage)


@transaction.atomic
def advance(pathway: Pathway, stage: str, **options) -> Pathway:
    """Move PATHWAY through each stage after its own up to STAGE; each stage takes the OPTIONS it names.

    All or nothing: a stage that refuses (InvalidInput, Forbidden) leaves no row of this call behind.
    """
    target = _index(stage)
    current = -1 if pathway.stage is None else _index(pathway.stage)
    if target < current:
        raise ValueError(BEHIND.format(current=pathway.stage, stage=stage))
    steps = [STEPS[name] for name in STAGES[current + 1 : target + 1]]
    accepted = set().union(*(_options_of(step) for step in steps))
    unknown = set(options) - accepted
    if unknown:
        raise TypeError(
            UNKNOWN_OPTIONS.format(
                stage=stage, names=", ".join(sorted(unknown)), accepted=", ".join(sorted(accepted)) or "none"
            )
        )
    for step in steps:
        takes = _options_of(step)
        step(pathway, **{name: value for name, value in options.items() if name in takes})
    return pathway


def at_stage(
    stage: str,
    *,
    patient: Patient | None = None,
    practitioner: User | None = None,
    site: Site | None = None,
    password: str | None = None,
    nurse: User | None = None,
    therapy: str | None = None,
    **options,
) -> Pathway:
    """A new pathway built up to STAGE; see `start` for who and where, and each stage for its OPTIONS.

    With PATIENT, the pathway starts at 'registered' (no self-assessment or request is made).
    """
    if patient is not None and _index(stage) < _index("registered"):
        raise ValueError(PATIENT_GIVEN)
    with transaction.atomic():
        pathway = start(
            patient=patient,
            practitioner=practitioner,
            site=site,
            password=password,
            nurse=nurse,
            therapy=therapy,
        )
        return advance(pathway, stage, **options)

"""Writes for candidacy: assessments run and stored, consultation requests and their handling; audited."""

from datetime import date
from functools import cache
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from cellclinic.accounts.access import has_permission
from cellclinic.accounts.models import Site, User
from cellclinic.accounts.roles import Permission
from cellclinic.audit.models import Signature
from cellclinic.audit.services import audit_record, record_hash, state_change
from cellclinic.candidacy.answers import answers_check
from cellclinic.candidacy.engine import CONDITION_KEYS, HEALTH_KEYS, RuleSet, evaluate, ruleset_load
from cellclinic.candidacy.models import Assessment, Enquiry
from cellclinic.candidacy.states import ENQUIRY_STATES
from cellclinic.catalogue.registry import get_catalogue
from cellclinic.catalogue.vocabulary import ALLERGY_CODES, HISTORY_CODES
from cellclinic.core.errors import FieldError, Forbidden, InvalidInput
from cellclinic.notifications.services import notify
from cellclinic.patients.models import Patient
from cellclinic.patients.services import patient_create, patient_review_record

# A practitioner's "reviewed" signature over the history makes the checklist complete: absent = no.
HEALTH_FROM_CHART = {
    "pregnant_or_breastfeeding": "pregnant_or_breastfeeding",
    "active_skin_infection": "active_skin_infection",
    "immunosuppressed": "immunosuppressed",
    "bleeding_disorder_or_anticoagulants": "bleeding_disorder_or_anticoagulants",
    "keloid_history": "keloid_history",
    "skin_cancer_at_site": "skin_cancer_or_malignancy",
    "collagen_disorder": "collagen_disorder",
    "cold_sores": "herpes_labialis",
    "anaesthetic_allergy": "anaesthetic",
}
COMPONENT_ALLERGIES = ("antiseptic", "antibiotic", "dmso", "animal_material", "trypsin")

CANNOT_HANDLE = "You cannot handle consultation requests at this clinic."
CONTACT_NEEDED = "give an email address or a phone number, so the clinic can reach you"
CONSENT_NEEDED = "the clinic can only contact you if you agree to it"
NOT_A_CLINIC = "choose one of our clinics"
ALREADY_REGISTERED = "this request is already linked to a patient"
NOTE_MAX = 2000


@cache
def get_ruleset() -> RuleSet:
    """The general rules shipped in rules.toml, read once per process."""
    return ruleset_load()


@transaction.atomic
def assessment_run(
    *, answers: dict, source: str, patient: Patient | None = None, actor: User | None = None
) -> Assessment:
    """Check ANSWERS, run the rules and store the explained result; InvalidInput changes nothing.

    A practitioner's run (source "practitioner") belongs to a patient and may carry the chart's
    detailed "allergies"; a public run has neither.
    """
    if source not in Assessment.Source.values:
        raise InvalidInput.single("source", f"must be one of {', '.join(Assessment.Source.values)}")
    practitioner = source == Assessment.Source.PRACTITIONER
    if practitioner and (patient is None or actor is None):
        raise InvalidInput.single(
            "patient", "a practitioner's assessment is made for a patient, by a practitioner"
        )
    stored, parsed = answers_check(answers, detailed_allergies=practitioner)
    result = evaluate(parsed, get_catalogue(), get_ruleset()).as_dict()
    assessment = Assessment.objects.create(
        source=source,
        answers=stored,
        result=result,
        outcome=result["outcome"],
        ruleset=result["ruleset"],
        patient=patient,
        created_by=actor,
    )
    audit_record(
        actor=actor,
        action="assessment.create",
        object_type="assessment",
        object_id=assessment.pk,
        site=patient.site if patient is not None else None,
        patient_id=patient.pk if patient is not None else None,
        after={
            "public_id": str(assessment.public_id),
            "source": source,
            "outcome": assessment.outcome,
            "ruleset": assessment.ruleset,
        },
    )
    return assessment


def age_on(born: date, today: date) -> int:
    """Whole years between BORN and TODAY."""
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def history_reviewed(patient: Patient) -> bool:
    """True when a practitioner's 'reviewed' signature covers the history as it now stands."""
    current = record_hash(patient_review_record(patient))
    return Signature.objects.filter(
        object_type="patient",
        object_id=str(patient.pk),
        meaning=Signature.Meaning.REVIEWED,
        record_hash=current,
    ).exists()


def chart_answers(
    patient: Patient,
    *,
    concerns: list[str],
    area: str,
    expectation: str,
    condition: dict | None = None,
    earlier: dict | None = None,
) -> dict[str, Any]:
    """API-shaped answers prefilled from PATIENT's chart, for a practitioner to check and correct.

    A checklist item on the chart is a "yes". When a signed history review covers the chart as it
    stands, an item not on it is a "no"; otherwise it is left unanswered for the practitioner to ask.
    General fitness is never on the chart. EARLIER, the answers the patient gave in their own
    self-assessment, fills what the chart leaves unanswered (never overriding the chart), and the
    condition details.
    """
    reviewed = history_reviewed(patient)
    absent: bool | None = False if reviewed else None
    codes = set(patient.history) | set(patient.allergies)
    health: dict[str, bool | None] = dict.fromkeys(HEALTH_KEYS)
    for key, code in HEALTH_FROM_CHART.items():
        health[key] = True if code in codes else absent
    health["product_component_allergy"] = True if codes & set(COMPONENT_ALLERGIES) else absent
    earlier = earlier or {}
    for key, value in (earlier.get("health") or {}).items():
        if key in health and health[key] is None and isinstance(value, bool):
            health[key] = value
    earlier_condition = {
        key: value for key, value in (earlier.get("condition") or {}).items() if value is not None
    }
    return {
        "concerns": list(concerns),
        "area": area,
        "age": age_on(patient.date_of_birth, timezone.localdate()),
        "health": health,
        "condition": {
            **dict.fromkeys(CONDITION_KEYS),
            **earlier_condition,
            **(condition or {}),
        },
        "expectation": expectation,
        "allergies": [code for code in ALLERGY_CODES if code in set(patient.allergies)],
    }


def _clean(value: Any, limit: int) -> str:
    return value.strip()[:limit] if isinstance(value, str) else ""


@transaction.atomic
def enquiry_create(*, assessment: Assessment | None, data: dict[str, Any]) -> Enquiry:
    """A request for a consultation, on the chosen clinic's worklist (status new); audited, no actor."""
    errors: list[FieldError] = []
    site = data.get("site")
    if not isinstance(site, Site) or site.kind != Site.Kind.CLINIC:
        errors.append(FieldError("site", NOT_A_CLINIC))
    name = _clean(data.get("name"), 200)
    if not name:
        errors.append(FieldError("name", "tell us your name"))
    email = _clean(data.get("email"), 254)
    phone = _clean(data.get("phone"), 40)
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors.append(FieldError("email", "enter a valid email address"))
    if not email and not phone:
        errors.append(FieldError("email", CONTACT_NEEDED))
    if data.get("consent_to_contact") is not True:
        errors.append(FieldError("consent_to_contact", CONSENT_NEEDED))
    if errors:
        raise InvalidInput(detail="The request was not sent; please check the fields marked.", errors=errors)
    enquiry = Enquiry.objects.create(
        site=site,
        assessment=assessment,
        name=name,
        email=email,
        phone=phone,
        preferred_times=_clean(data.get("preferred_times"), 300),
        message=_clean(data.get("message"), 4000),
        consent_to_contact=True,
    )
    audit_record(
        actor=None,
        action="enquiry.create",
        object_type="enquiry",
        object_id=enquiry.pk,
        site=site,
        after={
            "status": enquiry.status,
            "assessment": str(assessment.public_id) if assessment is not None else None,
            "consent_to_contact": True,
        },
    )
    notify(
        kind="enquiry.received",
        template="candidacy/notifications/request_received",
        site=site,
        email=email,
        context={"name": name},
        object_type="enquiry",
        object_id=enquiry.pk,
    )
    return enquiry


def enquiry_check_status_set(*, enquiry: Enquiry, actor: User, status: str, notes: str) -> str:
    """Raise Forbidden or InvalidInput unless ACTOR may set STATUS with NOTES; the notes, trimmed.

    Whether the enquiry may move to STATUS is checked against ENQUIRY_STATES on the locked row.
    """
    if not has_permission(actor, Permission.ENQUIRY_HANDLE, enquiry.site_id):
        raise Forbidden(CANNOT_HANDLE)
    if status not in Enquiry.Status.values:
        raise InvalidInput.single("status", f"must be one of {', '.join(Enquiry.Status.values)}")
    notes = notes.strip() if isinstance(notes, str) else ""
    if len(notes) > NOTE_MAX:
        raise InvalidInput.single("notes", f"at most {NOTE_MAX} characters")
    return notes


@transaction.atomic
def enquiry_status_set(*, enquiry: Enquiry, actor: User, status: str, notes: str = "") -> Enquiry:
    """Move ENQUIRY to STATUS (new -> contacted -> booked or closed), adding NOTES as a dated note.

    The same status again only adds the note. The actor must handle requests at the enquiry's clinic.
    """
    notes = enquiry_check_status_set(enquiry=enquiry, actor=actor, status=status, notes=notes)
    locked = Enquiry.objects.select_for_update(of=("self",)).select_related("site").get(pk=enquiry.pk)
    if status == locked.status and not notes:
        return locked
    all_notes = locked.notes
    if notes:
        stamp = timezone.localtime().strftime("%Y-%m-%d %H:%M")
        entry = f"{stamp} {actor.display_name}: {notes}"
        all_notes = f"{all_notes}\n{entry}" if all_notes else entry
    return state_change(
        locked,
        to=status,
        table=ENQUIRY_STATES,
        actor=actor,
        action="enquiry.status",
        fields={"notes": all_notes, "handled_by": actor},
        stay_allowed=True,
    )


def enquiry_patient_prefill(enquiry: Enquiry) -> dict[str, Any]:
    """Patient fields suggested from the request and its answers: names, contact, concern, history."""
    given, _, family = enquiry.name.strip().rpartition(" ")
    if not given:
        given, family = family, ""
    answers = enquiry.assessment.answers if enquiry.assessment is not None else {}
    health = answers.get("health") or {}
    concerns = answers.get("concerns") or []
    history = [
        code for key, code in HEALTH_FROM_CHART.items() if health.get(key) is True and code in HISTORY_CODES
    ]
    allergies = [
        code for key, code in HEALTH_FROM_CHART.items() if health.get(key) is True and code in ALLERGY_CODES
    ]
    details = []
    if len(concerns) > 1:
        details.append("Also asked about: " + ", ".join(concerns[1:]))
    if answers.get("area"):
        details.append(f"Area: {answers['area']}")
    allergy_notes = ""
    if health.get("product_component_allergy") is True:
        allergy_notes = (
            "Reported an allergy to antiseptics, antibiotics, DMSO, trypsin or animal products: ask which."
        )
    return {
        "given_name": given,
        "family_name": family,
        "email": enquiry.email,
        "phone": enquiry.phone,
        "presenting_concern": concerns[0] if concerns else "",
        "concern_details": "\n".join(details),
        "history": [code for code in HISTORY_CODES if code in history],
        "allergies": [code for code in ALLERGY_CODES if code in allergies],
        "allergy_notes": allergy_notes,
    }


@transaction.atomic
def enquiry_register_patient(*, enquiry: Enquiry, actor: User, data: dict[str, Any]) -> Patient:
    """Register the person who asked as a patient at the enquiry's clinic and link the request to them."""
    if not has_permission(actor, Permission.PATIENT_EDIT, enquiry.site_id) or not has_permission(
        actor, Permission.ENQUIRY_HANDLE, enquiry.site_id
    ):
        raise Forbidden(CANNOT_HANDLE)
    locked = (
        Enquiry.objects.select_for_update(of=("self",))
        .select_related("site", "assessment")
        .get(pk=enquiry.pk)
    )
    if locked.patient_id is not None:
        raise InvalidInput.single("patient", ALREADY_REGISTERED)
    patient = patient_create(site=locked.site, actor=actor, data=data)
    locked.patient = patient
    locked.handled_by = actor
    locked.save(update_fields=["patient", "handled_by", "updated_at"])
    if locked.assessment is not None and locked.assessment.patient_id is None:
        Assessment.objects.filter(pk=locked.assessment.pk).update(patient=patient)
    audit_record(
        actor=actor,
        action="enquiry.register",
        object_type="enquiry",
        object_id=locked.pk,
        site=locked.site,
        patient_id=patient.pk,
        after={
            "patient": patient.pk,
            "mrn": patient.mrn,
            "assessment": str(locked.assessment.public_id) if locked.assessment is not None else None,
        },
    )
    enquiry.patient = patient
    return patient

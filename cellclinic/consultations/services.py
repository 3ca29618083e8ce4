"""Writes for consultations: validated, in one transaction, audited.

Each change writes one audit event. Bad input raises InvalidInput naming the field before anything is
written; a wrong password at signing is refused by signature_create before the record changes.
"""

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.db import transaction

from cellclinic.accounts.access import require_permission_at
from cellclinic.accounts.models import User
from cellclinic.accounts.roles import Permission
from cellclinic.audit.models import Signature
from cellclinic.audit.services import audit_record, changed_fields, signature_create, snapshot, state_change
from cellclinic.catalogue.registry import get_catalogue
from cellclinic.catalogue.vocabulary import FITZPATRICK, INDICATIONS
from cellclinic.consultations import steps
from cellclinic.consultations.models import Consultation
from cellclinic.consultations.severity import (
    DESCRIPTORS,
    LEGACY_SCALES,
    SCALE_LEGACY,
    SCALE_UNKNOWN,
    SCALES,
    SCORE_NEEDS_SCALE,
    SeverityItemsError,
    descriptor_problem,
    descriptor_value,
    is_blank,
    scale_fits,
    scale_problem,
    scales_for,
    score_items,
)
from cellclinic.consultations.states import CONSULTATION_STATES
from cellclinic.core.errors import FieldError, InvalidInput
from cellclinic.patients.models import Patient

GOALS_FIELDS = ("goals", "target_areas")
DESCRIPTOR_FIELDS = tuple(DESCRIPTORS)  # burn_depth, burn_tbsa_pct, wound_area_cm2, wound_duration_weeks
FINDINGS_FIELDS = (
    "indication",
    "severity_scale",
    "severity_items",
    "severity_score",
    *DESCRIPTOR_FIELDS,
    "fitzpatrick_type",
    "findings",
)
EDITABLE_FIELDS = (*GOALS_FIELDS, *FINDINGS_FIELDS)
DECISION_FIELDS = ("decision", "therapy_code", "therapy_version", "alternative_code", "decision_notes")
MAX_TARGET_AREAS = 20
MAX_AREA_LENGTH = 60
MAX_TEXT = 5000

CANNOT_RUN = "Only a practitioner at the patient's clinic can run a consultation."
DECIDED = "The consultation is decided and signed; it cannot be changed."
NOT_A_CLINIC = "consultations take place at a clinic"
ENQUIRY_OTHER_CLINIC = "this enquiry is not on your clinic's worklist"
ENQUIRY_OTHER_PATIENT = "this enquiry belongs to another patient"
NEEDS_ASSESSMENT = "run the candidacy assessment with the practitioner's answers first"
NEEDS_EXPECTATIONS = "discuss the expectation sheet with the patient and record it first"
NEEDS_INDICATION = "record the indication in the findings first"
NEEDS_THERAPY = "choose the therapy to proceed with"
THERAPY_UNKNOWN = "is not a therapy in the catalogue"
THERAPY_WRONG_INDICATION = "this therapy is not for {indication}"
NEEDS_ALTERNATIVE = "choose the alternative treatment"
ALTERNATIVE_UNKNOWN = "is not an alternative in the catalogue for this indication"
NOT_SUITABLE_NEEDS_NOTES = (
    "the candidacy outcome is 'not suitable': say in the notes why you proceed all the same"
)
REFER_NEEDS_NOTES = "say where and why the patient is referred"
ONLY_FOR_PROCEED = "only for a decision to proceed with a cell therapy"
UNKNOWN_FIELD = "is not a consultation field"
ITEMS_NEED_SCALE = "choose the scale these item scores are on"
SCORE_IS_COMPUTED = "is computed from the items of the {label}: give each item in severity_items"
ITEMS_OR_SCORE = "give the item scores in severity_items, not a score as well"
NEEDS_FINDINGS = "record the findings first: notes on the examination or a severity score"


def _locked(consultation: Consultation) -> Consultation:
    locked = (
        Consultation.objects.select_for_update(of=("self",))
        .select_related("site", "patient")
        .get(pk=consultation.pk)
    )
    if locked.status == Consultation.Status.DECIDED:
        raise InvalidInput(detail=DECIDED, errors=[FieldError("status", DECIDED)])
    return locked


def _audit(consultation: Consultation, actor: User, action: str, **kwargs) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type="consultation",
        object_id=consultation.pk,
        site=consultation.site,
        patient_id=consultation.patient_id,
        **kwargs,
    )


def _save_changes(consultation: Consultation, before: dict, actor: User, action: str) -> Consultation:
    after = snapshot(consultation, fields=list(before))
    changed = changed_fields(before, after)
    if changed:
        consultation.save(update_fields=[*changed, "updated_at"])
        _audit(
            consultation,
            actor,
            action,
            before={k: before[k] for k in changed},
            after={k: after[k] for k in changed},
        )
    return consultation


# Consultation ---------------------------------------------------------------------------------------


@transaction.atomic
def consultation_start(*, patient: Patient, actor: User, enquiry=None) -> Consultation:
    """Open a consultation for PATIENT at their clinic, with ACTOR as the practitioner.

    With ENQUIRY (of the same clinic), the enquiry is marked booked.
    """
    require_permission_at(actor, Permission.CONSULTATION_RUN, patient.site_id, CANNOT_RUN)
    if enquiry is not None:
        if enquiry.site_id != patient.site_id:
            raise InvalidInput.single("enquiry", ENQUIRY_OTHER_CLINIC)
        if enquiry.patient_id is not None and enquiry.patient_id != patient.pk:
            raise InvalidInput.single("enquiry", ENQUIRY_OTHER_PATIENT)
    consultation = Consultation.objects.create(
        site_id=patient.site_id,
        patient=patient,
        practitioner=actor,
        enquiry=enquiry,
        indication=patient.presenting_concern,
        fitzpatrick_type=patient.fitzpatrick_type,
    )
    _audit(
        consultation,
        actor,
        "consultation.start",
        after=snapshot(
            consultation, fields=["patient", "practitioner", "enquiry", "indication", "fitzpatrick_type"]
        ),
    )
    if enquiry is not None:
        from cellclinic.candidacy.services import enquiry_status_set

        enquiry_status_set(enquiry=enquiry, actor=actor, status="booked")
    return consultation


def _clean_areas(value: Any, errors: list[FieldError]) -> list[str]:
    if isinstance(value, str):
        value = value.splitlines()
    if not isinstance(value, list | tuple):
        errors.append(FieldError("target_areas", "must be a list of areas"))
        return []
    areas: list[str] = []
    for item in value:
        if not isinstance(item, str):
            errors.append(FieldError("target_areas", "each area must be text"))
            return []
        text = " ".join(item.split())
        if not text:
            continue
        if len(text) > MAX_AREA_LENGTH:
            errors.append(
                FieldError("target_areas", f"each area can have at most {MAX_AREA_LENGTH} characters")
            )
            return []
        if text not in areas:
            areas.append(text)
    if len(areas) > MAX_TARGET_AREAS:
        errors.append(FieldError("target_areas", f"at most {MAX_TARGET_AREAS} areas"))
    return areas


def _validate(consultation: Consultation, data: dict[str, Any]) -> None:
    """Apply DATA to CONSULTATION, raising InvalidInput naming every bad field."""
    errors: list[FieldError] = []
    indication_before = consultation.indication
    unknown = sorted(set(data) - set(EDITABLE_FIELDS))
    errors += [FieldError(name, UNKNOWN_FIELD) for name in unknown]
    for name in ("goals", "findings"):
        if name in data:
            value = data[name]
            if not isinstance(value, str):
                errors.append(FieldError(name, "must be text"))
            elif len(value) > MAX_TEXT:
                errors.append(FieldError(name, f"can have at most {MAX_TEXT} characters"))
            else:
                setattr(consultation, name, value.strip())
    if "target_areas" in data:
        consultation.target_areas = _clean_areas(data["target_areas"], errors)
    if "indication" in data:
        value = data["indication"] or ""
        if value not in INDICATIONS and value != "":
            errors.append(
                FieldError("indication", f"unknown indication; use one of: {', '.join(INDICATIONS)}")
            )
        else:
            consultation.indication = value
    if "fitzpatrick_type" in data:
        value = data["fitzpatrick_type"] or ""
        if value not in FITZPATRICK and value != "":
            errors.append(FieldError("fitzpatrick_type", f"use one of: {', '.join(FITZPATRICK)}"))
        else:
            consultation.fitzpatrick_type = value
    _validate_severity(consultation, data, indication_before, errors)
    _validate_descriptors(consultation, data, indication_before, errors)
    if errors:
        raise InvalidInput(detail="The consultation was not changed.", errors=errors)


def _validate_severity(
    consultation: Consultation, data: dict[str, Any], indication_before: str, errors: list[FieldError]
) -> None:
    """Apply the scale and its item scores in DATA; the score is computed from the items.

    Items are all the items of the scale, replacing those recorded; a one-item scale may be given its
    score as `severity_score` instead. A scale left as it was, with no items given, keeps what was
    recorded, including a total recorded before items were kept. A scale that no longer fits the
    indication is refused when either changes.
    """
    stored = (consultation.severity_scale, consultation.severity_items, consultation.severity_score)
    if "severity_scale" in data and not isinstance(data["severity_scale"] or "", str):
        errors.append(FieldError("severity_scale", "must be a scale code"))
        return
    code = (data["severity_scale"] or "") if "severity_scale" in data else stored[0]
    items_given = "severity_items" in data
    items = data.get("severity_items")
    items = {} if items is None else items
    blank_items = isinstance(items, Mapping) and all(is_blank(value) for value in items.values())
    score_given = "severity_score" in data and not is_blank(data["severity_score"])
    if not code:
        if score_given or not blank_items:
            errors.append(
                FieldError("severity_scale", SCORE_NEEDS_SCALE if score_given else ITEMS_NEED_SCALE)
            )
            return
        consultation.severity_scale, consultation.severity_items, consultation.severity_score = "", {}, None
        return
    unchanged = code == stored[0] and not score_given and (not items_given or (blank_items and not stored[1]))
    if not unchanged:
        if code not in SCALES:
            codes = ", ".join(scale.code for scale in scales_for(consultation.indication))
            message = SCALE_LEGACY if code in LEGACY_SCALES else SCALE_UNKNOWN
            errors.append(FieldError("severity_scale", message.format(codes=codes)))
            return
        scale = SCALES[code]
        as_score = "severity_score" in data and blank_items
        if score_given and not blank_items:
            errors.append(FieldError("severity_score", ITEMS_OR_SCORE))
            return
        if as_score and len(scale.items) > 1:
            errors.append(FieldError("severity_score", SCORE_IS_COMPUTED.format(label=scale.label)))
            return
        mapping = {scale.items[0].key: data["severity_score"]} if as_score else items
        try:
            scored = score_items(code, mapping)
        except SeverityItemsError as error:
            for key, message in error.problems:
                name = "severity_score" if as_score else f"severity_items.{key}" if key else "severity_items"
                errors.append(FieldError(name, message))
            return
        consultation.severity_scale, consultation.severity_items = code, scored.items
        consultation.severity_score = scored.headline
    changed = (
        consultation.severity_scale,
        consultation.severity_items,
        consultation.severity_score,
    ) != stored
    if (changed or consultation.indication != indication_before) and not scale_fits(
        consultation.indication, code
    ):
        errors.append(FieldError("severity_scale", scale_problem(consultation.indication, code) or ""))


def _validate_descriptors(
    consultation: Consultation, data: dict[str, Any], indication_before: str, errors: list[FieldError]
) -> None:
    """Apply the burn's and the wound's description in DATA; blank clears a value.

    Each is recorded only for its own indication, checked when it or the indication changes.
    """
    for name in DESCRIPTOR_FIELDS:
        if name not in data:
            continue
        value, problem = descriptor_value(name, data[name])
        if problem:
            errors.append(FieldError(name, problem))
            continue
        if DESCRIPTORS[name].choices:
            value = value or ""
        elif value is not None:
            value = int(value) if DESCRIPTORS[name].whole else value.quantize(Decimal("0.01"))
        before = getattr(consultation, name)
        setattr(consultation, name, value)
        if value in (None, "") or (value == before and consultation.indication == indication_before):
            continue
        problem = descriptor_problem(consultation.indication, name)
        if problem:
            errors.append(FieldError(name, problem))
    if consultation.indication != indication_before:
        for name in DESCRIPTOR_FIELDS:
            if name not in data and getattr(consultation, name) not in (None, ""):
                problem = descriptor_problem(consultation.indication, name)
                if problem:
                    errors.append(FieldError(name, problem))


@transaction.atomic
def consultation_update(*, consultation: Consultation, actor: User, data: dict[str, Any]) -> Consultation:
    """Change the goals and findings given in DATA; only changed fields are written and audited.

    Findings: `severity_scale` with `severity_items` (every item of the scale; the score is computed),
    and `burn_depth`, `burn_tbsa_pct`, `wound_area_cm2`, `wound_duration_weeks` for a burn or a wound.
    Bad input raises InvalidInput naming each field (`severity_items.<item>` for an item) and changes
    nothing.
    """
    require_permission_at(actor, Permission.CONSULTATION_RUN, consultation.site_id, CANNOT_RUN)
    locked = _locked(consultation)
    before = snapshot(locked, fields=list(EDITABLE_FIELDS))
    _validate(locked, data)
    return _save_changes(locked, before, actor, "consultation.update")


@transaction.atomic
def consultation_assessment_run(*, consultation: Consultation, actor: User, answers: dict[str, Any]):
    """Re-run the candidacy rules on the practitioner's answers and link the result.

    A new assessment replaces the expectation sheet, so it must be discussed again.
    """
    from cellclinic.candidacy.services import assessment_run

    require_permission_at(actor, Permission.CONSULTATION_RUN, consultation.site_id, CANNOT_RUN)
    locked = _locked(consultation)
    assessment = assessment_run(answers=answers, source="practitioner", patient=locked.patient, actor=actor)
    before = snapshot(locked, fields=["assessment", "expectations_discussed_at"])
    locked.assessment = assessment
    locked.expectations_discussed_at = None
    _save_changes(locked, before, actor, "consultation.assessment")
    return assessment


@transaction.atomic
def consultation_expectations_discussed(*, consultation: Consultation, actor: User) -> Consultation:
    """Record that the expectation sheet of the latest assessment was discussed with the patient."""
    require_permission_at(actor, Permission.CONSULTATION_RUN, consultation.site_id, CANNOT_RUN)
    locked = _locked(consultation)
    if locked.assessment_id is None:
        raise InvalidInput.single("assessment", NEEDS_ASSESSMENT)
    before = snapshot(locked, fields=["expectations_discussed_at"])
    locked.expectations_discussed_at = datetime.now(UTC)
    return _save_changes(locked, before, actor, "consultation.expectations_discussed")


def alternatives_for_indication(indication: str) -> list:
    """The catalogue's alternatives for INDICATION (none without one)."""
    return get_catalogue().alternatives_for([indication]) if indication else []


@transaction.atomic
def consultation_alternatives_set(
    *, consultation: Consultation, actor: User, codes: list[str]
) -> Consultation:
    """Record which alternatives from the catalogue were discussed."""
    require_permission_at(actor, Permission.CONSULTATION_RUN, consultation.site_id, CANNOT_RUN)
    locked = _locked(consultation)
    if not locked.indication:
        raise InvalidInput.single("indication", NEEDS_INDICATION)
    allowed = [a.code for a in alternatives_for_indication(locked.indication)]
    if not isinstance(codes, list | tuple) or not all(isinstance(c, str) for c in codes):
        raise InvalidInput.single("alternatives_discussed", "must be a list of codes")
    unknown = sorted(set(codes) - set(allowed))
    if unknown:
        raise InvalidInput.single(
            "alternatives_discussed",
            f"not an alternative for this indication: {', '.join(unknown)}; use: {', '.join(allowed)}",
        )
    before = snapshot(locked, fields=["alternatives_discussed"])
    locked.alternatives_discussed = [code for code in allowed if code in set(codes)]
    return _save_changes(locked, before, actor, "consultation.alternatives")


def therapies_for_indication(indication: str) -> list:
    """Catalogue therapies with INDICATION among their indications, by name."""
    if not indication:
        return []
    therapies = get_catalogue().therapies.values()
    return sorted(
        (t for t in therapies if indication in {c.value for c in t.indication_codes}), key=lambda t: t.name
    )


def decision_record(consultation: Consultation) -> dict[str, Any]:
    """What the practitioner's decision signature binds to."""
    return {
        "consultation_id": consultation.pk,
        "patient_id": consultation.patient_id,
        "indication": consultation.indication,
        "assessment_id": consultation.assessment_id,
        **{name: getattr(consultation, name) for name in DECISION_FIELDS},
    }


def consultation_check_can_decide(
    consultation: Consultation, *, decision: str, therapy_code: str, alternative_code: str, notes: str
) -> list[FieldError]:
    """Every reason the decision cannot be signed as given; empty when it can."""
    errors: list[FieldError] = []
    if decision not in Consultation.Decision.values:
        return [FieldError("decision", f"choose one of: {', '.join(Consultation.Decision.values)}")]
    catalogue = get_catalogue()
    # The steps the decision rests on (all but a decline): each missing one named as before.
    facts = steps.facts_of(consultation, alternatives_offered=0)
    for step in steps.missing_for(decision, facts):
        if step.name == steps.FINDINGS:
            errors.append(
                FieldError("indication", NEEDS_INDICATION)
                if not facts.indication
                else FieldError("findings", NEEDS_FINDINGS)
            )
        elif step.name == steps.CANDIDACY:
            errors.append(FieldError("assessment", NEEDS_ASSESSMENT))
        else:
            errors.append(FieldError("expectations", NEEDS_EXPECTATIONS))
    if decision == Consultation.Decision.PROCEED:
        if not therapy_code:
            errors.append(FieldError("therapy_code", NEEDS_THERAPY))
        elif therapy_code not in catalogue.therapies:
            errors.append(FieldError("therapy_code", THERAPY_UNKNOWN))
        elif consultation.indication and consultation.indication not in {
            c.value for c in catalogue.therapies[therapy_code].indication_codes
        }:
            label = INDICATIONS.get(consultation.indication, consultation.indication).lower()
            errors.append(FieldError("therapy_code", THERAPY_WRONG_INDICATION.format(indication=label)))
        assessment = consultation.assessment
        if facts.practitioner_assessment and assessment.outcome == "not_suitable" and not notes.strip():
            errors.append(FieldError("decision_notes", NOT_SUITABLE_NEEDS_NOTES))
    elif therapy_code:
        errors.append(FieldError("therapy_code", ONLY_FOR_PROCEED))
    if decision == Consultation.Decision.ALTERNATIVE:
        allowed = {a.code for a in alternatives_for_indication(consultation.indication)}
        if not alternative_code:
            errors.append(FieldError("alternative_code", NEEDS_ALTERNATIVE))
        elif alternative_code not in allowed:
            errors.append(FieldError("alternative_code", ALTERNATIVE_UNKNOWN))
    elif alternative_code:
        errors.append(FieldError("alternative_code", "only for a decision to choose an alternative"))
    if decision == Consultation.Decision.REFER and not notes.strip():
        errors.append(FieldError("decision_notes", REFER_NEEDS_NOTES))
    if len(notes) > MAX_TEXT:
        errors.append(FieldError("decision_notes", f"can have at most {MAX_TEXT} characters"))
    return errors


@transaction.atomic
def consultation_decide(
    *,
    consultation: Consultation,
    actor: User,
    password: str,
    decision: str,
    therapy_code: str = "",
    alternative_code: str = "",
    notes: str = "",
) -> Consultation:
    """Sign the decision (meaning authored); the consultation is then decided and cannot change.

    Every decision but a decline needs the findings, the candidacy assessment and the expectations
    discussed first (steps.DECISION_NEEDS); each missing one is named and nothing is signed.
    """
    require_permission_at(actor, Permission.CONSULTATION_RUN, consultation.site_id, CANNOT_RUN)
    locked = _locked(consultation)
    therapy_code, alternative_code, notes = therapy_code.strip(), alternative_code.strip(), notes.strip()
    errors = consultation_check_can_decide(
        locked, decision=decision, therapy_code=therapy_code, alternative_code=alternative_code, notes=notes
    )
    if errors:
        raise InvalidInput(detail="The decision was not signed.", errors=errors)
    decided = {
        "decision": decision,
        "therapy_code": therapy_code,
        "therapy_version": get_catalogue().therapies[therapy_code].version if therapy_code else "",
        "alternative_code": alternative_code,
        "decision_notes": notes,
    }
    for name, value in decided.items():
        setattr(locked, name, value)
    signature_create(
        signer=actor,
        password=password,
        meaning=Signature.Meaning.AUTHORED,
        object_type="consultation",
        object_id=locked.pk,
        record=decision_record(locked),
        site=locked.site,
        patient_id=locked.patient_id,
        statement=f"Consultation decision: {locked.get_decision_display()}",
    )
    return state_change(
        locked,
        to=Consultation.Status.DECIDED,
        table=CONSULTATION_STATES,
        actor=actor,
        action="consultation.decide",
        fields={**decided, "decided_at": datetime.now(UTC)},
    )

"""Shared test helpers for the patient registry."""

import re
from datetime import date

from cellclinic.audit.models import AuditEvent, Signature
from cellclinic.patients.models import Patient
from cellclinic.patients.services import patient_create, patient_version


def form_data(**overrides) -> dict:
    """A complete, valid registration form as a browser would post it."""
    data = {
        "given_name": "Ada",
        "family_name": "Lovelace",
        "date_of_birth": "1985-12-10",
        "sex_at_birth": "female",
        "gender_identity": "woman",
        "pronouns": "she/her",
        "email": "ada@example.org",
        "phone": "+44 20 7946 0000",
        "address": "12 St James's Square\nLondon",
        "postcode": "SW1Y 4JH",
        "fitzpatrick_type": "II",
        "presenting_concern": "scar",
        "concern_details": "Acne scarring on both cheeks",
        "history": ["keloid_history"],
        "allergies": ["trypsin"],
        "allergy_notes": "",
        "history_notes": "",
    }
    data.update(overrides)
    return data


def chart_form_data(patient: Patient, **overrides) -> dict:
    """The edit form as it arrives when the user changes nothing but OVERRIDES."""
    data = {
        "given_name": patient.given_name,
        "family_name": patient.family_name,
        "date_of_birth": patient.date_of_birth.isoformat(),
        "sex_at_birth": patient.sex_at_birth,
        "gender_identity": patient.gender_identity,
        "pronouns": patient.pronouns,
        "email": patient.email,
        "phone": patient.phone,
        "address": patient.address,
        "postcode": patient.postcode,
        "fitzpatrick_type": patient.fitzpatrick_type,
        "presenting_concern": patient.presenting_concern,
        "concern_details": patient.concern_details,
        "history": list(patient.history),
        "allergies": list(patient.allergies),
        "allergy_notes": patient.allergy_notes,
        "history_notes": patient.history_notes,
        "reason": "",
        "version": patient_version(patient),
    }
    data.update(overrides)
    return data


def register_many(site, actor, count: int, *, family_name: str = "Osei") -> list[Patient]:
    """COUNT more patients at SITE, through the service (so each has a real MRN)."""
    return [
        patient_create(
            site=site,
            actor=actor,
            data={
                "given_name": f"Kwame{i}",
                "family_name": family_name,
                "date_of_birth": date(1970 + i % 30, 1 + i % 12, 1 + i % 28),
                "presenting_concern": "vitiligo",
                "fitzpatrick_type": "V",
            },
        )
        for i in range(count)
    ]


def row_counts() -> tuple[int, int, int]:
    """Patients, audit events and signatures: what a refused request must leave as it found."""
    return Patient.objects.count(), AuditEvent.objects.count(), Signature.objects.count()


def assert_no_patient_data(response, *patients: Patient, names: bool = True) -> None:
    """The answer names none of PATIENTS: no family name, MRN or date of birth.

    NAMES=False for a portal user, whose own name is in the page header as the signed-in user.
    """
    body = response.content.decode()
    for patient in patients:
        if names:
            assert patient.family_name.lower() not in body.lower(), f"{patient.family_name!r} leaked"
        assert patient.mrn not in body, f"{patient.mrn!r} leaked"
        assert patient.date_of_birth.isoformat() not in body, "a date of birth leaked"


_CSRF = re.compile(r'("X-CSRFToken": "|name="csrfmiddlewaretoken" value=")[^"]+"')


def page_text(response) -> str:
    """The page without its per-response CSRF token, so two answers can be compared."""
    return _CSRF.sub(r'\1…"', response.content.decode())

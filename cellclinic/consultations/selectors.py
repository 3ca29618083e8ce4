"""Reads of consultations, always scoped to what the user may see.

Staff read records of the sites where their role allows PATIENT_VIEW; a portal patient never reads
the consultation notes themselves. A record elsewhere answers 404 exactly like a missing one.
"""

from django.db.models import QuerySet
from django.http import Http404

from cellclinic.accounts.models import User
from cellclinic.accounts.roles import Permission
from cellclinic.consultations.models import Consultation
from cellclinic.patients.models import Patient


def consultation_get_for_user(
    user: User, consultation_id: int, *, permission: Permission = Permission.PATIENT_VIEW
) -> Consultation:
    """The consultation with its patient, site and practitioner, or 404 (missing or not visible)."""
    consultation = (
        Consultation.objects.visible_to(user, permission)
        .select_related("patient", "site", "practitioner", "assessment", "enquiry__assessment")
        .filter(pk=consultation_id)
        .first()
    )
    if consultation is None:
        raise Http404("Not found")
    return consultation


def consultation_earlier_answers(consultation: Consultation) -> dict:
    """The patient's own self-assessment answers, when the consultation came from their request."""
    enquiry = consultation.enquiry
    return enquiry.assessment.answers if enquiry is not None and enquiry.assessment_id else {}


def consultations_for_patient(patient: Patient) -> QuerySet:
    """The patient's consultations, newest first, with the practitioner (the caller checked access)."""
    return Consultation.objects.filter(patient=patient).select_related("practitioner")


def consultations_page(user: User, *, patient_id: int | None = None) -> QuerySet:
    """Consultations the user may read, optionally for one patient, newest first."""
    consultations = Consultation.objects.visible_to(user).select_related("patient", "site", "practitioner")
    if patient_id is not None:
        consultations = consultations.filter(patient_id=patient_id)
    return consultations

"""Reads of consultations, photos and consents, always scoped to what the user may see.

Staff read records of the sites where their role allows PATIENT_VIEW; a portal patient reads only
their own consents and photos (never the consultation notes themselves). A record elsewhere answers
404 exactly like a missing one.
"""

import uuid

from django.db.models import QuerySet
from django.http import Http404

from cellclinic.accounts.access import site_ids_with
from cellclinic.accounts.models import User
from cellclinic.accounts.roles import Permission
from cellclinic.consultations.models import Consent, Consultation, Photo
from cellclinic.patients.models import Patient


def _staff_sites(user: User, permission: Permission) -> set[int]:
    if not user.is_authenticated or user.is_patient:
        return set()
    return site_ids_with(user, permission)


def consultations_visible_to(user: User, permission: Permission = Permission.PATIENT_VIEW) -> QuerySet:
    """Consultations at the sites where USER holds PERMISSION; none for portal patients."""
    return Consultation.objects.filter(site_id__in=_staff_sites(user, permission))


def consultation_get_for_user(
    user: User, consultation_id: int, *, permission: Permission = Permission.PATIENT_VIEW
) -> Consultation:
    """The consultation with its patient, site and practitioner, or 404 (missing or not visible)."""
    consultation = (
        consultations_visible_to(user, permission)
        .select_related("patient", "site", "practitioner", "assessment", "enquiry__assessment")
        .filter(pk=consultation_id)
        .first()
    )
    if consultation is None:
        raise Http404("Not found")
    return consultation


def consents_visible_to(user: User, permission: Permission = Permission.PATIENT_VIEW) -> QuerySet:
    """Staff: consents at their permitted sites. A portal patient: their own consents."""
    if user.is_authenticated and user.is_patient:
        if permission != Permission.PATIENT_VIEW:
            return Consent.objects.none()
        return Consent.objects.filter(patient__portal_user=user)
    return Consent.objects.filter(site_id__in=_staff_sites(user, permission))


def consent_get_for_user(
    user: User, consent_id: int, *, permission: Permission = Permission.PATIENT_VIEW
) -> Consent:
    """The consent with its patient and consultation, or 404 (missing or not visible)."""
    consent = (
        consents_visible_to(user, permission)
        .select_related(
            "patient", "site", "consultation", "consultation__practitioner", "patient__portal_user"
        )
        .filter(pk=consent_id)
        .first()
    )
    if consent is None:
        raise Http404("Not found")
    return consent


def photo_get_for_user(user: User, photo_uid: uuid.UUID) -> Photo:
    """A photo for staff with PATIENT_VIEW at its site, or for the patient it shows; 404 otherwise."""
    photos = Photo.objects.filter(uid=photo_uid)
    if user.is_authenticated and user.is_patient:
        photos = photos.filter(patient__portal_user=user)
    else:
        photos = photos.filter(site_id__in=_staff_sites(user, Permission.PATIENT_VIEW))
    photo = photos.first()
    if photo is None:
        raise Http404("Not found")
    return photo


def consultations_for_patient(patient: Patient) -> QuerySet:
    """The patient's consultations, newest first, with the practitioner (the caller checked access)."""
    return Consultation.objects.filter(patient=patient).select_related("practitioner")


def consents_for_patient(patient: Patient) -> QuerySet:
    """The patient's consents, newest first (the caller checked access)."""
    return Consent.objects.filter(patient=patient)


def consent_live(consultation: Consultation) -> Consent | None:
    """The consultation's consent that is not withdrawn (at most one), or None."""
    return consultation.consents.exclude(status=Consent.Status.WITHDRAWN).order_by("-id").first()


def consent_in_force(consultation: Consultation) -> Consent | None:
    """The consultation's signed, not withdrawn consent, or None: no treatment without it."""
    return consultation.consents.filter(status=Consent.Status.SIGNED).order_by("-id").first()


def photos_of(consultation: Consultation) -> list[Photo]:
    """The consultation's photographs, oldest first."""
    return list(consultation.photos.all())


def consultations_page(user: User, *, patient_id: int | None = None) -> QuerySet:
    """Consultations the user may read, optionally for one patient, newest first."""
    consultations = consultations_visible_to(user).select_related("patient", "site", "practitioner")
    if patient_id is not None:
        consultations = consultations.filter(patient_id=patient_id)
    return consultations

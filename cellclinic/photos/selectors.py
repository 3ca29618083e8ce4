"""Reads of photographs: staff at the photo's clinic, or the patient it shows; 404 for anyone else."""

import uuid

from django.http import Http404

from cellclinic.accounts.access import staff_site_ids
from cellclinic.accounts.models import User
from cellclinic.accounts.roles import Permission
from cellclinic.photos.models import Photo


def photo_get_for_user(user: User, photo_uid: uuid.UUID) -> Photo:
    """A photo for staff with PATIENT_VIEW at its site, or for the patient it shows; 404 otherwise."""
    photos = Photo.objects.filter(uid=photo_uid)
    if user.is_authenticated and user.is_patient:
        photos = photos.filter(patient__portal_user=user)
    else:
        photos = photos.filter(site_id__in=staff_site_ids(user, Permission.PATIENT_VIEW))
    photo = photos.first()
    if photo is None:
        raise Http404("Not found")
    return photo


def photos_of(consultation) -> list[Photo]:
    """A consultation's photographs, oldest first."""
    return list(Photo.objects.filter(consultation=consultation).order_by("created_at", "id"))

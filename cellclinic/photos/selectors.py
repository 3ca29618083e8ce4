"""Reads of photographs: staff at the photo's clinic, or the patient it shows; 404 for anyone else."""

import uuid

from django.http import Http404

from cellclinic.accounts.models import User
from cellclinic.photos.models import Photo


def photo_get_for_user(user: User, photo_uid: uuid.UUID) -> Photo:
    """A photo for staff with PATIENT_VIEW at its site, or for the patient it shows; 404 otherwise."""
    photo = Photo.objects.visible_to(user).filter(uid=photo_uid).first()
    if photo is None:
        raise Http404("Not found")
    return photo


def photos_of(consultation) -> list[Photo]:
    """A consultation's photographs, oldest first."""
    return list(Photo.objects.filter(consultation=consultation).order_by("created_at", "id"))

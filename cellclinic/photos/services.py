"""Writes for clinical photographs: checked, re-encoded without metadata, stored and audited.

The image is re-encoded and its file written before the audited transaction opens, so no slow work
happens while the audit chain is locked; a file whose transaction rolls back is removed.
"""

import uuid
from datetime import UTC, date, datetime

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import models, transaction

from cellclinic.accounts.access import require_permission_at
from cellclinic.accounts.models import User
from cellclinic.accounts.roles import Permission
from cellclinic.audit.services import audit_record
from cellclinic.core.errors import FieldError, InvalidInput
from cellclinic.core.images import ImageRejected, clean_image
from cellclinic.photos.models import Photo

MAX_AREA_LENGTH = 60
CANNOT_UPLOAD = "You cannot add photographs at this clinic."
TAKEN_IN_FUTURE = "cannot be in the future"


def photo_upload(
    *,
    consultation: models.Model,
    actor: User,
    data: bytes,
    view: str,
    area: str = "",
    taken_on: date | None = None,
) -> Photo:
    """Keep a baseline photograph in a standard view, re-encoded without any metadata.

    The file is written first, then the row and its audit event in one transaction; when that
    transaction fails, the file is removed. (Inside a caller's own transaction, a later rollback of
    that transaction leaves the unreferenced file behind.)
    """
    require_permission_at(actor, Permission.PHOTO_UPLOAD, consultation.site_id, CANNOT_UPLOAD)
    errors: list[FieldError] = []
    if view not in Photo.View.values:
        errors.append(FieldError("view", f"choose one of: {', '.join(Photo.View.values)}"))
    area = " ".join((area or "").split())
    if len(area) > MAX_AREA_LENGTH:
        errors.append(FieldError("area", f"can have at most {MAX_AREA_LENGTH} characters"))
    if taken_on is not None and taken_on > datetime.now(UTC).date():
        errors.append(FieldError("taken_on", TAKEN_IN_FUTURE))
    clean = None
    try:
        clean = clean_image(data, max_bytes=settings.PHOTO_MAX_BYTES, max_pixels=settings.PHOTO_MAX_PIXELS)
    except ImageRejected as exc:
        errors.append(FieldError("image", str(exc)))
    if errors:
        raise InvalidInput(detail="The photograph was not saved.", errors=errors)
    uid = uuid.uuid4()
    now = datetime.now(UTC)
    name = default_storage.save(f"photos/{now:%Y/%m}/{uid}.{clean.extension}", ContentFile(clean.bytes))
    try:
        with transaction.atomic():
            photo = Photo.objects.create(
                uid=uid,
                site_id=consultation.site_id,
                patient_id=consultation.patient_id,
                consultation=consultation,
                purpose=Photo.Purpose.BASELINE,
                view=view,
                area=area,
                image=name,
                content_type=clean.content_type,
                width=clean.width,
                height=clean.height,
                sha256=clean.sha256,
                taken_on=taken_on,
                uploaded_by=actor,
            )
            audit_record(
                actor=actor,
                action="photo.upload",
                object_type="photo",
                object_id=photo.uid,
                site=consultation.site,
                patient_id=consultation.patient_id,
                after={
                    "consultation": consultation.pk,
                    "view": view,
                    "area": area,
                    "sha256": clean.sha256,
                    "width": clean.width,
                    "height": clean.height,
                },
            )
    except BaseException:
        default_storage.delete(name)
        raise
    return photo


def photo_read(photo: Photo) -> bytes:
    """The stored bytes of a photograph (the caller checked access)."""
    with default_storage.open(photo.image.name, "rb") as handle:
        return handle.read()

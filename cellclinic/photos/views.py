"""A photograph's bytes, served only to those who may see it."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse

from cellclinic.audit.services import record_read
from cellclinic.photos import services
from cellclinic.photos.selectors import photo_get_for_user

PRIVATE = "private, no-store"


@login_required
def photo_file(request, photo_uid):
    """A photograph's bytes, for staff at its clinic or the patient it shows; never cached or sniffed."""
    photo = photo_get_for_user(request.user, photo_uid)
    record_read(request, photo, object_type="photo", details={"uid": str(photo.uid)})
    response = HttpResponse(services.photo_read(photo), content_type=photo.content_type)
    response["Cache-Control"] = PRIVATE
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = f'inline; filename="photo-{photo.uid}"'
    return response

"""Baseline photographs: stored without metadata, served only through the checked view."""

import io

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from cellclinic.audit.models import AuditEvent
from cellclinic.photos.models import Photo

from .conftest import jpeg_with_gps

pytestmark = pytest.mark.django_db


def _upload(client, consultation, data, name="photo.jpg", **extra):
    return client.post(
        reverse("consultations:photos", args=[consultation.pk]),
        {
            "view": "front",
            "area": "left cheek",
            "image": SimpleUploadedFile(name, data, "image/jpeg"),
            **extra,
        },
    )


def test_the_stored_file_has_no_exif(client, dr_ada, consultation):
    client.force_login(dr_ada)
    original = jpeg_with_gps()
    assert b"SecretCam" in original
    response = _upload(client, consultation, original)
    assert response.status_code == 302
    photo = Photo.objects.get()
    with default_storage.open(photo.image.name, "rb") as handle:
        stored = handle.read()
    assert b"SecretCam" not in stored and b"Exif" not in stored
    assert not Image.open(io.BytesIO(stored)).getexif()
    assert photo.image.name.startswith("photos/") and (photo.width, photo.height) == (60, 40)
    assert photo.patient_id == consultation.patient_id and photo.site_id == consultation.site_id
    assert AuditEvent.objects.filter(action="photo.upload", object_id=str(photo.uid)).count() == 1
    served = client.get(reverse("photos:file", args=[photo.uid]))
    assert served.status_code == 200 and served.content == stored
    assert served["Content-Type"] == "image/jpeg"
    assert served["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in served["Cache-Control"] and "private" in served["Cache-Control"]


def test_a_text_file_named_jpg_is_refused_and_nothing_is_kept(client, dr_ada, consultation):
    client.force_login(dr_ada)
    response = _upload(client, consultation, b"GIF89a not really <script>", name="evil.jpg")
    assert response.status_code == 422 and b"not a JPEG, PNG or WebP" in response.content
    assert not Photo.objects.exists() and not AuditEvent.objects.filter(action="photo.upload").exists()


def test_a_truncated_file_is_refused(client, dr_ada, consultation):
    client.force_login(dr_ada)
    out = io.BytesIO()
    Image.new("RGB", (400, 300), "red").save(out, "PNG")
    response = _upload(client, consultation, out.getvalue()[:200], name="cut.png")
    assert response.status_code == 422 and not Photo.objects.exists()


def test_an_oversized_image_is_refused(client, dr_ada, consultation, settings):
    settings.PHOTO_MAX_PIXELS = 1000
    client.force_login(dr_ada)
    response = _upload(client, consultation, jpeg_with_gps())  # 2 400 pixels
    assert response.status_code == 422 and b"pixels" in response.content
    settings.PHOTO_MAX_PIXELS = 10_000_000
    settings.PHOTO_MAX_BYTES = 100
    response = _upload(client, consultation, jpeg_with_gps())
    assert response.status_code == 422 and b"larger than" in response.content
    assert not Photo.objects.exists()


def test_a_future_date_and_unknown_view_are_refused(client, dr_ada, consultation):
    client.force_login(dr_ada)
    response = _upload(client, consultation, jpeg_with_gps(), taken_on="2999-01-01")
    assert response.status_code == 422 and b"cannot be in the future" in response.content
    response = _upload(client, consultation, jpeg_with_gps(), view="top")
    assert response.status_code == 422
    assert not Photo.objects.exists()


def test_a_nurse_may_upload(client, nurse_bo, consultation):
    client.force_login(nurse_bo)
    assert _upload(client, consultation, jpeg_with_gps()).status_code == 302


@pytest.mark.parametrize("persona", ["dr_cy", "lab_li", "qa_quinn", "admin_al"])
def test_others_cannot_upload(client, request, consultation, persona):
    client.force_login(request.getfixturevalue(persona))
    assert _upload(client, consultation, jpeg_with_gps()).status_code == 404
    assert not Photo.objects.exists()


@pytest.mark.parametrize("persona", ["dr_cy", "lab_li", "qa_quinn"])
def test_forbidden_readers_get_404(client, request, photo, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(reverse("photos:file", args=[photo.uid])).status_code == 404


def test_readers_the_patient_and_staff_at_the_clinic(client, photo, pat, nurse_bo, admin_al, patient_b):
    url = reverse("photos:file", args=[photo.uid])
    for user in (pat, nurse_bo, admin_al):
        client.force_login(user)
        assert client.get(url).status_code == 200
    from cellclinic.patients.services import patient_link_portal_user
    from conftest import make_user

    other = make_user("rosa", first="Rosalind", last="Franklin", kind="patient")
    patient_link_portal_user(patient=patient_b, user=other, actor=None)
    client.force_login(other)
    assert client.get(url).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302


def test_photos_are_never_served_from_media(client, dr_ada, photo):
    client.force_login(dr_ada)
    assert client.get("/media/" + photo.image.name).status_code == 404

"""photo_upload writes the file before its transaction opens, and removes it when that transaction fails."""

from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection

from cellclinic.audit.models import AuditEvent
from cellclinic.photos import services
from cellclinic.photos.models import Photo
from cellclinic.photos.services import photo_upload

from .conftest import jpeg_with_gps

pytestmark = pytest.mark.django_db


def _files() -> list[Path]:
    return [path for path in Path(settings.MEDIA_ROOT).rglob("*") if path.is_file()]


def _spy_on_saves(monkeypatch) -> list[tuple[str, int]]:
    """Each file saved, with how many atomic blocks were open while it was written."""
    saved: list[tuple[str, int]] = []
    real = default_storage.save

    def save(name, content, **kwargs):
        stored = real(name, content, **kwargs)
        saved.append((stored, len(connection.atomic_blocks)))
        return stored

    monkeypatch.setattr(default_storage, "save", save)
    return saved


def test_the_file_is_written_before_the_transaction_opens(consultation, dr_ada, monkeypatch):
    saved = _spy_on_saves(monkeypatch)
    depth = len(connection.atomic_blocks)

    photo = photo_upload(consultation=consultation, actor=dr_ada, data=jpeg_with_gps(), view="front")

    assert saved == [(photo.image.name, depth)]
    assert [path.name for path in _files()] == [Path(photo.image.name).name]


def test_a_failure_after_the_file_is_written_leaves_no_file_and_no_row(consultation, dr_ada, monkeypatch):
    saved = _spy_on_saves(monkeypatch)
    events = AuditEvent.objects.count()

    def refuse(**event):
        raise RuntimeError("the audit trail is not writable")

    monkeypatch.setattr(services, "audit_record", refuse)
    with pytest.raises(RuntimeError):
        photo_upload(consultation=consultation, actor=dr_ada, data=jpeg_with_gps(), view="front")

    assert len(saved) == 1 and not default_storage.exists(saved[0][0])
    assert _files() == []
    assert not Photo.objects.exists() and AuditEvent.objects.count() == events

"""The consent page reads the protocol version a consent was made on, and says when the decision's differs."""

import re

import pytest
from django.urls import reverse

from cellclinic.catalogue.loader import BUILTIN_THERAPY_DIR, catalogue_load
from cellclinic.consents.models import Consent
from cellclinic.consultations.models import Consultation
from cellclinic.consultations.tests.conftest import THERAPY

pytestmark = pytest.mark.django_db

SHIPPED = catalogue_load().therapies[THERAPY].version  # the version the decision is made on
VERSION_LINE = re.compile(r'^version = "[0-9.]+"\n', re.MULTILINE)


@pytest.fixture
def newer_version(settings, tmp_path):
    """The shipped protocol of THERAPY again as version 20.0, now the current one."""
    text = (BUILTIN_THERAPY_DIR / f"{THERAPY}.toml").read_text(encoding="utf-8")
    assert f'version = "{SHIPPED}"\n' in text
    (tmp_path / f"{THERAPY}-2.toml").write_text(VERSION_LINE.sub('version = "20.0"\n', text, count=1))
    settings.CELLCLINIC_CATALOGUE_DIRS = [str(tmp_path)]


def test_an_existing_consent_is_shown_with_the_version_it_was_made_on(client, dr_ada, consent, newer_version):
    client.force_login(dr_ada)

    response = client.get(reverse("consents:new", args=[consent.consultation_id]))

    assert response.status_code == 200
    assert response.context["live_consent"] == consent
    assert response.context["therapy"].version == consent.therapy_version == SHIPPED


def test_a_new_consent_follows_the_version_decided_on_when_the_catalogue_moved_on(
    client, dr_ada, decided, newer_version
):
    client.force_login(dr_ada)

    response = client.get(reverse("consents:new", args=[decided.pk]))

    body = response.content.decode()
    assert response.context["therapy"].version == SHIPPED
    assert f"(protocol version {SHIPPED})" in body
    assert "The catalogue now also holds version 20.0 of this protocol" in body
    client.post(reverse("consents:new", args=[decided.pk]))
    consent = Consent.objects.get(consultation=decided)
    assert consent.therapy_version == SHIPPED and consent.document["therapy"]["version"] == SHIPPED


def test_no_consent_on_a_decided_version_that_is_gone(client, dr_ada, decided):
    Consultation.objects.filter(pk=decided.pk).update(therapy_version="0.9")
    client.force_login(dr_ada)

    page = client.get(reverse("consents:new", args=[decided.pk])).content.decode()
    response = client.post(reverse("consents:new", args=[decided.pk]))

    assert "which is no longer in the catalogue. Record a new decision" in page
    assert response.status_code == 422 and not Consent.objects.filter(consultation=decided).exists()


def test_no_warning_when_the_decision_names_the_current_version(client, dr_ada, decided):
    client.force_login(dr_ada)

    body = client.get(reverse("consents:new", args=[decided.pk])).content.decode()

    assert f"(protocol version {SHIPPED})" in body
    assert "The consultation decided on version" not in body

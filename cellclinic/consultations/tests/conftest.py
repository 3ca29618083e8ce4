"""patient_a's pathway with dr_ada at each stage, built through the services by the pathway builder."""

import io

import pytest
from PIL import Image

from cellclinic.demo.builder import advance, at_stage
from conftest import PASSWORD

THERAPY = "autologous_fibroblast_injection_acne_scars"  # the shipped therapy for scars (patient_a's concern)


def jpeg_with_gps() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"
    exif.get_ifd(0x8825).update({1: "N", 2: (51.0, 30.0, 12.5), 3: "W", 4: (0.0, 7.0, 39.0)})
    out = io.BytesIO()
    Image.new("RGB", (60, 40), "green").save(out, "JPEG", exif=exif)
    return out.getvalue()


@pytest.fixture
def consultation(patient_a, dr_ada):
    """patient_a's consultation with dr_ada, just started: nothing recorded yet."""
    return at_stage(
        "consultation_open", patient=patient_a, practitioner=dr_ada, password=PASSWORD, ready=False
    ).consultation


@pytest.fixture
def ready(patient_a, dr_ada):
    """patient_a's consultation filled in as the room leaves it (goals, findings, the rules re-run on
    healthy answers, the expectations discussed): ready for a decision to proceed."""
    return at_stage(
        "consultation_open", patient=patient_a, practitioner=dr_ada, password=PASSWORD
    ).consultation


@pytest.fixture
def pathway(patient_a, dr_ada):
    """patient_a's pathway with dr_ada's decision to proceed with THERAPY signed; `decided`, `consent`
    and `signed_consent` are its rows, so a test that asks for more than one gets the same consultation."""
    return at_stage("decided", patient=patient_a, practitioner=dr_ada, password=PASSWORD)


@pytest.fixture
def decided(pathway):
    """patient_a's consultation, decided: to proceed with THERAPY, signed by dr_ada."""
    return pathway.consultation


@pytest.fixture
def consent(pathway):
    """The consent prepared from THERAPY's protocol, waiting for the patient."""
    return advance(pathway, "consent_prepared").consent


@pytest.fixture
def signed_consent(consent, pat, pathway):
    """The consent signed by `pat` in the portal (photographs yes, outcome reports no), countersigned."""
    return advance(pathway, "consent_signed").consent


@pytest.fixture
def photo(consultation, dr_ada):
    from cellclinic.photos.services import photo_upload

    return photo_upload(consultation=consultation, actor=dr_ada, data=jpeg_with_gps(), view="front")

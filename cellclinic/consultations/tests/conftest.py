"""Consultations at each stage, made through the services as a practitioner would."""

import io

import pytest
from PIL import Image

from conftest import PASSWORD

THERAPY = "autologous_fibroblast_injection_acne_scars"  # the shipped therapy for scars (patient_a's concern)


def healthy_answers(patient) -> dict:
    from cellclinic.candidacy.services import chart_answers

    answers = chart_answers(patient, concerns=["scar"], area="face", expectation="gradual_improvement")
    answers["health"] = dict.fromkeys(answers["health"], False)
    answers["health"]["generally_fit_and_healthy"] = True
    answers["condition"] = {"vitiligo_stable_months": None, "wound_open": False, "months_since_injury": 24}
    return answers


def make_ready(consultation, actor, answers=None):
    """An assessment on file and the expectation sheet discussed: ready for a decision to proceed."""
    from cellclinic.consultations.services import (
        consultation_assessment_run,
        consultation_expectations_discussed,
    )

    consultation_assessment_run(
        consultation=consultation, actor=actor, answers=answers or healthy_answers(consultation.patient)
    )
    return consultation_expectations_discussed(consultation=consultation, actor=actor)


def jpeg_with_gps() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"
    exif.get_ifd(0x8825).update({1: "N", 2: (51.0, 30.0, 12.5), 3: "W", 4: (0.0, 7.0, 39.0)})
    out = io.BytesIO()
    Image.new("RGB", (60, 40), "green").save(out, "JPEG", exif=exif)
    return out.getvalue()


@pytest.fixture
def consultation(patient_a, dr_ada):
    from cellclinic.consultations.services import consultation_start

    return consultation_start(patient=patient_a, actor=dr_ada)


@pytest.fixture
def decided(consultation, dr_ada):
    from cellclinic.consultations.services import consultation_decide

    make_ready(consultation, dr_ada)
    return consultation_decide(
        consultation=consultation, actor=dr_ada, password=PASSWORD, decision="proceed", therapy_code=THERAPY
    )


@pytest.fixture
def consent(decided, dr_ada):
    from cellclinic.consents.services import consent_prepare

    return consent_prepare(consultation=decided, actor=dr_ada)


@pytest.fixture
def signed_consent(consent, pat, dr_ada):
    from cellclinic.consents.services import consent_countersign, consent_patient_sign

    consent_patient_sign(
        consent=consent,
        signer=pat,
        password=PASSWORD,
        photographs=True,
        outcome_reports=False,
        understood=True,
    )
    return consent_countersign(consent=consent, practitioner=dr_ada, password=PASSWORD)


@pytest.fixture
def photo(consultation, dr_ada):
    from cellclinic.photos.services import photo_upload

    return photo_upload(consultation=consultation, actor=dr_ada, data=jpeg_with_gps(), view="front")

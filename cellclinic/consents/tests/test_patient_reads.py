"""What a patient reads of every shipped therapy's consent, in the portal and in the PDF: plain words only,
and each element of informed consent (21 CFR 50.25(a)) there in both."""

import pytest
from django.conf import settings
from django.urls import reverse

from cellclinic.accounts.models import Site
from cellclinic.catalogue.plain_words import problems
from cellclinic.catalogue.registry import get_catalogue
from cellclinic.consents.document import (
    ALLOGENEIC_ORIGIN,
    ANAESTHETIC_RISK,
    BEDSIDE,
    CLINICALTRIALS_GOV,
    COMMON_AFTER_EFFECTS,
    CONFIDENTIAL,
    COSTS,
    INJURY_CARE,
    INJURY_COMPENSATION,
    MINOR,
    NO_TREATMENT,
    PRODUCT_RISKS,
    RESEARCH_ELEMENTS,
    RESEARCH_INTRO,
    VOLUNTARY,
    WITHDRAW,
    explained,
    product_risks,
)
from cellclinic.consents.services import consent_render_pdf
from conftest import make_user

from .helpers import (
    consent_for,
    document_texts,
    main_text,
    normalised,
    pdf_text,
    section,
    shipped_cases,
    years_ago,
)

pytestmark = pytest.mark.django_db

CASES = shipped_cases()
PHONE = "0191 496 0000"
ADDRESS = "1 Quay Road\nNewcastle NE1 1AA"


@pytest.fixture
def clinic_details(clinic_a):
    Site.objects.filter(pk=clinic_a.pk).update(phone=PHONE, address=ADDRESS)
    clinic_a.refresh_from_db()
    return clinic_a


@pytest.fixture
def young(clinic_details, dr_ada):
    """A 16-year-old at North Clinic with a portal account."""
    from cellclinic.patients.services import patient_create, patient_link_portal_user

    patient = patient_create(
        site=clinic_details,
        actor=dr_ada,
        data={"given_name": "Ada", "family_name": "Lovelace", "date_of_birth": years_ago(16)},
    )
    patient_link_portal_user(
        patient=patient, user=make_user("ada.l", first="Ada", last="Lovelace", kind="patient"), actor=dr_ada
    )
    patient.refresh_from_db()
    return patient


def _read(client, patient, practitioner, code, indication, alternatives=None):
    """The consent, and its text as the patient reads it: the portal page and the PDF."""
    consent = consent_for(patient, practitioner, code, indication, alternatives)
    client.force_login(patient.portal_user)
    page = client.get(reverse("consents:detail", args=[consent.pk]))
    assert page.status_code == 200
    return consent, main_text(page.content.decode()), pdf_text(consent_render_pdf(consent))


@pytest.mark.parametrize(("code", "indication"), CASES)
@pytest.mark.parametrize("who", ["adult", "young"])
def test_the_portal_page_and_the_pdf_are_in_plain_words(
    client, clinic_details, pat, dr_ada, request, code, indication, who
):
    patient = request.getfixturevalue("patient_a") if who == "adult" else request.getfixturevalue("young")
    patient.refresh_from_db()
    consent, page, pdf = _read(client, patient, dr_ada, code, indication)
    assert problems(page) == [], "portal"
    assert problems(pdf) == [], "PDF"
    for text in document_texts(consent.document):
        assert text in page, f"portal misses {text!r}"
        assert text in pdf, f"PDF misses {text!r}"


def _expected(element: str, consent, clinic) -> tuple[list[str], list[str]]:
    """What the portal page and the PDF must say for ELEMENT of CONSENT, and what they must not."""
    catalogue = get_catalogue()
    therapy = catalogue.therapy(consent.therapy_code, consent.therapy_version)
    indication = consent.document["indication"]
    steps = [catalogue.steps[s.value] for s in therapy.steps]
    document = consent.document
    scoped = lambda lines: [  # noqa: E731
        normalised(line.text)
        for line in lines
        if not line.indications or indication in {i.value for i in line.indications}
    ]
    if element == "purpose":
        return [normalised(therapy.patient.about), *scoped(therapy.patient.how)], []
    if element == "duration":
        must = [
            f"You have {therapy.sessions.count.text} treatment session"
            if therapy.sessions.count.single != 1
            else "You have one treatment session."
        ]
        if therapy.processing.duration is not None and therapy.processing.kind.value != "manufactured":
            must.append(therapy.processing.duration.text)
        for schedule in therapy.follow_up:
            if not schedule.indications or indication in {i.value for i in schedule.indications}:
                must.append(f"Your follow-up ends {schedule.visits[-1].text}")
        return must, []
    if element == "risks_general":
        numbed = any(step.anaesthetic for step in steps)
        return [COMMON_AFTER_EFFECTS, *([ANAESTHETIC_RISK] if numbed else [])], [] if numbed else [
            ANAESTHETIC_RISK
        ]
    if element == "risks_steps":
        return [line for step in steps for line in scoped(step.risks)], []
    if element == "risks_product":
        must = scoped(therapy.patient.risks)
        must += [
            normalised(c.plain).rstrip(".")
            for c in therapy.cautions
            if not c.handling and (not c.indications or indication in {i.value for i in c.indications})
        ]
        must_not = [normalised(c.plain).rstrip(".") for c in therapy.cautions if c.handling]
        must_not += [
            normalised(c.plain).rstrip(".")
            for c in therapy.cautions
            if c.indications and indication not in {i.value for i in c.indications}
        ]
        return must, [text for text in must_not if text not in must]
    if element == "benefits":
        return ["no result can be promised", *scoped(therapy.patient.benefits)], []
    if element == "alternatives":
        discussed = consent.consultation.alternatives_discussed
        names = [explained(catalogue.alternatives[code].name) + ": " for code in discussed]
        return [*names, NO_TREATMENT], []
    if element == "cells":
        if not therapy.autologous:
            return [ALLOGENEIC_ORIGIN], []
        if therapy.processing.kind.value == "point_of_care":
            return [BEDSIDE], ["banks"]
        months = settings.CELLCLINIC_CELL_BANKING_MONTHS
        must = [f"for up to {months} months", "are destroyed"]
        if therapy.storage and therapy.storage.temperature_c:
            must.append(therapy.storage.temperature_c.text)
        return must, []
    if element == "confidentiality":
        return [CONFIDENTIAL], []
    if element == "costs":
        return [COSTS], []
    if element == "injury":
        return [f"contact {clinic.name} straight away", INJURY_CARE, INJURY_COMPENSATION], []
    if element == "contact":
        return [f"contact {clinic.name}:", f"Phone: {PHONE}", "Address: 1 Quay Road, Newcastle NE1 1AA"], []
    if element == "voluntary":
        return [VOLUNTARY, WITHDRAW], []
    if element == "research":
        if not therapy.investigational:
            return [], [RESEARCH_INTRO]
        study = therapy.study
        must = [RESEARCH_INTRO, normalised(study.statement), study.registry, *RESEARCH_ELEMENTS]
        if study.registry.startswith("NCT"):
            must.append(CLINICALTRIALS_GOV)
        assert document["title"].startswith("Consent to take part in research")
        return must, []
    if element == "minor":
        return ([MINOR], []) if consent.minor else ([], [MINOR])
    raise AssertionError(element)


ELEMENTS = [
    "research",
    "minor",
    "purpose",
    "duration",
    "risks_general",
    "risks_steps",
    "risks_product",
    "benefits",
    "alternatives",
    "cells",
    "confidentiality",
    "costs",
    "injury",
    "contact",
    "voluntary",
]


@pytest.mark.parametrize("element", ELEMENTS)
@pytest.mark.parametrize(("code", "indication"), CASES)
def test_each_element_is_in_the_portal_and_the_pdf(
    client, clinic_details, pat, patient_a, young, dr_ada, code, indication, element
):
    patient = young if element == "minor" else patient_a
    patient.refresh_from_db()
    consent, page, pdf = _read(client, patient, dr_ada, code, indication)
    must, must_not = _expected(element, consent, clinic_details)
    for text in must:
        assert normalised(text) in page, f"portal misses {text!r}"
        assert normalised(text) in pdf, f"PDF misses {text!r}"
    for text in must_not:
        assert normalised(text) not in page and normalised(text) not in pdf, text
    if element == "risks_product":
        therapy = get_catalogue().therapies[code]
        said = " ".join(
            section(consent.document, "risks_product")["items"]
            + section(consent.document, "risks_steps")["items"]
        )
        for key in product_risks(therapy):
            assert PRODUCT_RISKS[key].search(said), key


def test_only_the_alternatives_discussed_are_offered(client, clinic_details, pat, patient_a, dr_ada):
    consent, page, pdf = _read(
        client, patient_a, dr_ada, "autologous_fibroblast_injection_acne_scars", "scar", ["microneedling"]
    )
    assert "Microneedling: " in page and "Microneedling: " in pdf
    assert "Laser resurfacing" not in page and "Laser resurfacing" not in pdf
    assert NO_TREATMENT in page and NO_TREATMENT in pdf

"""The consent document, generated from every real therapy file in the catalogue."""

import json

import pytest

from cellclinic.catalogue.registry import catalogue_read
from cellclinic.consents.document import (
    ALLOGENEIC_ORIGIN,
    COMMON_AFTER_EFFECTS,
    GENERAL_RARE_RISKS,
    INVESTIGATIONAL,
    NO_TREATMENT,
    OPTIONAL_OUTCOME_REPORTS,
    OPTIONAL_PHOTOGRAPHS,
    TEMPLATE_VERSION,
    UNUSED_CELLS,
    WITHDRAW,
    consent_document,
)

CATALOGUE = catalogue_read([])
CODES = sorted(CATALOGUE.therapies)
SECTION_KEYS = [
    "procedure",
    "harvest",
    "course",
    "risks",
    "alternatives",
    "storage",
    "withdrawal",
    "optional",
]


def _document(code: str) -> dict:
    therapy = CATALOGUE.therapies[code]
    indication = therapy.indication_codes[0].value
    return consent_document(therapy, CATALOGUE.alternatives_for([indication]), indication=indication)


def _section(document: dict, key: str) -> dict:
    return next(s for s in document["sections"] if s["key"] == key)


def _text(section: dict) -> str:
    return " ".join(section["paragraphs"] + section["items"])


def test_the_catalogue_has_the_therapies_the_tests_name():
    assert len(CODES) >= 6


@pytest.mark.parametrize("code", CODES)
def test_every_section_is_there_in_order(code):
    document = _document(code)
    therapy = CATALOGUE.therapies[code]
    assert [s["key"] for s in document["sections"]] == SECTION_KEYS
    assert document["title"] == f"Consent to treatment: {therapy.name}"
    assert document["template_version"] == TEMPLATE_VERSION
    assert document["therapy"] == {
        "code": code,
        "name": therapy.name,
        "version": therapy.version,
        "cell_source": therapy.cell_source.value,
        "investigational": therapy.investigational,
    }
    json.dumps(document)  # plain JSON data, storable as it is


@pytest.mark.parametrize("code", CODES)
def test_the_procedure_says_how_it_is_given(code):
    therapy = CATALOGUE.therapies[code]
    procedure = _text(_section(_document(code), "procedure"))
    assert " ".join(therapy.summary.split()) in procedure
    assert therapy.delivery.description in procedure
    assert (INVESTIGATIONAL in procedure) == therapy.investigational


@pytest.mark.parametrize("code", CODES)
def test_harvest_or_donor_cells(code):
    therapy = CATALOGUE.therapies[code]
    harvest = _section(_document(code), "harvest")
    if therapy.autologous:
        assert therapy.harvest.what in _text(harvest)
        assert therapy.harvest.where in _text(harvest)
        assert ALLOGENEIC_ORIGIN not in _text(harvest)
    else:
        assert ALLOGENEIC_ORIGIN in harvest["paragraphs"]
        assert "donor" in _text(harvest).lower()


def test_donor_screening_is_listed_for_a_donor_product():
    harvest = _section(_document("bilayered_living_cell_construct"), "harvest")
    assert any("HIV" in item for item in harvest["items"])


@pytest.mark.parametrize("code", CODES)
def test_the_course_gives_processing_sessions_and_follow_up(code):
    therapy = CATALOGUE.therapies[code]
    course = _text(_section(_document(code), "course"))
    if therapy.processing.duration is not None:
        assert therapy.processing.duration.text in course
    assert "Treatment sessions: " + therapy.sessions.count.text in course
    if therapy.sessions.interval_days is not None:
        assert therapy.sessions.interval_days.text + " apart" in course


def test_the_course_of_the_fibroblast_injection():
    course = _text(_section(_document("autologous_fibroblast_injection"), "course"))
    assert "11–22 weeks" in course
    assert "3 sessions, 21–42 days apart" in course
    assert "6 months (efficacy assessment)" in course


def test_follow_up_only_for_the_indication():
    therapy = CATALOGUE.therapies["autologous_skin_cell_suspension"]
    alternatives = CATALOGUE.alternatives_for(["vitiligo"])
    vitiligo = _text(_section(consent_document(therapy, alternatives, indication="vitiligo"), "course"))
    burn = _text(_section(consent_document(therapy, alternatives, indication="burn"), "course"))
    assert "Stable vitiligo (RSVP trial)" in vitiligo and "Burns and wounds" not in vitiligo
    assert "Burns and wounds" in burn and "Stable vitiligo" not in burn


@pytest.mark.parametrize("code", CODES)
def test_risks_general_common_cautions_and_safety_evidence(code):
    therapy = CATALOGUE.therapies[code]
    risks = _section(_document(code), "risks")
    text = _text(risks)
    assert COMMON_AFTER_EFFECTS in risks["paragraphs"]
    assert "red, itchy and sore" in text
    for risk in GENERAL_RARE_RISKS:
        assert risk in text
    for caution in therapy.cautions:
        assert caution.text in text
    for evidence in therapy.evidence:
        if evidence.kind.value == "safety":
            assert " ".join(evidence.finding.split()) in text


@pytest.mark.parametrize("code", CODES)
def test_alternatives_include_no_treatment(code):
    therapy = CATALOGUE.therapies[code]
    indication = therapy.indication_codes[0].value
    section = _section(_document(code), "alternatives")
    assert section["items"][-1] == NO_TREATMENT
    for alternative in CATALOGUE.alternatives_for([indication]):
        assert any(item.startswith(alternative.name) for item in section["items"])


@pytest.mark.parametrize("code", CODES)
def test_storage_and_unused_cells(code):
    therapy = CATALOGUE.therapies[code]
    storage = _section(_document(code), "storage")
    assert UNUSED_CELLS in storage["paragraphs"]
    assert "destroyed" in UNUSED_CELLS and "separate" in UNUSED_CELLS
    for shelf_life in therapy.shelf_life:
        assert shelf_life.text in _text(storage)


@pytest.mark.parametrize("code", CODES)
def test_withdrawal_and_the_two_optional_consents(code):
    document = _document(code)
    assert _section(document, "withdrawal")["paragraphs"] == [WITHDRAW]
    assert "at any time" in WITHDRAW
    assert [o["key"] for o in document["optional_consents"]] == ["photographs", "outcome_reports"]
    assert _section(document, "optional")["items"] == [OPTIONAL_PHOTOGRAPHS, OPTIONAL_OUTCOME_REPORTS]


def test_the_acne_scar_therapy_says_it_is_investigational():
    document = _document("autologous_fibroblast_injection_acne_scars")
    assert document["therapy"]["investigational"] is True
    assert INVESTIGATIONAL in _section(document, "procedure")["paragraphs"]


@pytest.mark.parametrize("code", CODES)
def test_it_is_deterministic(code):
    assert _document(code) == _document(code)
    assert json.dumps(_document(code), sort_keys=True) == json.dumps(_document(code), sort_keys=True)


def test_the_template_version_is_carried():
    therapy = CATALOGUE.therapies[CODES[0]]
    assert consent_document(therapy, [], template_version="9.9")["template_version"] == "9.9"

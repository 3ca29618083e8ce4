"""The consent document, generated from every shipped therapy file, and from therapies made to order."""

import json

import pytest

from cellclinic.catalogue.plain_words import GLOSSARY, problems
from cellclinic.catalogue.registry import catalogue_read
from cellclinic.catalogue.schema import PatientLine
from cellclinic.consents.document import (
    ALLOGENEIC_ORIGIN,
    ANAESTHETIC_RISK,
    ANIMAL_MATERIAL,
    BEDSIDE,
    CLINICALTRIALS_GOV,
    COMMON_AFTER_EFFECTS,
    CULTURE_FAILURE,
    DEFAULT_BANKING_MONTHS,
    DONOR_INFECTION,
    DONOR_SITE_SCAR,
    INJURY_COMPENSATION,
    MINOR,
    MINOR_RESEARCH,
    MISSED_SESSION,
    NO_TREATMENT,
    OPTIONAL_OUTCOME_REPORTS,
    OPTIONAL_PHOTOGRAPHS,
    PRODUCT_RISKS,
    RESEARCH_ELEMENTS,
    RESEARCH_INTRO,
    RESEARCH_RECORDS,
    SECTION_KEYS,
    TEMPLATE_VERSION,
    UNUSED_CELLS,
    WITHDRAW,
    ClinicContact,
    consent_document,
    explained,
    product_risks,
)

from .helpers import document_texts, section, section_text

CATALOGUE = catalogue_read([])
CODES = sorted(CATALOGUE.therapies)
CASES = [(code, i.value) for code in CODES for i in CATALOGUE.therapies[code].indication_codes]
CLINIC = ClinicContact(name="North Clinic", phone="0191 496 0000", email="", address="1 Quay Road\nNewcastle")
ACNE = "autologous_fibroblast_injection_acne_scars"
SUSPENSION = "autologous_skin_cell_suspension"
FOLDS = "autologous_fibroblast_injection"


def _document(code: str, indication: str | None = None, *, minor: bool = False, alternatives=None, **kwargs):
    therapy = kwargs.pop("therapy", None) or CATALOGUE.therapies[code]
    indication = indication or therapy.indication_codes[0].value
    if alternatives is None:
        alternatives = CATALOGUE.alternatives_for([indication])
    return consent_document(
        therapy,
        alternatives,
        indication=indication,
        steps=kwargs.pop("steps", CATALOGUE.steps),
        clinic=kwargs.pop("clinic", CLINIC),
        minor=minor,
        **kwargs,
    )


def _keys(document: dict) -> list[str]:
    return [s["key"] for s in document["sections"]]


def test_the_catalogue_has_the_therapies_the_tests_name():
    assert {ACNE, SUSPENSION, FOLDS} <= set(CODES) and len(CODES) >= 6


@pytest.mark.parametrize(("code", "indication"), CASES)
@pytest.mark.parametrize("minor", [False, True])
def test_every_element_has_its_section_in_order(code, indication, minor):
    therapy = CATALOGUE.therapies[code]
    document = _document(code, indication, minor=minor)
    expected = [
        key
        for key in SECTION_KEYS
        if (key != "research" or therapy.investigational) and (key != "minor" or minor)
    ]
    assert _keys(document) == expected
    assert document["template_version"] == TEMPLATE_VERSION
    assert document["minor"] is minor and document["research"] is therapy.investigational
    assert document["therapy"]["code"] == code and document["therapy"]["version"] == therapy.version
    json.dumps(document)  # plain JSON data, storable as it is


@pytest.mark.parametrize(("code", "indication"), CASES)
@pytest.mark.parametrize("minor", [False, True])
def test_a_patient_reads_only_plain_words(code, indication, minor):
    for text in document_texts(_document(code, indication, minor=minor)):
        assert problems(text) == [], text


def test_the_template_version_is_bumped_and_carried():
    assert TEMPLATE_VERSION == "2.0"
    assert _document(FOLDS, template_version="9.9")["template_version"] == "9.9"


@pytest.mark.parametrize("code", CODES)
def test_it_is_deterministic(code):
    assert json.dumps(_document(code), sort_keys=True) == json.dumps(_document(code), sort_keys=True)


# Purpose, procedures and duration ----------------------------------------------------------------------


@pytest.mark.parametrize(("code", "indication"), CASES)
def test_purpose_and_procedures_come_from_the_patient_texts_and_the_steps(code, indication):
    therapy = CATALOGUE.therapies[code]
    document = _document(code, indication)
    purpose = section_text(document, "purpose")
    assert " ".join(therapy.patient.about.split()) in purpose
    for line in therapy.patient.how:
        scoped = {i.value for i in line.indications}
        assert (" ".join(line.text.split()) in purpose) == (not scoped or indication in scoped)
    for code_ in therapy.steps:
        name = CATALOGUE.steps[code_.value].name
        assert name[0].lower() + name[1:] in purpose


def test_a_burn_consent_says_nothing_of_vitiligo_beyond_what_the_treatment_is_used_for():
    therapy = CATALOGUE.therapies[SUSPENSION]
    burn = _document(SUSPENSION, "burn")
    about = " ".join(therapy.patient.about.split())
    assert "vitiligo" in about.lower()  # the therapy's own description names all its uses
    rest = [text for text in document_texts(burn) if text != about]
    assert not any("vitiligo" in text.lower() for text in rest)


@pytest.mark.parametrize(("code", "indication"), CASES)
def test_duration_gives_preparation_sessions_and_follow_up(code, indication):
    therapy = CATALOGUE.therapies[code]
    duration = section_text(_document(code, indication), "duration")
    if therapy.processing.duration is not None and therapy.processing.kind.value != "manufactured":
        assert therapy.processing.duration.text in duration
    if therapy.sessions.count.single == 1:
        assert "You have one treatment session." in duration
    else:
        assert f"You have {therapy.sessions.count.text} treatment sessions" in duration
    if therapy.sessions.interval_days is not None and therapy.sessions.count.single != 1:
        assert f"{therapy.sessions.interval_days.text} apart" in duration
    schedules = [
        s for s in therapy.follow_up if not s.indications or indication in {i.value for i in s.indications}
    ]
    for schedule in schedules:
        assert f"Your follow-up ends {schedule.visits[-1].text}" in duration


def test_the_fibroblast_injection_takes_months_and_three_sessions():
    duration = section_text(_document(FOLDS), "duration")
    assert "Growing your cells in the laboratory takes 11–22 weeks" in duration
    assert "You have 3 treatment sessions, 21–42 days apart." in duration
    assert "Your follow-up ends 6 months after your last treatment." in duration


def test_follow_up_only_for_the_indication():
    vitiligo = section_text(_document(SUSPENSION, "vitiligo"), "duration")
    burn = section_text(_document(SUSPENSION, "burn"), "duration")
    assert "ends 52 weeks" in vitiligo and "12 months" not in vitiligo
    assert "ends 12 months" in burn and "52 weeks" not in burn


# Risks ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "indication"), CASES)
def test_general_risks_name_the_anaesthetic_only_when_a_step_uses_one(code, indication):
    therapy = CATALOGUE.therapies[code]
    general = section(_document(code, indication), "risks_general")
    assert COMMON_AFTER_EFFECTS in general["paragraphs"]
    numbed = any(CATALOGUE.steps[s.value].anaesthetic for s in therapy.steps)
    assert (ANAESTHETIC_RISK in general["items"]) == numbed


def test_no_anaesthetic_risk_without_a_numbed_step():
    steps = {code: step.model_copy(update={"anaesthetic": False}) for code, step in CATALOGUE.steps.items()}
    general = section(_document(FOLDS, steps=steps), "risks_general")
    assert ANAESTHETIC_RISK not in general["items"]
    assert "local anaesthetic" not in section_text(_document(FOLDS, steps=steps), "purpose")


@pytest.mark.parametrize(("code", "indication"), CASES)
def test_each_step_brings_its_own_risks(code, indication):
    therapy = CATALOGUE.therapies[code]
    steps_text = section_text(_document(code, indication), "risks_steps")
    for step_code in therapy.steps:
        step = CATALOGUE.steps[step_code.value]
        for risk in step.risks:
            if not risk.indications or indication in {i.value for i in risk.indications}:
                assert " ".join(risk.text.split()) in steps_text


@pytest.mark.parametrize(("code", "indication"), CASES)
def test_product_risks_each_element_is_stated(code, indication):
    therapy = CATALOGUE.therapies[code]
    document = _document(code, indication)
    product = section_text(document, "risks_product")
    said = product + " " + section_text(document, "risks_steps")
    for key in product_risks(therapy):
        assert PRODUCT_RISKS[key].search(said), key
    for line in therapy.patient.risks:
        scoped = {i.value for i in line.indications}
        assert (" ".join(line.text.split()) in product) == (not scoped or indication in scoped)


def test_the_product_risks_each_shipped_kind_of_therapy_must_state():
    assert product_risks(CATALOGUE.therapies[FOLDS]) == [
        "culture_failure",
        "long_wait",
        "missed_session",
        "animal_material",
        "donor_site_scar",
    ]
    assert product_risks(CATALOGUE.therapies[SUSPENSION]) == ["animal_material", "donor_site_scar"]
    donor = next(t for t in CATALOGUE.therapies.values() if not t.autologous)
    assert "donor_infection" in product_risks(donor) and "donor_site_scar" not in product_risks(donor)


def test_the_clinic_sentences_stand_in_when_the_patient_texts_are_silent():
    folds = CATALOGUE.therapies[FOLDS]
    silent = folds.model_copy(update={"patient": folds.patient.model_copy(update={"risks": []})})
    product = section(_document(FOLDS, therapy=silent), "risks_product")["items"]
    assert CULTURE_FAILURE in product and ANIMAL_MATERIAL in product and DONOR_SITE_SCAR in product
    assert any(item.startswith("Growing your cells takes 11–22 weeks") for item in product)
    assert MISSED_SESSION.format(keeps="24 hours") in product
    donor = next(t for t in CATALOGUE.therapies.values() if not t.autologous)
    quiet = donor.model_copy(update={"patient": donor.patient.model_copy(update={"risks": []})})
    assert DONOR_INFECTION in section(_document(donor.code, therapy=quiet), "risks_product")["items"]


def test_the_catalogue_sentence_is_not_repeated_when_it_says_the_same():
    folds = section(_document(FOLDS), "risks_product")["items"]
    assert CULTURE_FAILURE not in folds  # the catalogue's own line says the cells may not grow


def test_cautions_follow_the_indication_and_leave_out_handling():
    therapy = CATALOGUE.therapies[SUSPENSION]
    burn = section_text(_document(SUSPENSION, "burn"), "risks_product")
    vitiligo = section_text(_document(SUSPENSION, "vitiligo"), "risks_product")
    for caution in therapy.cautions:
        plain = " ".join(caution.plain.split()).rstrip(".")
        scoped = {i.value for i in caution.indications}
        if caution.handling:
            assert plain not in burn and plain not in vitiligo
        elif scoped == {"vitiligo"}:
            assert plain in vitiligo and plain not in burn
        elif not scoped:
            assert plain in burn and plain in vitiligo
    assert any(c.handling for c in therapy.cautions)
    assert any({i.value for i in c.indications} == {"vitiligo"} for c in therapy.cautions)


def test_a_caution_without_patient_words_is_caught_by_the_plain_words_check():
    folds = CATALOGUE.therapies[FOLDS]
    raw = folds.cautions[0].model_copy(update={"patient": None, "text": "Hypersensitivity reactions"})
    therapy = folds.model_copy(update={"cautions": [raw]})
    texts = document_texts(_document(FOLDS, therapy=therapy))
    assert any(problems(text) for text in texts)


# Benefits and alternatives --------------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "indication"), CASES)
def test_benefits_give_the_published_figures_for_the_indication(code, indication):
    therapy = CATALOGUE.therapies[code]
    benefits = section_text(_document(code, indication), "benefits")
    assert "no result can be promised" in benefits
    for line in therapy.patient.benefits:
        scoped = {i.value for i in line.indications}
        assert (" ".join(line.text.split()) in benefits) == (not scoped or indication in scoped)


def test_vitiligo_benefits_give_the_trial_figures():
    assert "36 out of 100" in section_text(_document(SUSPENSION, "vitiligo"), "benefits")
    assert "36 out of 100" not in section_text(_document(SUSPENSION, "burn"), "benefits")


def test_only_the_alternatives_discussed_and_no_treatment():
    laser = CATALOGUE.alternatives["laser_resurfacing"]
    items = section(_document(ACNE, alternatives=[laser]), "alternatives")["items"]
    assert len(items) == 2 and items[0].startswith("Laser resurfacing: ") and items[-1] == NO_TREATMENT
    assert " ".join(laser.patient_summary.split()) in items[0]
    none = section(_document(ACNE, alternatives=[]), "alternatives")
    assert none["items"] == [NO_TREATMENT]


def test_an_alternative_with_a_clinical_name_is_explained():
    phototherapy = CATALOGUE.alternatives["nb_uvb_phototherapy"]
    [item, _] = section(_document(SUSPENSION, "vitiligo", alternatives=[phototherapy]), "alternatives")[
        "items"
    ]
    assert item.startswith("Narrowband UVB phototherapy (treatment with light): ")


# Cells ------------------------------------------------------------------------------------------------------


def test_cultured_cells_are_banked_for_the_clinics_period_at_the_protocols_temperature():
    cells = section(_document(FOLDS, banking_months=9), "cells")
    text = section_text(_document(FOLDS, banking_months=9), "cells")
    assert "up to 9 months" in text and "at the end of those 9 months" in text
    assert "2–8 °C (chilled, not frozen)" in text and "within 24 hours" in text
    assert UNUSED_CELLS in cells["paragraphs"] and "destroyed" in text
    assert f"up to {DEFAULT_BANKING_MONTHS} months" in section_text(_document(FOLDS), "cells")


def test_cells_prepared_at_the_bedside_are_not_stored():
    cells = section(_document(SUSPENSION, "burn"), "cells")
    assert BEDSIDE in cells["paragraphs"] and "not stored" in BEDSIDE
    assert "months" not in section_text(_document(SUSPENSION, "burn"), "cells")


def test_a_donor_product_says_where_it_comes_from_and_how_it_is_kept():
    for therapy in (t for t in CATALOGUE.therapies.values() if not t.autologous):
        document = _document(therapy.code)
        text = section_text(document, "cells")
        assert ALLOGENEIC_ORIGIN in section(document, "cells")["paragraphs"]
        if therapy.storage and therapy.storage.temperature_c:
            assert therapy.storage.temperature_c.text in text


# Confidentiality, costs, injury, contact, voluntariness --------------------------------------------------


def test_research_records_may_be_inspected_by_the_regulator():
    assert RESEARCH_RECORDS in section(_document(ACNE), "confidentiality")["paragraphs"]
    assert RESEARCH_RECORDS not in section(_document(FOLDS), "confidentiality")["paragraphs"]


def test_costs_are_discussed_and_written_on_the_plan_never_invented():
    costs = section_text(_document(FOLDS), "costs")
    assert "written on your treatment plan or quote" in costs
    assert not any(symbol in costs for symbol in "£$€")


def test_injury_and_contact_name_the_clinic_with_its_details():
    document = _document(FOLDS)
    assert "contact North Clinic straight away" in section_text(document, "injury")
    assert INJURY_COMPENSATION in section(document, "injury")["paragraphs"]
    contact = section(document, "contact")
    assert contact["paragraphs"][0].endswith("contact North Clinic:")
    assert contact["items"] == ["Phone: 0191 496 0000", "Address: 1 Quay Road, Newcastle"]


def test_contact_without_details_says_the_clinic():
    contact = section(_document(FOLDS, clinic=ClinicContact(name="")), "contact")
    assert contact["items"] == [] and "contact the clinic." in contact["paragraphs"][0]
    with_email = section(_document(FOLDS, clinic=ClinicContact(name="X", email="desk@x.example")), "contact")
    assert with_email["items"] == ["Email: desk@x.example"]


@pytest.mark.parametrize("code", CODES)
def test_withdrawal_and_the_two_optional_consents(code):
    document = _document(code)
    assert WITHDRAW in section(document, "voluntary")["paragraphs"] and "at any time" in WITHDRAW
    assert [o["key"] for o in document["optional_consents"]] == ["photographs", "outcome_reports"]
    assert section(document, "optional")["items"] == [OPTIONAL_PHOTOGRAPHS, OPTIONAL_OUTCOME_REPORTS]


# Research and young people ---------------------------------------------------------------------------------


def test_the_acne_scar_therapy_has_a_research_consent():
    therapy = CATALOGUE.therapies[ACNE]
    document = _document(ACNE)
    research = section(document, "research")
    assert document["title"].startswith("Consent to take part in research: ")
    assert document["study"] == {"title": therapy.study.title, "registry": therapy.study.registry}
    assert research["paragraphs"][0] == RESEARCH_INTRO
    text = section_text(document, "research")
    assert " ".join(therapy.study.statement.split()) in text and therapy.study.registry in text
    assert therapy.study.title.split(":")[0].split(" (")[0] in text
    for element in RESEARCH_ELEMENTS:
        assert element in research["items"]
    assert "voluntary" in text
    assert (CLINICALTRIALS_GOV in research["items"]) == therapy.study.registry.startswith("NCT")


@pytest.mark.parametrize("code", [c for c in CODES if not CATALOGUE.therapies[c].investigational])
def test_a_treatment_consent_is_not_a_research_consent(code):
    document = _document(code)
    assert document["title"].startswith("Consent to treatment: ") and document["study"] is None
    assert "research" not in _keys(document)


def test_a_young_persons_consent_explains_the_guardian_and_assent():
    document = _document(FOLDS, minor=True)
    assert section(document, "minor")["paragraphs"][0] == MINOR and "assent" in MINOR
    assert "minor" not in _keys(_document(FOLDS))
    assert MINOR_RESEARCH in section(_document(ACNE, minor=True), "research")["items"]
    assert MINOR_RESEARCH not in section(_document(ACNE), "research")["items"]


# Names in plain words --------------------------------------------------------------------------------------


def test_every_explanation_explains_its_word():
    for term in GLOSSARY:
        note = term.explanation or term.plain[0]
        assert any(plain in note.lower() for plain in term.plain), term.word


@pytest.mark.parametrize(
    "name",
    [t.plain_name for t in CATALOGUE.therapies.values()]
    + [t.name for t in CATALOGUE.therapies.values()]
    + [a.name for a in CATALOGUE.alternatives.values()]
    + [t.study.title for t in CATALOGUE.therapies.values() if t.study],
)
def test_every_name_a_patient_reads_is_explained(name):
    assert problems(explained(name)) == []


def test_a_name_with_brackets_or_a_colon_keeps_its_shape():
    assert explained("Conventional skin grafting (split-thickness autograft)") == (
        "Conventional skin grafting (split-thickness autograft, a thin layer of skin)"
    )
    assert explained("Autologous cells: a placebo-controlled trial") == (
        "Autologous cells (made from your own cells): "
        "a placebo-controlled trial (compared with a dummy treatment)"
    )
    assert explained("Plain words") == "Plain words"


def test_scoped_patient_lines_are_left_out_for_another_indication():
    therapy = CATALOGUE.therapies[SUSPENSION]
    extra = PatientLine(text="Only for wounds.", indications=["wound"])
    patient = therapy.patient.model_copy(update={"how": [*therapy.patient.how, extra]})
    changed = therapy.model_copy(update={"patient": patient})
    assert "Only for wounds." in section_text(_document(SUSPENSION, "wound", therapy=changed), "purpose")
    assert "Only for wounds." not in section_text(_document(SUSPENSION, "burn", therapy=changed), "purpose")

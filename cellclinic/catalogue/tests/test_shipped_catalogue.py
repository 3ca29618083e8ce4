"""The therapy files shipped with CellClinic load, and carry the figures DOMAIN.md gives them."""

import pytest

from cellclinic.catalogue.loader import BUILTIN_THERAPY_DIR, catalogue_load, code_of_file, therapy_files
from cellclinic.catalogue.schema import CellSource, ProcessingKind, iter_nodes


@pytest.fixture(scope="module")
def catalogue():
    return catalogue_load()


def test_it_loads_every_shipped_file(catalogue):
    files = therapy_files(BUILTIN_THERAPY_DIR)
    codes = {code_of_file(path) for path in files}

    assert set(catalogue.therapies) == codes
    assert sum(len(catalogue.versions(code)) for code in codes) == len(files)
    assert {catalogue.file_of(t) for code in codes for t in catalogue.versions(code)} == set(files)
    assert len(codes) >= 4
    assert len(catalogue.alternatives) >= 6


def test_it_ships_the_four_kinds_of_therapy(catalogue):
    therapies = catalogue.therapies

    assert therapies["autologous_fibroblast_injection"].processing.kind == ProcessingKind.CULTURE
    assert therapies["autologous_skin_cell_suspension"].processing.kind == ProcessingKind.POINT_OF_CARE
    assert set(therapies["melanocyte_keratinocyte_transplant"].indication_codes) == {
        "vitiligo",
        "hypopigmentation",
    }
    donor_wound_products = [
        t
        for t in therapies.values()
        if t.cell_source == CellSource.ALLOGENEIC and "wound" in t.indication_codes
    ]
    assert donor_wound_products


def test_the_fibroblast_injection_takes_11_to_22_weeks_and_keeps_24_hours(catalogue):
    therapy = catalogue.therapies["autologous_fibroblast_injection"]

    duration = therapy.processing.duration
    assert (duration.min, duration.max, duration.unit) == (11, 22, "weeks")
    assert duration.source == ["S2", "S3"]
    [shelf_life] = therapy.shelf_life
    assert (shelf_life.max, shelf_life.unit, shelf_life.after) == (24, "hours", "formulation")
    assert (therapy.storage.temperature_c.min, therapy.storage.temperature_c.max) == (2, 8)
    assert therapy.sessions.count.value == 3
    assert (therapy.sessions.interval_days.min, therapy.sessions.interval_days.max) == (21, 42)
    assert therapy.indications[0].min_age_years.value == 18


def test_the_fibroblast_injection_sets_expectations_from_the_phase_3_results(catalogue):
    evidence = catalogue.therapies["autologous_fibroblast_injection"].evidence

    responders = {(e.measure, e.value, e.comparator_value) for e in evidence if e.kind == "efficacy"}
    assert responders == {("Evaluator-rated responders", 30, 8), ("Subject-rated responders", 59, 26)}
    [schedule] = catalogue.therapies["autologous_fibroblast_injection"].follow_up
    [primary] = [v for v in schedule.visits if v.primary_endpoint]
    assert (primary.at, primary.unit, schedule.anchor) == (6, "months", "last_treatment")


def test_the_fibroblast_contraindications_name_their_screening_questions(catalogue):
    therapy = catalogue.therapies["autologous_fibroblast_injection"]

    screening = {r.code: r.screening for r in [*therapy.contraindications, *therapy.cautions]}
    assert screening["dmso_allergy"] == "dmso"
    assert screening["antibiotic_allergy"] == "antibiotic"
    assert screening["pregnancy_or_breastfeeding"] == "pregnant_or_breastfeeding"
    assert screening["allogeneic_use"] is None


def test_the_cell_suspension_is_prepared_in_15_to_30_minutes(catalogue):
    therapy = catalogue.therapies["autologous_skin_cell_suspension"]

    duration = therapy.processing.duration
    assert (duration.min, duration.max, duration.unit) == (15, 30, "minutes")
    assert therapy.shelf_life == []
    assert any("spraying" in gap.text or "applying" in gap.text for gap in therapy.gaps)


def test_the_cell_suspension_reports_the_vitiligo_trial(catalogue):
    therapy = catalogue.therapies["autologous_skin_cell_suspension"]

    results = {(e.timepoint, e.value) for e in therapy.evidence if e.kind == "efficacy"}
    assert results == {("Week 12", 26), ("Week 24 (primary endpoint)", 36)}
    [vitiligo] = [i for i in therapy.indications if i.code == "vitiligo"]
    assert vitiligo.stable_for_months.value == 12
    [schedule] = [s for s in therapy.follow_up if s.indications == ["vitiligo"]]
    assert [(v.at, v.primary_endpoint) for v in schedule.visits] == [(12, False), (24, True), (52, False)]


def test_the_donor_constructs_have_their_time_limits(catalogue):
    construct = catalogue.therapies["bilayered_living_cell_construct"]
    substitute = catalogue.therapies["cryopreserved_fibroblast_dermal_substitute"]

    assert [(s.max, s.unit, s.after) for s in construct.shelf_life] == [(15, "minutes", "opening")]
    assert [(s.max, s.unit, s.after) for s in substitute.shelf_life] == [
        (6, "months", "cryopreservation"),
        (30, "minutes", "thawing"),
    ]
    assert (substitute.storage.temperature_c.min, substitute.storage.temperature_c.max) == (-85, -65)
    assert construct.harvest is None and substitute.harvest is None


def test_numbers_without_a_source_are_marked_unverified(catalogue):
    mktp = catalogue.therapies["melanocyte_keratinocyte_transplant"]

    assert mktp.sessions.count.unverified is True
    assert mktp.sessions.count.source == []


def test_every_source_table_is_cited(catalogue):
    """No file lists a source it never cites (a sign of a number deleted without its tag)."""
    for code, therapy in catalogue.therapies.items():
        cited = {tag for _, node in iter_nodes(therapy) for tag in getattr(node, "source", None) or ()}
        assert set(therapy.sources) == cited, code


def test_the_areas_limit_where_each_shipped_therapy_is_used(catalogue):
    def areas(code):
        return [[area.value for area in i.areas] for i in catalogue.therapies[code].indications]

    assert areas("autologous_fibroblast_injection") == [["face"]]
    assert areas("autologous_fibroblast_injection_acne_scars") == [["face"]]
    assert areas("bilayered_living_cell_construct") == [["legs"], ["feet"]]
    assert areas("cryopreserved_fibroblast_dermal_substitute") == [["feet"]]
    assert all(not i.areas for i in catalogue.therapies["autologous_skin_cell_suspension"].indications)

"""Malformed catalogue files stop loading with an error naming the file, the field and the problem."""

import pytest

from cellclinic.catalogue.loader import CatalogueError, catalogue_load
from cellclinic.catalogue.tests.helpers import VALID_THERAPY, changed, write_therapy


def problems_for(*dirs, alternative_files=()):
    with pytest.raises(CatalogueError) as caught:
        catalogue_load(list(dirs), list(alternative_files))
    return caught.value


def only_problem(error: CatalogueError):
    assert len(error.problems) == 1, error
    return error.problems[0]


def test_it_loads_the_valid_file(tmp_path):
    write_therapy(tmp_path)

    catalogue = catalogue_load([tmp_path], [])

    therapy = catalogue.therapies["test_therapy"]
    assert therapy.processing.duration.text == "11–22 weeks"
    assert catalogue.files["test_therapy"] == tmp_path / "test_therapy.toml"


def test_it_names_a_missing_field(tmp_path):
    path = write_therapy(tmp_path, changed('name = "Test therapy"\n', ""))

    error = problems_for(tmp_path)

    problem = only_problem(error)
    assert (problem.file, problem.field, problem.message) == (path, "name", "required field is missing")
    assert f"{path}: name: required field is missing" in str(error)


def test_it_names_a_nested_missing_field(tmp_path):
    write_therapy(tmp_path, changed('kind = "culture"\n', ""))

    problem = only_problem(problems_for(tmp_path))

    assert problem.field == "processing.kind"
    assert problem.message == "required field is missing"


def test_it_names_a_wrong_type(tmp_path):
    write_therapy(tmp_path, changed("count = { value = 3,", 'count = { value = "3",'))

    problem = only_problem(problems_for(tmp_path))

    assert problem.field == "sessions.count.value"
    assert "valid integer" in problem.message
    assert "'3'" in problem.message


def test_it_refuses_a_quoted_number_where_a_number_belongs(tmp_path):
    write_therapy(tmp_path, changed("min = 11,", 'min = "11",'))

    problem = only_problem(problems_for(tmp_path))

    assert problem.field == "processing.duration.min"
    assert "valid number" in problem.message


def test_it_names_an_unknown_indication(tmp_path):
    write_therapy(tmp_path, changed('code = "scar"', 'code = "acne"'))

    problem = only_problem(problems_for(tmp_path))

    assert problem.field == "indications.0.code"
    assert problem.message.startswith("'acne' is not allowed; expected ")
    for code in ("burn", "scar", "wound", "vitiligo", "hypopigmentation", "sun_damage", "premature_ageing"):
        assert code in problem.message


def test_it_names_a_range_whose_min_exceeds_its_max(tmp_path):
    path = write_therapy(tmp_path, changed("min = 11, max = 22", "min = 22, max = 11"))

    error = problems_for(tmp_path)

    problem = only_problem(error)
    assert problem.field == "processing.duration.max"
    assert problem.message == "must be at least min (22), got 11"
    assert f"{path}: processing.duration.max: must be at least min (22), got 11" in str(error)


def test_it_refuses_a_version_already_defined_differently_in_another_directory(tmp_path):
    first = write_therapy(tmp_path / "builtin")
    second = write_therapy(tmp_path / "clinic", changed('name = "Test therapy"', 'name = "Changed"'))

    problem = only_problem(problems_for(tmp_path / "builtin", tmp_path / "clinic"))

    assert (problem.file, problem.field) == (second, "version")
    assert problem.message == (
        f"'test_therapy' version 1 is already defined with different content in {first}; "
        "give this file a new version"
    )


def test_it_accepts_the_same_version_kept_twice_with_the_same_content(tmp_path):
    first = write_therapy(tmp_path / "builtin")
    write_therapy(tmp_path / "clinic", "# The clinic's own copy.\n" + VALID_THERAPY)

    catalogue = catalogue_load([tmp_path / "builtin", tmp_path / "clinic"], [])

    assert [t.version for t in catalogue.versions("test_therapy")] == ["1"]
    assert catalogue.files["test_therapy"] == first


def test_it_refuses_a_code_that_differs_from_the_file_name(tmp_path):
    path = write_therapy(tmp_path, name="another_name")

    problem = only_problem(problems_for(tmp_path))

    assert (problem.file, problem.field) == (path, "code")
    assert problem.message == "must match the file name 'another_name', got 'test_therapy'"


def test_it_reports_a_toml_syntax_error_with_its_line(tmp_path):
    path = write_therapy(tmp_path, VALID_THERAPY + "this line has no equals sign\n")

    error = problems_for(tmp_path)

    problem = only_problem(error)
    assert problem.file == path
    assert problem.message.startswith("TOML syntax error: ")
    assert f"line {len(VALID_THERAPY.splitlines()) + 1}," in problem.message
    assert str(path) in str(error)


def test_it_names_an_unknown_field(tmp_path):
    write_therapy(tmp_path, changed('description = "Grown in the lab"', 'description = "Grown"\nduraton = 3'))

    problem = only_problem(problems_for(tmp_path))

    assert problem.field == "processing.duraton"
    assert problem.message.startswith("unknown field")


def test_it_wants_a_source_or_an_unverified_flag_on_every_number(tmp_path):
    write_therapy(tmp_path, changed('count = { value = 3, source = "S1" }', "count = { value = 3 }"))

    problem = only_problem(problems_for(tmp_path))

    assert problem.field == "sessions.count.source"
    assert problem.message == 'needs a source tag (e.g. "S1"), or unverified = true'


def test_it_accepts_an_unverified_number_without_a_source(tmp_path):
    write_therapy(
        tmp_path, changed('count = { value = 3, source = "S1" }', "count = { value = 3, unverified = true }")
    )

    therapy = catalogue_load([tmp_path], []).therapies["test_therapy"]

    assert therapy.sessions.count.unverified is True


def test_it_refuses_a_source_tag_missing_from_the_sources_table(tmp_path):
    write_therapy(
        tmp_path,
        changed('condition = "Depressed acne scars"\nsource = "S1"', 'condition = "Scars"\nsource = "S9"'),
    )

    problem = only_problem(problems_for(tmp_path))

    assert problem.field == "indications.0.source"
    assert problem.message == "S9 is not listed in [sources]"


def test_it_requires_a_stability_period_for_vitiligo(tmp_path):
    write_therapy(tmp_path, changed('code = "scar"', 'code = "vitiligo"'))

    problem = only_problem(problems_for(tmp_path))

    assert problem.field == "indications.0.stable_for_months"
    assert problem.message.startswith("required for vitiligo")


def test_it_refuses_a_screening_code_not_on_the_checklist(tmp_path):
    restriction = '[[contraindications]]\ncode = "x"\ntext = "X"\nscreening = "diabetes"\nsource = "S1"\n\n'
    write_therapy(tmp_path, changed("[sources]", restriction + "[sources]"))

    error = problems_for(tmp_path)

    assert [p.field for p in error.problems] == ["contraindications.0.screening"]
    assert "'diabetes' is not allowed" in error.problems[0].message
    assert "pregnant_or_breastfeeding" in error.problems[0].message


def test_it_refuses_a_scope_outside_the_therapys_indications(tmp_path):
    text = changed(
        "[sources]",
        '[[follow_up]]\nname = "Burns"\nanchor = "last_treatment"\nindications = ["burn"]\nsource = "S1"\n'
        'visits = [{ at = 4, unit = "weeks", label = "Closure" }]\n\n[sources]',
    )
    write_therapy(tmp_path, text)

    problem = only_problem(problems_for(tmp_path))

    assert problem.field == "follow_up.0.indications.0"
    assert problem.message == "'burn' is not one of this therapy's indications"


def test_it_wants_follow_up_visits_in_time_order(tmp_path):
    text = changed(
        "[sources]",
        '[[follow_up]]\nname = "Scars"\nanchor = "last_treatment"\nsource = "S1"\n'
        'visits = [{ at = 3, unit = "months", label = "A" }, { at = 8, unit = "weeks", label = "B" }]\n'
        "\n[sources]",
    )
    write_therapy(tmp_path, text)

    problem = only_problem(problems_for(tmp_path))

    assert problem.field == "follow_up.0.visits.1.at"
    assert problem.message == "visits must be in time order: 8 weeks is not after 3 months"


def test_it_wants_a_harvest_for_autologous_cells_and_none_for_donor_cells(tmp_path):
    write_therapy(tmp_path, changed('cell_source = "autologous"', 'cell_source = "allogeneic"'))

    problem = only_problem(problems_for(tmp_path))

    assert problem.field == "harvest"
    assert "allogeneic" in problem.message


def test_it_refuses_a_contraindication_code_reused_as_a_caution(tmp_path):
    restriction = '\n[[{section}]]\ncode = "bleeding"\ntext = "Bleeding"\nsource = "S1"\n'
    text = VALID_THERAPY.replace("[sources]", restriction.format(section="contraindications") + "\n[sources]")
    text = text.replace("[sources]", restriction.format(section="cautions") + "\n[sources]")
    write_therapy(tmp_path, text)

    problem = only_problem(problems_for(tmp_path))

    assert problem.field == "cautions.0.code"
    assert problem.message == "'bleeding' is already used at contraindications.0"


def test_it_names_every_problem_in_every_file_at_once(tmp_path):
    first = write_therapy(tmp_path, changed('name = "Test therapy"\n', ""), name="test_therapy")
    second = write_therapy(tmp_path, "broken = [", name="second")

    error = problems_for(tmp_path)

    assert [p.file for p in error.problems] == [second, first]
    assert str(error).startswith("Therapy catalogue: 2 problems:\n")


def test_it_refuses_a_directory_that_does_not_exist(tmp_path):
    problem = only_problem(problems_for(tmp_path / "missing"))

    assert problem.file == tmp_path / "missing"
    assert problem.message == "catalogue directory does not exist"


def test_it_refuses_an_alternative_for_an_unknown_indication(tmp_path):
    path = tmp_path / "alternatives.toml"
    path.write_text(
        '[[alternatives]]\ncode = "peel"\nname = "Chemical peel"\nindications = ["acne"]\n'
        'summary = "A peel."\nbetter_when = ["Surface only"]\n'
        'patient_summary = "A peel."\npatient_better_when = ["Only the surface of your skin is affected"]\n',
        encoding="utf-8",
    )

    problem = only_problem(problems_for(alternative_files=[path]))

    assert (problem.file, problem.field) == (path, "alternatives.0.indications.0")
    assert "'acne' is not allowed" in problem.message


def test_it_refuses_an_alternative_code_defined_twice(tmp_path):
    entry = (
        '[[alternatives]]\ncode = "peel"\nname = "Peel"\nindications = ["scar"]\n'
        'summary = "S."\nbetter_when = ["W"]\npatient_summary = "A peel."\npatient_better_when = ["W"]\n'
    )
    first, second = tmp_path / "a.toml", tmp_path / "b.toml"
    first.write_text(entry, encoding="utf-8")
    second.write_text(entry, encoding="utf-8")

    problem = only_problem(problems_for(alternative_files=[first, second]))

    assert (problem.file, problem.field) == (second, "alternatives.0.code")
    assert problem.message == f"'peel' is already defined in {first}"


def test_it_refuses_a_file_that_is_not_utf8(tmp_path):
    path = tmp_path / "test_therapy.toml"
    path.write_bytes(VALID_THERAPY.replace("Test therapy", "Th\xe9rapie").encode("latin-1"))

    problem = only_problem(problems_for(tmp_path))

    assert problem.file == path
    assert problem.message.startswith("not valid UTF-8 text: ")


def test_it_accepts_areas_on_an_indication(tmp_path):
    write_therapy(
        tmp_path, changed('condition = "Depressed acne scars"', 'condition = "Acne scars"\nareas = ["face"]')
    )

    catalogue = catalogue_load([tmp_path], [])

    indication = catalogue.therapies["test_therapy"].indications[0]
    assert [area.value for area in indication.areas] == ["face"]
    assert indication.treats_area("face") and not indication.treats_area("legs")


def test_an_indication_without_areas_is_treated_on_any_area(tmp_path):
    write_therapy(tmp_path)

    indication = catalogue_load([tmp_path], []).therapies["test_therapy"].indications[0]

    assert indication.areas == []
    assert indication.treats_area("feet")


def test_it_names_an_unknown_area(tmp_path):
    write_therapy(
        tmp_path, changed('condition = "Depressed acne scars"', 'condition = "Scars"\nareas = ["elbow"]')
    )

    problem = only_problem(problems_for(tmp_path))

    assert problem.field == "indications.0.areas.0"
    assert "'elbow' is not allowed" in problem.message


def test_it_names_an_area_listed_twice(tmp_path):
    write_therapy(
        tmp_path,
        changed('condition = "Depressed acne scars"', 'condition = "Scars"\nareas = ["face", "face"]'),
    )

    problem = only_problem(problems_for(tmp_path))

    assert problem.field == "indications.0.areas.1"
    assert problem.message == "'face' is listed twice"

"""The facts of the clinical review (DOMAIN.md §8) in the shipped catalogue, and the checks that keep
patient texts plain and the new sections consistent."""

import re
from pathlib import Path

import pytest

from cellclinic.catalogue import plain_words
from cellclinic.catalogue.loader import (
    BUILTIN_ALTERNATIVES_FILE,
    BUILTIN_STEPS_FILE,
    CatalogueError,
    catalogue_load,
    load_steps,
    patient_texts,
)
from cellclinic.catalogue.schema import StepCode, iter_nodes
from cellclinic.catalogue.tests.helpers import VALID_THERAPY, changed, write_therapy

LAVIV = "autologous_fibroblast_injection"
ACNE = "autologous_fibroblast_injection_acne_scars"
ASCS = "autologous_skin_cell_suspension"
MKTP = "melanocyte_keratinocyte_transplant"
APLIGRAF = "bilayered_living_cell_construct"
DERMAGRAFT = "cryopreserved_fibroblast_dermal_substitute"


@pytest.fixture(scope="module")
def catalogue():
    return catalogue_load()


def restrictions(therapy):
    return {r.code: r for r in [*therapy.contraindications, *therapy.cautions]}


def indication(therapy, words: str):
    """The one indication of THERAPY whose condition contains WORDS."""
    [found] = [i for i in therapy.indications if words in i.condition]
    return found


def requirements(item) -> dict:
    """fact -> (equals, at_least, at_most) of an indication's requirements."""
    return {r.fact.value: (r.equals, r.at_least, r.at_most) for r in item.requires}


def patient_lines(therapy, section: str) -> str:
    return " ".join(line.text for line in getattr(therapy.patient, section))


# Age limits


def test_the_acne_scar_trial_enrols_adults_from_18_to_65(catalogue):
    [scars] = catalogue.therapies[ACNE].indications

    assert (scars.min_age_years.value, scars.max_age_years.value) == (18, 65)
    assert scars.min_age_years.source == ["S11"] and scars.max_age_years.source == ["S11"]


def test_the_cell_suspension_treats_full_thickness_defects_from_15_years(catalogue):
    defects = indication(catalogue.therapies[ASCS], "Full-thickness skin defects")

    assert defects.min_age_years.value == 15
    assert {"S13", "S20"} <= set(defects.min_age_years.source)


def test_the_cell_suspension_treats_acute_thermal_burns_from_1_month_of_age(catalogue):
    burns = indication(catalogue.therapies[ASCS], "Acute full-thickness thermal burns")

    assert burns.min_age_months.value == 1
    assert burns.min_age_years is None
    assert {"S13", "S20"} <= set(burns.min_age_months.source)


def test_the_cell_suspension_keeps_the_label_limit_for_partial_thickness_burns(catalogue):
    therapy = catalogue.therapies[ASCS]
    partial = indication(therapy, "partial-thickness")

    assert partial.min_age_years.value == 18
    assert partial.min_age_years.source == ["S13"]
    assert any("partial-thickness" in gap.text for gap in therapy.gaps)


def test_mktp_is_for_adults_only_until_a_source_says_otherwise(catalogue):
    therapy = catalogue.therapies[MKTP]

    for item in therapy.indications:
        assert item.min_age_years.value == 18
        assert item.min_age_years.unverified is True
        assert "no source gives an age limit" in item.min_age_years.note
    assert any(gap.topic == "Age limit" for gap in therapy.gaps)


def test_the_nasolabial_fold_injection_is_for_adults_only(catalogue):
    [folds] = catalogue.therapies[LAVIV].indications

    assert folds.min_age_years.value == 18
    assert "S2" in folds.min_age_years.source


# Label qualifiers


def test_the_cell_suspension_treats_acute_burns_only(catalogue):
    burns = [i for i in catalogue.therapies[ASCS].indications if i.code == "burn"]

    assert len(burns) == 2
    for item in burns:
        assert "Acute" in item.condition
        assert requirements(item) == {"wound_open": (True, None, None)}


def test_the_cell_suspension_treats_open_full_thickness_wounds(catalogue):
    defects = indication(catalogue.therapies[ASCS], "Full-thickness skin defects")

    assert requirements(defects) == {"wound_open": (True, None, None)}


def test_the_cell_suspension_for_vitiligo_needs_tried_treatments_and_diagnosed_patches(catalogue):
    [vitiligo] = [i for i in catalogue.therapies[ASCS].indications if i.code == "vitiligo"]

    assert requirements(vitiligo) == {
        "patches_diagnosed": (True, None, None),
        "vitiligo_treatments_tried": (True, None, None),
    }
    tried = next(r for r in vitiligo.requires if r.fact == "vitiligo_treatments_tried")
    assert "3 months of light treatment" in tried.text and tried.source == ["S18"]


def test_mktp_needs_diagnosed_patches_for_every_indication(catalogue):
    for item in catalogue.therapies[MKTP].indications:
        assert requirements(item) == {"patches_diagnosed": (True, None, None)}, item.code


def test_the_bilayered_construct_needs_label_ulcers(catalogue):
    therapy = catalogue.therapies[APLIGRAF]
    leg = indication(therapy, "Venous leg ulcer")
    foot = indication(therapy, "diabetic foot ulcer")

    common = {
        "wound_open": (True, None, None),
        "wound_improving": (False, None, None),
        "tendon_or_bone_exposed": (False, None, None),
    }
    assert requirements(leg) == {**common, "weeks_of_wound_care": (None, 4, None)}
    assert requirements(foot) == {**common, "weeks_of_wound_care": (None, 3, None)}
    assert all(r.source == ["S43"] for r in [*leg.requires, *foot.requires])


def test_the_fibroblast_dermal_substitute_needs_six_weeks_of_wound_care(catalogue):
    [ulcer] = catalogue.therapies[DERMAGRAFT].indications

    assert requirements(ulcer) == {
        "wound_open": (True, None, None),
        "wound_improving": (False, None, None),
        "tendon_or_bone_exposed": (False, None, None),
        "weeks_of_wound_care": (None, 6, None),
    }
    assert all(r.source == ["S44"] for r in ulcer.requires)


def test_fibroblast_injection_for_scars_needs_a_healed_scar(catalogue):
    [scars] = catalogue.therapies[ACNE].indications

    assert requirements(scars) == {"wound_open": (False, None, None)}


def test_the_bilayered_construct_records_its_label_limitations(catalogue):
    therapy = catalogue.therapies[APLIGRAF]

    cautions = restrictions(therapy)
    assert "pressure ulcers" in cautions["not_established_acute_wounds_burns_pressure_ulcers"].text
    assert cautions["not_established_pregnancy"].screening == "pregnant_or_breastfeeding"
    limitations = " ".join(e.finding for e in therapy.evidence if e.kind == "limitation")
    assert all(word in limitations for word in ("acute wounds", "burns", "pressure ulcers", "pregnancy"))


def test_the_fibroblast_dermal_substitute_contraindications_keep_the_unconfirmed_one_apart(catalogue):
    therapy = catalogue.therapies[DERMAGRAFT]
    contraindications = {r.code: r for r in therapy.contraindications}

    assert "sinus tracts" in contraindications["infected_ulcer"].text
    assert contraindications["infected_ulcer"].unverified is False
    bovine = contraindications["bovine_product_hypersensitivity"]
    assert bovine.unverified is True and bovine.source == []
    assert bovine.screening == "animal_material"
    assert "bovine" not in bovine.patient.lower()


def test_the_fibroblast_dermal_substitute_has_its_label_precautions(catalogue):
    cautions = restrictions(catalogue.therapies[DERMAGRAFT])

    assert cautions["charcot_foot"].source == ["S44"]
    assert cautions["cytotoxic_or_radiation_therapy"].screening == "immunosuppressed"
    assert cautions["topical_agents"].handling is True


def test_the_fibroblast_dermal_substitute_cells_come_from_neonatal_foreskin(catalogue):
    assert "neonatal foreskin" in catalogue.therapies[DERMAGRAFT].cell_type.lower()


def test_the_fibroblast_dermal_substitute_shelf_life_counts_from_cryopreservation(catalogue):
    frozen = next(s for s in catalogue.therapies[DERMAGRAFT].shelf_life if s.unit == "months")

    assert (frozen.max, frozen.after, frozen.unverified) == (6, "cryopreservation", False)


# Missing contraindications and cautions


def test_the_cell_suspension_warns_that_its_enzyme_is_animal_derived(catalogue):
    enzyme = restrictions(catalogue.therapies[ASCS])["animal_derived_enzyme"]

    assert "porcine" in enzyme.text and "cannot be guaranteed" in enzyme.text
    assert enzyme.source == ["S13"] and enzyme.screening == "animal_material"


def test_mktp_warns_that_its_enzyme_may_be_animal_derived(catalogue):
    enzyme = restrictions(catalogue.therapies[MKTP])["animal_derived_enzyme"]

    assert "S13" in enzyme.source
    assert enzyme.indications == []


def test_mktp_cautions_serve_every_indication(catalogue):
    therapy = catalogue.therapies[MKTP]

    for code in ("keloid_history", "skin_cancer", "photosensitivity", "blood_borne_virus"):
        assert restrictions(therapy)[code].indications == [], code
    assert set(therapy.indication_codes) == {"vitiligo", "hypopigmentation"}


def test_the_nasolabial_fold_injection_is_given_by_trained_providers_only(catalogue):
    training = restrictions(catalogue.therapies[LAVIV])["trained_providers_only"]

    assert training.handling is True and training.source == ["S1"]


def test_adventitious_virus_testing_is_marked_unverified(catalogue):
    therapy = catalogue.therapies[LAVIV]
    viruses = restrictions(therapy)["adventitious_virus_testing"]

    assert viruses.unverified is True and viruses.source == []
    assert "tested" not in viruses.patient
    assert any("adventitious" in gap.text for gap in therapy.gaps)


def test_instructions_to_the_team_are_marked_as_handling(catalogue):
    for code, restriction in [
        (LAVIV, "allogeneic_use"),
        (ASCS, "autologous_only"),
        (ASCS, "cytotoxic_agents"),
        (APLIGRAF, "cytotoxic_wound_agents"),
    ]:
        assert restrictions(catalogue.therapies[code])[restriction].handling is True, (code, restriction)


# The acne-scar trial (NCT00642642)


def test_the_acne_scar_harvest_is_3_mm_punch_biopsies_behind_the_ear(catalogue):
    harvest = catalogue.therapies[ACNE].harvest

    assert "punch" in harvest.what and "Behind the ear" in harvest.where
    assert [(f.value, f.unit) for f in harvest.size] == [(3, "mm")]
    assert harvest.source == ["S11"]


def test_the_acne_scar_sessions_are_14_plus_or_minus_7_days_apart(catalogue):
    sessions = catalogue.therapies[ACNE].sessions

    assert sessions.count.value == 3
    assert (sessions.interval_days.min, sessions.interval_days.max) == (7, 21)
    assert sessions.interval_days.source == ["S11"]


def test_the_acne_scar_primary_endpoint_is_4_months_after_the_last_treatment(catalogue):
    [schedule] = catalogue.therapies[ACNE].follow_up
    [primary] = [v for v in schedule.visits if v.primary_endpoint]

    assert (primary.at, primary.unit, schedule.anchor) == (4, "months", "last_treatment")
    assert schedule.source == ["S11"]


def test_the_acne_scar_trial_reports_its_responder_rates(catalogue):
    evidence = catalogue.therapies[ACNE].evidence

    responders = {(e.measure, e.value, e.comparator_value) for e in evidence if e.kind == "efficacy"}
    assert responders == {("Subject-assessed responders", 43, 18), ("Evaluator-assessed responders", 59, 42)}


def test_the_acne_scar_trial_exclusions_are_cautions(catalogue):
    cautions = restrictions(catalogue.therapies[ACNE])

    exclusions = {code: r for code, r in cautions.items() if code.startswith("trial_exclusion_")}
    assert set(exclusions) == {
        "trial_exclusion_isotretinoin",
        "trial_exclusion_active_acne",
        "trial_exclusion_hypertrophic_cheek_scars",
        "trial_exclusion_bleeding",
        "trial_exclusion_heavy_smoking",
    }
    assert all(r.source == ["S11"] for r in exclusions.values())
    assert exclusions["trial_exclusion_bleeding"].screening == "bleeding_disorder_or_anticoagulants"
    assert exclusions["trial_exclusion_hypertrophic_cheek_scars"].screening == "keloid_history"


def test_the_acne_scar_treatment_is_offered_within_its_study(catalogue):
    therapy = catalogue.therapies[ACNE]

    assert therapy.investigational is True
    assert therapy.study.registry == "NCT00642642"
    assert therapy.study.source == ["S11"]
    assert "research study" in therapy.study.statement


# Follow-up schedules and efficacy figures


def test_the_bilayered_construct_has_a_follow_up_schedule_marked_unverified(catalogue):
    [schedule] = catalogue.therapies[APLIGRAF].follow_up

    assert schedule.unverified is True and schedule.source == []
    assert schedule.visits[-1].text == "12 weeks"


def test_mktp_has_a_follow_up_schedule_marked_unverified(catalogue):
    [schedule] = catalogue.therapies[MKTP].follow_up

    assert schedule.unverified is True
    assert (schedule.visits[0].at, schedule.visits[0].unit) == (2, "months")


def test_the_fibroblast_dermal_substitute_reports_ulcer_closure_by_week_12(catalogue):
    [closure] = [e for e in catalogue.therapies[DERMAGRAFT].evidence if e.kind == "efficacy"]

    assert (closure.value, closure.comparator_value, closure.timepoint) == (30.0, 18.3, "Week 12")
    assert closure.source == ["S44"]


# Sources


def test_the_cell_suspension_cites_the_label_rather_than_a_mirror_for_vitiligo(catalogue):
    [vitiligo] = [i for i in catalogue.therapies[ASCS].indications if i.code == "vitiligo"]

    assert "S17" not in vitiligo.source and "S13" in vitiligo.source
    assert "S17" not in vitiligo.min_age_years.source


def test_a_source_tag_means_the_same_source_in_every_file(catalogue):
    tables = [therapy.sources for therapy in catalogue.therapies.values()]
    tables += [catalogue.step_sources, catalogue.alternative_sources]
    seen: dict[str, str] = {}
    for table in tables:
        for tag, text in table.items():
            assert seen.setdefault(tag, text) == text, tag


def test_the_steps_file_cites_only_sources_it_lists(catalogue):
    cited = {
        tag
        for step in catalogue.steps.values()
        for _, node in iter_nodes(step)
        for tag in getattr(node, "source", None) or ()
    }

    assert cited == set(catalogue.step_sources)


# Patient texts


def test_every_patient_text_is_plain(catalogue):
    nodes = [*catalogue.therapies.values(), *catalogue.steps.values(), *catalogue.alternatives.values()]
    for node in nodes:
        for path, text in patient_texts(node):
            assert plain_words.problems(text) == [], (path, text)


def test_every_therapy_has_a_plain_name_for_patients(catalogue):
    for code, therapy in catalogue.therapies.items():
        assert therapy.patient.name and therapy.plain_name == therapy.patient.name, code
        assert plain_words.problems(therapy.plain_name) == [], code


def test_patient_texts_speak_to_the_patient(catalogue):
    for code, therapy in catalogue.therapies.items():
        assert re.search(r"\byour?\b", therapy.patient.about, re.IGNORECASE), code
        for restriction in [*therapy.contraindications, *therapy.cautions]:
            assert restriction.patient, (code, restriction.code)


def test_no_ulcer_or_burn_therapy_promises_normal_activities_the_next_day(catalogue):
    for code, therapy in catalogue.therapies.items():
        texts = " ".join(text for _, text in patient_texts(therapy)).lower()
        assert "normal activities" not in texts, code


def test_cultured_products_warn_that_culture_can_fail_and_takes_months(catalogue):
    for code in (LAVIV, ACNE):
        risks = patient_lines(catalogue.therapies[code], "risks")
        assert "skin taken again" in risks or "skin samples taken again" in risks, code
        everything = risks + patient_lines(catalogue.therapies[code], "how")
        assert "months" in everything, code


def test_the_cultured_injections_warn_that_a_missed_session_wastes_a_dose(catalogue):
    for code in (LAVIV, ACNE):
        therapy = catalogue.therapies[code]
        [line] = [line for line in therapy.patient.risks if "missed session" in line.text]
        assert "S6" in line.source, code


def test_donor_cell_products_warn_of_a_residual_infection_risk(catalogue):
    for code in (APLIGRAF, DERMAGRAFT):
        risks = patient_lines(catalogue.therapies[code], "risks")
        assert "donated cells" in risks and "cannot be ruled out" in risks, code


def test_animal_derived_reagents_are_in_the_patient_risks(catalogue):
    assert "cattle" in patient_lines(catalogue.therapies[LAVIV], "risks")
    assert "pigs" in patient_lines(catalogue.therapies[ASCS], "risks")
    assert "from animals" in patient_lines(catalogue.therapies[MKTP], "risks")
    assert "cattle" in patient_lines(catalogue.therapies[APLIGRAF], "risks")


def test_donor_site_scarring_reaches_every_patient_who_gives_skin(catalogue):
    harvest = catalogue.steps["harvest"]

    assert any("scar" in line.text for line in harvest.risks)
    for code, therapy in catalogue.therapies.items():
        assert (StepCode.HARVEST in therapy.steps) == therapy.autologous, code


def test_the_benefits_carry_the_published_figures(catalogue):
    expected = {
        LAVIV: ["30 out of 100", "8 out of 100", "59 out of 100", "26 out of 100"],
        ACNE: ["43 out of 100", "18 out of 100", "59 out of 100", "42 out of 100"],
        ASCS: ["36 out of 100", "26 out of 100"],
        DERMAGRAFT: ["30 out of 100", "18 out of 100"],
    }
    for code, figures in expected.items():
        benefits = patient_lines(catalogue.therapies[code], "benefits")
        assert all(figure in benefits for figure in figures), code


def test_indication_specific_patient_lines_are_scoped(catalogue):
    therapy = catalogue.therapies[ASCS]

    vitiligo = [line for line in therapy.patient.benefits if "colour" in line.text]
    assert vitiligo and all(line.indications == ["vitiligo"] for line in vitiligo)
    burns = [line for line in therapy.patient.recovery if "burn" in line.text]
    assert burns and all(set(line.indications) == {"burn", "wound"} for line in burns)


def test_every_alternative_has_plain_words_for_the_patient(catalogue):
    for code, alternative in catalogue.alternatives.items():
        assert alternative.patient_summary, code
        for line in alternative.patient_better_when:
            assert "patient" not in line.lower(), (code, line)
        assert any(re.search(r"\byour?\b", line, re.IGNORECASE) for line in alternative.patient_better_when)


# The steps of the procedures


def test_each_therapy_lists_its_steps_in_order(catalogue):
    steps = {code: [s.value for s in t.steps] for code, t in catalogue.therapies.items()}

    assert steps == {
        LAVIV: ["harvest", "injection"],
        ACNE: ["harvest", "injection"],
        ASCS: ["harvest", "bed_preparation", "application"],
        MKTP: ["harvest", "bed_preparation", "application"],
        APLIGRAF: ["bed_preparation", "application"],
        DERMAGRAFT: ["bed_preparation", "application"],
    }


def test_each_step_brings_its_screening_risks(catalogue):
    screening = {code: {r.screening.value for r in step.screening} for code, step in catalogue.steps.items()}

    assert screening == {
        "harvest": {
            "anaesthetic",
            "bleeding_disorder_or_anticoagulants",
            "keloid_history",
            "immunosuppressed",
            "active_skin_infection",
        },
        "bed_preparation": {
            "anaesthetic",
            "bleeding_disorder_or_anticoagulants",
            "keloid_history",
            "herpes_labialis",
        },
        "injection": {
            "anaesthetic",
            "bleeding_disorder_or_anticoagulants",
            "keloid_history",
            "herpes_labialis",
            "skin_cancer_or_malignancy",
        },
        "application": {"active_skin_infection", "immunosuppressed"},
    }


def test_step_risks_without_a_source_are_marked_unverified(catalogue):
    unverified = {
        (code, r.screening.value)
        for code, step in catalogue.steps.items()
        for r in step.screening
        if r.unverified
    }

    assert unverified == {
        ("harvest", "immunosuppressed"),
        ("bed_preparation", "bleeding_disorder_or_anticoagulants"),
        ("bed_preparation", "herpes_labialis"),
        ("injection", "anaesthetic"),
    }
    for step in catalogue.steps.values():
        for risk in step.screening:
            assert risk.source or risk.unverified


def test_no_shipped_therapy_exempts_a_screening_answer_without_a_source(catalogue):
    for therapy in catalogue.therapies.values():
        assert all(exemption.source for exemption in therapy.exemptions)


# The loader refuses patient texts that are not plain


def loading_problems(*args, **kwargs):
    with pytest.raises(CatalogueError) as caught:
        catalogue_load(*args, **kwargs)
    return caught.value.problems


def test_the_loader_refuses_a_marker_in_a_patient_text(tmp_path):
    write_therapy(
        tmp_path,
        changed(
            'about = "Your own skin cells are grown in a laboratory and injected into your scars."',
            'about = "The patient\'s own cells are grown in a laboratory (unverified)."',
        ),
    )

    problems = loading_problems([tmp_path], [])

    assert {p.field for p in problems} == {"patient.about"}
    messages = " ".join(p.message for p in problems)
    assert "unverified" in messages and "the patient" in messages.lower()


def test_the_loader_refuses_unexplained_jargon_in_a_patient_line(tmp_path):
    write_therapy(
        tmp_path,
        changed(
            'text = "A small piece of skin is taken from behind your ear."',
            'text = "A split-thickness graft is taken from behind your ear."',
        ),
    )

    [problem] = loading_problems([tmp_path], [])

    assert problem.field == "patient.how.0.text"
    assert "split-thickness" in problem.message


def test_the_loader_accepts_jargon_with_its_plain_explanation(tmp_path):
    write_therapy(
        tmp_path,
        changed(
            'text = "A small piece of skin is taken from behind your ear."',
            'text = "A thin (split-thickness) layer of skin is taken from behind your ear."',
        ),
    )

    assert "test_therapy" in catalogue_load([tmp_path], []).therapies


@pytest.mark.parametrize(
    ("addition", "field"),
    [
        (
            '\n[[contraindications]]\ncode = "x"\ntext = "Anticoagulants"\npatient = "Anticoagulants [S1]"\n'
            'source = "S1"\n',
            "contraindications.0.patient",
        ),
        (
            '\n[[indications.requires]]\nfact = "wound_open"\nequals = false\n'
            'text = "for scars, not stated otherwise"\nsource = "S1"\n',
            "indications.0.requires.0.text",
        ),
    ],
)
def test_the_loader_checks_restrictions_and_requirements(tmp_path, addition, field):
    anchor = 'condition = "Depressed acne scars"\nsource = "S1"\n'
    write_therapy(tmp_path, changed(anchor, anchor + addition))

    problems = loading_problems([tmp_path], [])

    assert field in {p.field for p in problems}


def test_the_loader_checks_the_study_statement(tmp_path):
    study = (
        'investigational = true\n\n[study]\ntitle = "A trial"\nregistry = "NCT00000001"\n'
        'statement = "Intradermal injection in a trial."\nsource = "S1"\n'
    )
    text = changed('steps = ["harvest", "injection"]\n', 'steps = ["harvest", "injection"]\n' + study)
    write_therapy(tmp_path, text)

    [problem] = loading_problems([tmp_path], [])

    assert problem.field == "study.statement"
    assert "Intradermal" in problem.message


def test_the_loader_checks_the_patient_texts_of_the_steps(tmp_path):
    text = BUILTIN_STEPS_FILE.read_text(encoding="utf-8").replace(
        'name = "Taking a small piece of your own skin"', 'name = "Autologous harvest"', 1
    )
    path = tmp_path / "steps.toml"
    path.write_text(text, encoding="utf-8")

    problems = loading_problems(steps_file=path)

    assert [(p.file, p.field) for p in problems] == [(path, "steps.0.name")]


def test_the_loader_checks_the_patient_texts_of_the_alternatives(tmp_path):
    text = BUILTIN_ALTERNATIVES_FILE.read_text(encoding="utf-8").replace(
        '"You would rather not have a small piece of skin taken"',
        '"The patient prefers to avoid a biopsy"',
        1,
    )
    path = tmp_path / "alternatives.toml"
    path.write_text(text, encoding="utf-8")

    problems = loading_problems(alternative_files=[path])

    assert [p.field for p in problems] == ["alternatives.0.patient_better_when.2"]


# The schema's new checks


def therapy_problems(tmp_path, text: str) -> dict[str, str]:
    write_therapy(tmp_path, text)
    return {p.field: p.message for p in loading_problems([tmp_path], [])}


REQUIREMENT_ANCHOR = 'condition = "Depressed acne scars"\nsource = "S1"\n'


@pytest.mark.parametrize(
    ("requirement", "field", "message"),
    [
        ('fact = "wound_open"\nat_least = 1', "equals", "'wound_open' is a yes/no fact"),
        ('fact = "wound_open"', "equals", "'wound_open' is a yes/no fact"),
        (
            'fact = "weeks_of_wound_care"\nequals = true',
            "at_least",
            "'weeks_of_wound_care' is a number of weeks",
        ),
        (
            'fact = "weeks_of_wound_care"\nat_least = 6\nat_most = 4',
            "at_most",
            "must be at least at_least (6)",
        ),
    ],
)
def test_a_requirement_fits_the_kind_of_its_fact(tmp_path, requirement, field, message):
    block = f'\n[[indications.requires]]\n{requirement}\ntext = "for an ulcer"\nsource = "S1"\n'

    problems = therapy_problems(tmp_path, changed(REQUIREMENT_ANCHOR, REQUIREMENT_ANCHOR + block))

    assert message in problems[f"indications.0.requires.0.{field}"]


def test_a_requirement_names_a_known_fact(tmp_path):
    block = (
        '\n[[indications.requires]]\nfact = "shoe_size"\nat_least = 4\ntext = "for big feet"\nsource = "S1"\n'
    )

    problems = therapy_problems(tmp_path, changed(REQUIREMENT_ANCHOR, REQUIREMENT_ANCHOR + block))

    assert "'shoe_size' is not allowed" in problems["indications.0.requires.0.fact"]


def test_an_age_limit_is_in_years_or_months_and_the_maximum_is_above_the_minimum(tmp_path):
    ages = 'min_age_years = { value = 18, source = "S1" }\nmin_age_months = { value = 1, source = "S1" }\n'
    ages += 'max_age_years = { value = 16, source = "S1" }\n'

    problems = therapy_problems(tmp_path, changed(REQUIREMENT_ANCHOR, ages + REQUIREMENT_ANCHOR))

    assert problems["indications.0.min_age_months"] == "give min_age_years or min_age_months, not both"
    assert problems["indications.0.max_age_years"] == "must be at least min_age_years (18)"


def test_the_steps_list_harvest_exactly_when_there_is_a_harvest(tmp_path):
    problems = therapy_problems(
        tmp_path, changed('steps = ["harvest", "injection"]', 'steps = ["injection"]')
    )

    assert problems == {"steps": "lists harvest exactly when the therapy has a harvest section"}


def test_a_donor_product_lists_no_harvest_step(tmp_path):
    text = changed('cell_source = "autologous"', 'cell_source = "allogeneic"')
    text = changed('[harvest]\nwhat = "Punch biopsy"\nwhere = "Behind the ear"\n\n', "", text)

    problems = therapy_problems(tmp_path, text)

    assert problems == {"steps": "lists harvest exactly when the therapy has a harvest section"}


def test_each_step_is_listed_once(tmp_path):
    problems = therapy_problems(
        tmp_path, changed('steps = ["harvest", "injection"]', 'steps = ["harvest", "injection", "injection"]')
    )

    assert problems == {"steps": "each step once"}


def test_a_therapy_needs_steps_and_patient_texts(tmp_path):
    text = changed('steps = ["harvest", "injection"]\n', "")
    text = text[: text.index("[patient]")] + text[text.index("[sources]") :]

    problems = therapy_problems(tmp_path, text)

    assert problems == {"steps": "required field is missing", "patient": "required field is missing"}


def test_an_investigational_therapy_needs_its_study(tmp_path):
    problems = therapy_problems(
        tmp_path,
        changed(
            'steps = ["harvest", "injection"]\n', 'steps = ["harvest", "injection"]\ninvestigational = true\n'
        ),
    )

    assert problems == {
        "study": "required for an investigational therapy (it is offered only within a study)"
    }


def test_a_study_names_its_registry_entry(tmp_path):
    study = (
        'investigational = true\n\n[study]\ntitle = "A trial"\nregistry = "trial 7"\n'
        'statement = "A research study."\nsource = "S1"\n'
    )
    text = changed('steps = ["harvest", "injection"]\n', 'steps = ["harvest", "injection"]\n' + study)

    problems = therapy_problems(tmp_path, text)

    assert "study.registry" in problems


def test_an_exemption_needs_a_source(tmp_path):
    block = '\n[[exemptions]]\nscreening = "herpes_labialis"\nwhy = "Not treated on the face"\n'

    problems = therapy_problems(tmp_path, changed("\n[patient]\n", block + "\n[patient]\n"))

    assert problems == {"exemptions.0.source": "required field is missing"}


def test_an_exemption_with_a_source_loads(tmp_path):
    block = (
        '\n[[exemptions]]\nscreening = "herpes_labialis"\nwhy = "Not treated on the face"\nsource = "S1"\n'
    )
    write_therapy(tmp_path, changed("\n[patient]\n", block + "\n[patient]\n"))

    therapy = catalogue_load([tmp_path], []).therapies["test_therapy"]

    assert [e.screening.value for e in therapy.exemptions] == ["herpes_labialis"]


def test_an_exemption_is_listed_once(tmp_path):
    block = (
        '\n[[exemptions]]\nscreening = "herpes_labialis"\nwhy = "Not treated on the face"\nsource = "S1"\n'
    )

    problems = therapy_problems(tmp_path, changed("\n[patient]\n", block + block + "\n[patient]\n"))

    assert problems == {"exemptions.1.screening": "listed twice"}


def steps_text(transform) -> str:
    return transform(BUILTIN_STEPS_FILE.read_text(encoding="utf-8"))


def steps_problems(tmp_path: Path, text: str) -> list:
    path = tmp_path / "steps.toml"
    path.write_text(text, encoding="utf-8")
    parsed, problems = load_steps(path)
    assert parsed is None
    return [(p.field, p.message) for p in problems]


def test_the_steps_file_defines_every_step(tmp_path):
    def drop_application(text: str) -> str:
        start = text.index('[[steps]]\ncode = "application"')
        return text[:start] + text[text.index("[sources]") :]

    problems = steps_problems(tmp_path, steps_text(drop_application))

    assert problems == [("steps", "define step 'application' exactly once")]


def test_the_steps_file_defines_each_step_once(tmp_path):
    def repeat_injection(text: str) -> str:
        return text.replace('code = "application"', 'code = "injection"', 1)

    problems = steps_problems(tmp_path, steps_text(repeat_injection))

    assert ("steps", "define step 'injection' exactly once") in problems
    assert ("steps", "define step 'application' exactly once") in problems


def test_a_step_risk_needs_a_source_or_the_unverified_flag(tmp_path):
    def drop_flag(text: str) -> str:
        return text.replace("unverified = true\n", "", 1)

    problems = steps_problems(tmp_path, steps_text(drop_flag))

    assert problems == [
        ("steps.0.screening.3.source", 'needs a source tag (e.g. "S1"), or unverified = true')
    ]


def test_the_shipped_valid_therapy_fixture_still_loads(tmp_path):
    write_therapy(tmp_path, VALID_THERAPY)

    assert catalogue_load([tmp_path], []).therapies["test_therapy"].patient.how


def test_the_loader_checks_the_plain_name(tmp_path):
    write_therapy(
        tmp_path,
        changed(
            'name = "Injections of your own lab-grown skin cells"', 'name = "Autologous fibroblast injection"'
        ),
    )

    problems = loading_problems([tmp_path], [])

    assert {p.field for p in problems} == {"patient.name"}
    assert {"Autologous", "fibroblast"} <= {m for p in problems for m in re.findall(r"'(\w+)'", p.message)}

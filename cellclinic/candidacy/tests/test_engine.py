"""The rules engine: each rule by example, and the properties that must hold for every answer."""

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cellclinic.candidacy.engine import (
    AREAS,
    CONCERNS,
    EXPECTATIONS,
    FITNESS_KEY,
    HEALTH_KEYS,
    SEVERITY,
    Answers,
    Condition,
    RuleSetError,
    evaluate,
    ruleset_load,
    ruleset_parse,
    ruleset_version,
)
from cellclinic.candidacy.engine import RULES_FILE as RULES_PATH
from cellclinic.catalogue.loader import catalogue_load
from cellclinic.catalogue.vocabulary import ALLERGY_CODES

CATALOGUE = catalogue_load()
RULES = ruleset_load()
HEALTHY = {key: key == FITNESS_KEY for key in HEALTH_KEYS}
ASCS = "autologous_skin_cell_suspension"
MKTP = "melanocyte_keratinocyte_transplant"
FIBROBLAST = "autologous_fibroblast_injection"
ACNE = "autologous_fibroblast_injection_acne_scars"
BILAYERED = "bilayered_living_cell_construct"
DERMAGRAFT = "cryopreserved_fibroblast_dermal_substitute"


def answers(
    concerns=("vitiligo",), area="face", age=34, health=None, expectation="gradual_improvement", **kw
):
    condition = Condition(
        vitiligo_stable_months=kw.pop("stable", 18),
        wound_open=kw.pop("wound_open", None),
        months_since_injury=kw.pop("months_since_injury", None),
    )
    return Answers(
        concerns=tuple(concerns),
        area=area,
        age=age,
        health={**HEALTHY, **(health or {})},
        condition=condition,
        expectation=expectation,
        **kw,
    )


def run(**kw):
    return evaluate(answers(**kw), CATALOGUE, RULES)


def rules_fired(result) -> list[str]:
    """The general rule of each reason, without the catalogue entry it was applied to."""
    return [reason.rule.split(":")[0] for reason in result.reasons]


def test_a_rule_applied_to_a_catalogue_entry_names_the_therapy_and_the_restriction():
    result = run(health={"active_skin_infection": True})

    rules = [reason.rule for reason in result.reasons]
    assert "contraindication:autologous_skin_cell_suspension.infected_or_necrotic_bed" in rules
    assert "caution:autologous_skin_cell_suspension.donor_site_infection" in rules
    assert "active_infection" in rules


def therapy_codes(result) -> list[str]:
    return [therapy.code for therapy in result.therapies]


# ---------------------------------------------------------------------------------------------------
# Examples, one rule at a time.


def test_healthy_stable_vitiligo_on_the_face_is_suitable_for_both_grafts():
    result = run()

    assert result.outcome == "suitable"
    assert therapy_codes(result) == [ASCS, MKTP]
    assert result.reasons == ()
    assert [a.code for a in result.alternatives] == [
        "nb_uvb_phototherapy",
        "topical_treatment_and_camouflage",
    ]


def test_pregnancy_is_not_suitable_now_and_says_why():
    result = run(health={"pregnant_or_breastfeeding": True})

    assert result.outcome == "not_suitable"
    reason = next(r for r in result.reasons if r.rule.split(":")[0] == "pregnancy")
    assert reason.effect == "not_suitable"
    assert reason.text.startswith("Not now")


def test_an_active_skin_infection_is_not_suitable_now_and_contraindicates_the_therapies():
    result = run(health={"active_skin_infection": True})

    assert result.outcome == "not_suitable"
    assert "active_infection" in rules_fired(result)
    assert "contraindication" in rules_fired(result)
    assert ASCS not in therapy_codes(result)


def test_not_being_fit_and_healthy_needs_a_consultation():
    result = run(health={FITNESS_KEY: False})

    assert result.outcome == "consult"
    assert rules_fired(result) == ["not_fit_and_healthy"]


def test_each_unanswered_question_is_named():
    result = run(health={"keloid_history": None, "cold_sores": None})

    assert result.outcome == "consult"
    (reason,) = result.reasons
    assert reason.rule.split(":")[0] == "unanswered"
    assert "raised (keloid) scars" in reason.text and "cold sores" in reason.text


@pytest.mark.parametrize("expectation", ["complete_removal", "instant_result"])
def test_an_unrealistic_expectation_is_never_suitable(expectation):
    result = run(expectation=expectation)

    assert result.outcome == "consult"
    assert rules_fired(result) == [f"expectation_{expectation}"]


def test_wanting_an_instant_result_puts_the_filler_reason_first():
    result = run(concerns=("premature_ageing",), expectation="instant_result")

    filler = next(a for a in result.alternatives if a.code == "dermal_filler")
    assert filler.why.startswith("You would like a result straight away")


def test_premature_ageing_suggests_a_filler_too():
    result = run(concerns=("premature_ageing",))

    assert therapy_codes(result) == [FIBROBLAST]
    filler = next(a for a in result.alternatives if a.code == "dermal_filler")
    assert "filler is often the simpler choice" in filler.why


def test_under_18_excludes_therapies_with_a_minimum_age():
    result = run(age=16)

    assert therapy_codes(result) == [MKTP]
    reason = next(r for r in result.reasons if r.rule.split(":")[0] == "under_minimum_age")
    assert "aged 18 and over" in reason.text and reason.effect == "note"
    assert result.outcome == "suitable"


def test_under_18_with_only_age_limited_therapies_is_not_suitable():
    result = run(concerns=("premature_ageing",), age=17)

    assert result.outcome == "not_suitable"
    assert {"under_minimum_age", "no_therapy_fits"} <= set(rules_fired(result))
    assert result.alternatives


def test_vitiligo_stable_for_too_short_a_time_is_not_suitable_when_it_is_the_only_concern():
    result = run(stable=6)

    assert result.outcome == "not_suitable"
    reason = next(r for r in result.reasons if r.rule.split(":")[0] == "vitiligo_not_stable_long_enough")
    assert reason.effect == "not_suitable"
    assert "at least 12 months" in reason.text and "6 months" in reason.text
    assert therapy_codes(result) == []
    phototherapy = next(a for a in result.alternatives if a.code == "nb_uvb_phototherapy")
    assert phototherapy.why.startswith("Light therapy can help")


def test_unstable_vitiligo_with_another_concern_needs_a_consultation():
    result = run(concerns=("vitiligo", "hypopigmentation"), stable=6)

    assert result.outcome == "consult"
    assert therapy_codes(result) == [MKTP]
    reason = next(r for r in result.reasons if r.rule.split(":")[0] == "vitiligo_not_stable_long_enough")
    assert reason.effect == "consult"


def test_unknown_vitiligo_stability_needs_a_consultation():
    result = run(stable=None)

    assert result.outcome == "consult"
    assert rules_fired(result) == ["vitiligo_stability_unknown"]


def test_the_stability_period_comes_from_the_catalogue(tmp_path):
    text = (
        (CATALOGUE.files[MKTP])
        .read_text(encoding="utf-8")
        .replace("stable_for_months = { value = 12", "stable_for_months = { value = 6")
    )
    (tmp_path / f"{MKTP}.toml").write_text(text, encoding="utf-8")
    catalogue = catalogue_load([tmp_path], [])

    result = evaluate(answers(stable=8), catalogue, RULES)

    assert result.outcome == "suitable"
    assert therapy_codes(result) == [MKTP]


@pytest.mark.parametrize(
    ("answer", "screening_text"),
    [
        ("keloid_history", "keloid"),
        ("bleeding_disorder_or_anticoagulants", "bleeding"),
        ("immunosuppressed", "immunosuppression"),
        ("collagen_disorder", "collagen"),
        ("skin_cancer_at_site", "cancer"),
        ("cold_sores", "herpes labialis"),
    ],
)
def test_a_caution_answered_yes_needs_a_consultation_naming_it(answer, screening_text):
    result = run(concerns=("premature_ageing",), health={answer: True})

    assert result.outcome == "consult"
    cautions = [r for r in result.reasons if r.rule.split(":")[0] == "caution"]
    assert cautions and all(r.effect == "consult" for r in cautions)
    assert any(screening_text in r.text.lower() for r in cautions)
    assert therapy_codes(result) == [FIBROBLAST]


def test_cold_sores_only_matter_for_the_face():
    result = run(concerns=("burn",), area="arms", health={"cold_sores": True})

    assert result.outcome == "suitable"
    assert result.reasons == ()


def test_the_areas_of_an_indication_limit_where_a_therapy_is_used():
    result = run(concerns=("wound",), area="legs", wound_open=True)

    assert therapy_codes(result) == [ASCS, BILAYERED]
    reason = next(r for r in result.reasons if r.rule.split(":")[0] == "area_not_treated")
    assert "feet only" in reason.text and reason.effect == "note"
    assert result.outcome == "suitable"


def test_the_donor_constructs_treat_open_wounds_only():
    result = run(concerns=("wound",), area="feet", wound_open=False)

    assert therapy_codes(result) == [ASCS]
    assert "healed_wound_for_donor_constructs" in rules_fired(result)


def test_a_scar_over_a_wound_still_open_waits_for_healing():
    result = run(concerns=("scar",), wound_open=True)

    assert result.outcome == "consult"
    assert "scar_wound_still_open" in rules_fired(result)


def test_a_recent_injury_marks_its_unverified_threshold():
    result = run(concerns=("scar",), months_since_injury=3)

    reason = next(r for r in result.reasons if r.rule.split(":")[0] == "scar_recent_injury")
    assert reason.effect == "consult" and "12 months" in reason.text and "unverified" in reason.text
    assert run(concerns=("scar",), months_since_injury=24).outcome == "suitable"


def test_a_coarse_component_allergy_needs_a_practitioner_to_find_out_which():
    result = run(health={"product_component_allergy": True})

    assert result.outcome == "consult"
    texts = [r.text for r in result.reasons if r.rule.split(":")[0] == "allergy_needs_detail"]
    assert any(r.startswith("Autologous skin cell suspension") for r in texts)
    assert any(r.startswith("Melanocyte-keratinocyte transplant") for r in texts)
    assert therapy_codes(result) == [ASCS, MKTP]


def test_detailed_allergies_match_contraindications_exactly():
    result = run(health={"product_component_allergy": True}, allergies=frozenset({"trypsin"}))

    assert "allergy_needs_detail" not in rules_fired(result)
    assert ASCS not in therapy_codes(result)
    fired = [(r.rule.split(":")[0], r.text.lower()) for r in result.reasons]
    assert any(rule == "contraindication" and "trypsin" in text for rule, text in fired)
    assert any(rule == "caution" and "trypsin" in text for rule, text in fired)
    assert result.outcome == "consult"


def test_a_detailed_allergy_that_no_therapy_lists_changes_nothing():
    assert run(allergies=frozenset({"dmso"})) == run(allergies=frozenset())


def test_the_anaesthetic_allergy_contraindicates_the_cell_suspension():
    result = run(health={"anaesthetic_allergy": True})

    assert therapy_codes(result) == [MKTP]
    assert "contraindication" in rules_fired(result)


def test_an_investigational_therapy_says_so():
    result = run(concerns=("scar",))

    (therapy,) = result.therapies
    assert therapy.code == ACNE
    assert any("Investigational" in why for why in therapy.reasons)
    (sheet,) = result.expectations["therapies"]
    assert sheet["investigational"] is True and sheet["investigational_note"]


def test_nothing_fits_sun_damage_so_it_is_not_suitable_with_alternatives():
    result = run(concerns=("sun_damage",))

    assert result.outcome == "not_suitable"
    assert rules_fired(result) == ["no_therapy_fits"]
    assert [a.code for a in result.alternatives] == ["laser_resurfacing"]


# ---------------------------------------------------------------------------------------------------
# Expectations.


def test_the_expectation_sheet_for_the_fibroblast_injection():
    (sheet,) = run(concerns=("premature_ageing",)).expectations["therapies"]

    treatment = " ".join(sheet["treatment"])
    assert "three 3-mm punch biopsies, behind the ear" in treatment
    assert "11–22 weeks" in treatment
    assert "3 treatment sessions, 21–42 days apart" in treatment
    assert any("red, itchy and sore" in line for line in sheet["recovery"])
    assert any("infection" in line for line in sheet["risks"])
    assert any("6 months after the last treatment" in line for line in sheet["results"])
    evaluator = sheet["evidence"][0]
    assert evaluator["result"] == "30% vs 8% with placebo"
    assert evaluator["timepoint"] == "6 months after the last treatment"
    assert evaluator["population"] == "Pooled phase III trials, n = 421"
    assert [s["tag"] for s in evaluator["sources"]] == ["S9", "S10"]
    assert evaluator["sources"][0]["text"].startswith("Phase III LAVIV data")


def test_the_cell_suspension_is_prepared_at_the_bedside_and_reports_the_vitiligo_figures():
    sheet = next(s for s in run().expectations["therapies"] if s["code"] == ASCS)

    assert "prepared at the bedside: this takes 15–30 minutes" in " ".join(sheet["treatment"])
    assert [e["result"] for e in sheet["evidence"]] == ["26% of lesions", "36% of lesions"]


def test_a_donor_product_takes_no_skin_sample():
    result = run(concerns=("wound",), area="feet", wound_open=True)
    sheet = next(s for s in result.expectations["therapies"] if s["code"] == DERMAGRAFT)

    assert sheet["treatment"][0] == RULES.texts["donor"]


def test_no_fitting_therapy_means_an_empty_sheet():
    assert run(concerns=("sun_damage",)).expectations == {"introduction": "", "therapies": []}


# ---------------------------------------------------------------------------------------------------
# The rules file and the version.


def test_the_ruleset_version_is_deterministic_and_changes_with_the_rules():
    again = ruleset_load()
    changed = ruleset_parse(RULES_PATH.read_text(encoding="utf-8").replace("Not now:", "Not at present:"))

    assert ruleset_version(RULES, CATALOGUE) == ruleset_version(again, CATALOGUE)
    assert ruleset_version(RULES, CATALOGUE) != ruleset_version(changed, CATALOGUE)
    assert ruleset_version(RULES, CATALOGUE).startswith("2026.11-")
    assert len(ruleset_version(RULES, CATALOGUE)) <= 40


def test_every_general_rule_has_a_readable_text_and_a_known_effect():
    for rule in RULES.rules:
        assert rule.effect in {"note", "consult", "not_suitable"}
        assert len(rule.text) > 20


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('kind = "health_no"', 'kind = "horoscope"', "unknown kind 'horoscope'"),
        ('effect = "not_suitable"', 'effect = "maybe"', "effect must be one of"),
        ('health = "pregnant_or_breastfeeding"', 'health = "smoker"', "unknown health key 'smoker'"),
        ('id = "caution"', 'id = "pregnancy"', "id is required and unique"),
        ('key = "cold_sores"', 'key = "hay_fever"', "key must be one of"),
        ("months = 12\n", "", "months is required"),
        ('version = "2026.11"', "", "version: required"),
    ],
)
def test_a_broken_rules_file_is_refused_with_the_problem_named(old, new, message):
    text = RULES_PATH.read_text(encoding="utf-8")
    assert old in text

    with pytest.raises(RuleSetError, match=message):
        ruleset_parse(text.replace(old, new, 1))


# ---------------------------------------------------------------------------------------------------
# Properties.

tri_state = st.sampled_from([True, False, None])
answers_strategy = st.builds(
    Answers,
    concerns=st.lists(st.sampled_from(CONCERNS), min_size=1, max_size=3, unique=True).map(tuple),
    area=st.sampled_from(AREAS),
    age=st.integers(min_value=0, max_value=100),
    health=st.fixed_dictionaries(dict.fromkeys(HEALTH_KEYS, tri_state)),
    condition=st.builds(
        Condition,
        vitiligo_stable_months=st.one_of(st.none(), st.integers(min_value=0, max_value=40)),
        wound_open=tri_state,
        months_since_injury=st.one_of(st.none(), st.integers(min_value=0, max_value=40)),
    ),
    expectation=st.sampled_from(list(EXPECTATIONS)),
    allergies=st.one_of(st.none(), st.frozensets(st.sampled_from(ALLERGY_CODES))),
)


def worse_or_equal(after: str, before: str) -> bool:
    return SEVERITY[after] >= SEVERITY[before]


@given(answers_strategy, st.sampled_from(HEALTH_KEYS))
def test_adding_a_contraindication_never_improves_the_outcome(given_answers, key):
    # For fitness, "no" is the worse answer; for every other question, "yes" is.
    better, worse = (True, False) if key == FITNESS_KEY else (False, True)
    before = evaluate(replace(given_answers, health={**given_answers.health, key: better}), CATALOGUE, RULES)
    after = evaluate(replace(given_answers, health={**given_answers.health, key: worse}), CATALOGUE, RULES)

    assert worse_or_equal(after.outcome, before.outcome)
    assert {t.code for t in after.therapies} <= {t.code for t in before.therapies}


@given(answers_strategy, st.sampled_from(ALLERGY_CODES))
def test_adding_a_detailed_allergy_never_improves_the_outcome(given_answers, code):
    known = given_answers.allergies or frozenset()
    before = evaluate(replace(given_answers, allergies=known - {code}), CATALOGUE, RULES)
    after = evaluate(replace(given_answers, allergies=known | {code}), CATALOGUE, RULES)

    assert worse_or_equal(after.outcome, before.outcome)


@given(answers_strategy)
def test_pregnancy_or_an_infection_is_never_suitable(given_answers):
    for key in ("pregnant_or_breastfeeding", "active_skin_infection"):
        result = evaluate(
            replace(given_answers, health={**given_answers.health, key: True}), CATALOGUE, RULES
        )
        assert result.outcome == "not_suitable"


@given(answers_strategy, st.integers(min_value=0, max_value=11))
def test_vitiligo_stable_for_fewer_months_than_configured_is_never_suitable(given_answers, months):
    concerns = tuple(dict.fromkeys(("vitiligo", *given_answers.concerns)))
    condition = replace(given_answers.condition, vitiligo_stable_months=months)

    result = evaluate(replace(given_answers, concerns=concerns, condition=condition), CATALOGUE, RULES)

    assert result.outcome != "suitable"
    assert "vitiligo" not in {c for t in result.expectations["therapies"] for c in t["concerns"]}


@given(answers_strategy)
def test_every_consult_or_not_suitable_names_a_reason_of_that_effect(given_answers):
    result = evaluate(given_answers, CATALOGUE, RULES)

    if result.outcome != "suitable":
        assert any(reason.effect == result.outcome for reason in result.reasons)
    else:
        assert all(reason.effect == "note" for reason in result.reasons)


@given(answers_strategy)
def test_the_result_is_deterministic_and_sorted(given_answers):
    first = evaluate(given_answers, CATALOGUE, RULES)
    second = evaluate(
        replace(given_answers, concerns=tuple(reversed(given_answers.concerns))), CATALOGUE, RULES
    )

    assert first.as_dict() == second.as_dict()
    assert [t.code for t in first.therapies] == sorted(t.code for t in first.therapies)
    assert [a.code for a in first.alternatives] == sorted(a.code for a in first.alternatives)
    keys = [(-SEVERITY[r.effect], r.rule, r.text) for r in first.reasons]
    assert keys == sorted(keys)

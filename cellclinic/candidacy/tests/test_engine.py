"""The rules engine by example: each kind of rule, each kind of exclusion, and the rules file itself."""

from dataclasses import replace

import pytest

from cellclinic.candidacy.engine import (
    CONDITION_KEYS,
    CONSULT,
    EXCLUDES,
    FITNESS_KEY,
    HEALTH_KEYS,
    NOT_SUITABLE,
    RULE_KINDS,
    SUITABLE,
    Answers,
    RuleSetError,
    evaluate,
    ruleset_load,
    ruleset_parse,
    ruleset_version,
)
from cellclinic.candidacy.engine import RULES_FILE as RULES_PATH
from cellclinic.catalogue.loader import catalogue_load
from cellclinic.catalogue.plain_words import problems as plain_word_problems
from cellclinic.catalogue.schema import Exemption

CATALOGUE = catalogue_load()
RULES = ruleset_load()
HEALTHY = {key: key == FITNESS_KEY for key in HEALTH_KEYS}
ASCS = "autologous_skin_cell_suspension"
MKTP = "melanocyte_keratinocyte_transplant"
FIBROBLAST = "autologous_fibroblast_injection"
ACNE = "autologous_fibroblast_injection_acne_scars"
BILAYERED = "bilayered_living_cell_construct"
DERMAGRAFT = "cryopreserved_fibroblast_dermal_substitute"
# Answers a careful clinician would call complete for each concern.
VITILIGO = {"patches_diagnosed": True, "vitiligo_stable_months": 18, "vitiligo_treatments_tried": True}
HEALED_SCAR = {"wound_open": False, "months_since_injury": 24}
ULCER = {
    "wound_open": True,
    "wound_infected": False,
    "months_since_injury": 6,
    "weeks_of_wound_care": 10,
    "wound_improving": False,
    "tendon_or_bone_exposed": False,
}


def answers(concerns=("vitiligo",), area="face", age=34, health=None, condition=None, **kw) -> Answers:
    return Answers(
        concerns=tuple(concerns),
        area=area,
        age=age,
        health={**HEALTHY, **(health or {})},
        condition={**dict.fromkeys(CONDITION_KEYS), **VITILIGO, **(condition or {})},
        **kw,
    )


def run(**kw):
    return evaluate(answers(**kw), CATALOGUE, RULES)


def rules_fired(result) -> list[str]:
    return [reason.rule.split(":")[0] for reason in result.reasons]


def fit(result, code):
    return next((t for t in result.therapies if t.code == code), None)


def exclusion(result, code):
    return next((t for t in result.excluded if t.code == code), None)


# Earning "suitable" ----------------------------------------------------------------------------------


def test_complete_answers_for_stable_diagnosed_vitiligo_are_suitable_for_the_spray():
    result = run()

    assert result.outcome == SUITABLE
    assert fit(result, ASCS).status == SUITABLE
    assert not result.urgent


def test_an_adult_only_limit_that_no_source_confirms_sends_to_a_practitioner():
    result = run()

    mktp = fit(result, MKTP)
    assert mktp.status == CONSULT
    assert f"limit_not_confirmed:{MKTP}" in [r.rule for r in result.reasons]
    assert not any("unverified" in r.text.lower() for r in result.reasons)


def test_each_unanswered_health_question_is_named():
    result = run(health={"keloid_history": None, "cold_sores": None})

    assert result.outcome == CONSULT
    text = next(r.text for r in result.reasons if r.rule == "unanswered")
    assert "raised (keloid) scars" in text and "cold sores" in text


def test_an_unanswered_condition_question_is_asked_by_a_practitioner():
    result = run(concerns=("scar",), condition={"wound_open": None, "months_since_injury": 24})

    assert result.outcome == CONSULT
    text = next(r.text for r in result.reasons if r.rule == "condition_unanswered")
    assert "still open" in text


@pytest.mark.parametrize("expectation", ["complete_removal", "instant_result"])
def test_an_unrealistic_expectation_is_never_suitable(expectation):
    assert run(expectation=expectation).outcome == CONSULT


# Screening answers and procedure steps ----------------------------------------------------------------


def test_pregnancy_for_an_elective_concern_is_not_suitable_and_lists_no_treatment_that_may_suit():
    result = run(health={"pregnant_or_breastfeeding": True})

    assert result.outcome == NOT_SUITABLE
    assert result.therapies == ()
    assert result.expectations["therapies"] == []
    assert {e.code for e in result.excluded} >= {ASCS, MKTP}


def test_a_pregnant_burn_patient_is_not_told_to_wait_until_after_breastfeeding():
    result = run(
        concerns=("burn",),
        health={"pregnant_or_breastfeeding": True},
        condition={"wound_open": True, "wound_infected": False, "months_since_injury": 0},
    )

    assert result.outcome == CONSULT
    assert "pregnancy_wound" in rules_fired(result)
    assert "pregnancy" not in rules_fired(result)
    assert not any("ask again" in r.text for r in result.reasons)


def test_a_skin_infection_is_not_suitable_for_a_scar_and_urgent_for_a_wound():
    scar = run(concerns=("scar",), area="face", health={"active_skin_infection": True}, condition=HEALED_SCAR)
    wound = run(concerns=("wound",), area="legs", health={"active_skin_infection": True}, condition=ULCER)

    assert scar.outcome == NOT_SUITABLE
    assert wound.outcome == CONSULT
    assert any("emergency" in text for text in wound.urgent)


@pytest.mark.parametrize(
    "key", ["bleeding_disorder_or_anticoagulants", "keloid_history", "anaesthetic_allergy"]
)
def test_a_harvest_risk_applies_to_every_therapy_with_a_harvest(key):
    result = run(health={key: True})

    for therapy in result.therapies:
        if "harvest" in {s.value for s in CATALOGUE.therapies[therapy.code].steps}:
            assert therapy.status == CONSULT
    assert result.outcome == CONSULT


def test_cold_sores_are_a_risk_of_the_step_only_for_the_face_but_still_go_to_a_practitioner():
    face = run(health={"cold_sores": True})
    legs = run(area="legs", health={"cold_sores": True})

    assert any(
        r.rule.startswith("procedure_risk:") and r.rule.endswith("herpes_labialis") for r in face.reasons
    )
    assert not any(r.rule.startswith("procedure_risk:") for r in legs.reasons)
    assert "screening_answer" in rules_fired(legs)
    assert face.outcome == legs.outcome == CONSULT


def test_a_coarse_component_allergy_needs_a_practitioner_to_find_out_which():
    result = run(health={"product_component_allergy": True})

    assert result.outcome == CONSULT
    assert "allergy_needs_detail" in rules_fired(result)


def test_a_detailed_trypsin_allergy_excludes_the_spray_and_says_why():
    result = run(allergies=frozenset({"trypsin"}))

    excluded = exclusion(result, ASCS)
    assert excluded is not None and excluded.reasons
    assert fit(result, ASCS) is None


def test_a_detailed_allergy_no_therapy_lists_still_goes_to_a_practitioner():
    result = run(concerns=("premature_ageing",), allergies=frozenset({"antiseptic"}))

    assert result.outcome != SUITABLE


def test_an_exemption_with_a_source_is_the_only_way_a_yes_leaves_a_therapy_suitable():
    therapy = CATALOGUE.therapies[ASCS]
    exempt = therapy.model_copy(
        update={
            "exemptions": [
                Exemption(screening="collagen_disorder", why="Not a fibroblast product", source=["S13"])
            ]
        }
    )
    catalogue = replace(CATALOGUE, therapies={ASCS: exempt})
    with_exemption = evaluate(answers(health={"collagen_disorder": True}), catalogue, RULES)
    without = evaluate(
        answers(health={"collagen_disorder": True}), replace(CATALOGUE, therapies={ASCS: therapy}), RULES
    )

    assert with_exemption.outcome == SUITABLE
    assert without.outcome == CONSULT
    assert "screening_answer" in rules_fired(without)


# Ages ---------------------------------------------------------------------------------------------------


def test_a_16_year_old_sees_a_practitioner_with_a_parent_or_guardian():
    result = run(age=16)

    assert result.outcome == CONSULT
    guardian = next(r for r in result.reasons if r.rule == "under_18")
    assert "parent or guardian" in guardian.text
    assert exclusion(result, ASCS) is not None
    assert any("18 and over" in text for text in exclusion(result, ASCS).reasons)


def test_the_acne_scar_trial_ages_exclude_a_70_year_old():
    result = run(concerns=("scar",), age=70, condition=HEALED_SCAR)

    excluded = exclusion(result, ACNE)
    assert excluded is not None
    assert any("65" in text for text in excluded.reasons)


# Exclusions are named ----------------------------------------------------------------------------------


def test_an_area_exclusion_is_one_statement_naming_every_area():
    result = run(concerns=("wound",), area="face", condition=ULCER)

    for code in (BILAYERED, DERMAGRAFT):
        reasons = exclusion(result, code).reasons
        assert len(reasons) == 1
        assert "only" in reasons[0]


def test_an_ulcer_with_exposed_bone_excludes_the_constructs_by_their_label():
    result = run(concerns=("wound",), area="legs", condition={**ULCER, "tendon_or_bone_exposed": True})

    for code in (BILAYERED, DERMAGRAFT):
        assert fit(result, code) is None
        assert exclusion(result, code) is not None
    assert "label_condition_not_met" in rules_fired(result)


def test_an_ulcer_that_is_healing_with_care_is_not_for_the_constructs():
    result = run(concerns=("wound",), area="legs", condition={**ULCER, "wound_improving": True})

    assert fit(result, BILAYERED) is None and fit(result, DERMAGRAFT) is None


def test_a_label_condition_left_unanswered_is_checked_by_a_practitioner():
    result = run(concerns=("wound",), area="legs", condition={**ULCER, "tendon_or_bone_exposed": None})

    assert "label_condition_unknown" in rules_fired(result)
    assert result.outcome == CONSULT


def test_vitiligo_not_stable_long_enough_excludes_the_grafts_and_suggests_light_therapy():
    result = run(condition={"vitiligo_stable_months": 3})

    assert result.outcome == NOT_SUITABLE
    assert {e.code for e in result.excluded} >= {ASCS, MKTP}
    assert any(a.code == "nb_uvb_phototherapy" for a in result.alternatives)


def test_a_concern_nothing_serves_is_named_while_another_is_served():
    result = run(concerns=("vitiligo", "sun_damage"))

    reason = next(r for r in result.reasons if r.rule == "concern_not_served")
    assert "sun damage" in reason.text
    assert result.outcome == SUITABLE


def test_a_minor_whom_no_therapy_admits_still_sees_a_practitioner_and_reads_why():
    result = run(age=12)

    assert result.outcome == CONSULT
    assert result.therapies == ()
    assert all(e.reasons for e in result.excluded)


# Investigational use and acute situations --------------------------------------------------------------


def test_the_acne_scar_therapy_is_offered_only_within_a_study():
    result = run(concerns=("scar",), condition=HEALED_SCAR)

    acne = fit(result, ACNE)
    assert acne is not None and acne.status == CONSULT
    assert any("only within a study" in why for why in acne.reasons)


def test_a_fresh_burn_is_told_to_seek_care_now():
    result = run(
        concerns=("burn",),
        area="arms",
        condition={"wound_open": True, "wound_infected": False, "months_since_injury": 0},
    )

    assert result.outcome == CONSULT
    assert any("emergency" in text for text in result.urgent)
    assert result.reasons[0].urgent


def test_a_healed_old_burn_is_not_for_the_acute_burn_spray():
    result = run(
        concerns=("burn",),
        area="arms",
        condition={"wound_open": False, "wound_infected": False, "months_since_injury": 30},
    )

    assert fit(result, ASCS) is None
    assert exclusion(result, ASCS) is not None


def test_undiagnosed_light_patches_see_a_practitioner():
    result = run(concerns=("hypopigmentation",), condition={"patches_diagnosed": False})

    assert result.outcome != SUITABLE
    assert "undiagnosed_patches" in rules_fired(result)


def test_a_recent_scar_waits_with_a_plain_reason_and_a_staff_note():
    result = run(concerns=("scar",), condition={"wound_open": False, "months_since_injury": 4})

    reason = next(r for r in result.reasons if r.rule == "scar_recent_injury")
    assert not plain_word_problems(reason.text)
    assert "not a published standard" in RULES.rule("scar_recent_injury").staff


# Every kind of exclusion is shown in the explanation ------------------------------------------------------

EXCLUSION_CASES = {
    "area": {"concerns": ("wound",), "area": "face", "condition": ULCER},
    "min_age": {"age": 16},
    "max_age": {"concerns": ("scar",), "age": 70, "condition": HEALED_SCAR},
    "vitiligo_unstable": {"condition": {"vitiligo_stable_months": 2}},
    "requirement_failed": {
        "concerns": ("wound",),
        "area": "legs",
        "condition": {**ULCER, "wound_improving": True},
    },
    "contraindication": {"allergies": frozenset({"trypsin"})},
}


@pytest.mark.parametrize("kind", sorted(EXCLUSION_CASES))
def test_each_kind_of_exclusion_is_named_with_the_therapy(kind):
    result = run(**EXCLUSION_CASES[kind])

    rule_ids = {rule.id for rule in RULES.of_kind(kind)}
    fired = [r for r in result.reasons if r.rule.split(":")[0] in rule_ids]
    assert fired and all(r.effect == EXCLUDES for r in fired)
    assert any(r.text in e.reasons for e in result.excluded for r in fired)


# The expectations sheet --------------------------------------------------------------------------------


def test_the_sheet_is_in_plain_words_only():
    for concerns, condition, area in [
        (("vitiligo",), VITILIGO, "face"),
        (("premature_ageing",), {}, "face"),
        (("scar",), HEALED_SCAR, "face"),
        (("wound",), ULCER, "legs"),
        (("burn",), {"wound_open": True, "wound_infected": False, "months_since_injury": 0}, "arms"),
    ]:
        result = run(concerns=concerns, condition=condition, area=area)
        for sheet in result.expectations["therapies"]:
            for key in ("about", "treatment", "recovery", "results", "risks", "benefits"):
                value = sheet[key]
                for line in [value] if isinstance(value, str) else value:
                    assert not plain_word_problems(line), (sheet["code"], key, line)
        for reason in result.reasons:
            assert not plain_word_problems(reason.text), reason


def test_the_anaesthetic_risk_is_listed_only_where_a_step_uses_an_anaesthetic():
    result = run(concerns=("wound",), area="legs", condition=ULCER)
    for sheet in result.expectations["therapies"]:
        therapy = CATALOGUE.therapies[sheet["code"]]
        uses = any(CATALOGUE.steps[s.value].anaesthetic for s in therapy.steps)
        assert any("anaesthetic" in line for line in sheet["risks"]) == uses


# The rules file ------------------------------------------------------------------------------------------


def test_the_ruleset_version_is_deterministic_and_changes_with_the_rules():
    text = RULES_PATH.read_text(encoding="utf-8")
    one = ruleset_version(ruleset_parse(text), CATALOGUE)
    two = ruleset_version(ruleset_parse(text.replace("Rare risks:", "Rare risks include:")), CATALOGUE)

    assert one == ruleset_version(RULES, CATALOGUE)
    assert one != two


def test_every_kind_has_a_rule_and_every_rule_text_is_plain():
    assert set(RULE_KINDS) == {rule.kind for rule in RULES.rules}
    for rule in RULES.rules:
        assert not plain_word_problems(rule.text.replace("{", "").replace("}", "")), rule.id


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('version = "2026.12"', "", "version"),
        (
            'kind = "area"\neffect = "excludes"',
            'kind = "area"\neffect = "not_suitable"',
            "effect of a 'area' rule",
        ),
        ('kind = "minor"\nbelow_age = 18', 'kind = "minor"', "below_age is required"),
        (
            'when = [{ fact = "patches_diagnosed", equals = false }]',
            'when = [{ fact = "patches_diagnosed", below = 2 }]',
            "yes/no",
        ),
        (
            'key = "wound_open"\nkind = "yes_no"',
            'key = "wound_open"\nkind = "months"',
            "kind of 'wound_open'",
        ),
        ('effect = "consult"\nunverified = true', 'effect = "note"\nunverified = true', "unverified limit"),
    ],
)
def test_a_broken_rules_file_is_refused_with_the_problem_named(old, new, message):
    text = RULES_PATH.read_text(encoding="utf-8")
    assert old in text
    with pytest.raises(RuleSetError, match=message):
        ruleset_parse(text.replace(old, new, 1))

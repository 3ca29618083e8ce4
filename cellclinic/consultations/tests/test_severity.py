"""The severity table: the right scales for each indication, their ranges and their sources."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cellclinic.catalogue.vocabulary import INDICATIONS
from cellclinic.consultations.severity import (
    SCALES,
    SCALES_BY_INDICATION,
    SCORE_NOT_A_NUMBER,
    scales_for,
    severity_problems,
)


def test_every_indication_has_scales_with_sources():
    assert set(SCALES_BY_INDICATION) == set(INDICATIONS)
    for scales in SCALES_BY_INDICATION.values():
        assert scales
        for scale in scales:
            assert scale.source and all(tag.startswith("S") for tag in scale.source)
            assert scale.minimum < scale.maximum


@pytest.mark.parametrize(
    ("indication", "code", "low", "high"),
    [
        ("premature_ageing", "wsrs", 1, 5),
        ("scar", "vss", 0, 13),
        ("burn", "vss", 0, 13),
        ("burn", "posas_observer", 6, 60),
        ("vitiligo", "t_vasi", 0, 100),
        ("vitiligo", "f_vasi", 0, 3),
        ("hypopigmentation", "repigmentation_pct", 0, 100),
        ("sun_damage", "glogau", 1, 4),
        ("scar", "elasa", 0, 4),
        ("wound", "re_epithelialised_pct", 0, 100),
    ],
)
def test_the_domain_ranges(indication, code, low, high):
    assert code in {s.code for s in scales_for(indication)}
    assert severity_problems(indication, code, low) == []
    assert severity_problems(indication, code, high) == []
    assert severity_problems(indication, code, low - 1)[0][0] == "severity_score"
    assert severity_problems(indication, code, high + 1)[0][0] == "severity_score"


def test_the_usual_scale_comes_first():
    assert scales_for("premature_ageing")[0].code == "wsrs"
    assert scales_for("scar")[0].code == "vss"
    assert scales_for("vitiligo")[0].code == "t_vasi"


def test_whole_number_scales_refuse_fractions():
    assert "whole number" in severity_problems("premature_ageing", "wsrs", "3.5")[0][1]
    assert severity_problems("vitiligo", "t_vasi", "4.5") == []


def test_a_scale_from_another_indication_is_refused():
    problems = severity_problems("vitiligo", "wsrs", 3)
    assert problems[0][0] == "severity_scale" and "t_vasi" in problems[0][1]


def test_unknown_scale_and_missing_parts():
    assert severity_problems("scar", "nope", 1)[0][0] == "severity_scale"
    assert severity_problems("scar", "", 3)[0][0] == "severity_scale"
    assert severity_problems("", "vss", 3)[0][0] == "severity_scale"
    assert severity_problems("scar", "vss", None)[0][0] == "severity_score"
    assert severity_problems("scar", "vss", "  ") == [("severity_score", "give the score on this scale")]
    assert severity_problems("scar", "", None) == []
    assert severity_problems("", "", "") == []


@pytest.mark.parametrize("score", ["abc", "NaN", "Infinity", "1e999999"])
def test_not_a_number(score):
    problems = severity_problems("scar", "vss", score)
    assert problems[0][0] == "severity_score"
    assert problems[0][1] in {
        SCORE_NOT_A_NUMBER,
        "must be between 0 and 13 on the Vancouver Scar Scale (VSS), 0–13",
    }


def test_at_most_two_decimals():
    assert severity_problems("vitiligo", "t_vasi", "4.505")[0][1] == "can have at most 2 decimal places"


@given(
    code=st.sampled_from(sorted(SCALES)),
    value=st.decimals(min_value=-1000, max_value=1000, places=2, allow_nan=False, allow_infinity=False),
)
def test_a_score_is_accepted_exactly_when_it_lies_on_the_scale(code, value):
    scale = SCALES[code]
    indication = next(i for i, scales in SCALES_BY_INDICATION.items() if scale in scales)
    problems = severity_problems(indication, code, str(value))
    fits = scale.minimum <= value <= scale.maximum and (not scale.whole or value == value.to_integral_value())
    assert (problems == []) == fits
    assert all(field == "severity_score" for field, _ in problems)
    assert Decimal(str(value)) == value

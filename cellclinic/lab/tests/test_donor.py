"""Donor eligibility: every test DOMAIN.md §7 names, each negative, or the lot stays ineligible."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cellclinic.lab.donor import (
    DONOR_TESTS,
    MISSING,
    SOURCE,
    eligibility_problems,
    is_negative,
    screening_shape_problems,
)

ALL_NEGATIVE = dict.fromkeys(DONOR_TESTS, "Negative")


def test_the_tests_are_those_domain_section_7_names():
    assert "§7" in SOURCE and "[S42]" in SOURCE
    assert set(DONOR_TESTS) == {
        "hiv_serology",
        "hbv_serology",
        "hcv_serology",
        "htlv_serology",
        "syphilis_serology",
        "hiv_nat",
        "hbv_nat",
        "hcv_nat",
    }


@pytest.mark.parametrize(
    "result", ["Negative", "negative.", " NON-REACTIVE ", "Not reactive", "nonreactive", "Not detected"]
)
def test_negative_results_read_as_negative(result):
    assert is_negative(result)


@pytest.mark.parametrize("result", ["Positive", "Reactive", "Indeterminate", "", "pending", None, 0])
def test_anything_else_is_not_negative(result):
    assert not is_negative(result)


def test_a_complete_negative_record_documents_eligibility():
    assert eligibility_problems(ALL_NEGATIVE) == {}
    assert eligibility_problems({**ALL_NEGATIVE, "syphilis_serology": "Non-reactive"}) == {}


def test_each_missing_test_is_named():
    screening = {k: v for k, v in ALL_NEGATIVE.items() if k not in ("hiv_nat", "htlv_serology")}
    assert eligibility_problems(screening) == {"hiv_nat": MISSING, "htlv_serology": MISSING}


def test_a_reactive_result_is_named_with_what_was_written():
    problems = eligibility_problems({**ALL_NEGATIVE, "hcv_serology": "Reactive"})
    assert set(problems) == {"hcv_serology"} and "'Reactive' is not negative" in problems["hcv_serology"]


def test_an_unknown_test_or_a_result_that_is_not_text_is_a_problem_of_the_record():
    assert set(screening_shape_problems({"cmv_serology": "Negative", "hiv_nat": 0})) == {
        "cmv_serology",
        "hiv_nat",
    }
    assert "at most" in screening_shape_problems({"hiv_nat": "x" * 201})["hiv_nat"]
    assert screening_shape_problems(["Negative"]) == {"screening": "expected results by test, got list"}
    assert eligibility_problems("Negative") == {"screening": "expected results by test, got str"}


def test_a_partial_record_is_fit_to_keep_while_results_come_in():
    assert screening_shape_problems({"hiv_serology": "Negative"}) == {}


@given(
    st.dictionaries(
        st.sampled_from(sorted(DONOR_TESTS)),
        st.sampled_from(["Negative", "Non-reactive", "Reactive", "Positive", "Indeterminate", " "]),
    )
)
def test_eligible_exactly_when_every_test_has_a_negative_result(screening):
    eligible = all(is_negative(screening.get(test)) for test in DONOR_TESTS)
    assert (eligibility_problems(screening) == {}) == eligible

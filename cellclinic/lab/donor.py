"""Donor eligibility of an allogeneic lot: the screening tests it needs and how its record is read.

Pure: no Django. DOMAIN.md §7 ("Donor testing", [S42][S37]): allogeneic products need the donor's
HIV, HBV, HCV, HTLV and syphilis serology plus nucleic acid testing (NAT); autologous products are
exempt. NAT is listed here for the three viruses it is done for (HIV, HBV and HCV).

A lot's screening record maps each test (by the codes below) to its result as written. Eligibility
can be documented only when every test has a result that says negative ("Negative", "Non-reactive",
"Not detected", in any case, with spacing and a final full stop ignored). Anything else, a missing
test, a reactive, indeterminate or unreadable result, stops it, test by test.
"""

from collections.abc import Mapping

SOURCE = "DOMAIN.md §7 Donor testing [S42][S37]"

DONOR_TESTS: dict[str, str] = {
    "hiv_serology": "HIV-1/2 antibody (serology)",
    "hbv_serology": "Hepatitis B (HBsAg and anti-HBc serology)",
    "hcv_serology": "Hepatitis C antibody (serology)",
    "htlv_serology": "HTLV-I/II antibody (serology)",
    "syphilis_serology": "Syphilis (serology)",
    "hiv_nat": "HIV-1 nucleic acid test (NAT)",
    "hbv_nat": "HBV nucleic acid test (NAT)",
    "hcv_nat": "HCV nucleic acid test (NAT)",
}
NEGATIVE_RESULTS = frozenset({"negative", "non-reactive", "nonreactive", "not reactive", "not detected"})
MAX_RESULT_LENGTH = 200

MISSING = "no result recorded"
NOT_NEGATIVE = "the result {result!r} is not negative (expected Negative or Non-reactive)"
UNKNOWN_TEST = "is not a donor screening test (the tests are: {tests})"


def _said(result: str) -> str:
    return " ".join(result.split()).casefold().rstrip(".").strip()


def is_negative(result: object) -> bool:
    """True when RESULT, as written, says the test was negative or non-reactive."""
    return isinstance(result, str) and _said(result) in NEGATIVE_RESULTS


def screening_shape_problems(screening: object) -> dict[str, str]:
    """What makes SCREENING unfit to keep as a record: not a mapping, an unknown test, a result that is
    not a short text. By test code ("screening" for the record as a whole); empty when it is fit.

    A test may be left out here: a record is kept while results are still coming in.
    """
    if not isinstance(screening, Mapping):
        return {"screening": f"expected results by test, got {type(screening).__name__}"}
    problems: dict[str, str] = {}
    tests = ", ".join(DONOR_TESTS)
    for test, result in screening.items():
        if test not in DONOR_TESTS:
            problems[str(test)] = UNKNOWN_TEST.format(tests=tests)
        elif not isinstance(result, str) or not result.strip():
            problems[test] = "the result must be written as text, such as Negative"
        elif len(result) > MAX_RESULT_LENGTH:
            problems[test] = f"can have at most {MAX_RESULT_LENGTH} characters"
    return problems


def eligibility_problems(screening: object) -> dict[str, str]:
    """Why SCREENING does not document donor eligibility, by test code; empty when every test in
    DONOR_TESTS has a negative result."""
    problems = screening_shape_problems(screening)
    if "screening" in problems:
        return problems
    assert isinstance(screening, Mapping)
    for test in DONOR_TESTS:
        result = screening.get(test)
        if test in problems:
            continue
        if result is None:
            problems[test] = MISSING
        elif not is_negative(result):
            problems[test] = NOT_NEGATIVE.format(result=result)
    return problems

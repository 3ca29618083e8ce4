"""Age in completed years, as the list and chart show it."""

from datetime import date

import pytest

from cellclinic.patients.templatetags.patient_tags import age_in_years


@pytest.mark.parametrize(
    ("born", "on", "expected"),
    [
        (date(1980, 12, 9), date(2026, 12, 8), 45),
        (date(1980, 12, 9), date(2026, 12, 9), 46),
        (date(2000, 2, 29), date(2021, 2, 28), 20),
        (date(2000, 2, 29), date(2021, 3, 1), 21),
        (date(2000, 2, 29), date(2024, 2, 29), 24),
        (date(2026, 1, 1), date(2026, 1, 1), 0),
    ],
)
def test_it_counts_completed_years(born, on, expected):
    assert age_in_years(born, on) == expected

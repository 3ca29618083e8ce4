"""The schedulers: a lower app asks by name for dates a higher app knows, and plans alone if none answers."""

from datetime import date, timedelta

import pytest

from cellclinic.core import plugs

DAY = date(2026, 3, 2)


@pytest.fixture
def empty(monkeypatch):
    monkeypatch.setattr(plugs, "_SCHEDULERS", {})


def test_nobody_registered_answers_none(empty):
    assert plugs.scheduled("processing", "site", "therapy", DAY) is None


def test_the_registered_function_answers_with_what_it_was_asked(empty):
    asked = []

    def slot(site, therapy, wanted):
        asked.append((site, therapy, wanted))
        return wanted + timedelta(days=3), wanted + timedelta(days=10), wanted + timedelta(days=20)

    plugs.register_scheduler("processing", slot)
    assert plugs.scheduled("processing", "NCL", "cultured", DAY) == (
        date(2026, 3, 5),
        date(2026, 3, 12),
        date(2026, 3, 22),
    )
    assert asked == [("NCL", "cultured", DAY)]
    assert plugs.scheduled("delivery", "NCL", "cultured", DAY) is None


def test_a_function_that_cannot_say_answers_none(empty):
    plugs.register_scheduler("processing", lambda site, therapy, wanted: None)
    assert plugs.scheduled("processing", "NCL", "cultured", DAY) is None


def test_registering_a_name_again_replaces_its_function(empty):
    plugs.register_scheduler("processing", lambda site, therapy, wanted: (wanted,))
    plugs.register_scheduler("processing", lambda site, therapy, wanted: (wanted + timedelta(days=1),))
    assert plugs.scheduled("processing", "NCL", "cultured", DAY) == (date(2026, 3, 3),)

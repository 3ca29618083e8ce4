"""The chart's part of the plugs: panels by section, and the furthest stage the apps report."""

from datetime import date

import pytest

from cellclinic.core import plugs


@pytest.fixture
def empty(monkeypatch):
    monkeypatch.setattr(plugs, "_PANELS", {})
    monkeypatch.setattr(plugs, "_STAGE_REPORTERS", {})


def test_a_panel_is_in_the_overview_unless_it_names_its_section(empty):
    plugs.register_panel("chart", "plan", template="p.html", context=lambda r, o: {}, section="plan", order=5)
    plugs.register_panel("chart", "note", template="n.html", context=lambda r, o: {})
    plugs.register_panel("chart", "more", template="m.html", context=lambda r, o: {}, section="plan", order=1)
    assert [panel.key for panel in plugs.panels_in("chart", "plan")] == ["more", "plan"]
    assert [panel.key for panel in plugs.panels_in("chart", "overview")] == ["note"]
    assert [panel.key for panel in plugs.panels_in("chart")] == ["more", "plan", "note"]
    assert plugs.sections_in("chart") == {"plan", "overview"}
    assert plugs.sections_in("nowhere") == set()


def test_only_the_panels_of_the_section_are_asked_and_none_hides_one(empty):
    asked = []

    def answer(key, result):
        def context(request, obj):
            asked.append(key)
            return result

        return context

    plugs.register_panel("chart", "a", template="a.html", context=answer("a", {"x": 1}), section="plan")
    plugs.register_panel("chart", "b", template="b.html", context=answer("b", None), section="plan")
    plugs.register_panel("chart", "c", template="c.html", context=answer("c", {}), section="history")
    assert plugs.panel_contexts("chart", None, 7, section="plan") == [("a.html", {"x": 1})]
    assert asked == ["a", "b"]


def test_the_furthest_stage_reported_wins(empty):
    plugs.register_stage_reporter("consents", lambda r, p: plugs.Stage(35, "Consent signed", "Make the plan"))
    plugs.register_stage_reporter(
        "treatment", lambda r, p: plugs.Stage(40, "Plan active", "Harvest", date(2026, 12, 8))
    )
    plugs.register_stage_reporter("consultations", lambda r, p: plugs.Stage(25, "Decided"))
    plugs.register_stage_reporter("photos", lambda r, p: None)
    assert plugs.furthest_stage(None, 1) == plugs.Stage(40, "Plan active", "Harvest", date(2026, 12, 8))


def test_on_a_tie_the_first_reporter_by_key_wins_and_nothing_reported_is_none(empty):
    assert plugs.furthest_stage(None, 1) is None
    plugs.register_stage_reporter("b", lambda r, p: plugs.Stage(30, "Second"))
    plugs.register_stage_reporter("a", lambda r, p: plugs.Stage(30, "First"))
    assert plugs.furthest_stage(None, 1).label == "First"

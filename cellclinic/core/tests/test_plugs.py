"""The plugs: panels in order, the first that answers, links for whom they are meant, hooks in key order."""

import pytest

from cellclinic.core import plugs


@pytest.fixture
def empty(monkeypatch):
    """Fresh registries, and templates rendered as 'template:context' so the test reads what was shown."""
    monkeypatch.setattr(plugs, "_PANELS", {})
    monkeypatch.setattr(plugs, "_HOOKS", {})
    monkeypatch.setattr(plugs, "_NAV", {})
    monkeypatch.setattr(
        plugs, "render_to_string", lambda template, context, request=None: f"{template}:{context}"
    )


def test_panels_render_in_order_and_a_none_context_hides_one(empty):
    plugs.register_panel("chart", "late", template="late.html", context=lambda r, o: {"o": o}, order=50)
    plugs.register_panel("chart", "hidden", template="hidden.html", context=lambda r, o: None, order=10)
    plugs.register_panel("chart", "early", template="early.html", context=lambda r, o: {"o": o}, order=20)
    assert plugs.render_panels("chart", None, 7) == ["early.html:{'o': 7}", "late.html:{'o': 7}"]
    assert plugs.render_panel("chart", "hidden", None, 7) == ""
    assert plugs.render_panels("nowhere", None, 7) == []


def test_first_only_runs_nothing_after_the_first_panel_that_answers(empty):
    asked = []

    def answer(name, result):
        def context(request, obj):
            asked.append(name)
            return result

        return context

    plugs.register_panel("next", "a", template="a.html", context=answer("a", None), order=1)
    plugs.register_panel("next", "b", template="b.html", context=answer("b", {}), order=2)
    plugs.register_panel("next", "c", template="c.html", context=answer("c", {}), order=3)
    assert plugs.render_panels("next", None, None, first_only=True) == ["b.html:{}"]
    assert asked == ["a", "b"]


def test_registering_a_key_again_replaces_it(empty):
    plugs.register_panel("chart", "one", template="old.html", context=lambda r, o: {})
    plugs.register_panel("chart", "one", template="new.html", context=lambda r, o: {})
    assert [panel.template for panel in plugs.panels_in("chart")] == ["new.html"]


def test_hooks_run_in_key_order_with_the_details(empty):
    calls = []
    plugs.register_hook("consent_withdrawn", "b.second", lambda **d: calls.append(("b", d)))
    plugs.register_hook("consent_withdrawn", "a.first", lambda **d: calls.append(("a", d)))
    plugs.fire("consent_withdrawn", consent=1, reason="r")
    assert calls == [("a", {"consent": 1, "reason": "r"}), ("b", {"consent": 1, "reason": "r"})]
    plugs.fire("nothing_registered")


def test_a_failing_hook_stops_the_ones_after_it(empty):
    calls = []

    def refuse(**details):
        raise RuntimeError("no")

    plugs.register_hook("event", "a", refuse)
    plugs.register_hook("event", "b", lambda **d: calls.append("b"))
    with pytest.raises(RuntimeError):
        plugs.fire("event")
    assert calls == []


def test_navigation_links_are_for_whom_they_are_meant_in_order(empty):
    plugs.register_nav_link("b", "B", "b:list", shown_to=lambda user: True, order=20)
    plugs.register_nav_link("a", "A", "a:list", shown_to=lambda user: True, order=10)
    plugs.register_nav_link("staff", "Staff", "s:list", shown_to=lambda user: user == "admin", order=0)
    assert [link.key for link in plugs.nav_links_for("admin")] == ["staff", "a", "b"]
    assert [link.key for link in plugs.nav_links_for("nurse")] == ["a", "b"]


def test_panels_of_one_request_share_one_computation():
    class Request:
        pass

    first, second, computed = Request(), Request(), []

    def compute():
        computed.append(1)
        return len(computed)

    assert plugs.request_cached(first, "plans", compute) == 1
    assert plugs.request_cached(first, "plans", compute) == 1
    assert plugs.request_cached(second, "plans", compute) == 2

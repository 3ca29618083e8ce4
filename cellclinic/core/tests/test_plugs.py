"""The plugs: panels in order, the first that answers, links for whom they are meant, hooks in key order,
the worklist's items for whom they are meant, each read once per request."""

from datetime import date

import pytest

from cellclinic.core import plugs


@pytest.fixture
def empty(monkeypatch):
    """Fresh registries, and templates rendered as 'template:context' so the test reads what was shown."""
    monkeypatch.setattr(plugs, "_PANELS", {})
    monkeypatch.setattr(plugs, "_HOOKS", {})
    monkeypatch.setattr(plugs, "_NAV", {})
    monkeypatch.setattr(plugs, "_WORKLIST", {})
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


class Person:
    """A signed-in user as the registries see one: a role, and room for what a request keeps on it."""

    def __init__(self, role: str):
        self.role = role


def _rows(count: int, limit: int) -> list[plugs.WorkRow]:
    return [plugs.WorkRow(f"/x/{n}/", f"Person {n}", "What", "today") for n in range(min(count, limit))]


def _item(key, *, waiting: int, asked: list, roles=("practitioner",), **options):
    """Register worklist item KEY with WAITING things, recording each query it would make in ASKED."""

    def count(user):
        asked.append((key, "count"))
        return waiting

    def items(user, limit):
        asked.append((key, "items", limit))
        return plugs.WorkFound(waiting, _rows(waiting, limit))

    plugs.register_worklist(
        key, label=key.title(), shown_to=lambda user: user.role in roles, count=count, items=items, **options
    )


def test_the_worklist_lists_items_for_whom_they_are_meant_in_order(empty):
    asked = []
    _item("b", waiting=2, asked=asked, order=20)
    _item("a", waiting=1, asked=asked, order=10)
    _item("admin_only", waiting=4, asked=asked, roles=("clinic_admin",), order=0)
    entries = plugs.worklist_for(Person("practitioner"), limit=5)
    assert [(entry.item.key, entry.count, len(entry.rows)) for entry in entries] == [("a", 1, 1), ("b", 2, 2)]
    assert asked == [("a", "items", 5), ("b", "items", 5)]  # one call per item shown, none for the other
    assert [item.key for item in plugs.worklist_items_for(Person("clinic_admin"))] == ["admin_only"]


def test_an_empty_item_is_left_out_unless_it_has_something_to_say(empty):
    _item("quiet", waiting=0, asked=[])
    _item("calm", waiting=0, asked=[], empty_text="Nothing waits.", href="/all/")
    [entry] = plugs.worklist_for(Person("practitioner"))
    assert (entry.item.key, entry.item.empty_text, entry.rows, entry.see_all) == (
        "calm",
        "Nothing waits.",
        [],
        "",
    )


def test_the_rows_are_limited_and_the_rest_counted(empty):
    _item("many", waiting=12, asked=[], href="/many/?status=new")
    [entry] = plugs.worklist_for(Person("practitioner"), limit=3)
    assert (entry.count, len(entry.rows), entry.more, entry.see_all) == (12, 3, 9, "/many/?status=new")
    assert entry.item.anchor == "worklist-many"


def test_a_count_read_by_the_worklist_is_not_read_again_in_the_same_request(empty):
    asked = []
    _item("requests", waiting=3, asked=asked)
    first = Person("practitioner")
    plugs.worklist_for(first)
    assert plugs.worklist_count(first, "requests") == 3
    assert asked == [("requests", "items", plugs.WORKLIST_ROWS)]
    second = Person("practitioner")  # the next request: its own user object
    assert plugs.worklist_count(second, "requests") == 3
    assert plugs.worklist_count(second, "requests") == 3
    assert asked[1:] == [("requests", "count")]


def test_a_count_for_someone_the_item_is_not_shown_to_is_zero_and_reads_nothing(empty):
    asked = []
    _item("requests", waiting=3, asked=asked)
    assert plugs.worklist_count(Person("lab_technician"), "requests") == 0
    assert asked == []


def test_a_navigation_link_count_is_asked_once_per_request(empty):
    asked = []

    def unread(user):
        asked.append(user)
        return 7

    plugs.register_nav_link("inbox", "Inbox", "/inbox/", shown_to=lambda user: True, order=1, count=unread)
    user = Person("nurse")
    [link] = plugs.nav_links_for(user)
    assert [link.count(user), link.count(user)] == [7, 7]
    assert len(asked) == 1
    plugs.register_nav_link("plain", "Plain", "/plain/", shown_to=lambda user: True, order=2)
    assert plugs.nav_links_for(user)[1].count is None


@pytest.mark.parametrize(
    ("day", "today", "said"),
    [
        (date(2026, 12, 1), date(2026, 12, 1), "today"),
        (date(2026, 12, 2), date(2026, 12, 1), "tomorrow"),
        (date(2026, 11, 30), date(2026, 12, 1), "yesterday"),
        (date(2026, 12, 4), date(2026, 12, 1), "Fri 4 Dec"),
        (date(2026, 11, 25), date(2026, 12, 1), "Wed 25 Nov"),
        (date(2026, 12, 8), date(2026, 12, 1), "8 Dec"),
        (date(2026, 1, 3), date(2026, 12, 1), "3 Jan"),
        (date(2027, 1, 12), date(2026, 12, 1), "12 Jan 2027"),
        (date(2025, 12, 1), date(2026, 12, 1), "1 Dec 2025"),
    ],
)
def test_worklist_days_read_in_a_few_words(day, today, said):
    assert plugs.worklist_day(day, today) == said


def test_worklist_links_reverse_the_name_once_for_every_id():
    link = plugs.worklist_links("consents:detail")
    assert [link(3), link(41)] == ["/consents/3/", "/consents/41/"]

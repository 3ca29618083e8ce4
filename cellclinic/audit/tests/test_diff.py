"""The compact before/after shown on the audit page: changed keys only."""

from cellclinic.audit.selectors import event_diff


def test_only_changed_keys_are_listed_as_compact_json():
    before = {"phone": "0191 111", "name": "North", "tags": ["a"]}
    after = {"phone": "0191 222", "name": "North", "tags": ["a", "b"]}
    assert event_diff(before, after) == [
        ("phone", '"0191 111"', '"0191 222"'),
        ("tags", '["a"]', '["a","b"]'),
    ]


def test_a_creation_lists_the_values_that_are_set():
    assert event_diff(None, {"given_name": "Grace", "phone": "", "history": [], "site": 2}) == [
        ("given_name", "", '"Grace"'),
        ("site", "", "2"),
    ]


def test_a_removal_lists_the_old_values():
    assert event_diff({"role": "nurse", "note": None}, None) == [("role", '"nurse"', "")]


def test_json_types_are_told_apart():
    assert event_diff({"a": True, "b": 1}, {"a": 1, "b": 1.0}) == [("a", "true", "1"), ("b", "1", "1.0")]


def test_a_value_that_becomes_blank_is_a_change():
    assert event_diff({"phone": "0191 111"}, {"phone": ""}) == [("phone", '"0191 111"', '""')]


def test_values_that_are_not_objects_are_compared_whole():
    assert event_diff([1, 2], [1, 3]) == [("", "[1,2]", "[1,3]")]
    assert event_diff("same", "same") == []
    assert event_diff(None, None) == []


def test_long_values_are_cut_short():
    ((_, _, shown),) = event_diff({}, {"notes": "x" * 200})
    assert len(shown) == 80 and shown.endswith("…")

"""How the audit page words a change: "Field label: before → after", with values as people read them."""

from cellclinic.audit.changes import (
    CUT_AT,
    EMPTY,
    change_lines,
    detail_lines,
    label_from_key,
    shown,
    value_text,
)

LABELS = {"date_of_birth": "Date of birth", "phone": "Phone"}


def texts(lines):
    return [str(line) for line in lines]


def test_a_changed_field_reads_label_before_and_after():
    lines = change_lines({"date_of_birth": "1980-01-01"}, {"date_of_birth": "1980-01-02"}, LABELS)
    assert texts(lines) == ["Date of birth: 1 Jan 1980 → 2 Jan 1980"]


def test_only_changed_fields_are_listed_in_the_order_their_labels_were_registered():
    before = {"phone": "0191 111", "name": "North", "date_of_birth": "1980-01-01", "alias": "N"}
    after = {"phone": "0191 222", "name": "North", "date_of_birth": "1981-01-01", "alias": "M"}
    assert texts(change_lines(before, after, LABELS)) == [
        "Date of birth: 1 Jan 1980 → 1 Jan 1981",
        "Phone: 0191 111 → 0191 222",
        "Alias: N → M",
    ]


def test_a_field_without_a_registered_label_reads_as_its_key_made_readable():
    assert label_from_key("date_of_birth") == "Date of birth"
    assert label_from_key("patient_id") == "Patient ID"
    assert label_from_key("mrn") == "MRN"
    assert label_from_key("burn_tbsa_pct") == "Burn TBSA (%)"
    assert label_from_key("wound_area_cm2") == "Wound area (cm²)"
    assert label_from_key("") == ""
    assert texts(change_lines({"given_name": "Ada"}, {"given_name": "Ida"})) == ["Given name: Ada → Ida"]


def test_booleans_read_yes_and_no_and_empty_values_a_dash():
    assert value_text(True) == "yes" and value_text(False) == "no"
    for empty in (None, "", [], {}):
        assert value_text(empty) == EMPTY
    assert texts(change_lines({"is_active": True}, {"is_active": False})) == ["Is active: yes → no"]
    assert texts(change_lines({"phone": "0191 111"}, {"phone": ""}, LABELS)) == ["Phone: 0191 111 → —"]


def test_dates_and_times_read_as_people_write_them():
    assert value_text("1980-01-01") == "1 Jan 1980"
    assert value_text("2026-07-01T08:05:09.123Z") == "1 Jul 2026, 08:05 UTC"
    assert value_text("2026-07-01T09:05:09+01:00") == "1 Jul 2026, 08:05 UTC"
    assert value_text("2026-07-01T08:05:09") == "1 Jul 2026, 08:05"
    # Text shaped like a date but not one stays as it was written.
    assert value_text("2026-02-30") == "2026-02-30"
    assert value_text("NCL-000001-1") == "NCL-000001-1"


def test_numbers_read_as_stored():
    assert value_text(17) == "17" and value_text(12.5) == "12.5" and value_text("1.50") == "1.50"


def test_lists_and_nested_objects_read_as_phrases_without_braces():
    assert value_text(["left hand", "right hand"]) == "left hand, right hand"
    assert value_text({"hands_hu": 3, "smoker": True}) == "Hands hu: 3; Smoker: yes"
    assert value_text([{"code": "a", "ok": False}, {"code": "b"}]) == "(Code: a; Ok: no); (Code: b)"
    assert (
        value_text({"site": {"code": "NCL"}, "tags": []}, {"site": "Clinic"})
        == "Clinic: (Code: NCL); Tags: —"
    )
    text = str(change_lines({"items": {"a": 1}}, {"items": {"a": 2, "b": [1, 2]}})[0])
    assert text == "Items: A: 1 → A: 2; B: 1, 2"
    assert not set('{}[]"') & set(text)


def test_white_space_in_text_is_collapsed_on_the_line():
    assert value_text("  12 High Street\n  Leeds ") == "12 High Street Leeds"


def test_a_long_value_is_cut_short_with_the_whole_value_kept():
    value = shown("word " * 60)
    assert value.cut and len(value.text) == CUT_AT and value.text.endswith("…")
    assert value.full == ("word " * 60).strip()
    (line,) = change_lines({}, {"notes": "x" * 200})
    assert line.before is None and line.after.cut and line.after.full == "x" * 200
    assert not shown("short").cut


def test_a_record_created_lists_the_values_that_are_set():
    lines = change_lines(None, {"given_name": "Grace", "phone": "", "history": [], "site": 2})
    assert texts(lines) == ["Given name: Grace", "Site: 2"]
    assert all(line.before is None for line in lines)


def test_a_field_recorded_only_after_shows_its_value_and_a_removed_one_a_dash():
    before = {"is_active": True, "role": "nurse", "note": None}
    after = {"is_active": False, "sessions_ended": 2}
    assert texts(change_lines(before, after)) == [
        "Is active: yes → no",
        "Role: nurse → —",
        "Sessions ended: 2",
    ]


def test_json_types_are_told_apart():
    assert texts(change_lines({"a": True, "b": 1}, {"a": 1, "b": 1.0})) == ["A: yes → 1", "B: 1 → 1.0"]
    assert change_lines({"a": [1, {"b": 2}]}, {"a": [1, {"b": 2}]}) == []


def test_values_that_are_not_objects_are_compared_whole_on_one_line():
    assert texts(change_lines([1, 2], [1, 3])) == ["1, 2 → 1, 3"]
    assert change_lines("same", "same") == []
    assert change_lines(None, None) == []


def test_details_of_an_access_event_read_as_label_and_value():
    assert texts(detail_lines({"query": "hopper", "results": 3, "empty": ""})) == [
        "Query: hopper",
        "Results: 3",
    ]
    assert detail_lines(None) == [] and detail_lines({}) == []

"""Item scores, scale by scale: every item given, known, in range and of the right kind; totals computed."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cellclinic.consultations.severity import (
    DESCRIPTORS,
    POSAS,
    SCALES,
    T_VASI,
    VASI_ALLOWED,
    VASI_REGIONS,
    SeverityItemsError,
    descriptor_value,
    read,
    score_items,
    totals_of,
)

CODES = sorted(SCALES)


def _value(item):
    """A valid score for ITEM: one of its values, or a decimal with up to 2 places in its range."""
    if item.values():
        return st.sampled_from(item.values())
    return st.decimals(min_value=item.minimum, max_value=item.maximum, places=2).map(
        lambda d: d.normalize() if d == d.to_integral_value() else d
    )


def valid_items(scale):
    """A whole valid mapping for SCALE (VASI's hand units kept within the whole body)."""
    mapping = st.fixed_dictionaries({item.key: _value(item) for item in scale.items})
    if scale is T_VASI:
        mapping = mapping.filter(lambda m: sum(m[f"{r}_hu"] for r, _ in VASI_REGIONS) <= 100)
    return mapping


scale_and_items = st.sampled_from(CODES).flatmap(
    lambda code: st.tuples(st.just(code), valid_items(SCALES[code]))
)


def _problems(code, items) -> dict[str, str]:
    with pytest.raises(SeverityItemsError) as exc:
        score_items(code, items)
    return dict(exc.value.problems)


def expected_totals(code, items) -> dict[str, Decimal]:
    """The totals as DOMAIN.md §5 defines them, computed here independently of the scale table."""
    d = {key: Decimal(str(value)) for key, value in items.items()}
    if code == "posas":
        return {
            f"{side}_total": sum(
                v for k, v in d.items() if k.startswith(f"{side}_") and k != f"{side}_overall"
            )
            for side in ("observer", "patient")
        }
    if code == "vss":
        return {"total": d["vascularity"] + d["pigmentation"] + d["pliability"] + d["height"]}
    if code == "t_vasi":
        regions = [r for r, _ in VASI_REGIONS]
        return {
            "hand_units": sum(d[f"{r}_hu"] for r in regions),
            "t_vasi": sum(d[f"{r}_hu"] * d[f"{r}_depigmentation"] / 100 for r in regions),
        }
    if code == "f_vasi":
        return {"f_vasi": d["face_hu"] * d["face_depigmentation"] / 100}
    return {}


@given(scale_and_items)
def test_valid_items_are_kept_with_their_totals(case):
    code, items = case
    scored = score_items(code, items)
    assert list(scored.items) == list(SCALES[code].item_keys)
    assert {k: Decimal(str(v)) for k, v in scored.items.items()} == {
        k: Decimal(str(v)) for k, v in items.items()
    }
    assert all(isinstance(v, int) for k, v in scored.items.items() if SCALES[code].item(k).whole)
    assert scored.totals == expected_totals(code, items)
    assert totals_of(code, scored.items) == scored.totals


@given(scale_and_items)
def test_the_score_kept_is_the_total_or_the_one_item(case):
    code, items = case
    scored = score_items(code, items)
    scale = SCALES[code]
    if code == "wsrs":
        assert scored.headline is None
    elif len(scale.items) == 1:
        assert scored.headline == Decimal(str(items[scale.items[0].key])).quantize(Decimal("0.01"))
    else:
        exact = scored.totals[scale.headline]
        assert abs(scored.headline - exact) <= Decimal("0.005")
        assert scored.headline == scored.headline.quantize(Decimal("0.01"))


@given(scale_and_items, st.data())
def test_an_item_out_of_range_is_named(case, data):
    code, items = case
    item = data.draw(st.sampled_from(SCALES[code].items))
    bad = data.draw(st.sampled_from([item.minimum - 1, item.maximum + 1, item.maximum + 100, -1000]))
    problems = _problems(code, {**items, item.key: bad})
    assert set(problems) == {item.key}


@given(scale_and_items, st.data())
def test_a_fraction_where_whole_numbers_are_needed_is_named(case, data):
    code, items = case
    whole = [item for item in SCALES[code].items if item.whole]
    if not whole:
        return
    item = data.draw(st.sampled_from(whole))
    value = data.draw(st.sampled_from(item.values())) + Decimal("0.5")
    problems = _problems(code, {**items, item.key: str(value)})
    assert set(problems) == {item.key}
    assert "whole number" in problems[item.key] or "one of" in problems[item.key]


@given(scale_and_items, st.data())
def test_a_missing_item_is_named(case, data):
    code, items = case
    item = data.draw(st.sampled_from(SCALES[code].items))
    blank = data.draw(st.sampled_from([None, "", "   ", "drop"]))
    if blank == "drop":
        items = {k: v for k, v in items.items() if k != item.key}
    else:
        items = {**items, item.key: blank}
    problems = _problems(code, items)
    assert set(problems) == {item.key} and problems[item.key].startswith("missing")


@given(scale_and_items, st.text(min_size=1, max_size=20))
def test_an_unknown_item_is_named(case, name):
    code, items = case
    if name in items:
        return
    problems = _problems(code, {**items, name: 1})
    assert set(problems) == {name} and "is not an item" in problems[name]


@given(scale_and_items, st.data())
def test_a_non_number_is_named(case, data):
    code, items = case
    item = data.draw(st.sampled_from(SCALES[code].items))
    bad = data.draw(st.sampled_from(["abc", "NaN", "Infinity", "-inf", True, [3], {"a": 1}, float("nan")]))
    problems = _problems(code, {**items, item.key: bad})
    assert problems == {item.key: "must be a number"}


@given(scale_and_items, st.data())
def test_every_bad_item_is_named_at_once(case, data):
    code, items = case
    keys = data.draw(st.sets(st.sampled_from(SCALES[code].item_keys), min_size=1))
    problems = _problems(code, {**items, **dict.fromkeys(keys, "x")})
    assert set(problems) == keys


@given(
    valid_items(T_VASI),
    st.sampled_from([r for r, _ in VASI_REGIONS]),
    st.integers(-5, 105).filter(lambda v: v not in VASI_ALLOWED),
)
def test_vasi_depigmentation_takes_only_the_allowed_levels(items, region, level):
    problems = _problems("t_vasi", {**items, f"{region}_depigmentation": level})
    assert problems == {f"{region}_depigmentation": "must be one of 0, 10, 25, 50, 75, 90, 100 %"}


@given(valid_items(POSAS), st.integers(1, 10), st.integers(1, 10))
def test_the_overall_opinion_is_recorded_but_never_added(items, observer, patient):
    before = score_items("posas", items)
    after = score_items("posas", {**items, "observer_overall": observer, "patient_overall": patient})
    assert after.totals == before.totals and after.headline == before.headline
    assert (after.items["observer_overall"], after.items["patient_overall"]) == (observer, patient)


def _vasi(**regions) -> dict:
    items = {f"{r}_{part}": 0 for r, _ in VASI_REGIONS for part in ("hu", "depigmentation")}
    for region, (units, level) in regions.items():
        items.update({f"{region}_hu": units, f"{region}_depigmentation": level})
    return items


def test_the_t_vasi_example_of_the_domain():
    scored = score_items("t_vasi", _vasi(hands=(3, 50), trunk=(4, 75)))
    assert scored.totals == {"hand_units": Decimal(7), "t_vasi": Decimal("4.5")}
    assert scored.headline == Decimal("4.50")


def test_t_vasi_is_rounded_only_where_it_is_kept():
    scored = score_items("t_vasi", _vasi(hands=("0.33", 25)))
    assert scored.totals["t_vasi"] == Decimal("0.0825") and scored.headline == Decimal("0.08")
    assert scored.items["hands_hu"] == 0.33


def test_hand_units_cannot_exceed_the_whole_body():
    problems = _problems("t_vasi", _vasi(hands=(60, 50), trunk=(50, 100)))
    assert list(problems) == ["hand_units"] and "more than the whole body" in problems["hand_units"]
    assert score_items("t_vasi", _vasi(hands=(50, 50), trunk=(50, 100))).totals["t_vasi"] == 75


def test_f_vasi_is_at_most_about_3():
    assert score_items("f_vasi", {"face_hu": 3, "face_depigmentation": 100}).headline == 3
    assert set(_problems("f_vasi", {"face_hu": "3.5", "face_depigmentation": 100})) == {"face_hu"}


@pytest.mark.parametrize(
    ("code", "items", "totals", "headline"),
    [
        ("vss", {"vascularity": 3, "pigmentation": 2, "pliability": 5, "height": 3}, {"total": 13}, 13),
        ("vss", {"vascularity": 0, "pigmentation": 0, "pliability": 0, "height": 0}, {"total": 0}, 0),
        ("posas", dict.fromkeys(POSAS.item_keys, 1), {"observer_total": 6, "patient_total": 6}, 6),
        ("posas", dict.fromkeys(POSAS.item_keys, 10), {"observer_total": 60, "patient_total": 60}, 60),
        ("wsrs", {"left": 3, "right": 4}, {}, None),
        ("gais", {"grade": 1}, {}, 1),
        ("glogau", {"type": "4"}, {}, 4),
        ("elasa", {"grade": 0}, {}, 0),
        ("repigmentation_pct", {"repigmented_pct": "82.5"}, {}, Decimal("82.5")),
    ],
)
def test_the_ends_of_each_scale(code, items, totals, headline):
    scored = score_items(code, items)
    assert scored.totals == totals and scored.headline == headline


def test_text_is_read_as_numbers_and_decimals_keep_two_places():
    assert score_items("glogau", {"type": " 2 "}).items == {"type": 2}
    assert score_items("re_epithelialised_pct", {"re_epithelialised_pct": 70.25}).items == {
        "re_epithelialised_pct": 70.25
    }
    assert _problems("re_epithelialised_pct", {"re_epithelialised_pct": "70.255"}) == {
        "re_epithelialised_pct": "can have at most 2 decimal places"
    }
    assert (
        score_items("vss", {"vascularity": 2.0, "pigmentation": "1.00", "pliability": 0, "height": 1}).items[
            "vascularity"
        ]
        == 2
    )


def test_the_error_names_each_item_and_why():
    with pytest.raises(SeverityItemsError) as exc:
        score_items("vss", {"vascularity": 4, "pigmentation": 1, "height": "x", "colour": 1})
    assert str(exc.value) == (
        "vascularity: must be a whole number from 0 to 3; pliability: missing: give a value from 0 to 5; "
        "height: must be a number; colour: is not an item of the Vancouver Scar Scale (VSS), 0–13"
    )
    assert _problems("wsrs", ["left", 3]) == {"": "must be a mapping of item to score"}
    with pytest.raises(ValueError, match="unknown scale"):
        score_items("posas_observer", {})


def test_a_reading_shows_labels_and_meanings_not_keys():
    scored = score_items("vss", {"vascularity": 2, "pigmentation": 1, "pliability": 3, "height": 0})
    reading = read("vss", scored.items, scored.headline)
    [group] = reading.groups
    assert [(line.label, line.value) for line in group.lines] == [
        ("Vascularity", "2 (red)"),
        ("Pigmentation", "1 (hypopigmented)"),
        ("Pliability", "3 (firm)"),
        ("Height", "0 (flat)"),
    ]
    assert [(line.label, line.value) for line in reading.totals] == [("Total (0–13)", "6")]
    assert reading.summary == "VSS 6" and not reading.total_only


def test_readings_of_each_kind():
    posas = score_items("posas", {**dict.fromkeys(POSAS.item_keys, 2), "observer_overall": 9})
    reading = read("posas", posas.items, posas.headline)
    assert [g.heading for g in reading.groups] == ["Observer", "Patient"]
    assert reading.summary == "POSAS observer 12, patient 12"
    assert ("Overall opinion (not added up)", "9") in [(li.label, li.value) for li in reading.groups[0].lines]
    vasi = score_items("t_vasi", _vasi(hands=(3, 50)))
    reading = read("t_vasi", vasi.items, vasi.headline)
    assert reading.summary == "T-VASI 1.5"
    assert [(li.label, li.value) for li in reading.groups[0].lines] == [
        ("Hand units", "3 HU"),
        ("Residual depigmentation", "50 % (equal)"),
    ]
    assert read("wsrs", {"left": 3, "right": 4}, None).summary == "WSRS left 3, right 4"
    assert read("repigmentation_pct", {"repigmented_pct": 40}, 40).summary == "Repigmentation 40 %"
    assert read("", {}, None) is None


def test_a_total_recorded_before_items_reads_as_total_only():
    reading = read("posas_observer", {}, Decimal("24.00"))
    assert reading.total_only and reading.summary == "POSAS observer 24 (total only)"
    assert reading.label == "POSAS v2.0 observer scale, 6–60"
    assert read("vss", {}, Decimal("7")).summary == "VSS 7 (total only)"
    assert totals_of("vss", {}) == {} and totals_of("posas_observer", {"x": 1}) == {}


@pytest.mark.parametrize(
    ("key", "raw", "value", "problem"),
    [
        ("burn_depth", "full_thickness", "full_thickness", None),
        ("burn_depth", "", None, None),
        ("burn_depth", "third_degree", None, "use one of"),
        ("burn_depth", 3, None, "use one of"),
        ("burn_tbsa_pct", "12.5", Decimal("12.5"), None),
        ("burn_tbsa_pct", 0, Decimal(0), None),
        ("burn_tbsa_pct", 100, Decimal(100), None),
        ("burn_tbsa_pct", "100.01", None, "must be from 0 to 100"),
        ("burn_tbsa_pct", "-1", None, "must be from 0 to 100"),
        ("burn_tbsa_pct", "ten", None, "must be a number"),
        ("burn_tbsa_pct", None, None, None),
        ("wound_area_cm2", "44.18", Decimal("44.18"), None),
        ("wound_area_cm2", 0, None, "must be from 0.01 to 20000"),
        ("wound_area_cm2", "1.234", None, "can have at most 2 decimal places"),
        ("wound_duration_weeks", 6, Decimal(6), None),
        ("wound_duration_weeks", "6.5", None, "must be a whole number from 0 to 2600"),
        ("wound_duration_weeks", True, None, "must be a number"),
    ],
)
def test_descriptors(key, raw, value, problem):
    got, why = descriptor_value(key, raw)
    assert got == value
    assert (why is None) if problem is None else why.startswith(problem)
    assert DESCRIPTORS[key].indication in {"burn", "wound"}

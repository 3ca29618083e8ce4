"""The severity table: the right scales for each indication, their items, ranges and sources."""

import pytest

from cellclinic.catalogue.vocabulary import INDICATIONS
from cellclinic.consultations.severity import (
    DESCRIPTORS,
    DESCRIPTORS_BY_INDICATION,
    LEGACY_SCALES,
    SCALES,
    SCALES_BY_INDICATION,
    descriptor_problem,
    scale_fits,
    scale_label,
    scale_problem,
    scales_for,
)


def test_every_indication_has_scales_with_sources_items_and_ranges():
    assert set(SCALES_BY_INDICATION) == set(INDICATIONS)
    for scales in SCALES_BY_INDICATION.values():
        assert scales
        for scale in scales:
            assert scale.source and all(tag.startswith("S") for tag in scale.source)
            assert scale.items and len(set(scale.item_keys)) == len(scale.items)
            for item in scale.items:
                assert item.minimum < item.maximum
                assert all(item.minimum <= value <= item.maximum for value in item.allowed)
                assert all(item.minimum <= value <= item.maximum for value, _ in item.levels)
            for total in scale.totals:
                assert set(total.parts) | set(total.weights) <= set(scale.item_keys)
            assert scale.headline is None or scale.headline in {t.key for t in scale.totals} | set(
                scale.item_keys
            )


@pytest.mark.parametrize(
    ("code", "key", "low", "high"),
    [
        ("posas", "observer_vascularity", 1, 10),
        ("posas", "observer_overall", 1, 10),
        ("posas", "patient_irregularity", 1, 10),
        ("vss", "vascularity", 0, 3),
        ("vss", "pigmentation", 0, 2),
        ("vss", "pliability", 0, 5),
        ("vss", "height", 0, 3),
        ("gais", "grade", 1, 5),
        ("glogau", "type", 1, 4),
        ("elasa", "grade", 0, 4),
        ("wsrs", "left", 1, 5),
        ("wsrs", "right", 1, 5),
        ("t_vasi", "hands_depigmentation", 0, 100),
        ("repigmentation_pct", "repigmented_pct", 0, 100),
        ("re_epithelialised_pct", "re_epithelialised_pct", 0, 100),
    ],
)
def test_the_domain_ranges(code, key, low, high):
    item = SCALES[code].item(key)
    assert (item.minimum, item.maximum) == (low, high)


def test_the_items_of_each_scale():
    assert SCALES["posas"].item_keys == (
        *(
            f"observer_{k}"
            for k in ("vascularity", "pigmentation", "thickness", "relief", "pliability", "surface_area")
        ),
        "observer_overall",
        *(f"patient_{k}" for k in ("pain", "itching", "colour", "stiffness", "thickness", "irregularity")),
        "patient_overall",
    )
    assert SCALES["vss"].item_keys == ("vascularity", "pigmentation", "pliability", "height")
    assert SCALES["wsrs"].item_keys == ("left", "right") and SCALES["wsrs"].totals == ()
    assert [key.removesuffix("_hu") for key in SCALES["t_vasi"].item_keys[::2]] == [
        "hands",
        "upper_limbs",
        "trunk",
        "lower_limbs",
        "feet",
    ]
    assert SCALES["t_vasi"].item("feet_depigmentation").allowed == (0, 10, 25, 50, 75, 90, 100)


def test_the_usual_scale_comes_first():
    assert scales_for("premature_ageing")[0].code == "wsrs"
    assert scales_for("scar")[0].code == "vss"
    assert scales_for("vitiligo")[0].code == "t_vasi"


def test_repigmentation_and_vasi_are_for_vitiligo_only():
    for code in ("repigmentation_pct", "repigmentation_grade", "t_vasi", "f_vasi"):
        offered = [
            indication for indication, scales in SCALES_BY_INDICATION.items() if SCALES[code] in scales
        ]
        assert offered == ["vitiligo"], code


def test_burns_and_wounds_are_described_and_nothing_else():
    assert set(DESCRIPTORS_BY_INDICATION) == {"burn", "wound"}
    assert [d.key for d in DESCRIPTORS_BY_INDICATION["burn"]] == ["burn_depth", "burn_tbsa_pct"]
    assert [d.key for d in DESCRIPTORS_BY_INDICATION["wound"]] == ["wound_area_cm2", "wound_duration_weeks"]
    assert list(DESCRIPTORS["burn_depth"].choices) == [
        "superficial",
        "partial_thickness_superficial",
        "partial_thickness_deep",
        "full_thickness",
    ]
    assert descriptor_problem("burn", "burn_depth") is None
    assert "only for burn" in descriptor_problem("scar", "burn_tbsa_pct")
    assert "only for wound" in descriptor_problem("burn", "wound_area_cm2")


def test_a_scale_from_another_indication_is_refused():
    assert "t_vasi" in scale_problem("vitiligo", "wsrs")
    assert scale_problem("vitiligo", "t_vasi") is None


def test_unknown_legacy_and_missing_parts():
    assert scale_problem("scar", "nope").startswith("unknown scale")
    assert scale_problem("", "vss") == "choose the indication first"
    assert "no longer recorded" in scale_problem("scar", "posas_observer")
    assert scale_fits("scar", "posas_observer") and not scale_fits("vitiligo", "posas_patient")
    assert scale_label("posas_patient") == LEGACY_SCALES["posas_patient"].label
    assert scale_label("vss") == SCALES["vss"].label and scale_label("nope") == "nope"

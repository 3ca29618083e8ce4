"""Findings through the service: item scores and descriptions saved in one audited change, or nothing."""

import importlib
from decimal import Decimal

import pytest
from django.apps import apps

from cellclinic.audit.models import AuditEvent
from cellclinic.audit.selectors import audit_verify
from cellclinic.consultations.models import Consultation
from cellclinic.consultations.services import consultation_update
from cellclinic.consultations.severity import POSAS, VASI_REGIONS
from cellclinic.core.errors import InvalidInput
from cellclinic.demo.builder import at_stage
from conftest import PASSWORD

pytestmark = pytest.mark.django_db

VSS_6 = {"vascularity": 2, "pigmentation": 1, "pliability": 2, "height": 1}
POSAS_ITEMS = {**dict.fromkeys(POSAS.item_keys, 3), "observer_overall": 8, "patient_overall": 5}


def _vasi(**regions) -> dict:
    items = {f"{r}_{part}": 0 for r, _ in VASI_REGIONS for part in ("hu", "depigmentation")}
    for region, (units, level) in regions.items():
        items.update({f"{region}_hu": units, f"{region}_depigmentation": level})
    return items


def _update(consultation, user, **data):
    return consultation_update(consultation=consultation, actor=user, data=data)


def _events():
    return list(AuditEvent.objects.filter(action="consultation.update").order_by("id"))


def _refused(consultation, user, data) -> dict[str, str]:
    """The fields named by refusing DATA, after checking that nothing was written or audited."""
    before = Consultation.objects.values().get(pk=consultation.pk)
    events = AuditEvent.objects.count()
    with pytest.raises(InvalidInput) as exc:
        consultation_update(consultation=consultation, actor=user, data=data)
    assert Consultation.objects.values().get(pk=consultation.pk) == before
    assert AuditEvent.objects.count() == events
    return {error.field: error.message for error in exc.value.errors}


def test_every_item_is_saved_with_the_computed_score_and_one_event(consultation, dr_ada):
    _update(consultation, dr_ada, severity_scale="vss", severity_items={**VSS_6, "height": "1"})
    consultation.refresh_from_db()
    assert consultation.severity_scale == "vss" and consultation.severity_items == VSS_6
    assert consultation.severity_score == Decimal("6.00") and consultation.severity_totals == {"total": 6}
    [event] = _events()
    assert event.before == {"severity_scale": "", "severity_items": {}, "severity_score": None}
    assert event.after == {"severity_scale": "vss", "severity_items": VSS_6, "severity_score": "6.00"}
    assert event.object_id == str(consultation.pk) and event.patient_id == consultation.patient_id
    _update(consultation, dr_ada, severity_scale="vss", severity_items=VSS_6)
    assert len(_events()) == 1  # the same items again: no change, no event
    assert audit_verify().ok


def test_posas_keeps_both_sides_and_the_observer_total_is_the_score(consultation, dr_ada):
    _update(consultation, dr_ada, severity_scale="posas", severity_items=POSAS_ITEMS)
    consultation.refresh_from_db()
    assert consultation.severity_items == POSAS_ITEMS
    assert consultation.severity_totals == {"observer_total": 18, "patient_total": 18}
    assert consultation.severity_score == 18


def test_new_items_replace_the_old_ones_and_another_scale_replaces_them_all(consultation, dr_ada):
    _update(consultation, dr_ada, severity_scale="vss", severity_items=VSS_6)
    _update(consultation, dr_ada, severity_items={**VSS_6, "vascularity": 3})
    consultation.refresh_from_db()
    assert consultation.severity_items["vascularity"] == 3 and consultation.severity_score == 7
    _update(consultation, dr_ada, severity_scale="elasa", severity_items={"grade": 3})
    consultation.refresh_from_db()
    assert consultation.severity_items == {"grade": 3} and consultation.severity_score == 3
    _update(consultation, dr_ada, severity_scale="")
    consultation.refresh_from_db()
    assert (consultation.severity_scale, consultation.severity_items, consultation.severity_score) == (
        "",
        {},
        None,
    )
    assert len(_events()) == 4


def test_a_one_item_scale_takes_its_score(consultation, dr_ada):
    _update(consultation, dr_ada, indication="sun_damage", severity_scale="glogau", severity_score=3)
    consultation.refresh_from_db()
    assert consultation.severity_items == {"type": 3} and consultation.severity_score == 3
    assert _refused(consultation, dr_ada, {"severity_score": 5}) == {
        "severity_score": "must be a whole number from 1 to 4"
    }


def test_wsrs_keeps_both_sides_and_no_single_score(consultation, dr_ada):
    _update(
        consultation,
        dr_ada,
        indication="premature_ageing",
        severity_scale="wsrs",
        severity_items={"left": 3, "right": 4},
    )
    consultation.refresh_from_db()
    assert consultation.severity_items == {"left": 3, "right": 4} and consultation.severity_score is None


def test_vitiligo_vasi_is_computed_from_the_regions(consultation, dr_ada):
    items = _vasi(hands=(3, 50), trunk=("4", "75"))
    _update(consultation, dr_ada, indication="vitiligo", severity_scale="t_vasi", severity_items=items)
    consultation.refresh_from_db()
    assert consultation.severity_score == Decimal("4.50")
    assert consultation.severity_totals == {"hand_units": 7, "t_vasi": Decimal("4.5")}
    assert consultation.severity_items["trunk_depigmentation"] == 75


@pytest.mark.parametrize(
    ("data", "fields"),
    [
        ({"severity_scale": "vss", "severity_items": {**VSS_6, "height": 4}}, {"severity_items.height"}),
        (
            {"severity_scale": "vss", "severity_items": {**VSS_6, "pliability": "2.5"}},
            {"severity_items.pliability"},
        ),
        ({"severity_scale": "vss", "severity_items": {**VSS_6, "height": True}}, {"severity_items.height"}),
        (
            {"severity_scale": "vss", "severity_items": {"vascularity": 1, "pigmentation": 9, "colour": 2}},
            {
                "severity_items.pigmentation",
                "severity_items.pliability",
                "severity_items.height",
                "severity_items.colour",
            },
        ),
        ({"severity_scale": "vss"}, {f"severity_items.{key}" for key in VSS_6}),
        ({"severity_scale": "vss", "severity_items": [1, 2]}, {"severity_items"}),
        ({"severity_scale": "vss", "severity_score": 6}, {"severity_score"}),
        ({"severity_scale": "vss", "severity_items": VSS_6, "severity_score": 6}, {"severity_score"}),
        ({"severity_items": VSS_6}, {"severity_scale"}),
        ({"severity_scale": "posas_observer", "severity_score": 24}, {"severity_scale"}),
        ({"severity_scale": "t_vasi", "severity_items": _vasi(hands=(3, 50))}, {"severity_scale"}),
        ({"severity_scale": "nope", "severity_items": {}}, {"severity_scale"}),
        ({"severity_scale": 3}, {"severity_scale"}),
        (
            {"severity_scale": "posas", "severity_items": {**POSAS_ITEMS, "patient_overall": 11}},
            {"severity_items.patient_overall"},
        ),
        ({"burn_depth": "partial_thickness_deep"}, {"burn_depth"}),
        ({"wound_area_cm2": 10}, {"wound_area_cm2"}),
    ],
)
def test_bad_findings_change_nothing_and_name_each_field(consultation, dr_ada, data, fields):
    problems = _refused(consultation, dr_ada, {"goals": "new goals", "findings": "seen", **data})
    assert set(problems) == fields


def test_a_vasi_level_outside_the_allowed_set_is_named(consultation, dr_ada):
    _update(consultation, dr_ada, indication="vitiligo")
    problems = _refused(
        consultation,
        dr_ada,
        {"severity_scale": "t_vasi", "severity_items": _vasi(hands=(3, 60), feet=(1, 33))},
    )
    assert problems == {
        "severity_items.hands_depigmentation": "must be one of 0, 10, 25, 50, 75, 90, 100 %",
        "severity_items.feet_depigmentation": "must be one of 0, 10, 25, 50, 75, 90, 100 %",
    }
    problems = _refused(
        consultation,
        dr_ada,
        {"severity_scale": "t_vasi", "severity_items": _vasi(hands=(70, 50), trunk=(40, 50))},
    )
    assert list(problems) == ["severity_items.hand_units"]


def test_a_burn_is_described_by_depth_and_body_surface(consultation, dr_ada):
    _update(consultation, dr_ada, indication="burn", burn_depth="full_thickness", burn_tbsa_pct="32.5")
    consultation.refresh_from_db()
    assert (consultation.burn_depth, consultation.burn_tbsa_pct) == ("full_thickness", Decimal("32.50"))
    assert [(line.label, line.value) for line in consultation.description] == [
        ("Burn depth (the deepest part)", "Full thickness"),
        ("Burnt area, % of the total body surface area", "32.5 % TBSA"),
    ]
    [event] = _events()
    assert event.after["burn_depth"] == "full_thickness" and event.after["burn_tbsa_pct"] == "32.50"
    problems = _refused(consultation, dr_ada, {"burn_depth": "fourth_degree", "burn_tbsa_pct": 101})
    assert set(problems) == {"burn_depth", "burn_tbsa_pct"}
    _update(consultation, dr_ada, burn_depth="", burn_tbsa_pct=None)
    consultation.refresh_from_db()
    assert (consultation.burn_depth, consultation.burn_tbsa_pct) == ("", None)


def test_a_wound_is_described_by_area_and_weeks(consultation, dr_ada):
    _update(consultation, dr_ada, indication="wound", wound_area_cm2=44.18, wound_duration_weeks="6")
    consultation.refresh_from_db()
    assert (consultation.wound_area_cm2, consultation.wound_duration_weeks) == (Decimal("44.18"), 6)
    assert set(_refused(consultation, dr_ada, {"wound_duration_weeks": 6.5, "wound_area_cm2": -2})) == {
        "wound_duration_weeks",
        "wound_area_cm2",
    }


def test_a_new_indication_must_keep_fitting_findings(consultation, dr_ada):
    _update(
        consultation,
        dr_ada,
        indication="burn",
        burn_depth="superficial",
        severity_scale="vss",
        severity_items=VSS_6,
    )
    assert set(_refused(consultation, dr_ada, {"indication": "scar"})) == {"burn_depth"}
    assert set(_refused(consultation, dr_ada, {"indication": "wound"})) == {"burn_depth", "severity_scale"}
    assert set(_refused(consultation, dr_ada, {"indication": "vitiligo", "burn_depth": ""})) == {
        "severity_scale"
    }
    _update(consultation, dr_ada, indication="scar", burn_depth="")
    consultation.refresh_from_db()
    assert (consultation.indication, consultation.burn_depth, consultation.severity_score) == ("scar", "", 6)


def test_a_total_recorded_before_items_is_kept_until_it_is_replaced(consultation, dr_ada):
    Consultation.objects.filter(pk=consultation.pk).update(severity_scale="posas_observer", severity_score=24)
    consultation.refresh_from_db()
    assert consultation.severity.summary == "POSAS observer 24 (total only)"
    _update(consultation, dr_ada, findings="Reviewed", severity_scale="posas_observer", indication="scar")
    consultation.refresh_from_db()
    assert (consultation.severity_scale, consultation.severity_score, consultation.findings) == (
        "posas_observer",
        24,
        "Reviewed",
    )
    assert set(_refused(consultation, dr_ada, {"indication": "vitiligo"})) == {"severity_scale"}
    _update(consultation, dr_ada, severity_scale="posas", severity_items=POSAS_ITEMS)
    consultation.refresh_from_db()
    assert consultation.severity_score == 18 and consultation.severity_items == POSAS_ITEMS


def test_a_total_only_record_on_a_current_scale_is_kept_while_its_items_are_left_empty(consultation, dr_ada):
    Consultation.objects.filter(pk=consultation.pk).update(severity_scale="vss", severity_score=7)
    blank = dict.fromkeys(VSS_6, "")
    _update(consultation, dr_ada, severity_scale="vss", severity_items=blank, fitzpatrick_type="III")
    consultation.refresh_from_db()
    assert (consultation.severity_score, consultation.severity_items, consultation.fitzpatrick_type) == (
        7,
        {},
        "III",
    )
    assert set(_refused(consultation, dr_ada, {"severity_items": {**blank, "height": 1}})) == {
        "severity_items.vascularity",
        "severity_items.pigmentation",
        "severity_items.pliability",
    }


def test_a_one_item_total_recorded_before_items_becomes_its_item():
    migration = importlib.import_module("cellclinic.consultations.migrations.0003_severity_items")
    consultation = at_stage("consultation_open", ready=False).consultation
    Consultation.objects.filter(pk=consultation.pk).update(
        indication="wound",
        severity_scale="re_epithelialised_pct",
        severity_score=Decimal("62.50"),
        severity_items={},
    )
    migration.items_from_scores(apps, None)
    consultation.refresh_from_db()
    assert consultation.severity_items == {"re_epithelialised_pct": 62.5}
    assert consultation.severity.summary == "Re-epithelialised 62.5 %"


def test_the_builder_records_realistic_items(patient_a, dr_ada):
    consultation = at_stage(
        "consultation_open", patient=patient_a, practitioner=dr_ada, password=PASSWORD
    ).consultation
    assert consultation.severity_scale == "vss" and consultation.severity_score == 5
    assert set(consultation.severity_items) == {"vascularity", "pigmentation", "pliability", "height"}
    burn = at_stage(
        "consultation_open", indication="burn", area="arms", therapy="autologous_skin_cell_suspension"
    ).consultation
    assert (burn.burn_depth, burn.burn_tbsa_pct) == ("partial_thickness_deep", Decimal("1.50"))
    vitiligo = at_stage(
        "consultation_open", indication="vitiligo", area="hands", severity_scale="t_vasi", severity_score=3
    ).consultation
    assert vitiligo.severity_score == 3 and vitiligo.severity_items["hands_depigmentation"] == 50
    face = at_stage("consultation_open", indication="vitiligo", area="face").consultation
    assert face.severity_scale == "f_vasi" and face.severity_items["face_hu"] == 1

"""The findings step of the consultation: the items of the indication's scales, errors by item,
and the recorded items read back by label on the page and the chart."""

from decimal import Decimal

import pytest
from django.test import RequestFactory
from django.urls import reverse

from cellclinic.audit.models import AuditEvent
from cellclinic.consultations.models import Consultation
from cellclinic.consultations.services import consultation_update
from cellclinic.consultations.severity import POSAS
from cellclinic.core import plugs

pytestmark = pytest.mark.django_db

VSS_ITEMS = {"vss__vascularity": "2", "vss__pigmentation": "1", "vss__pliability": "2", "vss__height": "1"}


def _detail(consultation):
    return reverse("consultations:step", args=[consultation.pk, "findings"])


def _findings(consultation):
    return reverse("consultations:step", args=[consultation.pk, "findings"])


def _post(client, consultation, **fields):
    data = {"indication": consultation.indication, "fitzpatrick_type": "II", "findings": "", **fields}
    return client.post(_findings(consultation), data)


def test_the_form_offers_the_scales_of_the_indication_with_their_items(client, dr_ada, consultation):
    client.force_login(dr_ada)
    page = client.get(_detail(consultation))
    form = page.context["form"]
    assert [code for code, _ in form.fields["severity_scale"].choices] == ["", "vss", "posas", "elasa"]
    assert {"vss__vascularity", "posas__observer_overall", "posas__patient_pain", "elasa__grade"} <= set(
        form.fields
    )
    assert not any(name.startswith(("t_vasi__", "wsrs__", "burn_", "wound_")) for name in form.fields)
    html = page.content.decode()
    assert '<option value="2">2: red</option>' in html
    assert '<option value="10">10: worst imaginable</option>' in html
    assert "Observer: overall opinion (not added up)" in html and "Items of the Vancouver Scar Scale" in html
    assert html.count("<details") == 3 and html.count('<details class="severity-scale" open>') == 1


def test_the_items_are_saved_and_read_back_by_label(client, dr_ada, nurse_bo, consultation):
    client.force_login(dr_ada)
    response = _post(client, consultation, severity_scale="vss", **VSS_ITEMS)
    assert response.status_code == 302 and response["Location"] == reverse(
        "consultations:step", args=[consultation.pk, "candidacy"]
    )
    consultation.refresh_from_db()
    assert consultation.severity_items == {"vascularity": 2, "pigmentation": 1, "pliability": 2, "height": 1}
    assert consultation.severity_score == 6
    assert AuditEvent.objects.filter(action="consultation.update").count() == 1
    page = client.get(_detail(consultation)).content.decode()
    assert "Severity recorded: VSS 6" in page and "<dd>2 (red)</dd>" in page
    assert page.count("selected>2: red</option>") == 1  # the form shows the recorded items
    client.force_login(nurse_bo)
    page = client.get(_detail(consultation)).content.decode()
    assert "<dt>Vascularity</dt><dd>2 (red)</dd>" in page and "<dd><strong>6</strong></dd>" in page
    step = page.split('class="card consult-step"')[1].split("</section>")[0]
    assert "vascularity" not in page and "{" not in step


def test_items_changed_on_a_scale_not_chosen_are_refused_not_lost(client, dr_ada, consultation):
    client.force_login(dr_ada)
    posas = {f"posas__{key}": "4" for key in POSAS.item_keys}
    response = _post(client, consultation, severity_scale="posas", **posas, **VSS_ITEMS)
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert set(errors) == set(VSS_ITEMS)
    assert errors["vss__height"] == [
        "not saved: choose the Vancouver Scar Scale (VSS), 0–13 as the severity scale to save it, or clear it"
    ]
    assert _post(client, consultation, severity_scale="vss", **posas, **VSS_ITEMS).status_code == 422
    assert _post(client, consultation, severity_scale="vss", **VSS_ITEMS).status_code == 302
    # The recorded VSS items stay in their inputs: choosing POSAS then keeps only POSAS's items.
    response = _post(client, consultation, severity_scale="posas", **posas, **VSS_ITEMS)
    assert response.status_code == 302
    consultation.refresh_from_db()
    assert set(consultation.severity_items) == set(POSAS.item_keys)
    assert consultation.severity_score == 24


def test_each_bad_item_is_named_next_to_its_input_and_nothing_is_saved(client, dr_ada, consultation):
    client.force_login(dr_ada)
    response = _post(
        client,
        consultation,
        severity_scale="vss",
        **{**VSS_ITEMS, "vss__height": "9", "vss__pliability": ""},
        goals="ignored",
    )
    assert response.status_code == 422
    form = response.context["form"]
    assert form.errors["vss__height"] == ["must be a whole number from 0 to 3"]
    assert form.errors["vss__pliability"] == ["missing: give a value from 0 to 5"]
    html = response.content.decode()
    assert "The findings were not saved." in html and "must be a whole number from 0 to 3" in html
    assert '<details class="severity-scale" open>' in html
    consultation.refresh_from_db()
    assert consultation.severity_scale == "" and consultation.fitzpatrick_type == "II"
    assert not AuditEvent.objects.filter(action="consultation.update").exists()


def test_a_scale_that_does_not_fit_a_new_indication_is_refused(client, dr_ada, consultation):
    consultation_update(
        consultation=consultation,
        actor=dr_ada,
        data={
            "severity_scale": "vss",
            "severity_items": {"vascularity": 1, "pigmentation": 1, "pliability": 1, "height": 1},
        },
    )
    client.force_login(dr_ada)
    response = _post(client, consultation, indication="vitiligo", severity_scale="vss", **VSS_ITEMS)
    assert response.status_code == 422
    assert "is not a scale for vitiligo" in response.context["form"].errors["severity_scale"][0]
    response = _post(client, consultation, indication="vitiligo", severity_scale="")
    assert response.status_code == 302
    page = client.get(_detail(consultation))
    assert "t_vasi__hands_hu" in page.context["form"].fields


def test_vitiligo_regions_and_a_total_beyond_the_body(client, dr_ada, consultation):
    consultation_update(consultation=consultation, actor=dr_ada, data={"indication": "vitiligo"})
    consultation.refresh_from_db()
    client.force_login(dr_ada)
    page = client.get(_detail(consultation)).content.decode()
    assert '<option value="75">75 %: depigmented area exceeds pigmented</option>' in page
    regions = ("hands", "upper_limbs", "trunk", "lower_limbs", "feet")
    items = {f"t_vasi__{r}_{part}": "0" for r in regions for part in ("hu", "depigmentation")}
    items.update({"t_vasi__hands_hu": "3", "t_vasi__hands_depigmentation": "50", "t_vasi__trunk_hu": "99"})
    response = _post(client, consultation, severity_scale="t_vasi", **items)
    assert response.status_code == 422
    assert any("more than the whole body" in e for e in response.context["form"].non_field_errors())
    items["t_vasi__trunk_hu"] = "4"
    items["t_vasi__trunk_depigmentation"] = "75"
    assert _post(client, consultation, severity_scale="t_vasi", **items).status_code == 302
    consultation.refresh_from_db()
    assert consultation.severity_score == Decimal("4.50")


def test_a_burn_is_described_on_the_form(client, dr_ada, nurse_bo, consultation):
    consultation_update(consultation=consultation, actor=dr_ada, data={"indication": "burn"})
    consultation.refresh_from_db()
    client.force_login(dr_ada)
    form = client.get(_detail(consultation)).context["form"]
    assert [field.name for field in form.descriptor_fields()] == ["burn_depth", "burn_tbsa_pct"]
    response = _post(client, consultation, burn_depth="partial_thickness_deep", burn_tbsa_pct="150")
    assert response.status_code == 422
    assert response.context["form"].errors == {"burn_tbsa_pct": ["must be from 0 to 100"]}
    response = _post(client, consultation, burn_depth="partial_thickness_deep", burn_tbsa_pct="4.5")
    assert response.status_code == 302
    consultation.refresh_from_db()
    assert (consultation.burn_depth, consultation.burn_tbsa_pct) == (
        "partial_thickness_deep",
        Decimal("4.50"),
    )
    client.force_login(nurse_bo)
    page = client.get(_detail(consultation)).content.decode()
    assert "<dd>Partial thickness, deep</dd>" in page and "<dd>4.5 % TBSA</dd>" in page


def test_a_total_recorded_before_items_stays_when_the_findings_are_saved(client, dr_ada, consultation):
    Consultation.objects.filter(pk=consultation.pk).update(severity_scale="posas_observer", severity_score=24)
    client.force_login(dr_ada)
    page = client.get(_detail(consultation))
    assert "POSAS observer 24 (total only)" in page.content.decode()
    assert ("posas_observer", "POSAS v2.0 observer scale, 6–60 (total only)") in page.context["form"].fields[
        "severity_scale"
    ].choices
    assert (
        _post(client, consultation, severity_scale="posas_observer", findings="Reviewed").status_code == 302
    )
    consultation.refresh_from_db()
    assert (consultation.severity_scale, consultation.severity_score, consultation.findings) == (
        "posas_observer",
        24,
        "Reviewed",
    )


def test_the_chart_panel_reads_the_items(ready, dr_ada, patient_a):
    request = RequestFactory().get("/")
    request.user = dr_ada
    html = plugs.render_panel("chart", "consultations", request, patient_a)
    assert "<summary>VSS 5</summary>" in html
    assert "<dt>Pliability</dt><dd>2 (yielding)</dd>" in html and "pliability" not in html

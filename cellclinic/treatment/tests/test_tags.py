"""The timeline tag {% plan_timeline plan %} and the chart's treatment panel."""

from datetime import date

import pytest
from django.template import Context, Template
from django.test import RequestFactory

from cellclinic.core import plugs
from cellclinic.treatment.services import plans_stop_for_consent
from cellclinic.treatment.templatetags.treatment_tags import timeline_rows
from cellclinic.treatment.tests.helpers import DONOR, pathway_to

pytestmark = pytest.mark.django_db

TIMELINE = Template("{% load treatment_tags %}{% plan_timeline plan %}")


def _panel(patient, user) -> str:
    request = RequestFactory().get("/")
    request.user = user
    return plugs.render_panel("chart", "treatment", request, patient)


def test_the_panel_offers_a_plan_for_a_consultation_with_consent_in_force(dr_ada, patient_a):
    consultation = pathway_to("consent_signed", patient_a, dr_ada).consultation
    html = _panel(patient_a, dr_ada)
    assert f'href="/plans/new/{consultation.pk}/"' in html
    assert "Make a plan: Autologous" in html
    assert "No treatment plan yet." in html


def test_the_panel_offers_nothing_without_consent_in_force_or_once_planned(dr_ada, patient_a):
    pathway_to("consent_prepared", patient_a, dr_ada)
    plan = pathway_to("planned", patient_a, dr_ada).plan
    html = _panel(patient_a, dr_ada)
    assert "/plans/new/" not in html
    assert f'href="/plans/{plan.pk}/"' in html and "Active" in html
    assert "Next: Harvest" in html


def test_the_panel_offers_a_new_plan_after_a_stopped_one(dr_ada, patient_a):
    plan = pathway_to("planned", patient_a, dr_ada).plan
    plans_stop_for_consent(consent=plan.consent, actor=dr_ada, reason="Paused on request")
    html = _panel(patient_a, dr_ada)
    assert f'href="/plans/new/{plan.consultation_id}/"' in html
    assert "Stopped: Paused on request" in html
    assert "Next:" not in html


@pytest.mark.parametrize("persona", ["nurse_bo", "admin_al"])
def test_only_practitioners_are_offered_to_make_a_plan(request, dr_ada, patient_a, persona):
    pathway_to("consent_signed", patient_a, dr_ada)
    assert "/plans/new/" not in _panel(patient_a, request.getfixturevalue(persona))


def test_the_panel_runs_a_fixed_number_of_queries(dr_ada, patient_a, django_assert_max_num_queries):
    pathway_to("planned", patient_a, dr_ada)
    pathway_to("consent_signed", patient_a, dr_ada)
    _panel(patient_a, dr_ada)
    # Plans, their steps, consultations ready for a plan (the roles are cached on the user).
    with django_assert_max_num_queries(3) as one:
        _panel(patient_a, dr_ada)
    for _ in range(3):
        pathway_to("planned", patient_a, dr_ada, DONOR)
        pathway_to("consent_signed", patient_a, dr_ada)
    with django_assert_max_num_queries(len(one.captured_queries)):
        html = _panel(patient_a, dr_ada)
    assert html.count("Make a plan") == 4


def test_the_timeline_of_a_plan_without_steps_says_so(dr_ada, patient_a):
    plan = pathway_to("planned", patient_a, dr_ada).plan
    plan.steps.all().delete()
    assert "No steps." in TIMELINE.render(Context({"plan": plan}))


def test_timeline_rows_place_steps_and_phases_on_one_drawing(dr_ada, patient_a):
    plan = pathway_to("planned", patient_a, dr_ada, "autologous_skin_cell_suspension").plan
    steps = list(plan.steps.all())
    rows, bands, today_x = timeline_rows(steps, steps[0].due_date)
    assert rows[0].x == 12 and rows[-1].window_x + rows[-1].window_width == 988
    assert [row.state for row in rows][:2] == ["next", "later"]
    assert [band.key for band in bands] == ["preparation", "treatment", "follow_up"]
    assert today_x == 12
    assert timeline_rows(steps, date(2000, 1, 1))[2] is None
    stopped_rows, _, _ = timeline_rows(steps, steps[0].due_date, stopped=True)
    assert "next" not in {row.state for row in stopped_rows}

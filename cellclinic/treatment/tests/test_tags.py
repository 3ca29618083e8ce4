"""The timeline tag {% plan_timeline plan %} and the chart's treatment panel."""

import re
from datetime import date, timedelta

import pytest
from django.template import Context, Template
from django.test import RequestFactory

from cellclinic.catalogue.loader import BUILTIN_ALTERNATIVES_FILE, BUILTIN_THERAPY_DIR, catalogue_load
from cellclinic.core import plugs
from cellclinic.treatment.schedule import lay_out
from cellclinic.treatment.services import plans_stop_for_consent
from cellclinic.treatment.templatetags.treatment_tags import LAYOUTS, timeline_drawing, timeline_rows
from cellclinic.treatment.tests.helpers import DONOR, pathway_to
from cellclinic.treatment.timeline import Status

pytestmark = pytest.mark.django_db

CATALOGUE = catalogue_load([BUILTIN_THERAPY_DIR], [BUILTIN_ALTERNATIVES_FILE])
CODES = sorted(CATALOGUE.therapies)
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


def test_timeline_rows_number_each_step_and_mark_the_next(dr_ada, patient_a):
    plan = pathway_to("planned", patient_a, dr_ada, "autologous_skin_cell_suspension").plan
    steps = list(plan.steps.all())
    rows = timeline_rows(steps, steps[0].due_date)
    assert [row.number for row in rows] == list(range(1, len(steps) + 1))
    assert [row.state for row in rows][:2] == ["next", "later"]
    assert rows[0].status == Status.DUE and rows[0].status_text == "Due now"
    assert rows[-1].status == Status.UPCOMING and rows[-1].status_text == "Due"
    assert timeline_rows(steps, steps[0].due_date, for_patient=True)[-1].status_text == "Coming up"
    stopped = timeline_rows(steps, steps[0].due_date, active=False, stopped_on=steps[0].due_date)
    assert "next" not in {row.state for row in stopped}
    assert {row.status for row in stopped} == {Status.CANCELLED}


@pytest.mark.parametrize("code", CODES)
@pytest.mark.parametrize("offset", [-400, -30, 0, 1, 45, 200, 900])
@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda layout: layout.name)
def test_every_mark_tick_and_today_lie_within_the_drawing(code, offset, layout):
    therapy = CATALOGUE.therapies[code]
    start = date(2026, 12, 1)
    steps = lay_out(therapy, indication=None, start=start, harvest=start if therapy.autologous else None)
    today = start + timedelta(days=offset)
    drawing = timeline_drawing(timeline_rows(steps, today), today, layout)
    for mark in drawing.marks:
        assert layout.radius <= mark.x <= layout.width - layout.radius
        assert mark.window_x >= 0 and mark.window_x + mark.window_width <= layout.width
        assert mark.radius * 1.5 <= mark.y <= drawing.axis_y - layout.radius
    assert [mark.x for mark in drawing.marks] == sorted(mark.x for mark in drawing.marks)
    assert 0 < drawing.today_x < layout.width and drawing.height > drawing.axis_y
    assert drawing.ticks and all(0 <= tick.x <= layout.width - layout.tick_room for tick in drawing.ticks)
    if offset < 0:
        assert drawing.today_x < min(mark.x for mark in drawing.marks)
    if offset == 900:
        assert drawing.today_x > max(mark.x for mark in drawing.marks)


PATIENT_TIMELINE = Template("{% load treatment_tags %}{% plan_timeline plan for_patient=True %}")


def test_the_patients_timeline_speaks_to_them(dr_ada, patient_a):
    plan = pathway_to("planned", patient_a, dr_ada, in_days=3).plan
    staff = TIMELINE.render(Context({"plan": plan}))
    patient = PATIENT_TIMELINE.render(Context({"plan": plan}))
    assert "Product expected" in staff and "release tests" in staff and ">Due</span>" in staff
    assert "Your cells should be ready" in patient and "Your cells are grown in the lab" in patient
    assert "Product expected" not in patient and "release tests" not in patient
    assert "Coming up" in patient and ">Due</span>" not in patient
    assert ">Today</text>" in patient and "Today is " in patient


def test_the_timeline_is_dated_with_today_before_the_plan(dr_ada, patient_a):
    plan = pathway_to("planned", patient_a, dr_ada, in_days=30).plan
    html = TIMELINE.render(Context({"plan": plan}))
    first = plan.steps.first().due_date
    assert f'<time datetime="{first.isoformat()}">' in html
    # Today is drawn left of the first step, in both drawings.
    for name in ("wide", "narrow"):
        drawing = html[html.index(f"tl-chart-{name}") :]
        drawing = drawing[: drawing.index("</svg>")]
        today_x = float(re.search(r'<line class="tl-today" x1="([\d.]+)"', drawing).group(1))
        first_x = float(re.search(r'<circle cx="([\d.]+)"', drawing).group(1))
        assert today_x < first_x
        assert re.search(r'class="tl-year" [^>]+>\d{4}<', drawing)

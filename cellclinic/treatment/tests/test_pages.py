"""The plan pages: /plans/new/<consultation_id>/ (preview, then save) and /plans/<plan_id>/."""

import re

import pytest
import time_machine
from django.utils import timezone

from cellclinic.patients.tests.helpers import assert_no_patient_data
from cellclinic.treatment.models import TreatmentPlan
from cellclinic.treatment.services import HARVEST_NEEDED, IN_THE_PAST, NO_CONSENT, plans_stop_for_consent
from cellclinic.treatment.tests.helpers import (
    DONOR,
    counts,
    in_days,
    pathway_to,
)
from cellclinic.treatment.timeline import MONTHS

pytestmark = pytest.mark.django_db


def _new(consultation) -> str:
    return f"/plans/new/{consultation.pk}/"


def _detail(plan) -> str:
    return f"/plans/{plan.pk}/"


# Making a plan


def test_the_form_asks_for_the_harvest_date_of_an_autologous_therapy(client, dr_ada, patient_a):
    consultation = pathway_to("consent_signed", patient_a, dr_ada).consultation
    client.force_login(dr_ada)
    response = client.get(_new(consultation))
    body = response.content.decode()
    assert response.status_code == 200
    assert body.count("<h1>") == 1
    assert "Autologous fibroblast injection" in body or "fibroblast" in body.lower()
    assert 'name="harvest_date"' in body and 'name="start_date"' not in body
    assert '<label for="id_harvest_date">Harvest date' in body


def test_the_form_asks_for_the_first_treatment_of_a_donor_product(client, dr_ada, patient_a):
    consultation = pathway_to("consent_signed", patient_a, dr_ada, DONOR).consultation
    client.force_login(dr_ada)
    body = client.get(_new(consultation)).content.decode()
    assert 'name="start_date"' in body and 'name="harvest_date"' not in body


def test_preview_shows_the_timeline_and_saves_nothing(client, dr_ada, patient_a):
    consultation = pathway_to("consent_signed", patient_a, dr_ada).consultation
    client.force_login(dr_ada)
    before = counts()
    response = client.post(_new(consultation), {"harvest_date": in_days(2).isoformat(), "action": "preview"})
    body = response.content.decode()
    assert response.status_code == 200
    assert counts() == before
    assert "Timeline preview (not saved yet)" in body
    assert '<ol class="tl-steps">' in body
    assert "Treatment session 1 of 3" in body and "Efficacy assessment" in body
    assert "Main result" in body
    # The preview keeps the date typed, ready to save.
    assert f'value="{in_days(2).isoformat()}"' in body


def test_saving_makes_the_plan_and_shows_it(client, dr_ada, patient_a):
    consultation = pathway_to("consent_signed", patient_a, dr_ada).consultation
    client.force_login(dr_ada)
    response = client.post(_new(consultation), {"harvest_date": in_days(2).isoformat(), "action": "save"})
    plan = TreatmentPlan.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/plans/{plan.pk}/"
    assert plan.harvest_date == in_days(2) and plan.created_by == dr_ada
    follow = client.get(response["Location"])
    assert "The treatment plan is saved." in follow.content.decode()


def test_a_missing_harvest_date_is_named_and_nothing_is_saved(client, dr_ada, patient_a):
    consultation = pathway_to("consent_signed", patient_a, dr_ada).consultation
    client.force_login(dr_ada)
    before = counts()
    response = client.post(_new(consultation), {"harvest_date": "", "action": "save"})
    assert response.status_code == 422
    assert counts() == before
    assert response.context["form"].errors == {"harvest_date": [HARVEST_NEEDED]}
    assert "Nothing was saved." in response.content.decode()


def test_a_past_date_is_named_in_the_preview_too(client, dr_ada, patient_a):
    consultation = pathway_to("consent_signed", patient_a, dr_ada).consultation
    client.force_login(dr_ada)
    response = client.post(_new(consultation), {"harvest_date": in_days(-1).isoformat(), "action": "preview"})
    assert response.status_code == 422
    assert response.context["form"].errors == {"harvest_date": [IN_THE_PAST]}
    assert response.context["preview"] is None


def test_without_signed_consent_the_page_says_so_and_saves_nothing(client, dr_ada, patient_a):
    consultation = pathway_to("decided", patient_a, dr_ada).consultation
    client.force_login(dr_ada)
    before = counts()
    response = client.post(_new(consultation), {"harvest_date": in_days(1).isoformat(), "action": "save"})
    assert response.status_code == 422
    assert counts() == before
    assert NO_CONSENT in response.content.decode()


def test_a_date_that_is_not_a_date_is_refused(client, dr_ada, patient_a):
    consultation = pathway_to("consent_signed", patient_a, dr_ada).consultation
    client.force_login(dr_ada)
    before = counts()
    response = client.post(_new(consultation), {"harvest_date": "soon", "action": "save"})
    assert response.status_code == 422
    assert "harvest_date" in response.context["form"].errors
    assert counts() == before


@pytest.mark.parametrize("persona", ["nurse_bo", "admin_al", "dr_cy", "lab_li", "qa_quinn", "pat"])
def test_only_a_practitioner_at_the_clinic_reaches_the_form(client, request, dr_ada, patient_a, persona):
    consultation = pathway_to("consent_signed", patient_a, dr_ada).consultation
    client.force_login(request.getfixturevalue(persona))
    before = counts()
    for response in (
        client.get(_new(consultation)),
        client.post(_new(consultation), {"harvest_date": in_days(1).isoformat(), "action": "save"}),
    ):
        assert response.status_code == 404
        assert_no_patient_data(response, patient_a, names=persona != "pat")
    assert counts() == before


def test_a_missing_consultation_is_not_found(client, dr_ada):
    client.force_login(dr_ada)
    assert client.get("/plans/new/999999/").status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(client, dr_ada, patient_a):
    plan = pathway_to("planned", patient_a, dr_ada).plan
    for path in (_new(plan.consultation), _detail(plan)):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"] == f"/sign-in/?next={path}"


# Reading a plan


def test_the_timeline_marks_past_steps_the_next_step_and_the_main_result(client, dr_ada, patient_a):
    # Made 100 days ago, with the harvest the day after.
    with time_machine.travel(in_days(-100).isoformat() + " 12:00"):
        plan = pathway_to("planned", patient_a, dr_ada, in_days=1).plan
    client.force_login(dr_ada)
    response = client.get(_detail(plan))
    body = response.content.decode()
    assert response.status_code == 200
    assert body.count("<h1>") == 1
    steps = re.findall(r'<li class="tl-step tl-(\w+) tl-(\w+) tl-(\w+)"', body)
    assert steps[0] == ("harvest", "past", "past")
    states = [state for _, state, _ in steps]
    assert states.count("next") == 1
    assert states.index("next") == states.count("past")
    assert 'aria-current="step"' in body
    assert (
        '<svg class="timeline-chart tl-chart-wide"' in body
        and '<svg class="timeline-chart tl-chart-narrow"' in body
    )
    assert body.count('role="img"') == 2
    assert "tl-endpoint" in body and "Main result" in body
    assert 'class="tl-today"' in body and ">Today</text>" in body
    assert "Date passed" in body and f"Today is {timezone.localdate():%-d %B %Y}." in body
    # The axis is dated: month labels (or dates after a break), the year under the first one.
    wide = body[body.index("tl-chart-wide") : body.index("tl-chart-narrow")]
    ticks = re.findall(
        r'<g class="tl-tick"><line [^>]+/><text [^>]+>([^<]+)</text>'
        r'(?:<text class="tl-year" [^>]+>(\d{4})</text>)?',
        wide,
    )
    assert len(ticks) >= 3
    assert all(label.split()[-1] in MONTHS for label, _ in ticks)
    assert ticks[0][1] == str(plan.steps.first().due_date.year)
    assert 'class="tl-break"' in wide  # the months before the six-month check-up are shortened
    assert "style=" not in body.split('<main id="main"', 1)[1]


def test_a_stopped_plan_says_why_and_has_no_next_step(client, dr_ada, patient_a):
    plan = pathway_to("planned", patient_a, dr_ada).plan
    plans_stop_for_consent(consent=plan.consent, actor=dr_ada, reason="Consent withdrawn by the patient")
    client.force_login(dr_ada)
    body = client.get(_detail(plan)).content.decode()
    assert "This plan is stopped." in body and "Consent withdrawn by the patient" in body
    assert "tl-next" not in body
    # Every step still to come is cancelled, in the drawing and in the list.
    statuses = re.findall(r'<li class="tl-step tl-\w+ tl-\w+ tl-(\w+)"', body)
    assert statuses and set(statuses) == {"cancelled"}
    assert body.count(">Cancelled</span>") == len(statuses)
    assert "tl-mark tl-later tl-cancelled" in body
    assert "cancelled because the plan stopped" in body


@pytest.mark.parametrize("persona", ["dr_ada", "nurse_bo", "admin_al"])
def test_staff_of_the_clinic_read_the_plan(client, request, dr_ada, patient_a, persona):
    plan = pathway_to("planned", patient_a, dr_ada).plan
    client.force_login(request.getfixturevalue(persona))
    response = client.get(_detail(plan))
    assert response.status_code == 200
    assert "HOPPER" in response.content.decode()


@pytest.mark.parametrize("persona", ["dr_cy", "lab_li", "qa_quinn", "pat"])
def test_others_get_not_found(client, request, dr_ada, patient_a, persona):
    plan = pathway_to("planned", patient_a, dr_ada).plan
    client.force_login(request.getfixturevalue(persona))
    response = client.get(_detail(plan))
    assert response.status_code == 404
    assert_no_patient_data(response, patient_a, names=persona != "pat")


def test_a_missing_plan_is_not_found(client, dr_ada):
    client.force_login(dr_ada)
    assert client.get("/plans/999999/").status_code == 404


def test_the_plan_page_runs_a_fixed_number_of_queries(
    client, dr_ada, patient_a, django_assert_max_num_queries
):
    small = pathway_to("planned", patient_a, dr_ada, "autologous_skin_cell_suspension").plan
    large = pathway_to("planned", patient_a, dr_ada, DONOR).plan
    assert large.steps.count() > 3 * small.steps.count()
    client.force_login(dr_ada)
    client.get(_detail(small))
    # Session, user, roles, the plan with patient and site, its steps, plus the messages framework.
    with django_assert_max_num_queries(8) as small_run:
        client.get(_detail(small))
    with django_assert_max_num_queries(len(small_run.captured_queries)):
        client.get(_detail(large))

"""A plan's processing starts when the clinic's lab has a processing slot free: lay_out's SLOT_START, the
`processing` scheduler the lab registers, plan_create asking it, and the harvest form showing the slot."""

import re
from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cellclinic.catalogue.registry import get_catalogue
from cellclinic.core import plugs
from cellclinic.lab import services as lab_services
from cellclinic.lab.tests.builders import lab_pathway_to
from cellclinic.treatment.models import TreatmentPlan
from cellclinic.treatment.schedule import SLOT_BEFORE_HARVEST, SLOT_NOT_USED, StepKind, lay_out
from cellclinic.treatment.services import plan_preview
from cellclinic.treatment.tests.helpers import CULTURED, DONOR, INDICATION, POINT_OF_CARE, in_days, pathway_to

HARVEST_IN = 7


def _therapy(code: str):
    return get_catalogue().therapies[code]


def _from_harvest(therapy, harvest, slot_start=None):
    return lay_out(
        therapy, indication=INDICATION[therapy.code], start=harvest, harvest=harvest, slot_start=slot_start
    )


def _step(steps, kind):
    return next(step for step in steps if step.kind == kind)


def _dates(steps):
    return [(step.kind, step.label, step.due, step.window_start, step.window_end) for step in steps]


def _saved(plan: TreatmentPlan):
    """The plan's steps as saved: (kind, label, due, window start, window end), in order."""
    return [
        (step.kind, step.label, step.due_date, step.window_start, step.window_end)
        for step in plan.steps.order_by("sequence")
    ]


# lay_out with a processing slot ---------------------------------------------------------------------------


def test_a_later_slot_moves_processing_the_product_and_everything_after_by_the_wait():
    therapy, harvest = _therapy(CULTURED), in_days(HARVEST_IN)
    wait = timedelta(days=30)
    plain, waiting = _from_harvest(therapy, harvest), _from_harvest(therapy, harvest, harvest + wait)
    assert _step(waiting, StepKind.HARVEST) == _step(plain, StepKind.HARVEST)
    processing = _step(waiting, StepKind.PROCESSING)
    assert (processing.due, processing.window_start) == (harvest + wait, harvest + wait)
    assert processing.window_end == _step(plain, StepKind.PROCESSING).window_end + wait
    assert "when the lab has a processing slot free, 30 days after the harvest" in processing.detail
    ready, plain_ready = _step(waiting, StepKind.PRODUCT_READY), _step(plain, StepKind.PRODUCT_READY)
    assert (ready.due, ready.window_start, ready.window_end) == (
        plain_ready.due + wait,
        plain_ready.window_start + wait,
        plain_ready.window_end + wait,
    )
    first, plain_first = _step(waiting, StepKind.SESSION), _step(plain, StepKind.SESSION)
    assert first.due == plain_first.due + wait


def test_a_slot_on_the_harvest_day_changes_nothing():
    therapy, harvest = _therapy(CULTURED), in_days(HARVEST_IN)
    assert _from_harvest(therapy, harvest, harvest) == _from_harvest(therapy, harvest)


def test_a_slot_before_the_harvest_is_refused():
    therapy, harvest = _therapy(CULTURED), in_days(HARVEST_IN)
    with pytest.raises(ValueError, match=re.escape(SLOT_BEFORE_HARVEST)):
        _from_harvest(therapy, harvest, harvest - timedelta(days=1))


def test_cells_prepared_at_the_bedside_take_no_slot():
    therapy, harvest = _therapy(POINT_OF_CARE), in_days(HARVEST_IN)
    with pytest.raises(ValueError, match=re.escape(SLOT_NOT_USED)):
        _from_harvest(therapy, harvest, harvest + timedelta(days=3))


def test_a_donor_product_takes_no_slot():
    therapy, start = _therapy(DONOR), in_days(HARVEST_IN)
    with pytest.raises(ValueError, match=re.escape(SLOT_NOT_USED)):
        lay_out(therapy, indication="wound", start=start, harvest=None, slot_start=start)


@given(st.integers(min_value=0, max_value=400), st.dates())
def test_any_wait_shifts_every_step_after_the_harvest_by_that_wait(wait_days, harvest):
    therapy, wait = _therapy(CULTURED), timedelta(days=wait_days)
    try:
        waiting = _from_harvest(therapy, harvest, harvest + wait)
        plain = _from_harvest(therapy, harvest)
    except OverflowError:
        return  # dates past the year 9999
    assert waiting[0] == plain[0] and waiting[0].kind == StepKind.HARVEST
    for before, after in zip(plain[1:], waiting[1:], strict=True):
        assert replace(after, detail="") == replace(
            before,
            detail="",
            due=before.due + wait,
            window_start=before.window_start + wait,
            window_end=before.window_end + wait,
        )


# plan_create asks the lab ---------------------------------------------------------------------------------


@pytest.fixture
def full_lab(lab, patient_b, dr_cy):
    """The lab with one processing slot, held by the other clinic's batch in process."""
    lab_services.lab_profile_set(lab=lab, facility_code="A9999", processing_slots=1)
    held = lab_pathway_to("in_process", patient_b, dr_cy).batch
    return held


@pytest.mark.django_db
def test_with_a_full_lab_the_product_ready_window_moves_later_by_the_wait(full_lab, patient_a, dr_ada):
    therapy, harvest = _therapy(CULTURED), in_days(HARVEST_IN)
    free_from = full_lab.ready_to + timedelta(days=1)
    assert free_from > harvest
    plan = pathway_to("planned", patient_a, dr_ada, in_days=HARVEST_IN).plan
    wait = free_from - harvest
    plain = _from_harvest(therapy, harvest)
    assert _saved(plan) == _dates(_from_harvest(therapy, harvest, free_from))
    ready = plan.steps.get(kind=StepKind.PRODUCT_READY)
    plain_ready = _step(plain, StepKind.PRODUCT_READY)
    assert (ready.due_date, ready.window_start, ready.window_end) == (
        plain_ready.due + wait,
        plain_ready.window_start + wait,
        plain_ready.window_end + wait,
    )
    assert plan.steps.get(kind=StepKind.HARVEST).due_date == harvest
    assert plan.start_date == harvest


@pytest.mark.django_db
def test_the_preview_shows_the_same_wait_as_the_plan_it_saves(full_lab, patient_a, dr_ada):
    harvest = in_days(HARVEST_IN)
    consultation = pathway_to("consent_signed", patient_a, dr_ada).consultation
    preview = plan_preview(consultation=consultation, harvest_date=harvest, start_date=None)
    free_from = full_lab.ready_to + timedelta(days=1)
    assert _step(preview, StepKind.PROCESSING).due == free_from
    assert _dates(preview) == _dates(_from_harvest(_therapy(CULTURED), harvest, free_from))


@pytest.mark.django_db
def test_with_a_free_lab_nothing_changes(lab, patient_a, dr_ada):
    lab_services.lab_profile_set(lab=lab, facility_code="A9999", processing_slots=4)
    harvest = in_days(HARVEST_IN)
    plan = pathway_to("planned", patient_a, dr_ada, in_days=HARVEST_IN).plan
    assert _saved(plan) == _dates(_from_harvest(_therapy(CULTURED), harvest))


@pytest.mark.django_db
def test_without_the_lab_apps_provider_nothing_changes(full_lab, patient_a, dr_ada, monkeypatch):
    monkeypatch.setattr(plugs, "_SCHEDULERS", {})
    harvest = in_days(HARVEST_IN)
    plan = pathway_to("planned", patient_a, dr_ada, in_days=HARVEST_IN).plan
    assert _saved(plan) == _dates(_from_harvest(_therapy(CULTURED), harvest))


@pytest.mark.django_db
def test_a_lab_not_set_up_yet_changes_nothing(lab, patient_a, dr_ada):
    harvest = in_days(HARVEST_IN)
    plan = pathway_to("planned", patient_a, dr_ada, in_days=HARVEST_IN).plan
    assert _saved(plan) == _dates(_from_harvest(_therapy(CULTURED), harvest))


@pytest.mark.django_db
def test_cells_prepared_at_the_bedside_are_never_sent_to_wait_for_a_slot(full_lab, patient_a, dr_ada):
    harvest = in_days(HARVEST_IN)
    plan = pathway_to("planned", patient_a, dr_ada, therapy=POINT_OF_CARE, in_days=HARVEST_IN).plan
    assert _saved(plan) == _dates(_from_harvest(_therapy(POINT_OF_CARE), harvest))


# The harvest form -----------------------------------------------------------------------------------------


def _form(client, user, consultation) -> str:
    client.force_login(user)
    response = client.get(f"/plans/new/{consultation.pk}/")
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.django_db
def test_the_harvest_form_shows_the_labs_earliest_free_slot(client, full_lab, patient_a, dr_ada):
    consultation = pathway_to("consent_signed", patient_a, dr_ada).consultation
    free_from = full_lab.ready_to + timedelta(days=1)
    body = _form(client, dr_ada, consultation)
    assert "The lab's earliest free processing slot:" in body
    assert f'<time datetime="{free_from.isoformat()}">{free_from.day} {free_from:%b %Y}</time>' in body


@pytest.mark.django_db
def test_the_harvest_form_shows_today_when_the_lab_has_a_slot_free_today(client, lab, patient_a, dr_ada):
    lab_services.lab_profile_set(lab=lab, facility_code="A9999", processing_slots=4)
    consultation = pathway_to("consent_signed", patient_a, dr_ada).consultation
    assert f'<time datetime="{in_days(0).isoformat()}">' in _form(client, dr_ada, consultation)


@pytest.mark.django_db
@pytest.mark.parametrize("therapy", [POINT_OF_CARE, DONOR])
def test_no_slot_is_shown_where_no_lab_grows_the_cells(client, full_lab, patient_a, dr_ada, therapy):
    consultation = pathway_to("consent_signed", patient_a, dr_ada, therapy=therapy).consultation
    assert "earliest free processing slot" not in _form(client, dr_ada, consultation)


@pytest.mark.django_db
def test_no_slot_is_shown_while_the_lab_is_not_set_up(client, lab, patient_a, dr_ada):
    consultation = pathway_to("consent_signed", patient_a, dr_ada).consultation
    assert "earliest free processing slot" not in _form(client, dr_ada, consultation)

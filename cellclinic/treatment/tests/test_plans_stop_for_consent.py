"""plans_stop_for_consent: a withdrawn consent stops the plans made on it, each stop audited."""

import pytest

from cellclinic.audit.models import AuditEvent
from cellclinic.treatment.models import TreatmentPlan
from cellclinic.treatment.services import STOPPED_FOR_CONSENT, plan_create, plans_stop_for_consent
from cellclinic.treatment.tests.helpers import in_days, pathway_to

pytestmark = pytest.mark.django_db


def test_it_stops_every_active_plan_on_the_consent_with_one_event_each(dr_ada, patient_a):
    pathway = pathway_to("consent_signed", patient_a, dr_ada)
    consultation, consent = pathway.consultation, pathway.consent
    first = plan_create(consultation=consultation, actor=dr_ada, harvest_date=in_days(1))
    TreatmentPlan.objects.filter(pk=first.pk).update(status=TreatmentPlan.Status.COMPLETED)
    second = plan_create(consultation=consultation, actor=dr_ada, harvest_date=in_days(2))
    other = pathway_to("planned", patient_a, dr_ada).plan
    events = AuditEvent.objects.count()

    assert plans_stop_for_consent(consent=consent, actor=dr_ada, reason="Patient withdrew consent") == 1

    second.refresh_from_db()
    assert (second.status, second.stopped_reason) == ("stopped", "Patient withdrew consent")
    assert TreatmentPlan.objects.get(pk=first.pk).status == "completed"
    assert TreatmentPlan.objects.get(pk=other.pk).status == "active"
    assert AuditEvent.objects.count() == events + 1
    event = AuditEvent.objects.latest("id")
    assert (event.action, event.object_type, event.object_id) == (
        "plan.stop",
        "treatment_plan",
        str(second.pk),
    )
    assert (event.before, event.after, event.reason) == (
        {"status": "active", "stopped_reason": ""},
        {"status": "stopped", "stopped_reason": "Patient withdrew consent"},
        "Patient withdrew consent",
    )
    assert event.patient_id == patient_a.pk


def test_it_returns_zero_and_writes_nothing_when_no_plan_is_active(dr_ada, patient_a):
    consent = pathway_to("consent_signed", patient_a, dr_ada).consent
    events = AuditEvent.objects.count()
    assert plans_stop_for_consent(consent=consent, actor=dr_ada, reason="Withdrawn") == 0
    assert AuditEvent.objects.count() == events


def test_a_stopped_plan_is_not_stopped_twice(dr_ada, patient_a):
    plan = pathway_to("planned", patient_a, dr_ada).plan
    assert plans_stop_for_consent(consent=plan.consent, actor=dr_ada, reason="Withdrawn") == 1
    events = AuditEvent.objects.count()
    assert plans_stop_for_consent(consent=plan.consent, actor=dr_ada, reason="Again") == 0
    assert AuditEvent.objects.count() == events
    plan.refresh_from_db()
    assert plan.stopped_reason == "Withdrawn"


def test_an_empty_reason_is_recorded_as_consent_no_longer_in_force(dr_ada, patient_a):
    plan = pathway_to("planned", patient_a, dr_ada).plan
    plans_stop_for_consent(consent=plan.consent, actor=None, reason="  ")
    plan.refresh_from_db()
    assert plan.stopped_reason == STOPPED_FOR_CONSENT
    assert AuditEvent.objects.latest("id").actor_name == "system"

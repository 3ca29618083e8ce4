"""Consent withdrawn: unused product and cells quarantined at once, the lab told what to dispose of."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cellclinic.audit.models import AuditEvent
from cellclinic.consents.services import consent_withdraw
from cellclinic.core import plugs
from cellclinic.lab import states
from cellclinic.lab.models import Product
from cellclinic.lab.services import (
    batch_plan,
    product_dispose,
    quarantine_for_consent,
    specimen_dispose,
)
from cellclinic.lab.tests.builders import lab_pathway_to, statuses
from cellclinic.notifications.models import Notification
from cellclinic.patients.services import patient_create
from cellclinic.treatment.models import TreatmentPlan
from cellclinic.treatment.tests.helpers import pathway_to

pytestmark = pytest.mark.django_db

REASON = "The patient no longer wants treatment"


def to(stage, patient, practitioner, lab_li, qa_quinn, **options):
    return lab_pathway_to(stage, patient, practitioner, technician=lab_li, reviewer=qa_quinn, **options)


def withdraw(made, actor):
    consent_withdraw(consent=made.consent, actor=actor, reason=REASON)
    return made.refresh()


def test_the_hook_is_registered():
    assert "lab.quarantine" in plugs.hooks_for("consent_withdrawn")


def test_products_at_the_clinic_are_quarantined_at_once(patient_a, dr_ada, lab_li, qa_quinn):
    made = to("at_clinic", patient_a, dr_ada, lab_li, qa_quinn)
    withdraw(made, dr_ada)
    for product in made.products:
        assert (product.status, product.status_reason) == (
            states.PRODUCT_QUARANTINED,
            f"Consent withdrawn: {REASON}",
        )
        event = product.custody.latest("id")
        assert (event.kind, event.at_site, event.by) == ("quarantined", made.clinic, dr_ada)
    assert made.plan.status == TreatmentPlan.Status.STOPPED
    event = AuditEvent.objects.get(action="chain_of_identity.quarantine")
    assert (event.object_id, event.patient_id, event.reason) == (
        str(made.chain.pk),
        patient_a.pk,
        f"Consent withdrawn: {REASON}",
    )
    assert event.after["products_quarantined"] == [p.din for p in made.products]


def test_the_lab_is_told_what_to_dispose_of_without_the_patients_identity(
    patient_a, dr_ada, lab_li, qa_quinn
):
    made = to("qc_pending", patient_a, dr_ada, lab_li, qa_quinn, banked_vials=3)
    withdraw(made, dr_ada)
    told = Notification.objects.filter(kind="lab.consent_withdrawn").order_by("recipient_id")
    assert [n.recipient for n in told] == [lab_li, qa_quinn]
    body = told[0].body
    assert told[0].link == "/lab/"
    assert made.chain.coi in told[0].subject and made.chain.coi in body
    for product in made.products:
        assert product.din in body and product.status == states.PRODUCT_QUARANTINED
    assert f"batch {made.batch.code}: 3 vials" in body and "disposed of as the consent says" in body
    for identifier in (
        patient_a.given_name,
        patient_a.family_name,
        patient_a.mrn,
        str(patient_a.date_of_birth),
        patient_a.date_of_birth.strftime("%d/%m/%Y"),
    ):
        assert identifier not in body and identifier not in told[0].subject
    # The storage consent ends with the consent.
    assert made.batch.banked_until == timezone.localdate()


def test_a_received_specimen_is_quarantined_and_a_planned_batch_cancelled(
    patient_a, dr_ada, lab_li, qa_quinn
):
    made = to("at_lab", patient_a, dr_ada, lab_li, qa_quinn)
    batch = batch_plan(actor=lab_li, specimen=made.specimen, doses=1)
    withdraw(made, dr_ada)
    assert statuses(made.specimen, batch) == [states.SPECIMEN_QUARANTINED, states.BATCH_CANCELLED]
    event = made.specimen.custody.latest("id")
    assert (event.kind, event.at_site) == ("quarantined", made.lab)
    specimen_dispose(actor=lab_li, specimen=made.specimen, reason="Disposed of as the consent says")
    assert statuses(made.specimen) == [states.SPECIMEN_DISPOSED]


def test_a_specimen_still_at_the_clinic_waits_there_for_disposal(patient_a, dr_ada, lab_li, qa_quinn):
    made = to("collected", patient_a, dr_ada, lab_li, qa_quinn)
    withdraw(made, dr_ada)
    assert statuses(made.specimen) == [states.SPECIMEN_COLLECTED]
    event = AuditEvent.objects.get(action="chain_of_identity.quarantine")
    assert event.after["to_dispose"]["specimens"] == [made.chain.coi]
    specimen_dispose(actor=dr_ada, specimen=made.specimen, reason="Disposed of as the consent says")
    assert statuses(made.specimen) == [states.SPECIMEN_DISPOSED]


def test_quarantined_products_are_then_disposed_of(patient_a, dr_ada, nurse_bo, lab_li, qa_quinn):
    made = to("at_clinic", patient_a, dr_ada, lab_li, qa_quinn)
    withdraw(made, dr_ada)
    for product in made.products:
        product_dispose(actor=nurse_bo, product=product, reason="Disposed of as the consent says")
    assert statuses(*made.products) == [states.PRODUCT_DISPOSED] * 2


def test_an_administered_product_is_left_as_it_is(patient_a, dr_ada, lab_li, qa_quinn):
    made = to("at_clinic", patient_a, dr_ada, lab_li, qa_quinn)
    Product.objects.filter(pk=made.products[0].pk).update(status=states.PRODUCT_ADMINISTERED)
    withdraw(made, dr_ada)
    assert statuses(*made.products) == [states.PRODUCT_ADMINISTERED, states.PRODUCT_QUARANTINED]


def test_the_patient_withdrawing_in_the_portal_quarantines_too(
    grace_from_a_request, dr_ada, lab_li, qa_quinn, pat
):
    patient = grace_from_a_request.patient
    made = to("released", patient, dr_ada, lab_li, qa_quinn)
    portal = patient.portal_user
    consent_withdraw(consent=made.consent, actor=portal, password=made.pathway.password)
    made.refresh()
    assert statuses(*made.products) == [states.PRODUCT_QUARANTINED] * 2
    assert made.products[0].custody.latest("id").by == portal


def test_a_consent_withdrawn_before_any_harvest_leaves_nothing_to_do(patient_a, dr_ada, lab):
    pathway = pathway_to("planned", patient_a, dr_ada)
    before = AuditEvent.objects.count()
    quarantine_for_consent(consent=pathway.consent, actor=dr_ada, reason=REASON)
    assert AuditEvent.objects.count() == before
    assert not Notification.objects.filter(kind="lab.consent_withdrawn").exists()


def test_quarantine_takes_the_same_queries_for_one_product_or_many(
    patient_a, dr_ada, lab_li, qa_quinn, clinic_a
):
    one = to("released", patient_a, dr_ada, lab_li, qa_quinn, doses=1)
    other = patient_create(
        site=clinic_a,
        actor=dr_ada,
        data={
            "given_name": "Mary",
            "family_name": "Somerville",
            "date_of_birth": timezone.localdate().replace(year=1971),
        },
    )
    three = to("released", other, dr_ada, lab_li, qa_quinn, doses=3)
    counted = []
    for made in (one, three):
        with CaptureQueriesContext(connection) as queries:
            quarantine_for_consent(consent=made.consent, actor=dr_ada, reason=REASON)
        counted.append(len(queries))
    assert counted[0] == counted[1]
    assert Product.objects.filter(status=states.PRODUCT_QUARANTINED).count() == 4

"""A database from before consent and photos had their own apps migrates without losing anything.

The test goes back to the schema as it was (consent and photos inside consultations), writes rows
through the models of that time, migrates forward and reads them through today's models. The audit
chain, written before and after, still verifies.
"""

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from cellclinic.audit.selectors import audit_verify
from cellclinic.audit.services import audit_record
from cellclinic.consents.models import Consent
from cellclinic.photos.models import Photo
from cellclinic.treatment.models import TreatmentPlan

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("consultations", "0001_initial"), ("treatment", "0001_initial")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _latest():
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


def test_consent_photos_and_plans_keep_their_rows_and_links(patient_a, dr_ada, clinic_a):
    old = _migrate(BEFORE)
    try:
        consultation_model = old.get_model("consultations", "Consultation")
        consent_model = old.get_model("consultations", "Consent")
        photo_model = old.get_model("consultations", "Photo")
        plan_model = old.get_model("treatment", "TreatmentPlan")
        consultation = consultation_model.objects.create(
            site_id=clinic_a.pk,
            patient_id=patient_a.pk,
            practitioner_id=dr_ada.pk,
            status="decided",
            decision="proceed",
            therapy_code="autologous_fibroblast_injection",
            therapy_version="1.0.0",
        )
        consent = consent_model.objects.create(
            site_id=clinic_a.pk,
            patient_id=patient_a.pk,
            consultation=consultation,
            therapy_code="autologous_fibroblast_injection",
            therapy_version="1.0.0",
            template_version="1",
            document={"title": "Consent", "sections": []},
            document_hash="a" * 64,
            status="signed",
            photographs=True,
            outcome_reports=False,
            created_by_id=dr_ada.pk,
        )
        photo = photo_model.objects.create(
            site_id=clinic_a.pk,
            patient_id=patient_a.pk,
            consultation=consultation,
            view="front",
            image="photos/2026/11/x.jpg",
            content_type="image/jpeg",
            width=10,
            height=10,
            sha256="b" * 64,
            uploaded_by_id=dr_ada.pk,
        )
        plan = plan_model.objects.create(
            site_id=clinic_a.pk,
            patient_id=patient_a.pk,
            consultation=consultation,
            consent=consent,
            therapy_code="autologous_fibroblast_injection",
            therapy_version="1.0.0",
            start_date=dt.date(2026, 12, 1),
            created_by_id=dr_ada.pk,
        )
        audit_record(
            actor=dr_ada,
            action="consent.countersign",
            object_type="consent",
            object_id=consent.pk,
            site=clinic_a,
            patient_id=patient_a.pk,
            after={"status": "signed"},
        )
    finally:
        _migrate(_latest())

    moved = Consent.objects.get(pk=consent.pk)
    assert moved._meta.db_table == "consents_consent"
    assert (moved.status, moved.photographs, moved.document_hash) == ("signed", True, "a" * 64)
    assert moved.consultation_id == consultation.pk and moved.in_force
    assert Photo.objects.get(pk=photo.pk).sha256 == "b" * 64
    assert TreatmentPlan.objects.get(pk=plan.pk).consent == moved
    # The moved tables keep counting from where they were.
    assert (
        Consent.objects.create(
            site=clinic_a,
            patient=patient_a,
            consultation_id=consultation.pk,
            therapy_code="x",
            therapy_version="1",
            template_version="1",
            document={},
            document_hash="c" * 64,
            created_by=dr_ada,
        ).pk
        > consent.pk
    )
    verification = audit_verify()
    assert verification.report.ok, verification

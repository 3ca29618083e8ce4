"""The `cellclinic` console script and the demo and serve commands."""

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from cellclinic.accounts.models import Membership, Site, User
from cellclinic.accounts.roles import Role
from cellclinic.audit.chain import verify_chain
from cellclinic.audit.models import AuditEvent, Signature
from cellclinic.candidacy.models import Assessment, Enquiry
from cellclinic.catalogue.vocabulary import INDICATIONS
from cellclinic.consents.models import Consent
from cellclinic.consultations.models import Consultation
from cellclinic.demo.data import DEMO_PASSWORD
from cellclinic.patients.models import Patient
from cellclinic.photos.models import Photo
from cellclinic.treatment.models import TreatmentPlan

ROOT = Path(__file__).resolve().parents[3]


def test_the_console_script_runs_management_commands():
    result = subprocess.run(
        [sys.executable, "-c", "from cellclinic.cli import main; main(['x', 'help', 'verify-audit'])"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "verify_audit" in result.stdout or "verify-audit" in result.stdout


@pytest.mark.django_db
def test_demo_creates_sites_users_per_role_and_patients_over_every_indication():
    out = io.StringIO()
    call_command("demo", stdout=out)
    assert set(Site.objects.values_list("code", flat=True)) == {"NCL", "RSC", "LAB"}
    assert {m.role for m in Membership.objects.all()} == {r.value for r in Role}
    assert Patient.objects.count() >= 30
    assert set(Patient.objects.values_list("presenting_concern", flat=True)) == set(INDICATIONS)
    assert set(Patient.objects.values_list("site__code", flat=True)) == {"NCL", "RSC"}
    portal = User.objects.get(username="patient")
    assert portal.is_patient and Patient.objects.filter(portal_user=portal).count() == 1
    assert Signature.objects.exists()
    assert User.objects.get(username="practitioner").check_password(DEMO_PASSWORD)
    text = out.getvalue()
    assert "DEMO ONLY" in text and DEMO_PASSWORD in text and "patients: 30 of" in text
    events = AuditEvent.objects.order_by("id").values()
    assert verify_chain(events).ok


@pytest.mark.django_db
def test_demo_has_patients_at_every_stage_of_the_pathway():
    call_command("demo", stdout=io.StringIO())
    public = Assessment.objects.filter(source="public")
    assert set(public.values_list("outcome", flat=True)) >= {"suitable", "consult"}
    assert set(Enquiry.objects.values_list("status", flat=True)) >= {"new", "contacted", "booked"}
    registered = Enquiry.objects.exclude(patient=None).get()
    assert Consultation.objects.filter(patient=registered.patient, status="open").exists()
    decisions = set(Consultation.objects.filter(status="decided").values_list("decision", flat=True))
    assert decisions == {"proceed", "alternative", "decline"}
    portal_patient = Patient.objects.get(portal_user__username="patient")
    assert Consent.objects.get(patient=portal_patient).status == "awaiting_patient"
    statuses = set(Consent.objects.values_list("status", flat=True))
    assert statuses == {"awaiting_patient", "signed", "withdrawn"}
    assert all(consent.pdf_sha256 for consent in Consent.objects.filter(status__in=["signed", "withdrawn"]))
    assert TreatmentPlan.objects.filter(status="active").count() == 12
    stopped = TreatmentPlan.objects.filter(status="stopped")
    assert stopped.count() == 2 and set(stopped.values_list("consent__status", flat=True)) == {"withdrawn"}
    assert Photo.objects.exists()
    assert verify_chain(AuditEvent.objects.order_by("id").values()).ok


@pytest.mark.django_db
def test_demo_twice_changes_nothing_and_if_empty_succeeds():
    call_command("demo", stdout=io.StringIO())
    patients = Patient.objects.count()
    with pytest.raises(SystemExit) as exc:
        call_command("demo", stdout=io.StringIO(), stderr=io.StringIO())
    assert exc.value.code == 1
    out = io.StringIO()
    call_command("demo", "--if-empty", stdout=out)
    assert "already loaded" in out.getvalue()
    assert Patient.objects.count() == patients


def test_serve_rejects_an_impossible_port():
    err = io.StringIO()
    with pytest.raises(SystemExit) as exc:
        call_command("serve", "--port", "70000", stderr=err)
    assert exc.value.code == 2
    assert "--port" in err.getvalue()


def test_a_malformed_therapy_file_stops_the_command_with_a_plain_message(tmp_path):
    bad = tmp_path / "my_therapy.toml"
    bad.write_text('code = "my_therapy"\nname = 3\n')
    result = subprocess.run(
        [sys.executable, "-m", "cellclinic.cli", "check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        env={**os.environ, "CELLCLINIC_CATALOGUE_DIRS": str(tmp_path)},
    )
    assert result.returncode == 1
    assert result.stderr.startswith("cellclinic: cannot start: Therapy catalogue:")
    assert f"{bad}: name:" in result.stderr
    assert "Traceback" not in result.stderr

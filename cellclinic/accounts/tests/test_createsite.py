"""cellclinic createsite CODE --name NAME --kind clinic|lab [--lab CODE]"""

import io

import pytest
from django.core.management import CommandError, call_command

from cellclinic.accounts.models import Site
from cellclinic.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command("createsite", *args, stdout=out)
    return out.getvalue()


def test_it_creates_a_lab_and_a_clinic_it_serves():
    output = run("lab1", "--name", "City Lab", "--kind", "lab")
    assert output == "Created cell-processing lab City Lab (LAB1).\n"
    output = run("EAST", "--name", "East Clinic", "--kind", "clinic", "--lab", "LAB1")
    assert output == "Created clinic East Clinic (EAST), served by LAB1.\n"
    assert Site.objects.get(code="EAST").lab == Site.objects.get(code="LAB1")
    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["site.create", "site.create"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("x", "--name", "X", "--kind", "clinic"), "code"),
        (("TOO-LONG-CODE", "--name", "X", "--kind", "clinic"), "code"),
        (("EAST", "--name", "", "--kind", "clinic"), "name"),
        (("EAST", "--name", "East", "--kind", "clinic", "--lab", "NOPE"), "--lab: no lab with code 'NOPE'"),
        (("LAB2", "--name", "Lab two", "--kind", "lab", "--lab", "LAB"), "--lab: only a clinic"),
    ],
)
def test_bad_input_is_named_and_nothing_is_created(lab, args, message):
    sites = Site.objects.count()
    with pytest.raises(CommandError, match=message):
        run(*args)
    assert Site.objects.count() == sites


def test_a_taken_code_is_refused(clinic_a):
    with pytest.raises(CommandError, match="code"):
        run("NCL", "--name", "Another", "--kind", "clinic")

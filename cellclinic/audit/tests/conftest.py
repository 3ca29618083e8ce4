"""Audit events at both clinics, for the page and API tests."""

from dataclasses import dataclass

import pytest

from cellclinic.accounts.services import membership_grant, user_create
from cellclinic.patients.services import patient_update

NCL_REASON = "patient phoned with a new number"
RSC_REASON = "riverside desk correction"


@dataclass
class Events:
    patient_a: object
    patient_b: object
    ncl_staff: object
    rsc_staff: object


@pytest.fixture
def events(admin_al, dr_ada, dr_cy, patient_a, patient_b, clinic_a, clinic_b):
    """At NCL: patient_a registered and edited, user `newhire` created and given a role.
    At RSC: patient_b registered and edited, user `rivershire` created and given a role."""
    patient_update(patient=patient_a, actor=dr_ada, data={"phone": "0191 000 0001"}, reason=NCL_REASON)
    patient_update(patient=patient_b, actor=dr_cy, data={"phone": "0207 999 0002"}, reason=RSC_REASON)
    ncl_staff = user_create(
        username="newhire", password="a long enough passphrase 1", first_name="Noor", last_name="Hale"
    )
    membership_grant(user=ncl_staff, site=clinic_a, role="nurse", actor=admin_al)
    rsc_staff = user_create(
        username="rivershire", password="a long enough passphrase 2", first_name="Rhea", last_name="Voss"
    )
    membership_grant(user=rsc_staff, site=clinic_b, role="nurse", actor=dr_cy)
    return Events(patient_a=patient_a, patient_b=patient_b, ncl_staff=ncl_staff, rsc_staff=rsc_staff)

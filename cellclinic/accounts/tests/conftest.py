"""Personas for staff management: an admin of another clinic, and admins of several sites."""

import pytest

from conftest import make_user


@pytest.fixture
def admin_rex(clinic_b):
    """Clinic admin at Riverside Clinic (RSC): no say over North Clinic staff."""
    return make_user("rex", first="Rex", last="Ibarra", roles=[(clinic_b, "clinic_admin")])


@pytest.fixture
def admin_two_sites(clinic_a, lab):
    """Clinic admin at North Clinic and at the lab."""
    return make_user(
        "tess", first="Tess", last="Varga", roles=[(clinic_a, "clinic_admin"), (lab, "clinic_admin")]
    )


@pytest.fixture
def shared_nurse(clinic_a, clinic_b):
    """A nurse who works at both North Clinic and Riverside Clinic."""
    return make_user("sam", first="Sam", last="Okoro", roles=[(clinic_a, "nurse"), (clinic_b, "nurse")])

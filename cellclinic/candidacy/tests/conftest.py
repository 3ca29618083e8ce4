import pytest

from cellclinic.candidacy.services import assessment_run, enquiry_create
from cellclinic.candidacy.tests.helpers import EXAMPLE


@pytest.fixture
def public_assessment(db):
    return assessment_run(answers=EXAMPLE, source="public")


def make_enquiry(site, assessment=None, name="Mo Farah"):
    return enquiry_create(
        assessment=assessment,
        data={
            "site": site,
            "name": name,
            "email": "mo@example.org",
            "phone": "07700 900123",
            "consent_to_contact": True,
        },
    )


@pytest.fixture
def enquiry_a(clinic_a, public_assessment):
    """A request at North Clinic, with the public assessment attached."""
    return make_enquiry(clinic_a, public_assessment)


@pytest.fixture
def enquiry_b(clinic_b):
    """A request at Riverside Clinic: out of reach for North Clinic staff."""
    return make_enquiry(clinic_b, assessment_run(answers=EXAMPLE, source="public"), name="Rue Walker")

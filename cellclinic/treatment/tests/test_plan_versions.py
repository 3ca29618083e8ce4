"""A plan follows the protocol version the patient consented to, not whatever file is current."""

import pytest

from cellclinic.catalogue.tests.helpers import write_two_versions
from cellclinic.core.errors import InvalidInput
from cellclinic.demo.builder import at_stage
from cellclinic.treatment.selectors import next_step_of
from cellclinic.treatment.services import (
    CONSENT_VERSION_DIFFERS,
    CONSENT_VERSION_GONE,
    plan_create,
    plan_preview,
)
from cellclinic.treatment.tests.helpers import consented_directly, counts, field_errors, in_days, pathway_to
from conftest import PASSWORD

pytestmark = pytest.mark.django_db

TEST = "test_therapy"


@pytest.fixture
def two_versions(settings, tmp_path):
    """test_therapy 1.0.0 (3 sessions, harvest behind the ear) and the current 2.0.0 (5, from the arm)."""
    write_two_versions(tmp_path)
    settings.CELLCLINIC_CATALOGUE_DIRS = [str(tmp_path)]


def _consented(patient, practitioner, version: str):
    """Consent to test_therapy VERSION: built at the current 2.0.0; written directly at 1.0.0, which the
    services no longer decide on (a decision takes the current version)."""
    if version == "2.0.0":
        pathway = at_stage(
            "consent_signed", patient=patient, practitioner=practitioner, password=PASSWORD, therapy=TEST
        )
        return pathway.consultation
    return consented_directly(patient, practitioner, therapy_code=TEST, therapy_version=version)


def _refused(consultation, actor) -> dict[str, str]:
    before = counts()
    with pytest.raises(InvalidInput) as caught:
        plan_create(consultation=consultation, actor=actor, harvest_date=in_days(1))
    assert counts() == before
    return field_errors(caught.value)


def test_a_plan_on_a_consent_to_an_earlier_version_follows_that_version(two_versions, dr_ada, patient_a):
    plan = plan_create(
        consultation=_consented(patient_a, dr_ada, "1.0.0"), actor=dr_ada, harvest_date=in_days(1)
    )

    assert (plan.therapy_code, plan.therapy_version) == (TEST, "1.0.0")
    assert plan.steps.filter(kind="session").count() == 3


def test_a_plan_on_a_consent_to_the_current_version_follows_the_current_one(two_versions, dr_ada, patient_a):
    plan = plan_create(
        consultation=_consented(patient_a, dr_ada, "2.0.0"), actor=dr_ada, harvest_date=in_days(1)
    )

    assert plan.therapy_version == "2.0.0"
    assert plan.steps.filter(kind="session").count() == 5


def test_the_preview_follows_the_consented_version_too(two_versions, dr_ada, patient_a):
    steps = plan_preview(
        consultation=_consented(patient_a, dr_ada, "1.0.0"), harvest_date=in_days(1), start_date=None
    )

    assert [step.kind for step in steps].count("session") == 3


def test_a_consent_whose_version_left_the_catalogue_is_refused(dr_ada, patient_a):
    """Written directly: the services never decide on version 0.9, which the catalogue does not hold."""
    consultation = consented_directly(patient_a, dr_ada, therapy_version="0.9")

    errors = _refused(consultation, dr_ada)

    assert errors == {"consent": CONSENT_VERSION_GONE.format(version="0.9")}
    assert errors["consent"] == (
        "this consent was given to version 0.9 of the protocol, which is no longer in the catalogue; "
        "a new consent is needed"
    )


def test_a_consent_to_another_version_than_the_one_decided_on_is_refused(two_versions, dr_ada, patient_a):
    """Written directly: the services only prepare a consent to the version decided on."""
    consultation = consented_directly(
        patient_a, dr_ada, therapy_code=TEST, therapy_version="2.0.0", consent_version="1.0.0"
    )

    errors = _refused(consultation, dr_ada)

    assert errors == {"consent": CONSENT_VERSION_DIFFERS.format(consent="1.0.0", decided="2.0.0")}


def test_the_same_version_written_differently_is_the_same_version(two_versions, dr_ada, patient_a):
    """Written directly: the services copy the version as decided, never written another way."""
    consultation = consented_directly(
        patient_a, dr_ada, therapy_code=TEST, therapy_version="1.0.0", consent_version="1.0"
    )

    plan = plan_create(consultation=consultation, actor=dr_ada, harvest_date=in_days(1))

    assert plan.steps.filter(kind="session").count() == 3


def test_what_to_expect_next_comes_from_the_plans_version(two_versions, dr_ada, patient_a):
    first = plan_create(
        consultation=_consented(patient_a, dr_ada, "1.0.0"), actor=dr_ada, harvest_date=in_days(1)
    )
    second = plan_create(
        consultation=_consented(patient_a, dr_ada, "2.0.0"), actor=dr_ada, harvest_date=in_days(2)
    )

    older = next_step_of([first], in_days(0))
    newer = next_step_of([second], in_days(0))

    assert older.step.kind == "harvest" and "behind the ear" in older.expect[0]
    assert "inner upper arm" in newer.expect[0]


def test_nothing_to_expect_is_said_when_the_plans_version_is_gone(dr_ada, patient_a):
    plan = pathway_to("planned", patient_a, dr_ada, in_days=1).plan
    plan.therapy_version = "0.9"

    step = next_step_of([plan], in_days(0))

    assert step.step.kind == "harvest" and step.expect == []


def test_the_plan_page_names_the_consented_version(client, two_versions, dr_ada, patient_a):
    consultation = _consented(patient_a, dr_ada, "1.0.0")
    client.force_login(dr_ada)

    body = client.get(f"/plans/new/{consultation.pk}/").content.decode()

    assert "(version 1.0.0)" in body

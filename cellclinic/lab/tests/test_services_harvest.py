"""specimen_collect: a harvest under a consent in force, its chain of identity, a re-harvest; aftercare."""

from datetime import timedelta

import pytest
from django.utils import timezone

from cellclinic.accounts.models import Site
from cellclinic.audit.models import AuditEvent
from cellclinic.catalogue.registry import get_catalogue
from cellclinic.catalogue.schema import Aftercare, AftercareItem, Duration
from cellclinic.consents.services import consent_withdraw
from cellclinic.core.errors import Forbidden, InvalidInput, NotFound
from cellclinic.lab import states
from cellclinic.lab.identity import coi_is_valid
from cellclinic.lab.models import ChainOfIdentity, CustodyEvent, LabProfile, Specimen
from cellclinic.lab.services import (
    ALREADY_HARVESTED,
    ALREADY_REPLACED,
    AT_THE_BEDSIDE,
    BEFORE_CONSENT,
    CANNOT_COLLECT,
    IN_THE_FUTURE,
    LAB_NOT_READY,
    NO_CONSENT,
    NO_HARVEST,
    NO_LAB,
    NOT_A_TIME,
    NOT_REPLACEABLE,
    PLAN_OF_ANOTHER_CONSENT,
    REQUIRED,
    harvest_aftercare,
    specimen_collect,
    specimen_dispose,
)
from cellclinic.lab.tests.builders import field_errors, lab_counts, lab_pathway_to, lab_ready, statuses
from cellclinic.treatment.tests.helpers import CULTURED, DONOR, POINT_OF_CARE, pathway_to
from conftest import make_user

pytestmark = pytest.mark.django_db


def collect(actor, consent, **overrides):
    arguments = {
        "kind": Specimen.Kind.PUNCH_BIOPSY,
        "body_site": "Behind the left ear",
        "size": "3 punches of 3 mm",
        "collected_at": timezone.now(),
        **overrides,
    }
    return specimen_collect(actor=actor, consent=consent, **arguments)


@pytest.fixture
def planned(patient_a, dr_ada, lab):
    lab_ready(lab)
    return pathway_to("planned", patient_a, dr_ada)


def refused(actor, consent, **overrides) -> dict[str, str]:
    before = lab_counts()
    with pytest.raises(InvalidInput) as caught:
        collect(actor, consent, **overrides)
    assert lab_counts() == before
    return field_errors(caught.value)


def test_the_first_harvest_makes_the_chain_of_identity_and_is_audited(planned, dr_ada, patient_a):
    specimen = collect(dr_ada, planned.consent, plan=planned.plan)
    chain = specimen.chain
    assert (chain.patient, chain.consent, chain.plan, chain.site) == (
        patient_a,
        planned.consent,
        planned.plan,
        patient_a.site,
    )
    assert (chain.therapy_code, chain.therapy_version) == (CULTURED, "1.1")
    assert coi_is_valid(chain.coi) and specimen.coi == chain.coi
    for identifier in (patient_a.given_name, patient_a.family_name, patient_a.mrn):
        assert identifier.upper() not in chain.coi.replace("-", "")
    assert (specimen.site, specimen.lab, specimen.status) == (patient_a.site, patient_a.site.lab, "collected")
    assert (specimen.collected_by, specimen.therapy_version, specimen.replaces) == (dr_ada, "1.1", None)
    event = specimen.custody.get()
    assert (event.kind, event.at_site, event.by, event.at) == (
        CustodyEvent.Kind.COLLECTED,
        patient_a.site,
        dr_ada,
        specimen.collected_at,
    )
    actions = list(AuditEvent.objects.order_by("id").values_list("action", "object_type", "patient_id"))[-2:]
    assert actions == [
        ("chain_of_identity.create", "chain_of_identity", patient_a.pk),
        ("specimen.collect", "specimen", patient_a.pk),
    ]


def test_a_nurse_collects_too(planned, nurse_bo):
    assert collect(nurse_bo, planned.consent).collected_by == nurse_bo


def test_staff_without_the_permission_are_forbidden_and_others_find_nothing(
    planned, admin_al, dr_cy, lab_li, qa_quinn, pat
):
    before = lab_counts()
    with pytest.raises(Forbidden, match=CANNOT_COLLECT):
        collect(admin_al, planned.consent)
    for outsider in (dr_cy, lab_li, qa_quinn, pat):
        with pytest.raises(NotFound):
            collect(outsider, planned.consent)
    assert lab_counts() == before


def test_no_harvest_without_a_consent_in_force(planned, dr_ada):
    consent_withdraw(consent=planned.consent, actor=dr_ada, reason="The patient changed their mind")
    planned.consent.refresh_from_db()
    assert refused(dr_ada, planned.consent) == {"consent": NO_CONSENT}


def test_no_harvest_on_a_consent_still_waiting_for_signatures(patient_a, dr_ada, lab):
    lab_ready(lab)
    consent = pathway_to("consent_prepared", patient_a, dr_ada).consent
    assert refused(dr_ada, consent) == {"consent": NO_CONSENT}


def test_a_bedside_therapy_sends_nothing_to_the_lab(patient_a, dr_ada, lab):
    lab_ready(lab)
    consent = pathway_to("consent_signed", patient_a, dr_ada, therapy=POINT_OF_CARE).consent
    assert refused(dr_ada, consent) == {"consent": AT_THE_BEDSIDE}


def test_a_donor_therapy_has_no_harvest(patient_a, dr_ada, lab):
    lab_ready(lab)
    consent = pathway_to("consent_signed", patient_a, dr_ada, therapy=DONOR).consent
    assert refused(dr_ada, consent) == {"consent": NO_HARVEST}


def test_the_lab_must_be_set_up(patient_a, dr_ada, lab):
    consent = pathway_to("consent_signed", patient_a, dr_ada).consent
    assert not LabProfile.objects.exists()
    assert refused(dr_ada, consent) == {"lab": LAB_NOT_READY}


def test_a_clinic_without_a_lab_cannot_harvest_for_one(db):
    from cellclinic.patients.services import patient_create

    lonely = Site.objects.create(code="LONE", name="Lone Clinic", kind="clinic")
    doctor = make_user("lone", first="Lo", last="Ne", roles=[(lonely, "practitioner")])
    patient = patient_create(
        site=lonely,
        actor=doctor,
        data={
            "given_name": "Ida",
            "family_name": "Noa",
            "date_of_birth": timezone.localdate().replace(year=1980),
        },
    )
    consent = pathway_to("consent_signed", patient, doctor).consent
    assert refused(doctor, consent) == {"lab": NO_LAB}


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"kind": "liposuction"}, {"kind"}),
        ({"body_site": "  "}, {"body_site"}),
        ({"body_site": "x" * 121}, {"body_site"}),
        ({"size": None}, {"size"}),
        ({"size": 3}, {"size"}),
        ({"collected_at": timezone.now().replace(tzinfo=None)}, {"collected_at"}),
        ({"collected_at": "today"}, {"collected_at"}),
    ],
)
def test_bad_input_is_named_field_by_field(planned, dr_ada, overrides, expected):
    assert set(refused(dr_ada, planned.consent, **overrides)) == expected


def test_the_messages_say_why(planned, dr_ada):
    errors = refused(
        dr_ada,
        planned.consent,
        body_site="",
        collected_at=timezone.now() + timedelta(minutes=5),
    )
    assert errors == {"body_site": REQUIRED, "collected_at": IN_THE_FUTURE}
    assert refused(dr_ada, planned.consent, collected_at="now") == {"collected_at": NOT_A_TIME}


def test_a_harvest_before_the_consent_was_signed_is_refused(planned, dr_ada):
    signed = planned.consent.practitioner_signed_at
    assert refused(dr_ada, planned.consent, collected_at=signed - timedelta(minutes=1)) == {
        "collected_at": BEFORE_CONSENT
    }


def test_the_plan_must_be_made_on_this_consent(planned, dr_ada, nurse_bo, clinic_a):
    from cellclinic.patients.services import patient_create

    other_patient = patient_create(
        site=clinic_a,
        actor=dr_ada,
        data={
            "given_name": "Ann",
            "family_name": "Lee",
            "date_of_birth": timezone.localdate().replace(year=1970),
        },
    )
    other_plan = pathway_to("planned", other_patient, dr_ada).plan
    assert refused(dr_ada, planned.consent, plan=other_plan) == {"plan": PLAN_OF_ANOTHER_CONSENT}


def test_a_second_harvest_must_name_the_specimen_it_replaces(planned, dr_ada):
    collect(dr_ada, planned.consent)
    assert refused(dr_ada, planned.consent) == {"replaces": ALREADY_HARVESTED}


def test_a_re_harvest_after_a_failed_culture_keeps_the_chain_consent_and_plan(
    patient_a, dr_ada, lab_li, qa_quinn
):
    made = lab_pathway_to("failed", patient_a, dr_ada, technician=lab_li, reviewer=qa_quinn)
    assert statuses(made.batch, made.specimen) == [states.BATCH_FAILED, states.SPECIMEN_USED]
    again = collect(dr_ada, made.consent, replaces=made.specimen)
    assert again.chain == made.chain and again.coi == made.chain.coi
    assert again.replaces == made.specimen and again.chain.plan == made.plan
    assert ChainOfIdentity.objects.filter(consent=made.consent).count() == 1
    # A specimen is replaced once.
    assert refused(dr_ada, made.consent, replaces=made.specimen) == {"replaces": ALREADY_REPLACED}


def test_only_a_lost_rejected_or_failed_specimen_is_replaced(planned, dr_ada):
    first = collect(dr_ada, planned.consent)
    assert refused(dr_ada, planned.consent, replaces=first) == {"replaces": NOT_REPLACEABLE}


def test_a_specimen_of_another_consent_is_not_replaced(patient_a, patient_b, dr_ada, dr_cy, lab_li, qa_quinn):
    failed = lab_pathway_to("failed", patient_b, dr_cy, technician=lab_li, reviewer=qa_quinn)
    consent = pathway_to("planned", patient_a, dr_ada).consent
    assert refused(dr_ada, consent, replaces=failed.specimen) == {"replaces": NOT_REPLACEABLE}


# --- aftercare -----------------------------------------------------------------------------------------


def test_the_patient_is_handed_the_harvest_steps_aftercare():
    therapy = get_catalogue().therapies[CULTURED]
    recovery = [line.text for line in get_catalogue().steps["harvest"].recovery]
    assert recovery and harvest_aftercare(therapy) == recovery


def test_the_therapys_own_harvest_site_aftercare_comes_first_scoped_to_its_indications():
    therapy = get_catalogue().therapies[CULTURED]
    items = [
        AftercareItem(
            text="Keep the dressing dry",
            duration=Duration(value=48, unit="hours", unverified=True),
            unverified=True,
        ),
        AftercareItem(text="Only for wrinkles", indications=["premature_ageing"], unverified=True),
    ]
    own = therapy.model_copy(update={"aftercare": Aftercare(harvest_site=items)})
    lines = harvest_aftercare(own, "premature_ageing")
    assert lines[:2] == ["Keep the dressing dry for 48 hours", "Only for wrinkles"]
    assert "Only for wrinkles" not in harvest_aftercare(own, "scar")
    assert "Only for wrinkles" not in harvest_aftercare(own)


def test_a_donor_therapy_has_no_harvest_aftercare():
    assert harvest_aftercare(get_catalogue().therapies[DONOR]) == []


# --- disposal of a specimen ----------------------------------------------------------------------------


def test_the_clinic_disposes_of_a_specimen_it_still_holds(planned, dr_ada, lab_li):
    specimen = collect(dr_ada, planned.consent)
    with pytest.raises(Forbidden):
        specimen_dispose(actor=lab_li, specimen=specimen, reason="Wrong container")
    before = lab_counts()
    with pytest.raises(InvalidInput) as caught:
        specimen_dispose(actor=dr_ada, specimen=specimen, reason="")
    assert field_errors(caught.value) == {"reason": REQUIRED} and lab_counts() == before
    specimen_dispose(actor=dr_ada, specimen=specimen, reason="Wrong container")
    assert statuses(specimen) == [states.SPECIMEN_DISPOSED]
    event = specimen.custody.latest("id")
    assert (event.kind, event.at_site_id, event.note) == ("disposed", specimen.site_id, "Wrong container")
    assert AuditEvent.objects.latest("id").action == "specimen.dispose"


def test_the_lab_disposes_of_a_specimen_it_received(patient_a, dr_ada, lab_li, qa_quinn):
    made = lab_pathway_to("at_lab", patient_a, dr_ada, technician=lab_li, reviewer=qa_quinn)
    with pytest.raises(Forbidden):
        specimen_dispose(actor=dr_ada, specimen=made.specimen, reason="Contaminated")
    specimen_dispose(actor=lab_li, specimen=made.specimen, reason="Contaminated")
    assert statuses(made.specimen) == [states.SPECIMEN_DISPOSED]
    assert made.specimen.custody.latest("id").at_site == made.lab

"""Lab profiles (the service and `cellclinic labprofile`) and the earliest free processing slot."""

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from cellclinic.audit.models import AuditEvent
from cellclinic.catalogue.registry import get_catalogue
from cellclinic.core.errors import InvalidInput
from cellclinic.lab import states
from cellclinic.lab.models import Batch, DonorLot, LabProfile
from cellclinic.lab.services import CANNOT_SET_UP, LAB_NOT_READY, earliest_processing, lab_profile_set
from cellclinic.lab.tests.builders import field_errors, lab_counts, lab_ready, lab_staff
from cellclinic.treatment.tests.helpers import CULTURED, POINT_OF_CARE

pytestmark = pytest.mark.django_db


def therapy(code: str = CULTURED):
    return get_catalogue().therapies[code]


def today():
    return timezone.localdate()


def test_it_sets_up_a_lab_and_audits_it(lab):
    profile = lab_profile_set(lab=lab, facility_code="A9999", processing_slots=3)
    assert (profile.site, profile.facility_code, profile.processing_slots) == (lab, "A9999", 3)
    event = AuditEvent.objects.latest("id")
    assert (event.action, event.object_type, event.object_id) == (
        "lab_profile.set",
        "lab_profile",
        str(profile.pk),
    )
    assert event.before is None and event.after == {"facility_code": "A9999", "processing_slots": 3}


def test_setting_it_again_changes_the_same_profile(lab):
    first = lab_profile_set(lab=lab, facility_code="A9999", processing_slots=3)
    again = lab_profile_set(lab=lab, facility_code="B1234", processing_slots=5)
    assert again.pk == first.pk and LabProfile.objects.count() == 1
    event = AuditEvent.objects.latest("id")
    assert event.before == {"facility_code": "A9999", "processing_slots": 3}
    assert event.after == {"facility_code": "B1234", "processing_slots": 5}


@pytest.mark.parametrize(
    ("fin", "slots", "field"),
    [
        ("O1234", 3, "facility_code"),
        ("A123", 3, "facility_code"),
        ("A12B4", 3, "facility_code"),
        ("A9999", 0, "processing_slots"),
        ("A9999", 501, "processing_slots"),
        ("A9999", "4", "processing_slots"),
    ],
)
def test_a_bad_fin_or_slot_count_is_named_and_nothing_changes(lab, fin, slots, field):
    before = lab_counts()
    with pytest.raises(InvalidInput) as caught:
        lab_profile_set(lab=lab, facility_code=fin, processing_slots=slots)
    assert set(field_errors(caught.value)) == {field}
    assert lab_counts() == before


def test_a_clinic_has_no_lab_profile(clinic_a):
    with pytest.raises(InvalidInput) as caught:
        lab_profile_set(lab=clinic_a, facility_code="A9999", processing_slots=2)
    assert field_errors(caught.value) == {"lab": CANNOT_SET_UP}
    assert not LabProfile.objects.exists()


def run(*args) -> str:
    out = io.StringIO()
    call_command("labprofile", *args, stdout=out)
    return out.getvalue()


def test_the_command_sets_up_a_lab_and_changes_one_setting_at_a_time(lab):
    assert (
        run("lab", "--fin", "A9999", "--slots", "6")
        == "Central Cell Lab (LAB): facility A9999, 6 processing slots.\n"
    )
    assert run("LAB", "--slots", "1") == "Central Cell Lab (LAB): facility A9999, 1 processing slot.\n"
    assert run("LAB", "--fin", "W0001") == "Central Cell Lab (LAB): facility W0001, 1 processing slot.\n"
    assert AuditEvent.objects.filter(action="lab_profile.set").count() == 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("NOPE", "--fin", "A9999", "--slots", "2"), "no lab with code 'NOPE' (labs: LAB)"),
        (("NCL", "--fin", "A9999", "--slots", "2"), "no lab with code 'NCL'"),
        (("LAB", "--fin", "A9999"), "LAB has no lab profile yet: give both --fin and --slots"),
        (("LAB", "--fin", "0000", "--slots", "2"), "Lab profile not saved. facility_code:"),
        (("LAB", "--fin", "A9999", "--slots", "0"), "Lab profile not saved. processing_slots:"),
    ],
)
def test_the_command_names_what_is_wrong_and_saves_nothing(lab, clinic_a, args, message):
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        run(*args)
    assert not LabProfile.objects.exists()


# --- the earliest free slot ----------------------------------------------------------------------------


def book(lab, creator, *, start, days, status=states.BATCH_PLANNED):
    """A batch holding a slot from START for DAYS days, written as a row (only its slot matters here)."""
    number = Batch.objects.count() + 1
    return Batch.objects.create(
        site=lab,
        lab=lab,
        code=f"B00-{number:06d}",
        donor_lot=_lot(lab, creator),
        therapy_code="cryopreserved_fibroblast_dermal_substitute",
        therapy_version="1.1",
        status=status,
        slot_start=start,
        ready_from=start,
        ready_to=start + timedelta(days=days),
        created_by=creator,
    )


def _lot(lab, creator):
    lot, _ = DonorLot.objects.get_or_create(
        site=lab,
        lot_number="BOOKED",
        defaults={
            "therapy_code": "cryopreserved_fibroblast_dermal_substitute",
            "expires_on": today() + timedelta(days=365),
            "quantity": 100,
            "created_by": creator,
        },
    )
    return lot


def test_an_empty_lab_processes_from_the_day_wanted(lab):
    lab_ready(lab)
    wanted = today() + timedelta(days=3)
    assert earliest_processing(lab=lab, therapy=therapy(), wanted=wanted) == (
        wanted,
        wanted + timedelta(days=77),
        wanted + timedelta(days=154),
    )


def test_a_full_lab_offers_the_day_after_a_slot_frees(lab):
    lab_ready(lab, slots=2)
    technician = lab_staff(lab, "lab_technician")
    book(lab, technician, start=today(), days=10)
    book(lab, technician, start=today(), days=20, status=states.BATCH_IN_PROCESS)
    # A finished batch holds no slot.
    book(lab, technician, start=today(), days=5, status=states.BATCH_QC_PENDING)
    start, ready_from, ready_to = earliest_processing(lab=lab, therapy=therapy(), wanted=today())
    assert start == today() + timedelta(days=11)
    assert (ready_from, ready_to) == (start + timedelta(days=77), start + timedelta(days=154))


def test_a_batch_running_late_holds_its_slot_until_today(lab):
    lab_ready(lab, slots=1)
    technician = lab_staff(lab, "lab_technician")
    book(lab, technician, start=today() - timedelta(days=30), days=20, status=states.BATCH_IN_PROCESS)
    assert earliest_processing(lab=lab, therapy=therapy(), wanted=today())[0] == today() + timedelta(days=1)


def test_a_point_of_care_protocol_needs_no_slot(lab):
    lab_ready(lab, slots=1)
    technician = lab_staff(lab, "lab_technician")
    book(lab, technician, start=today(), days=200)
    assert earliest_processing(lab=lab, therapy=therapy(POINT_OF_CARE), wanted=today()) == (today(),) * 3


def test_it_reads_the_open_batches_in_one_query(lab, django_assert_num_queries):
    lab_ready(lab, slots=1)
    technician = lab_staff(lab, "lab_technician")
    for offset in range(5):
        book(lab, technician, start=today() + timedelta(days=offset * 10), days=9)
    # The lab's profile; the open batches' slots.
    with django_assert_num_queries(2):
        start, _, _ = earliest_processing(lab=lab, therapy=therapy(), wanted=today())
    assert start == today() + timedelta(days=50)


def test_a_lab_without_a_profile_or_a_wanted_day_that_is_not_a_date_is_refused(lab):
    with pytest.raises(InvalidInput) as caught:
        earliest_processing(lab=lab, therapy=therapy(), wanted="tomorrow")
    assert field_errors(caught.value) == {"wanted": "must be a date", "lab": LAB_NOT_READY}

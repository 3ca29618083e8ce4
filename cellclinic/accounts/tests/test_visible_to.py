"""`Model.objects.visible_to(user, permission)`: the one rule of who sees which site's rows."""

import pytest
from django.apps import apps
from django.contrib.auth.models import AnonymousUser

from cellclinic.accounts.access import SiteScopedManager, site_ids_for_lab_staff
from cellclinic.accounts.models import Site, User
from cellclinic.accounts.roles import Permission
from cellclinic.candidacy.models import Enquiry
from cellclinic.consents.models import Consent
from cellclinic.consultations.models import Consultation
from cellclinic.patients.models import Patient
from cellclinic.photos.models import Photo
from cellclinic.treatment.models import TreatmentPlan
from conftest import make_user, pathway_ids, registered_from_a_request

SITE_SCOPED = [Patient, Enquiry, Consultation, Photo, Consent, TreatmentPlan]
PORTAL_VISIBLE = [Patient, Photo, Consent, TreatmentPlan]
READ_PERMISSIONS = [Permission.PATIENT_VIEW, Permission.LAB_VIEW, Permission.ENQUIRY_HANDLE]


def site_scoped_models():
    return [model for model in apps.get_models() if isinstance(model._default_manager, SiteScopedManager)]


def visible(model, user, permission=Permission.PATIENT_VIEW) -> set:
    return set(model.objects.visible_to(user, permission).values_list("pk", flat=True))


def rows_of(model, patient) -> set:
    lookup = "pk" if model is Patient else "patient"
    return set(model.objects.filter(**{lookup: patient.pk}).values_list("pk", flat=True))


@pytest.fixture
def pathway_a(grace_from_a_request):
    return grace_from_a_request


@pytest.fixture
def patient_a(pathway_a):
    """pathway_a's patient stands in for patient_a here, so `pat` is their portal account."""
    return pathway_a.patient


@pytest.fixture
def records(pathway_a, pat, clinic_b, dr_cy):
    """One record of every kind at North Clinic and at Riverside Clinic: {model: (at NCL, at RSC)}.

    `pat` is linked first, so the North Clinic patient signs their consent as pat."""
    pathway_b = registered_from_a_request(clinic_b, dr_cy, given_name="Rosalind", family_name="Franklin")
    pathway_ids(pathway_a)
    pathway_ids(pathway_b)
    patients = (pathway_a.patient, pathway_b.patient)
    result = {model: tuple(rows_of(model, patient) for patient in patients) for model in SITE_SCOPED}
    assert all(at_a and at_b for at_a, at_b in result.values())
    return result


@pytest.fixture
def other_lab(db):
    return Site.objects.create(code="LAB2", name="Southern Cell Lab", kind="lab")


@pytest.fixture
def clinic_c(other_lab):
    return Site.objects.create(code="HBC", name="Harbour Clinic", kind="clinic", lab=other_lab)


# Apps whose site-scoped records are proved by their own tests (cellclinic/lab/tests: the two parties).
PROVED_ELSEWHERE = frozenset({"lab"})


def test_every_site_scoped_model_uses_the_one_manager():
    clinic_records = {m for m in site_scoped_models() if m._meta.app_label not in PROVED_ELSEWHERE}
    assert clinic_records == set(SITE_SCOPED)


def test_every_site_scoped_model_says_how_its_rows_reach_their_patient():
    for model in site_scoped_models():
        assert "patient_path" in vars(model), f"{model.__name__} does not declare patient_path"


def test_only_records_without_a_patient_are_visible_to_the_lab():
    """Lab staff never see patient names: a record they may read has no link to a patient at all."""
    for model in SITE_SCOPED:
        assert not getattr(model, "lab_visible", False), model.__name__
    lab_visible = [model for model in site_scoped_models() if getattr(model, "lab_visible", False)]
    assert lab_visible, "the lab reads some records"
    for model in lab_visible:
        assert model.patient_path is None, model.__name__
        links = {field.related_model for field in model._meta.get_fields() if field.is_relation}
        assert Patient not in links, model.__name__
        names = {field.name for field in model._meta.get_fields()}
        assert not names & {"given_name", "family_name", "mrn", "date_of_birth", "email", "phone"}, model


@pytest.mark.django_db
def test_staff_see_the_records_of_their_own_clinic_only(records, dr_ada, dr_cy, nurse_bo):
    for model, (at_a, at_b) in records.items():
        assert visible(model, dr_ada) == at_a, model.__name__
        assert visible(model, nurse_bo) == at_a, model.__name__
        assert visible(model, dr_cy) == at_b, model.__name__


@pytest.mark.django_db
def test_the_permission_asked_for_decides(records, dr_ada, nurse_bo, admin_al):
    patients_a, _ = records[Patient]
    consultations_a, _ = records[Consultation]
    enquiries_a, _ = records[Enquiry]
    assert visible(Patient, nurse_bo, Permission.PATIENT_EDIT) == patients_a
    assert visible(Consultation, dr_ada, Permission.CONSULTATION_RUN) == consultations_a
    assert visible(Consultation, nurse_bo, Permission.CONSULTATION_RUN) == set()
    assert visible(Enquiry, admin_al, Permission.ENQUIRY_HANDLE) == enquiries_a
    assert visible(Patient, admin_al, Permission.PATIENT_SIGN) == set()


@pytest.mark.django_db
def test_a_portal_patient_sees_only_their_own_record_and_only_to_read_it(records, pat):
    for model in PORTAL_VISIBLE:
        assert visible(model, pat) == records[model][0], model.__name__
        assert visible(model, pat, Permission.PATIENT_EDIT) == set(), model.__name__
        assert visible(model, pat, Permission.CONSENT_WITHDRAW) == set(), model.__name__


@pytest.mark.django_db
def test_a_portal_patient_never_sees_consultation_notes_or_enquiries(records, pat):
    assert visible(Consultation, pat) == set()
    assert visible(Enquiry, pat) == set()
    assert visible(Enquiry, pat, Permission.ENQUIRY_HANDLE) == set()


@pytest.mark.django_db
def test_anonymous_and_roleless_users_see_nothing(records):
    roleless = make_user("nemo", first="Nemo", last="Nobody")
    for model in SITE_SCOPED:
        assert visible(model, AnonymousUser()) == set(), model.__name__
        assert visible(model, roleless) == set(), model.__name__


@pytest.mark.django_db
def test_a_deactivated_member_of_staff_sees_nothing(records, dr_ada):
    dr_ada.is_active = False
    dr_ada.save(update_fields=["is_active"])
    # Read again, as their next request does: roles are cached on the user for one request, and
    # building the records cached dr_ada's.
    dr_ada = User.objects.get(pk=dr_ada.pk)
    for model in SITE_SCOPED:
        assert visible(model, dr_ada) == set(), model.__name__


@pytest.mark.django_db
def test_lab_staff_get_none_of_todays_patient_records(records, lab_li, qa_quinn):
    for user in (lab_li, qa_quinn):
        for model in SITE_SCOPED:
            for permission in READ_PERMISSIONS:
                assert visible(model, user, permission) == set(), (user.username, model.__name__, permission)


@pytest.mark.django_db
def test_the_lab_scope_costs_no_query_on_a_model_without_it(records, lab_li, django_assert_num_queries):
    # 1. the lab technician's roles; the site filter is empty, so the patients are not even asked for
    with django_assert_num_queries(1):
        assert list(Patient.objects.visible_to(lab_li)) == []


@pytest.mark.django_db
def test_lab_staff_see_the_clinics_their_lab_serves(lab, clinic_a, clinic_b, clinic_c, other_lab, lab_li):
    tech_two = make_user("tam", first="Tam", last="Reyes", roles=[(other_lab, "lab_technician")])
    qa_both = make_user(
        "val", first="Val", last="Osei", roles=[(lab, "qa_reviewer"), (other_lab, "qa_reviewer")]
    )
    assert site_ids_for_lab_staff(lab_li) == {clinic_a.pk, clinic_b.pk}
    assert site_ids_for_lab_staff(tech_two) == {clinic_c.pk}
    assert site_ids_for_lab_staff(qa_both) == {clinic_a.pk, clinic_b.pk, clinic_c.pk}


@pytest.mark.django_db
def test_only_a_lab_role_at_a_lab_brings_its_clinics(lab, clinic_a, clinic_b, dr_ada, pat, admin_two_sites):
    lab_role_at_a_clinic = make_user("kit", first="Kit", last="Ng", roles=[(clinic_a, "lab_technician")])
    assert site_ids_for_lab_staff(dr_ada) == set()
    assert site_ids_for_lab_staff(pat) == set()
    assert site_ids_for_lab_staff(AnonymousUser()) == set()
    assert site_ids_for_lab_staff(admin_two_sites) == set()  # a clinic admin at the lab: no lab role
    assert site_ids_for_lab_staff(lab_role_at_a_clinic) == set()  # a clinic serves no one
    assert site_ids_for_lab_staff(dr_ada, Permission.PATIENT_VIEW) == set()  # the clinic is no lab


@pytest.mark.django_db
def test_a_model_that_opts_in_is_visible_to_its_lab_for_reading_only(
    monkeypatch, records, clinic_c, other_lab, lab_li, dr_ada
):
    """The branch the lab's specimens and products will take: exercised here on photos, opted in."""
    monkeypatch.setattr(Photo, "lab_visible", True, raising=False)
    tech_two = make_user("tam", first="Tam", last="Reyes", roles=[(other_lab, "lab_technician")])
    photos_a, photos_b = records[Photo]
    assert visible(Photo, lab_li) == photos_a | photos_b
    assert visible(Photo, lab_li, Permission.LAB_VIEW) == photos_a | photos_b
    assert visible(Photo, lab_li, Permission.PHOTO_UPLOAD) == set()
    assert visible(Photo, lab_li, Permission.CONSENT_PREPARE) == set()
    assert visible(Photo, tech_two) == set()
    assert visible(Photo, dr_ada) == photos_a
    assert visible(Patient, lab_li) == set()

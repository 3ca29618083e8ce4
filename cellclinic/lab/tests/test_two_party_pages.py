"""Two parties, one set of records: lab staff read chain-of-identity ids only, on every lab page; clinic
staff of the patient's clinic read the patient's name beside the id, and no other clinic's patient."""

import io
from datetime import timedelta

import pytest
from pypdf import PdfReader

from cellclinic.lab import states, worklist
from cellclinic.lab.tests import rows
from cellclinic.lab.urls import urlpatterns
from cellclinic.patients.models import Patient

pytestmark = pytest.mark.django_db

EMAIL = "grace.hopper@example.org"
EXPIRED = "/lab/expired/"
PHONE = "+44 20 7946 0123"


@pytest.fixture
def world(patient_a, patient_b, dr_ada, dr_cy, lab, lab_li):
    """Both clinics' patients at every stage the pages and lists show, and a donor lot."""
    Patient.objects.filter(pk=patient_a.pk).update(email=EMAIL, phone=PHONE)
    ours = rows.story(patient_a, dr_ada, lab_li)
    theirs = rows.story(patient_b, dr_cy, lab_li, product_status=states.PRODUCT_SHIPPED)
    waiting = rows.specimen(ours.chain, dr_ada, status=states.SPECIMEN_SHIPPED)
    rows.specimen(ours.chain, dr_ada)
    for status in (states.BATCH_IN_PROCESS, states.BATCH_QC_PENDING, states.BATCH_AWAITING_RELEASE):
        rows.batch(lab=lab, creator=lab_li, specimen=waiting, status=status)
    rows.product(ours.batch, status=states.PRODUCT_RELEASED, expires_in=timedelta(hours=5))
    # A dose of each patient past its expiry at their clinic, for the page that takes them out of use.
    ours.past = rows.product(ours.batch, expires_in=-timedelta(hours=2))
    theirs.past = rows.product(theirs.batch, expires_in=-timedelta(hours=3))
    lot = rows.donor_lot(lab, lab_li)
    return ours, theirs, lot


def _pages(story, lot) -> dict[str, str]:
    """A path for every lab page route, about STORY's records."""
    return {
        "": "/lab/",
        "waiting/": "/lab/waiting/?item=qc-pending",
        "specimens/<int:specimen_id>/": f"/lab/specimens/{story.specimen.pk}/",
        "specimens/<int:specimen_id>/label.pdf": f"/lab/specimens/{story.specimen.pk}/label.pdf",
        "batches/<int:batch_id>/": f"/lab/batches/{story.batch.pk}/",
        "products/<str:din>/": f"/lab/products/{story.product.din}/",
        "products/<str:din>/label.pdf": f"/lab/products/{story.product.din}/label.pdf",
        "donor-lots/": "/lab/donor-lots/",
        "donor-lots/<int:lot_id>/": f"/lab/donor-lots/{lot.pk}/",
        "reagent-lots/": "/lab/reagent-lots/",
    }


def test_every_lab_route_is_probed_here(world):
    """The reading pages here; the action pages in test_actions_access.py, which checks the two together
    cover every route."""
    from cellclinic.lab.tests.test_actions_access import READING_ROUTES

    ours, _, lot = world
    assert set(_pages(ours, lot)) == READING_ROUTES
    assert {str(pattern.pattern) for pattern in urlpatterns} >= READING_ROUTES


def _text(response) -> str:
    if response["Content-Type"] == "application/pdf":
        return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    return response.content.decode()


def _secrets(patient) -> list[str]:
    """What identifies PATIENT: names, MRN, date of birth as a page would print it, and contact details."""
    born = patient.date_of_birth
    return [
        patient.given_name,
        patient.family_name,
        patient.family_name.upper(),
        patient.mrn,
        born.isoformat(),
        f"{born.day} {born:%B %Y}",
        f"{born.day} {born:%b %Y}",
        *(detail for detail in (patient.email, patient.phone) if detail),
    ]


def _lab_paths(ours, theirs, lot) -> list[str]:
    paths = list(_pages(ours, lot).values()) + list(_pages(theirs, lot).values())
    paths += [f"/lab/waiting/?item={worklist.slug(item)}" for item in worklist.ITEMS if item.lab]
    paths.append(EXPIRED)
    return paths


@pytest.mark.parametrize("persona", ["lab_li", "qa_quinn"])
def test_lab_staff_read_no_patient_identity_on_any_page(
    client, request, world, patient_a, patient_b, persona
):
    ours, theirs, lot = world
    patients = [Patient.objects.get(pk=patient_a.pk), patient_b]
    client.force_login(request.getfixturevalue(persona))
    read = 0
    for path in _lab_paths(ours, theirs, lot):
        response = client.get(path)
        assert response.status_code in (200, 404), path
        if "specimens" in path and path.endswith("label.pdf"):
            assert response.status_code == 404, "a specimen label names the patient"
        body = _text(response)
        for patient in patients:
            for secret in _secrets(patient):
                assert secret.lower() not in body.lower(), f"{persona} reads {secret!r} at {path}"
        read += response.status_code == 200
    assert read >= 16
    # What they read instead: the chain-of-identity ids.
    assert ours.chain.coi in client.get(f"/lab/specimens/{ours.specimen.pk}/").content.decode()


def test_lab_staff_starting_page_names_no_patient(client, world, lab_li, patient_a, patient_b):
    client.force_login(lab_li)
    body = client.get("/").content.decode()
    assert "Batches waiting for QC results" in body
    for patient in (Patient.objects.get(pk=patient_a.pk), patient_b):
        for secret in _secrets(patient):
            assert secret.lower() not in body.lower()


@pytest.mark.parametrize("persona", ["dr_ada", "nurse_bo", "admin_al"])
def test_clinic_staff_read_their_patients_name_beside_the_id(
    client, request, world, patient_a, patient_b, persona
):
    ours, theirs, lot = world
    client.force_login(request.getfixturevalue(persona))
    name = f"{patient_a.given_name} {patient_a.family_name.upper()}"
    for path in _pages(ours, lot).values():
        lab_only = path.startswith(("/lab/donor-lots/", "/lab/reagent-lots/"))
        if lab_only or path.endswith("label.pdf") or "waiting" in path:
            continue
        response = client.get(path)
        assert response.status_code == 200, path
        body = response.content.decode()
        if path != "/lab/":
            assert name in body and ours.chain.coi in body, path
        else:
            assert "HOPPER, Grace" in body  # their clinic's lists name the patient
        for secret in _secrets(patient_b):
            assert secret.lower() not in body.lower(), f"{persona} reads {secret!r} at {path}"
    # The other clinic's records are out of reach altogether.
    for path in _pages(theirs, lot).values():
        if path not in ("/lab/", "/lab/waiting/?item=qc-pending", "/lab/donor-lots/"):
            assert client.get(path).status_code == 404, path


# A donor lot's own action pages are the lab's: the clinic, even the one its products go to, finds none.
LOT_ACTIONS = ("screening/", "plan-batch/", "eligibility/")


@pytest.mark.parametrize("persona", ["dr_ada", "nurse_bo", "admin_al", "pat"])
def test_the_clinic_and_its_patients_find_no_donor_lot_action(client, request, world, persona):
    _, _, lot = world
    client.force_login(request.getfixturevalue(persona))
    screening = dict(lot.screening)
    for action in LOT_ACTIONS:
        path = f"/lab/donor-lots/{lot.pk}/{action}"
        assert client.get(path).status_code == 404, path
        assert client.post(path, {"hiv_nat": "Not detected", "doses": "1"}).status_code == 404, path
    lot.refresh_from_db()
    assert lot.screening == screening and not lot.batches.exists()


@pytest.mark.parametrize("persona", ["lab_li", "qa_quinn"])
def test_lab_staff_read_no_patient_identity_on_a_donor_lots_pages(
    client, request, world, patient_a, patient_b, persona
):
    ours, theirs, lot = world
    client.force_login(request.getfixturevalue(persona))
    patients = [Patient.objects.get(pk=patient_a.pk), patient_b]
    for path in [f"/lab/donor-lots/{lot.pk}/", *(f"/lab/donor-lots/{lot.pk}/{a}" for a in LOT_ACTIONS)]:
        response = client.get(path)
        assert response.status_code in (200, 403), path
        body = response.content.decode().lower()
        for patient in patients:
            for secret in _secrets(patient):
                assert secret.lower() not in body, f"{persona} reads {secret!r} at {path}"


def test_a_clinic_reads_its_own_patients_only_and_the_other_clinic_likewise(client, world, dr_cy, patient_a):
    ours, theirs, lot = world
    client.force_login(dr_cy)
    body = client.get(f"/lab/products/{theirs.product.din}/").content.decode()
    assert "Rosalind FRANKLIN" in body
    for path in (f"/lab/specimens/{ours.specimen.pk}/", f"/lab/products/{ours.product.din}/"):
        response = client.get(path)
        assert response.status_code == 404
        for secret in _secrets(Patient.objects.get(pk=patient_a.pk)):
            assert secret.lower() not in response.content.decode().lower()


def test_products_past_their_expiry_are_listed_by_din_to_the_lab_and_each_clinic_lists_its_own(
    client, world, lab_li, dr_ada, dr_cy, patient_a, patient_b
):
    ours, theirs, _ = world
    patients = [Patient.objects.get(pk=patient_a.pk), patient_b]
    client.force_login(lab_li)
    body = client.get(EXPIRED).content.decode()
    assert ours.past.din in body and theirs.past.din in body
    for patient in patients:
        for secret in _secrets(patient):
            assert secret.lower() not in body.lower(), f"the lab reads {secret!r} on the expired products"
    for user, own, other in ((dr_ada, ours, theirs), (dr_cy, theirs, ours)):
        client.force_login(user)
        body = client.get(EXPIRED).content.decode()
        assert own.past.din in body and other.past.din not in body
        hidden = patients[1] if user is dr_ada else patients[0]
        for secret in _secrets(hidden):
            assert secret.lower() not in body.lower(), f"{user.username} reads {secret!r} of another clinic"

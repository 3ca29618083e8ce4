"""The enquiry worklist: site-scoped, paginated, htmx-filtered; detail, status and registration."""

import pytest

from cellclinic.candidacy.models import Assessment, Enquiry
from cellclinic.candidacy.tests.conftest import make_enquiry
from cellclinic.patients.models import Patient

pytestmark = pytest.mark.django_db
LIST = "/enquiries/"


def test_the_list_shows_this_clinics_requests_only(client, nurse_bo, enquiry_a, enquiry_b):
    client.force_login(nurse_bo)

    response = client.get(LIST)

    assert response.status_code == 200
    body = response.content.decode()
    assert "Mo Farah" in body and "Rue Walker" not in body
    assert response.context["nav_active"] == "enquiries"
    assert 'href="/enquiries/"' in body  # the navigation link


def test_the_list_filters_by_status_and_htmx_gets_the_table_only(client, dr_ada, clinic_a, enquiry_a):
    closed = make_enquiry(clinic_a, name="Closed Person")
    Enquiry.objects.filter(pk=closed.pk).update(status="closed")
    client.force_login(dr_ada)

    full = client.get(LIST, {"status": "closed"}).content.decode()
    partial = client.get(LIST, {"status": "new"}, headers={"HX-Request": "true"})

    assert "Closed Person" in full and "Mo Farah" not in full
    assert "<h1" not in partial.content.decode() and "Mo Farah" in partial.content.decode()
    assert partial["Vary"] and "HX-Request" in partial["Vary"]


def test_the_list_runs_a_bounded_number_of_queries(
    client, dr_ada, clinic_a, enquiry_a, django_assert_max_num_queries
):
    client.force_login(dr_ada)
    with django_assert_max_num_queries(12) as few:
        client.get(LIST)
    for index in range(30):
        make_enquiry(clinic_a, name=f"Person {index}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(LIST)
    assert len(response.context["enquiries"]) == 25


@pytest.mark.parametrize("persona", ["lab_li", "qa_quinn", "pat"])
def test_people_who_handle_no_requests_get_not_found(client, request, persona, enquiry_a):
    client.force_login(request.getfixturevalue(persona))

    assert client.get(LIST).status_code == 404
    assert client.get(f"/enquiries/{enquiry_a.pk}/").status_code == 404
    assert client.post(f"/enquiries/{enquiry_a.pk}/status/", {"status": "closed"}).status_code == 404
    assert client.get(f"/enquiries/{enquiry_a.pk}/register/").status_code == 404


def test_another_clinic_gets_not_found(client, dr_cy, enquiry_a):
    client.force_login(dr_cy)

    assert "Mo Farah" not in client.get(LIST).content.decode()
    assert client.get(f"/enquiries/{enquiry_a.pk}/").status_code == 404
    assert client.post(f"/enquiries/{enquiry_a.pk}/status/", {"status": "closed"}).status_code == 404
    assert client.post(f"/enquiries/{enquiry_a.pk}/register/", {}).status_code == 404
    assert Enquiry.objects.get(pk=enquiry_a.pk).status == "new"


@pytest.mark.parametrize(
    "path", ["/enquiries/", "/enquiries/{id}/", "/enquiries/{id}/register/", "/enquiries/{id}/status/"]
)
def test_anonymous_visitors_are_sent_to_sign_in(client, enquiry_a, path):
    response = client.get(path.format(id=enquiry_a.pk))

    assert response.status_code == 302
    assert response["Location"].startswith("/sign-in/")


def test_the_detail_shows_contact_and_the_attached_result(client, nurse_bo, enquiry_a):
    client.force_login(nurse_bo)

    body = client.get(f"/enquiries/{enquiry_a.pk}/").content.decode()

    assert "mo@example.org" in body and "07700 900123" in body
    assert "Candidate: no rule raised a concern" in body
    assert "Spray-on skin cells made from your own skin" in body
    assert "Rule set 2026.12-" in body
    assert "Register as a patient" in body
    assert "Start consultation" not in body


def test_a_status_change_with_a_note(client, nurse_bo, enquiry_a):
    client.force_login(nurse_bo)

    response = client.post(
        f"/enquiries/{enquiry_a.pk}/status/", {"status": "contacted", "notes": "Called back"}
    )

    assert response.status_code == 302
    enquiry = Enquiry.objects.get(pk=enquiry_a.pk)
    assert enquiry.status == "contacted" and "Called back" in enquiry.notes
    assert "Called back" in client.get(f"/enquiries/{enquiry_a.pk}/").content.decode()


def test_a_forbidden_move_is_shown_with_the_error(client, nurse_bo, enquiry_a):
    Enquiry.objects.filter(pk=enquiry_a.pk).update(status="closed")
    client.force_login(nurse_bo)

    response = client.post(f"/enquiries/{enquiry_a.pk}/status/", {"status": "new"})

    assert response.status_code == 422
    assert response.context["form"].errors
    assert Enquiry.objects.get(pk=enquiry_a.pk).status == "closed"


def test_registering_prefills_from_the_request_and_links_the_patient(client, nurse_bo, clinic_a, enquiry_a):
    client.force_login(nurse_bo)
    url = f"/enquiries/{enquiry_a.pk}/register/"

    form = client.get(url).context["form"]
    assert form.initial["given_name"] == "Mo" and form.initial["family_name"] == "Farah"
    assert form.initial["presenting_concern"] == "vitiligo"
    response = client.post(
        url,
        {
            "given_name": "Mo",
            "family_name": "Farah",
            "date_of_birth": "1991-05-06",
            "sex_at_birth": "not_recorded",
            "email": "mo@example.org",
            "presenting_concern": "vitiligo",
        },
    )

    assert response.status_code == 302
    patient = Patient.objects.get(family_name="Farah")
    assert patient.site == clinic_a
    assert Enquiry.objects.get(pk=enquiry_a.pk).patient == patient
    assert Assessment.objects.get(pk=enquiry_a.assessment.pk).patient == patient
    again = client.get(url)
    assert again.status_code == 302


def test_a_linked_patient_gives_the_start_consultation_link(client, dr_ada, nurse_bo, enquiry_a, patient_a):
    Enquiry.objects.filter(pk=enquiry_a.pk).update(patient=patient_a)
    client.force_login(dr_ada)

    body = client.get(f"/enquiries/{enquiry_a.pk}/").content.decode()

    assert "Start consultation" in body
    assert f"/consultations/start/{patient_a.pk}/?enquiry={enquiry_a.pk}" in body
    assert "Register as a patient" not in body
    client.force_login(nurse_bo)
    assert "Start consultation" not in client.get(f"/enquiries/{enquiry_a.pk}/").content.decode()


def test_a_bad_registration_shows_errors_and_changes_nothing(client, nurse_bo, enquiry_a):
    client.force_login(nurse_bo)

    response = client.post(f"/enquiries/{enquiry_a.pk}/register/", {"given_name": "Mo", "family_name": ""})

    assert response.status_code == 422
    assert not Patient.objects.filter(given_name="Mo").exists()
    assert Enquiry.objects.get(pk=enquiry_a.pk).patient is None

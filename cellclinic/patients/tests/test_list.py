"""The patient list at /patients/: search, htmx partial, pagination, access and query count."""

from datetime import date

import pytest

from cellclinic.patients.services import patient_create
from cellclinic.patients.tests.helpers import assert_no_patient_data, register_many

pytestmark = pytest.mark.django_db

URL = "/patients/"


def _names(response) -> list[str]:
    return [p.family_name for p in response.context["patients"]]


def test_it_lists_the_patients_of_the_users_clinic(client, dr_ada, patient_a, patient_b):
    client.force_login(dr_ada)
    response = client.get(URL)
    assert response.status_code == 200
    body = response.content.decode()
    assert "HOPPER, Grace" in body
    assert patient_a.mrn in body
    assert_no_patient_data(response, patient_b)
    assert response.context["nav_active"] == "patients"


def test_it_shows_each_column(client, dr_ada, patient_a):
    client.force_login(dr_ada)
    body = client.get(URL).content.decode()
    assert f'href="/patients/{patient_a.pk}/"' in body
    assert '<time datetime="1980-12-09">9 Dec 1980</time>' in body
    assert '<abbr title="North Clinic">NCL</abbr>' in body
    assert "Scarring" in body
    assert ">II</abbr>" in body


def test_it_shows_the_age_from_the_date_of_birth(client, dr_ada, patient_a, time_machine):
    time_machine.move_to("2026-12-08 12:00 +00:00")
    client.force_login(dr_ada)
    assert "(45 y)" in client.get(URL).content.decode()
    time_machine.move_to("2026-12-09 12:00 +00:00")
    client.force_login(dr_ada)
    assert "(46 y)" in client.get(URL).content.decode()


@pytest.mark.parametrize("user", ["nurse_bo", "admin_al"])
def test_nurses_and_clinic_admins_see_the_list(client, request, user, patient_a):
    client.force_login(request.getfixturevalue(user))
    response = client.get(URL)
    assert response.status_code == 200
    assert patient_a.mrn in response.content.decode()


def test_it_shows_another_clinic_only_its_own_patients(client, dr_cy, patient_a, patient_b):
    client.force_login(dr_cy)
    response = client.get(URL)
    assert _names(response) == ["Franklin"]
    assert_no_patient_data(response, patient_a)


def test_it_finds_a_patient_by_part_of_the_name(client, dr_ada, patient_a, clinic_a):
    register_many(clinic_a, dr_ada, 2)
    client.force_login(dr_ada)
    assert _names(client.get(URL, {"q": "opp"})) == ["Hopper"]
    assert _names(client.get(URL, {"q": "GRACE"})) == ["Hopper"]


def test_it_narrows_the_search_with_several_words(client, dr_ada, patient_a, clinic_a):
    patient_create(
        site=clinic_a,
        actor=dr_ada,
        data={"given_name": "Edward", "family_name": "Hopper", "date_of_birth": date(1982, 7, 22)},
    )
    client.force_login(dr_ada)
    assert _names(client.get(URL, {"q": "hopper"})) == ["Hopper", "Hopper"]
    response = client.get(URL, {"q": "  grace   HOPPER "})
    assert [p.given_name for p in response.context["patients"]] == ["Grace"]
    assert _names(client.get(URL, {"q": "grace franklin"})) == []


def test_it_finds_a_patient_by_mrn(client, dr_ada, patient_a, clinic_a):
    others = register_many(clinic_a, dr_ada, 3)
    client.force_login(dr_ada)
    assert _names(client.get(URL, {"q": patient_a.mrn})) == ["Hopper"]
    assert [p.pk for p in client.get(URL, {"q": others[1].mrn.lower()}).context["patients"]] == [others[1].pk]


@pytest.mark.parametrize("typed", ["1980-12-09", "09/12/1980", "9/12/1980"])
def test_it_finds_a_patient_by_date_of_birth(client, dr_ada, patient_a, clinic_a, typed):
    register_many(clinic_a, dr_ada, 3)
    client.force_login(dr_ada)
    assert _names(client.get(URL, {"q": typed})) == ["Hopper"]


def test_it_does_not_find_another_clinics_patient_by_mrn(client, dr_ada, patient_a, patient_b):
    client.force_login(dr_ada)
    response = client.get(URL, {"q": patient_b.mrn})
    assert _names(response) == []
    body = response.content.decode()
    assert "No patient matches" in body
    # The MRN is echoed back as typed; nothing else about the patient is.
    assert "franklin" not in body.lower() and "Rosalind" not in body
    assert patient_b.date_of_birth.isoformat() not in body


def test_the_search_box_is_labelled_and_searches_as_you_type(client, dr_ada):
    client.force_login(dr_ada)
    body = client.get(URL).content.decode()
    assert '<label for="patient-search">Search patients by name, MRN or date of birth</label>' in body
    assert 'hx-get="/patients/"' in body
    assert 'hx-trigger="input changed delay:300ms, search"' in body
    assert 'hx-target="#patient-table"' in body
    assert 'hx-push-url="true"' in body
    # Without JavaScript, the same form submits as a normal GET.
    assert '<form class="card" method="get" action="/patients/" role="search">' in body


def test_an_htmx_search_gets_only_the_table(client, dr_ada, patient_a):
    client.force_login(dr_ada)
    response = client.get(URL, {"q": "hopper"}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body and "<form" not in body
    assert '<table class="data">' in body
    assert "HOPPER, Grace" in body
    assert "HX-Request" in response["Vary"]


def test_a_boosted_or_history_restore_request_gets_the_whole_page(client, dr_ada, patient_a):
    client.force_login(dr_ada)
    boosted = client.get(URL, headers={"HX-Request": "true", "HX-Boosted": "true"})
    restore = client.get(URL, headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    for response in (boosted, restore):
        body = response.content.decode()
        assert "<html" in body and 'id="patient-search"' in body and "HOPPER, Grace" in body


def test_it_paginates(client, dr_ada, clinic_a):
    register_many(clinic_a, dr_ada, 30)
    client.force_login(dr_ada)
    first = client.get(URL)
    assert len(first.context["patients"]) == 25
    assert "Page 1 of 2" in first.content.decode()
    second = client.get(URL, {"page": 2, "q": "osei"})
    assert len(second.context["patients"]) == 5
    assert 'href="?q=osei&amp;page=1"' in second.content.decode()
    assert len(client.get(URL, {"page": "nonsense"}).context["patients"]) == 25


def test_it_sends_anonymous_visitors_to_sign_in(client, patient_a):
    response = client.get(URL, {"q": "hopper"})
    assert response.status_code == 302
    assert response["Location"].startswith("/sign-in/?next=")
    assert_no_patient_data(response, patient_a)


@pytest.mark.parametrize("user", ["lab_li", "qa_quinn"])
def test_it_is_not_found_for_lab_and_qa_staff(client, request, user, patient_a, patient_b):
    client.force_login(request.getfixturevalue(user))
    response = client.get(URL, {"q": "hopper"})
    assert response.status_code == 404
    assert_no_patient_data(response, patient_a, patient_b)


def test_it_is_not_found_for_a_portal_user(client, pat, patient_a, patient_b):
    client.force_login(pat)
    response = client.get(URL)
    assert response.status_code == 404
    assert_no_patient_data(response, patient_a, names=False)
    assert_no_patient_data(response, patient_b)


def test_its_query_count_is_pinned(client, dr_ada, patient_a, django_assert_num_queries):
    client.force_login(dr_ada)
    # 1 session, 2 user, 3 the user's memberships (read once, for access and navigation),
    # 4 count of matching patients, 5 the page of patients joined to their site, 6 the search logged
    # in the access log, 7 new consultation requests and 8 unread notifications, counted on the
    # navigation links.
    with django_assert_num_queries(8):
        response = client.get(URL, {"q": "hopper"})
    assert response.status_code == 200


def test_its_query_count_does_not_grow_with_the_registry(client, dr_ada, clinic_a, django_assert_num_queries):
    register_many(clinic_a, dr_ada, 2)
    client.force_login(dr_ada)
    with django_assert_num_queries(8) as few:
        client.get(URL)
    register_many(clinic_a, dr_ada, 30)
    with django_assert_num_queries(8) as many:
        response = client.get(URL)
    assert len(response.context["patients"]) == 25
    assert len(few.captured_queries) == len(many.captured_queries)

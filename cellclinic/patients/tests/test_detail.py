"""The chart at /patients/<id>/."""

import pytest

from cellclinic.demo.builder import at_stage
from cellclinic.patients.services import patient_history_review_sign, patient_update
from cellclinic.patients.tests.helpers import assert_no_patient_data, page_text
from conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _url(patient, section: str = "") -> str:
    return f"/patients/{patient.pk}/" + (f"?section={section}" if section else "")


def test_it_shows_demographics_skin_type_and_concern(client, dr_ada, patient_a):
    patient_update(
        patient=patient_a,
        actor=dr_ada,
        data={"pronouns": "she/her", "email": "grace@example.org", "concern_details": "Scar on the chin"},
        reason="Corrected at the visit",
    )
    client.force_login(dr_ada)
    response = client.get(_url(patient_a))
    body = response.content.decode()
    assert response.status_code == 200
    assert response.context["nav_active"] == "patients"
    assert "<h1>Grace HOPPER</h1>" in body
    assert patient_a.mrn in body
    assert "9 December 1980" in body
    assert "II — fair; always burns, tans with difficulty" in body
    assert "<dd>Scarring</dd>" in body
    assert "Scar on the chin" in body
    # Demographics and contact are in their own section, loaded when asked for.
    assert "grace@example.org" not in body
    record = client.get(_url(patient_a, "record")).content.decode()
    assert "<h1>Grace HOPPER</h1>" in record
    assert "<dd>Female</dd>" in record
    assert "<dd>she/her</dd>" in record
    assert "grace@example.org" in record


def test_it_says_none_recorded_for_an_empty_history_and_allergies(client, dr_ada, patient_a):
    client.force_login(dr_ada)
    body = client.get(_url(patient_a)).content.decode()
    assert body.count("None recorded.") == 2


def test_it_lists_the_recorded_history_and_allergies(client, dr_ada, patient_a):
    patient_update(
        patient=patient_a,
        actor=dr_ada,
        data={"history": ["keloid_history"], "allergies": ["dmso"], "allergy_notes": "Penicillin (rash)"},
        reason="Corrected at the visit",
    )
    client.force_login(dr_ada)
    body = client.get(_url(patient_a)).content.decode()
    assert "<li>Keloid or hypertrophic scarring</li>" in body
    assert "<li>DMSO</li>" in body
    assert "Penicillin (rash)" in body
    assert "None recorded." not in body


def test_it_shows_the_history_of_changes(client, dr_ada, nurse_bo, patient_a):
    patient_update(patient=patient_a, actor=nurse_bo, data={"phone": "0191 496 0000"}, reason="Phoned in")
    client.force_login(dr_ada)
    response = client.get(_url(patient_a, "history"))
    rows = response.context["events"]
    assert [(event.action, label, fields) for event, label, fields in rows] == [
        ("patient.update", "Record changed", ["phone"]),
        ("patient.create", "Registered", []),
    ]
    body = response.content.decode()
    assert "Bo Lindqvist" in body and "Ada Okafor" in body
    assert "Phoned in" in body


def test_it_shows_only_the_ten_most_recent_changes(client, dr_ada, patient_a):
    for i in range(12):
        patient_update(
            patient=patient_a, actor=dr_ada, data={"pronouns": f"p{i}"}, reason="Corrected at the visit"
        )
    client.force_login(dr_ada)
    response = client.get(_url(patient_a, "history"))
    assert len(response.context["events"]) == 10
    assert response.context["more_events"] is True
    assert response.context["events"][0][0].after == {"pronouns": "p11"}


def test_it_shows_signatures_and_the_sign_form_to_a_practitioner(client, dr_ada, patient_a):
    patient_history_review_sign(patient=patient_a, signer=dr_ada, password=PASSWORD)
    client.force_login(dr_ada)
    body = client.get(_url(patient_a, "history")).content.decode()
    assert '<span class="signature-meaning">Reviewed</span>' in body
    assert '<span class="signature-name">Ada Okafor</span>' in body
    assert "Matches the current record" in body
    assert f'action="/patients/{patient_a.pk}/sign/"' in body
    assert 'type="password" name="password"' in body


@pytest.mark.parametrize("user", ["nurse_bo", "admin_al"])
def test_it_offers_no_sign_form_to_those_who_cannot_sign(client, request, user, patient_a):
    client.force_login(request.getfixturevalue(user))
    response = client.get(_url(patient_a, "history"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "/sign/" not in body
    assert 'name="password"' not in body
    assert f'href="/patients/{patient_a.pk}/edit/"' in body


def test_it_rejects_other_clinic(client, dr_cy, patient_a):
    client.force_login(dr_cy)
    response = client.get(_url(patient_a))
    assert response.status_code == 404
    assert_no_patient_data(response, patient_a)


def test_it_answers_a_missing_record_like_another_clinics(client, dr_cy, patient_a):
    client.force_login(dr_cy)
    other = client.get(_url(patient_a))
    missing = client.get(f"/patients/{patient_a.pk + 1000}/")
    assert other.status_code == missing.status_code == 404
    assert page_text(other) == page_text(missing)


@pytest.mark.parametrize("user", ["lab_li", "qa_quinn"])
def test_it_is_not_found_for_lab_and_qa_staff(client, request, user, patient_a):
    client.force_login(request.getfixturevalue(user))
    response = client.get(_url(patient_a))
    assert response.status_code == 404
    assert_no_patient_data(response, patient_a)


def test_it_is_not_found_for_the_patient_themself(client, pat, patient_a):
    client.force_login(pat)
    response = client.get(_url(patient_a))
    assert response.status_code == 404
    assert_no_patient_data(response, patient_a, names=False)


def test_it_sends_anonymous_visitors_to_sign_in(client, patient_a):
    response = client.get(_url(patient_a))
    assert response.status_code == 302
    assert response["Location"] == f"/sign-in/?next=/patients/{patient_a.pk}/"


# Every page of a signed-in member of staff: 1 session, 2 user, 3 the user's memberships; then
# 4 the patient joined to site and portal user, 5 the read logged in the access log, 6-9 the stage of
# the pathway the consultations, consents, treatment and lab apps report for the header; and the counts
# beside the navigation links (10 consultation requests waiting, 11 unread notifications).
HEADER = 11


def test_the_first_view_runs_a_pinned_number_of_queries(client, dr_ada, patient_a, django_assert_num_queries):
    patient_history_review_sign(patient=patient_a, signer=dr_ada, password=PASSWORD)
    client.force_login(dr_ada)
    # The overview has nothing to read beyond the patient's own row.
    with django_assert_num_queries(HEADER):
        response = client.get(_url(patient_a))
    assert response.status_code == 200


def test_its_query_count_does_not_grow_with_signatures_changes_and_the_pathway(
    client, dr_ada, patient_a, django_assert_num_queries
):
    client.force_login(dr_ada)
    at_stage("planned", patient=patient_a, practitioner=dr_ada, password=PASSWORD, photos=("front",))
    # With a plan under way, the header reads its next step as well.
    planned = HEADER + 1
    with django_assert_num_queries(planned):
        client.get(_url(patient_a))
    # The most recent signatures and the most recent audit events, beside the header's.
    with django_assert_num_queries(planned + 2):
        client.get(_url(patient_a, "history"))
    for i in range(15):
        patient_history_review_sign(patient=patient_a, signer=dr_ada, password=PASSWORD)
        patient_update(
            patient=patient_a,
            actor=dr_ada,
            data={"history_notes": f"note {i}"},
            reason="Corrected at the visit",
        )
        at_stage("planned", patient=patient_a, practitioner=dr_ada, password=PASSWORD, photos=("front",))
    with django_assert_num_queries(planned):
        client.get(_url(patient_a))
    with django_assert_num_queries(planned + 2):
        response = client.get(_url(patient_a, "history"))
    assert len(response.context["signatures"]) == 10
    assert response.context["more_signatures"] is True

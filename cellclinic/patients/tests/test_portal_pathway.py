"""The portal's pathway: self-assessment, consultations, consents, the plan and what happens next."""

import pytest
from django.utils import timezone

from cellclinic.candidacy.models import Assessment
from cellclinic.patients.tests.helpers import assert_no_patient_data
from cellclinic.treatment.services import plans_stop_for_consent
from cellclinic.treatment.tests.helpers import DONOR, pathway_to

pytestmark = pytest.mark.django_db

URL = "/patients/portal/"
RESULT = {
    "outcome": "suitable",
    "therapies": [{"code": "autologous_fibroblast_injection", "name": "Cultured fibroblasts", "reasons": []}],
    "alternatives": [],
    "reasons": [{"text": "Your skin type suits this treatment", "effect": "allow"}],
    "expectations": {},
    "ruleset": "test-1",
}


def _assessment(patient, **result):
    return Assessment.objects.create(
        source="public",
        answers={},
        result={**RESULT, **result},
        outcome="suitable",
        ruleset="test-1",
        patient=patient,
    )


def test_it_shows_the_latest_self_assessment(client, pat, patient_a):
    _assessment(patient_a, reasons=[{"text": "An older answer", "effect": "allow"}])
    _assessment(patient_a)
    client.force_login(pat)
    body = client.get(URL).content.decode()
    assert "Your self-assessment" in body
    assert "Your skin type suits this treatment" in body
    assert "An older answer" not in body


def test_it_summarises_decided_consultations_only(client, pat, patient_a, dr_ada):
    pathway_to("decided", patient_a, dr_ada, goals="Softer lines around the mouth")
    pathway_to("consultation_open", patient_a, dr_ada, goals="Still talking it through")
    client.force_login(pat)
    body = client.get(URL).content.decode()
    assert "Softer lines around the mouth" in body
    assert "Still talking it through" not in body
    assert "with Ada Okafor" in body
    assert "Proceed with a cell therapy" in body
    # The treatment by its plain name: the clinical one stays on staff pages.
    assert "Injections of your own lab-grown skin cells" in body
    assert "fibroblast" not in body.lower()


def test_a_consent_waiting_for_the_patient_offers_read_and_sign(client, pat, patient_a, dr_ada):
    consent = pathway_to("consent_prepared", patient_a, dr_ada).consent
    client.force_login(pat)
    body = client.get(URL).content.decode()
    assert "Waiting for your signature" in body
    assert f'href="/consents/{consent.pk}/sign/"' in body
    assert f'href="/consents/{consent.pk}/pdf/"' in body
    # Nothing is signed yet, so there is nothing to withdraw.
    assert f'href="/consents/{consent.pk}/withdraw/"' not in body


def test_a_signed_consent_offers_the_copy_and_withdrawal_but_not_signing(client, pat, patient_a, dr_ada):
    consent = pathway_to("consent_signed", patient_a, dr_ada).consent
    withdrawn = pathway_to("withdrawn", patient_a, dr_ada).consent
    client.force_login(pat)
    body = client.get(URL).content.decode()
    assert (
        f'href="/consents/{consent.pk}/pdf/"' in body and f'href="/consents/{consent.pk}/withdraw/"' in body
    )
    assert "/sign/" not in body
    assert f'href="/consents/{withdrawn.pk}/withdraw/"' not in body
    assert "Withdrawn" in body


def test_it_shows_the_plan_timeline_and_what_happens_next(client, pat, patient_a, dr_ada):
    plan = pathway_to("planned", patient_a, dr_ada, in_days=3).plan
    client.force_login(pat)
    response = client.get(URL)
    body = response.content.decode()
    assert response.status_code == 200
    assert body.count("<h1>") == 1
    assert '<ol class="tl-steps">' in body and "Efficacy assessment" in body
    upcoming = response.context["next_step"]
    assert upcoming.plan == plan and upcoming.step.kind == "harvest"
    assert "A small sample is taken: three 3-mm punch biopsies from behind the ear." in body
    harvest = plan.steps.get(kind="harvest").due_date
    assert f'<time datetime="{harvest.isoformat()}">{harvest:%A} {harvest.day} {harvest:%B %Y}</time>' in body


def test_what_happens_next_gives_the_aftercare_for_a_treatment(client, pat, patient_a, dr_ada):
    pathway_to("planned", patient_a, dr_ada, DONOR, in_days=2)
    client.force_login(pat)
    body = client.get(URL).content.decode()
    assert "Treatment session 1 of 8" in body
    assert "Leave the treated ulcer undisturbed for about 72 hours" in body


def test_a_stopped_plan_says_so_and_nothing_is_next(client, pat, patient_a, dr_ada):
    plan = pathway_to("planned", patient_a, dr_ada).plan
    plans_stop_for_consent(consent=plan.consent, actor=dr_ada, reason="The patient prefers to wait.")
    client.force_login(pat)
    response = client.get(URL)
    body = response.content.decode()
    assert "This plan has stopped, so no more treatment steps are booked from it." in body
    # The reason is the team's note: it stays on staff pages.
    assert "The patient prefers" not in body
    assert response.context.get("next_step") is None
    assert "Nothing is booked in a treatment plan for you" in body


def test_it_says_plainly_when_there_is_nothing_yet(client, pat):
    client.force_login(pat)
    body = client.get(URL).content.decode()
    assert "You do not have a treatment plan yet." in body
    assert "You have no consent forms yet." in body
    assert "You have no completed consultations yet." in body
    assert "Your self-assessment" not in body


def test_it_never_shows_the_other_patients_pathway(client, pat, patient_a, patient_b, dr_cy):
    _assessment(patient_b, reasons=[{"text": "Rosalind's own answer", "effect": "allow"}])
    pathway_to("consent_signed", patient_b, dr_cy, goals="Rosalind's goals")
    pathway_to("consent_prepared", patient_b, dr_cy)
    plan = pathway_to("planned", patient_b, dr_cy).plan
    client.force_login(pat)
    response = client.get(URL)
    body = response.content.decode()
    assert_no_patient_data(response, patient_b)
    for secret in ("Rosalind's own answer", "Rosalind's goals", "Cy Moreau", f"plan-{plan.pk}", "/consents/"):
        assert secret not in body
    assert response.context["plans"] == [] and response.context["consents"] == []


@pytest.mark.parametrize("persona", ["dr_ada", "nurse_bo", "admin_al", "dr_cy", "lab_li"])
def test_staff_still_cannot_use_the_portal(client, request, persona, pat, patient_a, dr_ada):
    pathway_to("planned", patient_a, dr_ada)
    client.force_login(request.getfixturevalue(persona))
    response = client.get(URL)
    assert response.status_code == 404
    assert_no_patient_data(response, patient_a)


def test_the_portal_runs_a_fixed_number_of_queries(
    client, pat, patient_a, dr_ada, django_assert_max_num_queries
):
    _assessment(patient_a)
    pathway_to("planned", patient_a, dr_ada)
    client.force_login(pat)
    client.get(URL)
    # Session, user, patient, assessment, consultations, consents, plans, their steps.
    with django_assert_max_num_queries(9) as one:
        client.get(URL)
    for _ in range(3):
        pathway_to("planned", patient_a, dr_ada, DONOR)
        pathway_to("consent_prepared", patient_a, dr_ada)
        _assessment(patient_a)
    with django_assert_max_num_queries(len(one.captured_queries)):
        response = client.get(URL)
    assert len(response.context["plans"]) == 4
    assert timezone.localdate() <= response.context["next_step"].step.due_date


def test_a_consent_waiting_for_the_patient_is_what_happens_next(client, pat, patient_a, dr_ada):
    consent = pathway_to("consent_prepared", patient_a, dr_ada).consent
    client.force_login(pat)
    body = client.get(URL).content.decode()
    assert "Read and sign your consent form" in body
    assert f"/consents/{consent.pk}/sign/" in body


def test_after_signing_the_patient_reads_that_the_practitioner_signs_next(client, pat, patient_a, dr_ada):
    pathway_to("patient_signed", patient_a, dr_ada)
    client.force_login(pat)
    body = client.get(URL).content.decode()
    assert "Read and sign your consent form" not in body
    assert "Your practitioner will countersign" in body


def test_an_assessment_from_the_consultation_is_not_called_a_self_assessment(client, pat, patient_a):
    Assessment.objects.create(
        source="practitioner", answers={}, result=RESULT, outcome="suitable", ruleset="t", patient=patient_a
    )
    client.force_login(pat)
    body = client.get(URL).content.decode()
    assert "Your assessment at consultation" in body
    assert "Your self-assessment" not in body

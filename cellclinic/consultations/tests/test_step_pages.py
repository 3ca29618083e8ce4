"""The consultation step by step: each step's page and its one save, who may open which step, the decision
only after the steps it rests on, the overview, and the wording for staff."""

import pytest
from django.urls import reverse

from cellclinic.audit.models import AccessEvent, AuditEvent, Signature
from cellclinic.candidacy.engine import HEALTH_KEYS
from cellclinic.consultations import steps
from cellclinic.consultations.models import Consultation
from cellclinic.consultations.services import consultation_update
from conftest import PASSWORD

from .conftest import THERAPY

pytestmark = pytest.mark.django_db

STEP_NAMES = [step.name for step in steps.STEPS]
CANDIDACY_ANSWERS = {
    "concerns": ["scar"],
    "area": "face",
    "age": "45",
    "expectation": "gradual_improvement",
    "health_generally_fit_and_healthy": "yes",
    "wound_open": "no",
    "months_since_injury": "24",
    **{f"health_{key}": "no" for key in HEALTH_KEYS[1:]},
}
# The patient's words for a candidacy outcome, never shown to staff.
PATIENT_PHRASES = ("You may be a suitable candidate", "needs to talk with you", "not suitable for you")


def _step(consultation, name):
    return reverse("consultations:step", args=[consultation.pk, name])


def _overview(consultation):
    return reverse("consultations:detail", args=[consultation.pk])


def _snapshot(consultation):
    fresh = Consultation.objects.get(pk=consultation.pk)
    return {
        field.attname: getattr(fresh, field.attname)
        for field in Consultation._meta.concrete_fields
        if field.attname != "updated_at"
    }


def _audits():
    return AuditEvent.objects.filter(object_type="consultation").count()


# Who may open which step ---------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["dr_cy", "lab_li", "qa_quinn", "pat"])
@pytest.mark.parametrize("name", STEP_NAMES)
def test_other_clinics_the_lab_and_patients_get_404_on_every_step(client, request, ready, persona, name):
    client.force_login(request.getfixturevalue(persona))
    before, audits = _snapshot(ready), _audits()
    assert client.get(_step(ready, name)).status_code == 404
    assert client.post(_step(ready, name), {"goals": "x", "discussed": "on"}).status_code == 404
    assert _snapshot(ready) == before and _audits() == audits


@pytest.mark.parametrize("name", STEP_NAMES)
def test_anonymous_is_sent_to_sign_in_from_every_step(client, ready, name):
    for response in (client.get(_step(ready, name)), client.post(_step(ready, name), {})):
        assert response.status_code == 302 and response["Location"].startswith("/sign-in/")


@pytest.mark.parametrize("name", STEP_NAMES)
def test_a_nurse_reads_each_step_but_saves_none(client, nurse_bo, ready, name):
    client.force_login(nurse_bo)
    page = client.get(_step(ready, name))
    assert page.status_code == 200
    html = page.content.decode()
    assert '<form method="post" action="/consultations/' not in html and "Save and continue" not in html
    before = _snapshot(ready)
    assert client.post(_step(ready, name), {"goals": "x", "discussed": "on"}).status_code == 404
    assert _snapshot(ready) == before


def test_an_unknown_step_is_404(client, dr_ada, ready):
    client.force_login(dr_ada)
    assert client.get(_step(ready, "billing")).status_code == 404
    assert client.post(_step(ready, "billing"), {}).status_code == 404


# Each step's page ----------------------------------------------------------------------------------

# Queries per step page for the practitioner, pinned: the session and user, two-factor, roles, the
# consultation with its patient, assessment and enquiry, the access log, and what the step shows.
QUERIES = {"goals": 7, "findings": 8, "candidacy": 8, "expectations": 7, "alternatives": 7, "decision": 7}


@pytest.mark.parametrize("name", STEP_NAMES)
def test_each_step_has_one_form_one_save_the_progress_and_back_and_next(
    client, dr_ada, ready, name, django_assert_num_queries
):
    client.force_login(dr_ada)
    client.get(_overview(ready))  # the session's first request settles its two-factor state
    with django_assert_num_queries(QUERIES[name]):
        page = client.get(_step(ready, name))
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count("<h1") == 1 and f"<h1>{steps.BY_NAME[name].title}</h1>".replace("'", "&#x27;") in html
    forms = html.count('<form method="post" action="/consultations/')
    assert forms == 1 and html.count('type="submit">') == 2  # the step's save, and signing out
    button = "Sign the decision" if name == "decision" else "Save and continue"
    assert html.count(button) == 1
    # The progress: every step in order, this one current, the others done here.
    assert html.count('aria-current="step"') == 1 and 'aria-label="Consultation steps"' in html
    progress = page.context["progress"]
    assert [s.name for s in progress] == STEP_NAMES
    # `ready` has every step before the decision done but the alternatives.
    base = dict.fromkeys(STEP_NAMES[:4], "done") | {"alternatives": "to_do", "decision": "to_do"}
    assert [s.state for s in progress] == ["current" if n == name else base[n] for n in STEP_NAMES]
    previous, following = steps.previous_step(name), steps.next_step(name)
    if previous:
        assert f'rel="prev" href="{_step(ready, previous.name)}"' in html
    if following:
        assert f'rel="next" href="{_step(ready, following.name)}"' in html
    assert AccessEvent.objects.filter(action="consultation.view", object_id=str(ready.pk)).exists()


def test_the_pages_are_worded_for_staff(client, dr_ada, patient_a):
    """A 'review needed' assessment: its outcome and the rules' notes in clinicians' words."""
    from cellclinic.demo.builder import at_stage

    consultation = at_stage(
        "consultation_open",
        patient=patient_a,
        practitioner=dr_ada,
        password=PASSWORD,
        expectation="complete_removal",
    ).consultation
    assert consultation.assessment.outcome == "consult"
    client.force_login(dr_ada)
    for url in [_overview(consultation)] + [_step(consultation, name) for name in STEP_NAMES]:
        html = client.get(url).content.decode()
        for phrase in PATIENT_PHRASES:
            assert phrase not in html, (url, phrase)
    html = client.get(_step(consultation, "candidacy")).content.decode()
    assert "Review needed before deciding" in html and "Rule set" in html
    html = client.get(_step(consultation, "expectations")).content.decode()
    assert "Discuss with the patient:" in html
    html = client.get(_step(consultation, "goals")).content.decode()
    assert "<h1>Patient&#x27;s goals</h1>" in html


def test_the_candidacy_step_shows_the_rules_notes_for_staff(client, dr_ada, patient_a):
    """A scar from a recent injury: the rule's note for clinicians is shown beside its reason."""
    from cellclinic.candidacy.services import get_ruleset
    from cellclinic.demo.builder import at_stage

    consultation = at_stage(
        "consultation_open",
        patient=patient_a,
        practitioner=dr_ada,
        password=PASSWORD,
        condition={"wound_open": False, "months_since_injury": 4},
    ).consultation
    rules = {reason["rule"] for reason in consultation.assessment.result["reasons"]}
    assert "scar_recent_injury" in rules
    client.force_login(dr_ada)
    html = client.get(_step(consultation, "candidacy")).content.decode()
    assert get_ruleset().rule("scar_recent_injury").staff.replace("'", "&#x27;") in html


# Each step's save ----------------------------------------------------------------------------------


def test_goals_save_and_go_to_the_findings(client, dr_ada, consultation):
    client.force_login(dr_ada)
    response = client.post(_step(consultation, "goals"), {"goals": "Smoother", "target_areas": "chin\ncheek"})
    assert response.status_code == 302 and response["Location"] == _step(consultation, "findings")
    consultation.refresh_from_db()
    assert (consultation.goals, consultation.target_areas) == ("Smoother", ["chin", "cheek"])
    assert (
        AuditEvent.objects.filter(action="consultation.update", object_id=str(consultation.pk)).count() == 1
    )
    page = client.get(response["Location"])
    assert "The patient&#x27;s goals are saved." in page.content.decode()


def test_bad_goals_are_named_and_nothing_changes(client, dr_ada, consultation):
    client.force_login(dr_ada)
    before, audits = _snapshot(consultation), _audits()
    areas = "\n".join(f"area {n}" for n in range(30))
    response = client.post(_step(consultation, "goals"), {"goals": "x" * 5001, "target_areas": areas})
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert "goals" in errors
    assert "The goals were not saved." in response.content.decode()
    assert _snapshot(consultation) == before and _audits() == audits
    response = client.post(_step(consultation, "goals"), {"goals": "Smoother", "target_areas": areas})
    assert response.status_code == 422 and "target_areas" in response.context["form"].errors
    assert _snapshot(consultation) == before and _audits() == audits


def test_findings_save_and_go_to_the_candidacy(client, dr_ada, consultation):
    client.force_login(dr_ada)
    data = {
        "indication": "scar",
        "fitzpatrick_type": "III",
        "severity_scale": "vss",
        "vss__vascularity": "1",
        "vss__pigmentation": "1",
        "vss__pliability": "1",
        "vss__height": "1",
        "findings": "Flat scar on the chin.",
    }
    response = client.post(_step(consultation, "findings"), data)
    assert response.status_code == 302 and response["Location"] == _step(consultation, "candidacy")
    consultation.refresh_from_db()
    assert consultation.severity_score == 4 and consultation.findings == "Flat scar on the chin."


def test_a_new_indication_keeps_the_findings_step_open_for_its_scales(client, dr_ada, consultation):
    client.force_login(dr_ada)
    response = client.post(
        _step(consultation, "findings"), {"indication": "vitiligo", "fitzpatrick_type": "", "findings": ""}
    )
    assert response.status_code == 302 and response["Location"] == _step(consultation, "findings")
    page = client.get(response["Location"])
    assert "Score the severity on a scale for vitiligo below." in page.content.decode()
    assert "t_vasi__hands_hu" in page.context["form"].fields


def test_bad_findings_are_named_and_nothing_changes(client, dr_ada, consultation):
    client.force_login(dr_ada)
    before, audits = _snapshot(consultation), _audits()
    response = client.post(
        _step(consultation, "findings"),
        {"indication": "scar", "fitzpatrick_type": "IX", "severity_scale": "vss", "vss__height": "9"},
    )
    assert response.status_code == 422
    assert "fitzpatrick_type" in response.context["form"].errors
    assert "The findings were not saved." in response.content.decode()
    assert _snapshot(consultation) == before and _audits() == audits


def test_candidacy_runs_the_rules_and_goes_to_the_expectations(client, dr_ada, consultation):
    client.force_login(dr_ada)
    response = client.post(_step(consultation, "candidacy"), CANDIDACY_ANSWERS)
    assert response.status_code == 302 and response["Location"] == _step(consultation, "expectations")
    consultation.refresh_from_db()
    assert consultation.assessment.source == "practitioner"
    assert AuditEvent.objects.filter(action="consultation.assessment").count() == 1
    html = client.get(response["Location"]).content.decode()
    assert "Candidacy outcome:" in html and "Discuss with the patient:" in html


def test_bad_candidacy_answers_are_named_and_nothing_changes(client, dr_ada, consultation):
    client.force_login(dr_ada)
    before, audits = _snapshot(consultation), _audits()
    response = client.post(
        _step(consultation, "candidacy"), {**CANDIDACY_ANSWERS, "age": "-3", "concerns": []}
    )
    assert response.status_code == 422
    assert {"age", "concerns"} <= set(response.context["form"].errors)
    assert "The assessment was not run." in response.content.decode()
    assert _snapshot(consultation) == before and _audits() == audits


def test_expectations_are_recorded_and_go_to_the_alternatives(client, dr_ada, ready):
    Consultation.objects.filter(pk=ready.pk).update(expectations_discussed_at=None)
    client.force_login(dr_ada)
    before, audits = _snapshot(ready), _audits()
    response = client.post(_step(ready, "expectations"), {})
    assert response.status_code == 422
    assert "tick to record" in response.context["form"].errors["discussed"][0]
    assert _snapshot(ready) == before and _audits() == audits
    response = client.post(_step(ready, "expectations"), {"discussed": "on"})
    assert response.status_code == 302 and response["Location"] == _step(ready, "alternatives")
    ready.refresh_from_db()
    assert ready.expectations_discussed_at is not None
    # Saved again, the first record stands.
    discussed = ready.expectations_discussed_at
    assert client.post(_step(ready, "expectations"), {"discussed": "on"}).status_code == 302
    ready.refresh_from_db()
    assert ready.expectations_discussed_at == discussed


def test_expectations_wait_for_the_assessment(client, dr_ada, consultation):
    client.force_login(dr_ada)
    page = client.get(_step(consultation, "expectations"))
    html = page.content.decode()
    assert "not run yet" in html and "Save and continue" not in html
    before, audits = _snapshot(consultation), _audits()
    response = client.post(_step(consultation, "expectations"), {"discussed": "on"})
    assert response.status_code == 422 and "run the candidacy assessment" in response.content.decode()
    assert _snapshot(consultation) == before and _audits() == audits


def test_alternatives_save_and_go_to_the_decision(client, dr_ada, ready):
    client.force_login(dr_ada)
    response = client.post(_step(ready, "alternatives"), {"alternatives_discussed": ["microneedling"]})
    assert response.status_code == 302 and response["Location"] == _step(ready, "decision")
    ready.refresh_from_db()
    assert ready.alternatives_discussed == ["microneedling"]


def test_an_unknown_alternative_is_named_and_nothing_changes(client, dr_ada, ready):
    client.force_login(dr_ada)
    before, audits = _snapshot(ready), _audits()
    response = client.post(_step(ready, "alternatives"), {"alternatives_discussed": ["snake_oil"]})
    assert response.status_code == 422
    assert "alternatives_discussed" in response.context["form"].errors
    assert _snapshot(ready) == before and _audits() == audits


def test_alternatives_before_the_decision_is_open_lead_to_the_overview(client, dr_ada, consultation):
    client.force_login(dr_ada)
    response = client.post(_step(consultation, "alternatives"), {"alternatives_discussed": ["microneedling"]})
    assert response.status_code == 302 and response["Location"] == _overview(consultation)


# The decision --------------------------------------------------------------------------------------


def test_the_decision_step_opens_only_after_the_steps_it_rests_on(client, dr_ada, consultation):
    client.force_login(dr_ada)
    response = client.get(_step(consultation, "decision"))
    assert response.status_code == 302 and response["Location"] == _step(consultation, "findings")
    page = client.get(response["Location"])
    html = page.content.decode()
    assert "The decision opens once these steps are done: Findings and photographs, Candidacy and " in html
    assert f'href="{_step(consultation, "decision")}"' not in html  # not a link in the progress
    assert "Opens after steps 2, 3 and 4" in html
    consultation_update(consultation=consultation, actor=dr_ada, data={"findings": "Examined."})
    response = client.get(_step(consultation, "decision"))
    assert response["Location"] == _step(consultation, "candidacy")


def test_a_decision_posted_before_its_steps_is_refused_by_name(client, dr_ada, consultation):
    client.force_login(dr_ada)
    before, audits = _snapshot(consultation), _audits()
    data = {"decision": "proceed", "therapy_code": THERAPY, "password": PASSWORD}
    response = client.post(_step(consultation, "decision"), data)
    assert response.status_code == 422
    html = response.content.decode()
    assert "The decision was not signed." in html
    for message in ("record the findings first", "run the candidacy assessment", "discuss the expectation"):
        assert message in html
    assert _snapshot(consultation) == before and _audits() == audits and not Signature.objects.exists()


def test_bad_decision_input_is_named_and_nothing_changes(client, dr_ada, ready):
    client.force_login(dr_ada)
    before, audits = _snapshot(ready), _audits()
    response = client.post(_step(ready, "decision"), {"decision": "refer", "password": PASSWORD})
    assert response.status_code == 422
    assert "say where and why" in response.context["form"].errors["decision_notes"][0]
    response = client.post(_step(ready, "decision"), {"decision": "maybe", "password": PASSWORD})
    assert response.status_code == 422 and "decision" in response.context["form"].errors
    assert _snapshot(ready) == before and _audits() == audits


def test_signing_goes_to_the_overview_with_the_consent_panel(client, dr_ada, ready):
    client.force_login(dr_ada)
    data = {"decision": "proceed", "therapy_code": THERAPY, "password": PASSWORD}
    response = client.post(_step(ready, "decision"), data)
    assert response.status_code == 302 and response["Location"] == _overview(ready)
    ready.refresh_from_db()
    assert ready.status == "decided" and AuditEvent.objects.filter(action="consultation.decide").count() == 1
    page = client.get(_overview(ready))
    html = page.content.decode()
    assert "The decision is signed." in html and "Authored" in html
    assert "Prepare consent" in html  # the consents panel, in the consultation slot
    states = {s.name: s.state for s in page.context["progress"]}
    assert states == dict.fromkeys(STEP_NAMES, "done") | {"alternatives": "to_do"}


def test_a_decided_consultation_reads_every_step_and_changes_no_more(client, dr_ada, decided):
    client.force_login(dr_ada)
    before, audits = _snapshot(decided), _audits()
    for name in STEP_NAMES:
        page = client.get(_step(decided, name))
        assert page.status_code == 200 and "Save and continue" not in page.content.decode()
        response = client.post(_step(decided, name), {"goals": "Changed", "discussed": "on"})
        assert response.status_code == 422
        assert "cannot be changed" in response.content.decode()
    assert _snapshot(decided) == before and _audits() == audits
    assert "Authored" in client.get(_step(decided, "decision")).content.decode()


# The overview --------------------------------------------------------------------------------------


def test_the_overview_lists_each_steps_state_and_links_to_it(client, dr_ada, consultation):
    client.force_login(dr_ada)
    page = client.get(_overview(consultation))
    html = page.content.decode()
    assert html.count("<h1") == 1
    assert [(s.name, s.state) for s in page.context["progress"]] == [(name, "to_do") for name in STEP_NAMES]
    for name in STEP_NAMES[:-1]:
        assert f'href="{_step(consultation, name)}"' in html
    assert f'href="{_step(consultation, "decision")}"' not in html
    assert "Continue: Patient&#x27;s goals" in html
    client.post(_step(consultation, "goals"), {"goals": "Smoother", "target_areas": ""})
    page = client.get(_overview(consultation))
    assert [s.state for s in page.context["progress"]][:2] == ["done", "to_do"]
    assert "Continue: Findings and photographs" in page.content.decode()


def test_the_overview_queries_are_pinned(client, dr_ada, ready, django_assert_num_queries):
    client.force_login(dr_ada)
    client.get(_overview(ready))
    with django_assert_num_queries(8):
        assert client.get(_overview(ready)).status_code == 200

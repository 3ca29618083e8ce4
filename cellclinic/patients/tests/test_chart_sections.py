"""The chart's summary header and its sections: /patients/<id>/?section=<name> and, for htmx,
/patients/<id>/section/<name>/."""

import re

import pytest
from django.utils import timezone

from cellclinic.audit.models import AccessEvent
from cellclinic.core import plugs
from cellclinic.demo.builder import at_stage
from cellclinic.patients.services import patient_update
from cellclinic.patients.tests.helpers import assert_no_patient_data
from cellclinic.treatment.models import PlanStep
from conftest import PASSWORD

pytestmark = pytest.mark.django_db

SECTIONS = ("overview", "consultations", "consents", "plan", "record", "history")
HTMX = {"HX-Request": "true"}
# Every chart page (see test_detail.py): session, user, memberships, the patient, the read logged, the
# four stages reported for the header, and the two counts beside the navigation links.
HEADER = 11


def _section_url(patient, name: str) -> str:
    return f"/patients/{patient.pk}/section/{name}/"


def _chart_url(patient, name: str) -> str:
    return f"/patients/{patient.pk}/?section={name}"


def _tab_of(body: str, name: str) -> str:
    match = re.search(rf'<a id="chart-tab-{name}"[^>]*>', body)
    assert match, f"no tab {name}"
    return match.group(0)


def _chart_reads(patient) -> list[tuple[str, str]]:
    events = AccessEvent.objects.filter(action="patient.view", patient_id=patient.pk).order_by("id")
    return [(event.object_id, event.details.get("section")) for event in events]


# The tabs ------------------------------------------------------------------------------------------


def test_the_first_view_has_every_tab_and_opens_the_overview(client, dr_ada, patient_a):
    client.force_login(dr_ada)
    body = client.get(f"/patients/{patient_a.pk}/").content.decode()
    assert body.count("<h1>") == 1
    for name in SECTIONS:
        tab = _tab_of(body, name)
        assert f'href="/patients/{patient_a.pk}/?section={name}"' in tab
        assert f'hx-get="/patients/{patient_a.pk}/section/{name}/"' in tab
        assert 'hx-target="#chart-body"' in tab
        assert ('aria-current="page"' in tab) == (name == "overview")
    assert 'aria-labelledby="h-skin"' in body and 'aria-labelledby="h-screening"' in body
    # What other sections hold is not read or shown.
    assert "h-demographics" not in body and "h-changes" not in body and "h-consultations" not in body


@pytest.mark.parametrize(
    ("name", "heading"),
    [
        ("overview", 'id="h-skin"'),
        ("consultations", 'id="h-consultations"'),
        ("consents", 'id="h-consents"'),
        ("plan", 'id="h-treatment"'),
        ("record", 'id="h-demographics"'),
        ("history", 'id="h-changes"'),
    ],
)
def test_htmx_gets_the_tabs_and_the_section_alone(client, dr_ada, patient_a, name, heading):
    client.force_login(dr_ada)
    response = client.get(_section_url(patient_a, name), headers=HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert "HX-Request" in response["Vary"]
    assert "<html" not in body and "<h1>" not in body and "h-alerts" not in body
    assert heading in body
    assert 'aria-current="page"' in _tab_of(body, name)
    assert body.count('aria-current="page"') == 1


@pytest.mark.parametrize("name", SECTIONS)
def test_without_javascript_each_tab_is_the_whole_page_with_its_section(client, dr_ada, patient_a, name):
    client.force_login(dr_ada)
    for url in (_chart_url(patient_a, name), _section_url(patient_a, name)):
        body = client.get(url).content.decode()
        assert "<h1>Grace HOPPER</h1>" in body
        assert 'id="h-alerts"' in body and 'id="h-stage"' in body
        assert 'aria-current="page"' in _tab_of(body, name)


@pytest.mark.parametrize("url", ["/patients/{pk}/?section=photographs", "/patients/{pk}/section/nothing/"])
def test_an_unknown_section_is_not_found_and_not_logged(client, dr_ada, patient_a, url):
    client.force_login(dr_ada)
    assert client.get(url.format(pk=patient_a.pk)).status_code == 404
    assert _chart_reads(patient_a) == []


def test_a_tab_without_panels_is_not_offered(client, dr_ada, patient_a):
    client.force_login(dr_ada)
    body = client.get(f"/patients/{patient_a.pk}/").content.decode()
    assert "chart-tab-photos" not in body
    assert client.get(_section_url(patient_a, "photos")).status_code == 404


def test_only_the_panels_of_the_open_section_compute_their_context(client, dr_ada, patient_a, monkeypatch):
    asked = []
    monkeypatch.setattr(plugs, "_PANELS", {slot: dict(panels) for slot, panels in plugs._PANELS.items()})
    plugs.register_panel(
        "chart",
        "probe",
        template="patients/_chart_overview.html",
        context=lambda request, patient: asked.append(patient.pk),
        section="plan",
    )
    client.force_login(dr_ada)
    client.get(f"/patients/{patient_a.pk}/")
    client.get(_section_url(patient_a, "history"), headers=HTMX)
    assert asked == []
    client.get(_section_url(patient_a, "plan"), headers=HTMX)
    assert asked == [patient_a.pk]


# Who may read a section --------------------------------------------------------------------------


@pytest.mark.parametrize("user", ["dr_ada", "nurse_bo", "admin_al"])
def test_every_section_is_logged_as_a_read_of_the_patient(client, request, user, patient_a):
    client.force_login(request.getfixturevalue(user))
    for name in SECTIONS:
        assert client.get(_section_url(patient_a, name), headers=HTMX).status_code == 200
    assert client.get(_chart_url(patient_a, "history")).status_code == 200
    assert _chart_reads(patient_a) == [(str(patient_a.pk), name) for name in (*SECTIONS, "history")]


@pytest.mark.parametrize("user", ["dr_cy", "lab_li", "qa_quinn", "pat"])
@pytest.mark.parametrize("name", SECTIONS)
def test_no_section_is_shown_to_another_clinic_the_lab_or_the_patient(client, request, user, patient_a, name):
    client.force_login(request.getfixturevalue(user))
    for url in (_section_url(patient_a, name), _chart_url(patient_a, name)):
        response = client.get(url, headers=HTMX)
        assert response.status_code == 404
        assert_no_patient_data(response, patient_a, names=user != "pat")
    assert _chart_reads(patient_a) == []


def test_a_section_of_a_missing_patient_is_not_found(client, dr_ada, patient_a):
    client.force_login(dr_ada)
    assert (
        client.get(_section_url(patient_a, "history").replace(str(patient_a.pk), "99999")).status_code == 404
    )


def test_anonymous_visitors_are_sent_to_sign_in(client, patient_a):
    response = client.get(_section_url(patient_a, "record"))
    assert response.status_code == 302
    assert response["Location"].startswith("/sign-in/?next=")


# The header --------------------------------------------------------------------------------------


def test_the_header_names_the_patient_and_their_clinic(client, dr_ada, patient_a):
    client.force_login(dr_ada)
    body = client.get(f"/patients/{patient_a.pk}/").content.decode()
    assert "<h1>Grace HOPPER</h1>" in body
    assert f'<span class="mono">{patient_a.mrn}</span>' in body
    assert '<time datetime="1980-12-09">9 December 1980</time>' in body
    assert "North Clinic" in body


def test_the_header_alerts_what_matters_for_treatment(client, dr_ada, patient_a):
    patient_update(
        patient=patient_a,
        actor=dr_ada,
        data={
            "history": [
                "herpes_labialis",
                "bleeding_disorder_or_anticoagulants",
                "pregnant_or_breastfeeding",
            ],
            "allergies": ["anaesthetic", "antibiotic"],
        },
        reason="Corrected at the visit",
    )
    client.force_login(dr_ada)
    response = client.get(f"/patients/{patient_a.pk}/")
    assert response.context["alerts"] == [
        ("history", "Pregnant or breastfeeding"),
        ("history", "Bleeding disorder, or takes anticoagulants, aspirin or NSAIDs"),
        ("history", "Cold sores (herpes labialis)"),
        ("allergy", "Local anaesthetic or adrenaline"),
        ("allergy", "Antibiotics (gentamicin, amphotericin, vancomycin, amikacin)"),
    ]
    alerts = response.content.decode().split('id="h-alerts"')[1].split("</section>")[0]
    assert "Cold sores (herpes labialis)" in alerts
    assert "Allergy</span> Local anaesthetic or adrenaline" in alerts


def test_the_header_says_when_nothing_is_alerted(client, dr_ada, patient_a):
    client.force_login(dr_ada)
    body = client.get(f"/patients/{patient_a.pk}/").content.decode()
    assert "No history or allergy that matters for treatment is recorded." in body
    assert '<p class="chart-stage-now">Registered</p>' in body
    assert "Next: a consultation" in body


@pytest.mark.parametrize(
    ("stage", "now", "next_step"),
    [
        ("consultation_open", "Consultation in progress", "Decision to sign"),
        ("decided", "Decided to proceed", "Prepare consent"),
        ("consent_prepared", "Consent prepared", "The patient signs the consent"),
        ("patient_signed", "Consent signed by the patient", "The practitioner countersigns"),
        ("consent_signed", "Consent signed", "Make the treatment plan"),
        ("withdrawn", "Consent withdrawn", ""),
    ],
)
def test_the_header_shows_the_furthest_stage_and_the_next_step(
    client, dr_ada, patient_a, stage, now, next_step
):
    at_stage(stage, patient=patient_a, practitioner=dr_ada, password=PASSWORD)
    client.force_login(dr_ada)
    response = client.get(f"/patients/{patient_a.pk}/")
    reported = response.context["stage"]
    assert reported.label.startswith(now)
    assert reported.next_step == next_step
    assert now in response.content.decode()


def test_a_decision_not_to_proceed_has_no_next_step(client, dr_ada, patient_a):
    at_stage("decided", patient=patient_a, practitioner=dr_ada, password=PASSWORD, decision="decline")
    client.force_login(dr_ada)
    reported = client.get(f"/patients/{patient_a.pk}/").context["stage"]
    assert (reported.label, reported.next_step) == ("Decided: Decline treatment", "")


def test_with_a_plan_the_header_shows_its_next_step_and_date(client, dr_ada, patient_a):
    pathway = at_stage("planned", patient=patient_a, practitioner=dr_ada, password=PASSWORD)
    step = (
        PlanStep.objects.filter(plan__consent=pathway.consent, due_date__gte=timezone.localdate())
        .order_by("due_date", "sequence")
        .first()
    )
    client.force_login(dr_ada)
    response = client.get(f"/patients/{patient_a.pk}/")
    reported = response.context["stage"]
    assert (reported.label, reported.next_step, reported.next_date) == (
        "Treatment plan active",
        step.label,
        step.due_date,
    )
    assert f'<time datetime="{step.due_date:%Y-%m-%d}">' in response.content.decode()


# Queries, flat as the pathway grows ----------------------------------------------------------------

# Beyond the header's: the consultations (with their practitioner); the consents; the plans, their
# steps and the consultations ready for a plan, the plans waiting for a harvest or a bedside check,
# and the lab's specimens and products; the signatures and the audit events.
SECTION_QUERIES = {"overview": 0, "consultations": 1, "consents": 1, "plan": 6, "record": 0, "history": 2}


@pytest.mark.parametrize("name", SECTIONS)
def test_each_section_runs_a_pinned_number_of_queries_however_long_the_pathway(
    client, dr_ada, patient_a, django_assert_num_queries, name
):
    client.force_login(dr_ada)
    for size in (2, 20):
        while patient_a.consultations.count() < size:
            at_stage("planned", patient=patient_a, practitioner=dr_ada, password=PASSWORD)
        # The header reads the next step of the plan under way as well.
        with django_assert_num_queries(HEADER + 1 + SECTION_QUERIES[name]):
            assert client.get(_chart_url(patient_a, name)).status_code == 200
        # htmx asks for the section alone: no header, so no stages, and no counts beside the links.
        with django_assert_num_queries(HEADER - 6 + SECTION_QUERIES[name]):
            assert client.get(_section_url(patient_a, name), headers=HTMX).status_code == 200

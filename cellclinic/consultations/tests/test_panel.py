"""The chart's panels from consultations and consent: lists for those who may see them, a start button."""

import pytest
from django.test import RequestFactory

from cellclinic.core import plugs

pytestmark = pytest.mark.django_db


def _render(patient, user, key: str | None = None) -> str:
    """The chart's panels for USER (or only the panel KEY), as the chart page renders them."""
    request = RequestFactory().get("/")
    request.user = user
    if key is not None:
        return plugs.render_panel("chart", key, request, patient)
    return "".join(plugs.render_panels("chart", request, patient))


def test_the_chart_lists_consultations_and_consents(consent, dr_ada, patient_a):
    html = _render(patient_a, dr_ada)
    assert "Start consultation" in html
    assert f"/consultations/{consent.consultation_id}/" in html
    assert f"/consents/{consent.pk}/" in html and f"/consents/{consent.pk}/pdf/" in html
    assert "Waiting for the patient" in html and "Ada Okafor" in html


def test_panels_come_in_their_registered_order():
    keys = [panel.key for panel in plugs.panels_in("chart")]
    assert keys.index("consultations") < keys.index("consents") < keys.index("treatment")


def test_a_nurse_sees_the_list_without_the_start_button(consultation, nurse_bo, patient_a):
    html = _render(patient_a, nurse_bo)
    assert "Start consultation" not in html and f"/consultations/{consultation.pk}/" in html


def test_nothing_for_staff_of_another_clinic(consent, dr_cy, patient_a):
    html = _render(patient_a, dr_cy)
    assert html == ""


def test_nothing_for_a_portal_patient(consent, pat, patient_a):
    assert _render(patient_a, pat) == ""


def test_queries_do_not_grow_with_rows(patient_a, dr_ada, django_assert_max_num_queries):
    from cellclinic.consultations.services import consultation_start

    consultation_start(patient=patient_a, actor=dr_ada)
    _render(patient_a, dr_ada, "consultations")  # roles are cached on the user after the first render
    with django_assert_max_num_queries(1):
        _render(patient_a, dr_ada, "consultations")
    for _ in range(12):
        consultation_start(patient=patient_a, actor=dr_ada)
    with django_assert_max_num_queries(1):
        html = _render(patient_a, dr_ada, "consultations")
    assert "The most recent consultations are shown" in html

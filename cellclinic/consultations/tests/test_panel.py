"""The chart panel: consultations and consents of the patient, a start button for those who may."""

import pytest
from django.template import Context, Template

pytestmark = pytest.mark.django_db

PANEL = Template("{% load consultation_tags %}{% consultations_panel patient user %}")


def _render(patient, user) -> str:
    return PANEL.render(Context({"patient": patient, "user": user}))


def test_it_lists_consultations_and_consents(consent, dr_ada, patient_a):
    html = _render(patient_a, dr_ada)
    assert "Start consultation" in html
    assert f"/consultations/{consent.consultation_id}/" in html
    assert f"/consents/{consent.pk}/" in html and f"/consents/{consent.pk}/pdf/" in html
    assert "Waiting for the patient" in html and "Ada Okafor" in html
    assert "Autologous fibroblast injection" in html or "acne" in html.lower()


def test_a_nurse_sees_the_list_without_the_start_button(consultation, nurse_bo, patient_a):
    html = _render(patient_a, nurse_bo)
    assert "Start consultation" not in html and f"/consultations/{consultation.pk}/" in html


def test_nothing_for_staff_of_another_clinic(consultation, dr_cy, patient_a):
    html = _render(patient_a, dr_cy)
    assert "Start consultation" not in html and f"/consultations/{consultation.pk}/" not in html


def test_queries_do_not_grow_with_rows(patient_a, dr_ada, django_assert_max_num_queries):
    from cellclinic.consultations.services import consultation_start

    consultation_start(patient=patient_a, actor=dr_ada)
    _render(patient_a, dr_ada)  # roles are cached on the user after the first render
    with django_assert_max_num_queries(2):
        _render(patient_a, dr_ada)
    for _ in range(12):
        consultation_start(patient=patient_a, actor=dr_ada)
    with django_assert_max_num_queries(2):
        html = _render(patient_a, dr_ada)
    assert "The most recent consultations are shown" in html

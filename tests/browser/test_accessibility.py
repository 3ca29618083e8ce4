"""Every page a clinician uses: labelled controls, one heading, keyboard entry, and a tablet-sized fit."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cellclinic.candidacy.tests.helpers import HEALTHY
from conftest import PASSWORD
from tests.browser.conftest import set_up_code, sign_in

pytestmark = pytest.mark.browser

UNLABELLED_CONTROLS = """
() => Array.from(document.querySelectorAll('input, select, textarea'))
  .filter(el => el.type !== 'hidden' && el.offsetParent !== null)
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                && !el.getAttribute('aria-labelledby'))
  .map(el => el.outerHTML.slice(0, 120))
"""
OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"
# Two elements with one id: a label (or aria reference) can point at only the first of them.
DUPLICATE_IDS = """
() => { const seen = new Set(), twice = new Set();
  for (const el of document.querySelectorAll('[id]')) { (seen.has(el.id) ? twice : seen).add(el.id); }
  return Array.from(twice); }
"""


# The steps of an open consultation before its decision (which opens once the steps it rests on are done).
OPEN_STEPS = ("goals", "findings", "candidacy", "expectations", "alternatives")


def check_page(page, path):
    response = page.goto(path)
    assert response.status == 200, path
    assert page.evaluate(UNLABELLED_CONTROLS) == [], f"unlabelled controls on {path}"
    assert page.evaluate(DUPLICATE_IDS) == [], f"ids used twice on {path}"
    assert page.locator("h1").count() == 1, f"{path} should have exactly one h1"
    assert page.evaluate(OVERFLOW) <= 0, f"{path} scrolls sideways on a tablet"
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent.trim()") == "Skip to content", path


def test_practitioner_pages_are_accessible_on_a_tablet(page, dr_ada, patient_a):
    page.set_viewport_size({"width": 768, "height": 1024})
    sign_in(page, "ada", PASSWORD)
    for path in (
        "/",
        "/patients/",
        "/patients/?q=hopper",
        f"/patients/{patient_a.pk}/",
        f"/patients/{patient_a.pk}/edit/",
        "/patients/new/",
        "/catalogue/",
        "/catalogue/autologous_skin_cell_suspension/",
    ):
        check_page(page, path)


def test_clinic_admin_pages_are_accessible_on_a_tablet(page, admin_al, nurse_bo, patient_a):
    page.set_viewport_size({"width": 768, "height": 1024})
    sign_in(page, "al", PASSWORD)
    for path in (
        "/audit/",
        f"/audit/?patient={patient_a.mrn}",
        "/staff/",
        "/staff/new/",
        f"/staff/{nurse_bo.pk}/",
        "/account/",
    ):
        check_page(page, path)


def test_the_sign_in_page_works_from_the_keyboard(page, dr_ada):
    page.goto("/sign-in/")
    expect(page.get_by_label("Username")).to_be_focused()  # focus is on the username on arrival
    page.keyboard.type("ada")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    # A staff member's first sign-in sets up the second factor; its code field has the focus too.
    expect(page.locator("h1")).to_contain_text("Set up two-factor sign-in")
    expect(page.get_by_label("Code")).to_be_focused()
    page.keyboard.type(set_up_code(page, "ada"))
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_contain_text("Two-factor sign-in is set up")
    page.get_by_role("link", name="I have kept my recovery codes — continue").click()
    expect(page.locator("h1")).to_contain_text("Good to see you")


# The pathway: the public self-assessment, enquiries, consultation, consent, plan and the portal ----------

PHONE = {"width": 375, "height": 812}
TABLET = {"width": 768, "height": 1024}
FIT_AND_WELL = HEALTHY


def _vitiligo_answers(**health) -> dict:
    return {
        "concerns": ["vitiligo"],
        "area": "face",
        "age": 34,
        "health": {**FIT_AND_WELL, **health},
        "condition": {
            "patches_diagnosed": True,
            "vitiligo_stable_months": 18,
            "vitiligo_treatments_tried": True,
        },
        "expectation": "gradual_improvement",
    }


def _pathway(patient, practitioner):
    """Records along the pathway, made through the services as the pages would make them."""
    from cellclinic.candidacy.services import assessment_run, chart_answers, enquiry_create
    from cellclinic.consents import services as consents
    from cellclinic.consultations import services as consultations

    assessment = assessment_run(answers=_vitiligo_answers(), source="public")
    enquiry = enquiry_create(
        assessment=assessment,
        data={
            "name": "Jo Rivers",
            "email": "jo.rivers@example.org",
            "site": patient.site,
            "preferred_times": "Weekday mornings",
            "consent_to_contact": True,
        },
    )
    # An open consultation shows each step's form; a decided one leads to consent and a plan.
    open_one = consultations.consultation_start(patient=patient, actor=practitioner)
    consultations.consultation_update(
        consultation=open_one, actor=practitioner, data={"indication": "vitiligo", "target_areas": ["face"]}
    )
    decided = consultations.consultation_start(patient=patient, actor=practitioner, enquiry=enquiry)
    consultations.consultation_update(
        consultation=decided,
        actor=practitioner,
        data={
            "indication": "vitiligo",
            "severity_scale": "f_vasi",
            "severity_items": {"face_hu": 1.6, "face_depigmentation": 50},
        },
    )
    answers = chart_answers(patient, concerns=["vitiligo"], area="face", expectation="gradual_improvement")
    answers["health"] = dict(FIT_AND_WELL)
    answers["condition"].update(
        patches_diagnosed=True, vitiligo_stable_months=18, vitiligo_treatments_tried=True
    )
    consultations.consultation_assessment_run(consultation=decided, actor=practitioner, answers=answers)
    consultations.consultation_expectations_discussed(consultation=decided, actor=practitioner)
    consultations.consultation_decide(
        consultation=decided,
        actor=practitioner,
        password=PASSWORD,
        decision="proceed",
        therapy_code="autologous_skin_cell_suspension",
    )
    consent = consents.consent_prepare(consultation=decided, actor=practitioner)
    return {
        "assessment": assessment,
        "enquiry": enquiry,
        "open": open_one,
        "decided": decided,
        "consent": consent,
    }


def _sign_and_plan(consent, patient_user, practitioner):
    from cellclinic.consents import services as consents
    from cellclinic.treatment.services import plan_create

    consents.consent_patient_sign(
        consent=consent,
        signer=patient_user,
        password=PASSWORD,
        photographs=True,
        outcome_reports=False,
        understood=True,
    )
    consents.consent_countersign(consent=consent, practitioner=practitioner, password=PASSWORD)
    harvest = timezone.localdate() + timedelta(days=7)
    return plan_create(consultation=consent.consultation, actor=practitioner, harvest_date=harvest)


@pytest.mark.parametrize("size", [PHONE, TABLET], ids=["phone", "tablet"])
def test_the_public_self_assessment_is_accessible(page, clinic_a, size):
    from cellclinic.candidacy.services import assessment_run

    suitable = assessment_run(answers=_vitiligo_answers(), source="public")
    not_suitable = assessment_run(answers=_vitiligo_answers(pregnant_or_breastfeeding=True), source="public")
    page.set_viewport_size(size)
    for path in (
        "/assess/",
        f"/assess/result/{suitable.public_id}/",
        f"/assess/result/{not_suitable.public_id}/",
        f"/assess/result/{suitable.public_id}/request/",
        f"/assess/result/{suitable.public_id}/request/sent/",
    ):
        check_page(page, path)


def test_the_pathway_pages_are_accessible_for_staff_on_a_tablet(page, dr_ada, patient_a, pat):
    records = _pathway(patient_a, dr_ada)
    enquiry, consent = records["enquiry"], records["consent"]
    page.set_viewport_size(TABLET)
    sign_in(page, "ada", PASSWORD)
    for path in (
        "/enquiries/",
        "/enquiries/?status=booked",
        f"/enquiries/{enquiry.pk}/",
        f"/enquiries/{enquiry.pk}/register/",
        f"/consultations/start/{patient_a.pk}/?enquiry={enquiry.pk}",
        f"/consultations/{records['open'].pk}/",
        *(f"/consultations/{records['open'].pk}/step/{name}/" for name in OPEN_STEPS),
        f"/consultations/{records['open'].pk}/photos/",
        f"/consultations/{records['decided'].pk}/",
        f"/consultations/{records['decided'].pk}/step/candidacy/",
        f"/consultations/{records['decided'].pk}/step/decision/",
        f"/consultations/{records['decided'].pk}/consent/new/",
        f"/consents/{consent.pk}/",
        f"/consents/{consent.pk}/sign-in-clinic/",
        f"/patients/{patient_a.pk}/",
    ):
        check_page(page, path)
    plan = _sign_and_plan(consent, pat, dr_ada)
    for path in (
        f"/consents/{consent.pk}/",
        f"/consents/{consent.pk}/withdraw/",
        f"/plans/{plan.pk}/",
        f"/patients/{patient_a.pk}/",
    ):
        check_page(page, path)


@pytest.mark.parametrize("size", [PHONE, TABLET], ids=["phone", "tablet"])
def test_the_pathway_pages_are_accessible_for_the_patient(page, dr_ada, patient_a, pat, size):
    consent = _pathway(patient_a, dr_ada)["consent"]
    page.set_viewport_size(size)
    sign_in(page, "pat", PASSWORD)
    for path in ("/patients/portal/", f"/consents/{consent.pk}/", f"/consents/{consent.pk}/sign/"):
        check_page(page, path)
    _sign_and_plan(consent, pat, dr_ada)
    for path in ("/patients/portal/", f"/consents/{consent.pk}/", f"/consents/{consent.pk}/withdraw/"):
        check_page(page, path)

"""A practitioner completes a consultation step by step, on a desktop and on a phone: one form and one save
a step, the progress marked, errors named, every step labelled, keyboard-reachable and fitting the screen."""

import re

import pytest
from playwright.sync_api import expect

from cellclinic.consultations.models import Consultation
from conftest import PASSWORD
from tests.browser.conftest import sign_in
from tests.browser.test_accessibility import DUPLICATE_IDS, OVERFLOW, UNLABELLED_CONTROLS

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 812}
THERAPY = "Autologous cultured fibroblast injection for acne scars"
HEALTH_QUESTIONS = (
    "Pregnant or breastfeeding",
    "Active skin infection at the area to treat",
    "Immunosuppression or chemotherapy",
    "Bleeding disorder, or takes blood thinners",
    "Keloid or raised (hypertrophic) scarring",
    "Skin cancer at the area, or any cancer",
    "Genetic collagen disorder (Ehlers-Danlos, Marfan, ...)",
    "Allergy to local anaesthetic",
    "Allergy to antiseptics, antibiotics, DMSO, animal material or trypsin",
    "Cold sores",
)


def _check_step(page, title: str, number: int) -> None:
    """The step's page: its title the one h1, its place in the progress, labelled inputs, one form with one
    save, nothing wider than the screen, and the skip link first from the keyboard."""
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    assert page.locator("h1").count() == 1
    progress = page.get_by_role("navigation", name="Consultation steps")
    current = progress.locator('[aria-current="step"]')
    expect(current).to_have_count(1)
    expect(current).to_contain_text(title)
    expect(progress.get_by_role("listitem")).to_have_count(6)
    expect(page.get_by_text(f"step {number} of 6")).to_be_visible()
    assert page.evaluate(UNLABELLED_CONTROLS) == [], f"unlabelled controls on {title}"
    assert page.evaluate(DUPLICATE_IDS) == [], f"ids used twice on {title}"
    assert page.evaluate(OVERFLOW) <= 0, f"{title} scrolls sideways"
    step = page.get_by_role("region", name=title)
    expect(step.locator("form")).to_have_count(1)
    expect(step.get_by_role("button")).to_have_count(1)
    page.locator("body").focus()
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent.trim()") == "Skip to content"


def _save(page) -> None:
    page.get_by_role("button", name="Save and continue").click()


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_consultation_is_completed_step_by_step(page, dr_ada, patient_a, size):
    page.set_viewport_size(size)
    sign_in(page, "ada", PASSWORD)
    page.goto(f"/consultations/start/{patient_a.pk}/")
    page.get_by_role("button", name="Start consultation").click()

    # 1. The patient's goals, saved from the keyboard.
    _check_step(page, "Patient's goals", 1)
    progress = page.get_by_role("navigation", name="Consultation steps")
    expect(progress.get_by_role("listitem").last).to_contain_text("Opens after steps 2, 3 and 4")
    expect(progress.get_by_role("link", name=re.compile("Decision"))).to_have_count(0)
    goals = page.get_by_label("The patient's goals, in their own words")
    goals.focus()
    page.keyboard.type("Smoother skin on the chin.")
    page.keyboard.press("Tab")
    page.keyboard.type("chin")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Save and continue")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_text("The patient's goals are saved.")).to_be_visible()

    # 2. Findings: a bad item is named next to its input and nothing moves on.
    _check_step(page, "Findings and photographs", 2)
    expect(progress.locator("li").first).to_contain_text("Done")
    expect(page.get_by_label("Indication")).to_have_value("scar")
    page.get_by_label("Severity scale").select_option("vss")
    for item, value in (("Vascularity", "1"), ("Pigmentation", "1"), ("Pliability", "2")):
        page.get_by_label(item, exact=True).first.select_option(value)
    page.get_by_label("Findings", exact=True).fill("Atrophic acne scars on the chin.")
    _save(page)
    expect(page.get_by_text("The findings were not saved.")).to_be_visible()
    expect(page.get_by_text("missing: give a value from 0 to 3")).to_be_visible()
    _check_step(page, "Findings and photographs", 2)
    page.get_by_label("Height", exact=True).first.select_option("1")
    _save(page)
    expect(page.get_by_text("The findings are saved.")).to_be_visible()

    # 3. Candidacy: the answers prefilled from the chart, checked with the patient.
    _check_step(page, "Candidacy", 3)
    page.get_by_label("Generally fit and healthy").select_option("yes")
    for question in HEALTH_QUESTIONS:
        page.get_by_label(question, exact=True).select_option("no")
    page.get_by_label("Wound or burn still open").select_option("no")
    page.get_by_label("Months since the injury").fill("24")
    _save(page)
    expect(page.get_by_text("The candidacy assessment is recorded with your answers.")).to_be_visible()

    # 4. Expectations: not ticked is named; ticked is recorded.
    _check_step(page, "Expectations", 4)
    expect(page.get_by_role("heading", name="Discuss with the patient:")).to_be_visible()
    _save(page)
    expect(page.get_by_text("tick to record that the sheet was discussed")).to_be_visible()
    page.get_by_label("The expectation sheet was discussed with the patient").check()
    _save(page)
    expect(
        page.get_by_text("Recorded: the expectation sheet was discussed with the patient.")
    ).to_be_visible()

    # 5. Alternatives.
    _check_step(page, "Alternatives", 5)
    page.get_by_label("Microneedling").check()
    _save(page)
    expect(page.get_by_text("The alternatives discussed are saved.")).to_be_visible()

    # 6. The decision, signed with the password.
    expect(page.get_by_role("heading", level=1)).to_have_text("Decision")
    assert page.evaluate(UNLABELLED_CONTROLS) == [] and page.evaluate(OVERFLOW) <= 0
    expect(progress.locator("li.is-complete")).to_have_count(5)
    page.get_by_label("Proceed with a cell therapy").check()
    page.get_by_label("Therapy (when proceeding)").select_option(label=THERAPY)
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Sign the decision").click()
    expect(page.get_by_text("The decision is signed.")).to_be_visible()

    # The overview: every step done, the signed decision, and consent to prepare next.
    expect(page.get_by_role("heading", level=1)).to_have_text("Consultation")
    assert page.evaluate(OVERFLOW) <= 0 and page.evaluate(DUPLICATE_IDS) == []
    expect(page.get_by_role("navigation", name="Consultation steps").locator("li.is-complete")).to_have_count(
        6
    )
    expect(page.get_by_role("region", name="6. Decision")).to_contain_text(THERAPY)
    expect(page.get_by_role("link", name="Prepare consent")).to_be_visible()
    consultation = Consultation.objects.get(patient=patient_a)
    assert consultation.status == "decided" and consultation.alternatives_discussed == ["microneedling"]
    assert consultation.goals == "Smoother skin on the chin." and consultation.target_areas == ["chin"]

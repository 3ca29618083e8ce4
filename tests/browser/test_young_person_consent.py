"""A young person in a real browser: a 16-year-old's self-assessment on a phone leads to a practitioner,
with a parent or guardian, never to "suitable"; at the clinic, the consent is signed by a parent with
the young person's assent, and the practitioner countersigns."""

import re

import pytest
from playwright.sync_api import expect

from cellclinic.audit.models import Signature
from cellclinic.candidacy.models import Assessment
from cellclinic.consents.models import Consent
from cellclinic.consents.services import ASSENT_REQUIRED
from cellclinic.demo.builder import at_stage
from conftest import PASSWORD
from tests.browser.conftest import SCREENING_QUESTIONS, sign_in

pytestmark = pytest.mark.browser


PHONE = {"width": 375, "height": 812}


def test_a_16_year_old_is_sent_to_a_practitioner_with_a_parent_or_guardian(page, db):
    page.set_viewport_size(PHONE)
    page.goto("/assess/")

    page.get_by_label("Scarring (for example from acne, an injury or surgery)").check()
    page.get_by_label("Where on your body?").select_option("face")
    page.get_by_label("Your age in years").fill("16")
    page.get_by_role("group", name="Are you generally fit and healthy?").get_by_label(
        "Yes", exact=True
    ).check()
    for question in SCREENING_QUESTIONS:
        page.get_by_role("group", name=question, exact=True).get_by_label("No", exact=True).check()
    page.get_by_role("group", name=re.compile("Is the skin still open")).get_by_label(
        "No", exact=True
    ).check()
    page.get_by_label(re.compile("How many months ago did the injury")).fill("30")
    page.get_by_role("group", name="What are you hoping for?").get_by_label(
        "A gradual improvement over months"
    ).check()
    page.get_by_role("button", name="See my result").click()

    expect(page).to_have_url(re.compile(r"/assess/result/[0-9a-f-]+/$"))
    expect(page.locator(".candidacy-outcome")).to_have_text("A practitioner needs to talk with you first")
    reasons = page.locator(".candidacy-reasons")
    expect(reasons).to_contain_text("You are under 18. A parent or guardian takes part in every decision")
    # The trial product for acne scars is for adults: named as not an option, with the reason.
    excluded = page.locator(".candidacy-excluded")
    expect(excluded).to_contain_text("18 and over")
    expect(page.locator("main")).not_to_contain_text("You may be a suitable candidate")
    expect(page.locator("main")).not_to_contain_text(re.compile(r"\[S\d+|nverified|Rule set"))
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the result scrolls sideways on a phone ({width}px)"

    assessment = Assessment.objects.get()
    assert assessment.outcome == "consult"
    assert assessment.answers["age"] == 16


@pytest.fixture
def young_persons_consent(clinic_a, dr_ada):
    """A 16-year-old with a burn, seen by dr_ada: the consent is prepared and waits to be signed."""
    pathway = at_stage(
        "consent_prepared",
        site=clinic_a,
        practitioner=dr_ada,
        password=PASSWORD,
        age=16,
        concerns=["burn"],
        enquiry_data={"name": "Ada Lovelace"},
    )
    assert pathway.consent.minor
    return pathway.consent


def _choose(page, question: str, answer: str) -> None:
    page.get_by_role("group", name=question).get_by_label(answer, exact=True).check()


def test_a_parent_consents_with_the_young_persons_assent_and_the_practitioner_countersigns(
    page, dr_ada, young_persons_consent
):
    consent = young_persons_consent
    sign_in(page, dr_ada.username, PASSWORD)
    page.goto(f"/consents/{consent.pk}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Consent to treatment")
    expect(page.get_by_role("heading", name="Consent for a young person under 18")).to_be_visible()
    expect(page.get_by_role("link", name="Patient signs here in clinic")).to_have_count(0)
    page.get_by_role("link", name="Sign here with a parent or guardian").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign with a parent or guardian")

    # The parent fills in their part; the young person has not yet said they agree.
    page.get_by_label("Parent or guardian: full name").fill("Sam Lovelace")
    page.get_by_label("Their relationship to the young person").select_option("parent")
    _choose(page, "Photographs for my clinical record", "Yes")
    _choose(page, "Anonymous use of my outcomes in reports", "No")
    page.get_by_label("We have read and understood this consent").check()
    page.get_by_label("Parent or guardian: type your full name to sign").fill("Sam Lovelace")
    page.get_by_label("Young person: type your full name to confirm you agree").fill("Ada Lovelace")
    page.get_by_label("Practitioner's password (witness)").fill(PASSWORD)
    page.get_by_role("button", name="Sign the consent").click()
    expect(page.get_by_text(ASSENT_REQUIRED).first).to_be_visible()
    consent.refresh_from_db()
    assert consent.status == Consent.Status.AWAITING_PATIENT and consent.guardian_name == ""

    # The young person agrees: their assent, and the witness's password again.
    expect(page.get_by_label("Parent or guardian: full name")).to_have_value("Sam Lovelace")
    page.get_by_label("The young person agrees to have this treatment (their assent)").check()
    page.get_by_label("Practitioner's password (witness)").fill(PASSWORD)
    page.get_by_role("button", name="Sign the consent").click()
    page.wait_for_url(re.compile(rf"/consents/{consent.pk}/$"))
    expect(page.get_by_text("the young person's assent are recorded")).to_be_visible()
    expect(page.get_by_text("Sam Lovelace (parent), a parent or guardian")).to_be_visible()
    expect(page.get_by_text("Agreed, confirmed by typing their own name at the clinic")).to_be_visible()

    # The practitioner countersigns.
    countersign = page.get_by_role("region", name="Countersign")
    countersign.get_by_label("Your password").fill(PASSWORD)
    countersign.get_by_role("button", name="Countersign").click()
    expect(page.get_by_text("The consent is signed by both of you.")).to_be_visible()
    expect(page.locator(".page-head .badge")).to_have_text("Signed")

    consent.refresh_from_db()
    assert consent.status == Consent.Status.SIGNED and consent.pdf_sha256
    assert (consent.guardian_name, consent.guardian_relationship, consent.young_person_assent) == (
        "Sam Lovelace",
        "parent",
        True,
    )
    meanings = list(
        Signature.objects.filter(object_type="consent", object_id=str(consent.pk))
        .order_by("signed_at", "id")
        .values_list("meaning", flat=True)
    )
    assert meanings == ["witnessed", "authored"]

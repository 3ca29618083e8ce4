"""The whole pathway through the real pages: a visitor's self-assessment on a phone, the clinic's enquiry,
registration and portal account, the consultation, the patient's consent in the portal, the practitioner's
countersignature and the treatment plan that the patient then reads."""

import re
from datetime import date, timedelta
from io import BytesIO

import pytest
from django.utils import timezone
from PIL import Image
from playwright.sync_api import expect

from cellclinic.audit.selectors import audit_verify
from cellclinic.candidacy.models import Enquiry
from cellclinic.consents.models import Consent
from cellclinic.consultations.models import Consultation
from cellclinic.patients.models import Patient
from cellclinic.photos.models import Photo
from cellclinic.treatment.models import TreatmentPlan
from conftest import PASSWORD
from tests.browser.conftest import SCREENING_QUESTIONS, sign_in

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812}
DESK = {"width": 1024, "height": 768}
OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"
ENQUIRER = "Jo Rivers"
PORTAL_USERNAME = "jorivers"
PORTAL_PASSWORD = "tidal meadow lantern 42"
THERAPY = "Autologous skin cell suspension (spray-on skin cells)"
# The same therapy as a patient reads its name.
PLAIN_THERAPY = "Spray-on skin cells made from your own skin"
# The practitioner's candidacy form asks the same questions in short; nothing is on the new chart yet.
PRACTITIONER_QUESTIONS = (
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


def _exactly(label: str) -> re.Pattern:
    """A label's whole text; a required field's label ends with an asterisk."""
    return re.compile(rf"^{re.escape(label)}( \*)?$")


def _no_sideways_scrolling(page) -> None:
    assert page.evaluate(OVERFLOW) <= 0, f"{page.url} scrolls sideways"


def _sign_in_as(page, username: str, password: str) -> None:
    sign_in(page, username, password)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def _sign_out(page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", level=1, name="Sign in")).to_be_visible()


def _photo_with_exif(path) -> None:
    """A small JPEG that carries camera and location details, as a phone would write them."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "PhoneModel 7"  # Model
    exif[0x0132] = "2024:05:01 10:00:00"  # DateTime
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (51.0, 30.0, 0.0)
    gps[3], gps[4] = "W", (0.0, 7.0, 0.0)
    Image.new("RGB", (64, 48), (200, 150, 120)).save(path, "JPEG", exif=exif.tobytes())
    assert dict(Image.open(path).getexif()), "the test picture should carry EXIF data"


def _visitor_assesses_and_asks_for_a_consultation(page, clinic_name: str) -> None:
    page.set_viewport_size(PHONE)
    page.goto("/sign-in/")
    page.get_by_role("link", name="Am I a suitable candidate?").click()
    expect(page).to_have_url(re.compile(r"/assess/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Am I a suitable candidate?")
    _no_sideways_scrolling(page)

    page.get_by_label("Vitiligo (white patches where the skin has lost its colour)").check()
    page.get_by_label("Where on your body?").select_option("face")
    page.get_by_label("Your age in years").fill("34")
    page.get_by_role("group", name="Are you generally fit and healthy?").get_by_label(
        "Yes", exact=True
    ).check()
    for question in SCREENING_QUESTIONS:
        page.get_by_role("group", name=question, exact=True).get_by_label("No", exact=True).check()
    page.get_by_role(
        "group", name=re.compile("Has a doctor diagnosed the cause of your light patches")
    ).get_by_label("Yes", exact=True).check()
    page.get_by_label("If you have vitiligo: for how many months has it been stable?").fill("18")
    page.get_by_role(
        "group", name=re.compile("Have you tried creams and at least 3 months of light therapy")
    ).get_by_label("Yes", exact=True).check()
    page.get_by_role("group", name="What are you hoping for?").get_by_label(
        "A gradual improvement over months"
    ).check()
    page.get_by_role("button", name="See my result").click()

    expect(page).to_have_url(re.compile(r"/assess/result/[0-9a-f-]+/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Your result")
    main = page.locator("main")
    expect(main).to_contain_text("cell therapy may be suitable for you")
    expect(page.locator(".candidacy-outcome")).to_have_text("You may be a suitable candidate")
    expect(page.get_by_role("heading", name="Treatments that may suit you")).to_be_visible()
    expect(page.locator(".candidacy-therapies")).to_contain_text(PLAIN_THERAPY)
    expect(page.get_by_role("heading", name="Other treatments worth discussing")).to_be_visible()
    expect(page.locator(".candidacy-alternatives li").first).to_be_visible()
    expect(page.get_by_role("heading", name="What to expect", exact=True)).to_be_visible()
    sheet = page.get_by_role("article", name=PLAIN_THERAPY)
    expect(sheet.get_by_role("heading", name="Recovery")).to_be_visible()
    expect(sheet.locator(".candidacy-benefits li").first).to_be_visible()
    # Patients read the figures in plain words: source tags and review flags stay on staff pages.
    expect(sheet).not_to_contain_text(re.compile(r"\[S\d+|nverified"))
    _no_sideways_scrolling(page)

    page.get_by_role("link", name="Request a consultation").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Request a consultation")
    _no_sideways_scrolling(page)
    page.get_by_label("Your name").fill(ENQUIRER)
    page.get_by_label("Email", exact=True).fill("jo.rivers@example.org")
    page.get_by_label("Which clinic would you like?").select_option(label=clinic_name)
    page.get_by_label("When is it best to contact you?").fill("Weekday mornings")
    page.get_by_label("I agree that the clinic may contact me").check()
    page.get_by_role("button", name="Send my request").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you: your request is sent")
    _no_sideways_scrolling(page)


def _nurse_registers_the_enquirer_with_a_portal_account(page) -> Patient:
    page.set_viewport_size(DESK)
    _sign_in_as(page, "bo", PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Enquiries").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Enquiries")
    page.get_by_role("link", name=ENQUIRER).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Request from {ENQUIRER}")
    assessment = page.get_by_role("region", name="Self-assessment")
    expect(assessment.locator(".candidacy-outcome")).to_have_text("Candidate: no rule raised a concern")
    expect(assessment).to_contain_text(PLAIN_THERAPY)
    expect(page.get_by_role("region", name="Contact")).to_contain_text("Weekday mornings")

    page.get_by_role("link", name="Register as a patient").click()
    expect(page.get_by_label("Given name")).to_have_value("Jo")
    expect(page.get_by_label("Family name")).to_have_value("Rivers")
    expect(page.get_by_label("Email", exact=True)).to_have_value("jo.rivers@example.org")
    expect(page.get_by_label("Presenting concern")).to_have_value("vitiligo")
    born = date(timezone.localdate().year - 34, 1, 1)  # 34 years old today
    page.get_by_label("Date of birth").fill(born.isoformat())
    page.get_by_label("Sex at birth").select_option("female")
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_text(re.compile(rf"{ENQUIRER} is registered with MRN"))).to_be_visible()
    patient = Patient.objects.get(given_name="Jo", family_name="Rivers")
    assert Enquiry.objects.get(name=ENQUIRER).patient_id == patient.pk

    page.get_by_role("link", name="Open the chart").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Jo RIVERS")
    chart_tabs = page.get_by_role("navigation", name="Chart sections")
    chart_tabs.get_by_role("link", name="Contact and record").click()
    portal = page.get_by_role("region", name="Portal account")
    portal.get_by_label("Username").fill(PORTAL_USERNAME)
    portal.get_by_label(_exactly("Initial password")).fill(PORTAL_PASSWORD)
    portal.get_by_label("Initial password, again").fill(PORTAL_PASSWORD)
    portal.get_by_role("button", name="Create portal account").click()
    expect(page.get_by_text(f"Portal account {PORTAL_USERNAME} is created")).to_be_visible()
    _sign_out(page)
    return patient


def _practitioner_runs_the_consultation(page, tmp_path) -> Consultation:
    _sign_in_as(page, "ada", PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Enquiries").click()
    page.get_by_role("link", name=ENQUIRER).click()
    page.get_by_role("link", name="Start consultation").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Start a consultation")
    page.get_by_role("button", name="Start consultation").click()
    # The consultation goes step by step, one save each, from the patient's goals to the decision.
    expect(page.get_by_role("heading", level=1)).to_have_text("Patient's goals")
    expect(page.get_by_text("Consultation started for Jo Rivers.")).to_be_visible()
    assert Enquiry.objects.get(name=ENQUIRER).status == Enquiry.Status.BOOKED

    page.get_by_label("The patient's goals, in their own words").fill("Even colour on my cheeks again.")
    page.get_by_label("Target areas").fill("left cheek\nright cheek")
    page.get_by_role("button", name="Save and continue").click()
    expect(page.get_by_text("The patient's goals are saved.")).to_be_visible()

    # The indication comes from the chart; F-VASI is scored item by item.
    expect(page.get_by_role("heading", level=1)).to_have_text("Findings and photographs")
    expect(page.get_by_label("Indication")).to_have_value("vitiligo")
    page.get_by_label("Fitzpatrick skin type").select_option("IV")
    page.get_by_label("Severity scale").select_option("f_vasi")
    page.locator("summary", has_text="F-VASI").click()
    page.get_by_label("Face: hand units").fill("1.6")
    page.get_by_label("Face: residual depigmentation").select_option("50")
    page.get_by_label("Findings", exact=True).fill("Stable depigmented patches on both cheeks.")
    page.get_by_role("button", name="Save and continue").click()
    expect(page.get_by_text("The findings are saved.")).to_be_visible()

    # Photographs on their own page, from the findings step and back to it.
    page.get_by_role("link", name="Back: Findings and photographs").click()
    picture = tmp_path / "cheek.jpg"
    _photo_with_exif(picture)
    page.get_by_role("link", name="Add photographs").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Baseline photographs")
    page.get_by_label("View").select_option("front")
    page.get_by_label("Area shown").fill("left cheek")
    page.get_by_label(_exactly("Photograph")).set_input_files(str(picture))
    page.get_by_role("button", name="Upload").click()
    expect(
        page.get_by_text("The photograph is saved, without its location and camera details.")
    ).to_be_visible()
    expect(page.get_by_role("img", name="Front, left cheek")).to_be_visible()
    page.get_by_role("link", name="Back to the findings").click()
    expect(page.get_by_role("img", name="Front, left cheek")).to_be_visible()
    page.get_by_role("link", name="Next without saving: Candidacy").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Candidacy")
    answers = page.locator("form").filter(has=page.get_by_role("button", name="Save and continue"))
    expect(answers.get_by_role("checkbox", name="Vitiligo", exact=True)).to_be_checked()
    expect(answers.get_by_label("Age (years)")).to_have_value("34")
    expect(answers.get_by_label(_exactly("Area"))).to_have_value("face")
    answers.get_by_label("Generally fit and healthy").select_option("yes")
    for question in PRACTITIONER_QUESTIONS:
        answers.get_by_label(question, exact=True).select_option("no")
    answers.get_by_label("Vitiligo stable for (months)").fill("18")
    answers.get_by_label("Light patches diagnosed by a doctor").select_option("yes")
    answers.get_by_label(
        "Creams and at least 3 months of phototherapy tried without enough response"
    ).select_option("yes")
    answers.get_by_role("button", name="Save and continue").click()
    expect(page.get_by_text("The candidacy assessment is recorded with your answers.")).to_be_visible()

    expect(page.get_by_role("heading", level=1)).to_have_text("Expectations")
    expect(page.get_by_text("Candidate: no rule raised a concern")).to_be_visible()
    expect(page.get_by_role("heading", name="Discuss with the patient:")).to_be_visible()
    expect(page.get_by_role("heading", name="Recovery").first).to_be_visible()
    page.get_by_label("The expectation sheet was discussed with the patient").check()
    page.get_by_role("button", name="Save and continue").click()
    expect(
        page.get_by_text("Recorded: the expectation sheet was discussed with the patient.")
    ).to_be_visible()

    expect(page.get_by_role("heading", level=1)).to_have_text("Alternatives")
    page.get_by_label("Narrowband UVB phototherapy").check()
    page.get_by_role("button", name="Save and continue").click()
    expect(page.get_by_text("The alternatives discussed are saved.")).to_be_visible()

    expect(page.get_by_role("heading", level=1)).to_have_text("Decision")
    page.get_by_label("Proceed with a cell therapy").check()
    page.get_by_label("Therapy (when proceeding)").select_option(label=THERAPY)
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Sign the decision").click()
    expect(page.get_by_text("The decision is signed.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("Consultation")
    decision = page.get_by_role("region", name="6. Decision")
    expect(decision).to_contain_text(THERAPY)
    expect(decision.locator(".signature")).to_contain_text("Ada Okafor")

    page.get_by_role("region", name="Consent").get_by_role("link", name="Prepare consent").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Prepare consent")
    page.get_by_role("button", name="Prepare consent").click()
    expect(page.get_by_text("The consent is ready for the patient to read and sign.")).to_be_visible()
    expect(page.locator(".page-head .badge")).to_have_text("Waiting for the patient's signature")
    _sign_out(page)

    consultation = Consultation.objects.get(patient__given_name="Jo")
    assert consultation.status == Consultation.Status.DECIDED
    assert consultation.decision == Consultation.Decision.PROCEED
    assert consultation.target_areas == ["left cheek", "right cheek"]
    assert consultation.alternatives_discussed == ["nb_uvb_phototherapy"]
    return consultation


def _patient_signs_the_consent(page) -> None:
    page.set_viewport_size(PHONE)
    _sign_in_as(page, PORTAL_USERNAME, PORTAL_PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("My record")
    forms = page.get_by_role("region", name="Your consent forms")
    expect(forms).to_contain_text("Waiting for your signature")
    forms.get_by_role("link", name="Read and sign").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Read and sign your consent")
    _no_sideways_scrolling(page)
    page.get_by_role("group", name="Photographs for my clinical record").get_by_label(
        "Yes", exact=True
    ).check()
    page.get_by_role("group", name="Anonymous use of my outcomes in reports").get_by_label(
        "No", exact=True
    ).check()
    page.get_by_label("I have read and understood this consent").check()
    page.get_by_label("Your password").fill(PORTAL_PASSWORD)
    page.get_by_role("button", name="Sign the consent").click()
    expect(page.get_by_text("Thank you. You have signed your consent.")).to_be_visible()
    choices = page.get_by_role("region", name="Choices")
    expect(choices).to_contain_text("Yes")
    expect(page.get_by_role("region", name="Signatures")).to_contain_text("Jo Rivers")
    _no_sideways_scrolling(page)

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download PDF").click()
    with open(download_info.value.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"
    _sign_out(page)


def _practitioner_countersigns_and_plans(page, patient: Patient) -> TreatmentPlan:
    page.set_viewport_size(DESK)
    _sign_in_as(page, "ada", PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Patients").click()
    page.get_by_label(re.compile("Search patients")).fill("rivers")
    page.get_by_role("link", name=re.compile("RIVERS")).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Jo RIVERS")
    page.get_by_role("navigation", name="Chart sections").get_by_role("link", name="Consent").click()
    panel = page.get_by_role("region", name="Consent")
    panel.get_by_role("link", name=THERAPY).click()
    countersign = page.get_by_role("region", name="Countersign")
    countersign.get_by_label("Your password").fill(PASSWORD)
    countersign.get_by_role("button", name="Countersign").click()
    expect(page.get_by_text("The consent is signed by both of you.")).to_be_visible()
    expect(page.locator(".page-head .badge")).to_have_text("Signed")

    page.get_by_role("link", name="The consultation").click()
    page.get_by_role("link", name="Jo RIVERS").click()
    page.get_by_role("navigation", name="Chart sections").get_by_role("link", name="Treatment plan").click()
    plans = page.get_by_role("region", name="Treatment plans")
    expect(plans).to_contain_text("No treatment plan yet.")
    plans.get_by_role("link", name=f"Make a plan: {THERAPY}").click()
    harvest = timezone.localdate() + timedelta(days=7)
    page.get_by_label("Harvest date").fill(harvest.isoformat())
    page.get_by_role("button", name="Show the timeline").click()
    expect(page.get_by_role("heading", name="Timeline preview (not saved yet)")).to_be_visible()
    page.get_by_role("button", name="Save the plan").click()
    expect(page.get_by_text("The treatment plan is saved.")).to_be_visible()
    expect(page.locator("svg.timeline-chart:visible")).to_be_visible()
    expect(page.locator('.tl-steps li[aria-current="step"]')).to_contain_text("Harvest")
    expect(page.get_by_role("region", name="About this plan")).to_contain_text(_long_date(harvest))

    page.get_by_role("link", name="Jo RIVERS").click()
    page.get_by_role("navigation", name="Chart sections").get_by_role("link", name="Treatment plan").click()
    plans = page.get_by_role("region", name="Treatment plans")
    expect(plans.get_by_role("link", name=THERAPY)).to_be_visible()
    expect(plans).to_contain_text("Active")
    expect(plans).to_contain_text(re.compile(r"Next: .*Harvest", re.IGNORECASE))
    _sign_out(page)
    return TreatmentPlan.objects.get(patient=patient)


def _long_date(day: date) -> str:
    return f"{day.day} {day.strftime('%B %Y')}"


def _patient_reads_the_plan(page) -> None:
    page.set_viewport_size(PHONE)
    _sign_in_as(page, PORTAL_USERNAME, PORTAL_PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("My record")
    upcoming = page.get_by_role("region", name="What happens next")
    expect(upcoming).to_contain_text("Harvest")
    expect(upcoming).to_contain_text("Your clinic will confirm the exact day and time with you.")
    plan = page.get_by_role("region", name="Your treatment plan")
    expect(plan.get_by_role("heading", name=PLAIN_THERAPY)).to_be_visible()
    expect(plan.locator("svg.timeline-chart:visible")).to_be_visible()
    expect(plan.locator('.tl-steps li[aria-current="step"]')).to_contain_text("Harvest")
    expect(page.get_by_role("region", name="Your consent forms")).to_contain_text("Signed")
    _no_sideways_scrolling(page)


def test_a_visitor_becomes_a_patient_with_a_signed_consent_and_a_plan(
    page, clinic_a, dr_ada, nurse_bo, tmp_path
):
    _visitor_assesses_and_asks_for_a_consultation(page, str(clinic_a))
    enquiry = Enquiry.objects.get(name=ENQUIRER)
    assert enquiry.site_id == clinic_a.pk
    assert enquiry.assessment is not None and enquiry.assessment.outcome == "suitable"

    patient = _nurse_registers_the_enquirer_with_a_portal_account(page)
    assert patient.site_id == clinic_a.pk
    consultation = _practitioner_runs_the_consultation(page, tmp_path)

    photo = Photo.objects.get(consultation=consultation)
    with photo.image.open("rb") as stored:
        kept = Image.open(BytesIO(stored.read()))
        assert not dict(kept.getexif()), "the stored photograph still carries EXIF data"
        assert "exif" not in kept.info

    _patient_signs_the_consent(page)
    assert Consent.objects.get(consultation=consultation).status == Consent.Status.AWAITING_PRACTITIONER

    plan = _practitioner_countersigns_and_plans(page, patient)
    consent = Consent.objects.get(consultation=consultation)
    assert consent.status == Consent.Status.SIGNED
    assert plan.consent_id == consent.pk
    assert plan.harvest_date == timezone.localdate() + timedelta(days=7)

    _patient_reads_the_plan(page)
    assert audit_verify().ok

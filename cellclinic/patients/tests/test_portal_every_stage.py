"""The portal and the consent pages a patient reaches, at every stage of the pathway: what happens next
comes first, the words are the patient's (no hashes, no UTC times, no review flags or source tags), and
withdrawal is offered only once something is signed."""

import re
from datetime import UTC, datetime
from html import unescape

import pytest
import time_machine
from django.urls import reverse

from cellclinic.catalogue.plain_words import MARKERS
from cellclinic.demo.builder import STAGES, at_stage
from cellclinic.patients.services import patient_portal_account_create
from cellclinic.treatment.tests.helpers import DONOR, INDICATION

pytestmark = pytest.mark.django_db

PORTAL = "/patients/portal/"
# Stages at which the patient has a portal account (the builder registers them at "registered").
PATIENT_STAGES = STAGES[STAGES.index("registered") :]
HEX_DIGEST = re.compile(r"\b[0-9a-f]{12,}\b")
STAFF_WORDS = re.compile(r"SHA-256|\bUTC\b|\bhash\b|\brecord [0-9a-f]{6,}", re.IGNORECASE)


def visible_text(html: str) -> str:
    main = html[html.index("<main") : html.index("</main>")]
    return unescape(re.sub(r"<[^>]+>", "\n", main))


def problems_in(html: str) -> list[str]:
    """Everything on a page a patient should never read: staff detail and internal markers."""
    text = visible_text(html)
    found = [f"{match.group(0)!r}" for match in STAFF_WORDS.finditer(html[html.index("<main") :])]
    found += [f"digest {match.group(0)!r}" for match in HEX_DIGEST.finditer(text)]
    for line in (line.strip() for line in text.split("\n")):
        found += [f"{line!r}: {name}" for name, pattern in MARKERS if line and pattern.search(line)]
    return found


def patient_pages(pathway) -> dict[str, str]:
    """The pages a patient reaches at this stage: the portal, and their consent's pages."""
    pages = {"portal": PORTAL}
    if pathway.consent is not None:
        pk = pathway.consent.pk
        pages["consent"] = reverse("consents:detail", args=[pk])
        pages["withdraw"] = reverse("consents:withdraw", args=[pk])
        if pathway.consent.status == "awaiting_patient":
            pages["sign"] = reverse("consents:sign", args=[pk])
    return pages


def build(stage: str, **options):
    """A pathway at STAGE whose patient has a portal account (the builder opens one at signing)."""
    pathway = at_stage(stage, **options)
    if pathway.portal_user is None:
        pathway.portal_user = patient_portal_account_create(
            patient=pathway.patient, username="", password=pathway.password, actor=pathway.practitioner
        )
    return pathway


@pytest.fixture(params=PATIENT_STAGES)
def pathway(request):
    return build(request.param, in_days=2) if request.param == "planned" else build(request.param)


def test_every_page_a_patient_reaches_speaks_to_them(client, pathway):
    client.force_login(pathway.portal_user)
    for name, path in patient_pages(pathway).items():
        response = client.get(path)
        assert response.status_code == 200, name
        html = response.content.decode()
        assert html.count("<h1") == 1, name
        assert not problems_in(html), (pathway.stage, name, problems_in(html))


def test_what_happens_next_leads_the_portal(client, pathway):
    client.force_login(pathway.portal_user)
    html = client.get(PORTAL).content.decode()
    headings = re.findall(r'<h2 id="([^"]+)"', html)
    assert headings[0] == "h-next"
    assert headings.index("h-about") == len(headings) - 3  # the record follows the pathway


def test_read_and_sign_comes_first_in_what_happens_next(client):
    # A plan is under way and a second consent waits for the patient: signing is theirs to do first.
    first = at_stage("planned", in_days=3)
    second = at_stage(
        "consent_prepared",
        patient=first.patient,
        practitioner=first.practitioner,
        password=first.password,
        therapy=DONOR,
        indication=INDICATION[DONOR],
    )
    client.force_login(first.portal_user)
    html = client.get(PORTAL).content.decode()
    sign = html.index("Read and sign your consent form")
    assert (
        html.index('id="h-next"') < sign < html.index("A small sample is taken") < html.index('id="h-plans"')
    )
    assert f'href="/consents/{second.consent.pk}/sign/"' in html[: sign + 1000]
    assert "is waiting for your signature" in html


@pytest.mark.parametrize(
    ("stage", "offered"),
    [
        ("consent_prepared", False),
        ("patient_signed", True),
        ("consent_signed", True),
        ("planned", True),
        ("withdrawn", False),
    ],
)
def test_withdrawal_is_offered_only_once_something_is_signed(client, stage, offered):
    pathway = build(stage)
    link = f'href="/consents/{pathway.consent.pk}/withdraw/"'
    client.force_login(pathway.portal_user)
    assert (link in client.get(PORTAL).content.decode()) is offered
    assert (
        link in client.get(reverse("consents:detail", args=[pathway.consent.pk])).content.decode()
    ) is offered


def test_the_withdraw_page_of_an_unsigned_consent_explains_there_is_nothing_to_withdraw(client):
    pathway = build("consent_prepared")
    client.force_login(pathway.portal_user)
    html = client.get(reverse("consents:withdraw", args=[pathway.consent.pk])).content.decode()
    assert "You have not signed this consent form, so there is nothing to withdraw." in html
    assert 'name="password"' not in html


def test_the_patient_reads_signing_times_in_the_clinics_local_time(client, settings):
    settings.TIME_ZONE = "Europe/London"
    # 09:30 UTC on a summer morning is 10:30 in London.
    with time_machine.travel(datetime(2026, 7, 1, 9, 30, tzinfo=UTC), tick=False):
        pathway = at_stage("patient_signed")
    client.force_login(pathway.portal_user)
    html = client.get(reverse("consents:detail", args=[pathway.consent.pk])).content.decode()
    assert "gave consent" in html and "1 July 2026 at 10:30" in html
    assert "09:30" not in html and "UTC" not in html
    assert "Signed by you. Your practitioner will countersign" in html


def test_staff_still_read_the_document_hash_and_utc_signatures(client):
    pathway = at_stage("consent_signed")
    client.force_login(pathway.practitioner)
    html = client.get(reverse("consents:detail", args=[pathway.consent.pk])).content.decode()
    assert "Document SHA-256" in html and pathway.consent.document_hash in html
    assert " UTC" in html
    # The scan that keeps them from patients' pages sees them here.
    assert any("SHA-256" in problem for problem in problems_in(html))

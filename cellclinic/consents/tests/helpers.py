"""Helpers for the consent tests: a consent for any shipped therapy and indication, and its text as a
patient reads it in the portal and in the PDF."""

import io
import re
from datetime import date
from html import unescape
from html.parser import HTMLParser

from django.utils import timezone
from pypdf import PdfReader

from cellclinic.catalogue.registry import get_catalogue
from cellclinic.consents.services import consent_prepare
from cellclinic.consultations.models import Consultation


def shipped_cases() -> list[tuple[str, str]]:
    """(therapy code, indication) for every shipped therapy and each of its indications."""
    catalogue = get_catalogue()
    return [
        (code, indication.value)
        for code, therapy in sorted(catalogue.therapies.items())
        for indication in therapy.indication_codes
    ]


def decided_for(patient, practitioner, code: str, indication: str, alternatives=None) -> Consultation:
    """A consultation of PATIENT decided to proceed with CODE for INDICATION, having discussed
    ALTERNATIVES (default: every catalogue alternative for the indication). The rows of an earlier
    stage are not what these tests are about: the consultation is written as its services leave it."""
    catalogue = get_catalogue()
    therapy = catalogue.therapies[code]
    if alternatives is None:
        alternatives = [a.code for a in catalogue.alternatives_for([indication])]
    return Consultation.objects.create(
        site=patient.site,
        patient=patient,
        practitioner=practitioner,
        status=Consultation.Status.DECIDED,
        decision=Consultation.Decision.PROCEED,
        indication=indication,
        alternatives_discussed=list(alternatives),
        therapy_code=therapy.code,
        therapy_version=therapy.version,
        decided_at=timezone.now(),
    )


def consent_for(patient, practitioner, code: str, indication: str, alternatives=None):
    """A consent prepared through the service for CODE and INDICATION, waiting for signatures."""
    consultation = decided_for(patient, practitioner, code, indication, alternatives)
    return consent_prepare(consultation=consultation, actor=practitioner)


def years_ago(years: int, today: date | None = None) -> date:
    """The date of birth of someone who turned YEARS today."""
    today = today or timezone.localdate()
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


class _MainText(HTMLParser):
    """The visible text inside <main>, without scripts, styles or hidden inputs."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.skip = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "main":
            self.depth += 1
        if tag in {"script", "style"}:
            self.skip += 1

    def handle_endtag(self, tag):
        if tag == "main":
            self.depth -= 1
        if tag in {"script", "style"}:
            self.skip -= 1

    def handle_data(self, data):
        if self.depth and not self.skip:
            self.parts.append(data)


def normalised(text: str) -> str:
    return " ".join(text.split())


def main_text(html: str) -> str:
    """What a reader sees in the page's <main>, whitespace normalised."""
    parser = _MainText()
    parser.feed(html)
    return normalised(unescape(" ".join(parser.parts)))


FOOTER = re.compile(r"· page [0-9]+$")


def pdf_text(content: bytes) -> str:
    """The text of every page of a PDF, as pypdf extracts it, without the page footers (which would
    otherwise cut a paragraph that runs over a page), whitespace normalised."""
    lines = [
        line
        for page in PdfReader(io.BytesIO(content)).pages
        for line in page.extract_text().splitlines()
        if not FOOTER.search(line.strip())
    ]
    return normalised(" ".join(lines))


def document_texts(document: dict) -> list[str]:
    """Every piece of text the document shows: its title, each section's heading, paragraphs and items."""
    texts = [document["title"]]
    for section in document["sections"]:
        texts += [section["heading"], *section["paragraphs"], *section["items"]]
    return [normalised(text) for text in texts]


def section(document: dict, key: str) -> dict:
    return next(s for s in document["sections"] if s["key"] == key)


def section_text(document: dict, key: str) -> str:
    found = section(document, key)
    return normalised(" ".join([*found["paragraphs"], *found["items"]]))

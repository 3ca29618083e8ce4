"""The consent document as a PDF: the text shown for signing, the choices made and the signatures.

Plain functions (reportlab, no Django). Output is reproducible (invariant mode) so that the same
signed consent always renders to the same bytes. Text is set in the embedded DejaVu Sans, so every
name prints exactly as written, whatever its script.
"""

import io
import unicodedata
from dataclasses import dataclass
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import ListFlowable, ListItem, Paragraph, SimpleDocTemplate, Spacer

from cellclinic.core.pdf_fonts import register_fonts

NOT_SIGNED = "NOT SIGNED — for reading"


@dataclass(frozen=True)
class SignatureLine:
    """One signature as Part 11 asks it to be shown: printed name, UTC time, meaning, record hash."""

    meaning: str
    printed_name: str
    signed_at_utc: str
    record_hash: str
    statement: str = ""


@dataclass(frozen=True)
class YoungPersonConsent:
    """A young person's consent: the parent or guardian who gave it, and the young person's assent."""

    guardian_name: str
    relationship: str
    assent: bool | None


def _young_person_lines(young: YoungPersonConsent) -> list[str]:
    if not young.guardian_name:
        return [
            "This consent is for a young person under 18. It is signed at the clinic by a parent or "
            "guardian, with the young person's own assent. Not signed yet."
        ]
    relationship = f" ({young.relationship.lower()})" if young.relationship else ""
    assent = "agreed, confirmed by typing their own name at the clinic" if young.assent else "not given yet"
    return [
        f"Consent given by the parent or guardian: {young.guardian_name}{relationship}, who signed by "
        "typing their name at the clinic.",
        f"The young person's assent: {assent}.",
    ]


def _text(value: str) -> str:
    """Text for Paragraph markup: composed (NFC), so accents sit on their letters, and escaped."""
    return escape(unicodedata.normalize("NFC", value))


def _styles() -> dict[str, ParagraphStyle]:
    base = getSampleStyleSheet()
    fonts = register_fonts()
    regular, bold = {"fontName": fonts.regular}, {"fontName": fonts.bold}
    return {
        "title": ParagraphStyle("title", parent=base["Title"], fontSize=16, leading=20, **bold),
        "h2": ParagraphStyle("h2", parent=base["Heading2"], fontSize=12, leading=15, spaceBefore=8, **bold),
        "body": ParagraphStyle("body", parent=base["BodyText"], fontSize=10, leading=13, **regular),
        "small": ParagraphStyle("small", parent=base["BodyText"], fontSize=8, leading=10, **regular),
        "banner": ParagraphStyle(
            "banner", parent=base["Title"], fontSize=14, textColor=colors.HexColor("#b91c1c"), **bold
        ),
    }


def consent_pdf(
    document: dict,
    *,
    patient_name: str,
    mrn: str,
    clinic: str,
    document_hash: str,
    choices: dict[str, bool | None],
    signatures: list[SignatureLine],
    signed: bool,
    status: str,
    young_person: YoungPersonConsent | None = None,
) -> bytes:
    """Render the consent to PDF bytes; an unsigned copy is marked as not signed on every page.

    For a young person's consent (YOUNG_PERSON), who consented for them and their assent are printed
    before the signatures. Everything but the hashes is plain words, as the patient reads it.
    """
    styles = _styles()
    out = io.BytesIO()
    pdf = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=_text(document["title"]),
        author="CellClinic",
        invariant=1,
        pageCompression=0,
        initialFontName=register_fonts().regular,
    )

    def _mark(canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont(register_fonts().regular, 8)
        footer = f"{patient_name} · {mrn} · page {doc.page}"
        if not signed:
            footer = f"{NOT_SIGNED} · {footer}"
        canvas.drawString(18 * mm, 10 * mm, unicodedata.normalize("NFC", footer))
        canvas.restoreState()

    story: list = []
    if not signed:
        story.append(Paragraph(_text(NOT_SIGNED), styles["banner"]))
    story.append(Paragraph(_text(document["title"]), styles["title"]))
    story.append(
        Paragraph(f"Patient: <b>{_text(patient_name)}</b> ({_text(mrn)}), {_text(clinic)}", styles["body"])
    )
    therapy = document["therapy"]
    story.append(
        Paragraph(
            _text(
                f"Protocol version {therapy['version']}; consent template {document['template_version']}. "
                f"Status: {status}."
            ),
            styles["body"],
        )
    )
    story.append(Paragraph(_text(f"Document SHA-256: {document_hash}"), styles["small"]))
    for section in document.get("sections", []):
        story.append(Paragraph(_text(section["heading"]), styles["h2"]))
        for paragraph in section["paragraphs"]:
            story.append(Paragraph(_text(paragraph), styles["body"]))
        if section["items"]:
            story.append(
                ListFlowable(
                    [ListItem(Paragraph(_text(item), styles["body"])) for item in section["items"]],
                    bulletType="bullet",
                    bulletFontName=register_fonts().regular,
                    leftIndent=12,
                )
            )
    story.append(Paragraph("Your choices", styles["h2"]))
    for option in document.get("optional_consents", []):
        answer = choices.get(option["key"])
        said = "Not yet chosen" if answer is None else ("Yes" if answer else "No")
        story.append(Paragraph(f"<b>{said}</b> — {_text(option['text'])}", styles["body"]))
    if young_person is not None:
        story.append(Paragraph("Consent for a young person", styles["h2"]))
        for line in _young_person_lines(young_person):
            story.append(Paragraph(_text(line), styles["body"]))
    story.append(Paragraph("Signatures", styles["h2"]))
    if not signatures:
        story.append(Paragraph("No signatures yet.", styles["body"]))
    for line in signatures:
        story.append(
            Paragraph(
                _text(
                    f"{line.meaning.upper()}: {line.printed_name}, {line.signed_at_utc} UTC, "
                    f"record SHA-256 {line.record_hash}"
                ),
                styles["body"],
            )
        )
        if line.statement:
            story.append(Paragraph(_text(line.statement), styles["small"]))
    story.append(Spacer(1, 6 * mm))
    pdf.build(story, onFirstPage=_mark, onLaterPages=_mark)
    return out.getvalue()

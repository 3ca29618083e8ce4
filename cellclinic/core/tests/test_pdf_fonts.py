"""The shipped Unicode fonts print any name exactly, proven by reading the PDF back with pypdf."""

import io
import re
import threading
import unicodedata

import pytest
from pypdf import PdfReader
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.platypus import Paragraph, SimpleDocTemplate

from cellclinic.core.pdf_fonts import FONT_DIR, PdfFonts, register_fonts

NAMES = [
    "Łukasz Żółć",
    "Ærøskøbing",
    "Đặng Thị Hồng",
    "Αθηνά",
    "Юлия",
    "Ṣàngó Adéọlá",
    "Zoë O'Brien-Müller",
]
HASH = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


def build_pdf(fonts: PdfFonts, paragraphs: list[tuple[str, str]]) -> bytes:
    """A one-page PDF with one Paragraph per (style, markup): style is "regular", "bold" or "mono"."""
    styles = {
        "regular": ParagraphStyle("body", fontName=fonts.regular, fontSize=11, leading=14),
        "bold": ParagraphStyle("heading", fontName=fonts.bold, fontSize=14, leading=18),
        "mono": ParagraphStyle("hash", fontName=fonts.mono, fontSize=8, leading=10),
    }
    out = io.BytesIO()
    # initialFontName: without it reportlab opens every page in Helvetica, an unused built-in font.
    doc = SimpleDocTemplate(out, pagesize=A4, title="fonts test", initialFontName=fonts.regular)
    doc.build([Paragraph(markup, styles[style]) for style, markup in paragraphs])
    return out.getvalue()


def text_runs(pdf: bytes) -> list[tuple[str, str]]:
    """(text, BaseFont without its subset tag) for every piece of text pypdf reads off the pages."""
    runs = []

    def visit(text, cm, tm, font_dict, font_size):
        if text.strip():
            base = str(font_dict["/BaseFont"]) if font_dict else ""
            runs.append((text, re.sub(r"^/([A-Z]{6}\+)?", "", base)))

    for page in PdfReader(io.BytesIO(pdf)).pages:
        page.extract_text(visitor_text=visit)
    return runs


def page_fonts(pdf: bytes) -> list:
    """The font dictionaries in every page's resources."""
    fonts = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for ref in page["/Resources"]["/Font"].values():
            fonts.append(ref.get_object())
    return fonts


@pytest.fixture(scope="module")
def fonts() -> PdfFonts:
    return register_fonts()


def test_register_fonts_names_the_three_faces(fonts):
    assert fonts == PdfFonts(regular="DejaVuSans", bold="DejaVuSans-Bold", mono="DejaVuSansMono")
    registered = pdfmetrics.getRegisteredFontNames()
    assert {fonts.regular, fonts.bold, fonts.mono} <= set(registered)
    with pytest.raises(AttributeError):
        fonts.regular = "Helvetica"


def test_register_fonts_twice_and_from_threads_gives_the_same_fonts(fonts):
    results = []
    threads = [threading.Thread(target=lambda: results.append(register_fonts())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [fonts] * 8
    assert register_fonts() == fonts


def test_font_files_and_licence_ship_in_the_package():
    for filename in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSansMono.ttf"):
        assert (FONT_DIR / filename).read_bytes()[:4] == b"\x00\x01\x00\x00"  # TrueType outlines
    licence = (FONT_DIR / "LICENSE").read_text()
    assert "DejaVu changes are in public domain" in licence
    assert "Bitstream Vera Fonts Copyright" in licence


@pytest.mark.parametrize("name", NAMES)
def test_every_letter_of_every_name_has_a_glyph(fonts, name):
    # Extracted text only proves the characters were written; this proves they have shapes to print,
    # whole: reportlab does no shaping, so names are precomposed (NFC) with no combining accents.
    assert unicodedata.is_normalized("NFC", name)
    assert not any(unicodedata.combining(c) for c in name)
    for font_name in (fonts.regular, fonts.bold):
        char_to_glyph = pdfmetrics.getFont(font_name).face.charToGlyph
        missing = [c for c in name if c != " " and ord(c) not in char_to_glyph]
        assert missing == [], f"{font_name} has no glyph for {missing} in {name!r}"


def test_every_name_comes_back_out_of_the_pdf_exactly(fonts):
    pdf = build_pdf(fonts, [("regular", name) for name in NAMES])
    lines = PdfReader(io.BytesIO(pdf)).pages[0].extract_text().splitlines()
    assert lines == NAMES


def test_names_in_the_bold_and_mono_faces_come_back_exactly(fonts):
    pdf = build_pdf(fonts, [("bold", "Αθηνά Юлия"), ("mono", HASH)])
    lines = PdfReader(io.BytesIO(pdf)).pages[0].extract_text().splitlines()
    assert lines == ["Αθηνά Юлия", HASH]


def test_the_fonts_are_embedded_and_no_builtin_font_is_used(fonts):
    pdf = build_pdf(fonts, [("regular", name) for name in NAMES] + [("mono", HASH)])
    embedded = page_fonts(pdf)
    base_names = {re.sub(r"^/[A-Z]{6}\+", "", str(font["/BaseFont"])) for font in embedded}
    assert base_names == {"DejaVuSans", "DejaVuSansMono"}
    for font in embedded:
        # A subset of the TrueType file itself travels in the PDF: readers need no font installed.
        font_file = font["/FontDescriptor"]["/FontFile2"].get_object()
        assert len(font_file.get_data()) > 1000


def test_bold_markup_switches_to_the_bold_face(fonts):
    pdf = build_pdf(fonts, [("regular", "Patient: <b>Łukasz Żółć</b>, Ærøskøbing")])
    runs = text_runs(pdf)
    by_font: dict[str, str] = {}
    for text, base in runs:
        by_font[base] = by_font.get(base, "") + text
    assert "Łukasz Żółć" in by_font["DejaVuSans-Bold"]
    assert "Patient:" not in by_font["DejaVuSans-Bold"]
    assert "Patient:" in by_font["DejaVuSans"]
    assert "Ærøskøbing" in by_font["DejaVuSans"]
    assert "".join(text for text, _ in runs).strip() == "Patient: Łukasz Żółć, Ærøskøbing"


def test_italic_markup_does_not_fail_and_keeps_the_upright_face(fonts):
    pdf = build_pdf(fonts, [("regular", "<i>Юлия</i> <b><i>Αθηνά</i></b>")])
    assert {base for _, base in text_runs(pdf)} == {"DejaVuSans", "DejaVuSans-Bold"}
    assert PdfReader(io.BytesIO(pdf)).pages[0].extract_text().splitlines() == ["Юлия Αθηνά"]

"""The consent PDF prints every name exactly as written, in the embedded Unicode font."""

import io

from pypdf import PdfReader

from cellclinic.catalogue.registry import catalogue_read
from cellclinic.consents.document import TEMPLATE_VERSION, consent_document
from cellclinic.consents.pdf import NOT_SIGNED, SignatureLine, consent_pdf

NAMES = ("Łukasz Żółć", "Đặng Thị Hồng", "Αθηνά Παππά", "Юлия Смирнова", "Ærøskøbing O'Brien-Müller")


def _pdf(patient_name: str, *, signed: bool) -> bytes:
    catalogue = catalogue_read([])
    therapy = catalogue.therapies["autologous_fibroblast_injection"]
    document = consent_document(
        therapy, catalogue.alternatives_for(["scar"]), template_version=TEMPLATE_VERSION, indication="scar"
    )
    signatures = [SignatureLine("Consented", patient_name, "2026-11-30 10:00:00", "a" * 64, "I agree.")]
    return consent_pdf(
        document,
        patient_name=patient_name,
        mrn="NCL-000001-1",
        clinic="North Clinic",
        document_hash="b" * 64,
        choices={"photographs": True, "outcome_reports": False},
        signatures=signatures if signed else [],
        signed=signed,
        status="Signed" if signed else "Waiting for the patient's signature",
    )


def _text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_names_in_any_script_come_back_out_of_the_pdf_exactly():
    for name in NAMES:
        text = _text(_pdf(name, signed=True))
        assert f"Patient: {name} (NCL-000001-1)" in text
        assert f"CONSENTED: {name}, 2026-11-30 10:00:00 UTC" in text


def test_only_the_embedded_unicode_font_is_used():
    reader = PdfReader(io.BytesIO(_pdf(NAMES[0], signed=True)))
    fonts = {
        str(font["/BaseFont"]).split("+")[-1]
        for page in reader.pages
        for font in page["/Resources"]["/Font"].values()
        if "/BaseFont" in font.get_object()
    }
    assert fonts and all(name.startswith("DejaVuSans") for name in fonts), fonts


def test_an_unsigned_copy_says_so():
    assert NOT_SIGNED in _text(_pdf(NAMES[1], signed=False))


def test_the_same_consent_renders_to_the_same_bytes():
    assert _pdf(NAMES[2], signed=True) == _pdf(NAMES[2], signed=True)

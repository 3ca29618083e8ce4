"""Product and specimen labels: what they print, in which font, and barcodes that scan back.

The label PDFs are rasterised with pypdfium2 and their barcodes read with zxing-cpp, so a test passes
only when a scanner would read the printed label.
"""

import io
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pypdfium2
import pytest
import zxingcpp
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from cellclinic.lab.isbt import Din
from cellclinic.lab.labels import (
    AUTOLOGOUS_WARNING,
    PRODUCT_LABEL_SIZE,
    SPECIMEN_LABEL_SIZE,
    DataMatrix,
    ProductLabel,
    SpecimenLabel,
    product_label,
    specimen_label,
)

DIN = Din("A9999", 26, 123456)
GREEK = "Ηλέκτρα Παπαδοπούλου"
EXPIRES = datetime(2026, 12, 3, 14, 0, tzinfo=ZoneInfo("Europe/Berlin"))
PRODUCT = ProductLabel(
    din=DIN,
    product_code="T0001V00",
    description="Autologous fibroblast injection",
    autologous=True,
    chain_of_identity="COI-2026-000123",
    storage="Store at 2 °C to 8 °C",
    expires_at=EXPIRES,
    lab_name="CellClinic Processing Laboratory",
)
SPECIMEN = SpecimenLabel(
    chain_of_identity="COI-2026-000123",
    kind="Punch biopsy 4 mm",
    site="Left postauricular",
    collected_at=datetime(2026, 12, 1, 9, 30, tzinfo=ZoneInfo("Europe/Athens")),
    patient_name=GREEK,
    date_of_birth=date(1984, 3, 7),
    mrn="NCL-000001-1",
)


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


# The symbologies the labels carry, as a lab's scanner is set up to read. A decoder looking for every
# symbology also finds short ITF codes by chance in the bars of a Code 128 (seen: "7725").
SYMBOLOGIES = (zxingcpp.BarcodeFormat.Code128, zxingcpp.BarcodeFormat.DataMatrix)


def _scan(pdf: bytes) -> dict[str, str]:
    """The barcodes a scanner reads from the printed page at 300 dpi: {"Code128": ..., "DataMatrix": ...}."""
    page = pypdfium2.PdfDocument(pdf)[0]
    image = page.render(scale=300 / 72, grayscale=True).to_pil()
    found = {}
    for result in zxingcpp.read_barcodes(image, formats=SYMBOLOGIES):
        name = result.format.name
        assert name not in found, f"two {name} symbols on one label"
        found[name] = result.text
    return found


def _runs(pdf: bytes) -> list[tuple[str, list[float], list[float]]]:
    """Each piece of text on the page with its current transformation and text matrices."""
    runs = []
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    page.extract_text(visitor_text=lambda text, cm, tm, font, size: runs.append((text, list(cm), list(tm))))
    return [run for run in runs if run[0].strip()]


def _fonts(pdf: bytes) -> set[str]:
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    return {
        str(font["/BaseFont"]).split("+")[-1]
        for font in page["/Resources"]["/Font"].values()
        if "/BaseFont" in font.get_object()
    }


# --- product label: what it prints ------------------------------------------------------------------


def test_a_product_label_is_a_one_page_pdf_of_the_label_size():
    pdf = product_label(PRODUCT)
    assert pdf.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (float(box.width), float(box.height)) == pytest.approx(PRODUCT_LABEL_SIZE)
    assert pytest.approx((100 * mm, 70 * mm)) == PRODUCT_LABEL_SIZE


def test_a_product_label_prints_the_din_product_storage_expiry_and_lab():
    text = _text(product_label(PRODUCT))
    for expected in (
        "A9999 26 123456",
        "Autologous fibroblast injection",
        "Product code T0001V00",
        "Chain of identity COI-2026-000123",
        "Store at 2 °C to 8 °C",
        "EXP 2026-12-03 14:00 CET",
        "&>0263371400",
        "CellClinic Processing Laboratory",
    ):
        assert expected in text, expected


def test_the_expiry_is_printed_on_its_own_clock_with_its_zone():
    text = _text(product_label(replace(PRODUCT, expires_at=datetime(2026, 12, 3, 13, 0, tzinfo=UTC))))
    assert "EXP 2026-12-03 13:00 UTC" in text
    assert "&>0263371300" in text


def test_for_autologous_use_only_is_printed_in_bold_exactly_when_autologous():
    autologous = product_label(PRODUCT)
    allogeneic = product_label(replace(PRODUCT, autologous=False))
    assert _text(autologous).count(AUTOLOGOUS_WARNING) == 1
    assert AUTOLOGOUS_WARNING not in _text(allogeneic)
    faces = []
    page = PdfReader(io.BytesIO(autologous)).pages[0]
    page.extract_text(
        visitor_text=lambda text, cm, tm, font, size: (
            faces.append(str(font["/BaseFont"])) if text.strip() == AUTOLOGOUS_WARNING else None
        )
    )
    assert faces and all(face.endswith("DejaVuSans-Bold") for face in faces), faces


def test_the_check_character_stands_alone_in_a_box_and_the_flags_are_turned():
    din = Din("G1234", 98, 654321, "17")
    pdf = product_label(replace(PRODUCT, din=din))
    runs = _runs(pdf)
    assert din.check == "H"
    check = [run for run in runs if run[0].strip() == "H"]
    assert len(check) == 1
    flags = [run for run in runs if run[0].strip() == "17"]
    assert len(flags) == 1
    cm = flags[0][1]
    assert cm[0] == pytest.approx(0, abs=1e-6) and cm[1] == pytest.approx(1), "flags turned a quarter turn"
    assert check[0][1][1] == pytest.approx(0), "the check character is upright"
    # The box: a stroked rectangle around where the check character is drawn.
    content = PdfReader(io.BytesIO(pdf)).pages[0].get_contents().get_data().decode("latin-1")
    x, y = check[0][2][4] + check[0][1][4], check[0][2][5] + check[0][1][5]
    boxes = []
    tokens = content.split()
    for i, token in enumerate(tokens):
        if token == "re" and "S" in tokens[i + 1 : i + 2]:
            bx, by, bw, bh = (float(t) for t in tokens[i - 4 : i])
            boxes.append((bx, by, bw, bh))
    assert any(bx <= x <= bx + bw and by <= y <= by + bh for bx, by, bw, bh in boxes), (x, y, boxes)


def test_a_product_label_uses_only_the_embedded_unicode_font():
    fonts = _fonts(product_label(PRODUCT))
    assert fonts and all(name.startswith("DejaVuSans") for name in fonts), fonts


def test_the_same_label_renders_to_the_same_bytes():
    assert product_label(PRODUCT) == product_label(PRODUCT)
    assert specimen_label(SPECIMEN) == specimen_label(SPECIMEN)


def test_a_long_description_wraps_and_one_too_long_is_refused():
    long = "Autologous cultured dermal fibroblasts in suspension for intradermal injection"
    assert "intradermal injection" in _text(product_label(replace(PRODUCT, description=long)))
    with pytest.raises(ValueError, match="description: .* too long"):
        product_label(replace(PRODUCT, description=long * 5))


# --- product label: barcodes scan back --------------------------------------------------------------


def test_both_barcodes_of_a_product_label_scan_back_to_the_din_content():
    assert _scan(product_label(PRODUCT)) == {"Code128": "=A99992612345600", "DataMatrix": "=A99992612345600"}


def test_flags_that_carry_the_check_character_scan_back_too():
    din = Din("W0000", 7, 42, Din("W0000", 7, 42).check_flags)
    assert _scan(product_label(replace(PRODUCT, din=din))) == {
        "Code128": din.barcode,
        "DataMatrix": din.barcode,
    }


facilities = st.builds(
    lambda first, digits: first + digits,
    st.sampled_from("ABCDEFGHIJKLMNPQRSTUVWXYZ123456789"),
    st.text(alphabet="0123456789", min_size=4, max_size=4),
)


@st.composite
def dins(draw):
    facility, year = draw(facilities), draw(st.integers(0, 99))
    sequence = draw(st.integers(0, 999_999))
    plain = Din(facility, year, sequence)
    flags = draw(st.one_of(st.integers(0, 59).map(lambda n: f"{n:02d}"), st.just(plain.check_flags)))
    return Din(facility, year, sequence, flags)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dins(), st.booleans())
def test_any_din_scans_back_from_its_label_in_both_symbologies(din, autologous):
    pdf = product_label(replace(PRODUCT, din=din, autologous=autologous))
    assert _scan(pdf) == {"Code128": din.barcode, "DataMatrix": din.barcode}
    assert f"{din.facility} {din.year:02d} {din.sequence:06d}" in _text(pdf)


# --- the Data Matrix encoder ------------------------------------------------------------------------


def _bare_datamatrix(value: str) -> str | None:
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=(30 * mm, 30 * mm), invariant=1)
    symbol = DataMatrix(value=value, barWidth=0.5 * mm, x=0, y=0)
    symbol.validate()
    symbol.encode()
    symbol.computeSize()
    symbol.drawOn(canvas, 4 * mm, 4 * mm)
    canvas.showPage()
    canvas.save()
    return _scan(out.getvalue()).get("DataMatrix")


@pytest.mark.parametrize(
    "value",
    [
        "=",
        "=A99992612345600",
        ":;<=>?@",
        "Müller é",
        "ab",
        "a",
        "AB",
        "ABC",
        "COI-2026-000123",
        "[\\]^_ {|}~",
        "x" * 40,
    ],
)
def test_the_data_matrix_encodes_every_ascii_character_and_every_length(value):
    assert _bare_datamatrix(value) == value


@settings(max_examples=25, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=60))
def test_any_printable_ascii_text_scans_back_from_the_data_matrix(value):
    assert _bare_datamatrix(value) == value


def test_data_too_long_for_the_symbol_is_refused():
    symbol = DataMatrix(value="a" * 200, barWidth=1, x=0, y=0)
    symbol.validate()
    with pytest.raises(ValueError, match="Data Matrix: .* codewords"):
        symbol.encode()


# --- specimen label ---------------------------------------------------------------------------------


def test_a_specimen_label_prints_the_id_patient_specimen_and_time():
    pdf = specimen_label(SPECIMEN)
    assert pdf.startswith(b"%PDF-")
    box = PdfReader(io.BytesIO(pdf)).pages[0].mediabox
    assert (float(box.width), float(box.height)) == pytest.approx(SPECIMEN_LABEL_SIZE)
    text = _text(pdf)
    for expected in (
        "COI-2026-000123",
        GREEK,
        "DOB 1984-03-07",
        "MRN NCL-000001-1",
        "Punch biopsy 4 mm",
        "Collected 2026-12-01 09:30 EET",
    ):
        assert expected in text, expected


def test_names_in_other_scripts_print_exactly_in_the_embedded_font():
    for name in (GREEK, "Юлия Смирнова", "Đặng Thị Hồng", "Łukasz Żółć"):
        pdf = specimen_label(replace(SPECIMEN, patient_name=name))
        assert name in _text(pdf)
        fonts = _fonts(pdf)
        assert fonts and all(font.startswith("DejaVuSans") for font in fonts), fonts


def test_a_decomposed_name_is_printed_composed():
    decomposed = "Ηλε\u0301κτρα Παπαδοπου\u0301λου"
    assert GREEK in _text(specimen_label(replace(SPECIMEN, patient_name=decomposed)))


def test_a_name_the_font_cannot_print_is_refused_not_printed_as_boxes():
    with pytest.raises(ValueError, match="patient name: the label font has no letters for"):
        replace(SPECIMEN, patient_name="李小龍")


def test_either_second_identifier_is_enough():
    only_mrn = _text(specimen_label(replace(SPECIMEN, date_of_birth=None)))
    assert "MRN NCL-000001-1" in only_mrn and "DOB" not in only_mrn
    only_dob = _text(specimen_label(replace(SPECIMEN, mrn=None)))
    assert "DOB 1984-03-07" in only_dob and "MRN" not in only_dob


def test_both_barcodes_of_a_specimen_label_scan_back_to_the_chain_of_identity_id():
    assert _scan(specimen_label(SPECIMEN)) == {"Code128": "COI-2026-000123", "DataMatrix": "COI-2026-000123"}


@settings(max_examples=25, deadline=None)
@given(st.from_regex(r"[A-Z0-9][A-Z0-9-]{4,22}[A-Z0-9]", fullmatch=True))
@example("000QR00000B00000NQ0000A0")
def test_any_chain_of_identity_id_scans_back_from_its_specimen_label(coi):
    pdf = specimen_label(replace(SPECIMEN, chain_of_identity=coi, mrn="X1", patient_name="Ann Lee"))
    assert _scan(pdf) == {"Code128": coi, "DataMatrix": coi}


# --- bad input --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"din": "A99992612345600"}, "DIN: expected a Din"),
        ({"product_code": ""}, "product code: '' must be 8 characters"),
        ({"product_code": "t0001v00"}, "product code"),
        ({"product_code": "T0001V0"}, "product code"),
        ({"description": "  "}, "description: must not be empty"),
        ({"description": None}, "description: expected text"),
        ({"storage": ""}, "storage: must not be empty"),
        ({"lab_name": ""}, "lab name: must not be empty"),
        ({"autologous": "yes"}, "autologous: expected True or False"),
        ({"chain_of_identity": ""}, "chain of identity: '' must be 6 to 24"),
        ({"chain_of_identity": "coi-2026-1"}, "chain of identity"),
        ({"chain_of_identity": "-COI2026"}, "chain of identity"),
        ({"chain_of_identity": "C" * 25}, "chain of identity"),
        ({"expires_at": datetime(2026, 12, 3, 14, 0)}, "expiry: .* has no time zone"),
        ({"expires_at": date(2026, 12, 3)}, "expiry: expected a date and time"),
    ],
)
def test_bad_product_label_input_is_refused_naming_the_field(changes, message):
    with pytest.raises(ValueError, match=message):
        replace(PRODUCT, **changes)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"chain_of_identity": "COI 2026"}, "chain of identity"),
        ({"kind": ""}, "kind: must not be empty"),
        ({"site": " "}, "site: must not be empty"),
        ({"patient_name": ""}, "patient name: must not be empty"),
        ({"collected_at": datetime(2026, 12, 1, 9, 30)}, "collection time: .* has no time zone"),
        ({"date_of_birth": datetime(1984, 3, 7, tzinfo=UTC)}, "date of birth: expected a date"),
        ({"date_of_birth": "1984-03-07"}, "date of birth: expected a date"),
        ({"mrn": ""}, "MRN: must not be empty"),
        ({"date_of_birth": None, "mrn": None}, "patient identifiers: give the date of birth or the MRN"),
        ({"chain_of_identity": "COI-NCL-000001-1"}, "chain of identity: .* contains 'NCL-000001-1'"),
        (
            {"chain_of_identity": "COI-SMITH-01", "patient_name": "Jane Smith"},
            "chain of identity: .* contains 'Smith'",
        ),
    ],
)
def test_bad_specimen_label_input_is_refused_naming_the_field(changes, message):
    with pytest.raises(ValueError, match=message):
        replace(SPECIMEN, **changes)


def test_the_renderers_refuse_anything_but_their_label_data():
    with pytest.raises(ValueError, match="product label: expected a ProductLabel"):
        product_label(SPECIMEN)
    with pytest.raises(ValueError, match="specimen label: expected a SpecimenLabel"):
        specimen_label(PRODUCT)


def test_times_in_any_zone_are_accepted():
    moment = datetime(2026, 12, 3, 14, 0, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    assert "EXP 2026-12-03 14:00 UTC+05:30" in _text(product_label(replace(PRODUCT, expires_at=moment)))

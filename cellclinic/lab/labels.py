"""Product and specimen labels as PDF, with Code 128 and Data Matrix barcodes that scan back.

Pure: ReportLab only, no Django. Each function takes a frozen dataclass and returns the bytes of a
one-page PDF the size of the label stock, ready for a thermal label printer. Output is reproducible
(invariant mode): the same data always renders to the same bytes.

Sizes:

- a product label is 100 mm wide and 70 mm high, a common thermal label stock close to the width of
  ISBT 128's 4 inch (101.6 mm) label guidance;
- a specimen label is 76 mm by 51 mm (3 by 2 inches), which wraps around a specimen container.

Barcodes are drawn with ReportLab's own symbologies. Code 128 comes from `reportlab.graphics.barcode`
as it is. ReportLab's Data Matrix (ECC 200, always 44 by 44 modules, C40 encoding) encodes the characters
``:;<=>?@`` with the wrong values and pads some lengths with a stray NUL, so `DataMatrix` corrects its
C40 encoder to ISO/IEC 16022; matrix placement, error correction and drawing are ReportLab's.

A product label carries Data Structure 001 (`Din.barcode`: "=", the DIN and its flags) in both its
Code 128 and its Data Matrix, so either scans to the same content. The check character is not in the
barcode: it is printed in a box after the eye-readable DIN, with the flags turned a quarter turn
before it, as ISBT 128 prints them. A specimen label carries its chain-of-identity id in both barcodes.

Text is set in the embedded DejaVu Sans (`cellclinic.core.pdf_fonts`), so names in Latin, Greek and
Cyrillic scripts print exactly; text with a character the font does not have (Chinese, Japanese,
Korean, Arabic, ...) is refused with a ValueError rather than printed as empty boxes.
"""

import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime

from reportlab.graphics.barcode.code128 import Code128
from reportlab.graphics.barcode.ecc200datamatrix import ECC200DataMatrix
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from cellclinic.core.pdf_fonts import register_fonts
from cellclinic.lab.isbt import Din, expiry_code

PRODUCT_LABEL_SIZE = (100 * mm, 70 * mm)
SPECIMEN_LABEL_SIZE = (76 * mm, 51 * mm)
MARGIN = 3 * mm
AUTOLOGOUS_WARNING = "FOR AUTOLOGOUS USE ONLY"

CODE128_MODULE = 0.25 * mm
CODE128_SMALLEST_MODULE = 0.19 * mm
CODE128_QUIET_MODULES = 10
DATAMATRIX_MODULE = 0.4 * mm
SPECIMEN_DATAMATRIX_MODULE = 0.33 * mm
DATAMATRIX_MODULES = 44

CHAIN_OF_IDENTITY = re.compile(r"[A-Z0-9](?:[A-Z0-9-]{4,22})[A-Z0-9]")
PRODUCT_CODE = re.compile(r"[A-Z][0-9]{4}[A-Z0-9]{3}")

# ISO/IEC 16022 C40: the basic set (space, digits, capitals) and the Shift 2 set, whose values are the
# positions in this string (27 would be FNC1, 30 the upper shift for characters 128 to 255).
_C40_SHIFT2 = "!\"#$%&'()*+,-./:;<=>?@[\\]^_"
_C40_LATCH, _UNLATCH, _PAD, _UPPER_SHIFT = 230, 254, 129, 235


class DataMatrix(ECC200DataMatrix):
    """ReportLab's 44 by 44 module ECC 200 Data Matrix with a C40 encoder that follows ISO/IEC 16022.

    Characters are encoded in C40 in threes. What is left at the end of the data is encoded as the
    standard says: two values are completed with a Shift 1; otherwise the encoder leaves C40 (unlatch)
    before the last characters and writes them in ASCII mode. Unused data codewords are the standard's
    253-state pad sequence. Raises ValueError when the data does not fit the symbol.
    """

    def _encode_c40_char(self, char: str) -> list[int]:
        o = ord(char)
        if char == " ":
            return [3]
        if "0" <= char <= "9":
            return [o - 44]
        if "A" <= char <= "Z":
            return [o - 51]
        if o <= 31:
            return [0, o]
        if char in _C40_SHIFT2:
            return [1, _C40_SHIFT2.index(char)]
        if 96 <= o <= 127:
            return [2, o - 96]
        if 128 <= o <= 255:
            return [1, 30, *self._encode_c40_char(chr(o - 128))]
        raise ValueError(f"Data Matrix: {char!r} is outside the 256 characters a symbol can carry")

    def _encode_c40(self, value: str) -> list[int]:
        values = [self._encode_c40_char(char) for char in value]
        count = len(value)
        total = sum(len(v) for v in values[:count])
        while total % 3 and not (count == len(value) and total % 3 == 2):
            count -= 1
            total -= len(values[count])
        flat = [n for v in values[:count] for n in v]
        if len(flat) % 3:
            flat.append(0)
        codewords = [_C40_LATCH] if flat else []
        for i in range(0, len(flat), 3):
            packed = flat[i] * 1600 + flat[i + 1] * 40 + flat[i + 2] + 1
            codewords += [packed // 256, packed % 256]
        if flat:
            codewords.append(_UNLATCH)
        for char in value[count:]:
            o = ord(char)
            codewords += [_UPPER_SHIFT, o - 127] if o > 127 else [o + 1]
        if len(codewords) > self.cw_data:
            raise ValueError(
                f"Data Matrix: {value!r} needs {len(codewords)} codewords; the symbol holds {self.cw_data}"
            )
        if len(codewords) < self.cw_data:
            codewords.append(_PAD)
        while len(codewords) < self.cw_data:
            pad = _PAD + (149 * (len(codewords) + 1)) % 253 + 1
            codewords.append(pad if pad <= 254 else pad - 254)
        return codewords


def _aware(field: str, value: object) -> datetime:
    if not isinstance(value, datetime):
        raise ValueError(f"{field}: expected a date and time, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{field}: {value.isoformat()} has no time zone; give an aware date and time")
    return value


def _printable(field: str, value: object) -> str:
    """VALUE with runs of white space made one space, composed (NFC); ValueError if empty or unprintable.

    Printable means every character has a glyph in both the regular and the bold label font.
    """
    if not isinstance(value, str):
        raise ValueError(f"{field}: expected text, got {type(value).__name__}")
    text = unicodedata.normalize("NFC", " ".join(value.split()))
    if not text:
        raise ValueError(f"{field}: must not be empty")
    fonts = register_fonts()
    faces = [pdfmetrics.getFont(name).face.charToGlyph for name in (fonts.regular, fonts.bold)]
    missing = "".join(sorted({char for char in text if any(ord(char) not in face for face in faces)}))
    if missing:
        raise ValueError(
            f"{field}: the label font has no letters for {missing!r}, so {text!r} cannot be printed exactly"
        )
    return text


def _chain_of_identity(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"chain of identity: expected text, got {type(value).__name__}")
    if not CHAIN_OF_IDENTITY.fullmatch(value):
        raise ValueError(
            f"chain of identity: {value!r} must be 6 to 24 capital letters, digits and hyphens, "
            "starting and ending with a letter or digit"
        )
    return value


def _when(moment: datetime) -> str:
    """MOMENT on its own clock, such as "2026-12-03 14:00 CET"."""
    return f"{moment:%Y-%m-%d %H:%M} {moment.tzname()}"


@dataclass(frozen=True)
class ProductLabel:
    """What a product label carries.

    DIN is the product's Donation Identification Number with its flags; PRODUCT_CODE the 8-character
    ISBT 128 product code (description code, collection type, division), such as "T0001V00";
    DESCRIPTION the therapy name; AUTOLOGOUS whether the product is for the patient whose cells it
    was made from; CHAIN_OF_IDENTITY the patient-therapy-event id, which holds no name or MRN;
    STORAGE the storage temperature in words; EXPIRES_AT the aware expiry date and time, printed on its
    own clock; LAB_NAME the processing laboratory.
    """

    din: Din
    product_code: str
    description: str
    autologous: bool
    chain_of_identity: str
    storage: str
    expires_at: datetime
    lab_name: str

    def __post_init__(self) -> None:
        if not isinstance(self.din, Din):
            raise ValueError(f"DIN: expected a Din, got {type(self.din).__name__}")
        if not isinstance(self.product_code, str) or not PRODUCT_CODE.fullmatch(self.product_code):
            raise ValueError(
                f"product code: {self.product_code!r} must be 8 characters: a capital letter, four digits, "
                "then three capital letters or digits"
            )
        if not isinstance(self.autologous, bool):
            raise ValueError(f"autologous: expected True or False, got {self.autologous!r}")
        _chain_of_identity(self.chain_of_identity)
        _aware("expiry", self.expires_at)
        for field, value in (("description", self.description), ("storage", self.storage)):
            _printable(field, value)
        _printable("lab name", self.lab_name)


@dataclass(frozen=True)
class SpecimenLabel:
    """What a specimen label, printed at the clinic at harvest, carries.

    CHAIN_OF_IDENTITY is the patient-therapy-event id; KIND the kind of specimen ("Punch biopsy");
    SITE where it was taken and its size in words; COLLECTED_AT the aware collection time, printed on
    its own clock; PATIENT_NAME the patient's name in any script the label font prints; the second
    identifier is DATE_OF_BIRTH or MRN (at least one of them; both are printed when given).
    """

    chain_of_identity: str
    kind: str
    site: str
    collected_at: datetime
    patient_name: str
    date_of_birth: date | None = None
    mrn: str | None = None

    def __post_init__(self) -> None:
        coi = _chain_of_identity(self.chain_of_identity)
        _printable("kind", self.kind)
        _printable("site", self.site)
        _aware("collection time", self.collected_at)
        name = _printable("patient name", self.patient_name)
        if self.date_of_birth is not None and (
            isinstance(self.date_of_birth, datetime) or not isinstance(self.date_of_birth, date)
        ):
            raise ValueError(f"date of birth: expected a date, got {type(self.date_of_birth).__name__}")
        if self.mrn is not None:
            _printable("MRN", self.mrn)
        if self.date_of_birth is None and self.mrn is None:
            raise ValueError("patient identifiers: give the date of birth or the MRN as well as the name")
        for part in [self.mrn or "", *name.split()]:
            if len(part) >= 3 and part.upper() in coi:
                raise ValueError(
                    f"chain of identity: {coi!r} contains {part!r} from the patient's name or MRN; "
                    "it must not identify the patient"
                )


class _Sheet:
    """A one-page canvas of the label's size, and a cursor that writes lines of text down the page."""

    def __init__(self, size: tuple[float, float], title: str) -> None:
        self.fonts = register_fonts()
        self.out = io.BytesIO()
        self.width, self.height = size
        self.canvas = Canvas(
            self.out, pagesize=size, invariant=1, pageCompression=0, initialFontName=self.fonts.regular
        )
        self.canvas.setTitle(title)
        self.canvas.setAuthor("CellClinic")

    def code128(self, value: str, x: float, y: float, height: float, room: float) -> float:
        """Draw VALUE as Code 128 at (X, Y), its quiet zones within ROOM; return the width used.

        Bars are 0.25 mm wide, narrowed (down to 0.19 mm) when the barcode would not fit ROOM otherwise.
        """
        module = CODE128_MODULE
        symbol = self._code128(value, module, height)
        if symbol.width > room:
            module = module * room / symbol.width
            if module < CODE128_SMALLEST_MODULE:
                raise ValueError(f"barcode: {value!r} is too long for a Code 128 barcode on this label")
            symbol = self._code128(value, module, height)
        symbol.drawOn(self.canvas, x, y)
        return symbol.width

    @staticmethod
    def _code128(value: str, module: float, height: float) -> Code128:
        quiet = CODE128_QUIET_MODULES * module
        symbol = Code128(
            value,
            barWidth=module,
            barHeight=height,
            humanReadable=False,
            quiet=True,
            lquiet=quiet,
            rquiet=quiet,
        )
        symbol.wrap(0, 0)
        return symbol

    def datamatrix(self, value: str, x: float, y: float, module: float) -> None:
        """Draw VALUE as a Data Matrix with its lower left corner at (X, Y)."""
        symbol = DataMatrix(value=value, barWidth=module, x=0, y=0)
        symbol.validate()
        symbol.encode()
        symbol.computeSize()
        symbol.drawOn(self.canvas, x, y)

    def lines(
        self, field: str, text: str, y: float, *, font: str, size: float, width: float, most: int = 1
    ) -> float:
        """Write TEXT from the top line Y down, wrapped to WIDTH in at most MOST lines; return the next Y.

        The size is reduced, down to 6 points, until the text fits; ValueError names FIELD if it never
        does.
        """
        while True:
            wrapped = simpleSplit(text, font, size, width)
            fits = len(wrapped) <= most and all(
                pdfmetrics.stringWidth(line, font, size) <= width for line in wrapped
            )
            if fits:
                break
            if size <= 6:
                raise ValueError(f"{field}: {text!r} is too long to print on the label")
            size -= 0.5
        self.canvas.setFont(font, size)
        for line in wrapped:
            y -= size
            self.canvas.drawString(MARGIN, y, line)
            y -= size * 0.25
        return y

    def finish(self) -> bytes:
        self.canvas.showPage()
        self.canvas.save()
        return self.out.getvalue()


def _eye_readable_din(sheet: _Sheet, din: Din, x: float, y: float) -> None:
    """The DIN in groups, its flags turned a quarter turn, and its check character in a box."""
    canvas, font, size = sheet.canvas, sheet.fonts.bold, 12
    text = f"{din.facility} {din.year:02d} {din.sequence:06d}"
    canvas.setFont(font, size)
    canvas.drawString(x, y, text)
    x += pdfmetrics.stringWidth(text, font, size) + 1.5 * mm
    canvas.saveState()
    canvas.translate(x + 7, y)
    canvas.rotate(90)
    canvas.setFont(sheet.fonts.regular, 7)
    canvas.drawString(0, 0, din.flags)
    canvas.restoreState()
    x += 3.5 * mm
    box = size * 1.15
    canvas.setLineWidth(0.8)
    canvas.rect(x, y - size * 0.25, box, box, stroke=1, fill=0)
    canvas.setFont(font, size)
    canvas.drawCentredString(x + box / 2, y, din.check)


def product_label(data: ProductLabel) -> bytes:
    """Render one product label (100 mm by 70 mm) to PDF bytes.

    Top: the Code 128 of `Din.barcode`, the eye-readable DIN under it, and the Data Matrix of the same
    content to the right. Below: the description and product code, "FOR AUTOLOGOUS USE ONLY" in bold
    for an autologous product, the chain-of-identity id, the storage temperature, the expiry date and
    time with its ISBT 128 expiry code (Data Structure 005), and the laboratory's name.
    Raises ValueError naming the field when something cannot be printed.
    """
    if not isinstance(data, ProductLabel):
        raise ValueError(f"product label: expected a ProductLabel, got {type(data).__name__}")
    sheet = _Sheet(PRODUCT_LABEL_SIZE, f"Product {data.din.din}")
    fonts, width = sheet.fonts, sheet.width - 2 * MARGIN
    matrix_side = DATAMATRIX_MODULES * DATAMATRIX_MODULE
    top = sheet.height - MARGIN
    matrix_x = sheet.width - MARGIN - DATAMATRIX_MODULE - matrix_side
    sheet.datamatrix(data.din.barcode, matrix_x, top - DATAMATRIX_MODULE - matrix_side, DATAMATRIX_MODULE)
    bar_height = 12 * mm
    sheet.code128(data.din.barcode, MARGIN, top - bar_height, bar_height, matrix_x - 2 * MARGIN)
    _eye_readable_din(
        sheet, data.din, MARGIN + CODE128_QUIET_MODULES * CODE128_MODULE, top - bar_height - 6 * mm
    )
    y = top - matrix_side - 2 * DATAMATRIX_MODULE - 2 * mm
    y = sheet.lines(
        "description",
        _printable("description", data.description),
        y,
        font=fonts.bold,
        size=10,
        width=width,
        most=2,
    )
    y = sheet.lines(
        "product code", f"Product code {data.product_code}", y, font=fonts.regular, size=8, width=width
    )
    if data.autologous:
        y = sheet.lines("autologous", AUTOLOGOUS_WARNING, y, font=fonts.bold, size=11, width=width)
    y = sheet.lines(
        "chain of identity",
        f"Chain of identity {data.chain_of_identity}",
        y,
        font=fonts.regular,
        size=8,
        width=width,
    )
    y = sheet.lines(
        "storage", _printable("storage", data.storage), y, font=fonts.regular, size=8, width=width
    )
    expiry = f"EXP {_when(data.expires_at)}   {expiry_code(data.expires_at)}"
    sheet.lines("expiry", expiry, y, font=fonts.bold, size=9, width=width)
    sheet.lines(
        "lab name", _printable("lab name", data.lab_name), MARGIN + 8, font=fonts.regular, size=7, width=width
    )
    return sheet.finish()


def specimen_label(data: SpecimenLabel) -> bytes:
    """Render one specimen label (76 mm by 51 mm) to PDF bytes.

    Top, across the label: the Code 128 of the chain-of-identity id and the id in words. Below, on the
    left: the patient's name and second identifier (date of birth and/or MRN, as given), the kind of
    specimen and the site, and the collection time; on the right, the Data Matrix of the id. Raises
    ValueError naming the field when something cannot be printed.
    """
    if not isinstance(data, SpecimenLabel):
        raise ValueError(f"specimen label: expected a SpecimenLabel, got {type(data).__name__}")
    sheet = _Sheet(SPECIMEN_LABEL_SIZE, f"Specimen {data.chain_of_identity}")
    fonts, top = sheet.fonts, sheet.height - MARGIN
    module = SPECIMEN_DATAMATRIX_MODULE
    matrix_side = DATAMATRIX_MODULES * module
    matrix_x = sheet.width - MARGIN - module - matrix_side
    sheet.datamatrix(data.chain_of_identity, matrix_x, MARGIN + module, module)
    bar_height = 9 * mm
    sheet.code128(data.chain_of_identity, MARGIN, top - bar_height, bar_height, sheet.width - 2 * MARGIN)
    y = top - bar_height - 0.5 * mm
    y = sheet.lines(
        "chain of identity",
        data.chain_of_identity,
        y,
        font=fonts.bold,
        size=9,
        width=sheet.width - 2 * MARGIN,
    )
    width = matrix_x - 2 * MARGIN
    name = _printable("patient name", data.patient_name)
    y = sheet.lines("patient name", name, y - 1 * mm, font=fonts.bold, size=10, width=width, most=2)
    if data.date_of_birth is not None:
        y = sheet.lines(
            "date of birth",
            f"DOB {data.date_of_birth.isoformat()}",
            y,
            font=fonts.regular,
            size=8,
            width=width,
        )
    if data.mrn is not None:
        y = sheet.lines(
            "MRN", f"MRN {_printable('MRN', data.mrn)}", y, font=fonts.regular, size=8, width=width
        )
    specimen = f"{_printable('kind', data.kind)} · {_printable('site', data.site)}"
    y = sheet.lines("specimen", specimen, y, font=fonts.regular, size=8, width=width, most=2)
    sheet.lines(
        "collection time", f"Collected {_when(data.collected_at)}", y, font=fonts.regular, size=8, width=width
    )
    return sheet.finish()

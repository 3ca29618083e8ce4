"""Unicode fonts for every PDF the service prints (signed consent copies, product labels).

Why: the 14 fonts built into every PDF reader (Helvetica, Times, Courier, ...) are encoded for
Latin-1 only. With them, reportlab cannot print "Łukasz Żółć", "Đặng Thị Hồng", "Αθηνά" or
"Юлия": the letters come out as black boxes or wrong characters. A signed consent copy or a
product label carries a person's name, and that name must print exactly as it was recorded.
So every PDF embeds DejaVu Sans, a TrueType font covering Latin (including Vietnamese), Greek
and Cyrillic, shipped in ``cellclinic/core/fonts/`` with its licence (fonts/LICENSE), so that
output never depends on which fonts the machine happens to have.

Usage, with reportlab only (no Django needed)::

    fonts = register_fonts()
    body = ParagraphStyle("body", fontName=fonts.regular, fontSize=10, leading=13)
    title = ParagraphStyle("title", parent=body, fontName=fonts.bold, fontSize=14)
    hash_style = ParagraphStyle("hash", parent=body, fontName=fonts.mono, fontSize=8)

``<b>...</b>`` in Paragraph markup over a ``fonts.regular`` style switches to the bold face.
The fonts have no italic faces: ``<i>`` keeps the upright face rather than failing.

reportlab draws one glyph per character and does no text shaping, so a combining accent
(U+0300 and the like) is not moved onto the letter before it and can land badly over a capital.
Pass text through ``unicodedata.normalize("NFC", text)`` first: that turns "e" + U+0301 into
the single character "é", which the font draws whole (and escape it for Paragraph markup).
"""

import threading
from dataclasses import dataclass
from pathlib import Path

from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONT_DIR = Path(__file__).resolve().parent / "fonts"

REGULAR = "DejaVuSans"
BOLD = "DejaVuSans-Bold"
MONO = "DejaVuSansMono"

_FILES = {
    REGULAR: "DejaVuSans.ttf",
    BOLD: "DejaVuSans-Bold.ttf",
    MONO: "DejaVuSansMono.ttf",
}


@dataclass(frozen=True)
class PdfFonts:
    """Names of the registered fonts, to use as ``fontName`` in reportlab styles and canvases."""

    regular: str
    bold: str
    mono: str


_lock = threading.Lock()
_registered: PdfFonts | None = None


def register_fonts() -> PdfFonts:
    """Register the shipped DejaVu fonts with reportlab (once per process) and return their names.

    Safe to call from any code path before building a PDF, as often as wanted and from several
    threads: the first call loads the font files, later calls return the same names at no cost.
    Also registers the font families so that ``<b>`` in Paragraph markup picks the bold face
    (and ``<i>`` falls back to the upright face, as there is no italic shipped).
    """
    global _registered
    if _registered is not None:
        return _registered
    with _lock:
        if _registered is None:
            for name, filename in _FILES.items():
                if name not in pdfmetrics.getRegisteredFontNames():
                    pdfmetrics.registerFont(TTFont(name, str(FONT_DIR / filename)))
            # The font families, as pdfmetrics.registerFontFamily would record them, with no
            # italic faces: (family, bold, italic) -> face for <b>/<i> inside a Paragraph. The
            # plain slot goes last so that each face's reverse mapping, which the last call sets,
            # reads as itself: fonts.regular is upright, fonts.bold is bold, fonts.mono is plain.
            for family, normal, bold in ((REGULAR, REGULAR, BOLD), (MONO, MONO, MONO)):
                addMapping(family, 0, 1, normal)
                addMapping(family, 1, 1, bold)
                addMapping(family, 1, 0, bold)
                addMapping(family, 0, 0, normal)
            _registered = PdfFonts(regular=REGULAR, bold=BOLD, mono=MONO)
    return _registered

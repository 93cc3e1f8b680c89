"""The page every PDF of Thirdway is drawn on (fpdf2): A4, set in DejaVu Sans, the TrueType
family shipped in ``thirdway/fonts`` (reduced to the scripts of Europe and Vietnamese; how, and
the licence, beside it).

The font is embedded, cut down to the glyphs the document uses, so a name in Polish, Greek,
Vietnamese or Cyrillic prints whole, the reader needs no font of its own, and the Factur-X PDF
can be PDF/A (which wants every font embedded). The core fonts of PDF (Helvetica) are never
used: they speak Latin-1 only and are not embedded.
"""

from __future__ import annotations

import logging
import unicodedata
from functools import cache
from importlib import resources
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import OutputIntentSubType
from fpdf.output import PDFICCProfile

# The subsetter reports each table it prunes at INFO; our logs want none of it.
logging.getLogger("fontTools").setLevel(logging.WARNING)

FONT = "DejaVu"
FONTS = Path(__file__).resolve().parent / "fonts"
# Regular and bold are all the documents use; an oblique face would be one more file to ship.
FACES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}


@cache
def _srgb() -> bytes:
    """The sRGB colour profile fpdf2 ships, for the PDF/A output intent."""
    return (resources.files("fpdf") / "data" / "color_profiles" / "sRGB2014.icc").read_bytes()


class PdfDocument(FPDF):
    """An A4 document in Thirdway's font, its regular face chosen at 10 pt."""

    def __init__(self) -> None:
        super().__init__(format="A4")
        for style, name in FACES.items():
            self.add_font(FONT, style, FONTS / name)
        self.set_font(FONT, size=10)

    def normalize_text(self, text: str) -> str:
        # A name typed as a letter plus a combining accent (as some systems send it) would
        # print the accent apart without text shaping; its composed form is one glyph.
        text = unicodedata.normalize("NFC", text)
        cmap = getattr(self.current_font, "cmap", None)
        if cmap:
            # A character the font has no glyph for would show the missing-glyph box (which
            # PDF/A forbids): it prints as "?", as it did in the core fonts.
            text = "".join(c if ord(c) in cmap or c in "\n\r\t" else "?" for c in text)
        return super().normalize_text(text)

    def declare_srgb(self) -> None:
        """Say once for the file that its colours are sRGB, as the screen draws them: the
        output intent PDF/A wants (the Factur-X PDF declares itself PDF/A-3)."""
        self.add_output_intent(
            OutputIntentSubType.PDFA,
            output_condition_identifier="sRGB",
            output_condition="IEC 61966-2-1:1999",
            registry_name="http://www.color.org",
            dest_output_profile=PDFICCProfile(contents=_srgb(), n=3, alternate="DeviceRGB"),
            info="sRGB2014 (v2)",
        )

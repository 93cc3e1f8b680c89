"""Reading the PDFs Thirdway writes as a reader would (pypdf): their text, and what their fonts
carry."""

from __future__ import annotations

import io

from pypdf import PdfReader
from pypdf.generic import DictionaryObject


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def fonts_of(pdf: bytes) -> list[DictionaryObject]:
    """Every font a page of the file uses, each once."""
    found: dict[int, DictionaryObject] = {}
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for ref in page["/Resources"]["/Font"].values():
            found[ref.idnum] = ref.get_object()
    return list(found.values())


def assert_fonts_embedded(pdf: bytes) -> None:
    """Every font is a TrueType font embedded in the file (``/FontFile2``), with the widths of
    its glyphs and the map from its glyphs back to the text (``/ToUnicode``)."""
    fonts = fonts_of(pdf)
    assert fonts
    for font in fonts:
        assert (font["/Subtype"], font["/Encoding"]) == ("/Type0", "/Identity-H"), font
        assert "/ToUnicode" in font, font["/BaseFont"]
        [cid_font] = [item.get_object() for item in font["/DescendantFonts"]]
        assert cid_font["/Subtype"] == "/CIDFontType2"
        assert "/W" in cid_font and "/CIDToGIDMap" in cid_font
        descriptor = cid_font["/FontDescriptor"].get_object()
        program = descriptor["/FontFile2"].get_object().get_data()
        assert program[:4] == b"\x00\x01\x00\x00"  # a TrueType font program
        assert "DejaVuSans" in font["/BaseFont"]

"""The page every PDF is drawn on: the shipped DejaVu Sans, embedded, printing names in any
European script whole."""

from __future__ import annotations

import datetime as dt
import unicodedata

from support.pdf_files import assert_fonts_embedded, text_of
from thirdway.pdf_document import FACES, FONT, FONTS, PdfDocument

NAMES = ("Łódź Serwis Sp. z o.o.", "Ελληνικά Τεχνολογία Α.Ε.", "Nguyễn Văn Hưởng", "Жовтень")


def drawn(*lines: str) -> bytes:
    pdf = PdfDocument()
    pdf.set_creation_date(dt.datetime(2026, 12, 1, tzinfo=dt.UTC))
    pdf.add_page()
    for line in lines:
        pdf.set_font(FONT, "B")
        pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FONT)
        pdf.multi_cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def test_the_font_files_and_their_licence_ship_with_the_package():
    for name in (*FACES.values(), "LICENSE"):
        assert (FONTS / name).is_file(), name
    assert "Bitstream Vera" in (FONTS / "LICENSE").read_text()


def test_names_in_polish_greek_vietnamese_and_cyrillic_print_whole():
    text = text_of(drawn(*NAMES))
    for name in NAMES:
        assert text.count(name) == 2, name


def test_every_font_is_embedded_with_its_widths_and_unicode_map():
    assert_fonts_embedded(drawn(*NAMES))


def test_a_name_typed_with_combining_accents_prints_composed():
    decomposed = unicodedata.normalize("NFD", "Nguyễn Łódź")
    assert decomposed != "Nguyễn Łódź"
    assert "Nguyễn Łódź" in text_of(drawn(decomposed))


def test_a_character_the_font_lacks_prints_as_a_question_mark():
    assert "Tokyo ?? office" in text_of(drawn("Tokyo 東京 office"))


def test_the_same_text_on_the_same_day_makes_the_same_bytes():
    assert drawn(*NAMES) == drawn(*NAMES)

"""The documents of an approved invoice or credit note: the PDF, the Factur-X PDF (the same PDF
with its CII XML embedded) and the UBL 2.1 XML, all written from one set of facts
(``facts.py``), so the three never disagree; the writers query nothing."""

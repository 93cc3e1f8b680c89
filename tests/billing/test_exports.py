"""Accounting exports: the exact files for a fixed invoice (Globex's November: one flat line
of 200.00 at the standard 20 %: net 200.00, VAT 40.00, gross 240.00), each invoice exported
once per format, undo, and bad input refused with nothing written."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from thirdway.audit.models import AuditRecord, Source
from thirdway.billing import client_details, exports
from thirdway.billing.models import ExportBatch, ExportedInvoice

from .test_client_details import VAT_ID, reverse_charge_invoice

API = "/api/v1/billing/exports"
MAPPING = {
    "receivable_account": "1400",
    "revenue_standard": "8400",
    "revenue_zero": "8120",
    "revenue_exempt": "8100",
    "tax_standard": "3",
    "tax_zero": "Z0",
    "tax_exempt": "E0",
}


ACME_DEBTOR, GLOBEX_DEBTOR = 10001, 10002


def debtors(cast) -> None:
    """Acme books on debtor 10001, Globex on 10002."""
    for client, number in ((cast.acme, ACME_DEBTOR), (cast.globex, GLOBEX_DEBTOR)):
        exports.set_debtor(cast.admin, cast.security, client, number, source=Source.CLI)


@pytest.fixture
def ready(cast, invoices):
    exports.update_mapping(cast.admin, cast.security, MAPPING, source=Source.CLI)
    debtors(cast)
    issued = invoices.globex.issued_on
    return invoices, issued.replace(day=1)


def _rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8"))))


def _dmy(day: dt.date) -> str:
    return f"{day:%d/%m/%Y}"


def test_quickbooks_file_has_the_columns_and_the_invoice_line(cast, ready):
    invoices, month = ready
    batch = exports.make_batch(cast.admin, cast.security, "quickbooks", month, source=Source.CLI)
    header, *rows = _rows(bytes(batch.content))
    assert header == [
        "InvoiceNo",
        "Customer",
        "InvoiceDate",
        "DueDate",
        "Memo",
        "Item(Product/Service)",
        "ItemDescription",
        "ItemQuantity",
        "ItemRate",
        "ItemAmount",
        "ItemTaxCode",
        "Currency",
    ]
    globex = invoices.globex
    issued = globex.issued_on
    mine = [row for row in rows if row[0] == globex.number]
    assert mine == [
        [
            globex.number,
            cast.globex.name,
            _dmy(issued),
            _dmy(issued + dt.timedelta(days=30)),
            "",
            "8400",
            globex.lines.get().description,
            "1.00",
            "200.00",
            "200.00",
            "3",
            "EUR",
        ]
    ]
    assert len(rows) == invoices.acme.lines.count() + 1
    assert batch.invoice_count == 2


def test_xero_file_has_the_columns_and_the_invoice_line(cast, ready):
    invoices, month = ready
    batch = exports.make_batch(cast.admin, cast.security, "xero", month, source=Source.CLI)
    header, *rows = _rows(bytes(batch.content))
    assert header == [
        "*ContactName",
        "*InvoiceNumber",
        "Reference",
        "*InvoiceDate",
        "*DueDate",
        "*Description",
        "*Quantity",
        "*UnitAmount",
        "*AccountCode",
        "*TaxType",
        "Currency",
    ]
    globex = invoices.globex
    issued = globex.issued_on
    assert [row for row in rows if row[1] == globex.number] == [
        [
            cast.globex.name,
            globex.number,
            "",
            _dmy(issued),
            _dmy(issued + dt.timedelta(days=30)),
            globex.lines.get().description,
            "1.00",
            "200.00",
            "8400",
            "3",
            "EUR",
        ]
    ]


def _datev(batch) -> tuple[list[str], list[str], list[dict[str, str]]]:
    """The header's fields, the column names and each booking by column name."""
    text = bytes(batch.content).decode("cp1252")
    header, columns, *rows = text.split("\r\n")[:-1]
    names = columns.split(";")
    bookings = [dict(zip(names, row.split(";"), strict=True)) for row in rows]
    return header.split(";"), names, bookings


def test_datev_file_is_an_extf_booking_batch_with_the_gross_amount(cast, ready):
    invoices, month = ready
    batch = exports.make_batch(cast.admin, cast.security, "datev", month, source=Source.CLI)
    assert "Schl\xfcssel".encode("cp1252") in bytes(batch.content)  # Windows-1252, not UTF-8
    fields, columns, bookings = _datev(batch)
    # header version 700, booking batch (21), format version 13: 31 fields, 125 columns
    assert fields[:5] == ['"EXTF"', "700", "21", '"Buchungsstapel"', "13"]
    assert len(fields) == 31 and len(columns) == 125
    assert fields[10:16] == ["1001", "1", f"{month.year}0101", "4", f"{month:%Y%m}01", fields[15]]
    assert fields[21] == '"EUR"'
    # booking type 1 (financial accounting), accounting purpose 0, not fixed 0; the debtors
    # have five digits, so the accounts have 4 (field 14)
    assert fields[18:21] == ["1", "0", "0"] and fields[13] == "4"
    assert columns[:10] == [
        "Umsatz (ohne Soll/Haben-Kz)",
        "Soll/Haben-Kennzeichen",
        "WKZ Umsatz",
        "Kurs",
        "Basis-Umsatz",
        "WKZ Basis-Umsatz",
        "Konto",
        "Gegenkonto (ohne BU-Schlüssel)",
        "BU-Schlüssel",
        "Belegdatum",
    ]
    assert columns[13] == "Buchungstext"
    assert columns[39:41] == [
        "EU-Mitgliedstaat u. UStID (Bestimmung)",
        "EU-Steuersatz (Bestimmung)",
    ]
    assert columns[114] == "Leistungsdatum" and columns[124] == "Abw. Skontokonto"
    globex = invoices.globex
    [booking] = [b for b in bookings if b["Belegfeld 1"] == f'"{globex.number}"']
    filled = {name: value for name, value in booking.items() if value}
    assert filled == {
        "Umsatz (ohne Soll/Haben-Kz)": "240,00",
        "Soll/Haben-Kennzeichen": '"S"',
        "WKZ Umsatz": '"EUR"',
        "Konto": str(GLOBEX_DEBTOR),  # the client's debtor, against the revenue account
        "Gegenkonto (ohne BU-Schlüssel)": "8400",
        "BU-Schlüssel": '"3"',
        "Belegdatum": f"{globex.issued_on:%d%m}",
        "Belegfeld 1": f'"{globex.number}"',
        "Buchungstext": f'"{cast.globex.name}"',
        # the flat monthly line covers November: the service was done on its last day
        "Leistungsdatum": "30112026",
    }
    # Acme's invoice has standard, zero-rated and exempt lines: one booking per VAT group.
    acme = [b for b in bookings if b["Belegfeld 1"] == f'"{invoices.acme.number}"']
    assert len(acme) == 3
    # each group's service date: its lines' latest period end, else the end of the month billed
    assert {b["Leistungsdatum"] for b in acme} == {"30112026"}


def test_datev_names_the_buyers_vat_id_on_a_reverse_charge_booking(cast, books, book_time):
    exports.update_mapping(
        cast.admin,
        cast.security,
        {**MAPPING, "revenue_reverse_charge": "8337", "tax_reverse_charge": "94"},
        source=Source.CLI,
    )
    client_details.update_billing_details(
        cast.admin, cast.globex, {"vat_id": VAT_ID}, source=Source.CLI
    )
    debtors(cast)
    globex = reverse_charge_invoice(cast, books, book_time)
    month = globex.issued_on.replace(day=1)
    batch = exports.make_batch(cast.admin, cast.security, "datev", month, source=Source.CLI)
    mine = {
        b["Gegenkonto (ohne BU-Schlüssel)"]: b
        for b in _datev(batch)[2]
        if b["Belegfeld 1"] == f'"{globex.number}"'
    }
    reverse, standard = mine["8337"], mine["8400"]
    assert (reverse["Umsatz (ohne Soll/Haben-Kz)"], reverse["BU-Schlüssel"]) == ("500,00", '"94"')
    assert reverse["EU-Mitgliedstaat u. UStID (Bestimmung)"] == f'"{VAT_ID}"'
    # the consulting line has no period: the end of the month billed
    assert reverse["Leistungsdatum"] == "30112026"
    assert standard["EU-Mitgliedstaat u. UStID (Bestimmung)"] == ""  # only for reverse charge
    assert standard["Umsatz (ohne Soll/Haben-Kz)"] == "240,00"
    assert {reverse["Konto"], standard["Konto"]} == {str(GLOBEX_DEBTOR)}


@pytest.mark.parametrize(
    ("number", "says"),
    [(9999, "outside"), (70000, "outside"), (0, "outside"), (10002, "Globex")],
)
def test_a_debtor_account_outside_10000_to_69999_or_taken_is_refused(cast, number, says):
    exports.set_debtor(cast.admin, cast.security, cast.globex, 10002, source=Source.CLI)
    with pytest.raises(ValidationError) as refused:
        exports.set_debtor(cast.admin, cast.security, cast.acme, number, source=Source.CLI)
    assert says in refused.value.message_dict["debtor_account"][0]
    assert exports.debtors_of(cast.security) == {cast.globex.pk: 10002}
    with pytest.raises(PermissionDenied):
        exports.set_debtor(cast.partner, cast.security, cast.acme, 10003, source=Source.CLI)
    # the edges of the range, a change and a removal
    exports.set_debtor(cast.admin, cast.security, cast.acme, 69999, source=Source.CLI)
    exports.set_debtor(cast.admin, cast.security, cast.globex, 10000, source=Source.CLI)
    assert exports.debtors_of(cast.security) == {cast.acme.pk: 69999, cast.globex.pk: 10000}
    exports.set_debtor(cast.admin, cast.security, cast.acme, None, source=Source.CLI)
    assert exports.debtors_of(cast.security) == {cast.globex.pk: 10000}
    changes = AuditRecord.objects.filter(action="billing.debtor_account").order_by("pk")
    assert [r.changes["debtor_account"] for r in changes] == [
        [None, 10002],
        [None, 69999],
        [10002, 10000],
        [69999, None],
    ]


def test_datev_is_refused_while_a_client_has_no_debtor_or_the_accounts_are_not_4_digits(
    cast, invoices
):
    """Nothing is written and the invoices stay pending; the other formats need no debtor."""
    month = invoices.globex.issued_on.replace(day=1)
    exports.set_debtor(cast.admin, cast.security, cast.globex, 10002, source=Source.CLI)
    with pytest.raises(ValidationError) as refused:
        exports.make_batch(cast.admin, cast.security, "datev", month, source=Source.CLI)
    assert refused.value.message_dict["debtor_account"] == [
        f"No debtor account for {cast.acme.name}."
    ]
    exports.set_debtor(cast.admin, cast.security, cast.acme, 10001, source=Source.CLI)
    exports.update_mapping(cast.admin, cast.security, {"account_length": 5}, source=Source.CLI)
    with pytest.raises(ValidationError) as refused:
        exports.make_batch(cast.admin, cast.security, "datev", month, source=Source.CLI)
    assert "account_length" in refused.value.message_dict
    assert not ExportBatch.objects.exists()
    assert exports.pending(cast.security, "datev", month).count() == 2
    exports.make_batch(cast.admin, cast.security, "xero", month, source=Source.CLI)
    exports.update_mapping(cast.admin, cast.security, {"account_length": 4}, source=Source.CLI)
    batch = exports.make_batch(cast.admin, cast.security, "datev", month, source=Source.CLI)
    konten = {b["Belegfeld 1"]: b["Konto"] for b in _datev(batch)[2]}
    assert konten[f'"{invoices.globex.number}"'] == "10002"
    assert konten[f'"{invoices.acme.number}"'] == "10001"
    # undone, the batch releases its invoices; exported again with the debtors as they are now
    exports.undo_batch(cast.admin, batch, source=Source.CLI)
    exports.set_debtor(cast.admin, cast.security, cast.acme, 20001, source=Source.CLI)
    again = exports.make_batch(cast.admin, cast.security, "datev", month, source=Source.CLI)
    assert {b["Konto"] for b in _datev(again)[2]} == {"10002", "20001"}


def test_the_api_sets_reads_and_refuses_debtor_accounts(cast, api_as):
    admin = api_as(cast.admin)
    url = f"/api/v1/billing/export-mappings/{cast.security.pk}/debtors"
    for bad in (9999, 70000, "x", 10**12):
        refused = admin.put(
            f"{url}/{cast.acme.pk}", {"debtor_account": bad}, content_type="application/json"
        )
        assert refused.status_code == 400, (bad, refused.content)
        assert refused.json()["errors"][0]["field"] == "debtor_account"
    set_ = admin.put(
        f"{url}/{cast.acme.pk}", {"debtor_account": 12345}, content_type="application/json"
    )
    assert set_.status_code == 200, set_.content
    assert set_.json() == {
        "client_id": cast.acme.pk,
        "client_name": cast.acme.name,
        "debtor_account": 12345,
    }
    taken = admin.put(
        f"{url}/{cast.globex.pk}", {"debtor_account": 12345}, content_type="application/json"
    )
    assert taken.status_code == 400 and cast.acme.name in taken.json()["errors"][0]["problem"]
    assert [d["debtor_account"] for d in admin.get(url).json()] == [12345]
    assert api_as(cast.partner).get(url).status_code == 403
    gone = admin.put(
        f"{url}/{cast.acme.pk}", {"debtor_account": None}, content_type="application/json"
    )
    assert gone.json()["debtor_account"] is None
    assert admin.get(url).json() == []
    assert (
        admin.put(
            f"{url}/999999", {"debtor_account": 12345}, content_type="application/json"
        ).status_code
        == 404
    )


def test_the_mapping_page_sets_a_debtor_account_or_says_why_not(cast, web_as):
    admin = web_as(cast.admin)
    url = f"/billing/exports/mapping/{cast.security.pk}/debtors/"
    refused = admin.post(url, {"debtor-client": cast.acme.pk, "debtor-debtor_account": "5"})
    assert refused.status_code == 400
    assert "outside the debtor accounts" in refused.content.decode()
    assert not exports.debtors_of(cast.security)
    saved = admin.post(url, {"debtor-client": cast.acme.pk, "debtor-debtor_account": "10001"})
    assert saved.status_code == 302
    page = admin.get(f"/billing/exports/mapping/{cast.security.pk}/").content.decode()
    assert "10001" in page and cast.acme.name in page
    assert web_as(cast.partner).post(url, {"debtor-client": cast.acme.pk}).status_code in (403, 404)


def test_each_invoice_is_exported_once_per_format(cast, ready):
    _, month = ready
    exports.make_batch(cast.admin, cast.security, "xero", month, source=Source.CLI)
    assert exports.pending(cast.security, "xero", month).count() == 0
    with pytest.raises(ValidationError) as refused:
        exports.make_batch(cast.admin, cast.security, "xero", month, source=Source.CLI)
    assert "month" in refused.value.message_dict
    assert ExportBatch.objects.count() == 1
    # Another format is another export.
    assert exports.pending(cast.security, "datev", month).count() == 2


def test_undo_releases_the_invoices_and_is_audited(cast, ready):
    _, month = ready
    batch = exports.make_batch(cast.admin, cast.security, "xero", month, source=Source.CLI)
    exports.undo_batch(cast.admin, batch, source=Source.CLI)
    assert exports.pending(cast.security, "xero", month).count() == 2
    actions = set(AuditRecord.objects.values_list("action", flat=True))
    assert {"billing.export", "billing.export_undone"} <= actions
    with pytest.raises(ValidationError):
        exports.undo_batch(cast.admin, batch, source=Source.CLI)
    again = exports.make_batch(cast.admin, cast.security, "xero", month, source=Source.CLI)
    assert again.invoice_count == 2
    assert ExportedInvoice.objects.filter(undone=False).count() == 2


def test_the_api_makes_lists_downloads_and_undoes_a_batch(cast, ready, api_as):
    invoices, month = ready
    client = api_as(cast.admin)
    query = f"practice={cast.security.pk}&format=quickbooks&month={month:%Y-%m}"
    pending = client.get(f"{API}/pending?{query}").json()
    assert pending["count"] == 2
    assert sorted(pending["invoice_numbers"]) == sorted(
        [invoices.acme.number, invoices.globex.number]
    )
    body = {"practice": cast.security.pk, "format": "quickbooks", "month": f"{month:%Y-%m}"}
    made = client.post(API, body, content_type="application/json")
    assert made.status_code == 201, made.content
    batch_id = made.json()["id"]
    assert made.json()["invoice_count"] == 2
    assert [row["id"] for row in client.get(API).json()] == [batch_id]
    file = client.get(f"{API}/{batch_id}/file")
    assert file.status_code == 200
    assert file["Content-Type"] == "text/csv; charset=utf-8"
    assert file.content.startswith(b"InvoiceNo,Customer,")
    again = client.post(API, body, content_type="application/json")
    assert again.status_code == 400
    assert again.json()["errors"][0]["field"] == "month"
    undone = client.post(f"{API}/{batch_id}/undo")
    assert undone.status_code == 200
    assert undone.json()["undone_at"] is not None


@pytest.mark.parametrize(
    ("change", "field"),
    [({"format": "sage"}, "format"), ({"month": ""}, "month"), ({"month": "2026-13"}, "month")],
)
def test_bad_input_is_a_400_naming_the_field_and_nothing_is_written(
    cast, ready, api_as, change, field
):
    _, month = ready
    body = {"practice": cast.security.pk, "format": "xero", "month": f"{month:%Y-%m}", **change}
    answer = api_as(cast.admin).post(API, body, content_type="application/json")
    assert answer.status_code == 400
    errors = answer.json()["errors"]
    assert errors[0]["field"] == field
    assert errors[0]["allowed"]
    assert ExportBatch.objects.count() == 0


def test_the_mapping_is_read_and_changed_through_the_api(cast, api_as):
    client = api_as(cast.admin)
    url = f"/api/v1/billing/export-mappings/{cast.security.pk}"
    assert client.get(url).json()["receivable_account"] == "10000"
    changed = client.patch(url, {"receivable_account": "1200"}, content_type="application/json")
    assert changed.json()["receivable_account"] == "1200"
    refused = client.patch(url, {"account_length": 9}, content_type="application/json")
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "account_length"
    assert client.get(url).json()["account_length"] == 4


@pytest.mark.parametrize("role", ["partner", "associate", "desk", "client_admin", "outsider"])
def test_only_practice_admins_export(cast, ready, api_as, web_as, role):
    _, month = ready
    batch = exports.make_batch(cast.admin, cast.security, "xero", month, source=Source.CLI)
    user = getattr(cast, role)
    api = api_as(user)
    body = {"practice": cast.security.pk, "format": "datev", "month": f"{month:%Y-%m}"}
    assert api.post(API, body, content_type="application/json").status_code == 403
    assert api.get(API).status_code == 403
    assert api.get(f"{API}/{batch.pk}/file").status_code == 404
    assert api.post(f"{API}/{batch.pk}/undo").status_code == 404
    web = web_as(user)
    staff = user.is_network_staff
    assert web.get("/billing/exports/").status_code == (403 if staff else 404)
    assert web.get(f"/billing/exports/{batch.pk}/download/").status_code == (403 if staff else 404)
    assert web.post(f"/billing/exports/{batch.pk}/undo/").status_code == (403 if staff else 404)
    assert ExportBatch.objects.get().undone_at is None
    assert ExportBatch.objects.count() == 1


def test_the_page_previews_makes_downloads_and_undoes(cast, ready, web_as):
    _, month = ready
    web = web_as(cast.admin)
    query = f"practice={cast.security.pk}&format=datev&month={month:%Y-%m}"
    page = web.get(f"/billing/exports/?{query}")
    assert page.status_code == 200
    assert b'id="export-pending"><strong>2</strong>' in page.content
    made = web.post(
        "/billing/exports/",
        {"practice": cast.security.pk, "format": "datev", "month": f"{month:%Y-%m}"},
    )
    assert made.status_code == 302
    batch = ExportBatch.objects.get()
    download = web.get(f"/billing/exports/{batch.pk}/download/")
    assert download.content.startswith(b'"EXTF";700;21;')
    assert download["Content-Type"] == "text/csv; charset=windows-1252"
    assert web.post(f"/billing/exports/{batch.pk}/undo/").status_code == 302
    assert ExportBatch.objects.get().undone_at is not None


def test_the_page_refuses_a_bad_month_or_format_with_a_400(cast, ready, web_as):
    web = web_as(cast.admin)
    bad = web.post(
        "/billing/exports/", {"practice": cast.security.pk, "format": "xero", "month": ""}
    )
    assert bad.status_code == 400
    assert b"Give the month of the issue dates (YYYY-MM" in bad.content
    bad = web.get(f"/billing/exports/?practice={cast.security.pk}&format=sage&month=2026-11")
    assert bad.status_code == 400
    assert b"not one of the available choices" in bad.content
    assert ExportBatch.objects.count() == 0


def test_the_batch_list_asks_as_many_queries_for_many_batches_as_for_one(cast, ready, api_as):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _, month = ready
    client = api_as(cast.admin)

    def queries() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as captured:
            answer = client.get(API)
        assert answer.status_code == 200
        return len(captured), len(answer.json())

    exports.make_batch(cast.admin, cast.security, "xero", month, source=Source.CLI)
    queries()  # the token's first use is recorded once
    few, listed = queries()
    assert listed == 1
    for fmt in ("quickbooks", "datev"):
        exports.make_batch(cast.admin, cast.security, fmt, month, source=Source.CLI)
    many, listed = queries()
    assert listed == 3
    assert many == few

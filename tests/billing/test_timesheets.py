"""Weekly timesheets, reversing entries, time from ticket articles, block hours and the
billed-vs-counted report."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models.signals import post_save
from django.utils import timezone

from thirdway.audit.models import AuditRecord, Source
from thirdway.billing import blocks, drift, invoicing, issuing, services, ticket_time, timesheets
from thirdway.billing.models import (
    BlockNotice,
    Invoice,
    TimeEntry,
    Timesheet,
)
from thirdway.billing.timesheets import TimesheetRefused
from thirdway.clients import services as clients
from thirdway.network.models import Practice
from thirdway.tickets import services as ticket_services
from thirdway.tickets.models import Article

from .conftest import ten_hour_block
from .weeks import approve_weeks

D = Decimal
MONTH = dt.date(2026, 11, 1)
DAY = dt.date(2026, 11, 10)  # a Tuesday; its week starts on Monday 9 November


def sheet_of(partner, day=DAY) -> Timesheet:
    return Timesheet.objects.get(partner=partner, week_start=timesheets.week_of(day))


def run(cast, month=MONTH):
    return invoicing.run_invoices(cast.admin, cast.security, month, source=Source.CLI)


# --- the state machine -------------------------------------------------------------------------


def test_a_week_runs_monday_to_sunday_and_holds_its_entries(cast, books, book_time):
    entry = book_time(cast.partner, books.partner_rate, 60)
    sunday = book_time(cast.partner, books.partner_rate, 30, day=dt.date(2026, 11, 15))
    monday = book_time(cast.partner, books.partner_rate, 15, day=dt.date(2026, 11, 16))
    sheet = sheet_of(cast.partner_record)
    assert sheet.week_start == dt.date(2026, 11, 9)
    assert sheet.state == "open"
    assert [e.pk for e in timesheets.week_entries(sheet)] == [entry.pk, sunday.pk]
    assert monday.timesheet.week_start == dt.date(2026, 11, 16)
    assert timesheets.week_total(sheet) == (90, 90)


def test_submit_then_approve_locks_the_week(cast, books, book_time):
    book_time(cast.partner, books.partner_rate, 60)
    sheet = sheet_of(cast.partner_record)
    timesheets.submit(cast.partner, sheet, source=Source.WEB)
    sheet.refresh_from_db()
    assert sheet.state == "submitted" and sheet.submitted_at is not None
    with pytest.raises(PermissionDenied, match="your own week"):
        timesheets.approve(cast.partner, sheet, source=Source.WEB)
    with pytest.raises(PermissionDenied):
        timesheets.approve(cast.other_partner, sheet, source=Source.WEB)
    timesheets.approve(cast.admin, sheet, source=Source.WEB)
    sheet.refresh_from_db()
    assert sheet.state == "approved" and sheet.is_locked
    assert sheet.decided_by == cast.admin
    actions = set(
        AuditRecord.objects.filter(object_type="billing.timesheet").values_list("action", flat=True)
    )
    assert {"timesheet.submit", "timesheet.approve"} <= actions


def test_refused_moves_say_what_is_allowed(cast, books, book_time):
    book_time(cast.partner, books.partner_rate, 60)
    sheet = sheet_of(cast.partner_record)
    with pytest.raises(TimesheetRefused, match="open") as refused:
        timesheets.approve(cast.admin, sheet, source=Source.WEB)
    assert refused.value.allowed == ["submit"]
    timesheets.submit(cast.partner, sheet, source=Source.WEB)
    with pytest.raises(TimesheetRefused) as again:
        timesheets.submit(cast.partner, sheet, source=Source.WEB)
    assert again.value.allowed == ["approve", "reject"]
    timesheets.approve(cast.admin, sheet, source=Source.WEB)
    for act in (timesheets.submit, timesheets.approve):
        with pytest.raises(TimesheetRefused, match="locked"):
            act(cast.admin, sheet, source=Source.WEB)
    with pytest.raises(TimesheetRefused):
        timesheets.reject(cast.admin, sheet, "late", source=Source.WEB)


def test_a_rejected_week_needs_a_reason_and_opens_again(cast, books, book_time):
    entry = book_time(cast.partner, books.partner_rate, 60)
    sheet = sheet_of(cast.partner_record)
    timesheets.submit(cast.partner, sheet, source=Source.WEB)
    for reason in ("", "   ", "x" * 501):
        with pytest.raises(ValidationError) as refused:
            timesheets.reject(cast.admin, sheet, reason, source=Source.WEB)
        assert "reason" in refused.value.message_dict
    sheet.refresh_from_db()
    assert sheet.state == "submitted"
    timesheets.reject(cast.admin, sheet, "Split the firewall work by day.", source=Source.WEB)
    sheet.refresh_from_db()
    assert (sheet.state, sheet.reason) == ("rejected", "Split the firewall work by day.")
    services.update_time(cast.partner, entry, {"worked_minutes": 45}, source=Source.WEB)
    timesheets.submit(cast.partner, sheet, source=Source.WEB)
    sheet.refresh_from_db()
    assert sheet.state == "submitted" and sheet.reason == ""


def test_a_practice_lead_decides_on_their_practices_weeks_only(cast, books, book_time):
    Practice.objects.filter(pk=cast.networking.pk).update(lead=cast.other_partner_record)
    book_time(cast.associate, books.associate_rate, 30)
    book_time(cast.partner, books.partner_rate, 30)
    ada = sheet_of(cast.associate_record)
    paula = sheet_of(cast.partner_record)
    for sheet, owner in ((ada, cast.associate), (paula, cast.partner)):
        timesheets.submit(owner, sheet, source=Source.WEB)
    assert set(Timesheet.objects.for_user(cast.other_partner)) == {ada}
    with pytest.raises(PermissionDenied):
        timesheets.approve(cast.other_partner, paula, source=Source.WEB)
    with pytest.raises(PermissionDenied):
        timesheets.submit(cast.other_partner, paula, source=Source.WEB)
    timesheets.approve(cast.other_partner, ada, source=Source.WEB)
    ada.refresh_from_db()
    assert ada.state == "approved"


def test_time_in_a_submitted_or_locked_week_is_refused(cast, books, book_time):
    entry = book_time(cast.partner, books.partner_rate, 60)
    sheet = sheet_of(cast.partner_record)
    timesheets.submit(cast.partner, sheet, source=Source.WEB)
    with pytest.raises(ValidationError, match="submitted") as refused:
        book_time(cast.partner, books.partner_rate, 30, day=dt.date(2026, 11, 12))
    assert "worked_on" in refused.value.message_dict
    timesheets.approve(cast.admin, sheet, source=Source.WEB)
    with pytest.raises(ValidationError, match="locked"):
        book_time(cast.partner, books.partner_rate, 30, day=dt.date(2026, 11, 12))
    with pytest.raises(ValidationError, match="reversing entry"):
        services.update_time(cast.partner, entry, {"worked_minutes": 30}, source=Source.WEB)
    assert TimeEntry.objects.count() == 1
    entry.refresh_from_db()
    assert entry.worked_minutes == 60


# --- reversing entries -------------------------------------------------------------------------


def test_a_locked_week_changes_only_by_a_reversing_entry(cast, books, book_time):
    entry = book_time(cast.partner, books.partner_rate, 60, note="Firewall")
    approve_weeks(cast)
    locked = sheet_of(cast.partner_record)
    before = TimeEntry.objects.filter(timesheet=locked).values()[0]
    new = services.correct_time(cast.partner, entry, {"worked_minutes": 45}, source=Source.WEB)
    assert TimeEntry.objects.filter(timesheet=locked).values()[0] == before
    reversal = TimeEntry.objects.get(reverses=entry)
    assert (reversal.worked_minutes, reversal.billable_minutes) == (-60, -60)
    assert reversal.worked_on == entry.worked_on
    assert (new.worked_minutes, new.billable_minutes, new.note) == (45, 45, "Firewall")
    assert reversal.timesheet == new.timesheet != locked
    assert not new.timesheet.is_locked
    with pytest.raises(ValidationError, match="reversed already"):
        services.correct_time(cast.partner, entry, {"worked_minutes": 30}, source=Source.WEB)
    with pytest.raises(ValidationError, match="reversing entry"):
        services.correct_time(cast.partner, reversal, {"worked_minutes": 30}, source=Source.WEB)


def test_a_reversal_and_its_replacement_bill_the_difference(cast, books, book_time):
    entry = book_time(cast.partner, books.partner_rate, 60)
    approve_weeks(cast)
    services.correct_time(cast.partner, entry, {"worked_minutes": 90}, source=Source.WEB)
    approve_weeks(cast)
    run(cast)
    line = Invoice.objects.get(client=cast.acme).lines.get(description="Partner time")
    # 60 - 60 + 90 minutes = 1.5 h at 120.00
    assert (line.quantity, line.net) == (D("1.50"), D("180.00"))


def test_negative_minutes_are_refused_outside_a_reversal(cast, books, book_time):
    with pytest.raises(ValidationError) as refused:
        book_time(cast.partner, books.partner_rate, -30)
    assert "worked_minutes" in refused.value.message_dict
    assert not TimeEntry.objects.exists()


# --- only approved time is invoiced ------------------------------------------------------------


def test_the_run_bills_only_time_of_approved_weeks(cast, books, book_time):
    book_time(cast.partner, books.partner_rate, 60)
    book_time(cast.associate, books.associate_rate, 30)
    run(cast)
    draft = Invoice.objects.get(client=cast.acme)
    assert not draft.lines.filter(contract_line__unit="hour").exists()
    assert TimeEntry.objects.filter(invoice_line__isnull=False).count() == 0
    sheet = sheet_of(cast.partner_record)
    timesheets.submit(cast.partner, sheet, source=Source.WEB)
    run(cast)
    assert not draft.lines.filter(contract_line__unit="hour").exists()  # submitted, not approved
    timesheets.approve(cast.admin, sheet, source=Source.WEB)
    run(cast)
    hourly = draft.lines.filter(contract_line__unit="hour")
    assert [(line.description, line.quantity) for line in hourly] == [("Partner time", D(1))]
    assert TimeEntry.objects.get(partner=cast.associate_record).invoice_line is None


# --- time from ticket articles -----------------------------------------------------------------


@pytest.fixture
def ticket(cast):
    return ticket_services.create_ticket(
        cast.admin,
        cast.acme,
        subject="Firewall rules",
        body_text="Please open port 443.",
        practice_id=cast.security.pk,
        source=Source.CLI,
    )


def test_a_partners_reply_minutes_become_time_and_follow_corrections(cast, books, ticket):
    article = ticket_services.reply(
        cast.partner, ticket, body_text="Done.", time_spent_minutes=40, source=Source.WEB
    )
    entry = TimeEntry.objects.get(article=article)
    day = timesheets.day_of(cast.partner_record, article.created_at)
    assert (entry.contract_line, entry.worked_minutes, entry.worked_on) == (
        books.partner_rate,
        40,
        day,
    )
    assert entry.ticket == ticket and entry.billing_status == "billable"
    ticket_services.correct_time(cast.partner, article, time_spent_minutes=55, source=Source.WEB)
    entry.refresh_from_db()
    assert entry.worked_minutes == 55 and TimeEntry.objects.count() == 1
    timesheets.submit(cast.partner, entry.timesheet, source=Source.WEB)
    ticket_services.correct_time(cast.partner, article, time_spent_minutes=50, source=Source.WEB)
    entry.refresh_from_db()
    assert entry.worked_minutes == 50  # submitted, not locked: still in step
    timesheets.approve(cast.admin, entry.timesheet, source=Source.WEB)
    ticket_services.correct_time(cast.partner, article, time_spent_minutes=20, source=Source.WEB)
    entry.refresh_from_db()
    assert entry.worked_minutes == 50  # the locked row is untouched
    live = TimeEntry.objects.get(article=article, reverses=None, reversed_by=None)
    assert live.worked_minutes == 20
    assert TimeEntry.objects.get(reverses=entry).worked_minutes == -50
    assert (
        sum(TimeEntry.objects.filter(article=article).values_list("worked_minutes", flat=True))
        == 20
    )


def test_time_follows_the_services_not_a_save_signal(cast, books, ticket):
    """Billing hears of minutes only through the tickets services' explicit call: saving an
    article by other means (a data fix in the shell) makes no time entry behind anyone's back."""
    article = ticket_services.note(
        cast.partner, ticket, body_text="Checked.", time_spent_minutes=30, source=Source.WEB
    )
    assert TimeEntry.objects.get(article=article).worked_minutes == 30
    assert not post_save.has_listeners(Article)
    article.time_spent_minutes = 45
    article.save(update_fields=["time_spent_minutes"])
    assert TimeEntry.objects.get(article=article).worked_minutes == 30
    ticket_services.correct_time(cast.partner, article, time_spent_minutes=45, source=Source.WEB)
    assert TimeEntry.objects.get(article=article).worked_minutes == 45


def test_minutes_without_a_covering_line_or_a_partner_stay_on_the_ticket(cast, ticket):
    ticket_services.reply(
        cast.partner, ticket, body_text="Done.", time_spent_minutes=40, source=Source.WEB
    )
    assert not TimeEntry.objects.exists()  # Acme has no hourly line yet
    ticket_services.reply(cast.client_admin, ticket, body_text="Thanks.", source=Source.WEB)
    assert not TimeEntry.objects.exists()


def test_the_line_for_a_ticket_prefers_block_hours_then_the_authors_role(cast, books, ticket):
    block = services.create_contract(
        cast.admin,
        client=cast.acme,
        practice=cast.security,
        kind="block_hours",
        name="Acme block",
        starts_on=dt.date(2026, 1, 1),
        block_minutes=600,
        source=Source.CLI,
    )
    any_role = services.add_contract_line(
        cast.admin, block, description="Any", unit="hour", price=D(90), source=Source.CLI
    )
    assert ticket_time.line_for(ticket, cast.partner_record, DAY) == any_role
    partner_only = services.add_contract_line(
        cast.admin,
        block,
        description="Partner",
        unit="hour",
        role="partner",
        price=D(95),
        source=Source.CLI,
    )
    assert ticket_time.line_for(ticket, cast.partner_record, DAY) == partner_only
    assert ticket_time.line_for(ticket, cast.associate_record, DAY) == any_role
    assert ticket_time.line_for(ticket, cast.partner_record, dt.date(2025, 12, 31)) is None


def test_a_correction_to_zero_removes_the_open_entry(cast, books, ticket):
    article = ticket_services.note(
        cast.partner, ticket, body_text="Checked.", time_spent_minutes=30, source=Source.WEB
    )
    assert TimeEntry.objects.filter(article=article).count() == 1
    ticket_services.correct_time(cast.partner, article, time_spent_minutes=0, source=Source.WEB)
    assert not TimeEntry.objects.filter(article=article).exists()
    with pytest.raises(ValidationError):
        ticket_services.correct_time(
            cast.partner, article, time_spent_minutes=2000, source=Source.WEB
        )
    with pytest.raises(PermissionDenied):
        ticket_services.correct_time(
            cast.other_partner, article, time_spent_minutes=10, source=Source.WEB
        )


# --- block hours -------------------------------------------------------------------------------


@pytest.fixture
def block(cast):
    return ten_hour_block(cast, 100, block_price=D("900.00"))


def test_the_block_warns_once_at_its_threshold(cast, block, book_time):
    contract, rate = block
    book_time(cast.partner, rate, 7 * 60)
    assert not BlockNotice.objects.exists()
    state = blocks.burn(contract)
    assert (state.bought, state.used, state.left, state.percent_used) == (600, 420, 180, 70)
    book_time(cast.partner, rate, 60, day=dt.date(2026, 11, 11))  # 480 of 600: 80 %
    notices = BlockNotice.objects.order_by("recipient_id")
    assert [n.recipient for n in notices] == [cast.partner, cast.client_admin]
    assert "8.00 of 10.00 prepaid hours used" in notices[0].text
    book_time(cast.partner, rate, 60, day=dt.date(2026, 11, 12))
    assert BlockNotice.objects.count() == 2  # once per block
    assert list(BlockNotice.objects.for_user(cast.client_admin)) == [notices[1]]
    assert not BlockNotice.objects.for_user(cast.other_partner).exists()


def test_a_top_up_adds_hours_rearms_the_warning_and_is_billed_once(cast, block, book_time):
    contract, rate = block
    book_time(cast.partner, rate, 9 * 60)
    assert BlockNotice.objects.count() == 2
    with pytest.raises(PermissionDenied):
        blocks.top_up(cast.partner, contract, minutes=600, price=D(900), source=Source.WEB)
    for minutes in (0, -60, 10**9):
        with pytest.raises(ValidationError) as refused:
            blocks.top_up(cast.admin, contract, minutes=minutes, price=D(1), source=Source.WEB)
        assert "minutes" in refused.value.message_dict
    with pytest.raises(ValidationError) as negative:
        blocks.top_up(cast.admin, contract, minutes=60, price=D(-1), source=Source.WEB)
    assert "price" in negative.value.message_dict
    assert not contract.top_ups.exists()
    blocks.top_up(cast.admin, contract, minutes=600, price=D("850.00"), source=Source.WEB)
    assert blocks.burn(contract).bought == 1200 and blocks.burn(contract).left == 660
    assert AuditRecord.objects.filter(action="contract.top_up").count() == 1
    book_time(cast.partner, rate, 7 * 60, day=dt.date(2026, 11, 11))  # 960 of 1200: 80 %
    assert BlockNotice.objects.count() == 4
    approve_weeks(cast)
    this_month = timezone.localdate().replace(day=1)  # the top-up is billed from its month
    run(cast, this_month)
    run(cast, this_month)
    invoice = Invoice.objects.get(client=cast.acme)
    lines = {line.description: line.net for line in invoice.lines.all()}
    assert lines["Top-up of 10.00 prepaid hours: Ten hours"] == D("850.00")
    # 16 h worked, 20 h bought: nothing beyond the block
    assert lines["Support beyond the block"] == D("0.00")


# --- billed vs counted -------------------------------------------------------------------------


def test_billed_vs_counted_against_hand_computed_figures(cast, books):
    approve_weeks(cast)
    run(cast)
    issuing.approve_invoice(cast.admin, Invoice.objects.get(client=cast.acme), source=Source.CLI)
    clients.create_asset(
        cast.admin, cast.acme, name="NEW-PC", kind="workstation", source=Source.CLI
    )
    clients.create_asset(cast.admin, cast.acme, name="M365", kind="cloud", source=Source.CLI)
    rows = {row.line.pk: row for row in drift.drift(cast.security, on=dt.date(2026, 12, 1))}
    device = rows[books.per_device.pk]
    # billed 2 devices (laptop, server); counted 3 (a desktop more, the cloud one not counted)
    assert (device.billed, device.counted, device.difference) == (D(2), D(3), D(1))
    assert device.money == D("12.50")
    assert device.billed_on == "INV-000001"
    user = rows[books.per_user.pk]
    assert (user.billed, user.counted, user.money) == (D(2), D(2), D("0.00"))
    assert books.flat.pk not in rows
    text = drift.as_csv(list(rows.values()))
    assert text.splitlines()[0] == ",".join(drift.HEADER)
    assert (
        "Acme Bakery,Acme managed,Device care,device,12.50,INV-000001,2.00,3.00,1.00,12.50" in text
    )


def test_a_line_never_invoiced_counts_as_billed_zero(cast, books):
    rows = {row.line.pk: row for row in drift.drift(cast.security, on=dt.date(2026, 12, 1))}
    assert rows[books.per_user.pk].billed == 0
    assert rows[books.per_user.pk].money == D("19.98")  # 2 users at 9.99

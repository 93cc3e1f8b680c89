"""Pages of weeks, corrections, block hours and billed vs counted, for each role."""

from __future__ import annotations

import datetime as dt

import pytest

from thirdway.audit.models import Source
from thirdway.billing import invoicing, issuing
from thirdway.billing.models import BlockTopUp, Invoice, TimeEntry, Timesheet

from .conftest import ten_hour_block
from .weeks import approve_weeks

DAY = dt.date(2026, 11, 10)
ROLES = [
    "admin",
    "partner",
    "other_partner",
    "associate",
    "desk",
    "client_admin",
    "client_user",
    "outsider",
]


@pytest.fixture
def block(cast):
    return ten_hour_block(cast, 90)[0]


def _entry(books, minutes=60, **extra):
    return {
        "contract_line": books.partner_rate.pk,
        "worked_on": DAY.isoformat(),
        "kind": "work",
        "worked_minutes": minutes,
        "billing_status": "billable",
        **extra,
    }


def test_a_partner_books_time_in_their_week_and_submits_it(cast, books, web_as):
    browser = web_as(cast.partner)
    page = browser.get(f"/billing/week/?day={DAY}")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Mon 9 Nov 2026 – Sun 15 Nov 2026" in html and "No time this week." in html
    bad = browser.post(f"/billing/week/?day={DAY}", _entry(books, 5000))
    assert bad.status_code == 400
    assert not TimeEntry.objects.exists()
    outside = browser.post(f"/billing/week/?day={DAY}", _entry(books, worked_on="2025-01-01"))
    assert outside.status_code == 400 and "effective dates" in outside.content.decode()
    added = browser.post(f"/billing/week/?day={DAY}", _entry(books, 75))
    assert added.status_code == 302
    sheet = Timesheet.objects.get(partner=cast.partner_record)
    assert browser.post(f"/billing/weeks/{sheet.pk}/submit/").status_code == 302
    sheet.refresh_from_db()
    assert sheet.state == "submitted"
    html = browser.get(f"/billing/week/?day={DAY}").content.decode()
    assert "75 min worked" in html and 'id="week-submit"' not in html
    assert 'id="add-entry"' not in html
    assert browser.post(f"/billing/week/?day={DAY}", _entry(books, 30)).status_code == 200
    assert TimeEntry.objects.count() == 1
    own = browser.post(f"/billing/weeks/{sheet.pk}/approve/")
    assert own.status_code == 403
    again = browser.post(f"/billing/weeks/{sheet.pk}/submit/")
    assert again.status_code == 409 and "cannot be submitted" in again.content.decode()


def test_the_admin_approves_or_rejects_from_the_queue(cast, books, book_time, web_as):
    book_time(cast.partner, books.partner_rate, 60)
    book_time(cast.associate, books.associate_rate, 30)
    for sheet in Timesheet.objects.all():
        from thirdway.billing import timesheets

        timesheets.submit(cast.admin, sheet, source=Source.CLI)
    paula = Timesheet.objects.get(partner=cast.partner_record)
    ada = Timesheet.objects.get(partner=cast.associate_record)
    admin = web_as(cast.admin)
    queue = admin.get("/billing/weeks/").content.decode()
    assert "Paula Partner" in queue and "Ada Associate" in queue
    assert admin.post(f"/billing/weeks/{paula.pk}/approve/").status_code == 302
    no_reason = admin.post(f"/billing/weeks/{ada.pk}/reject/", {"reason": ""})
    assert no_reason.status_code == 400
    ada.refresh_from_db()
    assert ada.state == "submitted"
    assert (
        admin.post(f"/billing/weeks/{ada.pk}/reject/", {"reason": "Which site?"}).status_code == 302
    )
    paula.refresh_from_db()
    ada.refresh_from_db()
    assert (paula.state, ada.state, ada.reason) == ("approved", "rejected", "Which site?")
    assert "No week waits for you." in admin.get("/billing/weeks/").content.decode()
    mine = web_as(cast.associate).get(f"/billing/week/?day={DAY}").content.decode()
    assert "Rejected: Which site?" in mine and 'id="week-submit"' in mine


def test_a_locked_entry_is_corrected_by_a_reversing_entry_on_its_page(
    cast, books, book_time, web_as
):
    entry = book_time(cast.partner, books.partner_rate, 60)
    approve_weeks(cast)
    browser = web_as(cast.partner)
    form = browser.get(f"/billing/time/{entry.pk}/correct/").content.decode()
    assert "reversing entry" in form
    assert (
        browser.post(f"/billing/time/{entry.pk}/correct/", {"worked_minutes": -5}).status_code
        == 400
    )
    done = browser.post(f"/billing/time/{entry.pk}/correct/", {"worked_minutes": 45})
    assert done.status_code == 302
    assert sorted(TimeEntry.objects.values_list("worked_minutes", flat=True)) == [-60, 45, 60]
    # The locked week no longer offers to correct the entry reversed; the replacement's week
    # offers the replacement, not the reversal.
    locked = browser.get(f"/billing/week/?day={entry.worked_on}").content.decode()
    assert f"/billing/time/{entry.pk}/correct/" not in locked
    replacement = TimeEntry.objects.select_related("timesheet").get(worked_minutes=45)
    reversal = TimeEntry.objects.get(reverses=entry)
    week = browser.get(f"/billing/week/?day={replacement.timesheet.week_start}").content.decode()
    assert f"/billing/time/{replacement.pk}/correct/" in week
    assert f"/billing/time/{reversal.pk}/correct/" not in week
    other = web_as(cast.other_partner).get(f"/billing/time/{entry.pk}/correct/")
    assert other.status_code == 404


WEEK_PAGES = {
    "/billing/week/": {"partner", "other_partner", "associate"},
    "/billing/weeks/": {"admin", "partner", "other_partner", "associate", "desk"},
    "/billing/weeks/all/": {"admin", "partner", "other_partner", "associate"},
    "/billing/billed-vs-counted/": {"admin"},
    "/billing/contracts/{block}/top-up/": {"admin"},
}


@pytest.mark.parametrize("role", ROLES)
def test_each_page_answers_each_role(cast, books, block, web_as, role):
    browser = web_as(getattr(cast, role))
    for page, allowed in WEEK_PAGES.items():
        status = browser.get(page.format(block=block.pk)).status_code
        if role in allowed:
            assert status == 200, page
        elif role == "admin" and page == "/billing/week/":
            assert status == 302  # no partner record: the queue instead
        else:
            assert status in (403, 404), page
            assert status == 404 or getattr(cast, role).is_network_staff, page


def test_a_top_up_from_the_page(cast, block, web_as):
    admin = web_as(cast.admin)
    url = f"/billing/contracts/{block.pk}/top-up/"
    for bad in ({"hours": "0", "price": "1"}, {"hours": "2", "price": "-1"}, {"hours": "x"}):
        assert admin.post(url, bad).status_code == 400
    assert not BlockTopUp.objects.exists()
    assert admin.post(url, {"hours": "2.5", "price": "225.00"}).status_code == 302
    assert BlockTopUp.objects.get().minutes == 150
    page = admin.get(f"/billing/contracts/{block.pk}/").content.decode()
    assert "Bought <strong>12.50 h</strong>" in page


def test_the_burn_down_on_the_client_page_and_in_the_portal(cast, block, book_time, web_as):
    book_time(cast.partner, block.lines.get(), 8 * 60)  # 80 %: the warning
    for role in ("admin", "partner"):
        page = web_as(getattr(cast, role)).get(f"/clients/{cast.acme.pk}/").content.decode()
        assert f'id="burn-down-{block.pk}"' in page, role
        assert "80 % of the block is used" in page
    other = web_as(cast.other_partner).get(f"/clients/{cast.globex.pk}/").content.decode()
    assert "burn-down" not in other
    portal = web_as(cast.client_admin).get("/portal/").content.decode()
    assert "Used <strong>8.00 h</strong>" in portal and "Left" in portal
    assert "Top up" not in portal
    assert "burn-down" not in web_as(cast.client_user).get("/portal/").content.decode()
    assert "burn-down" not in web_as(cast.other_client_admin).get("/portal/").content.decode()


def test_billed_vs_counted_page_and_csv(cast, books, web_as):
    approve_weeks(cast)
    invoicing.run_invoices(cast.admin, cast.security, dt.date(2026, 11, 1), source=Source.CLI)
    issuing.approve_invoice(cast.admin, Invoice.objects.get(client=cast.acme), source=Source.CLI)
    admin = web_as(cast.admin)
    page = admin.get("/billing/billed-vs-counted/").content.decode()
    assert "Device care" in page and "INV-000001" in page
    csv = admin.get("/billing/billed-vs-counted/?format=csv")
    assert csv["Content-Type"].startswith("text/csv")
    assert csv.content.decode().startswith("client,contract,line,unit,price,")
    assert "Acme Bakery,Acme managed,User support,user,9.99,INV-000001,2.00,2.00,0.00,0.00" in (
        csv.content.decode()
    )
    assert web_as(cast.partner).get("/billing/billed-vs-counted/?format=csv").status_code == 403


def test_the_admin_corrects_a_partners_entry_and_returns_to_that_week(
    cast, books, book_time, web_as
):
    entry = book_time(cast.partner, books.partner_rate, 60)
    sheet = Timesheet.objects.get(partner=cast.partner_record)
    admin = web_as(cast.admin)
    week = admin.get(f"/billing/weeks/{sheet.pk}/").content.decode()
    assert f"/billing/time/{entry.pk}/correct/?next=" in week
    assert f"/billing/time/{entry.pk}/correct/" in admin.get("/billing/time/").content.decode()
    url = f"/billing/time/{entry.pk}/correct/"
    fields = {"worked_minutes": 60, "kind": "work", "billing_status": "billable"}
    for bad in (
        {"worked_on": "1800-01-01"},
        {"kind": "nap"},
        {"billing_status": "free"},
        {"start_time": "25:00"},
        {"note": "x" * 501},
    ):
        assert admin.post(url, {**fields, **bad}).status_code == 400, bad
    entry.refresh_from_db()
    assert (entry.worked_on, entry.kind, entry.start_time, entry.note) == (DAY, "work", None, "")
    done = admin.post(
        f"{url}?next=https://elsewhere.example/",
        {
            **fields,
            "worked_on": "2026-11-11",
            "start_time": "09:30",
            "kind": "onsite",
            "billing_status": "no_charge",
        },
    )
    assert done.status_code == 302 and done["Location"] == f"/billing/weeks/{sheet.pk}/"
    entry.refresh_from_db()
    assert (entry.worked_on, entry.start_time, entry.kind, entry.billing_status) == (
        dt.date(2026, 11, 11),
        dt.time(9, 30),
        "onsite",
        "no_charge",
    )
    back = admin.post(f"{url}?next=/billing/time/%3Fpage%3D1", {**fields, "kind": "travel"})
    assert back["Location"] == "/billing/time/?page=1"


def test_a_partner_sees_correct_only_on_their_own_time(cast, books, book_time, web_as):
    own = book_time(cast.partner, books.partner_rate, 60)
    theirs = book_time(cast.associate, books.associate_rate, 30)
    listed = web_as(cast.partner).get("/billing/time/").content.decode()
    assert f"/billing/time/{own.pk}/correct/" in listed
    assert f"/billing/time/{theirs.pk}/correct/" not in listed
    refused = web_as(cast.partner).post(f"/billing/time/{theirs.pk}/correct/", {"kind": "travel"})
    assert refused.status_code in (403, 404)
    theirs.refresh_from_db()
    assert theirs.kind == "work"


def test_the_timesheets_list_shows_each_week_one_may_see_and_filters_it(
    cast, books, book_time, web_as
):
    book_time(cast.partner, books.partner_rate, 60)
    book_time(cast.associate, books.associate_rate, 30, day=dt.date(2026, 11, 17))
    paula = Timesheet.objects.get(partner=cast.partner_record)
    ada = Timesheet.objects.get(partner__user=cast.associate)
    admin = web_as(cast.admin)
    listed = admin.get("/billing/weeks/all/")
    assert [sheet.pk for sheet in listed.context["page"]] == [ada.pk, paula.pk]
    assert (listed.context["page"][1].worked, listed.context["page"][1].billable) == (60, 60)
    assert "/billing/weeks/all/" in admin.get("/billing/weeks/").content.decode()

    def shown(query: str) -> list[int]:
        answer = admin.get(f"/billing/weeks/all/?{query}")
        assert answer.status_code == 200, answer.context["form"].errors
        return [sheet.pk for sheet in answer.context["page"]]

    assert shown(f"partner={cast.partner_record.pk}") == [paula.pk]
    assert shown("week=2026-11-19") == [ada.pk]
    assert shown("state=open") == [ada.pk, paula.pk]
    assert shown("state=submitted") == []
    for bad in ("week=1800-01-01", "state=lost", "partner=987654", "week=" + "9" * 300):
        refused = admin.get(f"/billing/weeks/all/?{bad}")
        assert refused.status_code == 400, bad
        assert 'class="error"' in refused.content.decode()
    mine = web_as(cast.associate).get("/billing/weeks/all/")
    assert [sheet.pk for sheet in mine.context["page"]] == [ada.pk]


def test_the_timesheets_list_is_paginated(cast, books, web_as):
    monday = dt.date(2024, 1, 1)
    Timesheet.objects.bulk_create(
        Timesheet(partner=cast.partner_record, week_start=monday + dt.timedelta(weeks=n))
        for n in range(51)
    )
    admin = web_as(cast.admin)
    first = admin.get("/billing/weeks/all/?state=open")
    assert len(first.context["page"]) == 50
    assert "?state=open&page=2" in first.content.decode()
    second = admin.get("/billing/weeks/all/?state=open&page=2")
    assert [sheet.week_start for sheet in second.context["page"]] == [monday]


def test_the_admin_submits_a_partners_open_week_from_its_page(cast, books, book_time, web_as):
    book_time(cast.partner, books.partner_rate, 60)
    sheet = Timesheet.objects.get(partner=cast.partner_record)
    admin = web_as(cast.admin)
    assert 'id="week-submit"' in admin.get(f"/billing/weeks/{sheet.pk}/").content.decode()
    lead_page = web_as(cast.associate).get(f"/billing/weeks/{sheet.pk}/")
    assert lead_page.status_code == 404
    done = admin.post(f"/billing/weeks/{sheet.pk}/submit/")
    assert (done.status_code, done["Location"]) == (302, f"/billing/weeks/{sheet.pk}/")
    sheet.refresh_from_db()
    assert sheet.state == "submitted"
    again = admin.post(f"/billing/weeks/{sheet.pk}/submit/")
    assert again.status_code == 409
    assert 'id="week-submit"' not in again.content.decode()

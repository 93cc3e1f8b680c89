"""The dashboards in a real chromium: the desk's for an admin, a partner's, on a desktop and a
phone screen, and a tile that opens its queue."""

from __future__ import annotations

import datetime as dt

import pytest

from thirdway.audit.models import Source
from thirdway.network import services as network

SHOTS = "dashboard"


def _rota(cast, board) -> None:
    rota = network.create_rota(
        cast.admin,
        name="Security on call",
        practice=cast.security,
        kind="daily",
        time_zone="UTC",
        handover_time=dt.time(9, 0),
        starts_on=board.now.date(),
        members=[cast.other_partner_record, cast.partner_record],
        source=Source.CLI,
    )
    network.add_absence(
        cast.admin,
        cast.associate_record,
        kind="sick",
        starts_at=board.now - dt.timedelta(hours=3),
        ends_at=board.now + dt.timedelta(days=2),
        source=Source.CLI,
    )
    assert rota.pk


def _shoot(page, tmp_path, name: str) -> None:
    from support.browser import DESKTOP, PHONE, fits

    page.set_viewport_size(DESKTOP)
    page.screenshot(path=str(tmp_path / f"{SHOTS}-{name}-1366.png"), full_page=True)
    assert fits(page)
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(tmp_path / f"{SHOTS}-{name}-390.png"), full_page=True)
    assert fits(page)


@pytest.mark.browser
def test_an_admin_reads_the_desks_dashboard_and_opens_a_tile(
    cast, board, live_server, browser, tmp_path
):
    from playwright.sync_api import expect

    from support.browser import DESKTOP, sign_in

    _rota(cast, board)
    page = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(page, live_server.url, "admin", "/")
    dashboard = page.locator("#desk-dashboard")
    expect(dashboard.locator("[data-tile=unassigned] strong")).to_have_text("3")
    expect(dashboard.locator("[data-tile=unassignable] strong")).to_have_text("1")
    expect(page.locator("#sla-attainment")).to_contain_text("50%")
    expect(page.locator("#on-call-now")).to_contain_text("Oscar Other")
    expect(page.locator("#away-now")).to_contain_text("Ada Associate")
    bars = page.locator("#open-by-priority svg rect.fill")
    expect(bars).to_have_count(4)
    _shoot(page, tmp_path, "desk")
    page.locator("[data-tile=sla-2]").click()
    expect(page.locator("tr[data-ticket]")).to_have_count(2)
    expect(page.locator("select[name=sla]")).to_have_value("soon1h")
    # The queue's filters now hold "Resolved" and "Visit" too.
    expect(page.locator("select[name=resolved]")).to_have_value("")
    _shoot(page, tmp_path, "queue")


@pytest.mark.browser
def test_a_partner_reads_their_dashboard_and_opens_todays_visits(
    cast, board, live_server, browser, tmp_path
):
    from playwright.sync_api import expect

    from support.browser import DESKTOP, sign_in

    _rota(cast, board)
    page = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(page, live_server.url, "paula", "/")
    mine = page.locator("#partner-dashboard")
    expect(mine.locator("[data-tile=mine] strong")).to_have_text("4")
    expect(mine.locator("[data-tile=visits] strong")).to_have_text("1")
    expect(page.locator("#my-queue li")).to_have_count(4)
    expect(page.locator("#my-shifts li")).not_to_have_count(0)
    expect(page.locator("#desk-dashboard")).to_have_count(0)
    _shoot(page, tmp_path, "partner")
    page.locator("[data-tile=visits]").click()
    expect(page.locator("tr[data-ticket]")).to_have_count(1)
    expect(page.locator("tr[data-ticket]")).to_have_attribute(
        "data-ticket", board.tickets["paula_visit"].number
    )

"""The desk in a real browser: keyboard shortcuts, htmx updates in place, canned replies, and
pages that fit a phone's width."""

from __future__ import annotations

import re

import pytest

from support.browser import settled as _settled
from support.browser import sign_in as _sign_in
from thirdway.audit.models import Source
from thirdway.tickets import services
from thirdway.tickets.models import CannedReply, Ticket

PHONE = {"width": 360, "height": 740}


def _arrived(page, url: str) -> None:
    """Wait for the page at ``url`` to have run its scripts: the URL changes as soon as the new
    page starts to arrive, and a key pressed before its deferred shortcuts script ran is lost."""
    from playwright.sync_api import expect

    expect(page).to_have_url(url)
    page.wait_for_load_state()


def _fits_the_screen(page) -> bool:
    """Nothing sticks out sideways (a mobile browser would widen its viewport to show it)."""
    width = page.evaluate("document.documentElement.scrollWidth")
    return width <= PHONE["width"]


@pytest.mark.browser
def test_a_partner_works_the_queue_with_the_keyboard(cast, desk, live_server, browser):
    from playwright.sync_api import expect

    CannedReply.objects.create(name="On my way", body="A partner is on the way.")
    url = live_server.url
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.set_default_timeout(20_000)
    _sign_in(page, url, "paula", "/tickets/%3Fqueue%3Dall")
    _arrived(page, f"{url}/tickets/?queue=all")
    rows = page.locator("#ticket-rows tr[data-ticket]")
    numbers = [rows.nth(n).get_attribute("data-ticket") for n in range(rows.count())]
    assert numbers == [getattr(desk, name).number for name in ("t6", "t5", "t4", "t3", "t1")]

    # "?" opens the help, Escape closes it.
    page.keyboard.press("?")
    expect(page.locator("#shortcut-help")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#shortcut-help")).to_be_hidden()

    # j / k move a cursor over the rows; Enter opens the ticket under it.
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    page.keyboard.press("j")
    expect(page.locator("#ticket-rows tr.cursor")).to_have_attribute("data-ticket", numbers[1])
    page.keyboard.press("Enter")
    _arrived(page, f"{url}/tickets/{numbers[1]}/")

    # On a ticket, j / k walk the queue it came from; g q goes back to that queue.
    page.keyboard.press("j")
    _arrived(page, f"{url}/tickets/{numbers[2]}/")
    page.keyboard.press("k")
    _arrived(page, f"{url}/tickets/{numbers[1]}/")
    page.keyboard.press("g")
    page.keyboard.press("q")
    expect(page).to_have_url(f"{url}/tickets/?queue=all")

    # Open Printer jammed (new, unassigned) and take it with "a": the header changes in place.
    page.goto(f"{url}/tickets/{desk.t1.number}/")
    _settled(page)
    page.evaluate("window.stayed = true")
    page.keyboard.press("a")
    expect(page.locator("#ticket-assignee")).to_have_text("Paula Partner")
    expect(page.locator("#timeline")).to_contain_text("Assigned to Paula Partner.")
    assert page.evaluate("window.stayed === true")
    assert Ticket.objects.get(pk=desk.t1.pk).assignee == cast.partner_record
    _settled(page)

    # A status change by htmx, also in place.
    page.locator("#status-moves").get_by_role("button", name="In progress").click()
    expect(page.locator("#ticket-status")).to_have_text("In progress")
    assert page.evaluate("window.stayed === true")

    # n starts an internal note; keys typed in the box are text, not shortcuts.
    page.keyboard.press("n")
    expect(page.locator("#reply-body")).to_be_focused()
    expect(page.locator("#reply-internal")).to_be_checked()
    expect(page.locator("#reply-form")).to_have_class(re.compile(r"\bis-note\b"))
    page.keyboard.type("jk a gq")
    expect(page.locator("#reply-body")).to_have_value("jk a gq")
    expect(page).to_have_url(f"{url}/tickets/{desk.t1.number}/")
    page.keyboard.press("Escape")
    page.keyboard.press("r")
    expect(page.locator("#reply-internal")).not_to_be_checked()

    # A canned reply fills the box, and the reply is sent.
    page.locator("#reply-body").fill("")
    page.locator("#reply-canned").select_option(label="On my way")
    expect(page.locator("#reply-body")).to_have_value("A partner is on the way.")
    page.locator("#reply-form button[type=submit]").click()
    expect(page.locator("#timeline")).to_contain_text("A partner is on the way.")

    # "/" goes to the search box.
    page.keyboard.press("/")
    expect(page.locator("#ticket-search")).to_be_focused()


@pytest.mark.browser
def test_the_queue_filters_and_refreshes_in_place(cast, desk, live_server, browser):
    from playwright.sync_api import expect

    url = live_server.url
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.set_default_timeout(20_000)
    _sign_in(page, url, "dean", "/tickets/%3Fqueue%3Dall")
    expect(page).to_have_url(f"{url}/tickets/?queue=all")
    page.evaluate("window.stayed = true")
    page.locator("#queue-filters select[name=status]").select_option("new")
    expect(page.locator("#ticket-rows tr[data-ticket]")).to_have_count(2)
    expect(page).to_have_url(re.compile(r"status=new"))
    _settled(page)

    # A ticket opened elsewhere shows up when the rows refresh (as every 30 s).
    services.create_ticket(
        cast.admin, cast.acme, subject="Fresh one", body_text="New", source=Source.CLI
    )
    page.evaluate("htmx.trigger(document.body, 'queue-refresh')")
    expect(page.locator("#ticket-rows")).to_contain_text("Fresh one")
    expect(page.locator("#ticket-rows tr[data-ticket]")).to_have_count(3)

    # Bulk: tick two, move them along; the rows refresh by themselves.
    page.locator("#ticket-rows input[name=ticket]").nth(0).check()
    page.locator("#ticket-rows input[name=ticket]").nth(1).check()
    page.locator("#bulk-form select[name=status]").select_option("in_progress")
    page.locator("#bulk-form button[type=submit]").click()
    expect(page.locator("#bulk-result")).to_contain_text("Updated 2:")
    expect(page.locator("#ticket-rows tr[data-ticket]")).to_have_count(1)
    assert page.evaluate("window.stayed === true")


@pytest.mark.browser
def test_desk_pages_fit_a_phone(cast, desk, live_server, browser):
    from playwright.sync_api import expect

    url = live_server.url
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(20_000)
    _sign_in(page, url, "admin", "/tickets/%3Fqueue%3Dall")
    expect(page).to_have_url(f"{url}/tickets/?queue=all")
    services.reply(
        cast.admin, desk.t1, body_text="A rather long word: " + "x" * 120, source=Source.CLI
    )
    for path in (
        "/tickets/?queue=all",
        f"/tickets/{desk.t1.number}/",
        "/tickets/new/",
        "/tickets/search?q=printer",
    ):
        page.goto(f"{url}{path}")
        assert _fits_the_screen(page), path


@pytest.mark.browser
def test_a_technician_edits_fields_in_place_resolves_with_a_note_and_sends_with_ctrl_enter(
    cast, desk, live_server, browser, tmp_path
):
    from playwright.sync_api import expect

    url = live_server.url
    page = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    page.set_default_timeout(20_000)
    _sign_in(page, url, "paula", f"/tickets/{desk.t1.number}/")
    expect(page).to_have_url(f"{url}/tickets/{desk.t1.number}/")
    _settled(page)
    page.evaluate("window.stayed = true")

    # The practice: Edit opens a select in place; Save writes it and closes the form.
    page.locator("#fact-practice a.edit-field").click()
    expect(page.locator("#field-edit select[name=practice]")).to_be_visible()
    page.locator("#field-edit select[name=practice]").select_option(label="Networking")
    page.locator("#field-edit").get_by_role("button", name="Save").click()
    expect(page.locator("#fact-practice dd")).to_have_text("Networking")
    expect(page.locator("#field-edit")).to_have_count(0)
    assert Ticket.objects.get(pk=desk.t1.pk).practice == cast.networking
    _settled(page)

    # An empty subject is refused next to the field, and the subject stays.
    page.locator("h1 a.edit-field").click()
    page.locator("#field-edit input[name=subject]").fill(" ")
    page.locator("#field-edit").get_by_role("button", name="Save").click()
    expect(page.locator("#field-edit .error")).to_contain_text("A ticket needs a subject.")
    page.screenshot(path=str(tmp_path / "field-error.png"))
    page.locator("#field-edit input[name=subject]").fill("Printer jams on floor 2")
    page.locator("#field-edit").get_by_role("button", name="Save").click()
    expect(page.locator("#ticket-subject")).to_have_text("Printer jams on floor 2")
    _settled(page)

    # Resolve needs a note: the browser will not send the form without one.
    page.locator("#finish-box summary").click()
    page.locator("#finish-box").get_by_role("button", name="Resolve").click()
    expect(page.locator("#ticket-status")).to_have_text("New")
    assert Ticket.objects.get(pk=desk.t1.pk).status == "new"
    page.locator("#resolution-note").fill("Drum replaced; test page printed.")
    page.locator("#finish-box").get_by_role("button", name="Resolve").click()
    expect(page.locator("#ticket-status")).to_have_text("Resolved")
    expect(page.locator("#timeline")).to_contain_text("Drum replaced; test page printed.")
    assert page.evaluate("window.stayed === true")

    # Ctrl+Enter sends the reply, with the status chosen beside it.
    page.locator("#reply-body").fill("Reopening: it jammed again.")
    page.locator("#reply-status").select_option("in_progress")
    page.locator("#reply-time").fill("15")
    page.locator("#reply-body").press("Control+Enter")
    expect(page.locator("#ticket-status")).to_have_text("In progress")
    expect(page.locator("#timeline")).to_contain_text("Reopening: it jammed again.")
    expect(page.locator("#fact-time")).to_contain_text("15 min")
    page.screenshot(path=str(tmp_path / "ticket-1366.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(tmp_path / "ticket-390.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

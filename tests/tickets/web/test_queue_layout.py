"""The queue as a technician reads it: full width, one line a ticket, the filters in one bar,
a density that is remembered, and how many tickets each queue holds in the sidebar."""

from __future__ import annotations

import re

import pytest

from thirdway.audit.models import Source
from thirdway.tickets import services
from thirdway.tickets.views.queues import queue_tickets, queues_for

from .support import element, shown_numbers


def _counts(html: str) -> dict[str, str]:
    side = element(html, "queue-side")
    return dict(
        re.findall(r'data-queue="([a-z]+)">.*?<span class="count"[^>]*>([0-9+]+)</span>', side)
    )


@pytest.mark.parametrize("role", ["admin", "partner", "desk", "associate"])
def test_each_queue_in_the_sidebar_counts_the_tickets_it_shows(cast, desk, web_as, role):
    user = getattr(cast, role)
    client = web_as(user)
    counts = _counts(client.get("/tickets/", {"status": "new"}).content.decode())
    assert list(counts) == list(queues_for(user))
    for key, shown in counts.items():
        # Whatever the page's filters (here status=new), a queue's count is its own.
        listed = shown_numbers(client.get("/tickets/", {"queue": key}).content.decode())
        assert shown == str(len(listed)) == str(queue_tickets(user, key).count()), key


def test_a_long_queue_counts_up_to_a_cap(cast, desk, web_as, monkeypatch):
    from thirdway.tickets.views import queues

    monkeypatch.setattr(queues, "SIDEBAR_CAP", 3)
    counts = _counts(web_as(cast.admin).get("/tickets/").content.decode())
    assert counts["all"] == "3+"
    assert counts["waiting"] == "2"  # t4 waiting on the client, t6 scheduled


def test_the_density_is_chosen_once_and_remembered(cast, desk, web_as):
    client = web_as(cast.partner)
    assert 'class="desk density-comfortable"' in client.get("/tickets/").content.decode()
    html = client.get("/tickets/", {"queue": "all", "density": "compact"}).content.decode()
    assert 'class="desk density-compact"' in html
    assert 'class="desk density-compact"' in client.get("/tickets/").content.decode()
    # Anything else is ignored, and the choice stays.
    html = client.get("/tickets/", {"density": "<script>"}).content.decode()
    assert 'class="desk density-compact"' in html


def test_a_rows_subject_and_client_carry_their_full_text_for_hovering(cast, desk, web_as):
    long = "The printer on the second floor jams on every third page since the update " * 2
    services.update_ticket(cast.admin, desk.t1, {"subject": long.strip()}, source=Source.CLI)
    html = web_as(cast.admin).get("/tickets/", {"queue": "all"}).content.decode()
    row = re.search(rf'<tr data-ticket="{desk.t1.number}".*?</tr>', html, re.S).group(0)
    assert f'<td class="subject-cell" title="{long.strip()}">' in row


def _tickets(cast, count: int) -> None:
    for n in range(count):
        services.create_ticket(
            cast.admin,
            cast.acme,
            subject=f"Laptop {n} will not start after the overnight update, the screen stays black",
            body_text="Body",
            requester_id=cast.acme_user_contact.pk,
            practice_id=cast.security.pk,
            tags=["laptop", "update"],
            source=Source.CLI,
        )


@pytest.mark.browser
def test_the_queue_shows_a_screenful_of_one_line_tickets(
    cast, desk, live_server, browser, tmp_path
):
    from playwright.sync_api import expect

    from support.browser import DESKTOP, PHONE, fits, sign_in

    _tickets(cast, 30)
    page = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(page, live_server.url, "admin", "/tickets/%3Fqueue%3Dall")
    rows = page.locator("#ticket-rows tbody tr")
    expect(rows.first).to_be_visible()
    heights = {
        round(box["height"])
        for box in rows.evaluate_all("rs => rs.map(r => r.getBoundingClientRect())")
    }
    assert len(heights) == 1, heights  # every ticket on one line, however long its subject
    page.screenshot(path=str(tmp_path / "queue-1366.png"))
    first_top = rows.first.bounding_box()["y"]
    assert first_top < 260, first_top
    in_view = rows.evaluate_all(
        "rs => rs.filter(r => r.getBoundingClientRect().bottom <= innerHeight).length"
    )
    assert in_view >= 14, in_view
    page.screenshot(path=str(tmp_path / "queue-1366.png"))
    comfortable = heights.pop()

    # Compact rows are lower, and the choice holds on the next visit.
    page.locator("nav.density a[data-density=compact]").click()
    expect(page.locator(".desk")).to_have_class(re.compile(r"density-compact"))
    page.goto(f"{live_server.url}/tickets/?queue=all")
    expect(page.locator(".desk")).to_have_class(re.compile(r"density-compact"))
    assert rows.first.bounding_box()["height"] < comfortable
    page.screenshot(path=str(tmp_path / "queue-compact-1366.png"))

    # "More" unfolds the rarer filters in the same bar.
    expect(page.locator("#queue-filters select[name=practice]")).to_be_hidden()
    page.locator("#queue-filters .more-filters summary").click()
    expect(page.locator("#queue-filters select[name=practice]")).to_be_visible()

    page.set_viewport_size(PHONE)
    page.screenshot(path=str(tmp_path / "queue-390.png"), full_page=True)
    assert fits(page)

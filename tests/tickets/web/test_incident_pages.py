"""The pages of pre-emption and incident linking: the two practice switches on Settings →
Dispatch, the incident and its repeats on the ticket page, and unlinking one (in a real
chromium, valid and refused, at desktop and phone widths); nobody outside sees or unlinks."""

from __future__ import annotations

import pytest

from thirdway.audit.models import Source
from thirdway.network.models import Partner, Practice
from thirdway.tickets import services as tickets
from thirdway.tickets.assignment import switches
from thirdway.tickets.models import IncidentLink, PracticeDispatch, Ticket

ALWAYS = {day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


@pytest.fixture
def storm(cast):
    """Security links incidents; Acme's tills are down, reported three times."""
    Partner.objects.update(working_hours=ALWAYS)
    Practice.objects.filter(pk=cast.security.pk).update(auto_dispatch=True)
    switches.set_switches(cast.admin, cast.security, {"link_incidents": True}, source="web")
    cast.incident = _open(cast, "Tills offline at the bakery")
    cast.repeats = [_open(cast, "Card reader says no network"), _open(cast, "Cannot take cards")]
    return cast


def _open(cast, subject: str) -> Ticket:
    return tickets.create_ticket(
        cast.admin,
        cast.acme,
        subject=subject,
        body_text="Nothing works.",
        practice_id=cast.security.pk,
        site_id=cast.acme_site.pk,
        priority=2,
        priority_reason="Set by the desk.",
        source=Source.WEB,
    )


def test_the_ticket_page_shows_the_incident_and_its_repeats(storm, web_as):
    desk = web_as(storm.desk)
    parent = desk.get(f"/tickets/{storm.incident.number}/").content.decode()
    assert "This ticket is the incident; 2 repeats linked under it" in parent
    for child in storm.repeats:
        assert child.number in parent
    child = desk.get(f"/tickets/{storm.repeats[0].number}/").content.decode()
    assert f'Repeat of <a href="/tickets/{storm.incident.number}/">' in child
    assert "Unlink and dispatch on its own" in child


@pytest.mark.parametrize("role", ["other_partner", "client_admin", "other_client_admin"])
def test_nobody_outside_the_network_of_the_ticket_unlinks_it(storm, web_as, role):
    child = storm.repeats[0]
    answer = web_as(getattr(storm, role)).post(
        f"/tickets/{storm.incident.number}/incident/unlink/", {"child": child.number}
    )
    assert answer.status_code == 404
    assert IncidentLink.objects.filter(child=child).exists()


def test_the_portal_never_names_the_incident(storm, web_as):
    page = web_as(storm.client_admin).get(f"/portal/tickets/{storm.repeats[0].pk}/")
    assert page.status_code == 200
    assert storm.repeats[0].subject in page.content.decode()
    assert storm.incident.number not in page.content.decode()


def test_unlinking_a_ticket_that_is_not_a_repeat_is_refused_changing_nothing(storm, web_as):
    desk = web_as(storm.desk)
    before = list(IncidentLink.objects.values_list("pk", flat=True))
    for value in ("", "nonsense", storm.incident.number):
        answer = desk.post(
            f"/tickets/{storm.incident.number}/incident/unlink/", {"child": value}, follow=True
        )
        assert answer.status_code == 200
    assert list(IncidentLink.objects.values_list("pk", flat=True)) == before


def test_the_switches_are_saved_from_the_settings_page_and_listed(cast, web_as):
    admin = web_as(cast.admin)
    url = f"/settings/dispatch/{cast.security.pk}/"
    answer = admin.post(url, {"preempt": "on", "offer_timeout_minutes": "15"})
    assert answer.status_code == 302
    assert switches.switches_of(cast.security.pk) == {
        "preempt": True,
        "link_incidents": False,
        "when_free": "nothing",
        "surge": False,
        "surge_ratio": 2.0,
        "surge_defers_p3": False,
    }
    listing = admin.get("/settings/dispatch/").content.decode()
    assert "Interrupts a P3 or P4" in listing and "Dispatched each" in listing
    refused = admin.post(url, {"link_incidents": "on", "offer_timeout_minutes": "0"})
    assert refused.status_code == 200
    assert switches.switches_of(cast.security.pk) == {
        "preempt": True,
        "link_incidents": False,
        "when_free": "nothing",
        "surge": False,
        "surge_ratio": 2.0,
        "surge_defers_p3": False,
    }


@pytest.mark.browser
def test_an_admin_turns_the_switches_on_and_the_desk_unlinks_a_repeat(
    storm, live_server, browser, tmp_path
):
    from playwright.sync_api import expect

    from support.browser import DESKTOP, sign_in
    from support.screens import shoot

    page = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(page, live_server.url, "admin", f"/settings/dispatch/{storm.security.pk}/")
    form = page.locator("form.form")
    form.get_by_label("Let a P1 interrupt routine work").check()
    form.get_by_label("Minutes to answer an offer").fill("999")
    form.get_by_role("button", name="Save dispatch").click()
    timeout = page.locator(".field.invalid", has=page.locator("input[name=offer_timeout_minutes]"))
    expect(timeout.locator(".error")).to_contain_text("less than or equal to 240")
    assert not PracticeDispatch.objects.get(practice=storm.security).preempt
    shoot(page, "dispatch-switches-refused", tmp_path)
    page.locator("form.form").get_by_label("Minutes to answer an offer").fill("20")
    page.locator("form.form").get_by_role("button", name="Save dispatch").click()
    expect(page.get_by_text("Dispatch of Security saved.")).to_be_visible()
    row = page.locator("#dispatch tr", has_text="Security")
    expect(row).to_contain_text("Interrupts a P3 or P4")
    expect(row).to_contain_text("Linked under the first")
    assert switches.switches_of(storm.security.pk) == {
        "preempt": True,
        "link_incidents": True,
        "when_free": "nothing",
        "surge": False,
        "surge_ratio": 2.0,
        "surge_defers_p3": False,
    }
    shoot(page, "dispatch-switches", tmp_path)

    desk = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(desk, live_server.url, "dean", f"/tickets/{storm.incident.number}/")
    incident = desk.locator("#incident")
    expect(incident).to_contain_text("2 repeats linked under it")
    shoot(desk, "incident-parent", tmp_path)
    # refused: a ticket that is not one of its repeats
    first = incident.locator("li").first
    first.locator("input[name=child]").evaluate(f"e => e.value = '{storm.incident.number}'")
    first.get_by_role("button").click()
    expect(desk.locator(".flash.error")).to_contain_text("not linked under this incident")
    assert IncidentLink.objects.count() == 2
    child = storm.repeats[0]
    desk.locator("#incident li", has_text=child.number).get_by_role("button").click()
    expect(desk.get_by_text(f"{child.number} unlinked from its incident.")).to_be_visible()
    expect(desk.locator("#incident")).to_contain_text("1 repeat linked under it")
    assert not IncidentLink.objects.filter(child=child).exists()
    desk.goto(f"{live_server.url}/tickets/{storm.repeats[1].number}/")
    expect(desk.locator("#incident")).to_contain_text(f"Repeat of {storm.incident.number}")
    shoot(desk, "incident-child", tmp_path)

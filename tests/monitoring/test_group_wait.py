"""A group wait before an incident's first ticket, and grouping by asset tag: alerts arriving
within the wait are all in the one first ticket; the alerts of the assets with the tag share
one incident, the others do not; the rule's bounds are refused naming the field."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from django.utils import timezone

from support.api import API, assert_refused, send
from support.browser import DESKTOP, PHONE, fits, sign_in
from thirdway.audit.models import Source
from thirdway.monitoring import evaluation, services
from thirdway.monitoring.engine import Status
from thirdway.monitoring.models import Alert, AlertRule, Incident
from thirdway.monitoring.tags import set_asset_tags
from thirdway.tickets.models import Ticket

from .test_alerting import add, notes_of
from .test_incidents import result

OK, CRIT = Status.OK, Status.CRITICAL
SECOND = dt.timedelta(seconds=1)
SHOTS = os.environ.get("THIRDWAY_SCREENSHOTS", "")


@pytest.fixture
def t0():
    return timezone.now().replace(microsecond=0) - dt.timedelta(hours=1)


def rule(cast, **data) -> AlertRule:
    return services.set_alert_rule(cast.admin, cast.acme, data, source=Source.CLI)


def test_alerts_within_the_group_wait_are_all_in_the_one_first_ticket(cast, t0):
    rule(cast, group_by="site", group_window_seconds=600, group_wait_seconds=120)
    site = cast.acme_site.pk
    mail = add(cast, name="Mail", site_id=site)
    web = add(cast, name="Web", target="web.acme.example", site_id=site)
    files = add(cast, name="Files", target="files.acme.example", site_id=site)
    result(mail, CRIT, t0)
    result(web, CRIT, t0 + 30 * SECOND)
    assert not Ticket.objects.exists()  # waiting: no ticket yet
    result(files, CRIT, t0 + 100 * SECOND)
    evaluation.sweep(t0 + 119 * SECOND)
    assert not Ticket.objects.exists()
    evaluation.sweep(t0 + 120 * SECOND)
    ticket = Ticket.objects.get()
    article = ticket.articles.order_by("id").first()
    assert "Check: Mail" in article.body_text
    assert "Also in this incident: Down: Web" in article.body_text
    assert "Also in this incident: Down: Files" in article.body_text
    assert set(Alert.objects.values_list("ticket", flat=True)) == {ticket.pk}
    incident = Incident.objects.get()
    assert (incident.ticket_id, incident.ticket_due_at) == (ticket.pk, None)
    # After the wait, a newcomer of the window is a note on that ticket, as before.
    late = add(cast, name="Print", target="print.acme.example", site_id=site)
    result(late, CRIT, t0 + 300 * SECOND)
    assert Ticket.objects.count() == 1
    assert any("Also in this incident: Down: Print" in n for n in notes_of(ticket))


def test_an_incident_that_recovers_within_the_wait_opens_no_ticket(cast, t0):
    rule(cast, group_by="client", group_wait_seconds=300)
    mail = add(cast, name="Mail")
    result(mail, CRIT, t0)
    result(mail, OK, t0 + 60 * SECOND)
    evaluation.sweep(t0 + 600 * SECOND)
    assert not Ticket.objects.exists()
    assert Incident.objects.get().status == "resolved"


def test_without_a_wait_the_first_alert_opens_its_ticket_at_once(cast, t0):
    rule(cast, group_by="client", group_wait_seconds=0)
    result(add(cast, name="Mail"), CRIT, t0)
    assert Ticket.objects.count() == 1


def test_grouping_by_tag_groups_the_tagged_assets_alerts_only(cast, t0):
    rule(cast, group_by="tag", group_tag="backup", group_window_seconds=600)
    set_asset_tags(cast.admin, cast.acme_server, ["backup"], source=Source.CLI)
    set_asset_tags(cast.admin, cast.acme_laptop, ["backup", "laptop"], source=Source.CLI)
    server = add(cast, name="Server backup", asset_id=cast.acme_server.pk)
    laptop = add(cast, name="Laptop backup", target="lt.acme.example", asset_id=cast.acme_laptop.pk)
    plain = add(cast, name="Web", target="web.acme.example")
    for offset, check in enumerate((server, laptop, plain)):
        result(check, CRIT, t0 + offset * 10 * SECOND)
    keys = sorted(Incident.objects.values_list("group_key", flat=True))
    assert keys == sorted(["tag:backup", f"check:{plain.pk}"])
    assert Ticket.objects.count() == 2
    tagged = Incident.objects.get(group_key="tag:backup")
    assert tagged.alerts.count() == 2


@pytest.mark.parametrize(
    ("data", "field", "allowed"),
    [
        ({"group_wait_seconds": 601}, "group_wait_seconds", "600"),
        ({"group_wait_seconds": -1}, "group_wait_seconds", "0"),
        ({"group_by": "tag"}, "group_tag", "lower-case"),
        ({"group_by": "tag", "group_tag": "Not a tag"}, "group_tag", "lower-case"),
    ],
)
def test_the_api_refuses_a_wait_or_tag_out_of_bounds_naming_the_field(
    cast, api_as, data, field, allowed
):
    url = API + f"/monitoring/clients/{cast.acme.pk}/alert-rule"
    errors = assert_refused(send(api_as(cast.partner), "put", url, data), field)
    assert any(allowed in error["allowed"] for error in errors), errors
    assert not AlertRule.objects.filter(client=cast.acme).exists()


def test_the_api_sets_and_reads_the_wait_and_the_tag(cast, api_as):
    url = API + f"/monitoring/clients/{cast.acme.pk}/alert-rule"
    client = api_as(cast.partner)
    data = {"group_by": "tag", "group_tag": "Core-Switch", "group_wait_seconds": 90}
    saved = send(client, "put", url, data)
    assert saved.status_code == 200, saved.content
    read = send(client, "get", url).json()
    assert (read["group_by"], read["group_tag"], read["group_wait_seconds"]) == (
        "tag",
        "core-switch",
        90,
    )


@pytest.mark.browser
def test_the_wait_and_the_tag_are_set_in_the_rule_editor(cast, live_server, browser):
    from playwright.sync_api import expect

    def field(page, name):
        return page.locator(".field.invalid", has=page.locator(f"[name={name}]"))

    for screen, size in (("desktop", DESKTOP), ("phone", PHONE)):
        AlertRule.objects.filter(client=cast.acme).delete()
        page = browser.new_context(viewport=size).new_page()
        url = f"/monitoring/clients/{cast.acme.pk}/alert-rule/"
        sign_in(page, live_server.url, "paula", url)
        page.locator("select[name=group_by]").select_option("tag")
        page.locator("input[name=group_wait_seconds]").fill("900")
        page.get_by_role("button", name="Save").click()
        expect(field(page, "group_wait_seconds")).to_contain_text("600")
        assert not AlertRule.objects.filter(client=cast.acme).exists()
        assert fits(page), screen
        if SHOTS:
            page.screenshot(path=f"{SHOTS}/group-wait-invalid-{screen}.png", full_page=True)
        page.locator("input[name=group_wait_seconds]").fill("120")
        page.get_by_role("button", name="Save").click()
        expect(field(page, "group_tag")).to_contain_text("needs the tag")
        assert not AlertRule.objects.filter(client=cast.acme).exists()
        page.locator("input[name=group_tag]").fill("backup")
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_text("Saved.")).to_be_visible()
        saved = services.rule_of(cast.acme)
        assert (saved.group_by, saved.group_tag, saved.group_wait_seconds) == ("tag", "backup", 120)
        page.goto(f"{live_server.url}{url}")
        if SHOTS:
            page.screenshot(path=f"{SHOTS}/group-wait-{screen}.png", full_page=True)
        assert fits(page), screen

"""Alerts grouped into incidents: one ticket for the alerts of a group opening within the group
window, later ones noted on it, the ticket resolved only when all of them recovered, and
reminders at the repeat interval while it stays open."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from thirdway.audit.models import Source
from thirdway.clients import services as clients
from thirdway.monitoring import evaluation, services
from thirdway.monitoring.engine import Status
from thirdway.monitoring.models import Alert, Incident
from thirdway.tickets import services as tickets
from thirdway.tickets.lifecycle import Status as TicketStatus
from thirdway.tickets.models import Ticket

from .test_alerting import add, notes_of

OK, CRIT = Status.OK, Status.CRITICAL
MINUTE = dt.timedelta(minutes=1)


@pytest.fixture
def t0():
    return timezone.now().replace(microsecond=0) - dt.timedelta(hours=3)


def group(cast, by="site", window=600, repeat=0):
    rule = {"group_by": by, "group_window_seconds": window, "repeat_interval_seconds": repeat}
    services.set_alert_rule(cast.admin, cast.acme, rule, source=Source.CLI)


def result(check, status, at, output="seen"):
    evaluation.record_result(check.pk, status, output=output, collected_at=at)


def three_checks(cast, site=None):
    site = site or cast.acme_site
    return [
        add(cast, name=name, target=f"{name.lower()}.acme.example", site_id=site.pk)
        for name in ("Mail", "Web", "Files")
    ]


def test_alerts_of_one_site_within_the_window_share_one_ticket_and_later_ones_are_notes(cast, t0):
    group(cast, window=600)
    mail, web, files = three_checks(cast)
    result(mail, CRIT, t0)
    result(web, CRIT, t0 + 2 * MINUTE)
    result(files, CRIT, t0 + 9 * MINUTE)
    alerts = list(Alert.objects.order_by("opened_at"))
    assert len(alerts) == 3
    assert Ticket.objects.filter(client=cast.acme).count() == 1
    assert len({alert.incident_id for alert in alerts}) == 1
    ticket = alerts[0].ticket
    assert all(alert.ticket == ticket for alert in alerts)
    notes = notes_of(ticket)
    assert any("Also in this incident: Down: Web" in note for note in notes)
    assert any("Also in this incident: Down: Files" in note for note in notes)


def test_an_alert_after_the_window_opens_a_new_incident_and_ticket(cast, t0):
    group(cast, window=600)
    mail, web, _ = three_checks(cast)
    result(mail, CRIT, t0)
    result(web, CRIT, t0 + 11 * MINUTE)
    assert Incident.objects.count() == 2
    assert Ticket.objects.filter(client=cast.acme).count() == 2


def test_another_site_is_another_group(cast, t0):
    group(cast, by="site")
    other = clients.create_site(cast.admin, cast.acme, name="Depot", source=Source.CLI)
    mail = add(cast, name="Mail", site_id=cast.acme_site.pk)
    depot = add(cast, name="Depot router", target="depot.acme.example", site_id=other.pk)
    result(mail, CRIT, t0)
    result(depot, CRIT, t0 + MINUTE)
    assert Ticket.objects.filter(client=cast.acme).count() == 2


def test_grouping_by_kind_groups_across_sites_and_keeps_kinds_apart(cast, t0):
    group(cast, by="kind")
    other = clients.create_site(cast.admin, cast.acme, name="Depot", source=Source.CLI)
    tcp_a = add(cast, name="A", site_id=cast.acme_site.pk)
    tcp_b = add(cast, name="B", target="b.acme.example", site_id=other.pk)
    web = add(cast, name="Site", kind="http", target="https://acme.example/", port=None)
    for index, check in enumerate((tcp_a, tcp_b, web)):
        result(check, CRIT, t0 + index * MINUTE)
    tickets_of = {a.check_obj.name: a.ticket_id for a in Alert.objects.select_related("check_obj")}
    assert tickets_of["A"] == tickets_of["B"] != tickets_of["Site"]


def test_without_grouping_every_alert_has_its_own_ticket(cast, t0):
    mail, web, _ = three_checks(cast)
    result(mail, CRIT, t0)
    result(web, CRIT, t0 + MINUTE)
    assert Ticket.objects.filter(client=cast.acme).count() == 2
    assert Incident.objects.count() == 2


def test_the_ticket_resolves_only_when_every_alert_of_the_incident_recovered(cast, t0):
    group(cast)
    mail, web, files = three_checks(cast)
    for index, check in enumerate((mail, web, files)):
        result(check, CRIT, t0 + index * MINUTE)
    ticket = Alert.objects.get(check_obj=mail).ticket
    result(mail, OK, t0 + 5 * MINUTE)
    result(files, OK, t0 + 6 * MINUTE)
    ticket.refresh_from_db()
    assert ticket.status != TicketStatus.RESOLVED
    assert any("Still open in this incident: Web" in note for note in notes_of(ticket))
    incident = Incident.objects.get()
    assert incident.status == "open"
    result(web, OK, t0 + 7 * MINUTE)
    ticket.refresh_from_db()
    incident.refresh_from_db()
    assert ticket.status == TicketStatus.RESOLVED
    assert (incident.status, incident.resolved_at) == ("resolved", t0 + 7 * MINUTE)


def test_a_worked_incident_ticket_only_gets_a_note_when_the_last_alert_recovers(cast, t0):
    group(cast)
    mail, web, _ = three_checks(cast)
    result(mail, CRIT, t0)
    result(web, CRIT, t0 + MINUTE)
    ticket = Alert.objects.get(check_obj=mail).ticket
    tickets.reply(cast.partner, ticket, body_text="On it.", source=Source.WEB)
    result(mail, OK, t0 + 2 * MINUTE)
    result(web, OK, t0 + 3 * MINUTE)
    ticket.refresh_from_db()
    assert ticket.status != TicketStatus.RESOLVED
    assert any("someone is working on it" in note for note in notes_of(ticket))


def test_a_new_alert_after_the_incident_resolved_opens_a_new_ticket(cast, t0):
    group(cast)
    mail, web, _ = three_checks(cast)
    result(mail, CRIT, t0)
    result(mail, OK, t0 + MINUTE)
    result(web, CRIT, t0 + 2 * MINUTE)
    assert Ticket.objects.filter(client=cast.acme).count() == 2


def test_reminders_come_at_the_repeat_interval_while_the_ticket_is_open(cast, t0):
    group(cast, repeat=3600)
    mail, web, _ = three_checks(cast)
    result(mail, CRIT, t0)
    result(web, CRIT, t0 + MINUTE)
    ticket = Alert.objects.get(check_obj=mail).ticket
    assert evaluation.sweep(t0 + 59 * MINUTE)["reminded"] == 0
    assert evaluation.sweep(t0 + 61 * MINUTE)["reminded"] == 1
    assert evaluation.sweep(t0 + 62 * MINUTE)["reminded"] == 0
    reminders = [note for note in notes_of(ticket) if note.startswith("Reminder")]
    assert reminders == ["Reminder: 2 alert(s) still open after 1.0 h: Mail, Web."]
    assert evaluation.sweep(t0 + 122 * MINUTE)["reminded"] == 1
    result(mail, OK, t0 + 130 * MINUTE)
    result(web, OK, t0 + 131 * MINUTE)
    assert evaluation.sweep(t0 + 200 * MINUTE)["reminded"] == 0
    assert Incident.objects.get().reminders == 2


def test_no_reminders_when_the_repeat_interval_is_zero(cast, t0):
    group(cast, repeat=0)
    mail, *_ = three_checks(cast)
    result(mail, CRIT, t0)
    assert evaluation.sweep(t0 + dt.timedelta(days=3))["reminded"] == 0


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"group_by": "planet"}, "group_by"),
        ({"group_window_seconds": 5}, "group_window_seconds"),
        ({"group_window_seconds": 90_000}, "group_window_seconds"),
        ({"repeat_interval_seconds": 60}, "repeat_interval_seconds"),
        ({"repeat_interval_seconds": 8 * 86_400}, "repeat_interval_seconds"),
    ],
)
def test_out_of_range_grouping_settings_are_refused(cast, data, field):
    with pytest.raises(ValidationError) as refused:
        services.set_alert_rule(cast.admin, cast.acme, data, source=Source.CLI)
    assert field in refused.value.message_dict
    assert services.rule_of(cast.acme).group_by == "none"

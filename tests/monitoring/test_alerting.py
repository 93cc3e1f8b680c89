"""Alerts open, note on and resolve tickets through the tickets room; heartbeats go late."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from thirdway.audit.models import Source
from thirdway.monitoring import evaluation, services
from thirdway.monitoring.engine import Status
from thirdway.monitoring.models import Alert, Check, CheckEvent
from thirdway.network.models import Partner, Practice
from thirdway.tickets import services as tickets
from thirdway.tickets.models import ArticleKind, Channel, Ticket

OK, CRIT, WARN = Status.OK, Status.CRITICAL, Status.WARNING
MINUTE = dt.timedelta(minutes=1)
ALWAYS = {day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


@pytest.fixture
def t0():
    return timezone.now().replace(microsecond=0) - dt.timedelta(hours=2)


def add(cast, **data) -> Check:
    data.setdefault("name", "Mail server")
    data.setdefault("kind", "tcp")
    data.setdefault("target", "mail.acme.example")
    data.setdefault("port", 25)
    data.setdefault("max_attempts", 1)
    return services.create_check(cast.admin, cast.acme, source=Source.CLI, **data)


def feed(check, t0, *statuses, start=0, output="seen"):
    for index, status in enumerate(statuses, start=start):
        evaluation.record_result(
            check.pk, status, output=f"{output} {index}", collected_at=t0 + index * MINUTE
        )
    return Check.objects.get(pk=check.pk)


def notes_of(ticket):
    return list(ticket.articles.filter(kind=ArticleKind.NOTE).values_list("body_text", flat=True))


def test_a_hard_problem_opens_a_ticket_through_the_tickets_room(
    cast, t0, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    Partner.objects.update(working_hours=ALWAYS)
    Practice.objects.filter(pk=cast.security.pk).update(auto_dispatch=True)
    rule = {"priority": 2, "category": "Servers", "practice_id": cast.security.pk}
    services.set_alert_rule(cast.admin, cast.acme, rule, source=Source.CLI)
    check = add(cast, asset_id=cast.acme_server.pk)
    with django_capture_on_commit_callbacks(execute=True):
        feed(check, t0, OK, CRIT)
    alert = Alert.objects.get(check_obj=check)
    ticket = alert.ticket
    assert ticket.channel == Channel.MONITORING and ticket.client == cast.acme
    assert (ticket.priority, ticket.category) == (2, "Servers")
    assert ticket.asset == cast.acme_server and ticket.site == cast.acme_site
    assert ticket.subject.startswith("Down: Mail server")
    ticket.refresh_from_db()
    # Dispatch ran on commit, as for any new ticket of a practice that dispatches itself.
    assert ticket.assignee == cast.partner_record


def test_a_check_rule_overrides_the_clients(cast, t0):
    check = add(cast, alert_priority=1, alert_category="Mail")
    feed(check, t0, CRIT)
    ticket = Alert.objects.get(check_obj=check).ticket
    assert (ticket.priority, ticket.category) == (1, "Mail")


def test_repeats_are_counted_and_updates_noted_on_the_same_ticket(cast, t0):
    check = add(cast)
    feed(check, t0, WARN, WARN, WARN, CRIT)
    alert = Alert.objects.get(check_obj=check)
    assert alert.repeats == 2 and alert.severity == "critical"
    assert Ticket.objects.filter(client=cast.acme).count() == 1
    assert any(text.startswith("Now down") for text in notes_of(alert.ticket))


def test_recovery_resolves_the_ticket_nobody_worked(cast, t0):
    check = add(cast)
    feed(check, t0, CRIT, OK)
    alert = Alert.objects.get(check_obj=check)
    assert alert.status == "resolved"
    alert.ticket.refresh_from_db()
    assert alert.ticket.status == "resolved"


def test_recovery_only_notes_a_ticket_a_person_replied_on(cast, t0):
    check = add(cast)
    feed(check, t0, CRIT)
    ticket = Alert.objects.get(check_obj=check).ticket
    tickets.reply(cast.desk, ticket, body_text="Looking into it.", source=Source.CLI)
    feed(check, t0, OK, start=1)
    ticket.refresh_from_db()
    assert ticket.status != "resolved"
    assert any("Recovered" in text for text in notes_of(ticket))


def test_recovery_only_notes_a_ticket_whose_status_a_person_changed(cast, t0):
    check = add(cast)
    feed(check, t0, CRIT)
    ticket = Alert.objects.get(check_obj=check).ticket
    tickets.change_status(cast.desk, ticket, "waiting_third_party", source=Source.CLI)
    feed(check, t0, OK, start=1)
    ticket.refresh_from_db()
    assert ticket.status == "waiting_third_party"


def test_a_flapping_check_gets_notes_and_never_a_second_ticket(cast, t0):
    check = add(cast)
    feed(check, t0, *([OK, CRIT] * 10))
    assert Check.objects.get(pk=check.pk).flapping
    assert Alert.objects.filter(check_obj=check).count() <= 3
    open_alert = Alert.objects.get(check_obj=check, status="open")
    before = Ticket.objects.count()
    feed(check, t0, *([OK, CRIT] * 5), start=20)
    assert Ticket.objects.count() == before
    assert any("flapping" in text for text in notes_of(open_alert.ticket))


def test_maintenance_holds_the_alert_and_its_end_opens_it_if_still_down(cast, t0):
    check = add(cast, site_id=cast.acme_site.pk)
    services.create_window(
        cast.partner,
        cast.acme,
        name="Patching",
        kind="one_off",
        starts_at=t0,
        ends_at=t0 + 10 * MINUTE,
        site_id=cast.acme_site.pk,
        source=Source.CLI,
    )
    check = feed(check, t0, CRIT, CRIT)
    assert check.suppressed == "in maintenance (Patching)"
    assert not Alert.objects.filter(check_obj=check).exists()
    evaluation.sweep(t0 + 5 * MINUTE)
    assert not Alert.objects.filter(check_obj=check).exists()
    evaluation.sweep(t0 + 11 * MINUTE)
    alert = Alert.objects.get(check_obj=check)
    assert alert.opened_at == t0 + 11 * MINUTE and alert.ticket is not None


def test_a_window_of_another_site_does_not_hold_the_alert(cast, t0):
    other_site = services.Site.objects.create(client=cast.acme, name="Depot", time_zone="UTC")
    check = add(cast, site_id=cast.acme_site.pk)
    services.create_window(
        cast.admin,
        cast.acme,
        name="Depot work",
        kind="one_off",
        starts_at=t0,
        ends_at=t0 + 10 * MINUTE,
        site_id=other_site.pk,
        source=Source.CLI,
    )
    feed(check, t0, CRIT)
    assert Alert.objects.filter(check_obj=check).exists()


def test_a_down_parent_holds_its_childs_alert_but_not_its_recovery(cast, t0):
    router = add(cast, name="Router", target="router.acme.example", port=22)
    child = add(cast, parent_id=router.pk, dependency_delay_seconds=120)
    feed(router, t0, CRIT)
    child = feed(child, t0, CRIT, CRIT, CRIT, start=1)
    assert child.suppressed == "parent down (Router)"
    assert not Alert.objects.filter(check_obj=child).exists()
    # The parent recovers, the child is still down: its alert opens at the next sweep.
    feed(router, t0, OK, start=4)
    evaluation.sweep(t0 + 5 * MINUTE)
    assert Alert.objects.filter(check_obj=child, status="open").exists()


def test_a_child_alert_waits_for_the_delay_then_opens_if_the_parent_is_up(cast, t0):
    router = add(cast, name="Router", target="router.acme.example", port=22)
    child = add(cast, parent_id=router.pk, dependency_delay_seconds=120)
    feed(router, t0, OK)
    feed(child, t0, CRIT, start=1)
    assert not Alert.objects.filter(check_obj=child).exists()
    evaluation.sweep(t0 + 4 * MINUTE)
    assert Alert.objects.filter(check_obj=child).exists()


# --- heartbeats --------------------------------------------------------------------------------


def beat(cast, **data):
    return services.create_check(
        cast.admin,
        cast.acme,
        name="Backup",
        kind="heartbeat",
        source=Source.CLI,
        period_seconds=3600,
        grace_seconds=600,
        **data,
    )


def test_a_heartbeat_has_an_unguessable_token_and_a_ping_marks_it_up(cast):
    check = beat(cast)
    assert len(check.ping_token) >= 32
    assert evaluation.ping(check.ping_token).status == "ok"
    assert evaluation.ping("no-such-token") is None


def test_a_silent_heartbeat_goes_late_at_the_sweep(cast):
    check = beat(cast)
    evaluation.ping(check.ping_token)
    later = timezone.now() + dt.timedelta(minutes=71)
    assert evaluation.sweep(later)["late"] == 1
    check.refresh_from_db()
    assert check.status == "critical" and "Late" in check.last_output
    assert Alert.objects.get(check_obj=check).ticket is not None


def test_a_ping_arriving_late_records_the_lateness_when_it_happened(cast):
    check = beat(cast)
    late_at = timezone.now() - 5 * MINUTE
    Check.objects.filter(pk=check.pk).update(late_at=late_at)
    evaluation.ping(check.ping_token)  # before any sweep saw it late
    alert = Alert.objects.get(check_obj=check)
    assert alert.opened_at == late_at
    assert alert.status == "resolved"  # late, then back: the ticket resolved
    assert alert.ticket.status == "resolved"
    kinds = list(CheckEvent.objects.filter(check_obj=check).values_list("kind", flat=True))
    assert "open" in kinds and "recover" in kinds


def test_a_fail_ping_is_critical_and_a_start_without_finish_goes_late(cast):
    check = beat(cast)
    assert evaluation.ping(check.ping_token, "fail").status == "critical"
    other = beat(cast)
    evaluation.ping(other.ping_token, "start")
    assert evaluation.sweep(timezone.now() + dt.timedelta(minutes=11))["late"] == 1
    other.refresh_from_db()
    assert "did not finish" in other.last_output


def test_a_paused_heartbeat_is_not_late_when_it_resumes(cast):
    check = beat(cast)
    services.update_check(cast.admin, check, {"is_paused": True}, source=Source.CLI)
    Check.objects.filter(pk=check.pk).update(late_at=timezone.now() - MINUTE)
    assert evaluation.sweep()["late"] == 0  # paused: not swept
    services.update_check(cast.admin, check, {"is_paused": False}, source=Source.CLI)
    assert evaluation.sweep()["late"] == 0
    assert Check.objects.get(pk=check.pk).late_at > timezone.now()


def test_a_weekly_window_across_the_spring_change_holds_alerts_in_wall_clock_time(cast):
    # Sundays 01:00-04:00 Paris time; on 29 March 2026 that is 00:00-02:00 UTC.
    services.create_window(
        cast.admin,
        cast.acme,
        name="Sunday patching",
        kind="weekly",
        weekdays=[6],
        start_time=dt.time(1),
        duration_minutes=180,
        source=Source.CLI,
    )
    inside = add(cast, name="Inside")
    outside = add(cast, name="Outside")
    at = dt.datetime(2026, 3, 29, 1, 30, tzinfo=dt.UTC)  # 03:30 summer time
    evaluation.record_result(inside.pk, CRIT, collected_at=at)
    evaluation.record_result(outside.pk, CRIT, collected_at=at + 60 * MINUTE)  # 04:30
    assert Check.objects.get(pk=inside.pk).suppressed == "in maintenance (Sunday patching)"
    assert not Alert.objects.filter(check_obj=inside).exists()
    assert Alert.objects.filter(check_obj=outside).exists()


def test_one_broken_check_never_stops_the_sweep_of_the_others(cast):
    broken = add(cast, name="Broken")
    Check.objects.filter(pk=broken.pk).update(state={"status": "nonsense"}, suppressed="held")
    check = beat(cast)
    Check.objects.filter(pk=check.pk).update(late_at=timezone.now() - MINUTE)
    counts = evaluation.sweep()
    assert counts["late"] == 1 and counts["failed"] == 1


def test_deleting_a_check_leaves_its_ticket_with_a_note(cast, t0):
    check = add(cast)
    feed(check, t0, CRIT)
    ticket = Alert.objects.get(check_obj=check).ticket
    services.delete_check(cast.partner, check, source=Source.CLI)
    ticket.refresh_from_db()
    assert ticket.status != "resolved"
    assert any("was deleted" in text for text in notes_of(ticket))

"""Heartbeat checks on a cron schedule: the expression validated on input, and "late" computed
in the client's time zone, at ping time and by the sweep."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from support.api import API, assert_refused, send
from thirdway.audit.models import Source
from thirdway.monitoring import evaluation, schedule, services
from thirdway.monitoring.models import Check, CheckResult

PARIS = "Europe/Paris"


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        # 02:00 in Paris is 01:00 UTC in winter and 00:00 UTC in summer.
        (dt.datetime(2026, 1, 10, 12, tzinfo=dt.UTC), dt.datetime(2026, 1, 11, 1, tzinfo=dt.UTC)),
        (dt.datetime(2026, 7, 10, 12, tzinfo=dt.UTC), dt.datetime(2026, 7, 11, 0, tzinfo=dt.UTC)),
    ],
)
def test_the_next_fire_is_read_on_the_clients_wall_clock(after, expected):
    assert schedule.next_fire("0 2 * * *", PARIS, after) == expected
    late = schedule.late_after(
        after, period_seconds=60, grace_seconds=600, cron="0 2 * * *", zone=PARIS
    )
    assert late == expected + dt.timedelta(minutes=10)
    plain = schedule.late_after(after, period_seconds=60, grace_seconds=600)
    assert plain == after + dt.timedelta(seconds=660)


@pytest.mark.parametrize(
    ("expression", "why"),
    [
        ("0 0 30 2 *", "never fires"),
        ("0 0 31 4 *", "never fires"),
        ("* * * * * *", "more often than once a minute"),
        ("*/10 * * * * *", "more often than once a minute"),
        ("not cron", "cannot be read"),
        ("@daily", "cannot be read"),
        ("61 * * * *", "cannot be read"),
        ("", "Give a cron expression"),
    ],
)
def test_a_bad_expression_is_named(expression, why):
    assert why in schedule.cron_problem(expression, PARIS)


@pytest.mark.parametrize("expression", ["0 2 * * *", "*/5 * * * *", "0 0 29 2 *", "0 * * * * *"])
def test_a_good_expression_passes(expression):
    assert schedule.cron_problem(expression, PARIS) == ""


def test_the_api_refuses_a_bad_schedule_and_keeps_a_good_one(cast, api_as):
    client = api_as(cast.partner)
    base = {"client": cast.acme.pk, "name": "Nightly backup", "kind": "heartbeat"}
    for expression in ("0 0 30 2 *", "* * * * * *", "nonsense", "x" * 101):
        refused = send(
            client, "post", API + "/monitoring/checks", {**base, "cron_expression": expression}
        )
        assert_refused(refused, "cron_expression")
    tcp = {
        "client": cast.acme.pk,
        "name": "Mail",
        "kind": "tcp",
        "target": "mx.example",
        "port": 25,
    }
    refused = send(
        client, "post", API + "/monitoring/checks", {**tcp, "cron_expression": "0 2 * * *"}
    )
    assert_refused(refused, "cron_expression")
    assert not Check.objects.exists()
    made = send(
        client, "post", API + "/monitoring/checks", {**base, "cron_expression": "0 2 * * *"}
    )
    assert made.status_code == 201, made.content
    assert made.json()["cron_expression"] == "0 2 * * *"
    check = Check.objects.get()
    zone = ZoneInfo(cast.acme.time_zone)
    local = check.late_at.astimezone(zone) - dt.timedelta(seconds=check.grace_seconds)
    assert (local.hour, local.minute) == (2, 0)
    patched = send(
        client, "patch", API + f"/monitoring/checks/{check.pk}", {"cron_expression": "0 0 30 2 *"}
    )
    assert_refused(patched, "cron_expression")
    check.refresh_from_db()
    assert check.cron_expression == "0 2 * * *"


def test_late_is_found_by_the_sweep_and_at_ping_time(cast):
    check = services.create_check(
        cast.admin,
        cast.acme,
        name="Nightly backup",
        kind="heartbeat",
        cron_expression="30 3 * * *",
        grace_seconds=1800,
        source=Source.CLI,
    )
    pinged = evaluation.ping(check.ping_token)
    expected = schedule.next_fire("30 3 * * *", cast.acme.time_zone, pinged.last_ping_at)
    assert pinged.late_at == expected + dt.timedelta(minutes=30)
    # It went late a minute ago and a ping arrives before the sweep ran: the lateness is
    # recorded first, at the moment it happened, then the ping.
    missed = pinged.last_ping_at + dt.timedelta(microseconds=10)
    Check.objects.filter(pk=check.pk).update(late_at=missed)
    again = evaluation.ping(check.ping_token)
    recorded = CheckResult.objects.filter(check_obj=check).order_by("-id")
    newest, before = recorded[0], recorded[1]
    assert (before.status, before.collected_at) == ("critical", missed)
    assert newest.status == "ok" and again.status == "ok"
    expected = schedule.next_fire("30 3 * * *", cast.acme.time_zone, again.last_ping_at)
    assert again.late_at == expected + dt.timedelta(minutes=30)
    # The sweep, past the grace after 03:30 local: late, collected when it became late.
    assert evaluation.sweep(now=again.late_at + dt.timedelta(seconds=1))["late"] == 1
    late = CheckResult.objects.filter(check_obj=check).order_by("-id")[0]
    assert (late.status, late.collected_at) == ("critical", again.late_at)
    check.refresh_from_db()
    assert check.status == "critical" and check.late_at is None

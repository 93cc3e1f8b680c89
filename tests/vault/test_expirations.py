"""The expirations register: each reminder step opens one ticket for the client, once; an
acknowledged or snoozed item stays quiet; a renewal starts the steps again."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection

from thirdway.audit.models import Source
from thirdway.tickets.models import Ticket
from thirdway.vault.models import ExpiryReminder
from thirdway.vault.reminders import due_steps, next_step, parse_steps
from thirdway.vault.services import expirations

TODAY = dt.date(2026, 3, 2)


def _item(cast, days: int, steps: str = "", **more):
    return expirations.create_expiry(
        cast.partner,
        cast.acme,
        kind="domain",
        name="acme.example",
        expires_on=TODAY + dt.timedelta(days=days),
        reminder_steps=steps,
        source=Source.CLI,
        **more,
    )


def _run(day: dt.date) -> list[int]:
    return expirations.send_due_reminders(day)


def test_a_step_opens_one_ticket_for_the_client_and_a_rerun_opens_none(cast):
    item = _item(cast, 30, site_id=cast.acme_site.pk)
    opened = _run(TODAY)
    ticket = Ticket.objects.get()
    assert opened == [ticket.number]
    assert ticket.client == cast.acme and ticket.site == cast.acme_site
    assert "acme.example expires in 30 days" in ticket.subject
    assert ticket.channel == "scheduled"
    assert _run(TODAY) == [] and _run(TODAY + dt.timedelta(days=5)) == []
    # The 60-day step had passed when the item was entered: claimed by the same ticket.
    claimed = sorted(ExpiryReminder.objects.values_list("item", "step_days", "ticket"))
    assert claimed == [(item.pk, 30, ticket.pk), (item.pk, 60, ticket.pk)]


def test_each_step_opens_its_own_ticket_when_its_day_comes(cast):
    _item(cast, 60, steps="60,30,7")
    days = [TODAY + dt.timedelta(days=n) for n in range(0, 61)]
    opened = [number for day in days for number in _run(day)]
    assert len(opened) == 3
    assert sorted(ExpiryReminder.objects.values_list("step_days", flat=True)) == [7, 30, 60]


def test_an_item_entered_late_gets_one_ticket_for_the_steps_already_past(cast):
    _item(cast, 5)
    assert len(_run(TODAY)) == 1
    assert sorted(ExpiryReminder.objects.values_list("step_days", flat=True)) == [7, 14, 30, 60]
    assert Ticket.objects.count() == 1


def test_an_acknowledged_item_stays_quiet_until_its_date_changes(cast):
    item = _item(cast, 20)
    expirations.acknowledge_expiry(cast.partner, item, source=Source.CLI)
    assert _run(TODAY) == []
    expirations.update_expiry(
        cast.partner, item, {"expires_on": TODAY + dt.timedelta(days=10)}, source=Source.CLI
    )
    assert len(_run(TODAY)) == 1  # the renewal's new date starts the reminders again


def test_a_snoozed_item_waits_for_its_day(cast, monkeypatch):
    from django.utils import timezone

    monkeypatch.setattr(timezone, "localdate", lambda *args: TODAY)
    item = _item(cast, 20)
    expirations.snooze_expiry(cast.partner, item, TODAY + dt.timedelta(days=3), source=Source.CLI)
    assert _run(TODAY + dt.timedelta(days=2)) == []
    assert len(_run(TODAY + dt.timedelta(days=3))) == 1
    with pytest.raises(ValidationError):
        expirations.snooze_expiry(cast.partner, item, TODAY, source=Source.CLI)


def test_one_items_failure_does_not_stop_the_others(cast):
    bad = _item(cast, 10)
    good = _item(cast, 10)
    type(bad).objects.filter(pk=bad.pk).update(reminder_steps="broken")
    assert len(_run(TODAY)) == 1
    assert list(ExpiryReminder.objects.values_list("item", flat=True).distinct()) == [good.pk]


def test_the_clock_knows_the_job():
    from thirdway.clock.jobs import JOBS

    assert "thirdway.vault.tasks.send_expiry_reminders" in {job.task_path for job in JOBS}


@pytest.mark.parametrize(
    ("text", "steps"),
    [("60,30,14,7,1", (60, 30, 14, 7, 1)), (" 7, 30 ,7,0", (30, 7, 0)), ("90", (90,))],
)
def test_steps_are_read_largest_first_without_repeats(text, steps):
    assert parse_steps(text) == steps


@pytest.mark.parametrize(
    "text", ["", "x", "-1", "3651", ",".join(["1"] * 3 + [str(n) for n in range(2, 12)])]
)
def test_bad_steps_are_refused(text):
    with pytest.raises(ValueError):
        parse_steps(text)


def test_the_next_step_and_the_due_steps():
    expiry = dt.date(2026, 6, 30)
    assert next_step(expiry, (60, 30, 7), dt.date(2026, 5, 1), sent=()) == (60, dt.date(2026, 5, 1))
    assert next_step(expiry, (60, 30, 7), dt.date(2026, 5, 2), sent=(60,)) == (
        30,
        dt.date(2026, 5, 31),
    )
    assert next_step(expiry, (60,), dt.date(2026, 7, 1), sent=()) is None
    assert due_steps(expiry, (60, 30, 7), dt.date(2026, 6, 1), sent=(60,)) == [30]


@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3",
    reason="SQLite writes one transaction at a time, and its in-memory test database locks "
    "whole tables across threads",
)
@pytest.mark.django_db(transaction=True)
def test_several_workers_at_once_open_one_ticket_per_step(cast):
    _item(cast, 30)
    opened: list[int] = []

    def work() -> None:
        try:
            opened.extend(_run(TODAY))
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(opened) == 1
    assert Ticket.objects.count() == 1
    assert ExpiryReminder.objects.count() == 2  # the 60- and 30-day steps, once each


def test_a_lead_partner_who_cannot_sign_in_leaves_the_reminder_to_a_practice_admin(cast):
    """A lead partner without a sign-in (a partner record with no user) made the job fail for
    the item; a practice admin opens it instead."""
    from thirdway.clients.models import Client
    from thirdway.network.models import Partner

    _item(cast, 30)
    Client.objects.filter(pk=cast.acme.pk).update(lead_partner=cast.other_partner_record)
    Partner.objects.filter(pk=cast.other_partner_record.pk).update(user=None)
    assert len(_run(TODAY)) == 1
    ticket = Ticket.objects.get()
    assert ticket.articles.first().author == cast.admin

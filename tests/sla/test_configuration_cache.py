"""New tickets read SLA policies and webhooks through the process's configuration cache: kept for
a few seconds, cleared at once by a change made here, never remembering a rolled-back change."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from thirdway import configcache
from thirdway.audit.models import Source
from thirdway.sla import services as sla
from thirdway.sla.models import ClientServiceLevel
from thirdway.tickets import services
from thirdway.tickets.models import Webhook, WebhookDelivery

from .conftest import TARGETS


def open_ticket(cast, subject="Printer offline"):
    return services.create_ticket(
        cast.admin, cast.acme, subject=subject, body_text="Since this morning.", source=Source.CLI
    )


def tables_read(queries) -> set[str]:
    return {
        table
        for query in queries
        if query["sql"].lstrip().upper().startswith("SELECT")
        for table in ("sla_", 'tickets_webhook"')
        if table in query["sql"]
    }


@pytest.fixture
def premium(cast, always):
    return sla.create_policy(
        cast.admin, name="Premium", calendar=always, targets=TARGETS, source=Source.CLI
    )


def committed() -> None:
    """What the end of the fixtures' transaction does in production (tests never commit)."""
    configcache.reset()


def test_the_policy_and_webhooks_are_read_once_then_kept(cast, standard):
    committed()
    first = open_ticket(cast)
    with CaptureQueriesContext(connection) as queries:
        second = open_ticket(cast, "Scanner offline")
    assert tables_read(queries.captured_queries) == set()
    assert second.sla_policy_id == first.sla_policy_id == standard.pk
    assert second.sla_due_at is not None and second.sla_due_at >= first.sla_due_at


def test_a_change_saved_here_applies_to_the_next_ticket_at_once(cast, standard, premium):
    committed()
    assert open_ticket(cast).sla_policy_id == standard.pk
    sla.set_client_service_level(
        cast.admin, cast.acme, policy=premium, calendar=None, source=Source.CLI
    )
    assert open_ticket(cast).sla_policy_id == premium.pk


def test_new_targets_apply_at_once(cast, standard):
    committed()
    before = open_ticket(cast)
    faster = {p: {**t, "first_response": 1} for p, t in TARGETS.items()}
    sla.set_targets(cast.admin, standard, faster, source=Source.CLI)
    after = open_ticket(cast)
    assert after.first_response_due_at < before.first_response_due_at


def test_another_process_change_is_read_when_the_kept_answer_expires(
    cast, standard, premium, settings, monkeypatch
):
    committed()
    assert open_ticket(cast).sla_policy_id == standard.pk
    # Another process changes the level: this one hears no signal (bulk writes send none).
    ClientServiceLevel.objects.bulk_create([ClientServiceLevel(client=cast.acme, policy=premium)])
    assert open_ticket(cast).sla_policy_id == standard.pk  # still within the kept time
    clock = configcache.time.monotonic() + settings.CONFIG_CACHE_SECONDS + 1
    monkeypatch.setattr(configcache.time, "monotonic", lambda: clock)
    assert open_ticket(cast).sla_policy_id == premium.pk


def test_with_no_kept_time_every_ticket_reads_the_database(cast, standard, settings):
    settings.CONFIG_CACHE_SECONDS = 0
    committed()
    open_ticket(cast)
    with CaptureQueriesContext(connection) as queries:
        open_ticket(cast)
    assert "sla_" in tables_read(queries.captured_queries)


def test_a_webhook_added_here_hears_the_next_ticket(cast, standard):
    committed()
    open_ticket(cast)
    hook = Webhook.objects.create(name="PSA", url="https://hooks.example.com/t", secret="s")
    ticket = open_ticket(cast)
    assert WebhookDelivery.objects.filter(webhook=hook, payload__ticket__id=ticket.pk).exists()
    hook.is_active = False
    hook.save()
    quiet = open_ticket(cast)
    assert not WebhookDelivery.objects.filter(payload__ticket__id=quiet.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_a_change_rolled_back_is_never_remembered(cast, standard, premium):
    configcache.reset()
    assert open_ticket(cast).sla_policy_id == standard.pk
    with transaction.atomic():
        sla.set_client_service_level(
            cast.admin, cast.acme, policy=premium, calendar=None, source=Source.CLI
        )
        assert open_ticket(cast).sla_policy_id == premium.pk  # seen inside its transaction
        transaction.set_rollback(True)
    assert open_ticket(cast).sla_policy_id == standard.pk
    # and a committed change is read by the next ticket
    sla.set_client_service_level(
        cast.admin, cast.acme, policy=premium, calendar=None, source=Source.CLI
    )
    assert open_ticket(cast).sla_policy_id == premium.pk

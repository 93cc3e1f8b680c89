"""The worker evaluates the pending results of many checks in one transaction: the maintenance
windows of the whole batch are read at once and cover each check as they cover it alone, a
check is written once per batch (its changed columns only), and the statements of a batch do
not grow with its checks."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext

from thirdway.audit.models import Source
from thirdway.monitoring import evaluation, pending_results, services
from thirdway.monitoring.models import Check, CheckResult
from thirdway.monitoring.tags import set_asset_tags

from .test_agent_api import batch, disk_check, enrol, result
from .test_alerting import add
from .test_asset_tags import window


def test_the_windows_of_a_batch_are_those_of_each_check(cast):
    t0 = dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC)
    set_asset_tags(cast.partner, cast.acme_server, ["backup"], source=Source.CLI)
    checks = [
        add(cast, name="Server", asset_id=cast.acme_server.pk),
        add(cast, name="Laptop", target="laptop.acme.example", asset_id=cast.acme_laptop.pk),
        add(cast, name="Site", target="www.acme.example", site_id=cast.acme_site.pk),
        add(cast, name="Web", target="web.acme.example"),
        services.create_check(
            cast.admin,
            cast.globex,
            name="Globex",
            kind="tcp",
            target="mail.globex.example",
            port=25,
            source=Source.CLI,
        ),
    ]
    window(cast, t0, tag="backup")
    window(cast, t0, site_id=cast.acme_site.pk)
    window(cast, t0, asset_id=cast.acme_laptop.pk)
    window(cast, t0, tag="other")
    services.create_window(
        cast.admin,
        cast.globex,
        name="Globex-wide",
        kind="one_off",
        starts_at=t0,
        ends_at=t0 + dt.timedelta(hours=1),
        source=Source.CLI,
    )
    together = evaluation.windows_for(checks)
    for check in checks:
        assert set(together[check.pk]) == set(evaluation.windows_of(check)), check.name
    assert together[checks[-1].pk] and not together[checks[3].pk]


def _round(checks_and_secrets, label, value):
    for n, (check, secret) in enumerate(checks_and_secrets):
        batch(secret, f"{label}-{n:06d}", [result(check, value)], evaluate=False)
    with CaptureQueriesContext(connection) as queries:
        counts = pending_results.evaluate_pending()
    return counts, len(queries)


def test_a_batch_of_checks_costs_the_same_statements_whatever_its_size(cast):
    pairs = []
    for n in range(6):
        agent, secret = enrol(cast, hostname=f"srv-batch-{n}")
        pairs.append((disk_check(cast, agent), secret))
    counts, _ = _round(pairs, "first", 50.0)
    assert counts["evaluated"] == 6 and counts["checks"] == 6
    small, small_queries = _round(pairs[:2], "small", 51.0)
    large, large_queries = _round(pairs, "large", 52.0)
    assert small["evaluated"] == 2 and large["evaluated"] == 6
    assert large_queries == small_queries
    assert not CheckResult.objects.filter(pending=True).exists()
    for check, _ in pairs:
        check.refresh_from_db()
        assert check.status == "ok" and check.last_result_at is not None


def test_a_check_is_written_with_the_columns_its_results_changed(cast):
    agent, secret = enrol(cast)
    check = disk_check(cast, agent)
    batch(secret, "cols-000001", [result(check, 50.0)], evaluate=False)
    pending_results.evaluate_pending()
    batch(secret, "cols-000002", [result(check, 51.0)], evaluate=False)
    with CaptureQueriesContext(connection) as queries:
        pending_results.evaluate_pending()
    table = Check._meta.db_table
    updates = [q["sql"] for q in queries if f'UPDATE "{table}" SET' in q["sql"]]
    assert len(updates) == 1
    assert '"name"' not in updates[0] and '"state"' in updates[0]
    assert '"status"' not in updates[0]  # still ok: not written

"""Certificates the checks read go into the vault's expirations register: one item per client
and host:port, made on the first sighting, moved by a renewal, never duplicated."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from thirdway.audit.models import AuditRecord, Source
from thirdway.clients.certificates import SeenCertificate, certificate_seen
from thirdway.monitoring import agents, ingest_store, pending_results, runner, services
from thirdway.monitoring.models import Check
from thirdway.vault.models import ExpiryItem
from thirdway.vault.services import expirations


def run_now(check: Check) -> Check:
    Check.objects.filter(pk=check.pk).update(next_run_at=timezone.now())
    assert runner.run_due_checks() >= 1
    return Check.objects.get(pk=check.pk)


def test_a_tls_check_puts_its_certificate_in_the_register_once(cast, tls_server):
    port = tls_server(45)
    check = services.create_check(
        cast.admin,
        cast.acme,
        name="Mail server",
        kind="tls",
        target="127.0.0.1",
        port=port,
        max_attempts=1,
        allow_private_target=True,
        source=Source.CLI,
    )
    run_now(check)
    item = ExpiryItem.objects.get()
    assert item.client == cast.acme and item.kind == "certificate"
    assert item.endpoint == f"127.0.0.1:{port}" and item.name == item.endpoint
    assert item.subject == "CN=host0" and item.issuer == "CN=host0"
    expected = (dt.datetime.now(dt.UTC) + dt.timedelta(days=45)).date()
    assert abs((item.expires_on - expected).days) <= 1
    assert item.seen_at is not None
    run_now(check)
    assert ExpiryItem.objects.count() == 1
    assert AuditRecord.objects.filter(action="expiry.create").count() == 1


def test_a_renewal_moves_the_date_and_a_hand_entered_item_is_adopted(cast):
    entered = expirations.create_expiry(
        cast.admin,
        cast.acme,
        kind="certificate",
        name="Portal.Acme.example",
        expires_on=dt.date(2027, 1, 10),
        source=Source.CLI,
    )
    first = SeenCertificate(
        host="portal.acme.example",
        port=443,
        not_after=dt.datetime(2027, 1, 12, 8, tzinfo=dt.UTC),
        subject="CN=portal.acme.example",
        issuer="CN=R11,O=Let's Encrypt,C=US",
    )
    certificate_seen(cast.acme.pk, first, source="check:1")
    entered.refresh_from_db()
    assert ExpiryItem.objects.count() == 1
    assert entered.endpoint == "portal.acme.example:443"
    assert entered.expires_on == dt.date(2027, 1, 12)
    assert entered.issuer.startswith("CN=R11")
    renewed = SeenCertificate(
        host="portal.acme.example", port=443, not_after=dt.datetime(2027, 4, 12, tzinfo=dt.UTC)
    )
    certificate_seen(cast.acme.pk, renewed, source="check:1")
    entered.refresh_from_db()
    assert entered.expires_on == dt.date(2027, 4, 12)
    assert entered.subject == "CN=portal.acme.example"  # kept when a check does not know it
    assert AuditRecord.objects.filter(action="expiry.certificate").count() == 2
    # the same host on another port, and the same endpoint at another client, are other items
    certificate_seen(
        cast.acme.pk,
        SeenCertificate("portal.acme.example", 8443, first.not_after),
        source="check:2",
    )
    certificate_seen(cast.globex.pk, first, source="check:3")
    assert ExpiryItem.objects.filter(client=cast.acme).count() == 2
    assert ExpiryItem.objects.filter(client=cast.globex).count() == 1


def test_a_rounded_date_from_an_agent_does_not_rewrite_the_item(cast):
    exact = dt.datetime(2027, 2, 1, 0, 5, tzinfo=dt.UTC)
    certificate_seen(cast.acme.pk, SeenCertificate("nas.lan", 443, exact), source="check:1")
    rounded = SeenCertificate("nas.lan", 443, exact - dt.timedelta(minutes=10), exact=False)
    certificate_seen(cast.acme.pk, rounded, source="check:1")
    assert ExpiryItem.objects.get().expires_on == dt.date(2027, 2, 1)
    later = SeenCertificate("nas.lan", 443, exact + dt.timedelta(days=90), exact=False)
    certificate_seen(cast.acme.pk, later, source="check:1")
    assert ExpiryItem.objects.get().expires_on == dt.date(2027, 5, 2)


def test_an_agents_https_check_result_reaches_the_register(cast):
    _, token = agents.issue_enrolment_token(cast.partner, cast.acme, source=Source.CLI)
    agent, _ = agents.enrol(token, hostname="srv-files", os_name="Debian", os_version="12")
    common = {"agent_id": agent.pk, "max_attempts": 1, "source": Source.CLI}
    nas = services.create_check(
        cast.admin,
        cast.acme,
        name="NAS",
        kind="agent_http",
        target="https://nas.lan:5001/",
        critical_threshold=7,
        **common,
    )
    plain = services.create_check(
        cast.admin,
        cast.acme,
        name="Printer",
        kind="agent_http",
        target="http://printer.lan/",
        **common,
    )
    now = timezone.now()
    results = [
        {
            "check_id": nas.pk,
            "collected_at": now - dt.timedelta(minutes=1),
            "value": 20.0,
            "status": "ok",
            "output": "HTTP 200",
        },
        {
            "check_id": nas.pk,
            "collected_at": now,
            "value": 30.0,
            "status": "ok",
            "output": "HTTP 200",
        },
        {
            "check_id": plain.pk,
            "collected_at": now,
            "value": None,
            "status": "ok",
            "output": "HTTP 200",
        },
    ]
    ingest_store.store_batch(agent, "batch-1", results)
    pending_results.evaluate_pending()
    item = ExpiryItem.objects.get()
    assert item.endpoint == "nas.lan:5001" and item.client == cast.acme
    assert item.expires_on == (now + dt.timedelta(days=30)).date()
    assert item.subject == ""  # the agent sends the days left only


def test_a_failing_listener_never_stops_the_check(cast, monkeypatch):
    from thirdway.clients import certificates

    def broken(client_id, seen, source):
        raise RuntimeError("down")

    monkeypatch.setattr(certificates, "_LISTENERS", [broken, *certificates._LISTENERS])
    seen = SeenCertificate("www.acme.example", 443, dt.datetime(2027, 1, 1, tzinfo=dt.UTC))
    certificate_seen(cast.acme.pk, seen, source="check:9")
    assert ExpiryItem.objects.get().endpoint == "www.acme.example:443"


def test_the_register_page_shows_what_monitoring_read(cast, web_as):
    seen = SeenCertificate(
        "www.acme.example",
        443,
        dt.datetime(2027, 1, 1, tzinfo=dt.UTC),
        subject="CN=www.acme.example",
        issuer="CN=R11,O=Let's Encrypt,C=US",
    )
    certificate_seen(cast.acme.pk, seen, source="check:9")
    url = f"/vault/clients/{cast.acme.pk}/expirations/"
    text = web_as(cast.partner).get(url).content.decode()
    assert "CN=www.acme.example" in text and "read by monitoring" in text
    assert web_as(cast.other_client_admin).get(url).status_code == 404

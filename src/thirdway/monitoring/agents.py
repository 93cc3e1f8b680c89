"""Agents on client machines: enrolment tokens, enrolment, the agent's secret, its heartbeat,
its result batches and its inventory (the only writers of these).

- An enrolment token belongs to a client (and optionally a site), expires, and is used once;
  it is stored as a SHA-256 digest and shown once.  Enrolling with it gives the machine its own
  secret (also stored as a digest), revocable on the agents page.
- A heartbeat writes ``last_seen_at`` at most once per ``SEEN_EVERY`` per agent, with a
  conditional UPDATE: most heartbeats cost one indexed SELECT and an UPDATE matching no row.
- A results batch carries the agent's id for it; the batch row and its results are committed
  together (multi-row inserts, ``ingest_store``), so a batch sent again (its answer was lost)
  stores nothing twice.  Each result is evaluated at its collection time, after the answer, by
  the task worker (``pending_results``); one delivered long after (buffered while the server
  was unreachable) opens no alert by itself.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from thirdway.accounts.models import token_digest
from thirdway.audit.services import record
from thirdway.clients.models import Asset, AssetKind, Client, Site
from thirdway.errors import invalid, require
from thirdway.monitoring import engine, evaluation, ingest, ingest_store, ingest_writer
from thirdway.monitoring.access import can_manage
from thirdway.monitoring.models import (
    AGENT_KINDS,
    LAN_KINDS,
    Agent,
    AgentEnrolmentToken,
    AssetChange,
    Check,
    CheckKind,
)
from thirdway.monitoring.services import thresholds_of

ENROL_PREFIX = "twen_"
AGENT_PREFIX = "twag_"
# Last seen is written at most this often per agent.
SEEN_EVERY = dt.timedelta(seconds=30)
# The shortest cycle asked of an agent (a retry interval may be shorter: it waits a cycle).
MIN_CYCLE = 30
# The agent's interval when none of its checks asks for a shorter one.
DEFAULT_INTERVAL = 60
MAX_TOKEN_HOURS = 24 * 30
# What inventory keys are compared and recorded as changes of the asset.
INVENTORY_FIELDS = (
    "hostname",
    "os_name",
    "os_version",
    "kernel",
    "serial",
    "cpu_model",
    "cpu_count",
    "memory_bytes",
    "disks",
    "interfaces",
    "boot_time",
    "users",
)


# The most of a change's text kept (a package list's difference, say).
MAX_CHANGE_TEXT = 20_000


def _scope(client_id: int) -> str:
    return f"client:{client_id}"


# --- enrolment tokens --------------------------------------------------------------------------


@transaction.atomic
def issue_enrolment_token(
    actor, client: Client, *, site: Site | None = None, hours: int = 24, note: str = "", source: str
) -> tuple[AgentEnrolmentToken, str]:
    """A new enrolment token; its secret is returned once and never stored."""
    require(can_manage(actor, client), "You may not change this client's monitoring.")
    if site is not None and site.client_id != client.pk:
        raise invalid("site", "That site is another client's.", "a site of this client")
    if not 1 <= hours <= MAX_TOKEN_HOURS:
        raise invalid("hours", "Choose how long the token may be used.", f"1 to {MAX_TOKEN_HOURS}")
    if len(note) > 100:
        raise invalid("note", "The note is too long.", "at most 100 characters")
    secret = ENROL_PREFIX + secrets.token_urlsafe(32)
    token = AgentEnrolmentToken.objects.create(
        client=client,
        site=site,
        note=note.strip(),
        prefix=secret[:10],
        digest=token_digest(secret),
        expires_at=timezone.now() + dt.timedelta(hours=hours),
        created_by=actor,
    )
    record(actor, "monitoring.agent_token.issue", token, source=source, scope=_scope(client.pk))
    return token, secret


@transaction.atomic
def revoke_enrolment_token(actor, token: AgentEnrolmentToken, *, source: str):
    require(can_manage(actor, token.client), "You may not change this client's monitoring.")
    if token.revoked_at is None and token.used_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        scope = _scope(token.client_id)
        record(actor, "monitoring.agent_token.revoke", token, source=source, scope=scope)
    return token


def _asset_for(client: Client, site: Site | None, hostname: str) -> Asset:
    """The client's asset of that host name, or a new one."""
    found = Asset.objects.filter(client=client, name__iexact=hostname).order_by("id").first()
    if found is not None:
        return found
    return Asset.objects.create(client=client, site=site, name=hostname, kind=AssetKind.SERVER)


@transaction.atomic
def enrol(
    secret: str, *, hostname: str, os_name: str = "", os_version: str = "", agent_version: str = ""
) -> tuple[Agent, str] | None:
    """The agent a machine becomes with an enrolment token, and its own secret (returned once);
    None when the token is unknown, used, revoked or expired (the caller says no more)."""
    if not secret.startswith(ENROL_PREFIX) or len(secret) > 100:
        return None
    token = (
        AgentEnrolmentToken.objects.select_for_update(of=("self",))
        .select_related("client", "site")
        .filter(digest=token_digest(secret))
        .first()
    )
    now = timezone.now()
    if token is None or token.state_at(now) != "usable":
        return None
    agent_secret = AGENT_PREFIX + secrets.token_urlsafe(32)
    agent = Agent.objects.create(
        client=token.client,
        site=token.site,
        asset=_asset_for(token.client, token.site, hostname),
        hostname=hostname,
        os_name=os_name,
        os_version=os_version,
        agent_version=agent_version,
        prefix=agent_secret[:10],
        digest=token_digest(agent_secret),
        enrolled_with=token,
        last_seen_at=now,
    )
    token.used_at = now
    token.save(update_fields=["used_at"])
    record(None, "monitoring.agent.enrol", agent, source="api", scope=_scope(agent.client_id))
    return agent, agent_secret


@transaction.atomic
def revoke_agent(actor, agent: Agent, *, source: str) -> Agent:
    """The agent's secret stops working at once; its checks and history stay."""
    require(can_manage(actor, agent.client), "You may not change this client's monitoring.")
    if agent.revoked_at is None:
        agent.revoked_at = timezone.now()
        agent.save(update_fields=["revoked_at"])
        ingest.forget(agent.digest, agent.pk)
        record(
            actor, "monitoring.agent.revoke", agent, source=source, scope=_scope(agent.client_id)
        )
    return agent


def agent_for(secret: str) -> Agent | None:
    """The active agent a secret is, or None (unknown and revoked alike)."""
    if not secret.startswith(AGENT_PREFIX) or len(secret) > 100:
        return None
    return (
        Agent.objects.filter(digest=token_digest(secret), revoked_at__isnull=True)
        .select_related("client")
        .first()
    )


# --- heartbeat and configuration ---------------------------------------------------------------


def seen(
    agent: Agent, now: dt.datetime, skew: float | None = None, buffer: tuple[int, int] | None = None
) -> bool:
    """Note that the agent was seen (with its clock's skew and its buffer: waiting, dropped),
    at most once per ``SEEN_EVERY`` (True when written)."""
    stale = Q(last_seen_at__isnull=True) | Q(last_seen_at__lt=now - SEEN_EVERY)
    changes: dict = {"last_seen_at": now}
    if skew is not None:
        changes["last_skew_seconds"] = round(skew, 3)
    if buffer is not None:
        changes["results_buffered"], changes["results_dropped"] = buffer
    return Agent.objects.filter(stale, pk=agent.pk).update(**changes) == 1


def checks_of(agent: Agent):
    return Check.objects.filter(agent=agent, kind__in=AGENT_KINDS, is_paused=False).order_by("pk")


def config_of(agent: Agent) -> dict:
    """What the agent runs: its checks and how often; ``etag`` changes when any of it does."""
    from thirdway.monitoring.scripts import script_of_check

    rows = checks_of(agent).select_related("script__current")
    checks, interval = [], DEFAULT_INTERVAL
    for check in rows:
        item = {
            "id": check.pk,
            "kind": check.kind,
            "metric": check.metric,
            "target": check.target,
            "duration_seconds": check.duration_seconds,
        }
        if check.kind in LAN_KINDS:
            item["port"] = check.port
            item["expected_status"] = check.expected_status
            item["body_contains"] = check.body_contains
            item["timeout_seconds"] = check.timeout_seconds
        # Every check at its interval; while a problem is rechecked (soft), at the retry one.
        every = check.interval_seconds
        if check.state_type == "soft":
            every = min(every, check.retry_interval_seconds)
        item["interval_seconds"] = every
        if check.kind == CheckKind.AGENT_SCRIPT:
            item["script"] = script_of_check(check)
            asked = check.run_requested_at
            item["run_requested_at"] = asked.isoformat() if asked is not None else None
        checks.append(item)
        interval = min(interval, max(every, MIN_CYCLE))
    body = json.dumps([interval, checks], sort_keys=True).encode()
    etag = hashlib.sha256(body).hexdigest()[:16]
    return {"interval_seconds": interval, "checks": checks, "etag": etag}


# --- results -----------------------------------------------------------------------------------


def status_of(check: Check, value: float | None, given: str | None) -> engine.Status:
    """The status of a reported value by the check's thresholds (the server decides); without a
    value, what the agent said (a missing file is critical, a failed measure unknown)."""
    if value is None:
        return engine.Status(given or "unknown")
    if check.kind in LAN_KINDS and given not in (None, "ok"):
        return engine.Status(given)  # the device did not answer as asked, whatever the value
    if check.kind == CheckKind.AGENT_PROCESS:
        return engine.Status.OK if value >= 1 else engine.Status.CRITICAL
    if check.warning_threshold is None and check.critical_threshold is None:
        return engine.Status.OK
    previous = evaluation.load_state(check).status
    return engine.classify(value, thresholds_of(check), previous)


def receive_results(
    agent: Agent, batch_id: str, results: list[dict]
) -> tuple[ingest_writer.StoredBatch, bool]:
    """Store one batch, its results to be evaluated in the order collected; (the batch, True if
    it had been received before).  A result for a check that is not the agent's is refused, the
    others kept; the answer is given only once they are committed (``ingest_store``)."""
    batch, duplicate = ingest_store.store_batch(agent, batch_id, results)
    if not duplicate:
        seen(agent, timezone.now())
    return batch, duplicate


# --- inventory ---------------------------------------------------------------------------------


def _shown(value) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


@transaction.atomic
def record_inventory(agent: Agent, inventory: dict) -> list[AssetChange]:
    """Keep what the machine says about itself; each field that changed is written down on its
    asset (the first inventory is a change from nothing)."""
    now = timezone.now()
    agent = Agent.objects.select_for_update().get(pk=agent.pk)
    before = agent.inventory or {}
    changes = []
    if agent.asset_id is not None:
        for field in INVENTORY_FIELDS:
            if field in inventory and inventory[field] != before.get(field):
                old = _shown(before[field]) if field in before else ""
                changes.append(
                    AssetChange(
                        asset_id=agent.asset_id,
                        agent=agent,
                        at=now,
                        field=field,
                        before=old,
                        after=_shown(inventory[field]),
                    )
                )
        changes.extend(_package_changes(agent, before, inventory, now))
        AssetChange.objects.bulk_create(changes)
        _update_asset(agent.asset_id, inventory)
    agent.inventory, agent.inventory_at = inventory, now
    agent.hostname = inventory.get("hostname") or agent.hostname
    agent.os_name = inventory.get("os_name", agent.os_name)[:100]
    agent.os_version = inventory.get("os_version", agent.os_version)[:100]
    agent.save(update_fields=["inventory", "inventory_at", "hostname", "os_name", "os_version"])
    return changes


def _package_changes(agent: Agent, before: dict, inventory: dict, now) -> list[AssetChange]:
    """Installed packages changed: one change listing those removed (before) and those added
    or upgraded (after), not the whole lists."""
    old, new = before.get("packages"), inventory.get("packages")
    if new is None or old == new:
        return []
    gone = sorted(set(old or []) - set(new))
    came = sorted(set(new) - set(old or []))
    if old is None:
        summary = f"{len(new)} packages"
        return [_change(agent, now, "packages", "", summary)]
    return [_change(agent, now, "packages", "\n".join(gone), "\n".join(came))]


def _change(agent: Agent, now, field: str, before: str, after: str) -> AssetChange:
    cap = MAX_CHANGE_TEXT
    return AssetChange(
        asset_id=agent.asset_id,
        agent=agent,
        at=now,
        field=field,
        before=before[:cap],
        after=after[:cap],
    )


def _update_asset(asset_id: int, inventory: dict) -> None:
    changes = {}
    system = " ".join(filter(None, [inventory.get("os_name"), inventory.get("os_version")]))
    if system:
        changes["operating_system"] = system[:100]
    if inventory.get("serial"):
        changes["serial"] = inventory["serial"][:100]
    if changes:
        Asset.objects.filter(pk=asset_id).update(**changes)


def validate_agent_check(check: Check) -> None:
    """An agent check needs its agent (the client's) and what it measures."""
    if check.agent is None:
        raise invalid("agent", "Choose the agent that runs this check.", "an agent of the client")
    if check.agent.client_id != check.client_id:
        raise invalid("agent", "That agent is another client's.", "an agent of this client")
    if check.kind in LAN_KINDS:
        from thirdway.monitoring.lan import validate_lan_check

        validate_lan_check(check)
        return
    if check.kind == CheckKind.AGENT_SCRIPT:
        if check.script is None:
            raise invalid("script", "Choose the script to run.", "a script of the library")
        return
    if check.kind == CheckKind.AGENT_UPDATES:
        return
    if check.kind == CheckKind.AGENT_METRIC:
        metric = check.metric
        if metric not in ("cpu", "memory") and not (metric.startswith("disk:/")):
            raise invalid("metric", "Say what is measured.", "cpu, memory or disk:/a/mount/point")
    elif not check.target.strip():
        what = "process name" if check.kind == CheckKind.AGENT_PROCESS else "file's full path"
        raise invalid("target", f"Give the {what}.", f"the {what}")
    elif check.kind == CheckKind.AGENT_FILE_AGE and not check.target.startswith("/"):
        raise invalid("target", "Give the file's full path.", "a path starting with /")

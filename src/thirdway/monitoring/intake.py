"""Alerts from a client's Prometheus Alertmanager, by its webhook (payload version 4).

Each alert is a check of its own (kind ``alertmanager``), found by a digest of the webhook's
``groupKey`` and the alert's ``fingerprint``, so a re-sent notification is the same alert: its
repeats are counted, it never opens a second ticket.  A firing alert is a critical result at its
``startsAt`` (warning when its ``severity`` label says so), a resolved one an OK result at its
``endsAt``; both go through the engine like any other result (maintenance windows apply).
``truncatedAlerts`` (alerts Alertmanager left out under ``max_alerts``) is said on the timeline
of each alert of the group.  The body is stored before it is processed.

Tokens are the client's: a long random secret, stored as its SHA-256 digest, shown once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.db import IntegrityError, transaction
from django.utils import timezone

from thirdway.accounts.models import token_digest
from thirdway.audit.services import record
from thirdway.clients.models import Client
from thirdway.errors import invalid, require
from thirdway.monitoring import engine, evaluation
from thirdway.monitoring.access import can_manage
from thirdway.monitoring.models import (
    Check,
    CheckEvent,
    CheckKind,
    EventKind,
    IntakeDelivery,
    IntakeToken,
)

TOKEN_PREFIX = "twam_"  # noqa: S105 - the prefix that names these tokens, not a secret
WARNING_SEVERITIES = {"warning", "warn", "minor", "info"}


# --- tokens ------------------------------------------------------------------------------------


@transaction.atomic
def issue_token(actor, client: Client, name: str, *, source: str) -> tuple[IntakeToken, str]:
    """A new intake token of ``client``; the secret is returned once and never stored."""
    require(can_manage(actor, client), "You may not change this client's monitoring.")
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise invalid("name", "Give the token a name.", "1 to 100 characters")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = IntakeToken.objects.create(
        client=client, name=name, prefix=secret[:10], digest=token_digest(secret), created_by=actor
    )
    record(
        actor, "monitoring.intake_token.issue", token, source=source, scope=f"client:{client.pk}"
    )
    return token, secret


@transaction.atomic
def revoke_token(actor, token: IntakeToken, *, source: str) -> IntakeToken:
    require(can_manage(actor, token.client), "You may not change this client's monitoring.")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        scope = f"client:{token.client_id}"
        record(actor, "monitoring.intake_token.revoke", token, source=source, scope=scope)
    return token


def token_for(secret: str) -> IntakeToken | None:
    """The active token a secret is, or None."""
    if not secret or not secret.startswith(TOKEN_PREFIX) or len(secret) > 100:
        return None
    token = (
        IntakeToken.objects.filter(digest=token_digest(secret), revoked_at__isnull=True)
        .select_related("client")
        .first()
    )
    if token is not None:
        IntakeToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return token


# --- alerts ------------------------------------------------------------------------------------


def external_key(group_key: str, fingerprint: str) -> str:
    return hashlib.sha256(f"{group_key}\x00{fingerprint}".encode()).hexdigest()


def _name_of(labels: dict[str, str]) -> str:
    name = labels.get("alertname", "Alert")
    where = labels.get("instance") or labels.get("job") or ""
    return f"{name} on {where}"[:150] if where else name[:150]


def _check_for(client: Client, key: str, labels: dict[str, str]) -> Check:
    found = Check.objects.filter(client=client, external_key=key).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return Check.objects.create(
                client=client,
                name=_name_of(labels),
                kind=CheckKind.ALERTMANAGER,
                external_key=key,
                max_attempts=1,
                alert_category=labels.get("category", "")[:100],
            )
    except IntegrityError:  # made meanwhile by another delivery of the same group
        return Check.objects.get(client=client, external_key=key)


def _text(alert: dict) -> str:
    annotations = alert.get("annotations") or {}
    words = annotations.get("summary") or annotations.get("description") or ""
    return str(words)[:400]


def _status_of(alert: dict) -> engine.Status:
    severity = str((alert.get("labels") or {}).get("severity", "")).lower()
    return engine.Status.WARNING if severity in WARNING_SEVERITIES else engine.Status.CRITICAL


def _moment(value: str | None, fallback: dt.datetime) -> dt.datetime:
    """Alertmanager's times (RFC 3339); its zero time means "not set"."""
    if not value or value.startswith("0001-"):
        return fallback
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return fallback
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def receive(token: IntakeToken, body: dict) -> IntakeDelivery:
    """Store a validated webhook body, then process it."""
    delivery = IntakeDelivery.objects.create(
        client=token.client, token=token, group_key=str(body.get("groupKey", ""))[:500], body=body
    )
    process(delivery)
    return delivery


def process(delivery: IntakeDelivery) -> IntakeDelivery:
    """Each alert of a stored delivery as a result of its own check."""
    now = timezone.now()
    body = delivery.body
    group_key = str(body.get("groupKey", ""))
    truncated = int(body.get("truncatedAlerts") or 0)
    seen = 0
    for alert in body.get("alerts", []):
        labels = {str(k): str(v) for k, v in (alert.get("labels") or {}).items()}
        fingerprint = str(alert.get("fingerprint") or "") or _fingerprint(labels)
        check = _check_for(delivery.client, external_key(group_key, fingerprint), labels)
        if alert.get("status") == "resolved":
            at = _moment(alert.get("endsAt"), now)
            evaluation.record_result(
                check.pk, engine.Status.OK, output="Resolved.", collected_at=at
            )
        else:
            at = _moment(alert.get("startsAt"), now)
            text = _text(alert) or "Firing."
            evaluation.record_result(check.pk, _status_of(alert), output=text, collected_at=at)
        if truncated:
            CheckEvent.objects.create(
                check_obj=check,
                at=now,
                kind=EventKind.NOTE,
                text=f"Alertmanager left {truncated} alert(s) of this group out (max_alerts).",
            )
        seen += 1
    delivery.processed_at = now
    delivery.outcome = f"{seen} alert(s)" + (f", {truncated} left out" if truncated else "")
    delivery.save(update_fields=["processed_at", "outcome"])
    return delivery


def _fingerprint(labels: dict[str, str]) -> str:
    """Alertmanager always sends one; a hand-written payload may not."""
    joined = "\x00".join(f"{k}={labels[k]}" for k in sorted(labels))
    return hashlib.sha256(joined.encode()).hexdigest()[:16]

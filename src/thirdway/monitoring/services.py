"""Every change to checks, maintenance windows and alert rules (the only writers of them).

Results, pings and the periodic sweep are written by :mod:`thirdway.monitoring.evaluation`,
alerts and their tickets by :mod:`thirdway.monitoring.alerting`.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from thirdway.access import find_owned
from thirdway.accounts import services as accounts
from thirdway.accounts.models import Role, User
from thirdway.audit.services import create_and_record, record, update_and_record
from thirdway.clients.models import Asset, Client, Site
from thirdway.errors import invalid, require
from thirdway.monitoring import schedule
from thirdway.monitoring.access import can_allow_private, can_manage
from thirdway.monitoring.engine import Thresholds
from thirdway.monitoring.models import (
    AGENT_KINDS,
    LAN_KINDS,
    Agent,
    AlertRule,
    Check,
    CheckKind,
    GroupBy,
    MaintenanceWindow,
    WindowKind,
    new_ping_token,
)
from thirdway.monitoring.tags import ALLOWED as TAG_ALLOWED
from thirdway.monitoring.tags import clean_tag
from thirdway.network.models import Practice
from thirdway.tickets.webhooks.guard import refusal_reason

CHECK_FIELDS = [
    "name",
    "kind",
    "agent",
    "script",
    "metric",
    "duration_seconds",
    "site",
    "asset",
    "target",
    "port",
    "expected_status",
    "body_contains",
    "record_type",
    "expected_answer",
    "resolver",
    "warning_threshold",
    "critical_threshold",
    "warning_recovery",
    "critical_recovery",
    "period_seconds",
    "cron_expression",
    "grace_seconds",
    "interval_seconds",
    "retry_interval_seconds",
    "max_attempts",
    "timeout_seconds",
    "parent",
    "dependency_delay_seconds",
    "allow_private_target",
    "is_paused",
    "alert_priority",
    "alert_category",
    "opens_tickets",
    "security_age_days",
]
WINDOW_FIELDS = [
    "name",
    "kind",
    "site",
    "asset",
    "tag",
    "starts_at",
    "ends_at",
    "weekdays",
    "start_time",
    "duration_minutes",
    "time_zone",
]
RULE_FIELDS = [
    "priority",
    "category",
    "practice",
    "group_by",
    "group_window_seconds",
    "group_wait_seconds",
    "group_tag",
    "repeat_interval_seconds",
]
# The kinds people may create (scripts and Alertmanager alerts are made otherwise).
CREATABLE = (
    CheckKind.HTTP,
    CheckKind.TCP,
    CheckKind.TLS,
    CheckKind.DNS,
    CheckKind.HEARTBEAT,
    *AGENT_KINDS,
)
# A TLS check warns three weeks before expiry and is critical a week before, by default.
TLS_DEFAULTS = {"warning_threshold": 21.0, "critical_threshold": 7.0}
MONITORING_USERNAME = "monitoring"
# Kinds whose value is measured against thresholds (days left, percent, hours, milliseconds).
THRESHOLD_KINDS = (
    CheckKind.TLS,
    CheckKind.AGENT_METRIC,
    CheckKind.AGENT_FILE_AGE,
    CheckKind.AGENT_PING,
    CheckKind.AGENT_TCP,
    CheckKind.AGENT_HTTP,
    CheckKind.AGENT_UPDATES,
)
# Agent checks run every minute unless said otherwise.
AGENT_INTERVAL = 60
# Asking the package manager is slow: pending updates are counted hourly by default.
UPDATES_INTERVAL = 3600
ALLOWED_PRIVATE = "a public host, or ask a practice admin to allow this private target"


def _scope(client: Client) -> str:
    return f"client:{client.pk}"


def monitoring_actor() -> User:
    """The account monitoring acts as where no person does (opening and noting tickets)."""
    user = User.objects.filter(username=MONITORING_USERNAME).first()
    if user is not None:
        return user
    return accounts.create_user(
        None, username=MONITORING_USERNAME, role=Role.DESK, first_name="Monitoring", source="system"
    )


# --- checks ------------------------------------------------------------------------------------


def _host_of(check: Check) -> str:
    if check.kind == CheckKind.HTTP:
        return urlsplit(check.target).hostname or ""
    return check.target.strip().strip("[]")


def _validate_target(check: Check) -> None:
    if check.kind == CheckKind.HTTP:
        parts = urlsplit(check.target)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise invalid("target", "Give the full address to check.", "an http:// or https:// URL")
        if parts.username or parts.password:
            raise invalid("target", "The URL carries credentials.", "a URL without user:password@")
    elif check.kind in (CheckKind.TCP, CheckKind.TLS):
        host = check.target.strip()
        if not host or any(ch in host for ch in "/ @?#"):
            raise invalid("target", "Give a host name or an address.", "e.g. mail.example.com")
        if check.port is None:
            raise invalid("port", "Give the port to connect to.", "a port from 1 to 65535")
    elif check.kind == CheckKind.DNS:
        from thirdway.monitoring import dns_check

        dns_check.validate(check)
    if check.kind in (CheckKind.HTTP, CheckKind.TCP, CheckKind.TLS, CheckKind.DNS):
        if check.kind != CheckKind.DNS:
            _refuse_private_literal(check)
        if check.timeout_seconds > 30:
            raise invalid("timeout_seconds", "The server waits at most 30 s.", "1 to 30 seconds")


def _refuse_private_literal(check: Check) -> None:
    """An address written in the target is judged now; a name is judged when it is resolved."""
    if check.allow_private_target:
        return
    try:
        address = ipaddress.ip_address(_host_of(check))
    except ValueError:
        return
    reason = refusal_reason(address)
    if reason is not None:
        raise invalid("target", f"{address} is {reason}.", ALLOWED_PRIVATE)


def _validate_thresholds(check: Check) -> None:
    if check.kind not in THRESHOLD_KINDS:
        return
    values = (check.warning_threshold, check.critical_threshold)
    if check.kind in LAN_KINDS and values == (None, None) and check.warning_recovery is None:
        return  # a LAN check without thresholds is judged by its answer alone
    found = thresholds_of(check).problems()
    if found:
        field, problem = found[0]
        name = field if field.endswith("recovery") else f"{field}_threshold"
        raise invalid(name, problem, "thresholds in order, each recovery past its threshold")


def thresholds_of(check: Check) -> Thresholds:
    return Thresholds(
        warning=check.warning_threshold,
        critical=check.critical_threshold,
        warning_recovery=check.warning_recovery,
        critical_recovery=check.critical_recovery,
        higher_is_worse=check.kind not in (CheckKind.TLS, CheckKind.AGENT_HTTP),
    )


def heartbeat_late_after(check: Check, after: dt.datetime) -> dt.datetime:
    """When a heartbeat pinged (or made, or resumed) at ``after`` becomes late."""
    return schedule.late_after(
        after,
        period_seconds=check.period_seconds,
        grace_seconds=check.grace_seconds,
        cron=check.cron_expression,
        zone=check.client.time_zone,
    )


def _validate_parent(check: Check) -> None:
    parent, seen = check.parent, {check.pk}
    while parent is not None:
        if parent.client_id != check.client_id:
            raise invalid("parent", "The parent check is another client's.", "a check of theirs")
        if parent.pk in seen:
            raise invalid("parent", "A check cannot depend on itself.", "a check not below it")
        seen.add(parent.pk)
        parent = parent.parent


def _validate(check: Check, *, creating: bool = False) -> None:
    if creating and check.kind not in CREATABLE:
        allowed = ", ".join(str(kind) for kind in CREATABLE)
        raise invalid("kind", "That kind of check is not made by hand.", allowed)
    if check.cron_expression:
        if check.kind != CheckKind.HEARTBEAT:
            raise invalid("cron_expression", "Only heartbeats have a schedule.", "blank")
        problem = schedule.cron_problem(check.cron_expression, check.client.time_zone)
        if problem:
            raise invalid("cron_expression", problem, schedule.ALLOWED)
    if check.kind in AGENT_KINDS:
        from thirdway.monitoring.agents import validate_agent_check

        validate_agent_check(check)
    if check.security_age_days is not None and check.kind != CheckKind.AGENT_UPDATES:
        raise invalid(
            "security_age_days", "Only pending updates checks have it.", "blank for this kind"
        )
    _validate_target(check)
    _validate_thresholds(check)
    _validate_parent(check)
    if check.retry_interval_seconds > check.interval_seconds:
        raise invalid(
            "retry_interval_seconds",
            "A failing check is rechecked sooner than usual, not later.",
            f"at most the interval ({check.interval_seconds} s)",
        )
    if check.asset is not None and check.site is None:
        check.site = check.asset.site


def _resolve(check: Check, client: Client, data: dict, actor=None) -> dict:
    data = dict(data)
    for field, model in (("site", Site), ("asset", Asset)):
        if f"{field}_id" in data:
            data[field] = find_owned(model.objects.all(), client, field, data.pop(f"{field}_id"))
    if "agent_id" in data:
        pk = data.pop("agent_id")
        agents = Agent.objects.filter(revoked_at__isnull=True)
        data["agent"] = find_owned(agents, client, "agent", pk)
    if "script_id" in data:
        from thirdway.access import find_visible
        from thirdway.monitoring.models import Script

        pk = data.pop("script_id")
        scripts = Script.objects.for_user(actor) if actor is not None else Script.objects.none()
        data["script"] = find_visible(scripts.filter(current__isnull=False), "script", pk)
    if "parent_id" in data:
        pk = data.pop("parent_id")
        data["parent"] = find_owned(Check.objects.exclude(pk=check.pk), client, "parent", pk)
    return data


@transaction.atomic
def create_check(actor, client: Client, *, source: str, **data) -> Check:
    require(can_manage(actor, client), "You may not change this client's monitoring.")
    if data.get("allow_private_target"):
        require(can_allow_private(actor), "Only a practice admin may allow a private target.")
    check = Check(client=client, created_by=actor)
    data = _resolve(check, client, data, actor)
    if data.get("kind") in AGENT_KINDS and "interval_seconds" not in data:
        slow = data.get("kind") == CheckKind.AGENT_UPDATES
        data["interval_seconds"] = UPDATES_INTERVAL if slow else AGENT_INTERVAL
    unset = data.get("warning_threshold") is None and data.get("critical_threshold") is None
    if data.get("kind") == CheckKind.AGENT_UPDATES and unset:
        data["warning_threshold"] = 1.0  # any update waiting warns, by default
    if data.get("kind") == CheckKind.TLS:
        for name, value in TLS_DEFAULTS.items():
            if data.get(name) is None:
                data[name] = value
        if data.get("port") is None:
            data["port"] = 443
    for name, value in data.items():
        setattr(check, name, value)
    _validate(check, creating=True)
    if check.kind == CheckKind.HEARTBEAT:
        check.ping_token = new_ping_token()
        check.max_attempts = 1
        check.late_at = heartbeat_late_after(check, timezone.now())
    elif check.kind not in AGENT_KINDS:
        check.next_run_at = timezone.now()
    return create_and_record(
        actor,
        check,
        fields=CHECK_FIELDS,
        action="monitoring.check.create",
        source=source,
        scope=_scope(client),
    )


@transaction.atomic
def update_check(actor, check: Check, data: dict, *, source: str) -> Check:
    require(can_manage(actor, check.client), "You may not change this client's monitoring.")
    if "allow_private_target" in data and data["allow_private_target"] != (
        check.allow_private_target
    ):
        require(can_allow_private(actor), "Only a practice admin may allow a private target.")
    check = Check.objects.select_for_update().get(pk=check.pk)
    data = _resolve(check, check.client, data, actor)
    if "kind" in data and data["kind"] != check.kind:
        raise invalid("kind", "A check's kind cannot change.", f"{check.kind}; or a new check")
    target_changed = any(
        name in data and data[name] != getattr(check, name)
        for name in ("target", "port", "resolver")
    )
    if target_changed and check.allow_private_target and not can_allow_private(actor):
        # The allowance was for the old target: it does not follow a change made by others.
        data["allow_private_target"] = False
    probe = Check(**{f.attname: getattr(check, f.attname) for f in Check._meta.concrete_fields})
    for name, value in data.items():
        setattr(probe, name, value)
    _validate(probe)
    if "asset" in data and probe.site != check.site:
        data["site"] = probe.site
    resumed = data.get("is_paused") is False and check.is_paused
    rescheduled = any(
        name in data and data[name] != getattr(check, name)
        for name in ("cron_expression", "period_seconds", "grace_seconds")
    )
    update_and_record(
        actor,
        check,
        data,
        fields=CHECK_FIELDS,
        action="monitoring.check.update",
        source=source,
        scope=_scope(check.client),
    )
    if resumed and check.kind == CheckKind.HEARTBEAT:
        # Silence while paused is not lateness: the rhythm starts again now.
        due = heartbeat_late_after(check, timezone.now())
        Check.objects.filter(pk=check.pk).update(late_at=due, started_at=None)
    elif rescheduled and check.kind == CheckKind.HEARTBEAT and check.late_at is not None:
        due = heartbeat_late_after(check, check.last_ping_at or timezone.now())
        Check.objects.filter(pk=check.pk).update(late_at=due)
    elif resumed:
        Check.objects.filter(pk=check.pk).update(next_run_at=timezone.now())
    return check


@transaction.atomic
def delete_check(actor, check: Check, *, source: str) -> None:
    require(can_manage(actor, check.client), "You may not change this client's monitoring.")
    from thirdway.monitoring.alerting import say_on_open_ticket

    # Its ticket stays; people are told nobody will resolve it automatically any more.
    say_on_open_ticket(
        check, f"The check {check.name} was deleted: monitoring will not resolve this ticket."
    )
    record(actor, "monitoring.check.delete", check, source=source, scope=_scope(check.client))
    check.delete()


@transaction.atomic
def new_ping_url(actor, check: Check, *, source: str) -> Check:
    """Replace a heartbeat check's secret (the old ping URLs stop working)."""
    require(can_manage(actor, check.client), "You may not change this client's monitoring.")
    if check.kind != CheckKind.HEARTBEAT:
        raise invalid("kind", "Only heartbeat checks have ping URLs.", "a heartbeat check")
    check.ping_token = new_ping_token()
    check.save(update_fields=["ping_token"])
    record(actor, "monitoring.check.new_ping_url", check, source=source, scope=_scope(check.client))
    return check


# --- maintenance windows -----------------------------------------------------------------------


def _validate_window(window: MaintenanceWindow) -> None:
    chosen = [window.site_id, window.asset_id, window.tag]
    if sum(1 for value in chosen if value) > 1:
        field = "tag" if window.tag else "asset"
        raise invalid(field, "Choose a site, an asset or a tag, not more.", "one of them, or none")
    if window.tag:
        window.tag = clean_tag(window.tag)
    if window.kind == WindowKind.ONE_OFF:
        if window.starts_at is None or window.ends_at is None:
            field = "starts_at" if window.starts_at is None else "ends_at"
            raise invalid(field, "A one-off window needs a start and an end.", "a date and time")
        if window.ends_at <= window.starts_at:
            raise invalid("ends_at", "The window must end after it starts.", "an end after start")
        return
    days = window.weekdays
    if not isinstance(days, list) or not days or any(d not in range(7) for d in days):
        raise invalid("weekdays", "Choose the days of the week.", "0 (Monday) to 6 (Sunday)")
    window.weekdays = sorted(set(days))
    if window.start_time is None:
        raise invalid("start_time", "A weekly window needs a start time.", "a time, e.g. 01:00")
    if not window.duration_minutes:
        raise invalid("duration_minutes", "Say how long it lasts.", "1 to 10080 minutes")
    try:
        ZoneInfo(window.time_zone or "")
    except (ZoneInfoNotFoundError, ValueError):
        raise invalid(
            "time_zone", "Unknown time zone.", "an IANA zone, e.g. Europe/Paris"
        ) from None


@transaction.atomic
def create_window(
    actor, client: Client, *, source: str, site_id=None, asset_id=None, **data
) -> MaintenanceWindow:
    require(can_manage(actor, client), "You may not change this client's monitoring.")
    window = MaintenanceWindow(
        client=client,
        site=find_owned(Site.objects.all(), client, "site", site_id),
        asset=find_owned(Asset.objects.all(), client, "asset", asset_id),
        created_by=actor,
        **data,
    )
    if window.kind == WindowKind.WEEKLY and not window.time_zone:
        window.time_zone = client.time_zone
    _validate_window(window)
    return create_and_record(
        actor,
        window,
        fields=WINDOW_FIELDS,
        action="monitoring.window.create",
        source=source,
        scope=_scope(client),
    )


@transaction.atomic
def update_window(actor, window: MaintenanceWindow, data: dict, *, source: str):
    require(can_manage(actor, window.client), "You may not change this client's monitoring.")
    data = dict(data)
    for field, model in (("site", Site), ("asset", Asset)):
        if f"{field}_id" in data:
            pk = data.pop(f"{field}_id")
            data[field] = find_owned(model.objects.all(), window.client, field, pk)
    probe = MaintenanceWindow(
        **{f.attname: getattr(window, f.attname) for f in MaintenanceWindow._meta.concrete_fields}
    )
    for name, value in data.items():
        setattr(probe, name, value)
    _validate_window(probe)
    if "weekdays" in data:
        data["weekdays"] = probe.weekdays
    if "tag" in data:
        data["tag"] = probe.tag
    return update_and_record(
        actor,
        window,
        data,
        fields=WINDOW_FIELDS,
        action="monitoring.window.update",
        source=source,
        scope=_scope(window.client),
    )


@transaction.atomic
def delete_window(actor, window: MaintenanceWindow, *, source: str) -> None:
    require(can_manage(actor, window.client), "You may not change this client's monitoring.")
    record(actor, "monitoring.window.delete", window, source=source, scope=_scope(window.client))
    window.delete()


# --- alert rules -------------------------------------------------------------------------------


def rule_of(client: Client) -> AlertRule:
    """The client's alert rule, or the defaults (unsaved) when none was set."""
    return AlertRule.objects.filter(client=client).first() or AlertRule(client=client)


def _validate_rule(data: dict) -> None:
    if "group_by" in data and data["group_by"] not in GroupBy.values:
        raise invalid("group_by", "Unknown grouping.", ", ".join(GroupBy.values))
    window = data.get("group_window_seconds")
    if window is not None and not 30 <= window <= 86_400:
        raise invalid("group_window_seconds", "Out of range.", "30 to 86400 seconds")
    wait = data.get("group_wait_seconds")
    if wait is not None and not 0 <= wait <= 600:
        raise invalid("group_wait_seconds", "Out of range.", "0 (at once) to 600 seconds")
    if data.get("group_tag"):
        data["group_tag"] = clean_tag(data["group_tag"], "group_tag")
    repeat = data.get("repeat_interval_seconds")
    if repeat is not None and repeat != 0 and not 900 <= repeat <= 7 * 86_400:
        raise invalid(
            "repeat_interval_seconds", "Out of range.", "0 (no reminders) or 900 to 604800 seconds"
        )


def _require_tag_for_tag_grouping(rule: AlertRule | None, data: dict) -> None:
    group_by = data.get("group_by", rule.group_by if rule else GroupBy.NONE)
    tag = data.get("group_tag", rule.group_tag if rule else "")
    if group_by == GroupBy.TAG and not tag:
        raise invalid("group_tag", "Grouping by asset tag needs the tag.", TAG_ALLOWED)


@transaction.atomic
def set_alert_rule(actor, client: Client, data: dict, *, source: str) -> AlertRule:
    require(can_manage(actor, client), "You may not change this client's monitoring.")
    data = dict(data)
    if "practice_id" in data:
        pk = data.pop("practice_id")
        data["practice"] = None if pk is None else Practice.objects.filter(pk=pk).first()
        if pk is not None and data["practice"] is None:
            raise invalid("practice", f"No practice with id {pk}.", "the id of a practice")
    _validate_rule(data)
    rule = AlertRule.objects.select_for_update().filter(client=client).first()
    _require_tag_for_tag_grouping(rule, data)
    if rule is None:
        rule = AlertRule(client=client, **data)
        return create_and_record(
            actor,
            rule,
            fields=RULE_FIELDS,
            action="monitoring.rule.set",
            source=source,
            scope=_scope(client),
        )
    return update_and_record(
        actor,
        rule,
        data,
        fields=RULE_FIELDS,
        action="monitoring.rule.set",
        source=source,
        scope=_scope(client),
    )


def refuse_unless_manager(actor, client: Client) -> None:
    if not can_manage(actor, client):
        raise PermissionDenied("You may not change this client's monitoring.")

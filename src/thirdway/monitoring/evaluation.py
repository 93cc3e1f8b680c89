"""Results into states: each result is stored, then run through the engine with what surrounds
the check at its collection time (its parent, maintenance windows); the engine's actions go to
:mod:`thirdway.monitoring.alerting`.  Also the heartbeat pings and the periodic sweep.

Results of one check are evaluated one at a time, under a lock on the check's row.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from thirdway.monitoring import alerting, engine, incidents, schedule
from thirdway.monitoring.models import (
    AssetTag,
    Check,
    CheckEvent,
    CheckKind,
    CheckResult,
    CheckStatus,
    EventKind,
    IntakeDelivery,
    MaintenanceWindow,
    WindowKind,
)

logger = logging.getLogger(__name__)
# A delivery still unprocessed this long after it arrived was interrupted: process it again.
REPLAY_AFTER = dt.timedelta(minutes=2)


# --- the engine's state, stored on the check ---------------------------------------------------


def _when(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def load_state(check: Check) -> engine.CheckState:
    data = check.state or {}
    if not data:
        return engine.CheckState()
    alert_status = data.get("alert_status")
    return engine.CheckState(
        status=engine.Status(data["status"]),
        state_type=engine.StateType(data["state_type"]),
        hard_status=engine.Status(data["hard_status"]),
        attempt=data["attempt"],
        hard_since=_when(data.get("hard_since")),
        last_at=_when(data.get("last_at")),
        recent=tuple(engine.Status(s) for s in data.get("recent", [])),
        flapping=data.get("flapping", False),
        alert_open=data.get("alert_open", False),
        alert_status=engine.Status(alert_status) if alert_status else None,
        suppressed=data.get("suppressed", ""),
    )


def dump_state(state: engine.CheckState) -> dict:
    return {
        "status": state.status.value,
        "state_type": state.state_type.value,
        "hard_status": state.hard_status.value,
        "attempt": state.attempt,
        "hard_since": state.hard_since.isoformat() if state.hard_since else None,
        "last_at": state.last_at.isoformat() if state.last_at else None,
        "recent": [s.value for s in state.recent],
        "flapping": state.flapping,
        "alert_open": state.alert_open,
        "alert_status": state.alert_status.value if state.alert_status else None,
        "suppressed": state.suppressed,
    }


def policy_of(check: Check) -> engine.Policy:
    return engine.Policy(
        max_attempts=check.max_attempts,
        interval=dt.timedelta(seconds=check.interval_seconds),
        retry_interval=dt.timedelta(seconds=check.retry_interval_seconds),
        has_parent=check.parent_id is not None,
        dependency_delay=dt.timedelta(seconds=check.dependency_delay_seconds),
    )


# --- what surrounds a check --------------------------------------------------------------------


def windows_of(check: Check) -> dict[str, engine.Window]:
    """The maintenance windows that cover the check: its client's, its site's, its asset's,
    and those of a tag its asset has."""
    scope = Q(site__isnull=True, asset__isnull=True, tag="")
    if check.site_id is not None:
        scope |= Q(site_id=check.site_id)
    if check.asset_id is not None:
        scope |= Q(asset_id=check.asset_id)
        tags = AssetTag.objects.filter(asset_id=check.asset_id).values("name")
        scope |= Q(tag__in=tags)
    found: dict[str, engine.Window] = {}
    for window in MaintenanceWindow.objects.filter(scope, client_id=check.client_id):
        found[f"{window.name} #{window.pk}"] = as_engine_window(window)
    return found


def windows_for(checks: list[Check]) -> dict[int, dict[str, engine.Window]]:
    """``windows_of`` for many checks at once (by check id): the windows of their clients and
    the tags of their assets read in two statements, matched here as ``windows_of`` matches
    them (the client's own, or the check's site, asset or one of its asset's tags)."""
    if not checks:
        return {}
    clients = {check.client_id for check in checks}
    windows = list(MaintenanceWindow.objects.filter(client_id__in=clients))  # name, id
    assets = {check.asset_id for check in checks if check.asset_id is not None}
    tags: dict[int, set[str]] = {}
    if assets and any(window.tag for window in windows):
        for asset_id, name in AssetTag.objects.filter(asset_id__in=assets).values_list(
            "asset_id", "name"
        ):
            tags.setdefault(asset_id, set()).add(name)
    engine_windows = {window.pk: as_engine_window(window) for window in windows}
    found: dict[int, dict[str, engine.Window]] = {}
    for check in checks:
        mine: dict[str, engine.Window] = {}
        names = tags.get(check.asset_id, set()) if check.asset_id is not None else set()
        for window in windows:
            if window.client_id != check.client_id:
                continue
            covers = (
                (window.site_id is None and window.asset_id is None and window.tag == "")
                or (check.site_id is not None and window.site_id == check.site_id)
                or (check.asset_id is not None and window.asset_id == check.asset_id)
                or (check.asset_id is not None and window.tag in names)
            )
            if covers:
                mine[f"{window.name} #{window.pk}"] = engine_windows[window.pk]
        found[check.pk] = mine
    return found


def as_engine_window(window: MaintenanceWindow) -> engine.Window:
    if window.kind == WindowKind.ONE_OFF:
        assert window.starts_at is not None and window.ends_at is not None
        return engine.OneOffWindow(window.starts_at, window.ends_at)
    assert window.start_time is not None and window.duration_minutes is not None
    return engine.WeeklyWindow(
        frozenset(window.weekdays),
        window.start_time,
        dt.timedelta(minutes=window.duration_minutes),
        window.time_zone,
    )


def maintenance_of(
    check: Check, at: dt.datetime, windows: dict[str, engine.Window] | None = None
) -> str:
    """The name of the window covering the check at ``at`` (``windows``: the check's, when the
    caller read them already)."""
    name = engine.covering(windows_of(check) if windows is None else windows, at)
    return name.rsplit(" #", 1)[0] if name else ""


def surroundings(
    check: Check,
    at: dt.datetime,
    late: str = "",
    windows: dict[str, engine.Window] | None = None,
) -> engine.Surroundings:
    parent = check.parent
    return engine.Surroundings(
        parent_down=parent is not None and parent.is_problem and parent.state_type == "hard",
        parent=parent.name if parent is not None else "",
        maintenance=maintenance_of(check, at, windows),
        late=late,
    )


# --- results -----------------------------------------------------------------------------------


def _locked(check_id: int) -> Check:
    rows = Check.objects.select_for_update(of=("self",)).select_related(
        "parent", "client", "site", "asset"
    )
    return rows.get(pk=check_id)


# Saves a check changed by a result, in place of ``check.save()``: told whether the outcome
# carries actions (alerts, tickets), before which the check must be written.
Saver = Callable[[Check, bool], None]


def _apply(
    check: Check, outcome: engine.Outcome, output: str | None = None, save: Saver | None = None
) -> None:
    state = outcome.state
    before = check.status
    shown = state.hard_status.value if state.state_type is engine.StateType.HARD else "ok"
    if before == CheckStatus.PENDING and state.state_type is engine.StateType.SOFT:
        shown = CheckStatus.PENDING
    check.state = dump_state(state)
    check.status = shown
    check.state_type = state.state_type.value
    check.flapping = state.flapping
    check.suppressed = state.suppressed
    check.last_result_at = state.last_at
    if shown != before:
        check.status_since = state.last_at
    if output is not None:
        check.last_output = output[:500]
    if save is None:
        check.save()
    else:
        save(check, bool(outcome.actions))
    if shown != before and not (before == CheckStatus.PENDING and shown == CheckStatus.OK):
        label = CheckStatus(shown).label
        CheckEvent.objects.create(
            check_obj=check,
            at=state.last_at or timezone.now(),
            kind=EventKind.RESULT,
            status=shown,
            text=f"{label}: {check.last_output}"[:500],
        )
    alerting.carry_out(check, outcome.actions)


@transaction.atomic
def record_result(
    check_id: int,
    status: engine.Status,
    *,
    output: str = "",
    value: float | None = None,
    collected_at: dt.datetime | None = None,
    late: str = "",
) -> Check:
    """Store one result of the check and evaluate it at its collection time.  A ``late`` result
    (delivered long after it was collected, say why) changes the state but opens no alert: the
    next current result, or the sweep, opens it if the problem is still there."""
    check = _locked(check_id)
    at = collected_at or timezone.now()
    CheckResult.objects.create(
        check_obj=check, collected_at=at, status=status.value, value=value, output=output[:500]
    )
    evaluate_stored(check, status, output=output, at=at, late=late)
    return check


def evaluate_stored(
    check: Check,
    status: engine.Status,
    *,
    output: str,
    at: dt.datetime,
    late: str = "",
    windows: dict[str, engine.Window] | None = None,
    save: Saver | None = None,
) -> None:
    """Run one result already stored through the engine, on a check the caller has locked
    (``_locked``) in its transaction (agent batches store their results in one insert).
    ``windows``: the check's maintenance windows when the caller read them already; ``save``:
    how the changed check is written when not by ``check.save()``."""
    state = load_state(check)
    result = engine.Result(at, status, output)
    around = surroundings(check, at, late, windows)
    outcome = engine.observe(state, policy_of(check), result, around)
    newer = state.last_at is None or at >= state.last_at
    _apply(check, outcome, output if newer else None, save)


def reconsider(check_id: int, now: dt.datetime) -> Check:
    """Re-evaluate a check with nothing new but the time: a window ended, a parent recovered,
    a dependency's delay ran out."""
    with transaction.atomic():
        check = _locked(check_id)
        outcome = engine.reconsider(
            load_state(check), policy_of(check), now, surroundings(check, now)
        )
        if outcome.actions or outcome.state.suppressed != check.suppressed:
            _apply(check, outcome)
    return check


# --- heartbeats --------------------------------------------------------------------------------


def _late_result(check: Check, now: dt.datetime) -> None:
    """The heartbeat missed its time: a critical result, collected when it became late."""
    assert check.late_at is not None
    since = check.last_ping_at or check.created_at
    what = "started but did not finish" if check.started_at else "sent no ping"
    text = f"Late: the job {what} (last ping {since:%Y-%m-%d %H:%M} UTC)."
    record_result(check.pk, engine.Status.CRITICAL, output=text, collected_at=check.late_at)
    Check.objects.filter(pk=check.pk).update(late_at=None)


@transaction.atomic
def ping(token: str, signal: str = "success", *, body: str = "") -> Check | None:
    """A ping from a client's job: success, start or fail.  None for an unknown token.

    A success or fail that arrives after the check became late first records the lateness,
    at the moment it happened, whether or not the sweep saw it yet."""
    check = (
        Check.objects.select_for_update(of=("self",))
        .select_related("client")
        .filter(ping_token=token, kind=CheckKind.HEARTBEAT)
        .first()
    )
    if check is None:
        return None
    now = timezone.now()
    if check.is_paused:
        return check
    if check.late_at is not None and check.late_at <= now and signal != "start":
        _late_result(check, now)
        check.refresh_from_db()
    grace = dt.timedelta(seconds=check.grace_seconds)
    note = f" {body.strip()[:200]}" if body.strip() else ""
    if signal == "start":
        check.started_at = now
        check.late_at = now + grace
        check.save(update_fields=["started_at", "late_at"])
        CheckEvent.objects.create(
            check_obj=check, at=now, kind=EventKind.PING, text=f"The job started.{note}"[:500]
        )
        return check
    check.last_ping_at = now
    check.started_at = None
    check.late_at = schedule.late_after(
        now,
        period_seconds=check.period_seconds,
        grace_seconds=check.grace_seconds,
        cron=check.cron_expression,
        zone=check.client.time_zone,
    )
    check.save(update_fields=["last_ping_at", "started_at", "late_at"])
    if signal == "fail":
        record_result(check.pk, engine.Status.CRITICAL, output=f"The job failed.{note}")
    else:
        record_result(check.pk, engine.Status.OK, output=f"Ping received.{note}")
    return Check.objects.get(pk=check.pk)


def sweep(now: dt.datetime | None = None) -> dict[str, int]:
    """The periodic look at time passing: agents' results left pending, heartbeats gone late,
    checks whose alert was held back (maintenance, a parent, a dependency's delay) evaluated
    again, and reminders on the tickets of incidents still open."""
    from thirdway.monitoring import pending_results

    now = now or timezone.now()
    # First the agents' results still pending (a worker that was down): what follows sees them.
    evaluated = pending_results.catch_up()
    late = Check.objects.filter(
        kind=CheckKind.HEARTBEAT, is_paused=False, late_at__lte=now
    ).values_list("pk", flat=True)
    counts = {"late": 0, "reconsidered": 0, "failed": evaluated["failed"]}
    counts["results_evaluated"] = evaluated["evaluated"]
    for pk in list(late[:500]):
        try:
            with transaction.atomic():
                check = Check.objects.select_for_update().get(pk=pk)
                if check.late_at is not None and check.late_at <= now:
                    _late_result(check, now)
                    counts["late"] += 1
        except Exception:  # one bad row never stops the sweep of the others
            logger.exception("The heartbeat check %s could not be marked late.", pk)
            counts["failed"] += 1
    held = Check.objects.exclude(suppressed="").filter(is_paused=False).values_list("pk", flat=True)
    for pk in list(held[:500]):
        try:
            reconsider(pk, now)
            counts["reconsidered"] += 1
        except Exception:
            logger.exception("The check %s could not be evaluated again.", pk)
            counts["failed"] += 1
    counts["replayed"] = _replay_deliveries(now)
    counts["tickets_after_wait"] = alerting.open_waited_tickets(now)
    counts["reminded"] = incidents.remind_due(now)
    return counts


def _replay_deliveries(now: dt.datetime) -> int:
    """Alertmanager bodies stored but never processed (the server stopped in between), processed
    now; an alert already processed counts one more repeat, never a second ticket."""
    from thirdway.monitoring.intake import process

    stale = IntakeDelivery.objects.filter(
        processed_at__isnull=True, received_at__lte=now - REPLAY_AFTER
    ).select_related("client")
    done = 0
    for delivery in stale[:100]:
        try:
            process(delivery)
            done += 1
        except Exception:
            logger.exception("The Alertmanager delivery %s could not be processed.", delivery.pk)
            delivery.processed_at = now
            delivery.outcome = "Could not be processed (see the log)."
            delivery.save(update_fields=["processed_at", "outcome"])
    return done

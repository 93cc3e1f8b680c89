"""Saving, applying and cancelling succession (and joining) plans: the only writers of
``Succession``, ``SuccessionClient`` and ``SuccessionMove``.

Applying runs in one transaction under a lock of the plan's row: every move goes through the
service of the room it belongs to (``clients.services`` for lead and team,
``tickets.services.workflow.assign`` for open tickets, so SLA, dispatch records, notifications
and webhooks follow; ``network.services`` for rota seats and duties; ``billing.services`` for
contracts' origination), and is kept as a ``SuccessionMove``.  A plan applied once is never
applied again.  A plan dated in the future is *scheduled*; the clock's hourly
``billing.apply_successions`` applies it on its day, as the practice admin who scheduled it.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from thirdway.audit.services import record
from thirdway.billing import services as billing
from thirdway.billing.access import may_manage_billing
from thirdway.billing.succession import (
    KEPT,
    Move,
    Plan,
    check_plan,
    moment_of,
    plan_of,
)
from thirdway.billing.succession_models import (
    OPEN_STATES,
    MoveKind,
    OriginationRule,
    Succession,
    SuccessionClient,
    SuccessionMove,
    SuccessionState,
)
from thirdway.clients import services as clients
from thirdway.errors import invalid, require
from thirdway.network import services as network
from thirdway.tickets.services.workflow import assign
from thirdway.web.forms import service_texts

log = logging.getLogger(__name__)
MANAGE = "Only a practice admin may plan a succession."


def _scope(succession: Succession) -> str:
    return f"succession:{succession.pk}"


@transaction.atomic
def save_plan(actor, plan: Plan, *, note: str = "", source: str) -> Succession:
    """Check and keep a plan (nothing moves yet)."""
    require(may_manage_billing(actor), MANAGE)
    check_plan(plan)
    succession = Succession.objects.create(
        leaver=plan.leaver,
        successor=plan.successor,
        joining_partner=plan.joining,
        effective_on=plan.effective_on,
        origination=plan.origination,
        origination_until=plan.origination_until,
        note=note[:200],
        created_by=actor,
    )
    SuccessionClient.objects.bulk_create(
        SuccessionClient(succession=succession, client_id=client_id, successor=partner)
        for client_id, partner in plan.successors.items()
    )
    record(
        actor,
        "succession.plan",
        succession,
        source=source,
        scope=_scope(succession),
        changes={
            "leaver": [None, plan.leaver.pk if plan.leaver else None],
            "joining_partner": [None, plan.joining.pk if plan.joining else None],
            "effective_on": [None, plan.effective_on.isoformat()],
            "clients": [None, {str(k): v.pk for k, v in plan.successors.items()}],
        },
    )
    return succession


def _locked(succession: Succession) -> Succession:
    return Succession.objects.select_for_update().get(pk=succession.pk)


@transaction.atomic
def cancel_plan(actor, succession: Succession, *, source: str) -> Succession:
    require(may_manage_billing(actor), MANAGE)
    succession = _locked(succession)
    if succession.state not in OPEN_STATES:
        raise invalid("state", f"The plan is {succession.state}.", "a planned or scheduled plan")
    before = succession.state
    succession.state = SuccessionState.CANCELLED
    succession.save(update_fields=["state"])
    record(
        actor,
        "succession.cancel",
        succession,
        source=source,
        scope=_scope(succession),
        changes={"state": [before, succession.state]},
    )
    return succession


@transaction.atomic
def apply_succession(actor, succession: Succession, *, source: str, today=None) -> Succession:
    """Apply the plan if its day has come, else schedule it; a second call changes nothing."""
    require(may_manage_billing(actor), MANAGE)
    today = today or timezone.localdate()
    succession = _locked(succession)
    if succession.state == SuccessionState.CANCELLED:
        raise invalid("state", "The plan was cancelled.", "a planned or scheduled plan")
    if succession.state == SuccessionState.APPLIED:
        return succession
    if succession.effective_on > today:
        return _schedule(actor, succession, source)
    moves = check_plan(plan_of(succession), today=today, applying=True)
    now = timezone.now()
    kept = [_kept(succession, move, now) for move in moves]  # before a duty's row goes
    for move in moves:
        _do(actor, succession, move, source)
    SuccessionMove.objects.bulk_create(kept)
    succession.state = SuccessionState.APPLIED
    succession.applied_at = now
    succession.problem = ""
    succession.save(update_fields=["state", "applied_at", "problem"])
    record(
        actor,
        "succession.apply",
        succession,
        source=source,
        scope=_scope(succession),
        changes={"state": ["planned", "applied"], "moves": [0, len(moves)]},
    )
    return succession


def _schedule(actor, succession: Succession, source: str) -> Succession:
    if succession.state == SuccessionState.SCHEDULED:
        return succession
    check_plan(plan_of(succession))
    succession.state = SuccessionState.SCHEDULED
    succession.save(update_fields=["state"])
    record(
        actor,
        "succession.schedule",
        succession,
        source=source,
        scope=_scope(succession),
        changes={"state": ["planned", "scheduled"]},
    )
    return succession


def _kept(succession: Succession, move: Move, now: dt.datetime) -> SuccessionMove:
    return SuccessionMove(
        succession=succession,
        kind=move.kind,
        object_id=move.object_id,
        label=move.label[:250],
        from_partner=move.from_partner,
        to_partner=move.to_partner,
        detail=move.detail[:250],
        moved_at=now,
    )


def _reason(succession: Succession, move: Move) -> str:
    if succession.is_joining:
        return f"{move.to_partner} brings this client from {succession.effective_on}."
    return f"{succession.leaver} hands over to {move.to_partner} from {succession.effective_on}."


def _do(actor, succession: Succession, move: Move, source: str) -> None:
    """One move, through the service of the room it belongs to."""
    obj, to = move.obj, move.to_partner
    if move.kind == MoveKind.LEAD:
        clients.update_client(actor, obj, {"lead_partner": to}, source=source)
    elif move.kind == MoveKind.TEAM:
        team = [p for p in obj.team.all() if p.pk != move.from_partner.pk]  # type: ignore
        clients.set_team(actor, obj, [*team, to] if to not in team else team, source=source)
    elif move.kind == MoveKind.TICKET:
        assign(actor, obj, to, reason=_reason(succession, move), source=source)
    elif move.kind == MoveKind.ROTA:
        _move_seat(actor, obj, to, source)
    elif move.kind == MoveKind.DUTY:
        _move_duty(actor, succession, obj, to, source)
    elif move.kind == MoveKind.ORIGINATION:
        _move_origination(actor, succession, move, source)


def _move_seat(actor, seat, to, source: str) -> None:
    rota = seat.rota
    members = [m.partner for m in rota.memberships.select_related("partner")]
    if to in members:
        members = [p for p in members if p.pk != seat.partner_id]
    else:
        members = [to if p.pk == seat.partner_id else p for p in members]
    network.set_rota_members(actor, rota, members, source=source)


def _move_duty(actor, succession: Succession, duty, to, source: str) -> None:
    """The duty after the effective moment goes to the successor; any part before it stays."""
    start = moment_of(succession.effective_on, duty.rota.time_zone)
    rota, leaver, ends_at = duty.rota, duty.partner, duty.ends_at
    before = (duty.starts_at, start) if duty.starts_at < start else None
    network.remove_override(actor, duty, source=source)
    if before is not None:
        network.add_override(
            actor,
            rota,
            leaver,
            starts_at=before[0],
            ends_at=before[1],
            reason=duty.reason,
            source=source,
        )
    reason = f"{leaver} hands over to {to} from {succession.effective_on}."
    begins = max(duty.starts_at, start)
    network.add_override(
        actor, rota, to, starts_at=begins, ends_at=ends_at, reason=reason, source=source
    )


def _move_origination(actor, succession: Succession, move: Move, source: str) -> None:
    contract = move.obj
    if succession.origination == OriginationRule.SUCCESSOR or succession.is_joining:
        data = {"originator": move.to_partner, "originated_on": succession.effective_on}
    elif contract.originator_id is None:  # type: ignore[attr-defined]
        # the split falls back on the lead partner, who changes: pin the leaver
        data = {"originator": succession.leaver}
    else:
        return
    billing.update_contract(actor, contract, data, source=source)


# --- on the day: the clock --------------------------------------------------------------------


def apply_due(today: dt.date | None = None, *, source: str) -> dict[str, int]:
    """Apply the scheduled plans whose day has come, and pass on the origination kept by a
    leaver until a date that has come; one failing plan is noted on it and skipped."""
    today = today or timezone.localdate()
    done = {"applied": 0, "passed": 0, "failed": 0}
    due = Succession.objects.filter(state=SuccessionState.SCHEDULED, effective_on__lte=today)
    for succession in due.select_related("created_by"):
        try:
            _require_planner(succession)
            apply_succession(succession.created_by, succession, source=source, today=today)
            done["applied"] += 1
        except Exception as error:  # one plan that cannot apply never stops the others
            _note_problem(succession, error)
            done["failed"] += 1
    passing = Succession.objects.filter(
        state=SuccessionState.APPLIED,
        origination=OriginationRule.LEAVER_UNTIL,
        origination_passed_at__isnull=True,
        origination_until__lte=today,
    )
    for succession in passing.select_related("created_by", "leaver"):
        try:
            _require_planner(succession)
            done["passed"] += pass_origination(succession.created_by, succession, source=source)
        except Exception as error:
            _note_problem(succession, error)
            done["failed"] += 1
    return done


def _require_planner(succession: Succession) -> None:
    """The clock acts as the practice admin who planned it, while they still are one."""
    planner = succession.created_by
    if planner is None or not (planner.is_active and planner.is_practice_admin):
        raise PermissionDenied("Who planned it is no longer a practice admin; apply it by hand.")


def _note_problem(succession: Succession, error: Exception) -> None:
    texts = service_texts(error) if isinstance(error, ValidationError) else [str(error)]
    if not isinstance(error, (ValidationError, PermissionDenied)):
        log.exception("succession %s failed", succession.pk)
    text = " ".join(texts)[:500]
    log.warning("succession %s could not be applied: %s", succession.pk, text)
    Succession.objects.filter(pk=succession.pk).update(problem=text)


@transaction.atomic
def pass_origination(actor, succession: Succession, *, source: str) -> int:
    """The day origination stops staying with the leaver: each contract the plan recorded
    passes to its successor, fading from that day; answers how many passed."""
    succession = _locked(succession)
    if succession.origination_passed_at is not None:
        return 0
    from thirdway.billing.models import Contract

    moves = succession.moves.filter(kind=MoveKind.ORIGINATION).exclude(detail=KEPT)
    contracts = Contract.objects.in_bulk([m.object_id for m in moves])
    passed = 0
    for move in moves.select_related("to_partner"):
        contract = contracts.get(move.object_id)
        if contract is None or contract.originator_id != succession.leaver_id:
            continue  # changed by hand since: left as it is
        data = {"originator": move.to_partner, "originated_on": succession.origination_until}
        billing.update_contract(actor, contract, data, source=source)
        passed += 1
    succession.origination_passed_at = timezone.now()
    succession.save(update_fields=["origination_passed_at"])
    record(
        actor,
        "succession.origination_passed",
        succession,
        source=source,
        scope=_scope(succession),
        changes={"contracts": [0, passed]},
    )
    return passed

"""Runs of playbooks: starting one, completing, reopening and settling its steps (writers).

A run opens a parent ticket and a child ticket per step.  After every step that settles (done,
or not applicable), the run moves on by itself: steps whose condition on an earlier answer is
false become *not applicable* (their ticket closed with a note), steps that run another
playbook start that playbook as a run of their own once they are workable, and a run whose
steps are all settled completes (and completes the step that started it, for a sub-run).
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from thirdway.audit.services import gathering, record
from thirdway.clients.models import Client
from thirdway.errors import invalid, require
from thirdway.playbooks import branching, engine
from thirdway.playbooks.access import can_work, may_complete, owner_text
from thirdway.playbooks.models import (
    Evidence,
    OwnerRole,
    Playbook,
    PlaybookStep,
    Run,
    RunEvent,
    RunStep,
    StepReopen,
)
from thirdway.tickets import services as tickets
from thirdway.tickets.lifecycle import Status
from thirdway.tickets.models import LinkKind, TicketType


def label(actor) -> str:
    return (actor.get_full_name() or actor.get_username()) if actor else "Thirdway"


def _body(step: PlaybookStep, playbook: Playbook) -> str:
    owner = step.owner_practice.name if step.owner_practice else OwnerRole(step.owner_role).label
    lines = [
        step.instructions or step.title,
        "",
        f"Playbook: {playbook.name}, step {step.position}.",
        f"Owner: {owner}. Expected: {step.expected_minutes} min. "
        f"Evidence: {Evidence(step.evidence).label}." + (" Blocking." if step.blocking else ""),
    ]
    if step.conditions:
        lines.append(f"Only if: {condition_text(step)}.")
    if step.subplaybook_id:
        lines.append(f"Runs the playbook {step.subplaybook.name}; done when that run is.")
    return "\n".join(lines)


def condition_text(step: PlaybookStep) -> str:
    return step.condition_words


def start_run(
    actor,
    playbook: Playbook,
    client: Client,
    *,
    source: str,
    schedule=None,
    parent_step: RunStep | None = None,
) -> Run:
    """Open the parent ticket and one child ticket per step of the published version.

    Its audit records are written together at the end (one statement)."""
    with transaction.atomic(), gathering():
        return _start_run(actor, playbook, client, source, schedule, parent_step)


def _start_run(actor, playbook, client, source, schedule, parent_step) -> Run:
    require(can_work(actor, client), "Only the network serving this client starts playbooks.")
    version = playbook.published()
    if version is None:
        raise invalid("playbook", "This playbook has no published version.", "publish it first")
    depth = parent_step.run.depth + 1 if parent_step is not None else 1
    if depth > branching.MAX_DEPTH:
        raise invalid(
            "subplaybook",
            f"Sub-playbooks nest {depth} deep.",
            f"at most {branching.MAX_DEPTH} playbooks in a chain",
        )
    steps = list(version.steps.select_related("owner_practice", "subplaybook").order_by("position"))
    practice_id = playbook.practice_id
    parent = tickets.create_ticket(
        actor,
        client,
        subject=f"{playbook.name} · {client.name}"[:250],
        body_text=playbook.description or playbook.name,
        practice_id=practice_id,
        type=TicketType.MAINTENANCE if schedule else TicketType.SERVICE_REQUEST,
        site_id=schedule.site_id if schedule else None,
        asset_id=schedule.asset_id if schedule else None,
        source=source,
    )
    if parent_step is not None:
        tickets.link(actor, parent_step.ticket, parent, LinkKind.PARENT, source=source)
    run = Run.objects.create(
        playbook=playbook,
        version=version,
        client=client,
        ticket=parent,
        started_by=actor,
        started_at=timezone.now(),
        schedule=schedule,
        parent_step=parent_step,
        depth=depth,
    )
    # Steps after the first blocking step wait: their tickets are dispatched when they can be
    # worked (``_dispatch_workable``), not now.
    first_blocking = next((s.position for s in steps if s.blocking), None)
    held = {s.position for s in steps if first_blocking and s.position > first_blocking}
    children = [
        tickets.create_ticket(
            actor,
            client,
            subject=f"{step.position}. {step.title}"[:250],
            body_text=_body(step, playbook),
            practice_id=step.owner_practice_id or practice_id,
            type=TicketType.SERVICE_REQUEST,
            source=source,
            dispatch=step.position not in held,
        )
        for step in steps
    ]
    tickets.link_children(actor, parent, children, source=source)
    RunStep.objects.bulk_create(
        RunStep(
            run=run,
            step=step,
            position=step.position,
            ticket=child,
            dispatched=step.position not in held,
        )
        for step, child in zip(steps, children, strict=True)
    )
    _event(run, actor, f"Started {playbook.name} v{version.number} for {client.name}.")
    record(actor, "playbook.run_start", run, source=source, scope=f"client:{client.pk}")
    advance(actor, run, source)
    return run


def _event(run: Run, actor, text: str) -> None:
    RunEvent.objects.create(run=run, at=timezone.now(), actor_label=label(actor), text=text)


def _lock_step(run_step: RunStep) -> RunStep:
    return (
        RunStep.objects.select_for_update()
        .select_related("step", "run", "ticket")
        .get(pk=run_step.pk)
    )


def _states(run: Run) -> list[engine.StepState]:
    return [
        engine.StepState(s.position, s.step.title, s.step.blocking, s.settled)
        for s in run.steps.select_related("step")
    ]


def _refuse_held(run: Run, run_step: RunStep) -> None:
    held = engine.holding(_states(run), run_step.position)
    if held is not None:
        raise invalid(
            "step",
            f"Step {held.position} ({held.title}) blocks the steps after it.",
            f"complete step {held.position} first",
        )
    if run_step.step.conditions:
        by_position = {rs.position: rs for rs in run.steps.select_related("step")}
        if _decided(run_step, by_position) is None:
            waiting = sorted(
                p
                for p in run_step.step.condition_positions
                if p in by_position and not by_position[p].settled
            )
            raise invalid(
                "step",
                f"Step {run_step.position} applies only if {condition_text(run_step.step)}.",
                "complete step " + ", ".join(map(str, waiting)) + " first",
            )


@transaction.atomic
def complete_step(actor, run_step: RunStep, *, evidence=None, source: str) -> RunStep:
    """Mark a step done with its evidence, resolving its ticket (and the run's, at the end).

    Refused without the evidence the step asks for, while an earlier blocking step is open or
    the answer its condition reads is not given yet, for a step that runs another playbook
    (it is done with that run), and (403) for whoever is not the step's owner.
    """
    run = run_step.run
    require(can_work(actor, run.client), "Only the network serving this client works its steps.")
    run_step = _lock_step(run_step)
    step = run_step.step
    require(
        may_complete(actor, step),
        f"Step {run_step.position} is owned by {owner_text(step)}: they or a practice admin "
        "complete it.",
    )
    if run_step.not_applicable_at is not None:
        raise invalid("step", "This step is not applicable.", "a step still open")
    if run_step.completed_at is not None:
        raise invalid("step", "This step is done already.", "a step not yet done")
    if step.subplaybook_id:
        raise invalid(
            "step",
            f"Step {run_step.position} runs the playbook {step.subplaybook.name}; it is done "
            "when that run is.",
            "complete the steps of its run",
        )
    try:
        kept = engine.evidence_kept(step.evidence, evidence)
    except engine.EvidenceRefused as refused:
        raise invalid("evidence", refused.problem, refused.allowed) from None
    _refuse_held(run, run_step)
    _mark_done(actor, run_step, kept, source)
    return run_step


def _mark_done(actor, run_step: RunStep, kept: str, source: str) -> None:
    run = run_step.run
    run_step.completed_at = timezone.now()
    run_step.completed_by = actor
    run_step.completed_by_label = label(actor)
    run_step.evidence = kept
    run_step.save(update_fields=["completed_at", "completed_by", "completed_by_label", "evidence"])
    _resolve(actor, run_step.ticket, f"Step done. Evidence: {kept or '—'}", source)
    said = f": {kept}" if kept else ""
    _event(run, actor, f"Completed step {run_step.position} ({run_step.step.title}){said}.")
    record(
        actor,
        "playbook.step_complete",
        run,
        source=source,
        scope=f"client:{run.client_id}",
        changes={"step": [None, run_step.position], "evidence": [None, kept]},
    )
    advance(actor, run, source)


def advance(actor, run: Run, source: str) -> None:
    """Move the run on after a change: conditions settle, sub-runs start, the run completes."""
    steps = list(run.steps.select_related("step", "step__subplaybook", "ticket__practice"))
    by_position = {rs.position: rs for rs in steps}
    started = set(Run.objects.filter(parent_step__run=run).values_list("parent_step", flat=True))
    for rs in steps:  # in order: a step made not applicable settles the ones that read it
        if not rs.settled and rs.pk not in started and _decided(rs, by_position) is False:
            _mark_not_applicable(actor, rs, by_position, source)
    _start_sub_runs(actor, run, steps, by_position, started, source)
    _dispatch_workable(steps)
    if all(rs.settled for rs in steps):
        _complete_run(actor, run, source)


def _dispatch_workable(steps: list[RunStep]) -> None:
    """Dispatch the tickets of held steps that no open blocking step holds any more."""
    waiting = [rs for rs in steps if not rs.dispatched and not rs.settled]
    if not waiting:
        return
    states = [engine.StepState(s.position, s.step.title, s.step.blocking, s.settled) for s in steps]
    free = [rs for rs in waiting if engine.holding(states, rs.position) is None]
    for rs in free:
        rs.dispatched = True
        tickets.dispatch_when_committed(rs.ticket)
    RunStep.objects.bulk_update(free, ["dispatched"])


def _decided(rs: RunStep, by_position: dict[int, RunStep]) -> bool | None:
    """Whether the step's conditions hold (True without any), None until the answers given
    decide it."""
    results: list[bool | None] = []
    for condition in rs.step.conditions:
        earlier = by_position.get(condition.position)
        if earlier is None or not earlier.settled:
            results.append(None)
            continue
        kept = earlier.evidence if earlier.completed_at is not None else branching.NO_ANSWER
        results.append(branching.holds(earlier.step.evidence, kept, condition))
    return branching.decide(results, rs.step.condition_match)


def _answered(by_position: dict[int, RunStep], position: int) -> str:
    earlier = by_position.get(position)
    if earlier is None or not earlier.settled:
        return f"step {position} has not answered yet"
    answer = f'"{earlier.evidence}"' if earlier.completed_at else "nothing (not applicable)"
    return f"step {earlier.position} ({earlier.step.title}) answered {answer}"


def _mark_not_applicable(actor, rs: RunStep, by_position: dict[int, RunStep], source) -> None:
    rs.not_applicable_at = timezone.now()
    rs.save(update_fields=["not_applicable_at"])
    answers = "; ".join(_answered(by_position, p) for p in sorted(rs.step.condition_positions))
    why = f"Not applicable: it applies only if {condition_text(rs.step)}, and {answers}."
    ticket = rs.ticket
    ticket.refresh_from_db()
    if ticket.status not in (Status.RESOLVED, Status.CLOSED):
        tickets.note(actor, ticket, body_text=why, source=source)
        tickets.change_status(actor, ticket, Status.CLOSED, source=source)
    _event(rs.run, actor, f"Step {rs.position} ({rs.step.title}) is not applicable.")
    record(
        actor,
        "playbook.step_not_applicable",
        rs.run,
        source=source,
        scope=f"client:{rs.run.client_id}",
        changes={"step": [None, rs.position]},
    )


def _start_sub_runs(actor, run: Run, steps, by_position, started: set, source: str) -> None:
    waiting = [rs for rs in steps if rs.step.subplaybook_id and not rs.settled]
    if not waiting:
        return
    states = [engine.StepState(s.position, s.step.title, s.step.blocking, s.settled) for s in steps]
    for rs in waiting:
        answered = _decided(rs, by_position) is True
        if rs.pk in started or not answered or engine.holding(states, rs.position):
            continue
        child = start_run(actor, rs.step.subplaybook, run.client, source=source, parent_step=rs)
        _event(run, actor, f"Step {rs.position} started the run of {child.playbook.name}.")


def _complete_run(actor, run: Run, source: str) -> None:
    run = Run.objects.select_for_update().get(pk=run.pk)
    if run.completed_at is not None:
        return
    run.completed_at = timezone.now()
    run.save(update_fields=["completed_at"])
    _resolve(actor, run.ticket, "Every step of the playbook is done.", source)
    _event(run, actor, "All steps done; the run is complete.")
    if run.parent_step_id is not None:
        parent = _lock_step(run.parent_step)
        if not parent.settled:
            _mark_done(actor, parent, f"Run {run.pk} of {run.playbook.name} complete.", source)


def _resolve(actor, ticket, text: str, source: str) -> None:
    ticket.refresh_from_db()
    if ticket.status in (Status.RESOLVED, Status.CLOSED):
        return
    tickets.note(actor, ticket, body_text=text, source=source)
    tickets.change_status(actor, ticket, Status.RESOLVED, source=source)


MAX_REASON = 1000


def _reopen_ticket(actor, ticket, text: str, source: str) -> None:
    ticket.refresh_from_db()
    tickets.note(actor, ticket, body_text=text, source=source)
    if ticket.status in (Status.RESOLVED, Status.CLOSED):
        tickets.change_status(actor, ticket, Status.IN_PROGRESS, source=source)


@transaction.atomic
def reopen_step(actor, run_step: RunStep, *, reason: str, source: str) -> RunStep:
    """Open a completed step again (rework), with the reason; the run is no longer complete.

    The steps made not applicable by its answer are open again: its next answer decides them.
    """
    run = run_step.run
    require(can_work(actor, run.client), "Only the network serving this client works its steps.")
    reason = str(reason or "").strip()
    if not reason or len(reason) > MAX_REASON:
        raise invalid("reason", "Say why the step is reopened.", f"1 to {MAX_REASON} characters")
    run_step = _lock_step(run_step)
    if run_step.completed_at is None:
        raise invalid("step", "This step is not done.", "a completed step")
    if run_step.step.subplaybook_id:
        raise invalid(
            "step",
            "This step is done with the run of its playbook.",
            "reopen a step of that run",
        )
    _reopen_one(actor, run_step, reason, source)
    return run_step


def _reopen_one(
    actor, run_step: RunStep, reason: str, source: str, *, from_ticket: bool = False
) -> None:
    run = run_step.run
    StepReopen.objects.create(
        run_step=run_step,
        at=timezone.now(),
        by=actor,
        reason=reason,
        was_completed_at=run_step.completed_at,
        from_ticket=from_ticket,
    )
    run_step.completed_at = None
    run_step.completed_by = None
    run_step.completed_by_label = ""
    run_step.evidence = ""
    run_step.save(update_fields=["completed_at", "completed_by", "completed_by_label", "evidence"])
    _reopen_ticket(actor, run_step.ticket, f"Step reopened: {reason}", source)
    _reopen_dependents(actor, run, run_step, source)
    run = Run.objects.select_for_update().get(pk=run.pk)
    if run.completed_at is not None:
        run.completed_at = None
        run.save(update_fields=["completed_at"])
        _reopen_ticket(actor, run.ticket, f"Step {run_step.position} reopened.", source)
        if run.parent_step_id is not None:
            parent = _lock_step(run.parent_step)
            if parent.completed_at is not None:
                text = f"Step {run_step.position} of its run reopened: {reason}"
                _reopen_one(actor, parent, text[:MAX_REASON], source)
    _event(run, actor, f"Reopened step {run_step.position} ({run_step.step.title}): {reason}")
    record(
        actor,
        "playbook.step_reopen",
        run,
        source=source,
        scope=f"client:{run.client_id}",
        changes={"step": [run_step.position, None], "reason": [None, reason]},
    )


def _reopen_dependents(actor, run: Run, run_step: RunStep, source: str) -> None:
    """Steps not applicable because of this step's answer (directly or down a chain) open."""
    reading = {run_step.position}
    for rs in run.steps.select_related("step", "ticket").filter(position__gt=run_step.position):
        if not (rs.step.condition_positions & reading) or rs.not_applicable_at is None:
            continue
        reading.add(rs.position)
        rs.not_applicable_at = None
        rs.save(update_fields=["not_applicable_at"])
        text = f"Open again: step {run_step.position} was reopened, its answer will decide."
        _reopen_ticket(actor, rs.ticket, text, source)
        _event(run, actor, f"Step {rs.position} ({rs.step.title}) is open again.")


def ticket_status_changed(actor, ticket, before: str, target: str, source: str) -> None:
    """Told by the tickets room of every status change, in its transaction: resolving (or
    closing) a step's ticket from the desk completes the step, and setting a done step's
    ticket back to an open status reopens the step (rework).

    A step that asks for evidence, or that runs another playbook, cannot be completed so: the
    change is refused (400 on ``status``) and rolls back, the ticket stays as it was.  Nor can
    the ticket of a step that runs another playbook, or of a step not applicable, be reopened.
    """
    if before in (Status.RESOLVED, Status.CLOSED) and target not in (
        Status.RESOLVED,
        Status.CLOSED,
    ):
        _ticket_reopened(actor, ticket, source)
        return
    if target not in (Status.RESOLVED, Status.CLOSED):
        return
    run_step = RunStep.objects.filter(ticket=ticket).select_related("step", "run").first()
    if run_step is None or run_step.settled:
        return
    step, where = run_step.step, f"Step {run_step.position} ({run_step.step.title})"
    if step.subplaybook_id:
        raise invalid(
            "status",
            f"{where} is done when its run of {step.subplaybook.name} is.",
            "complete the steps of that run",
        )
    if step.evidence != Evidence.NONE:
        raise invalid(
            "status",
            f"{where} of {run_step.run.playbook.name} needs evidence "
            f"({Evidence(step.evidence).label.lower()}).",
            f"complete the step with its evidence on the run's page (run {run_step.run_id})",
        )
    complete_step(actor, run_step, evidence=None, source=source)


def _ticket_reopened(actor, ticket, source: str) -> None:
    """A step's ticket set back to an open status: the step is reopened, as rework."""
    run_step = RunStep.objects.filter(ticket=ticket).select_related("step", "run").first()
    if run_step is None:
        return
    where = f"Step {run_step.position} ({run_step.step.title})"
    if run_step.not_applicable_at is not None:
        raise invalid(
            "status",
            f"{where} is not applicable: the answer it reads decided so.",
            f"reopen the step whose answer decided it, on the run's page (run {run_step.run_id})",
        )
    if run_step.completed_at is None:
        return  # reopened by the playbook itself, or never done
    if run_step.step.subplaybook_id:
        raise invalid(
            "status",
            f"{where} is done with its run of {run_step.step.subplaybook.name}.",
            "reopen a step of that run",
        )
    run_step = _lock_step(run_step)
    reason = f"Its ticket {ticket.number} was reopened."
    _reopen_one(actor, run_step, reason, source, from_ticket=True)

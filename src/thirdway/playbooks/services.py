"""Every change to playbooks, runs and schedules (the only writers of them).

Templates: drafts are edited, published versions never change.  Runs open their tickets
through the tickets room, so steps are dispatched and SLA-timed like any ticket.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from thirdway.access import find_visible
from thirdway.accounts import services as accounts
from thirdway.accounts.models import Role, User
from thirdway.audit.services import record
from thirdway.clients.models import Client
from thirdway.errors import invalid, require
from thirdway.network.models import Practice
from thirdway.playbooks import engine, library
from thirdway.playbooks.access import can_edit, can_work
from thirdway.playbooks.models import (
    Evidence,
    OwnerRole,
    Playbook,
    PlaybookStep,
    PlaybookVersion,
    Run,
    RunEvent,
    RunFeedback,
    RunStep,
    StepReopen,
)
from thirdway.tickets import services as tickets
from thirdway.tickets.lifecycle import Status
from thirdway.tickets.models import LinkKind, TicketType

PLAYBOOKS_USERNAME = "playbooks"
STEP_FIELDS = ("title", "instructions", "owner_practice", "owner_role", "expected_minutes")
MAX_STEPS = 100


def playbooks_actor() -> User:
    """The account schedules act as when they open tickets and start runs."""
    user = User.objects.filter(username=PLAYBOOKS_USERNAME).first()
    if user is not None:
        return user
    return accounts.create_user(
        None, username=PLAYBOOKS_USERNAME, role=Role.DESK, first_name="Playbooks", source="system"
    )


def _label(actor) -> str:
    return (actor.get_full_name() or actor.get_username()) if actor else "Thirdway"


# --- templates ---------------------------------------------------------------------------------


def _practice(actor, practice_id) -> Practice:
    from thirdway.playbooks.access import practice_ids

    ids = practice_ids(actor)
    rows = Practice.objects.all() if ids is None else Practice.objects.filter(pk__in=ids)
    found = find_visible(rows, "practice", practice_id, noun="practice")
    if found is None:
        raise invalid("practice", "Name the practice that keeps it.", "the id of your practice")
    return found


@transaction.atomic
def create_playbook(actor, *, practice_id, name: str, description: str = "", source: str):
    """A new template of a practice, with an empty draft as version 1."""
    practice = _practice(actor, practice_id)
    name = name.strip()
    if not name or len(name) > 150:
        raise invalid("name", "A playbook needs a name.", "1 to 150 characters")
    playbook = Playbook(practice=practice, name=name, description=description.strip()[:2000])
    require(can_edit(actor, playbook), "Only a practice admin or its partners edit templates.")
    playbook.save()
    PlaybookVersion.objects.create(playbook=playbook, number=1)
    record(actor, "playbook.create", playbook, source=source, changes={"name": [None, name]})
    return playbook


@transaction.atomic
def copy_builtin(actor, key: str, *, practice_id, source: str) -> Playbook:
    """A practice's own copy of a built-in, published as its version 1."""
    builtin = library.BY_KEY.get(key)
    if builtin is None:
        raise invalid("builtin", f"No built-in {key!r}.", ", ".join(sorted(library.BY_KEY)))
    playbook = create_playbook(
        actor,
        practice_id=practice_id,
        name=builtin.name,
        description=builtin.description,
        source=source,
    )
    playbook.builtin_key = key
    playbook.timeline_report = builtin.timeline_report
    playbook.save(update_fields=["builtin_key", "timeline_report"])
    version = playbook.versions.get()
    PlaybookStep.objects.bulk_create(
        PlaybookStep(
            version=version,
            position=n,
            title=s.title,
            instructions=s.instructions,
            owner_role=s.owner_role,
            expected_minutes=s.expected_minutes,
            evidence=s.evidence,
            blocking=s.blocking,
        )
        for n, s in enumerate(builtin.steps, start=1)
    )
    version.published_at = timezone.now()
    version.save(update_fields=["published_at"])
    return playbook


def _draft(actor, playbook: Playbook) -> PlaybookVersion:
    """The draft to edit: the open one, or a copy of the published version as the next number."""
    require(can_edit(actor, playbook), "Only a practice admin or its partners edit templates.")
    draft = playbook.draft()
    if draft is not None:
        return draft
    published = playbook.published()
    draft = PlaybookVersion.objects.create(
        playbook=playbook, number=published.number + 1 if published else 1
    )
    if published is not None:
        steps = list(published.steps.all())
        for step in steps:
            step.pk, step.version = None, draft
        PlaybookStep.objects.bulk_create(steps)
    return draft


def _step_values(data: dict) -> dict:
    values = {}
    if "title" in data:
        values["title"] = str(data["title"] or "").strip()
        if not values["title"] or len(values["title"]) > 200:
            raise invalid("title", "A step needs a title.", "1 to 200 characters")
    if "instructions" in data:
        values["instructions"] = str(data["instructions"] or "").strip()[:5000]
    if data.get("owner_role") not in (None, *OwnerRole.values):
        raise invalid("owner_role", "Unknown role.", ", ".join(v for v in OwnerRole.values if v))
    if "owner_role" in data:
        values["owner_role"] = data["owner_role"] or ""
    if "owner_practice" in data:
        pid = data["owner_practice"]
        values["owner_practice"] = find_visible(Practice.objects.all(), "owner_practice", pid)
    if "expected_minutes" in data:
        minutes = data["expected_minutes"]
        if not isinstance(minutes, int) or not 1 <= minutes <= 60 * 24 * 90:
            raise invalid("expected_minutes", "Out of range.", "1 to 129600 minutes")
        values["expected_minutes"] = minutes
    if "evidence" in data:
        if data["evidence"] not in Evidence.values:
            raise invalid("evidence", "Unknown kind of evidence.", ", ".join(Evidence.values))
        values["evidence"] = data["evidence"]
    if "blocking" in data:
        values["blocking"] = bool(data["blocking"])
    return values


@transaction.atomic
def add_step(actor, playbook: Playbook, data: dict, *, source: str) -> PlaybookStep:
    values = _step_values({"title": data.get("title"), **data})
    draft = _draft(actor, playbook)
    count = draft.steps.count()
    if count >= MAX_STEPS:
        raise invalid("steps", f"A playbook has at most {MAX_STEPS} steps.", "fewer steps")
    step = PlaybookStep.objects.create(version=draft, position=count + 1, **values)
    record(
        actor, "playbook.step_add", playbook, source=source, changes={"step": [None, step.title]}
    )
    return step


def _step_at(draft: PlaybookVersion, position: int) -> PlaybookStep:
    step = draft.steps.filter(position=position).first()
    if step is None:
        raise invalid("position", f"No step {position}.", f"1 to {draft.steps.count()}")
    return step


@transaction.atomic
def update_step(actor, playbook: Playbook, position: int, data: dict, *, source: str):
    values = _step_values(data)
    step = _step_at(_draft(actor, playbook), position)
    for name, value in values.items():
        setattr(step, name, value)
    step.save()
    record(
        actor,
        "playbook.step_update",
        playbook,
        source=source,
        changes={"step": [position, step.title]},
    )
    return step


@transaction.atomic
def remove_step(actor, playbook: Playbook, position: int, *, source: str) -> None:
    draft = _draft(actor, playbook)
    step = _step_at(draft, position)
    step.delete()
    _renumber(list(draft.steps.order_by("position")))
    record(
        actor, "playbook.step_remove", playbook, source=source, changes={"step": [step.title, None]}
    )


@transaction.atomic
def move_step(actor, playbook: Playbook, position: int, offset: int, *, source: str) -> None:
    draft = _draft(actor, playbook)
    steps = list(draft.steps.order_by("position"))
    index = _step_at(draft, position).position - 1
    target = index + offset
    if offset not in (-1, 1) or not 0 <= target < len(steps):
        raise invalid(
            "offset", "The step cannot move there.", "-1 (up) or 1 (down) within the list"
        )
    steps[index], steps[target] = steps[target], steps[index]
    _renumber(steps)
    record(
        actor,
        "playbook.step_move",
        playbook,
        source=source,
        changes={"step": [position, target + 1]},
    )


def _renumber(steps: list[PlaybookStep]) -> None:
    # Two passes: positions are unique per version, so move out of the way first.
    for n, step in enumerate(steps, start=1):
        step.position = 10_000 + n
    PlaybookStep.objects.bulk_update(steps, ["position"])
    for n, step in enumerate(steps, start=1):
        step.position = n
    PlaybookStep.objects.bulk_update(steps, ["position"])


@transaction.atomic
def publish(actor, playbook: Playbook, *, source: str) -> PlaybookVersion:
    """Publish the draft: new runs start on it; runs already started keep theirs."""
    require(can_edit(actor, playbook), "Only a practice admin or its partners edit templates.")
    draft = playbook.draft()
    if draft is None:
        raise invalid("version", "There is no draft to publish.", "edit a step first")
    if not draft.steps.exists():
        raise invalid("steps", "A playbook needs at least one step.", "add a step")
    draft.published_at = timezone.now()
    draft.save(update_fields=["published_at"])
    record(
        actor,
        "playbook.publish",
        playbook,
        source=source,
        changes={"version": [None, draft.number]},
    )
    return draft


# --- runs --------------------------------------------------------------------------------------


def _body(step: PlaybookStep, playbook: Playbook) -> str:
    owner = step.owner_practice.name if step.owner_practice else OwnerRole(step.owner_role).label
    lines = [
        step.instructions or step.title,
        "",
        f"Playbook: {playbook.name}, step {step.position}.",
        f"Owner: {owner}. Expected: {step.expected_minutes} min. "
        f"Evidence: {Evidence(step.evidence).label}." + (" Blocking." if step.blocking else ""),
    ]
    return "\n".join(lines)


@transaction.atomic
def start_run(actor, playbook: Playbook, client: Client, *, source: str, schedule=None) -> Run:
    """Open the parent ticket and one child ticket per step of the published version."""
    require(can_work(actor, client), "Only the network serving this client starts playbooks.")
    version = playbook.published()
    if version is None:
        raise invalid("playbook", "This playbook has no published version.", "publish it first")
    steps = list(version.steps.select_related("owner_practice").order_by("position"))
    practice_id = playbook.practice_id
    parent = tickets.create_ticket(
        actor,
        client,
        subject=f"{playbook.name} · {client.name}"[:250],
        body_text=playbook.description or playbook.name,
        practice_id=practice_id,
        type=TicketType.MAINTENANCE if schedule else TicketType.SERVICE_REQUEST,
        source=source,
    )
    run = Run.objects.create(
        playbook=playbook,
        version=version,
        client=client,
        ticket=parent,
        started_by=actor,
        started_at=timezone.now(),
        schedule=schedule,
    )
    for step in steps:
        child = tickets.create_ticket(
            actor,
            client,
            subject=f"{step.position}. {step.title}"[:250],
            body_text=_body(step, playbook),
            practice_id=step.owner_practice_id or practice_id,
            type=TicketType.SERVICE_REQUEST,
            source=source,
        )
        tickets.link(actor, parent, child, LinkKind.PARENT, source=source)
        RunStep.objects.create(run=run, step=step, position=step.position, ticket=child)
    _event(run, actor, f"Started {playbook.name} v{version.number} for {client.name}.")
    record(actor, "playbook.run_start", run, source=source, scope=f"client:{client.pk}")
    return run


def _event(run: Run, actor, text: str) -> None:
    RunEvent.objects.create(run=run, at=timezone.now(), actor_label=_label(actor), text=text)


def _lock_step(run_step: RunStep) -> RunStep:
    return (
        RunStep.objects.select_for_update()
        .select_related("step", "run", "ticket")
        .get(pk=run_step.pk)
    )


@transaction.atomic
def complete_step(actor, run_step: RunStep, *, evidence=None, source: str) -> RunStep:
    """Mark a step done with its evidence, resolving its ticket (and the run's, at the end).

    Refused without the evidence the step asks for, or while an earlier blocking step is open.
    """
    run = run_step.run
    require(can_work(actor, run.client), "Only the network serving this client works its steps.")
    run_step = _lock_step(run_step)
    if run_step.completed_at is not None:
        raise invalid("step", "This step is done already.", "a step not yet done")
    try:
        kept = engine.evidence_kept(run_step.step.evidence, evidence)
    except engine.EvidenceRefused as refused:
        raise invalid("evidence", refused.problem, refused.allowed) from None
    states = [
        engine.StepState(s.position, s.step.title, s.step.blocking, s.completed_at is not None)
        for s in run.steps.select_related("step")
    ]
    held = engine.holding(states, run_step.position)
    if held is not None:
        raise invalid(
            "step",
            f"Step {held.position} ({held.title}) blocks the steps after it.",
            f"complete step {held.position} first",
        )
    run_step.completed_at = timezone.now()
    run_step.completed_by = actor
    run_step.completed_by_label = _label(actor)
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
    if not run.steps.filter(completed_at=None).exists():
        run.completed_at = timezone.now()
        run.save(update_fields=["completed_at"])
        _resolve(actor, run.ticket, "Every step of the playbook is done.", source)
        _event(run, actor, "All steps done; the run is complete.")
    return run_step


def _resolve(actor, ticket, text: str, source: str) -> None:
    ticket.refresh_from_db()
    if ticket.status in (Status.RESOLVED, Status.CLOSED):
        return
    tickets.note(actor, ticket, body_text=text, source=source)
    tickets.change_status(actor, ticket, Status.RESOLVED, source=source)


MAX_REASON = 1000
MAX_COMMENT = 1000


def _reopen_ticket(actor, ticket, text: str, source: str) -> None:
    ticket.refresh_from_db()
    tickets.note(actor, ticket, body_text=text, source=source)
    if ticket.status == Status.RESOLVED:
        tickets.change_status(actor, ticket, Status.IN_PROGRESS, source=source)


@transaction.atomic
def reopen_step(actor, run_step: RunStep, *, reason: str, source: str) -> RunStep:
    """Open a completed step again (rework), with the reason; the run is no longer complete."""
    run = run_step.run
    require(can_work(actor, run.client), "Only the network serving this client works its steps.")
    reason = str(reason or "").strip()
    if not reason or len(reason) > MAX_REASON:
        raise invalid("reason", "Say why the step is reopened.", f"1 to {MAX_REASON} characters")
    run_step = _lock_step(run_step)
    if run_step.completed_at is None:
        raise invalid("step", "This step is not done.", "a completed step")
    StepReopen.objects.create(
        run_step=run_step,
        at=timezone.now(),
        by=actor,
        reason=reason,
        was_completed_at=run_step.completed_at,
    )
    run_step.completed_at = None
    run_step.completed_by = None
    run_step.completed_by_label = ""
    run_step.evidence = ""
    run_step.save(update_fields=["completed_at", "completed_by", "completed_by_label", "evidence"])
    _reopen_ticket(actor, run_step.ticket, f"Step reopened: {reason}", source)
    run = Run.objects.select_for_update().get(pk=run.pk)
    if run.completed_at is not None:
        run.completed_at = None
        run.save(update_fields=["completed_at"])
        _reopen_ticket(actor, run.ticket, f"Step {run_step.position} reopened.", source)
    _event(run, actor, f"Reopened step {run_step.position} ({run_step.step.title}): {reason}")
    record(
        actor,
        "playbook.step_reopen",
        run,
        source=source,
        scope=f"client:{run.client_id}",
        changes={"step": [run_step.position, None], "reason": [None, reason]},
    )
    return run_step


def participants(run: Run) -> set[int]:
    """The people who took part in ``run``: who started it and who completed or reopened steps."""
    ids = {run.started_by_id} | set(
        run.steps.exclude(completed_by=None).values_list("completed_by", flat=True)
    )
    ids |= set(
        StepReopen.objects.filter(run_step__run=run).exclude(by=None).values_list("by", flat=True)
    )
    return {pk for pk in ids if pk is not None}


def can_give_feedback(actor, run: Run) -> bool:
    """Participants of the run, and the practice admins and desk (staff) who see it."""
    if not (actor.is_authenticated and actor.is_active):
        return False
    if actor.pk in participants(run):
        return True
    return actor.role in (Role.PRACTICE_ADMIN, Role.DESK) and can_work(actor, run.client)


@transaction.atomic
def leave_feedback(actor, run: Run, *, score, comment: str = "", source: str) -> RunFeedback:
    """One score (1 to 5) and comment by a participant on a completed run, once per person."""
    require(can_give_feedback(actor, run), "Only the run's participants or staff give feedback.")
    if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
        raise invalid("score", "The score is out of range.", "a whole number from 1 to 5")
    comment = str(comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise invalid(
            "comment", f"The comment is {len(comment)} characters long.", "up to 1000 characters"
        )
    run = Run.objects.select_for_update().get(pk=run.pk)
    if run.completed_at is None:
        raise invalid("run", "Feedback is given once the run is complete.", "a completed run")
    if RunFeedback.objects.filter(run=run, person=actor).exists():
        raise invalid("run", "You gave feedback on this run already.", "one per person per run")
    feedback = RunFeedback.objects.create(
        run=run,
        person=actor,
        person_label=_label(actor),
        score=score,
        comment=comment,
        at=timezone.now(),
    )
    record(
        actor,
        "playbook.feedback",
        run,
        source=source,
        scope=f"client:{run.client_id}",
        changes={"score": [None, score]},
    )
    return feedback


def timeline(run: Run) -> list[RunEvent]:
    return list(run.events.all())

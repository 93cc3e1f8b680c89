"""Every change to playbooks, runs and schedules (the only writers of them).

Templates: drafts are edited, published versions never change.  Runs open their tickets
through the tickets room, so steps are dispatched and SLA-timed like any ticket.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from thirdway.access import find_visible
from thirdway.accounts import services as accounts
from thirdway.accounts.models import Role, User
from thirdway.audit.services import record
from thirdway.errors import invalid, require
from thirdway.network.models import Practice
from thirdway.playbooks import branching, library, runs, step_rules
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
    StepReopen,
)

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


_label = runs.label


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
            condition_position=s.condition[0] if s.condition else None,
            condition_operator=s.condition[1] if s.condition else "",
            condition_value=s.condition[2] if s.condition else "",
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


def _step_values(data: dict, playbook: Playbook) -> dict:
    values = _branch_values(data, playbook)
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


def _branch_values(data: dict, playbook: Playbook) -> dict:
    """The condition and sub-playbook of a step, shaped; ``step_rules`` judges them once the
    draft holds them (a condition reads the other steps)."""
    values: dict = {}
    if "subplaybook" in data:
        values["subplaybook"] = _subplaybook(playbook, data["subplaybook"])
    if "condition_step" not in data:
        return values
    match = data.get("condition_match") or branching.ALL
    if match not in branching.MATCHES:
        raise invalid("condition_match", "Unknown combination.", ", ".join(branching.MATCHES))
    rows = [
        row
        for n in range(1, branching.MAX_CONDITIONS + 1)
        if (row := _condition_row(data, n)) is not None
    ]
    extra = [k for k in data if k.startswith("condition_step_") and k not in _ROW_KEYS]
    if extra:
        raise invalid(
            extra[0], "Too many conditions.", f"at most {branching.MAX_CONDITIONS} on a step"
        )
    first = rows[0] if rows else None
    return values | {
        "condition_position": first["step"] if first else None,
        "condition_operator": first["operator"] if first else "",
        "condition_value": first["value"] if first else "",
        "more_conditions": rows[1:],
        "condition_match": match,
    }


_ROW_KEYS = {f"condition_step_{n}" for n in range(2, branching.MAX_CONDITIONS + 1)}


def _condition_row(data: dict, n: int) -> dict | None:
    """The n-th condition of the form or API (``condition_step_2`` …), shaped, or None."""
    suffix = "" if n == 1 else f"_{n}"
    position = data.get(f"condition_step{suffix}")
    if position is None:
        return None
    if (
        isinstance(position, bool)
        or not isinstance(position, int)
        or not 1 <= position <= MAX_STEPS
    ):
        raise invalid(
            f"condition_step{suffix}", "Out of range.", f"1 to {MAX_STEPS}, or no condition"
        )
    operator = str(data.get(f"condition_operator{suffix}") or "")
    if operator not in branching.OPERATORS:
        raise invalid(
            f"condition_operator{suffix}", "Unknown comparison.", ", ".join(branching.OPERATORS)
        )
    value = str(data.get(f"condition_value{suffix}") or "").strip()
    if not value or len(value) > branching.MAX_CONDITION_VALUE:
        raise invalid(
            f"condition_value{suffix}",
            "Say what to compare the answer with.",
            f"1 to {branching.MAX_CONDITION_VALUE} characters",
        )
    return {"step": position, "operator": operator, "value": value}


def _subplaybook(playbook: Playbook, pid) -> Playbook | None:
    if pid is None:
        return None
    found = Playbook.objects.filter(pk=pid, practice_id=playbook.practice_id).first()
    if found is None or found.pk == playbook.pk:
        what = "itself" if found is not None else f"playbook {pid} in {playbook.practice.name}"
        raise invalid(
            "subplaybook",
            f"A step cannot run {what}.",
            "a published playbook of the same practice, other than this one",
        )
    return found


@transaction.atomic
def add_step(actor, playbook: Playbook, data: dict, *, source: str) -> PlaybookStep:
    values = _step_values({"title": data.get("title"), **data}, playbook)
    draft = _draft(actor, playbook)
    count = draft.steps.count()
    if count >= MAX_STEPS:
        raise invalid("steps", f"A playbook has at most {MAX_STEPS} steps.", "fewer steps")
    step = PlaybookStep.objects.create(version=draft, position=count + 1, **values)
    step_rules.check_version(playbook, draft)
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
    values = _step_values(data, playbook)
    draft = _draft(actor, playbook)
    step = _step_at(draft, position)
    for name, value in values.items():
        setattr(step, name, value)
    step.save()
    step_rules.check_version(playbook, draft)
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
    readers = [s.position for s in draft.steps.all() if position in s.condition_positions]
    if readers:
        raise invalid(
            "position",
            f"Step {position} is read by the condition of step {', '.join(map(str, readers))}.",
            "change or remove that condition first",
        )
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
    try:
        step_rules.check_version(playbook, draft)
    except ValidationError as error:
        # A condition would read a later step: say so on the move itself.
        raise invalid(
            "offset",
            f"Step {position} cannot move there: " + " ".join(error.messages),
            "a move that keeps every condition on an earlier step",
        ) from None
    record(
        actor,
        "playbook.step_move",
        playbook,
        source=source,
        changes={"step": [position, target + 1]},
    )


def _renumber(steps: list[PlaybookStep]) -> None:
    # Two passes: positions are unique per version, so move out of the way first.
    moves = {step.position: n for n, step in enumerate(steps, start=1)}
    for n, step in enumerate(steps, start=1):
        step.position = 10_000 + n
        step.condition_position = branching.renumbered(step.condition_position, moves)
        step.more_conditions = [
            {**c, "step": branching.renumbered(c["step"], moves)} for c in step.more_conditions
        ]
    PlaybookStep.objects.bulk_update(steps, ["position", "condition_position", "more_conditions"])
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
    step_rules.check_version(playbook, draft)
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


# --- runs (in runs.py; named here for the callers of the services) ---------------------------

start_run = runs.start_run
complete_step = runs.complete_step
reopen_step = runs.reopen_step
MAX_COMMENT = 1000


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

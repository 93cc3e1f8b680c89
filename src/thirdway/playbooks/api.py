"""API of playbooks: templates and their steps, runs and step completion, maintenance schedules."""

import datetime as dt
from decimal import Decimal
from typing import Literal

from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from thirdway.access import find_visible
from thirdway.audit.models import Source
from thirdway.clients.models import Client
from thirdway.errors import invalid, require
from thirdway.payloads import Id, Moment, Page, Payload, kept
from thirdway.playbooks import library, metrics, schedules, services
from thirdway.playbooks.models import Playbook, PlaybookVersion, Run, Schedule

router = Router()
API = Source.API
EvidenceName = Literal["none", "checkbox", "text", "value", "file", "yes_no"]
OperatorName = Literal["equals", "not_equals", "contains", "lt", "lte", "gt", "gte"]
MatchName = Literal["all", "any"]
RoleName = Literal["", "practice_admin", "partner", "associate", "desk"]
BuiltinName = Literal[tuple(sorted(library.BY_KEY))]  # type: ignore[valid-type]
NETWORK_ONLY = "Only the network works with playbooks."


class PlaybookConditionOut(Schema):
    step: int
    operator: str
    value: str


class PlaybookStepOut(Schema):
    position: int
    title: str
    instructions: str
    owner_practice_id: int | None
    owner_role: str
    expected_minutes: int
    evidence: str
    blocking: bool
    condition: PlaybookConditionOut | None = Field(
        description="The first condition (as in ``conditions``), kept for older clients."
    )
    conditions: list[PlaybookConditionOut] = Field(
        description="The step applies only when these hold on earlier steps' evidence."
    )
    match: MatchName = Field(description="all: every condition holds; any: one does.")
    subplaybook_id: int | None = Field(description="The playbook this step runs, if any.")

    @staticmethod
    def resolve_condition(obj) -> dict | None:
        if obj.condition_position is None:
            return None
        return {
            "step": obj.condition_position,
            "operator": obj.condition_operator,
            "value": obj.condition_value,
        }

    @staticmethod
    def resolve_conditions(obj) -> list[dict]:
        return [
            {"step": c.position, "operator": c.operator, "value": c.value} for c in obj.conditions
        ]

    @staticmethod
    def resolve_match(obj) -> str:
        return obj.condition_match


class PlaybookVersionOut(Schema):
    number: int
    published_at: dt.datetime | None
    steps: list[PlaybookStepOut]

    @staticmethod
    def resolve_steps(obj: PlaybookVersion) -> list:
        return list(obj.steps.all())


class PlaybookOut(Schema):
    id: int
    practice_id: int
    name: str
    description: str
    builtin_key: str
    published: PlaybookVersionOut | None
    draft: PlaybookVersionOut | None

    @staticmethod
    def resolve_published(obj: Playbook):
        return obj.published()

    @staticmethod
    def resolve_draft(obj: Playbook):
        return obj.draft()


class PlaybookIn(Payload, extra="forbid"):
    practice: Id
    name: str = Field(max_length=150)
    description: str = Field("", max_length=2000)


class CopyIn(Payload, extra="forbid"):
    builtin: BuiltinName
    practice: Id


class PlaybookConditionIn(Payload, extra="forbid"):
    step: int = Field(ge=1, le=100, description="An earlier step that asks for evidence.")
    operator: OperatorName
    value: str = Field(min_length=1, max_length=200, description='Compared without case: "yes".')


class StepIn(Payload, extra="forbid"):
    title: str = Field(max_length=200)
    instructions: str = Field("", max_length=5000)
    owner_practice: Id | None = None
    owner_role: RoleName = ""
    expected_minutes: int = Field(60, ge=1, le=129_600)
    evidence: EvidenceName = "none"
    blocking: bool = False
    condition: PlaybookConditionIn | None = Field(
        None, description="One condition; or give several as ``conditions``."
    )
    conditions: list[PlaybookConditionIn] | None = Field(
        None,
        max_length=4,
        description="Up to 4 conditions; the n-th one's fields are refused as "
        "condition_step_n, condition_operator_n, condition_value_n (the first without _n).",
    )
    match: MatchName = Field("all", description="all: every condition holds (and); any: one.")
    subplaybook: Id | None = Field(None, description="A published playbook of the same practice.")

    def for_service(self) -> dict:
        data = self.model_dump()
        condition = data.pop("condition")
        rows = data.pop("conditions")
        if rows is None:
            rows = [condition] if condition else []
        elif condition:
            raise invalid("condition", "Give condition or conditions, not both.", "conditions")
        data["condition_match"] = data.pop("match")
        data["condition_step"] = None
        for n, row in enumerate(rows, start=1):
            suffix = "" if n == 1 else f"_{n}"
            data[f"condition_step{suffix}"] = row["step"]
            data[f"condition_operator{suffix}"] = row["operator"]
            data[f"condition_value{suffix}"] = row["value"]
        return data


def _staff(request: HttpRequest) -> None:
    require(request.auth.is_network_staff, NETWORK_ONLY)


def _playbooks(request: HttpRequest):
    return Playbook.objects.for_user(request.auth)


def _playbook(request: HttpRequest, playbook_id: int) -> Playbook:
    return get_object_or_404(_playbooks(request), pk=playbook_id)


@router.get("/playbooks", response=list[PlaybookOut])
@paginate(Page)
def list_playbooks(request: HttpRequest):
    return _playbooks(request).prefetch_related("versions")


@router.get("/playbooks/{playbook_id}", response=PlaybookOut)
def get_playbook(request: HttpRequest, playbook_id: int):
    return _playbook(request, playbook_id)


@router.post("/playbooks", response={201: PlaybookOut})
def create_playbook(request: HttpRequest, payload: PlaybookIn):
    _staff(request)
    data = payload.model_dump()
    return Status(
        201,
        services.create_playbook(
            request.auth,
            practice_id=data["practice"],
            name=data["name"],
            description=data["description"],
            source=API,
        ),
    )


@router.post("/playbook-copies", response={201: PlaybookOut})
def copy_builtin(request: HttpRequest, payload: CopyIn):
    _staff(request)
    return Status(
        201,
        services.copy_builtin(
            request.auth, payload.builtin, practice_id=payload.practice, source=API
        ),
    )


@router.post("/playbooks/{playbook_id}/steps", response={201: PlaybookStepOut})
def add_step(request: HttpRequest, playbook_id: int, payload: StepIn):
    playbook = _playbook(request, playbook_id)
    return Status(201, services.add_step(request.auth, playbook, payload.for_service(), source=API))


@router.put("/playbooks/{playbook_id}/steps/{position}", response=PlaybookStepOut)
def replace_step(request: HttpRequest, playbook_id: int, position: int, payload: StepIn):
    """Replace the step at ``position`` of the draft (made from the published version)."""
    playbook = _playbook(request, playbook_id)
    return services.update_step(request.auth, playbook, position, payload.for_service(), source=API)


@router.delete("/playbooks/{playbook_id}/steps/{position}", response={204: None})
def remove_step(request: HttpRequest, playbook_id: int, position: int):
    playbook = _playbook(request, playbook_id)
    services.remove_step(request.auth, playbook, position, source=API)
    return Status(204, None)


@router.post("/playbooks/{playbook_id}/publish", response=PlaybookOut)
def publish(request: HttpRequest, playbook_id: int):
    playbook = _playbook(request, playbook_id)
    services.publish(request.auth, playbook, source=API)
    return playbook


# --- runs --------------------------------------------------------------------------------------


class RunStepOut(Schema):
    position: int
    title: str
    blocking: bool
    evidence_required: str
    ticket_number: str
    state: Literal["open", "done", "not_applicable"]
    completed_at: dt.datetime | None
    completed_by: str
    evidence: str
    not_applicable_at: dt.datetime | None
    child_run_id: int | None = Field(description="The run this step started (a sub-playbook).")

    @staticmethod
    def resolve_state(obj) -> str:
        if obj.not_applicable_at is not None:
            return "not_applicable"
        return "done" if obj.completed_at is not None else "open"

    @staticmethod
    def resolve_child_run_id(obj) -> int | None:
        child = getattr(obj, "child_run", None)
        return child.pk if child is not None else None

    @staticmethod
    def resolve_title(obj) -> str:
        return obj.step.title

    @staticmethod
    def resolve_blocking(obj) -> bool:
        return obj.step.blocking

    @staticmethod
    def resolve_evidence_required(obj) -> str:
        return obj.step.evidence

    @staticmethod
    def resolve_ticket_number(obj) -> str:
        return obj.ticket.number

    @staticmethod
    def resolve_completed_by(obj) -> str:
        return obj.completed_by_label


class RunOut(Schema):
    id: int
    playbook_id: int
    version: int
    client_id: int
    ticket_number: str
    started_at: dt.datetime
    completed_at: dt.datetime | None
    parent_run_id: int | None = Field(description="For a sub-playbook's run: the run above.")
    parent_step_position: int | None
    steps: list[RunStepOut]

    @staticmethod
    def resolve_parent_run_id(obj: Run) -> int | None:
        return obj.parent_step.run_id if obj.parent_step_id else None

    @staticmethod
    def resolve_parent_step_position(obj: Run) -> int | None:
        return obj.parent_step.position if obj.parent_step_id else None

    @staticmethod
    def resolve_version(obj: Run) -> int:
        return obj.version.number

    @staticmethod
    def resolve_ticket_number(obj: Run) -> str:
        return obj.ticket.number

    @staticmethod
    def resolve_steps(obj: Run) -> list:
        return list(obj.steps.select_related("step", "ticket", "child_run"))


class RunIn(Payload, extra="forbid"):
    playbook: Id
    client: Id


class CompleteIn(Payload, extra="forbid"):
    evidence: str = Field(
        "", max_length=5000, description='The evidence; "true" ticks a checkbox step.'
    )


def _runs(request: HttpRequest):
    return Run.objects.for_user(request.auth).select_related(
        "version", "ticket", "client", "parent_step"
    )


@router.get("/playbook-runs", response=list[RunOut])
@paginate(Page)
def list_runs(request: HttpRequest, client: Id | None = None):
    runs = _runs(request)
    return runs.filter(client_id=client) if client is not None else runs


@router.get("/playbook-runs/{run_id}", response=RunOut)
def get_run(request: HttpRequest, run_id: int):
    return get_object_or_404(_runs(request), pk=run_id)


@router.post("/playbook-runs", response={201: RunOut})
def start_run(request: HttpRequest, payload: RunIn):
    _staff(request)
    playbook = find_visible(_playbooks(request), "playbook", payload.playbook, noun="playbook")
    client = find_visible(
        Client.objects.for_user(request.auth), "client", payload.client, noun="client"
    )
    return Status(201, services.start_run(request.auth, playbook, client, source=API))


@router.post("/playbook-runs/{run_id}/steps/{position}/complete", response=RunOut)
def complete_step(request: HttpRequest, run_id: int, position: int, payload: CompleteIn):
    run = get_object_or_404(_runs(request), pk=run_id)
    run_step = get_object_or_404(run.steps.select_related("step"), position=position)
    services.complete_step(request.auth, run_step, evidence=payload.evidence, source=API)
    return get_object_or_404(_runs(request), pk=run_id)


class PlaybookReopenIn(Payload, extra="forbid"):
    reason: str = Field(min_length=1, max_length=1000, description="Why the step is reopened.")


@router.post("/playbook-runs/{run_id}/steps/{position}/reopen", response=RunOut)
def reopen_step(request: HttpRequest, run_id: int, position: int, payload: PlaybookReopenIn):
    """Open a completed step again (rework); the run is no longer complete."""
    run = get_object_or_404(_runs(request), pk=run_id)
    run_step = get_object_or_404(run.steps.select_related("step"), position=position)
    services.reopen_step(request.auth, run_step, reason=payload.reason, source=API)
    return get_object_or_404(_runs(request), pk=run_id)


class PlaybookFeedbackIn(Payload, extra="forbid"):
    score: int = Field(ge=1, le=5)
    comment: str = Field("", max_length=1000)


class PlaybookFeedbackOut(Schema):
    run_id: int
    person: str
    score: int
    comment: str
    at: dt.datetime

    @staticmethod
    def resolve_person(obj) -> str:
        return obj.person_label


@router.get("/playbook-runs/{run_id}/feedback", response=list[PlaybookFeedbackOut])
def list_feedback(request: HttpRequest, run_id: int):
    run = get_object_or_404(_runs(request), pk=run_id)
    return list(run.feedback.all())


@router.post("/playbook-runs/{run_id}/feedback", response={201: PlaybookFeedbackOut})
def leave_feedback(request: HttpRequest, run_id: int, payload: PlaybookFeedbackIn):
    """A participant's score (1 to 5) and comment on a completed run, once per person."""
    run = get_object_or_404(_runs(request), pk=run_id)
    feedback = services.leave_feedback(
        request.auth, run, score=payload.score, comment=payload.comment, source=API
    )
    return Status(201, feedback)


class PlaybookStepFigures(Schema):
    position: int
    title: str
    expected_minutes: int
    completed: int
    median_minutes: Decimal | None
    over_expected: int
    reopens: int
    runs_reworked: int
    ticket_reopens: int = Field(description="Of the reopenings, those of the step's ticket.")


class PlaybookVersionFigures(Schema):
    version: int
    runs_started: int
    runs_completed: int
    median_minutes: Decimal | None = Field(description="Time to complete, median, minutes.")
    p90_minutes: Decimal | None = Field(description="Time to complete, 90th percentile.")
    reopens: int
    ticket_reopens: int = Field(description="Of the reopenings, those of a step's ticket.")
    feedback_count: int
    feedback_average: Decimal | None
    steps: list[PlaybookStepFigures]


class PlaybookMetricsOut(Schema):
    playbook_id: int
    versions: list[PlaybookVersionFigures]


@router.get("/playbooks/{playbook_id}/metrics", response=PlaybookMetricsOut)
def playbook_metrics(request: HttpRequest, playbook_id: int, version: Id | None = None):
    """Figures per published version (newest first), or of one ``version``."""
    playbook = _playbook(request, playbook_id)
    rows = metrics.load(playbook)
    if version is not None:
        rows = [row for row in rows if row.version == version]
        if not rows:
            raise Http404
    return {"playbook_id": playbook.pk, "versions": rows}


# --- schedules ---------------------------------------------------------------------------------


class ScheduleOut(Schema):
    id: int
    client_id: int
    name: str
    rule: str
    starts_at: dt.datetime
    time_zone: str
    lead_minutes: int
    makes: str
    playbook_id: int | None
    practice_id: int | None
    site_id: int | None
    asset_id: int | None
    on_holiday: str
    is_active: bool
    next_at: dt.datetime | None
    last_slot: dt.datetime | None


class ScheduleIn(Payload, extra="forbid"):
    client: Id
    name: str = Field(max_length=150)
    rule: str = Field(max_length=500)
    starts_at: Moment
    time_zone: str | None = Field(None, max_length=64)
    lead_minutes: int = Field(1440, ge=0, le=86_400)
    makes: Literal["ticket", "run"] = "ticket"
    playbook: Id | None = None
    practice: Id | None = None
    site: Id | None = None
    asset: Id | None = None
    on_holiday: Literal["skip", "move", "ignore"] = "skip"
    is_active: bool = True


class SchedulePatch(Payload, extra="forbid"):
    name: str = kept(max_length=150)
    rule: str = kept(max_length=500)
    starts_at: Moment = kept()
    time_zone: str = kept(max_length=64)
    lead_minutes: int = kept(ge=0, le=86_400)
    makes: Literal["ticket", "run"] = kept()
    playbook: Id | None = None
    practice: Id | None = None
    site: Id | None = None
    asset: Id | None = None
    on_holiday: Literal["skip", "move", "ignore"] = kept()
    is_active: bool = kept()


def _schedules(request: HttpRequest):
    return Schedule.objects.for_user(request.auth)


@router.get("/maintenance-schedules", response=list[ScheduleOut])
@paginate(Page)
def list_schedules(request: HttpRequest, client: Id | None = None):
    rows = _schedules(request)
    return rows.filter(client_id=client) if client is not None else rows


@router.get("/maintenance-schedules/{schedule_id}", response=ScheduleOut)
def get_schedule(request: HttpRequest, schedule_id: int):
    return get_object_or_404(_schedules(request), pk=schedule_id)


@router.post("/maintenance-schedules", response={201: ScheduleOut})
def create_schedule(request: HttpRequest, payload: ScheduleIn):
    _staff(request)
    data = payload.model_dump()
    client = find_visible(
        Client.objects.for_user(request.auth), "client", data.pop("client"), noun="client"
    )
    return Status(201, schedules.save_schedule(request.auth, client, data, source=API))


@router.patch("/maintenance-schedules/{schedule_id}", response=ScheduleOut)
def update_schedule(request: HttpRequest, schedule_id: int, payload: SchedulePatch):
    schedule = get_object_or_404(_schedules(request), pk=schedule_id)
    data = payload.model_dump(exclude_unset=True)
    return schedules.save_schedule(
        request.auth, schedule.client, data, schedule=schedule, source=API
    )

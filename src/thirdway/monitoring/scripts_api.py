"""API of the script library: scripts of a practice, their versions and their run history."""

import datetime as dt
from typing import Literal

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from thirdway.access import find_visible
from thirdway.audit.models import Source
from thirdway.monitoring import scripts
from thirdway.monitoring.models import Script, ScriptRun
from thirdway.network.models import Practice
from thirdway.payloads import Id, Page, Payload, kept

router = Router()

InterpreterName = Literal["sh", "bash", "python3"]
BODY = {"min_length": 1, "max_length": scripts.MAX_BODY_BYTES}


class MonitoringScriptVersionOut(Schema):
    id: int
    number: int
    interpreter: str
    timeout_seconds: int
    sha256: str
    body: str
    created_by_id: int | None
    created_at: dt.datetime


class MonitoringScriptOut(Schema):
    id: int
    practice_id: int
    name: str
    description: str
    interpreter: str
    timeout_seconds: int
    current: MonitoringScriptVersionOut | None
    created_at: dt.datetime


class MonitoringScriptDetailOut(MonitoringScriptOut):
    versions: list[MonitoringScriptVersionOut]

    @staticmethod
    def resolve_versions(obj: Script) -> list:
        return list(obj.versions.all())


class MonitoringScriptIn(Payload, extra="forbid"):
    practice: Id
    name: str = Field(max_length=scripts.MAX_NAME)
    description: str = Field("", max_length=scripts.MAX_DESCRIPTION)
    interpreter: InterpreterName
    timeout_seconds: int = Field(30, ge=1, le=300)
    body: str = Field(**BODY, description="At most 64 KiB once encoded as UTF-8.")


class MonitoringScriptPatch(Payload, extra="forbid"):
    name: str = kept(max_length=scripts.MAX_NAME)
    description: str = kept(max_length=scripts.MAX_DESCRIPTION)
    interpreter: InterpreterName = kept()
    timeout_seconds: int = kept(ge=1, le=300)
    body: str = kept(**BODY)


class MonitoringScriptRunOut(Schema):
    id: int
    script_id: int
    version_id: int | None
    version_number: int | None
    sha256: str
    check_id: int | None
    agent_id: int | None
    asked_by_id: int | None
    status: str
    exit_code: int | None
    output: str
    duration_ms: int | None
    collected_at: dt.datetime
    received_at: dt.datetime

    @staticmethod
    def resolve_check_id(obj: ScriptRun) -> int | None:
        return obj.check_obj_id

    @staticmethod
    def resolve_version_number(obj: ScriptRun) -> int | None:
        return obj.version.number if obj.version is not None else None


def _scripts(request: HttpRequest):
    return Script.objects.for_user(request.auth).select_related("current")


@router.get("/monitoring/scripts", response=list[MonitoringScriptOut])
@paginate(Page)
def list_scripts(request: HttpRequest, practice: Id | None = None):
    found = _scripts(request)
    return found.filter(practice_id=practice) if practice is not None else found


@router.post("/monitoring/scripts", response={201: MonitoringScriptDetailOut})
def create_script(request: HttpRequest, payload: MonitoringScriptIn):
    data = payload.model_dump()
    practice = find_visible(
        Practice.objects.for_user(request.auth), "practice", data.pop("practice")
    )
    script = scripts.create_script(request.auth, practice, source=Source.API, **data)
    return Status(201, script)


@router.get("/monitoring/scripts/{script_id}", response=MonitoringScriptDetailOut)
def get_script(request: HttpRequest, script_id: int):
    return get_object_or_404(_scripts(request), pk=script_id)


@router.patch("/monitoring/scripts/{script_id}", response=MonitoringScriptDetailOut)
def edit_script(request: HttpRequest, script_id: int, payload: MonitoringScriptPatch):
    script = get_object_or_404(_scripts(request), pk=script_id)
    data = payload.model_dump(exclude_unset=True)
    return scripts.edit_script(request.auth, script, data, source=Source.API)


@router.get("/monitoring/scripts/{script_id}/runs", response=list[MonitoringScriptRunOut])
@paginate(Page)
def list_script_runs(request: HttpRequest, script_id: int):
    script = get_object_or_404(_scripts(request), pk=script_id)
    return script.runs.select_related("version")

"""The script library: scripts of a practice, their versions and their runs (the only writers).

- A script has a name (unique in its practice), an interpreter, a timeout and a body; editing
  any of these makes a new version, numbered, with the SHA-256 of its body.  Old versions stay.
- A script check hands its agent the script's current version and its hash; the agent refuses a
  body whose hash is not that one.  Each run the agent reports is kept with the version and hash
  that ran, the check and agent, who asked and its exit code and output.
- "Run now": a practice admin or the desk asks for a run of a script check; the agent is handed
  the request with its checks at its next heartbeat, runs the script at once and sends the
  request's time back with the run, which is then kept as asked by that person.  Other runs are
  asked by the check's creator.
"""

from __future__ import annotations

import hashlib

from django.db import transaction
from django.utils import timezone

from thirdway.audit.services import record
from thirdway.errors import invalid, require
from thirdway.monitoring.access import can_manage, can_write_scripts
from thirdway.monitoring.models import (
    Agent,
    Check,
    CheckKind,
    Interpreter,
    Script,
    ScriptRun,
    ScriptVersion,
)
from thirdway.network.models import Practice

MAX_BODY_BYTES = 64 * 1024
MAX_NAME = 150
MAX_DESCRIPTION = 500
MIN_TIMEOUT, MAX_TIMEOUT = 1, 300
# The most of a run's output kept on the server.
MAX_RUN_OUTPUT = 4_000
INTERPRETERS = [choice.value for choice in Interpreter]


def sha256_of(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def _scope(script: Script) -> str:
    return f"practice:{script.practice_id}"


def _validate(name: str, interpreter: str, timeout: int, body: str, description: str) -> None:
    if not name.strip() or len(name) > MAX_NAME:
        raise invalid("name", "Name the script.", f"1 to {MAX_NAME} characters")
    if len(description) > MAX_DESCRIPTION:
        raise invalid("description", "The description is too long.", "at most 500 characters")
    if interpreter not in INTERPRETERS:
        raise invalid("interpreter", "Choose an interpreter.", ", ".join(INTERPRETERS))
    if not isinstance(timeout, int) or not MIN_TIMEOUT <= timeout <= MAX_TIMEOUT:
        raise invalid("timeout_seconds", "Choose a timeout.", "1 to 300 seconds")
    if not body.strip():
        raise invalid("body", "The script is empty.", "the script's text")
    if len(body.encode("utf-8")) > MAX_BODY_BYTES:
        raise invalid("body", "The script is too long.", "at most 64 KiB (UTF-8)")
    if "\x00" in body:
        raise invalid("body", "The script holds a NUL character.", "text without NUL")


def _taken(practice: Practice, name: str, script: Script | None = None) -> bool:
    same = Script.objects.filter(practice=practice, name__iexact=name.strip())
    if script is not None:
        same = same.exclude(pk=script.pk)
    return same.exists()


def _new_version(actor, script: Script, body: str) -> ScriptVersion:
    last = script.versions.order_by("-number").values_list("number", flat=True).first() or 0
    version = ScriptVersion.objects.create(
        script=script,
        number=last + 1,
        interpreter=script.interpreter,
        timeout_seconds=script.timeout_seconds,
        body=body,
        sha256=sha256_of(body),
        created_by=actor,
    )
    script.current = version
    script.save(update_fields=["current", "interpreter", "timeout_seconds", "description"])
    return version


@transaction.atomic
def create_script(
    actor,
    practice: Practice,
    *,
    name: str,
    interpreter: str,
    body: str,
    timeout_seconds: int = 30,
    description: str = "",
    source: str,
) -> Script:
    require(can_write_scripts(actor), "Only practice admins and the desk write scripts.")
    _validate(name, interpreter, timeout_seconds, body, description)
    if _taken(practice, name):
        raise invalid("name", "This practice has a script of that name.", "another name")
    script = Script.objects.create(
        practice=practice,
        name=name.strip(),
        description=description.strip(),
        interpreter=interpreter,
        timeout_seconds=timeout_seconds,
        created_by=actor,
    )
    version = _new_version(actor, script, body)
    record(
        actor,
        "monitoring.script.create",
        script,
        source=source,
        scope=_scope(script),
        changes={"version": [None, version.number], "sha256": [None, version.sha256]},
    )
    return script


@transaction.atomic
def edit_script(actor, script: Script, data: dict, *, source: str) -> Script:
    """Change a script; a new version when the body, interpreter or timeout changed."""
    require(can_write_scripts(actor), "Only practice admins and the desk write scripts.")
    script = (
        Script.objects.select_for_update(of=("self",)).select_related("current").get(pk=script.pk)
    )
    current = script.current
    name = data.get("name", script.name)
    interpreter = data.get("interpreter", script.interpreter)
    timeout = data.get("timeout_seconds", script.timeout_seconds)
    body = data.get("body", current.body if current else "")
    description = data.get("description", script.description)
    _validate(name, interpreter, timeout, body, description)
    if _taken(script.practice, name, script):
        raise invalid("name", "This practice has a script of that name.", "another name")
    before = current.number if current else None
    script.name, script.description = name.strip(), description.strip()
    script.save(update_fields=["name", "description"])
    runs_differently = current is None or (body, interpreter, timeout) != (
        current.body,
        current.interpreter,
        current.timeout_seconds,
    )
    if runs_differently:
        script.interpreter, script.timeout_seconds = interpreter, timeout
        version = _new_version(actor, script, body)
        changes = {"version": [before, version.number], "sha256": [None, version.sha256]}
    else:
        changes = {}
    record(
        actor,
        "monitoring.script.edit",
        script,
        source=source,
        scope=_scope(script),
        changes=changes,
    )
    return script


def script_of_check(check: Check) -> dict | None:
    """What the agent is handed for a script check: the current version and its hash."""
    script = check.script
    version = script.current if script is not None else None
    if version is None:
        return None
    return {
        "script_id": script.pk,
        "version_id": version.pk,
        "version": version.number,
        "interpreter": version.interpreter,
        "timeout_seconds": version.timeout_seconds,
        "body": version.body,
        "sha256": version.sha256,
    }


def record_run(agent: Agent, check: Check, result: dict, status: str, collected) -> ScriptRun:
    """Keep one run an agent reported for a script check (with the version and hash it ran)."""
    run = result.get("script") or {}
    version = None
    if run.get("version_id") is not None:
        version = ScriptVersion.objects.filter(
            pk=run["version_id"], script_id=check.script_id
        ).first()
    duration = run.get("duration_ms")
    asked_by_id = check.created_by_id
    answered = run.get("requested_at")
    if answered is not None and answered == check.run_requested_at:
        asked_by_id = check.run_requested_by_id
        Check.objects.filter(pk=check.pk, run_requested_at=answered).update(
            run_requested_at=None, run_requested_by=None
        )
    return ScriptRun.objects.create(
        script_id=check.script_id,
        version=version,
        sha256=(run.get("sha256") or "")[:64],
        check_obj=check,
        agent=agent,
        asked_by_id=asked_by_id,
        status=status,
        exit_code=run.get("exit_code"),
        output=(run.get("output") or result.get("output") or "")[:MAX_RUN_OUTPUT],
        duration_ms=duration if isinstance(duration, int) and duration >= 0 else None,
        collected_at=collected,
    )


@transaction.atomic
def request_run(actor, check: Check, *, source: str) -> Check:
    """Ask the check's agent to run its script at its next check-in, as ``actor``."""
    require(
        can_write_scripts(actor) and can_manage(actor, check.client),
        "Only practice admins and the desk run scripts on demand.",
    )
    check = Check.objects.select_for_update(of=("self",)).select_related("agent").get(pk=check.pk)
    if check.kind != CheckKind.AGENT_SCRIPT:
        raise invalid("check", "Only script checks run on demand.", "a script check")
    if check.is_paused:
        raise invalid("check", "The check is paused.", "a running check: resume it first")
    if check.agent is None or check.agent.revoked_at is not None:
        raise invalid("check", "The check's agent was revoked.", "a check of an enrolled agent")
    now = timezone.now()
    # Milliseconds: what the agent is sent as JSON and sends back must compare equal.
    check.run_requested_at = now.replace(microsecond=now.microsecond // 1000 * 1000)
    check.run_requested_by = actor
    check.save(update_fields=["run_requested_at", "run_requested_by"])
    record(
        actor,
        "monitoring.check.run_now",
        check,
        source=source,
        scope=f"client:{check.client_id}",
        changes={"run_requested_at": [None, check.run_requested_at.isoformat()]},
    )
    return check

"""The script library (versions, hashes, bounds, who writes, who sees) over the API and its
pages; the agent running scripts (Nagios exit codes, the hash check, the machine's refusal);
and runs reported in a results batch, kept with the hash that ran."""

from __future__ import annotations

import hashlib

import pytest
from django.test import Client as HttpClient
from django.utils import timezone
from thirdway_agent.checks import REFUSED, Runner, run_script

from support.api import API, assert_refused, send
from thirdway.audit.models import Source
from thirdway.monitoring import agents, pending_results, scripts, services
from thirdway.monitoring.models import Script, ScriptRun, ScriptVersion

SCRIPTS = API + "/monitoring/scripts"
BODY = "#!/bin/sh\necho 'OK - all fine'\nexit 0\n"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def new_script(cast, body=BODY, name="Backups fresh", practice=None, **extra):
    return scripts.create_script(
        cast.admin,
        practice or cast.security,
        name=name,
        interpreter=extra.pop("interpreter", "sh"),
        body=body,
        source=Source.CLI,
        **extra,
    )


# --- the library -------------------------------------------------------------------------------


def test_creating_and_editing_makes_numbered_versions_with_their_hashes(cast, api_as):
    client = api_as(cast.desk)
    payload = {"practice": cast.security.pk, "name": "Backups", "interpreter": "sh", "body": BODY}
    made = send(client, "post", SCRIPTS, payload)
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["current"]["number"] == 1 and body["current"]["sha256"] == sha(BODY)
    url = f"{SCRIPTS}/{body['id']}"
    second = BODY.replace("exit 0", "exit 1")
    edited = send(client, "patch", url, {"body": second, "timeout_seconds": 120}).json()
    assert edited["current"]["number"] == 2 and edited["current"]["sha256"] == sha(second)
    assert edited["timeout_seconds"] == 120
    assert [v["number"] for v in edited["versions"]] == [2, 1]
    assert edited["versions"][1]["sha256"] == sha(BODY)
    # A rename alone runs the same thing: no new version.
    renamed = send(client, "patch", url, {"name": "Backups (nightly)"}).json()
    assert renamed["name"] == "Backups (nightly)" and renamed["current"]["number"] == 2
    assert ScriptVersion.objects.filter(script_id=body["id"]).count() == 2


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"body": "x" * (64 * 1024 + 1)}, "body"),
        ({"body": "é" * (32 * 1024 + 1)}, "body"),  # over 64 KiB once encoded
        ({"body": "   "}, "body"),
        ({"timeout_seconds": 0}, "timeout_seconds"),
        ({"timeout_seconds": 301}, "timeout_seconds"),
        ({"interpreter": "perl"}, "interpreter"),
        ({"name": ""}, "name"),
        ({"name": "n" * 151}, "name"),
    ],
)
def test_out_of_bounds_input_is_refused_and_changes_nothing(cast, api_as, change, field):
    script = new_script(cast)
    client = api_as(cast.admin)
    refused = send(client, "patch", f"{SCRIPTS}/{script.pk}", change)
    assert_refused(refused, field)
    script.refresh_from_db()
    assert script.versions.count() == 1 and script.current.body == BODY
    created = send(
        client,
        "post",
        SCRIPTS,
        {"practice": cast.security.pk, "name": "New", "interpreter": "sh", "body": BODY, **change},
    )
    assert_refused(created, field)
    assert Script.objects.count() == 1


def test_a_name_is_unique_within_a_practice_only(cast, api_as):
    new_script(cast, name="Disk report")
    client = api_as(cast.admin)
    payload = {"name": "disk report", "interpreter": "sh", "body": BODY}
    assert_refused(send(client, "post", SCRIPTS, {"practice": cast.security.pk, **payload}), "name")
    other = send(client, "post", SCRIPTS, {"practice": cast.networking.pk, **payload})
    assert other.status_code == 201


def test_only_practice_admins_and_the_desk_write_scripts(cast, api_as):
    script = new_script(cast)
    payload = {"practice": cast.security.pk, "name": "Mine", "interpreter": "sh", "body": BODY}
    # Paula has a Security skill: she reads its scripts but may not write them.
    paula = api_as(cast.partner)
    assert send(paula, "get", f"{SCRIPTS}/{script.pk}").status_code == 200
    assert send(paula, "post", SCRIPTS, payload).status_code == 403
    assert send(paula, "patch", f"{SCRIPTS}/{script.pk}", {"body": "exit 2"}).status_code == 403
    assert script.versions.count() == 1 and Script.objects.count() == 1
    assert send(api_as(cast.desk), "post", SCRIPTS, payload).status_code == 201


def test_scripts_of_other_practices_are_not_found(cast, api_as):
    security = new_script(cast, name="Security one")
    networking = new_script(cast, name="Network one", practice=cast.networking)
    paula = api_as(cast.partner)  # Security only
    listed = {item["id"] for item in send(paula, "get", SCRIPTS).json()["items"]}
    assert listed == {security.pk}
    assert send(paula, "get", f"{SCRIPTS}/{networking.pk}").status_code == 404
    assert send(paula, "get", f"{SCRIPTS}/{networking.pk}/runs").status_code == 404
    for who in (cast.client_admin, cast.client_user):
        client = api_as(who)
        assert send(client, "get", SCRIPTS).json()["items"] == []
        assert send(client, "get", f"{SCRIPTS}/{security.pk}").status_code == 404


def test_the_library_pages_create_edit_and_refuse(cast, web_as):
    page = web_as(cast.admin)
    form = {
        "practice": cast.security.pk,
        "name": "Free space",
        "interpreter": "bash",
        "timeout_seconds": 20,
        "body": "echo fine\r\nexit 0\r\n",
    }
    made = page.post("/monitoring/scripts/", form)
    script = Script.objects.get()
    assert made.status_code == 302 and script.current.body == "echo fine\nexit 0\n"
    bad = page.post(f"/monitoring/scripts/{script.pk}/", {**form, "timeout_seconds": 999})
    assert bad.status_code == 400 and "1 to 300" in bad.content.decode()
    assert script.versions.count() == 1
    page.post(f"/monitoring/scripts/{script.pk}/", {**form, "body": "exit 1\n"})
    shown = page.get(f"/monitoring/scripts/{script.pk}/").content.decode()
    assert sha("exit 1\n") in shown and sha("echo fine\nexit 0\n") in shown
    # Paula reads Security's scripts but gets no form; Oscar (Networking) finds nothing.
    paula = web_as(cast.partner).get(f"/monitoring/scripts/{script.pk}/")
    assert paula.status_code == 200 and "<textarea" not in paula.content.decode()
    assert web_as(cast.other_partner).get(f"/monitoring/scripts/{script.pk}/").status_code == 404
    assert web_as(cast.partner).post("/monitoring/scripts/", form).status_code == 403


# --- the agent running scripts -----------------------------------------------------------------


def sent(body: str, interpreter: str = "sh", timeout: int = 10, digest: str | None = None):
    return {
        "script_id": 1,
        "version_id": 7,
        "version": 1,
        "interpreter": interpreter,
        "timeout_seconds": timeout,
        "body": body,
        "sha256": digest if digest is not None else sha(body),
    }


@pytest.mark.parametrize(
    ("code", "status"),
    [(0, "ok"), (1, "warning"), (2, "critical"), (3, "unknown"), (4, "unknown"), (127, "unknown")],
)
def test_the_agent_maps_nagios_exit_codes(code, status):
    body = f"echo 'CHECK says {code}'\necho second line\nexit {code}\n"
    outcome = run_script(sent(body), refuse=False)
    assert outcome["status"] == status
    assert outcome["output"] == f"CHECK says {code}"
    assert outcome["script"]["exit_code"] == code
    assert outcome["script"]["sha256"] == sha(body) and outcome["script"]["version_id"] == 7
    assert "second line" in outcome["script"]["output"]


def test_the_agent_runs_python_and_bounds_the_message():
    body = "import sys\nprint('W' * 2000)\nsys.exit(1)\n"
    outcome = run_script(sent(body, interpreter="python3"), refuse=False)
    assert outcome["status"] == "warning" and outcome["output"] == "W" * 500


def test_a_script_past_its_timeout_is_unknown():
    outcome = run_script(sent("sleep 5\nexit 0\n", timeout=1), refuse=False)
    assert outcome["status"] == "unknown" and "Timed out after 1 s" in outcome["output"]
    assert outcome["script"]["exit_code"] is None


def test_the_agent_refuses_a_body_whose_hash_is_not_the_servers(tmp_path):
    marker = tmp_path / "ran"
    body = f"touch {marker}\nexit 0\n"
    outcome = run_script(sent(body, digest=sha(body + "tampered")), refuse=False)
    assert outcome["status"] == "unknown" and "does not match" in outcome["output"]
    assert not marker.exists()


def test_the_machines_switch_refuses_every_script(tmp_path):
    marker = tmp_path / "ran"
    check = {"id": 1, "kind": "agent_script", "script": sent(f"touch {marker}\nexit 0\n")}
    outcome = Runner(refuse_scripts=True).run(check)
    assert outcome["status"] == "unknown" and outcome["output"] == REFUSED
    assert not marker.exists()
    assert Runner(refuse_scripts=False).run(check)["status"] == "ok" and marker.exists()


# --- runs reported to the server ---------------------------------------------------------------


def test_the_config_carries_the_current_version_and_a_batch_records_the_run(cast):
    script = new_script(cast)
    _, token = agents.issue_enrolment_token(cast.partner, cast.acme, source=Source.CLI)
    agent, secret = agents.enrol(token, hostname="srv")
    check = services.create_check(
        cast.desk,
        cast.acme,
        source=Source.CLI,
        name="Backups",
        kind="agent_script",
        agent_id=agent.pk,
        script_id=script.pk,
        max_attempts=1,
    )
    given = agents.config_of(agent)["checks"][0]["script"]
    assert given["sha256"] == sha(BODY) and given["version"] == 1
    outcome = Runner().run({"id": check.pk, "kind": "agent_script", "script": given})
    outcome["collected_at"] = timezone.now().isoformat()
    http = HttpClient(headers={"Authorization": f"Bearer {secret}"})
    answer = send(
        http,
        "post",
        API + "/monitoring/agent/results",
        {"batch_id": "batch-0001", "results": [outcome]},
    )
    assert answer.status_code == 200 and answer.json()["accepted"] == 1, answer.content
    pending_results.evaluate_pending()  # as the worker does after the answer
    run = ScriptRun.objects.get()
    assert run.version == script.current and run.sha256 == sha(BODY)
    assert run.check_obj == check and run.agent == agent and run.asked_by == cast.desk
    assert run.exit_code == 0 and run.status == "ok" and run.output.startswith("OK - all fine")
    assert run.duration_ms is not None
    check.refresh_from_db()
    assert check.status == "ok"
    # An edit changes what the agent is handed (and its etag).
    before = agents.config_of(agent)["etag"]
    scripts.edit_script(cast.admin, script, {"body": "exit 2\n"}, source=Source.CLI)
    after = agents.config_of(agent)
    assert after["etag"] != before and after["checks"][0]["script"]["sha256"] == sha("exit 2\n")
    runs = send(HttpClient(), "get", f"{SCRIPTS}/{script.pk}/runs")
    assert runs.status_code == 401


def test_a_script_check_needs_a_script_the_person_sees(cast, api_as):
    networking = new_script(cast, practice=cast.networking)
    _, token = agents.issue_enrolment_token(cast.partner, cast.acme, source=Source.CLI)
    agent, _ = agents.enrol(token, hostname="srv")
    base = {"client": cast.acme.pk, "name": "S", "kind": "agent_script", "agent": agent.pk}
    paula = api_as(cast.partner)
    assert_refused(send(paula, "post", API + "/monitoring/checks", base), "script")
    hidden = send(paula, "post", API + "/monitoring/checks", {**base, "script": networking.pk})
    assert_refused(hidden, "script")
    made = send(
        api_as(cast.admin), "post", API + "/monitoring/checks", {**base, "script": networking.pk}
    )
    assert made.status_code == 201 and made.json()["script_id"] == networking.pk

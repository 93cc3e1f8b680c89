"""The real agent package (agent/) against a served instance over loopback HTTP: enrolment,
heartbeat, a failing disk check, the server unreachable (results buffered, then replayed once),
a 429's Retry-After, and a revoked agent."""

from __future__ import annotations

import datetime as dt
import http.server
import json
import stat
import threading

import httpx
import pytest
from thirdway_agent import checks as agent_checks
from thirdway_agent import cli
from thirdway_agent.agent import Agent as Machine
from thirdway_agent.buffer import Buffer
from thirdway_agent.client import Unauthorized
from thirdway_agent.config import load

from thirdway.audit.models import Source
from thirdway.monitoring import agents, services
from thirdway.monitoring.models import Agent, Alert, AssetChange, CheckResult
from thirdway.tickets.models import Ticket

from .conftest import closed_port

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def enrolled(cast, live_server, tmp_path, settings):
    """A machine enrolled through ``thirdway-agent enrol`` against the live server, whose
    tasks run as soon as they are asked for (a results batch is evaluated right after its
    answer is committed, as an idle worker would)."""
    settings.TASKS = IMMEDIATE
    _, token = agents.issue_enrolment_token(cast.partner, cast.acme, source=Source.CLI)
    path = tmp_path / "etc" / "config.json"
    code = cli.main(
        [
            "--config",
            str(path),
            "enrol",
            "--server",
            live_server.url,
            "--token",
            token,
            "--state-dir",
            str(tmp_path / "state"),
        ]
    )
    assert code == 0
    return path


def machine(path) -> Machine:
    return Machine(load(path))


def add_check(cast, **data):
    agent = Agent.objects.get()
    base = {"agent_id": agent.pk, "max_attempts": 1}
    return services.create_check(cast.admin, cast.acme, source=Source.CLI, **base, **data)


def test_enrol_writes_a_private_config_and_sends_the_inventory(cast, enrolled):
    assert stat.S_IMODE(enrolled.stat().st_mode) == 0o600
    config = json.loads(enrolled.read_text())
    assert config["secret"].startswith("twag_")
    agent = Agent.objects.get()
    assert agent.client == cast.acme and agent.inventory["hostname"]
    assert agent.inventory["memory_bytes"] > 0 and agent.inventory["disks"]
    fields = set(AssetChange.objects.filter(asset=agent.asset).values_list("field", flat=True))
    assert {"hostname", "os_name", "memory_bytes", "interfaces", "boot_time"} <= fields


def test_a_failing_disk_check_opens_an_alert(cast, enrolled, capsys):
    # Any used disk is over a threshold of 0.001 %.
    check = add_check(
        cast, name="Root disk", kind="agent_metric", metric="disk:/", critical_threshold=0.001
    )
    assert cli.main(["--config", str(enrolled), "once"]) == 0
    outcome = json.loads(capsys.readouterr().out)
    assert outcome == {"alive": True, "measured": 1, "delivered": 1}
    check.refresh_from_db()
    assert check.status == "critical" and check.last_output.startswith("Disk / ")
    assert Alert.objects.get(check_obj=check).ticket is not None
    assert cli.main(["--config", str(enrolled), "status"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["checks"] == 1 and shown["buffered"] == 0 and shown["skew_seconds"] is not None
    assert Agent.objects.get().last_seen_at is not None


def test_results_buffered_while_the_server_is_unreachable_are_replayed_once(
    cast, enrolled, tmp_path, monkeypatch
):
    backup = tmp_path / "backup.tar"
    check = add_check(
        cast,
        name="Backup file",
        kind="agent_file_age",
        target=str(backup),
        warning_threshold=24.0,
        critical_threshold=48.0,
    )
    agent = machine(enrolled)
    assert agent.heartbeat()  # takes the check
    live = agent.server.http.base_url
    agent.server.http.base_url = f"http://127.0.0.1:{closed_port()}"
    outage = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=30)
    # The agent's clock is set back for the outage only (the test's other patches stay).
    with monkeypatch.context() as outage_clock:
        for minutes, present in ((0, False), (10, True)):
            at = (outage + dt.timedelta(minutes=minutes)).isoformat()
            outage_clock.setattr(agent_checks, "_now", lambda at=at: at)
            # Ten minutes pass for the agent too: the check (every minute) is due again.
            agent.runner.clock = lambda minutes=minutes: 1_000.0 + minutes * 60
            if present:
                backup.write_bytes(b"data")
            assert agent.cycle() == {"alive": False, "measured": 1, "delivered": 0}
    assert agent.buffer.count() == 2
    # The first delivery's answer is lost: the batch was committed, the agent did not hear.
    batch_id, pending = agent.buffer.next_batch(500)
    answer = httpx.post(
        f"{live}/api/v1/monitoring/agent/results",
        json={"batch_id": batch_id, "results": pending},
        headers={"Authorization": f"Bearer {agent.config.secret}"},
    )
    assert answer.status_code == 200 and answer.json()["accepted"] == len(pending) == 2
    agent.server.http.base_url = live
    assert agent.deliver() == 2  # the same batch again: acknowledged, stored once
    assert agent.buffer.count() == 0
    statuses = list(
        CheckResult.objects.filter(check_obj=check)
        .order_by("collected_at")
        .values_list("status", flat=True)
    )
    assert statuses == ["critical", "ok"]
    check.refresh_from_db()
    assert check.status == "ok"
    assert not Alert.objects.exists() and not Ticket.objects.exists()  # history, not a ticket
    agent.close()


def test_the_buffer_is_bounded_by_age_and_count_and_counts_what_it_dropped(tmp_path):
    buffer = Buffer(tmp_path / "b.sqlite3", max_age=3600, max_count=3)
    buffer.add([{"n": 1}], now=1_000.0)
    buffer.add([{"n": n} for n in range(2, 6)], now=5_000.0)  # n=1 too old, then one too many
    assert buffer.count() == 3 and buffer.dropped == 2
    batch_id, rows = buffer.next_batch(2)
    assert [row["n"] for row in rows] == [3, 4]
    assert buffer.next_batch(2) == (batch_id, rows)  # unacknowledged: the same batch again
    buffer.add([{"n": 6}, {"n": 7}], now=5_001.0)  # the pending 3 and 4 are kept; 5, 6 go
    assert [row["n"] for row in buffer.next_batch(2)[1]] == [3, 4] and buffer.dropped == 4
    buffer.acknowledged(batch_id)
    assert [row["n"] for row in buffer.next_batch(5)[1]] == [7]
    buffer.close()


def test_the_agent_waits_as_long_as_a_429_asks(cast, enrolled):
    hits = []

    class Busy(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            hits.append(self.path)
            self.send_response(429)
            self.send_header("Retry-After", "120")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Busy)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    agent = machine(enrolled)
    agent.server.http.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        assert agent.heartbeat() is False
        assert 115 < agent.wait_until - __import__("time").time() <= 120
        assert agent.heartbeat() is False and len(hits) == 1  # it waited: no second call
    finally:
        server.shutdown()
        server.server_close()
        agent.close()


def test_a_revoked_agent_gets_401(cast, enrolled, capsys):
    agents.revoke_agent(cast.partner, Agent.objects.get(), source=Source.CLI)
    assert cli.main(["--config", str(enrolled), "once"]) == 2
    assert "enrol it again" in capsys.readouterr().err
    agent = machine(enrolled)
    with pytest.raises(Unauthorized):
        agent.server.heartbeat("", 0, 0)
    agent.close()


def test_a_script_check_runs_on_the_machine_and_its_run_is_kept_with_its_hash(
    cast, enrolled, capsys
):
    from thirdway.monitoring import scripts
    from thirdway.monitoring.models import ScriptRun

    body = "echo 'WARNING - 3 backups late'\nexit 1\n"
    script = scripts.create_script(
        cast.admin, cast.security, name="Backups", interpreter="sh", body=body, source=Source.CLI
    )
    check = add_check(cast, name="Backups", kind="agent_script", script_id=script.pk)
    assert cli.main(["--config", str(enrolled), "once"]) == 0
    assert json.loads(capsys.readouterr().out)["delivered"] == 1
    run = ScriptRun.objects.get()
    assert run.sha256 == script.current.sha256 and run.version == script.current
    assert run.exit_code == 1 and run.check_obj == check and run.asked_by == cast.admin
    check.refresh_from_db()
    assert check.status == "warning" and check.last_output == "WARNING - 3 backups late"
    # The machine's own switch: nothing runs, and the server hears why.
    config = json.loads(enrolled.read_text())
    enrolled.write_text(json.dumps({**config, "refuse_scripts": True}))
    assert cli.main(["--config", str(enrolled), "once"]) == 0
    refused = ScriptRun.objects.order_by("-id").first()
    assert refused.exit_code is None and refused.output == "scripts refused on this machine"
    assert refused.status == "unknown"

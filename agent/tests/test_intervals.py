"""The agent runs each check at the interval the server sent for it, not at every cycle."""

from __future__ import annotations

import os
import secrets

import pytest
from thirdway_agent.agent import Agent
from thirdway_agent.checks import Runner
from thirdway_agent.config import Config


class Clock:
    """The agent's monotonic clock, moved by the test."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def backup(tmp_path):
    path = tmp_path / "backup.tar"
    path.write_bytes(b"x")
    return str(path)


def file_check(check_id: int, path: str, every: int | None) -> dict:
    check = {"id": check_id, "kind": "agent_file_age", "target": path, "duration_seconds": 0}
    if every is not None:
        check["interval_seconds"] = every
    return check


def test_a_check_runs_again_only_when_its_interval_is_up(clock, backup):
    runner = Runner(clock=clock)
    check = file_check(1, backup, 300)
    assert runner.due(check)
    runner.run(check)
    for seconds in (60, 120, 180, 240):
        clock.now = 1_000 + seconds
        assert not runner.due(check), seconds
    clock.now = 1_000 + 300
    assert runner.due(check)


def test_a_check_without_an_interval_runs_every_cycle(clock, backup):
    runner = Runner(clock=clock)
    check = file_check(1, backup, None)
    runner.run(check)
    clock.now += 1
    assert runner.due(check)


def test_the_agent_measures_each_check_at_its_own_interval(clock, backup, tmp_path):
    config = Config(
        server="http://127.0.0.1:9",
        agent_id=1,
        secret=secrets.token_hex(8),
        state_dir=str(tmp_path),
    )
    agent = Agent(config)
    agent.runner.clock = clock
    try:
        agent.buffer.put(
            "checks",
            [file_check(1, backup, 60), file_check(2, backup, 300), file_check(3, backup, 600)],
        )
        runs = {1: 0, 2: 0, 3: 0}
        for cycle in range(9):  # nine 60-second cycles: 0 to 480 s
            clock.now = 1_000 + cycle * 60
            before = agent.buffer.count()
            agent.measure()
            assert agent.buffer.count() >= before
        while (batch := agent.buffer.next_batch(100)) is not None:
            batch_id, results = batch
            for result in results:
                runs[result["check_id"]] += 1
            agent.buffer.acknowledged(batch_id)
        assert runs == {1: 9, 2: 2, 3: 1}
    finally:
        agent.close()


def test_a_metric_with_a_duration_keeps_sampling_between_its_runs(clock):
    runner = Runner(clock=clock)
    mount = os.path.abspath(os.sep)
    check = {
        "id": 7,
        "kind": "agent_metric",
        "metric": f"disk:{mount}",
        "duration_seconds": 600,
        "interval_seconds": 300,
    }
    runner.run(check)
    for _ in range(4):
        clock.now += 60
        assert not runner.due(check)
        runner.sample(check)
    assert len(runner.samples[7]) == 5
    clock.now += 60
    assert runner.due(check)
    assert runner.run(check)["value"] is not None


def test_a_run_asked_for_by_a_person_does_not_wait_for_the_interval(clock):
    runner = Runner(refuse_scripts=True, clock=clock)
    check = {"id": 9, "kind": "agent_script", "interval_seconds": 3600}
    runner.run(check)
    clock.now += 60
    assert not runner.due(check)
    check["run_requested_at"] = "2030-01-01T00:00:00+00:00"
    assert runner.due(check)

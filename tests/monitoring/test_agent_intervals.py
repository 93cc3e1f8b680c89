"""The server hands each agent check its interval (its retry interval while a problem is
rechecked), and the agent's cycle follows the shortest of them."""

from __future__ import annotations

from support.api import send
from thirdway.monitoring import evaluation, ingest
from thirdway.monitoring.engine import Status

from .test_agent_api import AGENT, as_agent, disk_check, enrol


def config(secret) -> dict:
    answer = send(as_agent(secret), "post", f"{AGENT}/heartbeat", {})
    assert answer.status_code == 200, answer.content
    return answer.json()["config"]


def test_every_agent_check_gets_its_interval_and_the_retry_one_while_soft(cast):
    agent, secret = enrol(cast)
    hourly = disk_check(cast, agent, name="Disk /", interval_seconds=3600)
    soft = disk_check(
        cast,
        agent,
        name="Disk /var",
        metric="disk:/var",
        interval_seconds=600,
        retry_interval_seconds=30,
        max_attempts=3,
    )
    given = {item["id"]: item["interval_seconds"] for item in config(secret)["checks"]}
    assert given == {hourly.pk: 3600, soft.pk: 600}
    assert config(secret)["interval_seconds"] == 60
    evaluation.record_result(soft.pk, Status.CRITICAL, output="95 %", value=95.0)
    soft.refresh_from_db()
    assert soft.state_type == "soft"
    ingest.forget_everything()
    body = config(secret)
    given = {item["id"]: item["interval_seconds"] for item in body["checks"]}
    assert given == {hourly.pk: 3600, soft.pk: 30}
    assert body["interval_seconds"] == 30

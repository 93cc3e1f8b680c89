"""The API of agents on client machines (``/api/v1/monitoring/agent/...``), and the staff's API
of enrolment tokens and agents.  The wire protocol is written down in docs/agent-protocol.md.

An agent authenticates with its own secret (``Authorization: Bearer twag_...``); an unknown,
revoked or expired secret is a 401 that says no more.  Every answer carries the server's time
(``server_time`` in the body, ``Thirdway-Server-Time`` in the headers) so the agent can show
its clock's skew: collection times are the agent's, but the server's clock wins.
"""

import datetime as dt
from typing import Annotated, Literal

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Field, Router, Schema, Status
from ninja.errors import AuthenticationError
from ninja.pagination import paginate
from ninja.security import HttpBearer

from thirdway.access import find_owned, find_visible
from thirdway.audit.models import Source
from thirdway.clients.models import Site
from thirdway.monitoring import agents, ingest
from thirdway.monitoring.access import monitored_clients
from thirdway.monitoring.models import Agent, AgentEnrolmentToken
from thirdway.payloads import Id, Moment, Page, Payload

# A results batch or an inventory over this many bytes is refused with a 413.
MAX_AGENT_BODY = 1024 * 1024
MAX_RESULTS = 1_000
SERVER_TIME_HEADER = "Thirdway-Server-Time"


class AgentUnauthorized(AuthenticationError):
    """No such agent, or no longer: answered as a bare 401."""


class AgentBodyTooLarge(RequestDataTooBig):
    limit = MAX_AGENT_BODY


class AgentSecret(HttpBearer):
    """``Authorization: Bearer twag_...``: the agent's own secret, given at enrolment."""

    openapi_scheme = "bearer"

    def authenticate(self, request: HttpRequest, token: str) -> Agent:
        agent = agents.agent_for(token.strip())
        if agent is None:
            raise AgentUnauthorized()
        if len(request.body) > MAX_AGENT_BODY:
            raise AgentBodyTooLarge()
        return agent

    def __call__(self, request: HttpRequest):
        found = super().__call__(request)
        if found is None:  # no Authorization header at all
            raise AgentUnauthorized()
        return found


agent_router = Router(auth=AgentSecret())
enrol_router = Router(auth=None)
router = Router()


def _stamped(response: HttpResponse) -> dt.datetime:
    now = timezone.now()
    response[SERVER_TIME_HEADER] = now.isoformat()
    return now


def _skew(sent_at: dt.datetime | None, now: dt.datetime) -> float | None:
    return (sent_at - now).total_seconds() if sent_at is not None else None


# --- what the agent sends and gets -------------------------------------------------------------

Text = Annotated[str, Field(max_length=255)]


class AgentScriptOut(Schema):
    script_id: int
    version_id: int
    version: int
    interpreter: str = Field(description="sh, bash or python3")
    timeout_seconds: int
    body: str
    sha256: str = Field(description="SHA-256 of the body (UTF-8): run nothing else.")


class AgentCheckOut(Schema):
    id: int
    kind: str = Field(
        description="agent_metric, agent_process, agent_file_age, agent_script, "
        "agent_ping, agent_tcp, agent_http or agent_updates"
    )
    metric: str = Field(description="Metric checks: cpu, memory or disk:/mount/point.")
    target: str = Field(
        description="Process checks: the process name; file age: the path; LAN ping and TCP: "
        "the device's host; LAN HTTP: the URL."
    )
    duration_seconds: int = Field(
        description="Report the least bad value seen over this long (0: the last value)."
    )
    script: AgentScriptOut | None = Field(None, description="Script checks: what to run.")
    port: int | None = Field(None, description="LAN TCP checks: the port to connect to.")
    expected_status: int | None = Field(None, description="LAN HTTP checks: the status wanted.")
    body_contains: str | None = Field(None, description="LAN HTTP checks: words of the body.")
    timeout_seconds: int | None = Field(None, description="LAN checks: seconds to wait, 1-60.")
    interval_seconds: int | None = Field(
        None,
        description="Run the check every this many seconds (its retry interval while the "
        "server rechecks a problem); never more often than the agent's cycle.",
    )
    run_requested_at: dt.datetime | None = Field(
        None,
        description="Script checks: a person asked for a run at this time; run it at once and "
        "send this value back with the run as script.requested_at.",
    )


class AgentConfigOut(Schema):
    interval_seconds: int
    etag: str
    checks: list[AgentCheckOut] | None = Field(
        description="The agent's checks; null when the etag it sent is still current."
    )


class AgentEnrolIn(Payload, extra="forbid"):
    token: str = Field(max_length=100, description="The enrolment token (twen_...).")
    hostname: str = Field(min_length=1, max_length=255)
    os_name: str = Field("", max_length=100)
    os_version: str = Field("", max_length=100)
    agent_version: str = Field("", max_length=40)


class AgentEnrolOut(Schema):
    agent_id: int
    client_id: int
    asset_id: int | None
    secret: str = Field(description="The agent's own secret: keep it, it is not shown again.")
    server_time: dt.datetime
    config: AgentConfigOut


@enrol_router.post("/monitoring/agent/enrol", response=AgentEnrolOut)
def agent_enrol(request: HttpRequest, payload: AgentEnrolIn, response: HttpResponse):
    """Trade an enrolment token (single use, expiring) for the agent's own secret.  An
    unknown, used, revoked or expired token is a 401 that says no more."""
    now = _stamped(response)
    made = agents.enrol(
        payload.token,
        hostname=payload.hostname,
        os_name=payload.os_name,
        os_version=payload.os_version,
        agent_version=payload.agent_version,
    )
    if made is None:
        raise AgentUnauthorized()
    agent, secret = made
    return AgentEnrolOut(
        agent_id=agent.pk,
        client_id=agent.client_id,
        asset_id=agent.asset_id,
        secret=secret,
        server_time=now,
        config=AgentConfigOut(**agents.config_of(agent)),
    )


class AgentHeartbeatIn(Payload, extra="forbid"):
    sent_at: Moment | None = Field(None, description="The agent's clock when it sent this.")
    etag: str = Field("", max_length=32, description="The etag of the config the agent has.")
    agent_version: str = Field("", max_length=40)
    buffered: int = Field(0, ge=0, le=2_000_000_000, description="Results waiting on disk.")
    dropped: int = Field(0, ge=0, le=2_000_000_000, description="Results dropped since enrolment.")


class AgentHeartbeatOut(Schema):
    server_time: dt.datetime
    skew_seconds: float | None = Field(description="The agent's clock minus the server's.")
    config: AgentConfigOut


class AgentBusyOut(Schema):
    """Too many check-ins at once (429): wait ``Retry-After`` seconds, keep buffering."""

    detail: str
    retry_after_seconds: int


def _busy(response: HttpResponse) -> Status:
    body, headers = ingest.busy_answer()
    for name, value in headers.items():
        response[name] = value
    return Status(429, AgentBusyOut(**body))


@agent_router.post(
    "/monitoring/agent/heartbeat", response={200: AgentHeartbeatOut, 429: AgentBusyOut}
)
def agent_heartbeat(request: HttpRequest, payload: AgentHeartbeatIn, response: HttpResponse):
    """I am alive; what should I run?  Cheap: last seen is coalesced and written in batches.
    A 429 (too many check-ins at once) carries ``Retry-After``."""
    if not ingest.gate.enter():
        return _busy(response)
    try:
        return _heartbeat(request, payload, response)
    finally:
        ingest.gate.leave()


def _heartbeat(request: HttpRequest, payload: AgentHeartbeatIn, response: HttpResponse):
    now = _stamped(response)
    skew = _skew(payload.sent_at, now)
    agents.seen(request.auth, now, skew, (payload.buffered, payload.dropped))
    config = agents.config_of(request.auth)
    if payload.etag and payload.etag == config["etag"]:
        config["checks"] = None
    return AgentHeartbeatOut(server_time=now, skew_seconds=skew, config=AgentConfigOut(**config))


class AgentScriptRunIn(Payload, extra="forbid"):
    version_id: Id | None = Field(None, description="The script version the server sent.")
    sha256: str = Field("", max_length=64, pattern=r"^[0-9a-f]*$")
    exit_code: int | None = Field(None, ge=-1_000, le=1_000)
    duration_ms: int = Field(0, ge=0, le=3_600_000)
    output: str = Field("", max_length=4_000)
    requested_at: Moment | None = Field(
        None, description="The run_requested_at this run answers (a run asked for by a person)."
    )


class AgentResultIn(Payload, extra="forbid"):
    check_id: Id
    collected_at: Moment = Field(description="When the agent measured it (its clock).")
    value: float | None = Field(None, ge=-1e12, le=1e12)
    status: Literal["ok", "warning", "critical", "unknown"] | None = Field(
        None, description="Only without a value: what the agent saw (a missing file: critical)."
    )
    output: str = Field("", max_length=500)
    script: AgentScriptRunIn | None = Field(
        None, description="Script checks: what ran (version, hash) and what came of it."
    )
    security_packages: list[Annotated[str, Field(max_length=200)]] | None = Field(
        None,
        max_length=500,
        description="Updates checks, where the system tells: the names of the pending security "
        "updates (the server dates each from its first report and reports the oldest's age).",
    )


class AgentResultsIn(Payload, extra="forbid"):
    batch_id: str = Field(
        min_length=8,
        max_length=64,
        pattern=r"^[A-Za-z0-9_.:-]+$",
        description="The agent's id for this batch: sent again, it is stored once.",
    )
    sent_at: Moment | None = None
    results: list[AgentResultIn] = Field(max_length=MAX_RESULTS)


class AgentRefusalOut(Schema):
    index: int
    check_id: int
    problem: str


class AgentResultsOut(Schema):
    batch_id: str
    accepted: int
    duplicate: bool = Field(description="True: this batch had been received before.")
    refused: list[AgentRefusalOut]
    server_time: dt.datetime


@agent_router.post("/monitoring/agent/results", response={200: AgentResultsOut, 429: AgentBusyOut})
def agent_results(request: HttpRequest, payload: AgentResultsIn, response: HttpResponse):
    """A batch of results, acknowledged only once committed.  A result for a check that is
    not this agent's is refused (listed), the others kept.  A 429 (too many check-ins at once)
    carries ``Retry-After``: nothing was stored, send the same batch later."""
    if not ingest.gate.enter():
        return _busy(response)
    try:
        return _results(request, payload, response)
    finally:
        ingest.gate.leave()


def _results(request: HttpRequest, payload: AgentResultsIn, response: HttpResponse):
    now = _stamped(response)
    results = [result.model_dump() for result in payload.results]
    batch, duplicate = agents.receive_results(request.auth, payload.batch_id, results)
    refused = [AgentRefusalOut(**item) for item in batch.refused]
    return AgentResultsOut(
        batch_id=batch.batch_id,
        accepted=batch.accepted,
        duplicate=duplicate,
        refused=refused,
        server_time=now,
    )


class AgentDiskIn(Payload):
    mount: Text
    device: Text = ""
    fstype: str = Field("", max_length=40)
    total_bytes: int = Field(0, ge=0, le=10**18)


class AgentInterfaceIn(Payload):
    name: str = Field(max_length=64)
    mac: str = Field("", max_length=64)
    addresses: list[Annotated[str, Field(max_length=64)]] = Field(
        default_factory=list, max_length=32
    )


class AgentInventoryIn(Payload, extra="forbid"):
    hostname: Text
    os_name: str = Field("", max_length=100)
    os_version: str = Field("", max_length=100)
    kernel: str = Field("", max_length=100)
    serial: str = Field("", max_length=100)
    cpu_model: str = Field("", max_length=200)
    cpu_count: int = Field(0, ge=0, le=100_000)
    memory_bytes: int = Field(0, ge=0, le=10**18)
    disks: list[AgentDiskIn] = Field(default_factory=list, max_length=256)
    interfaces: list[AgentInterfaceIn] = Field(default_factory=list, max_length=256)
    boot_time: Moment | None = None
    users: list[Annotated[str, Field(max_length=64)]] = Field(default_factory=list, max_length=256)
    packages: list[Annotated[str, Field(max_length=200)]] | None = Field(
        None,
        max_length=5_000,
        description='Installed packages as "name version" (at most 5,000); null: not read.',
    )


class AgentInventoryOut(Schema):
    changed: list[str] = Field(description="The fields that changed since the last inventory.")
    server_time: dt.datetime


@agent_router.post("/monitoring/agent/inventory", response=AgentInventoryOut)
def agent_inventory(request: HttpRequest, payload: AgentInventoryIn, response: HttpResponse):
    """What the machine is: kept on the client's asset, each change written down."""
    now = _stamped(response)
    changes = agents.record_inventory(request.auth, payload.model_dump(mode="json"))
    return AgentInventoryOut(changed=[change.field for change in changes], server_time=now)


# --- the staff's side: enrolment tokens and agents ---------------------------------------------


class AgentTokenOut(Schema):
    id: int
    client_id: int
    site_id: int | None
    note: str
    prefix: str
    expires_at: dt.datetime
    used_at: dt.datetime | None
    revoked_at: dt.datetime | None
    created_at: dt.datetime


class AgentTokenMadeOut(AgentTokenOut):
    secret: str = Field(description="Shown once: give it to the machine's `thirdway-agent enrol`.")


class AgentTokenIn(Payload, extra="forbid"):
    client: Id
    site: Id | None = None
    hours: int = Field(24, ge=1, le=agents.MAX_TOKEN_HOURS, description="How long it may be used.")
    note: str = Field("", max_length=100)


@router.get("/monitoring/agent-tokens", response=list[AgentTokenOut])
@paginate(Page)
def list_agent_tokens(request: HttpRequest, client: Id | None = None):
    tokens = AgentEnrolmentToken.objects.for_user(request.auth)
    return tokens.filter(client_id=client) if client is not None else tokens


@router.post("/monitoring/agent-tokens", response={201: AgentTokenMadeOut})
def issue_agent_token(request: HttpRequest, payload: AgentTokenIn):
    client = find_visible(monitored_clients(request.auth), "client", payload.client)
    site = find_owned(Site.objects.all(), client, "site", payload.site) if payload.site else None
    token, secret = agents.issue_enrolment_token(
        request.auth, client, site=site, hours=payload.hours, note=payload.note, source=Source.API
    )
    made = AgentTokenOut.from_orm(token).model_dump()
    return Status(201, AgentTokenMadeOut(**made, secret=secret))


@router.delete("/monitoring/agent-tokens/{token_id}", response=AgentTokenOut)
def revoke_agent_token(request: HttpRequest, token_id: int):
    token = get_object_or_404(AgentEnrolmentToken.objects.for_user(request.auth), pk=token_id)
    return agents.revoke_enrolment_token(request.auth, token, source=Source.API)


class AgentOut(Schema):
    id: int
    client_id: int
    site_id: int | None
    asset_id: int | None
    hostname: str
    os_name: str
    os_version: str
    agent_version: str
    enrolled_at: dt.datetime
    last_seen_at: dt.datetime | None
    last_skew_seconds: float | None
    results_buffered: int
    results_dropped: int
    revoked_at: dt.datetime | None


@router.get("/monitoring/agents", response=list[AgentOut])
@paginate(Page)
def list_agents(request: HttpRequest, client: Id | None = None):
    found = Agent.objects.for_user(request.auth)
    return found.filter(client_id=client) if client is not None else found


@router.get("/monitoring/agents/{agent_id}", response=AgentOut)
def get_agent(request: HttpRequest, agent_id: int):
    return get_object_or_404(Agent.objects.for_user(request.auth), pk=agent_id)


@router.delete("/monitoring/agents/{agent_id}", response=AgentOut)
def revoke_agent(request: HttpRequest, agent_id: int):
    """The agent's secret stops working at once (its checks and history stay)."""
    agent = get_object_or_404(
        Agent.objects.for_user(request.auth).select_related("client"), pk=agent_id
    )
    return agents.revoke_agent(request.auth, agent, source=Source.API)

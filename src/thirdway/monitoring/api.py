"""API of monitoring: checks and their results, alerts, maintenance windows, and the ping URLs
of heartbeat checks (which need no token: the secret is in the URL)."""

import datetime as dt
from typing import Annotated, Literal

from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from ninja import Field, Path, Router, Schema, Status
from ninja.pagination import paginate

from thirdway.access import find_visible
from thirdway.audit.models import Source
from thirdway.monitoring import evaluation, intake, services
from thirdway.monitoring.access import monitored_clients
from thirdway.monitoring.models import (
    Alert,
    Check,
    CheckResult,
    IntakeToken,
    MaintenanceWindow,
)
from thirdway.payloads import Id, Moment, Page, Payload, kept

router = Router()
ping_router = Router(auth=None)

# The Alertmanager intake checks its own token (a client's, not a person's), after the body
# is read: a malformed body is a 400 naming the field whoever sends it.
intake_router = Router(auth=None)

KindName = Literal[
    "http",
    "tcp",
    "tls",
    "dns",
    "heartbeat",
    "agent_metric",
    "agent_process",
    "agent_file_age",
    "agent_script",
    "agent_ping",
    "agent_tcp",
    "agent_http",
    "agent_updates",
]
AlertStatusName = Literal["open", "resolved"]
RecordTypeName = Literal["A", "AAAA", "CNAME", "MX", "TXT", "NS"]
WindowKindName = Literal["one_off", "weekly"]
# The most of a ping's body kept (a job's last lines of output).
MAX_PING_BODY = 10_000
SECONDS = {"ge": 1, "le": 366 * 86_400}
THRESHOLD = {"ge": -1_000_000, "le": 1_000_000}


# --- checks ------------------------------------------------------------------------------------


class CheckOut(Schema):
    id: int
    client_id: int
    site_id: int | None
    asset_id: int | None
    name: str
    kind: str
    agent_id: int | None
    script_id: int | None
    metric: str
    duration_seconds: int
    security_age_days: int | None
    pending_security: dict[str, dt.datetime] = Field(
        description="Updates checks: each pending security update, when first reported."
    )
    target: str
    port: int | None
    expected_status: int
    body_contains: str
    record_type: str
    expected_answer: str
    resolver: str
    warning_threshold: float | None
    critical_threshold: float | None
    warning_recovery: float | None
    critical_recovery: float | None
    period_seconds: int
    cron_expression: str
    grace_seconds: int
    interval_seconds: int
    retry_interval_seconds: int
    max_attempts: int
    timeout_seconds: int
    parent_id: int | None
    dependency_delay_seconds: int
    allow_private_target: bool
    is_paused: bool
    alert_priority: int | None
    alert_category: str
    opens_tickets: bool
    status: str
    state_type: str
    flapping: bool
    suppressed: str
    status_since: dt.datetime | None
    last_result_at: dt.datetime | None
    last_output: str
    ping_path: str | None = Field(None, description="Heartbeat checks: the path to ping.")

    @staticmethod
    def resolve_ping_path(obj: Check) -> str | None:
        return f"/api/v1/monitoring/ping/{obj.ping_token}/" if obj.ping_token else None


class CheckIn(Payload, extra="forbid"):
    client: Id
    name: str = Field(max_length=150)
    kind: KindName
    agent: Id | None = Field(None, description="Agent checks: the agent that runs it.")
    script: Id | None = Field(None, description="Agent script checks: the library's script.")
    metric: str = Field("", max_length=100, description="cpu, memory or disk:/mount/point")
    duration_seconds: int = Field(0, ge=0, le=86_400)
    security_age_days: int | None = Field(
        None, ge=1, le=365, description="Updates checks: critical past this age (days)."
    )
    site: Id | None = None
    asset: Id | None = None
    target: str = Field("", max_length=500)
    port: int | None = Field(None, ge=1, le=65535)
    expected_status: int = Field(200, ge=100, le=599)
    body_contains: str = Field("", max_length=200)
    record_type: RecordTypeName = Field("A", description="DNS checks: the record type asked.")
    expected_answer: str = Field(
        "", max_length=255, description="DNS checks: a value one answer must equal (blank: any)."
    )
    resolver: str = Field(
        "", max_length=45, description="DNS checks: the resolver's IP address (blank: system's)."
    )
    warning_threshold: float | None = Field(None, **THRESHOLD)
    critical_threshold: float | None = Field(None, **THRESHOLD)
    warning_recovery: float | None = Field(None, **THRESHOLD)
    critical_recovery: float | None = Field(None, **THRESHOLD)
    period_seconds: int = Field(86_400, ge=60, le=366 * 86_400)
    cron_expression: str = Field(
        "",
        max_length=100,
        description="Heartbeats: a cron expression (five fields, the client's time zone) "
        "instead of the period; blank: the period.",
    )
    grace_seconds: int = Field(3_600, ge=60, le=30 * 86_400)
    interval_seconds: int = Field(300, ge=30, le=86_400)
    retry_interval_seconds: int = Field(60, ge=10, le=86_400)
    max_attempts: int = Field(3, ge=1, le=10)
    timeout_seconds: int = Field(10, ge=1, le=60)
    parent: Id | None = None
    dependency_delay_seconds: int = Field(120, ge=0, le=3_600)
    allow_private_target: bool = False
    is_paused: bool = False
    alert_priority: int | None = Field(None, ge=1, le=4)
    alert_category: str = Field("", max_length=100)
    opens_tickets: bool = True


class CheckPatch(Payload, extra="forbid"):
    name: str = kept(max_length=150)
    metric: str = kept(max_length=100)
    duration_seconds: int = kept(ge=0, le=86_400)
    security_age_days: int | None = Field(None, ge=1, le=365)
    site: Id | None = None
    asset: Id | None = None
    target: str = kept(max_length=500)
    port: int | None = Field(None, ge=1, le=65535)
    expected_status: int = kept(ge=100, le=599)
    body_contains: str = kept(max_length=200)
    record_type: RecordTypeName = kept()
    expected_answer: str = kept(max_length=255)
    resolver: str = kept(max_length=45)
    warning_threshold: float | None = Field(None, **THRESHOLD)
    critical_threshold: float | None = Field(None, **THRESHOLD)
    warning_recovery: float | None = Field(None, **THRESHOLD)
    critical_recovery: float | None = Field(None, **THRESHOLD)
    period_seconds: int = kept(ge=60, le=366 * 86_400)
    cron_expression: str = kept(max_length=100)
    grace_seconds: int = kept(ge=60, le=30 * 86_400)
    interval_seconds: int = kept(ge=30, le=86_400)
    retry_interval_seconds: int = kept(ge=10, le=86_400)
    max_attempts: int = kept(ge=1, le=10)
    timeout_seconds: int = kept(ge=1, le=60)
    parent: Id | None = None
    dependency_delay_seconds: int = kept(ge=0, le=3_600)
    allow_private_target: bool = kept()
    is_paused: bool = kept()
    alert_priority: int | None = Field(None, ge=1, le=4)
    alert_category: str = kept(max_length=100)
    opens_tickets: bool = kept()


def _ids(data: dict, *fields: str) -> dict:
    for field in fields:
        if field in data:
            data[f"{field}_id"] = data.pop(field)
    return data


def _checks(request: HttpRequest):
    return Check.objects.for_user(request.auth).select_related("client")


@router.get("/monitoring/checks", response=list[CheckOut])
@paginate(Page)
def list_checks(
    request: HttpRequest,
    client: Id | None = None,
    status: Literal["pending", "ok", "warning", "critical", "unknown"] | None = None,
):
    checks = _checks(request)
    if client is not None:
        checks = checks.filter(client_id=client)
    return checks.filter(status=status) if status else checks


@router.get("/monitoring/checks/{check_id}", response=CheckOut)
def get_check(request: HttpRequest, check_id: int):
    return get_object_or_404(_checks(request), pk=check_id)


@router.post("/monitoring/checks", response={201: CheckOut})
def create_check(request: HttpRequest, payload: CheckIn):
    data = _ids(payload.model_dump(), "site", "asset", "parent", "agent", "script")
    if data["kind"].startswith("agent_") and "interval_seconds" not in payload.model_fields_set:
        del data["interval_seconds"]  # agent checks run every minute unless told otherwise
    client = find_visible(monitored_clients(request.auth), "client", data.pop("client"))
    return Status(201, services.create_check(request.auth, client, source=Source.API, **data))


@router.patch("/monitoring/checks/{check_id}", response=CheckOut)
def update_check(request: HttpRequest, check_id: int, payload: CheckPatch):
    check = get_object_or_404(_checks(request), pk=check_id)
    data = _ids(payload.model_dump(exclude_unset=True), "site", "asset", "parent")
    return services.update_check(request.auth, check, data, source=Source.API)


@router.delete("/monitoring/checks/{check_id}", response={204: None})
def delete_check(request: HttpRequest, check_id: int):
    check = get_object_or_404(_checks(request), pk=check_id)
    services.delete_check(request.auth, check, source=Source.API)
    return Status(204, None)


class MonitoringRunNowOut(Schema):
    check_id: int
    run_requested_at: dt.datetime
    run_requested_by_id: int

    @staticmethod
    def resolve_check_id(obj: Check) -> int:
        return obj.pk


@router.post("/monitoring/checks/{check_id}/run-now", response={202: MonitoringRunNowOut})
def run_check_now(request: HttpRequest, check_id: int):
    """Script checks: the agent runs the script at its next check-in; the run is kept as asked
    by the caller (practice admins and the desk)."""
    from thirdway.monitoring.scripts import request_run

    check = get_object_or_404(_checks(request), pk=check_id)
    return Status(202, request_run(request.auth, check, source=Source.API))


class CheckResultOut(Schema):
    collected_at: dt.datetime
    received_at: dt.datetime
    status: str
    value: float | None
    output: str


@router.get("/monitoring/checks/{check_id}/results", response=list[CheckResultOut])
@paginate(Page)
def list_results(request: HttpRequest, check_id: int):
    check = get_object_or_404(_checks(request), pk=check_id)
    return CheckResult.objects.filter(check_obj=check)


# --- alerts ------------------------------------------------------------------------------------


class AlertOut(Schema):
    id: int
    check_id: int
    client_id: int
    status: str
    severity: str
    summary: str
    opened_at: dt.datetime
    last_seen_at: dt.datetime
    resolved_at: dt.datetime | None
    repeats: int
    ticket_number: str | None
    incident_id: int | None = Field(None, description="Its incident (alerts on one ticket).")

    @staticmethod
    def resolve_check_id(obj: Alert) -> int:
        return obj.check_obj_id

    @staticmethod
    def resolve_ticket_number(obj: Alert) -> str | None:
        return obj.ticket.number if obj.ticket_id else None


def _alerts(request: HttpRequest):
    return Alert.objects.for_user(request.auth).select_related("ticket")


@router.get("/monitoring/alerts", response=list[AlertOut])
@paginate(Page)
def list_alerts(
    request: HttpRequest,
    client: Id | None = None,
    check: Id | None = None,
    status: AlertStatusName | None = None,
):
    alerts = _alerts(request)
    if client is not None:
        alerts = alerts.filter(client_id=client)
    if check is not None:
        alerts = alerts.filter(check_obj_id=check)
    return alerts.filter(status=status) if status else alerts


@router.get("/monitoring/alerts/{alert_id}", response=AlertOut)
def get_alert(request: HttpRequest, alert_id: int):
    return get_object_or_404(_alerts(request), pk=alert_id)


# --- maintenance windows -----------------------------------------------------------------------


class WindowOut(Schema):
    id: int
    client_id: int
    site_id: int | None
    asset_id: int | None
    tag: str
    name: str
    kind: str
    starts_at: dt.datetime | None
    ends_at: dt.datetime | None
    weekdays: list[int]
    start_time: dt.time | None
    duration_minutes: int | None
    time_zone: str


class WindowIn(Payload, extra="forbid"):
    client: Id
    name: str = Field(max_length=150)
    kind: WindowKindName
    site: Id | None = None
    asset: Id | None = None
    tag: str = Field("", max_length=40, description="Every asset with this tag (blank: none).")
    starts_at: Moment | None = None
    ends_at: Moment | None = None
    weekdays: list[int] = Field(default_factory=list, max_length=7)
    start_time: dt.time | None = None
    duration_minutes: int | None = Field(None, ge=1, le=7 * 24 * 60)
    time_zone: str = Field("", max_length=64)


class WindowPatch(Payload, extra="forbid"):
    # The times of the other kind are left as they are (and unused), never nulled.
    name: str = kept(max_length=150)
    kind: WindowKindName = kept()
    site: Id | None = None
    asset: Id | None = None
    tag: str = kept(max_length=40)
    starts_at: Moment = kept()
    ends_at: Moment = kept()
    weekdays: list[int] = kept(max_length=7)
    start_time: dt.time = kept()
    duration_minutes: int = kept(ge=1, le=7 * 24 * 60)
    time_zone: str = kept(max_length=64)


def _windows(request: HttpRequest):
    return MaintenanceWindow.objects.for_user(request.auth).select_related("client")


@router.get("/monitoring/windows", response=list[WindowOut])
@paginate(Page)
def list_windows(request: HttpRequest, client: Id | None = None):
    windows = _windows(request)
    return windows.filter(client_id=client) if client is not None else windows


@router.get("/monitoring/windows/{window_id}", response=WindowOut)
def get_window(request: HttpRequest, window_id: int):
    return get_object_or_404(_windows(request), pk=window_id)


@router.post("/monitoring/windows", response={201: WindowOut})
def create_window(request: HttpRequest, payload: WindowIn):
    data = _ids(payload.model_dump(), "site", "asset")
    client = find_visible(monitored_clients(request.auth), "client", data.pop("client"))
    return Status(201, services.create_window(request.auth, client, source=Source.API, **data))


@router.patch("/monitoring/windows/{window_id}", response=WindowOut)
def update_window(request: HttpRequest, window_id: int, payload: WindowPatch):
    window = get_object_or_404(_windows(request), pk=window_id)
    data = _ids(payload.model_dump(exclude_unset=True), "site", "asset")
    return services.update_window(request.auth, window, data, source=Source.API)


@router.delete("/monitoring/windows/{window_id}", response={204: None})
def delete_window(request: HttpRequest, window_id: int):
    window = get_object_or_404(_windows(request), pk=window_id)
    services.delete_window(request.auth, window, source=Source.API)
    return Status(204, None)


# --- pings (no token: the secret is the URL) ---------------------------------------------------

Token = Annotated[str, Path(max_length=64)]


class PingOut(Schema):
    ok: bool
    status: str


def _ping(request: HttpRequest, token: str, signal: str):
    body = request.body[:MAX_PING_BODY].decode("utf-8", "replace") if request.body else ""
    check = evaluation.ping(token, signal, body=body)
    if check is None:
        return get_object_or_404(Check.objects.none(), pk=0)
    return PingOut(ok=True, status=check.status)


@ping_router.api_operation(
    ["GET", "POST"], "/monitoring/ping/{token}/", response=PingOut, url_name="ping"
)
def ping_success(request: HttpRequest, token: Token):
    """The job finished well."""
    return _ping(request, token, "success")


@ping_router.api_operation(["GET", "POST"], "/monitoring/ping/{token}/start", response=PingOut)
def ping_start(request: HttpRequest, token: Token):
    """The job started: it must finish within the check's grace time."""
    return _ping(request, token, "start")


@ping_router.api_operation(["GET", "POST"], "/monitoring/ping/{token}/fail", response=PingOut)
def ping_fail(request: HttpRequest, token: Token):
    """The job failed."""
    return _ping(request, token, "fail")


# --- Alertmanager ------------------------------------------------------------------------------

MAX_ALERTS = 1_000
MAX_LABELS = 100
Label = Annotated[str, Field(max_length=1_000)]
LabelName = Annotated[str, Field(max_length=200)]


class AlertmanagerAlert(Payload):
    status: Literal["firing", "resolved"]
    labels: dict[LabelName, Label] = Field(default_factory=dict, max_length=MAX_LABELS)
    annotations: dict[LabelName, Annotated[str, Field(max_length=5_000)]] = Field(
        default_factory=dict, max_length=MAX_LABELS
    )
    startsAt: str = Field("", max_length=64)
    endsAt: str = Field("", max_length=64)
    generatorURL: str = Field("", max_length=2_000)
    fingerprint: str = Field("", max_length=64)


class AlertmanagerIn(Payload):
    """Alertmanager's webhook body (version 4); fields it may add later are ignored."""

    version: str = Field("4", max_length=10)
    groupKey: str = Field("", max_length=500)
    truncatedAlerts: int = Field(0, ge=0, le=1_000_000)
    status: Literal["firing", "resolved"] = "firing"
    receiver: str = Field("", max_length=200)
    groupLabels: dict[LabelName, Label] = Field(default_factory=dict, max_length=MAX_LABELS)
    commonLabels: dict[LabelName, Label] = Field(default_factory=dict, max_length=MAX_LABELS)
    commonAnnotations: dict[LabelName, Annotated[str, Field(max_length=5_000)]] = Field(
        default_factory=dict, max_length=MAX_LABELS
    )
    externalURL: str = Field("", max_length=2_000)
    alerts: list[AlertmanagerAlert] = Field(max_length=MAX_ALERTS)


class AlertmanagerOut(Schema):
    delivery: int
    outcome: str


INTAKE_CHALLENGE = 'Bearer realm="thirdway-alertmanager"'


@intake_router.post("/monitoring/alertmanager", response=AlertmanagerOut)
def alertmanager_webhook(request: HttpRequest, payload: AlertmanagerIn):
    """Point an Alertmanager ``webhook_configs`` receiver here, with the client's intake token
    (``Authorization: Bearer twam_...``, Alertmanager's ``http_config.authorization``).  A
    missing, wrong or revoked token is a 401."""
    scheme, _, secret = request.headers.get("authorization", "").partition(" ")
    token = intake.token_for(secret.strip()) if scheme.lower() == "bearer" else None
    if token is None:
        detail = {"detail": "Send the client's intake token: Authorization: Bearer twam_..."}
        refused = JsonResponse(detail, status=401)
        refused["WWW-Authenticate"] = INTAKE_CHALLENGE
        return refused
    delivery = intake.receive(token, payload.model_dump(mode="json"))
    return AlertmanagerOut(delivery=delivery.pk, outcome=delivery.outcome)


class TokenOut(Schema):
    id: int
    client_id: int
    name: str
    prefix: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


class TokenMadeOut(TokenOut):
    secret: str = Field(description="Shown once: keep it in Alertmanager's configuration.")


class TokenIn(Payload, extra="forbid"):
    client: Id
    name: str = Field(max_length=100)


@router.get("/monitoring/intake-tokens", response=list[TokenOut])
@paginate(Page)
def list_intake_tokens(request: HttpRequest, client: Id | None = None):
    tokens = IntakeToken.objects.for_user(request.auth)
    return tokens.filter(client_id=client) if client is not None else tokens


@router.post("/monitoring/intake-tokens", response={201: TokenMadeOut})
def issue_intake_token(request: HttpRequest, payload: TokenIn):
    client = find_visible(monitored_clients(request.auth), "client", payload.client)
    token, secret = intake.issue_token(request.auth, client, payload.name, source=Source.API)
    return Status(201, TokenMadeOut(**TokenOut.from_orm(token).model_dump(), secret=secret))


@router.delete("/monitoring/intake-tokens/{token_id}", response=TokenOut)
def revoke_intake_token(request: HttpRequest, token_id: int):
    token = get_object_or_404(IntakeToken.objects.for_user(request.auth), pk=token_id)
    return intake.revoke_token(request.auth, token, source=Source.API)

"""What the practice watches for its clients: checks, their results, alerts and maintenance.

A check belongs to a client (and optionally one of its sites and assets).  The server runs the
HTTP, TCP and TLS checks itself; a heartbeat ("dead-man") check waits for pings from the
client's own jobs.  The fields ``metric`` and the thresholds are shaped for checks an agent on
a client machine will report later (CPU, memory and disk with thresholds, scripts with Nagios
exit codes): they are stored and evaluated the same way.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from thirdway.monitoring.access import (
    AlertQuerySet,
    CheckEventQuerySet,
    CheckQuerySet,
    ClientOwnedQuerySet,
)


class CheckKind(models.TextChoices):
    HTTP = "http", "HTTP(S) status and body"
    TCP = "tcp", "TCP port"
    TLS = "tls", "TLS certificate expiry"
    DNS = "dns", "DNS answer"
    HEARTBEAT = "heartbeat", "Heartbeat (cron or backup job)"
    # Reported by an agent on a client machine (not run by the server).
    AGENT_METRIC = "agent_metric", "Agent metric (CPU, memory, disk)"
    AGENT_SCRIPT = "agent_script", "Agent script (Nagios exit codes)"
    AGENT_PROCESS = "agent_process", "Agent: process running"
    AGENT_FILE_AGE = "agent_file_age", "Agent: file age (a backup file)"
    # Devices on the client's network, reached from the agent's machine.
    AGENT_PING = "agent_ping", "Agent: ping a LAN device"
    AGENT_TCP = "agent_tcp", "Agent: TCP port of a LAN device"
    AGENT_HTTP = "agent_http", "Agent: HTTP(S) of a LAN device, with TLS expiry"
    AGENT_UPDATES = "agent_updates", "Agent: pending OS updates"
    # One alert of a Prometheus Alertmanager, made when it first arrives (see ``intake``).
    ALERTMANAGER = "alertmanager", "Alertmanager alert"


SERVER_KINDS = (CheckKind.HTTP, CheckKind.TCP, CheckKind.TLS, CheckKind.DNS)
# Run by an agent on a client machine and handed to it in its configuration.
AGENT_KINDS = (
    CheckKind.AGENT_METRIC,
    CheckKind.AGENT_PROCESS,
    CheckKind.AGENT_FILE_AGE,
    CheckKind.AGENT_SCRIPT,
    CheckKind.AGENT_PING,
    CheckKind.AGENT_TCP,
    CheckKind.AGENT_HTTP,
    CheckKind.AGENT_UPDATES,
)
# Agent checks of devices on the client's LAN (private addresses are their point).
LAN_KINDS = (CheckKind.AGENT_PING, CheckKind.AGENT_TCP, CheckKind.AGENT_HTTP)


class CheckStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    OK = "ok", "Up"
    WARNING = "warning", "Warning"
    CRITICAL = "critical", "Down"
    UNKNOWN = "unknown", "Unknown"


def new_ping_token() -> str:
    return secrets.token_urlsafe(24)


class Check(models.Model):
    """One thing watched, with how it turns results into alerts (see the engine)."""

    client = models.ForeignKey("clients.Client", on_delete=models.CASCADE, related_name="checks")
    site = models.ForeignKey(
        "clients.Site", null=True, blank=True, on_delete=models.SET_NULL, related_name="checks"
    )
    asset = models.ForeignKey(
        "clients.Asset", null=True, blank=True, on_delete=models.SET_NULL, related_name="checks"
    )
    name = models.CharField(max_length=150)
    kind = models.CharField(max_length=20, choices=CheckKind.choices)
    # HTTP: the URL; TCP and TLS: the host name or address.
    target = models.CharField(max_length=500, blank=True)
    port = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(65535)]
    )
    expected_status = models.PositiveSmallIntegerField(
        default=200, validators=[MinValueValidator(100), MaxValueValidator(599)]
    )
    body_contains = models.CharField(max_length=200, blank=True)
    # DNS checks: the record type asked for, the value expected (blank: any answer), and the
    # resolver's address (blank: the system's; its port is ``port``, 53 by default).
    record_type = models.CharField(max_length=5, default="A", blank=True)
    expected_answer = models.CharField(max_length=255, blank=True)
    resolver = models.CharField(max_length=45, blank=True)
    # Agent metric checks: what is measured ("cpu", "memory", "disk:/var").
    metric = models.CharField(max_length=100, blank=True)
    # Agent checks: the agent that runs it, and how long a value must stay past a threshold
    # (the agent reports the least bad value seen over that time).
    agent = models.ForeignKey(
        "monitoring.Agent", null=True, blank=True, on_delete=models.CASCADE, related_name="checks"
    )
    duration_seconds = models.PositiveIntegerField(
        default=0, validators=[MaxValueValidator(86_400)]
    )
    # Thresholds of a measured value (TLS: days left; agent metrics: percent) with recovery
    # edges: a state ends only past its recovery threshold (hysteresis).
    warning_threshold = models.FloatField(null=True, blank=True)
    critical_threshold = models.FloatField(null=True, blank=True)
    warning_recovery = models.FloatField(null=True, blank=True)
    critical_recovery = models.FloatField(null=True, blank=True)
    # Heartbeat checks: the secret of the ping URLs, and the expected rhythm.
    ping_token = models.CharField(max_length=64, unique=True, null=True, blank=True)
    period_seconds = models.PositiveIntegerField(
        default=86_400, validators=[MinValueValidator(60), MaxValueValidator(366 * 86_400)]
    )
    # A cron expression (five fields, the client's time zone) instead of the period.
    cron_expression = models.CharField(max_length=100, blank=True)
    grace_seconds = models.PositiveIntegerField(
        default=3_600, validators=[MinValueValidator(60), MaxValueValidator(30 * 86_400)]
    )
    # How often, how patiently, how long.
    interval_seconds = models.PositiveIntegerField(
        default=300, validators=[MinValueValidator(30), MaxValueValidator(86_400)]
    )
    retry_interval_seconds = models.PositiveIntegerField(
        default=60, validators=[MinValueValidator(10), MaxValueValidator(86_400)]
    )
    max_attempts = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1), MaxValueValidator(10)]
    )
    timeout_seconds = models.PositiveSmallIntegerField(
        default=10, validators=[MinValueValidator(1), MaxValueValidator(60)]
    )
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="children",
        help_text="A check this one depends on (the site's router, say).",
    )
    dependency_delay_seconds = models.PositiveIntegerField(
        default=120, validators=[MaxValueValidator(3_600)]
    )
    # Alertmanager alerts: a digest of their group key and fingerprint, one check each.
    external_key = models.CharField(max_length=64, blank=True, editable=False)
    # Only a practice admin may let a check reach a private or loopback address.
    allow_private_target = models.BooleanField(default=False)
    is_paused = models.BooleanField(default=False)
    # The alert rule of this check (blank: the client's defaults).
    alert_priority = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(4)]
    )
    alert_category = models.CharField(max_length=100, blank=True)
    opens_tickets = models.BooleanField(default=True)
    # Agent script checks: the script of the library run (its current version).
    script = models.ForeignKey(
        "monitoring.Script",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="checks",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Pending updates checks: critical when the oldest pending security update has waited
    # longer than this (days; blank: no limit), and when each one was first reported pending.
    security_age_days = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(365)]
    )
    pending_security = models.JSONField(default=dict, blank=True, editable=False)
    # Script checks: a run asked for by a person ("run now"), until the agent reports it.
    run_requested_at = models.DateTimeField(null=True, blank=True)
    run_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    # Where the check stands (written by the services from the engine's state).
    state = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=10, choices=CheckStatus.choices, default=CheckStatus.PENDING
    )
    state_type = models.CharField(max_length=4, default="hard")
    flapping = models.BooleanField(default=False)
    suppressed = models.CharField(max_length=200, blank=True)
    status_since = models.DateTimeField(null=True, blank=True)
    last_result_at = models.DateTimeField(null=True, blank=True)
    last_output = models.CharField(max_length=500, blank=True)
    next_run_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_ping_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    late_at = models.DateTimeField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CheckQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["client", "status"], name="check_client_status")]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "external_key"],
                condition=~Q(external_key=""),
                name="one_check_per_external_alert",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_problem(self) -> bool:
        return self.status in (CheckStatus.WARNING, CheckStatus.CRITICAL, CheckStatus.UNKNOWN)


class CheckResult(models.Model):
    """One result, kept as it came: evaluated at ``collected_at``, not when it arrived.

    An agent's result is stored *pending* (committed before the agent is answered) and
    evaluated afterwards by the task worker (``monitoring.pending_results``); until then its
    status is what the agent said (unknown for a bare value) and ``reported`` keeps what the
    evaluation still needs of the agent's report."""

    check_obj = models.ForeignKey(
        Check, on_delete=models.CASCADE, related_name="results", db_column="check_id"
    )
    collected_at = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=10, choices=CheckStatus.choices)
    value = models.FloatField(null=True, blank=True)
    output = models.CharField(max_length=500, blank=True)
    # Stored, not yet run through the alert engine (an agent's result, evaluated by the worker).
    pending = models.BooleanField(default=False)
    # What the evaluation needs beyond the columns above (the agent's own status, a script
    # run, security updates, the reporting agent); none once evaluated.
    reported = models.JSONField(null=True, blank=True)
    # Evaluations of a pending result that raised, and the last one's error; a result whose
    # last attempt failed is set aside: no longer pending, with its error (``failed``).
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-collected_at", "-id"]
        indexes = [
            models.Index(fields=["check_obj", "-collected_at"], name="result_check_time"),
            models.Index(
                fields=["check_obj", "collected_at", "id"],
                condition=Q(pending=True),
                name="result_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.status} at {self.collected_at:%Y-%m-%d %H:%M}"

    @property
    def failed(self) -> bool:
        """Set aside: its evaluation raised at every attempt."""
        return not self.pending and bool(self.error)


class AlertStatus(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"


class Incident(models.Model):
    """Alerts of one client grouped on one ticket (as Alertmanager groups its alerts): the
    alerts of the same group key opening within the group window of the first share its
    ticket; it resolves when every one of them has recovered.  With no grouping, each alert
    is an incident of its own."""

    client = models.ForeignKey("clients.Client", on_delete=models.CASCADE, related_name="+")
    group_key = models.CharField(max_length=100)
    status = models.CharField(max_length=10, choices=AlertStatus.choices, default="open")
    opened_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # When the ticket of an incident waiting out the rule's group wait is opened (by the sweep).
    ticket_due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # Reminders on the ticket while it stays open (the rule's repeat interval; none when 0).
    next_reminder_at = models.DateTimeField(null=True, blank=True, db_index=True)
    reminders = models.PositiveIntegerField(default=0)

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at", "-id"]
        indexes = [
            models.Index(fields=["client", "group_key", "status"], name="incident_group_open")
        ]

    def __str__(self) -> str:
        return f"Incident {self.pk} ({self.group_key})"


class Alert(models.Model):
    """A check's hard problem, from when it was alerted to when it recovered: one open alert
    per check, its repeats counted, its ticket noted on."""

    check_obj = models.ForeignKey(
        Check, on_delete=models.CASCADE, related_name="alerts", db_column="check_id"
    )
    client = models.ForeignKey("clients.Client", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=10, choices=AlertStatus.choices, default="open")
    severity = models.CharField(max_length=10, choices=CheckStatus.choices)
    summary = models.CharField(max_length=500)
    opened_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    repeats = models.PositiveIntegerField(default=0)
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    incident = models.ForeignKey(
        Incident, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts"
    )

    objects = AlertQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["check_obj"], condition=Q(status="open"), name="one_open_alert_per_check"
            )
        ]

    def __str__(self) -> str:
        return f"{self.check_obj} ({self.severity})"


class EventKind(models.TextChoices):
    RESULT = "result", "Status change"
    OPEN = "open", "Alert opened"
    UPDATE = "update", "Alert updated"
    RECOVER = "recover", "Recovered"
    NOTE = "note", "Note"
    SUPPRESS = "suppress", "Alert held back"
    PING = "ping", "Ping"
    CHANGE = "change", "Check changed"


class CheckEvent(models.Model):
    """The timeline of a check: status changes, alerts, what was held back and why."""

    check_obj = models.ForeignKey(
        Check, on_delete=models.CASCADE, related_name="events", db_column="check_id"
    )
    alert = models.ForeignKey(Alert, null=True, blank=True, on_delete=models.SET_NULL)
    at = models.DateTimeField()
    kind = models.CharField(max_length=10, choices=EventKind.choices)
    status = models.CharField(max_length=10, choices=CheckStatus.choices, blank=True)
    text = models.CharField(max_length=500)

    objects = CheckEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["check_obj", "-at"], name="event_check_time")]

    def __str__(self) -> str:
        return self.text


class GroupBy(models.TextChoices):
    NONE = "none", "No grouping: a ticket per alert"
    CLIENT = "client", "The client: all its alerts"
    SITE = "site", "Site"
    KIND = "kind", "Kind of check"
    TAG = "tag", "Asset tag (named below)"


class AlertRule(models.Model):
    """A client's defaults for the tickets its alerts open (a check may override them), and
    how its alerts are grouped into incidents and reminded of."""

    client = models.OneToOneField(
        "clients.Client", on_delete=models.CASCADE, related_name="alert_rule"
    )
    priority = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1), MaxValueValidator(4)]
    )
    category = models.CharField(max_length=100, blank=True, default="Monitoring")
    practice = models.ForeignKey(
        "network.Practice", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    group_by = models.CharField(max_length=10, choices=GroupBy.choices, default=GroupBy.NONE)
    group_window_seconds = models.PositiveIntegerField(
        default=300, validators=[MinValueValidator(30), MaxValueValidator(86_400)]
    )
    # With group_by "tag": the tag whose assets' alerts are grouped (others are not).
    group_tag = models.CharField(max_length=40, blank=True, default="")
    # How long a new incident waits before it opens its ticket, so alerts arriving meanwhile
    # are in the first ticket (Alertmanager's group_wait); 0: at once.
    group_wait_seconds = models.PositiveIntegerField(default=0, validators=[MaxValueValidator(600)])
    # 0: no reminders; otherwise 15 minutes to 7 days.
    repeat_interval_seconds = models.PositiveIntegerField(
        default=0, validators=[MaxValueValidator(7 * 86_400)]
    )

    objects = ClientOwnedQuerySet.as_manager()

    def __str__(self) -> str:
        return f"Alert rule of {self.client}"


DAY_NAMES = {0: "Mon", 1: "Tue", 2: "Wed", 3: "Thu", 4: "Fri", 5: "Sat", 6: "Sun"}


class WindowKind(models.TextChoices):
    ONE_OFF = "one_off", "Once"
    WEEKLY = "weekly", "Every week"


TAG_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,39}$"
MAX_TAGS_PER_ASSET = 20


class AssetTag(models.Model):
    """A label monitoring puts on a client's asset ("backup", "core-switch"): a maintenance
    window may cover every asset with a tag."""

    client = models.ForeignKey("clients.Client", on_delete=models.CASCADE, related_name="+")
    asset = models.ForeignKey(
        "clients.Asset", on_delete=models.CASCADE, related_name="monitoring_tags"
    )
    name = models.CharField(max_length=40)

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["asset", "name"], name="one_tag_name_per_asset")
        ]
        indexes = [models.Index(fields=["client", "name"], name="asset_tag_client_name")]

    def __str__(self) -> str:
        return self.name


class MaintenanceWindow(models.Model):
    """A time when a client's checks (or one site's, one asset's, or those of the assets with
    a tag) open no alerts."""

    client = models.ForeignKey(
        "clients.Client", on_delete=models.CASCADE, related_name="maintenance_windows"
    )
    site = models.ForeignKey("clients.Site", null=True, blank=True, on_delete=models.CASCADE)
    asset = models.ForeignKey("clients.Asset", null=True, blank=True, on_delete=models.CASCADE)
    # Every asset of the client with this tag (see ``AssetTag``).
    tag = models.CharField(max_length=40, blank=True)
    name = models.CharField(max_length=150)
    kind = models.CharField(max_length=10, choices=WindowKind.choices)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    weekdays = models.JSONField(default=list, blank=True)  # 0 = Monday
    start_time = models.TimeField(null=True, blank=True)
    duration_minutes = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(7 * 24 * 60)]
    )
    time_zone = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def weekday_names(self) -> str:
        return ", ".join(DAY_NAMES[day] for day in self.weekdays if day in DAY_NAMES)


class IntakeToken(models.Model):
    """A client's secret for Alertmanager webhooks: stored as a SHA-256 digest, shown once."""

    client = models.ForeignKey(
        "clients.Client", on_delete=models.CASCADE, related_name="intake_tokens"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12)
    digest = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class IntakeDelivery(models.Model):
    """A webhook body as it arrived, stored before it is processed (so it can be replayed)."""

    client = models.ForeignKey("clients.Client", on_delete=models.CASCADE, related_name="+")
    token = models.ForeignKey(IntakeToken, null=True, on_delete=models.SET_NULL)
    received_at = models.DateTimeField(auto_now_add=True)
    group_key = models.CharField(max_length=500, blank=True)
    body = models.JSONField()
    processed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=500, blank=True)

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"Delivery {self.pk} of {self.client_id}"


# The agents live in agent_models.py and the script library in script_models.py; their
# models belong to this app all the same.
from thirdway.monitoring.agent_models import (  # noqa: E402, F401
    Agent,
    AgentBatch,
    AgentEnrolmentToken,
    AssetChange,
)
from thirdway.monitoring.script_models import (  # noqa: E402, F401
    Interpreter,
    Script,
    ScriptRun,
    ScriptVersion,
)

"""Forms of checks, maintenance windows, alert rules and the alert list's filters; they shape
input, the services decide."""

from __future__ import annotations

from django import forms

from thirdway.clients.models import Client
from thirdway.monitoring.access import monitored_clients
from thirdway.monitoring.dns_check import RECORD_TYPES
from thirdway.monitoring.models import (
    AlertRule,
    AlertStatus,
    Check,
    CheckStatus,
    MaintenanceWindow,
    Script,
)
from thirdway.monitoring.services import CREATABLE

CHECK_FORM_FIELDS = [
    "name",
    "kind",
    "agent",
    "script",
    "metric",
    "duration_seconds",
    "security_age_days",
    "target",
    "port",
    "site",
    "asset",
    "expected_status",
    "body_contains",
    "record_type",
    "expected_answer",
    "resolver",
    "warning_threshold",
    "critical_threshold",
    "warning_recovery",
    "critical_recovery",
    "period_seconds",
    "cron_expression",
    "grace_seconds",
    "interval_seconds",
    "retry_interval_seconds",
    "max_attempts",
    "timeout_seconds",
    "parent",
    "dependency_delay_seconds",
    "alert_priority",
    "alert_category",
    "opens_tickets",
    "allow_private_target",
]
WEEKDAYS = [(0, "Mon"), (1, "Tue"), (2, "Wed"), (3, "Thu"), (4, "Fri"), (5, "Sat"), (6, "Sun")]


class ServiceValidated(forms.ModelForm):
    def _post_clean(self) -> None:
        """Model validation belongs to the service, which also checks ownership."""


FIELDSETS = [
    ("The check", ["name", "kind", "target", "port", "site", "asset"]),
    (
        "Agent (target: the process name, the file's path, or the LAN device's host or URL)",
        ["agent", "script", "metric", "duration_seconds", "security_age_days"],
    ),
    ("HTTP(S), server or LAN", ["expected_status", "body_contains"]),
    (
        "DNS (target: the name; port: the resolver's)",
        ["record_type", "expected_answer", "resolver"],
    ),
    (
        "Thresholds (TLS, LAN HTTPS: days left; agent: %, hours, ms or updates)",
        ["warning_threshold", "critical_threshold", "warning_recovery", "critical_recovery"],
    ),
    ("Heartbeat", ["period_seconds", "cron_expression", "grace_seconds"]),
    ("Schedule", ["interval_seconds", "retry_interval_seconds", "max_attempts", "timeout_seconds"]),
    ("Depends on", ["parent", "dependency_delay_seconds"]),
    ("Tickets", ["alert_priority", "alert_category", "opens_tickets", "allow_private_target"]),
]


class CheckForm(ServiceValidated):
    class Meta:
        model = Check
        fields = CHECK_FORM_FIELDS
        labels = {
            "target": "Target (URL, host name, process name or file path)",
            "metric": "Metric (cpu, memory, disk:/mount)",
            "duration_seconds": "Past the threshold for (s)",
            "body_contains": "Body must contain",
            "warning_threshold": "Warning at (TLS, LAN HTTPS: days left; agent: %, h or ms)",
            "critical_threshold": "Critical at (TLS, LAN HTTPS: days left; agent: %, h or ms)",
            "warning_recovery": "Warning ends past",
            "critical_recovery": "Critical ends past",
            "period_seconds": "Heartbeat period (s)",
            "grace_seconds": "Heartbeat grace (s)",
            "cron_expression": "or a cron schedule (client's time zone, e.g. 0 2 * * *)",
            "interval_seconds": "Interval (s)",
            "retry_interval_seconds": "Retry interval (s)",
            "max_attempts": "Attempts before alerting",
            "timeout_seconds": "Timeout (s; server 1-30, LAN 1-60)",
            "dependency_delay_seconds": "Wait for the parent (s)",
            "alert_priority": "Ticket priority (blank: client's)",
            "alert_category": "Ticket category (blank: client's)",
            "allow_private_target": "Allow a private or loopback target",
            "record_type": "Record type",
            "security_age_days": "Pending updates: oldest security update at most (days)",
            "expected_answer": "Expected value (blank: any answer)",
            "resolver": "Resolver address (blank: the server's)",
        }

    def __init__(self, *args, client: Client, may_allow_private: bool, user=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(k.value, k.label) for k in CREATABLE]
        self.fields["site"].queryset = client.sites.all()
        self.fields["asset"].queryset = client.assets.all()
        parents = Check.objects.filter(client=client)
        if self.instance.pk:
            parents = parents.exclude(pk=self.instance.pk)
            self.fields["kind"].disabled = True
        self.fields["parent"].queryset = parents
        self.fields["agent"].queryset = client.agents.filter(revoked_at__isnull=True)
        scripts = Script.objects.for_user(user) if user is not None else Script.objects.none()
        self.fields["script"].queryset = scripts.filter(current__isnull=False)
        self.fields["duration_seconds"].required = False  # only agent checks use it
        # Blank: the kind's own default (the service sets it), not 300 s for every kind.
        interval = self.fields["interval_seconds"]
        interval.required = False
        interval.help_text = (
            "30 to 86400; blank: the kind's default (server checks 300, agent checks 60, "
            "pending updates 3600)."
        )
        if not self.instance.pk:
            self.initial["interval_seconds"] = None
        types = [(name, name) for name in RECORD_TYPES]
        self.fields["record_type"] = forms.ChoiceField(
            choices=types, initial="A", required=False, label="Record type"
        )
        if not may_allow_private:
            del self.fields["allow_private_target"]

    def fieldsets(self):
        """The fields in groups, as the page shows them."""
        for legend, names in FIELDSETS:
            yield legend, [self[name] for name in names if name in self.fields]


class WindowForm(ServiceValidated):
    weekdays = forms.TypedMultipleChoiceField(
        choices=WEEKDAYS,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Days (weekly)",
    )

    class Meta:
        model = MaintenanceWindow
        fields = [
            "name",
            "kind",
            "site",
            "asset",
            "tag",
            "starts_at",
            "ends_at",
            "weekdays",
            "start_time",
            "duration_minutes",
            "time_zone",
        ]
        widgets = {
            "starts_at": forms.DateTimeInput(attrs={"type": "datetime-local"}),
            "ends_at": forms.DateTimeInput(attrs={"type": "datetime-local"}),
            "start_time": forms.TimeInput(attrs={"type": "time"}),
        }
        labels = {
            "starts_at": "Starts (once)",
            "ends_at": "Ends (once)",
            "weekdays": "Days (weekly)",
            "start_time": "Start time (weekly, local)",
            "duration_minutes": "Lasts (minutes, weekly)",
            "time_zone": "Time zone (weekly; blank: the client's)",
            "tag": "Or every asset with the tag",
        }
        help_texts = {"tag": "Set on the Asset tags page; a site, an asset or a tag, not more."}

    def __init__(self, *args, client: Client, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = client.sites.all()
        self.fields["asset"].queryset = client.assets.all()
        self.fields["kind"].initial = self.fields["kind"].initial or "one_off"
        self.fields["starts_at"].input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]
        self.fields["ends_at"].input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]


class AlertRuleForm(ServiceValidated):
    class Meta:
        model = AlertRule
        fields = [
            "priority",
            "category",
            "practice",
            "group_by",
            "group_tag",
            "group_window_seconds",
            "group_wait_seconds",
            "repeat_interval_seconds",
        ]
        labels = {
            "priority": "Ticket priority (1 highest)",
            "practice": "Practice",
            "group_by": "Group alerts by",
            "group_tag": "Tag (grouping by asset tag)",
            "group_window_seconds": "Group window (seconds)",
            "group_wait_seconds": "Wait before the first ticket (seconds)",
            "repeat_interval_seconds": "Remind every (seconds; 0: never)",
        }
        help_texts = {
            "group_by": "Alerts of one group opening within the window share one ticket.",
            "group_tag": "The alerts of the assets with this tag share a ticket; others do not.",
            "group_window_seconds": "30 to 86400, from the first alert of the incident.",
            "group_wait_seconds": "0 to 600: alerts of the group arriving meanwhile are in the "
            "first ticket.",
            "repeat_interval_seconds": "A note on a ticket still open: 0, or 900 to 604800.",
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["group_wait_seconds"].required = False  # blank: kept as it is


class AssetTagsForm(forms.Form):
    asset = forms.ModelChoiceField(queryset=None)
    tags = forms.CharField(
        max_length=1000,
        required=False,
        label="Tags",
        help_text="Separated by commas, e.g. backup, core-switch (empty: none).",
    )

    def __init__(self, *args, client: Client, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["asset"].queryset = client.assets.all()

    def tag_list(self) -> list[str]:
        return [part for part in self.cleaned_data["tags"].split(",") if part.strip()]


ROW_ID = {"min_value": 1, "max_value": 2_147_483_647}
SEVERITIES = [CheckStatus.CRITICAL, CheckStatus.WARNING, CheckStatus.UNKNOWN]


class AlertFilterForm(forms.Form):
    """The alert list's filters (all optional, all bounded); a client or check the person does
    not see is refused like one that does not exist."""

    client = forms.ModelChoiceField(
        queryset=None,
        required=False,
        empty_label="All clients",
        error_messages={"invalid_choice": "Choose one of the clients in the list."},
    )
    status = forms.ChoiceField(
        choices=[("", "Open or resolved"), *AlertStatus.choices],
        required=False,
        error_messages={"invalid_choice": "Choose open, resolved or nothing (both)."},
    )
    severity = forms.ChoiceField(
        choices=[("", "Any severity"), *((s.value, s.label) for s in SEVERITIES)],
        required=False,
        error_messages={"invalid_choice": "Choose critical, warning, unknown or nothing (any)."},
    )
    q = forms.CharField(required=False, max_length=100, label="Check name")
    check = forms.IntegerField(
        required=False,
        widget=forms.HiddenInput,
        error_messages={"invalid": "A check is given by its number."},
        **ROW_ID,
    )
    incident = forms.IntegerField(
        required=False,
        widget=forms.HiddenInput,
        error_messages={"invalid": "An incident is given by its number."},
        **ROW_ID,
    )

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["client"].queryset = monitored_clients(user).order_by("name")
        self.check_obj: Check | None = None

    def clean_check(self) -> int | None:
        number = self.cleaned_data["check"]
        if number is not None:
            self.check_obj = Check.objects.for_user(self.user).filter(pk=number).first()
            if self.check_obj is None:
                raise forms.ValidationError("There is no check of yours with this number.")
        return number

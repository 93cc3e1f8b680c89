"""Service levels as data: business calendars, SLA policies with targets per priority,
escalation steps, and which policy and calendar each client gets.

The arithmetic lives in the pure ``thirdway.sla.engine``; ``thirdway.sla.calendars`` turns these
rows into engine inputs.
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from thirdway.network.places import validate_time_zone
from thirdway.sla.access import CalendarQuerySet, PolicyQuerySet


class ClockKind(models.TextChoices):
    FIRST_RESPONSE = "first_response", "First response"
    NEXT_RESPONSE = "next_response", "Next response"
    RESOLUTION = "resolution", "Resolution"


class EscalationAction(models.TextChoices):
    WARN_ASSIGNEE = "warn_assignee", "Warn the assignee"
    NOTIFY_LEAD = "notify_lead", "Notify the practice lead"
    HAND_TO_ON_CALL = "hand_to_on_call", "Hand to the on-call partner"
    HAND_TO_EXPERT = "hand_to_expert", "Hand to an expert of the practice"
    RAISE_PRIORITY = "raise_priority", "Raise the priority"


class BusinessCalendar(models.Model):
    """Opening hours per weekday in a time zone, minus public holidays and own closed days.

    ``weekly_hours`` is ``{"mon": [["08:00", "12:00"], ["13:00", "17:00"]], ...}`` (missing
    weekdays are closed); ``holiday_country``/``holiday_region`` select public holidays from the
    ``holidays`` package; ``closed_dates`` lists the practice's own closed days (ISO dates).
    """

    name = models.CharField(max_length=100, unique=True)
    time_zone = models.CharField(max_length=64, validators=[validate_time_zone])
    weekly_hours = models.JSONField(default=dict)
    holiday_country = models.CharField(max_length=2, blank=True)
    holiday_region = models.CharField(max_length=10, blank=True)
    closed_dates = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CalendarQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SlaPolicy(models.Model):
    """Targets per priority counted on a calendar; one policy is the practice default."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.PROTECT, related_name="policies"
    )
    is_default = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PolicyQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = "SLA policy"
        verbose_name_plural = "SLA policies"
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="one_default_sla_policy"
            )
        ]

    def __str__(self) -> str:
        return self.name


class SlaTarget(models.Model):
    """Business minutes allowed per clock for one priority of a policy (None: no target)."""

    policy = models.ForeignKey(SlaPolicy, on_delete=models.CASCADE, related_name="targets")
    priority = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(4)]
    )
    first_response_minutes = models.PositiveIntegerField(null=True, blank=True)
    next_response_minutes = models.PositiveIntegerField(null=True, blank=True)
    resolution_minutes = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["policy", "priority"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "priority"], name="one_target_per_priority"),
            models.CheckConstraint(
                condition=Q(priority__gte=1, priority__lte=4), name="sla_target_priority_1_4"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.policy} P{self.priority}"

    def minutes(self, kind: str) -> int | None:
        return getattr(self, f"{kind}_minutes")


class EscalationStep(models.Model):
    """At ``percent`` % of a clock's target, do ``actions`` (100 % is the breach)."""

    policy = models.ForeignKey(SlaPolicy, on_delete=models.CASCADE, related_name="steps")
    clock = models.CharField(max_length=20, choices=ClockKind.choices)
    percent = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    actions = models.JSONField(default=list)

    class Meta:
        ordering = ["policy", "clock", "percent"]
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "clock", "percent"], name="one_step_per_percent"
            ),
            models.CheckConstraint(
                condition=Q(percent__gte=1, percent__lte=100), name="escalation_percent_1_100"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.policy} {self.clock} {self.percent}%"


class ClientServiceLevel(models.Model):
    """The policy a client gets, and the calendar in the client's own zone (both optional:
    the default policy and the policy's calendar apply otherwise)."""

    client = models.OneToOneField(
        "clients.Client", on_delete=models.CASCADE, related_name="service_level"
    )
    policy = models.ForeignKey(
        SlaPolicy, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    calendar = models.ForeignKey(
        BusinessCalendar, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    def __str__(self) -> str:
        return f"{self.client}: {self.policy or 'default policy'}"

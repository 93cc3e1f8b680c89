"""The insights room's tables: satisfaction ratings of resolved tickets, and the daily snapshots
of the service figures that make trends cheap to draw."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from thirdway.insights.access import CsatQuerySet, SnapshotQuerySet

COMMENT_LENGTH = 1000
LOW_SCORE = 2  # a score at or below this opens a follow-up ticket for the lead partner


class Rating(models.IntegerChoices):
    BAD = 1, "Bad"
    POOR = 2, "Poor"
    OKAY = 3, "Okay"
    FAIR = 4, "Fair"
    GOOD = 5, "Good"


class CsatResponse(models.Model):
    """A client's rating of one resolved ticket (one per ticket: the link is single-use)."""

    ticket = models.OneToOneField(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="csat_response"
    )
    client = models.ForeignKey(
        "clients.Client", on_delete=models.CASCADE, related_name="csat_responses"
    )
    contact = models.ForeignKey(
        "clients.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    partner = models.ForeignKey(
        "network.Partner", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    practice = models.ForeignKey(
        "network.Practice", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    score = models.PositiveSmallIntegerField(
        choices=Rating.choices, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    comment = models.TextField(max_length=COMMENT_LENGTH, blank=True)
    follow_up = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = CsatQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.score}/5 on ticket {self.ticket_id}"


class Scope(models.TextChoices):
    PRACTICE = "practice", "Practice"
    PARTNER = "partner", "Partner"
    CLIENT = "client", "Client"


class DailySnapshot(models.Model):
    """The service figures of one practice, partner or client on one UTC day.

    Written by the daily job (``snapshots.take``), which replaces a day's rows as a whole, so a
    rerun of the same day writes the same rows once.
    """

    day = models.DateField()
    scope = models.CharField(max_length=10, choices=Scope.choices)
    subject_id = models.PositiveBigIntegerField()
    practice = models.ForeignKey(
        "network.Practice", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    partner = models.ForeignKey(
        "network.Partner", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    client = models.ForeignKey(
        "clients.Client", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    opened = models.PositiveIntegerField(default=0)
    resolved = models.PositiveIntegerField(default=0)
    first_response_p50 = models.FloatField(null=True, blank=True)  # minutes
    first_response_p90 = models.FloatField(null=True, blank=True)
    first_response_business = models.BooleanField(default=True)
    sla_met = models.PositiveIntegerField(default=0)
    sla_measured = models.PositiveIntegerField(default=0)
    backlog = models.PositiveIntegerField(default=0)
    backlog_age_p50 = models.FloatField(null=True, blank=True)  # hours
    backlog_age_max = models.FloatField(null=True, blank=True)
    reopened = models.PositiveIntegerField(default=0)
    csat_count = models.PositiveIntegerField(default=0)
    csat_sum = models.PositiveIntegerField(default=0)
    taken_at = models.DateTimeField(default=timezone.now)

    objects = SnapshotQuerySet.as_manager()

    class Meta:
        ordering = ["day", "scope", "subject_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["day", "scope", "subject_id"], name="insights_one_snapshot_per_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.subject_id} on {self.day}"

    @property
    def sla_attainment(self) -> float | None:
        return None if not self.sla_measured else self.sla_met / self.sla_measured

    @property
    def reopen_rate(self) -> float | None:
        return None if not self.resolved else self.reopened / self.resolved

    @property
    def csat_average(self) -> float | None:
        return None if not self.csat_count else self.csat_sum / self.csat_count

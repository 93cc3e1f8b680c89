"""What the SLA clocks of tickets keep: pauses, fired escalation steps, and failures."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from thirdway.tickets.models.ticket import STATUS_CHOICES, Ticket


class ClockPause(models.Model):
    """A stretch during which the ticket's SLA clocks stood still (waiting on the client, on a
    third party, or for a scheduled visit); ``ended_at`` is empty while it lasts."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="clock_pauses")
    reason = models.CharField(max_length=20, choices=STATUS_CHOICES)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["ticket", "started_at"]
        indexes = [models.Index(fields=["ticket", "started_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket"], condition=Q(ended_at__isnull=True), name="one_open_pause"
            )
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} paused {self.started_at:%Y-%m-%d %H:%M}"


class SlaEscalation(models.Model):
    """One escalation step fired on one clock of a ticket.

    The unique constraint is the claim: the step's row is inserted before its actions run, in
    the same transaction, so two clock workers can never act twice.  ``cycle_start`` tells the
    next-response clocks of successive client replies apart.
    """

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="escalations")
    clock = models.CharField(max_length=20)
    cycle_start = models.DateTimeField()
    percent = models.PositiveSmallIntegerField()
    actions = models.JSONField(default=list)
    outcome = models.TextField(blank=True)
    fired_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["fired_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "clock", "cycle_start", "percent"], name="one_escalation_per_step"
            )
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.clock} {self.percent}%"


class ClockFailure(models.Model):
    """A ticket the clock worker could not evaluate; the sweep went on with the others."""

    ticket = models.ForeignKey(
        Ticket, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    job = models.CharField(max_length=50)
    error = models.TextField()
    occurred_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-occurred_at"]

    def __str__(self) -> str:
        return f"{self.job} on {self.ticket_id}: {self.error[:60]}"

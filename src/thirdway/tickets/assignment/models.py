"""Who got a ticket and why: hand-overs during absences and the dispatcher's decisions."""

from __future__ import annotations

from django.db import models

from thirdway.tickets.models.ticket import USER, Ticket


class Handover(models.Model):
    """An open ticket handed to a deputy because its partner is away; undone on their return."""

    absence = models.ForeignKey(
        "network.Absence", on_delete=models.CASCADE, related_name="handovers"
    )
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="handovers")
    from_partner = models.ForeignKey("network.Partner", on_delete=models.CASCADE, related_name="+")
    to_partner = models.ForeignKey(
        "network.Partner", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    handed_at = models.DateTimeField(auto_now_add=True)
    returned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["handed_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["absence", "ticket"], name="one_handover_per_absence")
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.from_partner_id} → {self.to_partner_id}"


class DispatchKind(models.TextChoices):
    ARRIVAL = "arrival", "Assigned on arrival"
    REOPTIMISE = "reoptimise", "Assigned with the queue"
    SUGGESTION = "suggestion", "Ranked on request"
    UNASSIGNABLE = "unassignable", "Nobody can take it"
    OVERRIDE = "override", "Assigned by a person instead"
    MOVED = "moved", "Moved to a partner who can take it now"


class DispatchRecord(models.Model):
    """A decision of the dispatcher on a ticket, or a person's override of one.

    ``candidates`` keeps the best few as the engine ranked them (partner, total score, the
    weighted score of each term and the one-line explanation), so *why this partner* can be
    shown later exactly as it was decided.
    """

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="dispatch_records")
    kind = models.CharField(max_length=20, choices=DispatchKind.choices)
    partner = models.ForeignKey(
        "network.Partner", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField(blank=True)
    candidates = models.JSONField(default=list, blank=True)
    rejected_by = models.JSONField(default=dict, blank=True)
    feasible_count = models.PositiveIntegerField(default=0)
    decided_at = models.DateTimeField()

    class Meta:
        ordering = ["-decided_at", "-id"]
        indexes = [models.Index(fields=["ticket", "-decided_at"])]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.kind} → {self.partner_id}"


class PracticeDispatch(models.Model):
    """A practice's own dispatch weights, over the site-wide ones (THIRDWAY_DISPATCH_WEIGHTS);
    a weight not named here keeps the site-wide value."""

    practice = models.OneToOneField(
        "network.Practice", on_delete=models.CASCADE, related_name="dispatch_settings"
    )
    weights = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"dispatch weights of practice {self.practice_id}"

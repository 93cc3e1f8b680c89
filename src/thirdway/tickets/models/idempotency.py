"""The answers the API keeps for retried requests."""

from __future__ import annotations

from django.db import models

from thirdway.tickets.models.ticket import USER


class IdempotentRequest(models.Model):
    """The first answer to a POST with an ``Idempotency-Key``, replayed to every retry."""

    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path and body.")
    status_code = models.PositiveSmallIntegerField(null=True)
    response = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="one_answer_per_key")]

    def __str__(self) -> str:
        return f"{self.key} ({self.status_code or 'in progress'})"

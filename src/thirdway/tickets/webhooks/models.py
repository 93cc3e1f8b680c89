"""Webhooks and their deliveries."""

from __future__ import annotations

from django.db import models

from thirdway.tickets.models.ticket import USER


class WebhookFormat(models.TextChoices):
    """How a delivery is signed (and its body shaped)."""

    THIRDWAY = "thirdway", "Thirdway (X-Thirdway-Signature)"
    STANDARD = "standard", "Standard Webhooks (webhook-signature)"


class Webhook(models.Model):
    """A URL told about ticket and alert events, signed with its secret."""

    name = models.CharField(max_length=100)
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=100)
    format = models.CharField(
        max_length=20,
        choices=WebhookFormat.choices,
        default=WebhookFormat.THIRDWAY,
        help_text="How deliveries are signed.",
    )
    events = models.JSONField(default=list, blank=True, help_text="Event names; empty means all.")
    client = models.ForeignKey(
        "clients.Client",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="Only this client's tickets.",
    )
    allow_private_target = models.BooleanField(
        default=False, help_text="Set by a practice admin to allow an internal address."
    )
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    RETRYING = "retrying", "Retrying"
    FAILED = "failed", "Failed"


class WebhookDelivery(models.Model):
    """One event for one webhook; retried with backoff until delivered or out of attempts."""

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=50)
    payload = models.JSONField()
    status = models.CharField(
        max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.event} → {self.webhook} ({self.status})"

"""A practice's shared tool costs and the referral fees clawed back.  Imported by
``billing/models.py``."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from thirdway.billing.access import PracticeAdminQuerySet
from thirdway.billing.models import MONEY

RATE_RANGE = [MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100000))]
TOOLS_PER_PRACTICE = 50


class ToolUnit(models.TextChoices):
    MONITORED_DEVICE = "monitored_device", "Monitored device"
    MANAGED_DEVICE = "managed_device", "Managed device"
    USER = "user", "User"
    CLIENT = "client", "Client (flat)"


class ToolCost(models.Model):
    """A tool the practice pays for, charged to each client's revenue every month before the
    split: ``rate`` per ``unit`` per month."""

    practice = models.ForeignKey(
        "network.Practice", on_delete=models.CASCADE, related_name="tool_costs"
    )
    name = models.CharField(max_length=100)
    unit = models.CharField(max_length=20, choices=ToolUnit.choices)
    rate = models.DecimalField(
        validators=RATE_RANGE, help_text="Per unit per month, 0 to 100000.", **MONEY
    )

    objects = PracticeAdminQuerySet.as_manager()

    class Meta:
        ordering = ["practice", "name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["practice", "name"], name="tool_cost_name_unique")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.rate} per {self.get_unit_display().lower()})"


class ReferralClawback(models.Model):
    """The referral fees of a client that left within the practice's period, clawed back once:
    the row claims the clawback, ``clawback`` is the reversing transaction (none when there
    was nothing left to claw back)."""

    practice = models.ForeignKey("network.Practice", on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey("clients.Client", on_delete=models.PROTECT, related_name="+")
    first_invoiced_on = models.DateField()
    left_on = models.DateField()
    months = models.PositiveSmallIntegerField()
    clawback = models.OneToOneField(
        "billing.LedgerTransaction", null=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField()

    objects = PracticeAdminQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["practice", "client"], name="referral_clawback_once")
        ]

    def __str__(self) -> str:
        return f"Referral of {self.client} clawed back: left after {self.months} months"

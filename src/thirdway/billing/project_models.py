"""The milestones of a fixed-fee project contract.  Imported by ``billing/models.py``."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from thirdway.billing.models import MONEY, NOT_NEGATIVE, PERCENT, Contract


class Milestone(models.Model):
    """A part of a project's fixed price: an ``amount``, or a ``percent`` of the price (one of
    the two), due on ``due_on``.  Once a practice admin or the client's lead partner marks it
    done (``done_at``), the next invoice run bills it once (claim ``milestone:<id>``)."""

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="milestones")
    position = models.PositiveSmallIntegerField(default=0)
    name = models.CharField(max_length=150)
    amount = models.DecimalField(null=True, blank=True, validators=NOT_NEGATIVE, **MONEY)
    percent = models.DecimalField(null=True, blank=True, **PERCENT)
    due_on = models.DateField()
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["contract", "position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__isnull=False, percent__isnull=True)
                | Q(amount__isnull=True, percent__isnull=False),
                name="billing_milestone_amount_or_percent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} · {self.contract.name}"

    @property
    def claim(self) -> str:
        return f"milestone:{self.pk}"

    def value_of(self, price: Decimal) -> Decimal:
        """What the milestone bills of a project priced ``price``: its amount, or its percent of
        the price rounded half up to the cent."""
        if self.amount is not None:
            return self.amount
        return (price * self.percent / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)

    @property
    def value(self) -> Decimal:
        return self.value_of(self.contract.fixed_price)

"""A contract's renewals, a block's top-ups and warnings, a client's billing details and the
one-off items billed to a client (expenses and hardware).  Imported by ``billing/models.py``."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q

from thirdway.billing.access import BillableItemQuerySet, BlockNoticeQuerySet
from thirdway.billing.models import (
    MONEY,
    NOT_NEGATIVE,
    PERCENT,
    QUANTITY_RANGE,
    Contract,
    VatCategory,
)

BUYER_VAT_ID_ALLOWED = "a 2-letter country code and up to 12 capitals or digits, e.g. DE123456789"


class BlockTopUp(models.Model):
    """Hours added to a block-hours contract, at a price billed by the next run."""

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="top_ups")
    minutes = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    price = models.DecimalField(validators=NOT_NEGATIVE, **MONEY)
    note = models.CharField(max_length=200, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["contract", "added_at", "id"]

    def __str__(self) -> str:
        return f"{self.minutes} min added to {self.contract}"


class BlockNotice(models.Model):
    """A warning that a block's hours are running out, to one person (once per block)."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="notices")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    block_minutes = models.PositiveIntegerField()
    used_minutes = models.IntegerField()
    text = models.CharField(max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = BlockNoticeQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.text


class ContractRenewal(models.Model):
    """One renewal of a contract: its end moved from ``previous_end`` to ``new_end``.  Unique
    per contract and previous end, so renewing twice (a retried job, two clocks) renews once."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="renewals")
    previous_end = models.DateField()
    new_end = models.DateField()
    renewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    renewed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["contract", "previous_end"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "previous_end"], name="billing_renewed_once_per_term"
            )
        ]

    def __str__(self) -> str:
        return f"{self.contract} renewed to {self.new_end}"


class ClientBillingDetails(models.Model):
    """What invoices need of a client beyond its name and address: the buyer's VAT identifier
    (EN 16931 BT-48), which a reverse-charge e-invoice must carry."""

    client = models.OneToOneField(
        "clients.Client", on_delete=models.CASCADE, related_name="billing_details"
    )
    vat_id = models.CharField(
        "VAT identifier",
        max_length=14,
        blank=True,
        validators=[RegexValidator(r"^[A-Z]{2}[A-Z0-9]{1,12}$", BUYER_VAT_ID_ALLOWED)],
        help_text=BUYER_VAT_ID_ALLOWED,
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "client billing details"

    def __str__(self) -> str:
        return f"Billing details of {self.client}"


class ItemKind(models.TextChoices):
    EXPENSE = "expense", "Expense"
    HARDWARE = "hardware", "Hardware"


class BillableItem(models.Model):
    """An expense or a piece of hardware billed to a client once, by the next invoice run.

    The run's invoice line claims it (``item:<id>``, unique) and links it (``invoice_line``),
    so a retried or concurrent run never bills it twice; taking the line off a draft frees it
    for the next run.  ``unit_cost`` is what it cost the practice, ``unit_price`` what the
    client pays; neither is negative (money goes back to a client by a credit note).
    """

    practice = models.ForeignKey("network.Practice", on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey("clients.Client", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=ItemKind.choices, default=ItemKind.EXPENSE)
    description = models.CharField(max_length=200)
    quantity = models.DecimalField(
        max_digits=12, decimal_places=2, default=Decimal(1), validators=QUANTITY_RANGE
    )
    unit_cost = models.DecimalField(default=Decimal(0), validators=NOT_NEGATIVE, **MONEY)
    unit_price = models.DecimalField(validators=NOT_NEGATIVE, **MONEY)
    vat_category = models.CharField(
        max_length=2, choices=VatCategory.choices, default=VatCategory.STANDARD
    )
    vat_rate = models.DecimalField(default=Decimal(20), **PERCENT)
    incurred_on = models.DateField(help_text="The day of the expense or delivery.")
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    contract = models.ForeignKey(
        Contract, null=True, blank=True, on_delete=models.PROTECT, related_name="items"
    )
    invoice_line = models.ForeignKey(
        "billing.InvoiceLine", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = BillableItemQuerySet.as_manager()

    class Meta:
        ordering = ["-incurred_on", "-id"]
        indexes = [
            models.Index(fields=["practice", "invoice_line"], name="billing_item_unbilled"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(unit_price__gte=0, unit_cost__gte=0, quantity__gt=0),
                name="billing_item_not_negative",
            )
        ]

    def __str__(self) -> str:
        return f"{self.description} · {self.client}"

    @property
    def net(self) -> Decimal:
        from thirdway.billing.engine import to_money

        return to_money(self.quantity * self.unit_price)

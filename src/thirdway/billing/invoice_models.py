"""The invoices of the billing room: the number series, the runs, invoices and credit notes,
and their lines.  Imported by ``billing/models.py``."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from thirdway.billing.access import InvoiceQuerySet
from thirdway.billing.models import MONEY, NOT_NEGATIVE, PERCENT, ContractLine, VatCategory


class InvoiceState(models.TextChoices):
    DRAFT = "draft", "Draft"
    APPROVED = "approved", "Approved"
    SENT = "sent", "Sent"
    PAID = "paid", "Paid"
    CREDITED = "credited", "Credited"


class InvoiceKind(models.TextChoices):
    INVOICE = "invoice", "Invoice"
    CREDIT_NOTE = "credit_note", "Credit note"


class NumberSeries(models.Model):
    """The next number of a practice's invoices or credit notes: the row is locked while a
    number is taken, in the approving transaction, so numbers have no gaps."""

    practice = models.ForeignKey("network.Practice", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=12, choices=InvoiceKind.choices)
    next_number = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["practice", "kind"], name="billing_one_series")
        ]

    def __str__(self) -> str:
        return f"{self.practice} {self.kind} #{self.next_number}"


class InvoiceRun(models.Model):
    """One run of invoicing for a practice's month, and what it made."""

    practice = models.ForeignKey("network.Practice", on_delete=models.PROTECT, related_name="+")
    month = models.DateField(help_text="The first day of the month billed.")
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(auto_now_add=True)
    invoices_made = models.PositiveIntegerField(default=0)
    lines_made = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"Run of {self.month:%Y-%m} for {self.practice}"


class Invoice(models.Model):
    """An invoice or credit note of a practice to a client; numbered only once approved."""

    client = models.ForeignKey("clients.Client", on_delete=models.PROTECT, related_name="invoices")
    practice = models.ForeignKey("network.Practice", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=12, choices=InvoiceKind.choices, default=InvoiceKind.INVOICE)
    credits = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="credit_note"
    )
    state = models.CharField(
        max_length=10, choices=InvoiceState.choices, default=InvoiceState.DRAFT
    )
    # Drafts have no number: NULL, so the unique number leaves them alone.
    number = models.CharField(max_length=40, null=True, blank=True)  # noqa: DJ001
    currency = models.CharField(max_length=3)
    month = models.DateField(help_text="The first day of the month billed.")
    issued_on = models.DateField(null=True, blank=True)
    net = models.DecimalField(default=Decimal(0), **MONEY)
    tax = models.DecimalField(default=Decimal(0), **MONEY)
    gross = models.DecimalField(default=Decimal(0), **MONEY)
    run = models.ForeignKey(
        InvoiceRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="invoices"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    objects = InvoiceQuerySet.as_manager()

    class Meta:
        ordering = ["-month", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "kind", "number"], name="billing_invoice_number_unique"
            ),
            models.CheckConstraint(
                condition=Q(state="draft", number__isnull=True)
                | (~Q(state="draft") & Q(number__isnull=False)),
                name="billing_numbered_once_approved",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number or '(draft)'} · {self.client}"

    @property
    def is_draft(self) -> bool:
        return self.state == InvoiceState.DRAFT


class InvoiceLine(models.Model):
    """A line of an invoice: quantity x unit price = net, taxed by category on the invoice.

    ``claim`` is unique: the month's charge of a monthly contract line is claimed once, so two
    runs never bill it twice.  ``quantity_source`` says where the quantity came from.
    """

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="lines")
    contract_line = models.ForeignKey(
        ContractLine, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    description = models.CharField(max_length=250)
    quantity = models.DecimalField(max_digits=12, decimal_places=2, validators=NOT_NEGATIVE)
    unit_price = models.DecimalField(validators=NOT_NEGATIVE, **MONEY)
    net = models.DecimalField(**MONEY)
    vat_category = models.CharField(max_length=2, choices=VatCategory.choices)
    vat_rate = models.DecimalField(**PERCENT)
    quantity_source = models.CharField(max_length=500, blank=True)
    counted = models.JSONField(default=list, blank=True, help_text="Ids of what was counted.")
    claim = models.CharField(max_length=80, null=True, blank=True, unique=True)
    # The days a monthly charge covers (BT-134 and BT-135); empty for time and one-off lines.
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)
    # An after-hours line's minutes outside business hours of each time entry it bills (entry
    # id -> minutes): its delivery share weighs the partners by them.  None on other lines.
    after_hours_minutes = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["invoice", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(unit_price__gte=0), name="billing_invoice_line_price_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.description

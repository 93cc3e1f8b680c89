"""A contract's renewals, a client's billing details and the one-off items billed to a client
(expenses and hardware).  Imported by ``billing/models.py``."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

from thirdway.billing.models import Contract

BUYER_VAT_ID_ALLOWED = "a 2-letter country code and up to 12 capitals or digits, e.g. DE123456789"


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

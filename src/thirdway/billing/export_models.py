"""Accounting exports: a practice's account mapping, the batches exported and which invoice
went out in which batch.  Imported by ``billing/models.py``."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q

ACCOUNT = [RegexValidator(r"^[0-9A-Za-z.\-]{1,20}$", "letters, digits, dots and dashes (1 to 20)")]
TAX_CODE = [RegexValidator(r"^[^;\"\r\n]{0,40}$", "up to 40 characters, no ; or quotes")]


class ExportFormat(models.TextChoices):
    QUICKBOOKS = "quickbooks", "QuickBooks Online (invoice CSV)"
    XERO = "xero", "Xero (sales invoice CSV)"
    DATEV = "datev", "DATEV (EXTF Buchungsstapel)"


class ExportSettings(models.Model):
    """The account mapping of a practice's exports: the receivables account, and per VAT
    category the revenue account and the tax code the accounting tool knows; DATEV's
    consultant and client numbers and account length."""

    practice = models.OneToOneField(
        "network.Practice", on_delete=models.CASCADE, related_name="export_settings"
    )
    receivable_account = models.CharField(max_length=20, default="10000", validators=ACCOUNT)
    revenue_standard = models.CharField(max_length=20, default="8400", validators=ACCOUNT)
    revenue_zero = models.CharField(max_length=20, default="8120", validators=ACCOUNT)
    revenue_exempt = models.CharField(max_length=20, default="8100", validators=ACCOUNT)
    revenue_reverse_charge = models.CharField(max_length=20, default="8337", validators=ACCOUNT)
    tax_standard = models.CharField(max_length=40, blank=True, validators=TAX_CODE)
    tax_zero = models.CharField(max_length=40, blank=True, validators=TAX_CODE)
    tax_exempt = models.CharField(max_length=40, blank=True, validators=TAX_CODE)
    tax_reverse_charge = models.CharField(max_length=40, blank=True, validators=TAX_CODE)
    datev_consultant = models.PositiveIntegerField(
        default=1001, validators=[MinValueValidator(1001), MaxValueValidator(9999999)]
    )
    datev_client = models.PositiveIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(99999)]
    )
    account_length = models.PositiveSmallIntegerField(
        default=4, validators=[MinValueValidator(4), MaxValueValidator(8)]
    )

    class Meta:
        verbose_name_plural = "export settings"

    def __str__(self) -> str:
        return f"Exports of {self.practice}"


class ExportBatch(models.Model):
    """One file of a practice's invoices and credit notes issued in a month, in one format.
    Undone, its invoices may be exported again."""

    practice = models.ForeignKey("network.Practice", on_delete=models.PROTECT, related_name="+")
    format = models.CharField(max_length=12, choices=ExportFormat.choices)
    month = models.DateField(help_text="The first day of the month of the issue dates.")
    made_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    made_at = models.DateTimeField(auto_now_add=True)
    invoice_count = models.PositiveIntegerField(default=0)
    filename = models.CharField(max_length=100)
    content = models.BinaryField()
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-made_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_format_display()} {self.month:%Y-%m} of {self.practice}"


class ExportedInvoice(models.Model):
    """An invoice in a batch: while the batch stands, the invoice is not exported again in the
    same format."""

    batch = models.ForeignKey(ExportBatch, on_delete=models.CASCADE, related_name="entries")
    invoice = models.ForeignKey("billing.Invoice", on_delete=models.PROTECT, related_name="+")
    format = models.CharField(max_length=12, choices=ExportFormat.choices)
    undone = models.BooleanField(default=False)

    class Meta:
        ordering = ["batch", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["invoice", "format"],
                condition=Q(undone=False),
                name="billing_exported_once_per_format",
            )
        ]

    def __str__(self) -> str:
        return f"{self.invoice_id} in {self.batch_id}"


class DebtorAccount(models.Model):
    """A client's debtor account (Debitorenkonto) in a practice's DATEV bookings: the DATEV
    batch books each invoice on it (Konto) against the revenue account (Gegenkonto).  Five
    digits, 10000 to 69999 (the debtors of SKR03 and SKR04 with accounts of 4 digits), one
    client per number in a practice."""

    practice = models.ForeignKey(
        "network.Practice", on_delete=models.CASCADE, related_name="debtor_accounts"
    )
    client = models.ForeignKey("clients.Client", on_delete=models.CASCADE, related_name="+")
    number = models.PositiveIntegerField(
        validators=[MinValueValidator(10000), MaxValueValidator(69999)]
    )

    class Meta:
        ordering = ["practice", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "client"], name="billing_debtor_one_per_client"
            ),
            models.UniqueConstraint(
                fields=["practice", "number"], name="billing_debtor_number_unique"
            ),
            models.CheckConstraint(
                condition=Q(number__gte=10000, number__lte=69999),
                name="billing_debtor_number_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} · {self.client_id}"

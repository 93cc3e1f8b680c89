"""The business of the practice: its split rules, contracts, time, invoices and the ledger.

Money is ``Decimal`` with two places in the practice's one currency.  The ledger (``Account``,
``LedgerTransaction``, ``Leg``) is double-entry and append-only: a transaction's legs sum to
zero (checked in Python on every write, and on PostgreSQL by a deferred constraint trigger too),
and a mistake is corrected by a reversing transaction, never by an edit.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q

from thirdway.billing.access import (
    ContractQuerySet,
    LedgerQuerySet,
)
from thirdway.network.places import validate_country

MONEY = {"max_digits": 14, "decimal_places": 2}
PERCENT = {
    "max_digits": 5,
    "decimal_places": 2,
    "validators": [MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
}
NOT_NEGATIVE = [MinValueValidator(Decimal(0))]
# Time outside the client's business hours costs the rate times this (1.00: no surcharge).
MULTIPLIER = {
    "max_digits": 3,
    "decimal_places": 2,
    "validators": [MinValueValidator(Decimal(1)), MaxValueValidator(Decimal(5))],
}
QUANTITY_RANGE = [MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal(100000))]
VAT_ID_ALLOWED = "the country code and number, capitals and digits only, e.g. FR40303265045"
IBAN_ALLOWED = "an IBAN in capitals without spaces, e.g. FR7630006000011234567890189"


class DeliveryBasis(models.TextChoices):
    TIME = "time", "Approved time"
    TICKETS = "tickets", "Resolved tickets"


class BillingSettings(models.Model):
    """A practice's currency, invoice numbering and revenue split (percent of net amounts)."""

    practice = models.OneToOneField(
        "network.Practice", on_delete=models.CASCADE, related_name="billing"
    )
    currency = models.CharField(max_length=3, default="EUR", help_text="ISO 4217 code.")
    invoice_prefix = models.CharField(max_length=20, default="INV-")
    credit_note_prefix = models.CharField(max_length=20, default="CN-")
    origination = models.DecimalField(default=Decimal(20), **PERCENT)
    fade_years = models.PositiveSmallIntegerField(
        default=0,
        validators=[MaxValueValidator(50)],
        help_text="Origination fades out over this many years (0: never).",
    )
    delivery = models.DecimalField(default=Decimal(60), **PERCENT)
    delivery_basis = models.CharField(
        max_length=10, choices=DeliveryBasis.choices, default=DeliveryBasis.TIME
    )
    pool = models.DecimalField(default=Decimal(10), **PERCENT)
    network = models.DecimalField(default=Decimal(5), **PERCENT)
    desk_fee = models.DecimalField(default=Decimal(5), **PERCENT)
    referral = models.DecimalField(default=Decimal(0), **PERCENT)
    clawback_months = models.PositiveSmallIntegerField(
        default=0,
        validators=[MaxValueValidator(36)],
        help_text="A referral fee is clawed back when the client leaves within this many months "
        "of its first invoice (0 to 36; 0: never).",
    )
    # The seller on the practice's invoices (EN 16931 BG-4): an e-invoice needs the country and
    # the VAT identifier; the PDF prints what is filled in.
    legal_name = models.CharField(
        max_length=200, blank=True, help_text="The name invoices bear (the practice's if empty)."
    )
    vat_id = models.CharField(
        "VAT identifier",
        max_length=20,
        blank=True,
        validators=[RegexValidator(r"^[A-Z]{2}[A-Z0-9]{2,18}$", VAT_ID_ALLOWED)],
        help_text=VAT_ID_ALLOWED,
    )
    street = models.CharField(max_length=150, blank=True)
    postcode = models.CharField(max_length=20, blank=True)
    city = models.CharField(max_length=100, blank=True)
    country = models.CharField(
        max_length=2, blank=True, validators=[validate_country], help_text="ISO 3166-1 alpha-2."
    )
    iban = models.CharField(
        "IBAN",
        max_length=34,
        blank=True,
        validators=[RegexValidator(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$", IBAN_ALLOWED)],
        help_text="Printed on invoices, and the e-invoice's credit transfer account.",
    )
    payment_days = models.PositiveSmallIntegerField(
        default=30,
        validators=[MaxValueValidator(365)],
        help_text="Days from the issue date to the due date (0 to 365).",
    )
    after_hours_multiplier = models.DecimalField(
        default=Decimal(1),
        help_text=(
            "Time-and-materials time worked outside the client's business hours costs the "
            "rate times this (1.00 to 5.00; 1.00: no surcharge). A contract line may override it."
        ),
        **MULTIPLIER,
    )

    class Meta:
        verbose_name_plural = "billing settings"

    def __str__(self) -> str:
        return f"Billing of {self.practice}"


class AccountKind(models.TextChoices):
    RECEIVABLE = "receivable", "Client receivable"
    REVENUE = "revenue", "Revenue"
    TAX = "tax", "VAT payable"
    CASH = "cash", "Cash"
    OWED = "owed", "Share owed"
    PAYABLE = "payable", "Share payable"
    CAPITAL = "capital", "Capital"
    TOOLS = "tool_costs", "Shared tool costs"


class Holder(models.TextChoices):
    PRACTICE = "practice", "The practice"
    PARTNER = "partner", "A partner"
    POOL = "pool", "The practice pool"
    NETWORK = "network", "The network"
    DESK = "desk", "The desk"
    CLIENT = "client", "A client"


class Account(models.Model):
    """One account of a practice's ledger: whose it is (holder) and what it counts (kind)."""

    practice = models.ForeignKey("network.Practice", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=12, choices=AccountKind.choices)
    holder = models.CharField(max_length=10, choices=Holder.choices)
    partner = models.ForeignKey(
        "network.Partner", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    client = models.ForeignKey(
        "clients.Client", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    currency = models.CharField(max_length=3)

    class Meta:
        ordering = ["practice", "kind", "holder", "partner", "client"]
        # One account per practice, kind, holder, partner and client, an empty partner or
        # client counting as a value: a partial unique index per case, which SQLite and
        # PostgreSQL both enforce (SQLite has no NULLS NOT DISTINCT).
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "kind", "holder", "partner", "client"],
                name="billing_account_unique",
            ),
            models.UniqueConstraint(
                fields=["practice", "kind", "holder", "partner"],
                condition=Q(client__isnull=True),
                name="billing_account_unique_no_client",
            ),
            models.UniqueConstraint(
                fields=["practice", "kind", "holder", "client"],
                condition=Q(partner__isnull=True),
                name="billing_account_unique_no_partner",
            ),
            models.UniqueConstraint(
                fields=["practice", "kind", "holder"],
                condition=Q(partner__isnull=True, client__isnull=True),
                name="billing_account_unique_neither",
            ),
        ]

    def __str__(self) -> str:
        whose = self.partner or self.client or self.get_holder_display()
        return f"{self.get_kind_display()} · {whose}"


class AppendOnlyQuerySet(LedgerQuerySet):
    def update(self, **kwargs):
        raise PermissionError("The ledger is append-only: post a reversal instead")

    def delete(self):
        raise PermissionError("The ledger is append-only: post a reversal instead")


class AppendOnly(models.Model):
    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None and not kwargs.get("force_insert"):
            raise PermissionError("The ledger is append-only: post a reversal instead")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("The ledger is append-only: post a reversal instead")


class TransactionKind(models.TextChoices):
    INVOICE = "invoice", "Invoice approved"
    SPLIT = "split", "Shares owed"
    PAYMENT = "payment", "Payment received"
    PAYABLE = "payable", "Shares payable"
    REVERSAL = "reversal", "Reversal"
    BUY_IN = "buy_in", "Buy-in paid"
    WITHHELD = "withheld", "Buy-in withheld from a share"
    ALLOCATION = "allocation", "Pool allocated"
    BUY_OUT = "buy_out", "Buy-out"
    INSTALMENT = "instalment", "Buy-out instalment paid"
    RETURN = "return", "Capital returned"
    TOOL_COSTS = "tool_costs", "Shared tool costs"
    CLAWBACK = "clawback", "Referral clawed back"


class LedgerTransaction(AppendOnly):
    """A set of legs that sum to zero; ``reverses`` names the transaction it cancels."""

    practice = models.ForeignKey("network.Practice", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=TransactionKind.choices)
    at = models.DateTimeField()
    memo = models.CharField(max_length=250)
    invoice = models.ForeignKey(
        "billing.Invoice", null=True, on_delete=models.PROTECT, related_name="transactions"
    )
    invoice_line = models.ForeignKey(
        "billing.InvoiceLine", null=True, on_delete=models.PROTECT, related_name="transactions"
    )
    reverses = models.OneToOneField(
        "self", null=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    facts = models.JSONField(default=dict, blank=True, help_text="What the split was based on.")

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.memo}"


class Leg(AppendOnly):
    """One side of a transaction: a signed amount (debit positive) on one account."""

    transaction = models.ForeignKey(
        LedgerTransaction, on_delete=models.PROTECT, related_name="legs"
    )
    # No index of its own: ``billing_leg_by_account`` (account, transaction) serves a lookup by
    # account, and each index is one more write for each of the month-end's million legs.
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="legs", db_index=False
    )
    amount = models.DecimalField(**MONEY)
    rule = models.CharField(max_length=20, blank=True, help_text="The split rule of a share.")

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["transaction", "id"]
        indexes = [models.Index(fields=["account", "transaction"], name="billing_leg_by_account")]

    def __str__(self) -> str:
        return f"{self.amount} on {self.account}"


# --- contracts and time ------------------------------------------------------------------------


class ContractKind(models.TextChoices):
    MANAGED = "managed", "Managed services"
    TIME_AND_MATERIALS = "time_materials", "Time and materials"
    BLOCK_HOURS = "block_hours", "Block hours"
    PROJECT = "project", "Fixed-fee project"


class ContractStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"


class Contract(models.Model):
    """What a client buys from a practice, from ``starts_on`` to ``ends_on`` (open if empty).

    Contracts of one kind of one client never overlap.  The originator brought the client
    (their origination share fades from ``originated_on``); the referrer referred it.  A draft
    (one a won sale made, say) is never invoiced until it is made active.
    """

    client = models.ForeignKey("clients.Client", on_delete=models.PROTECT, related_name="contracts")
    practice = models.ForeignKey("network.Practice", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=ContractKind.choices)
    name = models.CharField(max_length=150)
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True)
    originator = models.ForeignKey(
        "network.Partner", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    originated_on = models.DateField(null=True, blank=True)
    referrer = models.ForeignKey(
        "network.Partner", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    block_minutes = models.PositiveIntegerField(
        default=0, help_text="Prepaid minutes of a block-hours contract."
    )
    block_price = models.DecimalField(default=Decimal(0), validators=NOT_NEGATIVE, **MONEY)
    warn_at_percent = models.PositiveSmallIntegerField(
        default=80,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="A block-hours contract warns once this share of its hours is used.",
    )
    warned_for_minutes = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="The block (in minutes) the threshold warning was last sent for.",
    )
    status = models.CharField(
        max_length=10, choices=ContractStatus.choices, default=ContractStatus.ACTIVE
    )
    sla_policy = models.ForeignKey(
        "sla.SlaPolicy",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The SLA policy the contract offers.",
    )
    fixed_price = models.DecimalField(
        default=Decimal(0),
        validators=NOT_NEGATIVE,
        help_text="A fixed-fee project's price, billed by its milestones.",
        **MONEY,
    )
    budget_minutes = models.PositiveIntegerField(
        default=0,
        validators=[MaxValueValidator(10_000_000)],
        help_text="A fixed-fee project's budget of time, in minutes (0: none).",
    )
    renewal_months = models.PositiveSmallIntegerField(
        default=0,
        validators=[MaxValueValidator(120)],
        help_text="At its end the contract renews for this many months (0 to 120; 0: it ends).",
    )
    notice_days = models.PositiveSmallIntegerField(
        default=0,
        validators=[MaxValueValidator(730)],
        help_text="Days before the end by which the renewal may be stopped (0 to 730).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ContractQuerySet.as_manager()

    class Meta:
        ordering = ["client", "-starts_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="billing_contract_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(block_price__gte=0), name="billing_contract_price_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.client})"

    @property
    def renews_on(self) -> dt.date | None:
        """The next term's first day (None: no renewal, or none before year 10000)."""
        if self.ends_on and self.renewal_months and self.ends_on < dt.date.max:
            return self.ends_on + dt.timedelta(days=1)
        return None

    @property
    def notice_by(self) -> dt.date | None:
        """The last day the renewal may be stopped; after it, the next term is due."""
        if self.renews_on is None:
            return None
        return dt.date.fromordinal(max(1, self.ends_on.toordinal() - self.notice_days))


class Unit(models.TextChoices):
    FLAT = "flat", "Flat per month"
    DEVICE = "device", "Per device per month"
    USER = "user", "Per user per month"
    HOUR = "hour", "Per hour worked"


class VatCategory(models.TextChoices):
    """EN 16931 VAT category codes (UNCL 5305)."""

    STANDARD = "S", "Standard rate"
    ZERO = "Z", "Zero rated"
    EXEMPT = "E", "Exempt"
    REVERSE_CHARGE = "AE", "Reverse charge"


class Timing(models.TextChoices):
    ARREARS = "arrears", "In arrears (the month billed)"
    ADVANCE = "advance", "In advance (the month after)"


class ContractLine(models.Model):
    """A priced line of a contract, effective from ``starts_on`` to ``ends_on``.

    Monthly lines (flat, per device, per user) bill a month in arrears or in advance, prorated
    by days (``proposals``); hourly lines price time entries, by role (empty: any role).  A
    price or quantity change is a new line from its day, the old one ending the day before.
    """

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="lines")
    description = models.CharField(max_length=200)
    unit = models.CharField(max_length=10, choices=Unit.choices)
    role = models.CharField(
        max_length=20,
        blank=True,
        choices=[("", "Any role"), ("partner", "Partner"), ("associate", "Associate")],
    )
    price = models.DecimalField(validators=NOT_NEGATIVE, **MONEY)
    vat_category = models.CharField(
        max_length=2, choices=VatCategory.choices, default=VatCategory.STANDARD
    )
    vat_rate = models.DecimalField(default=Decimal(20), **PERCENT)
    quantity = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        default=Decimal(1),
        validators=QUANTITY_RANGE,
        help_text="Of a flat line (licences, say: 0.01 to 100000); devices and users are counted.",
    )
    timing = models.CharField(max_length=10, choices=Timing.choices, default=Timing.ARREARS)
    after_hours_multiplier = models.DecimalField(
        null=True,
        blank=True,
        help_text=(
            "Time outside the client's business hours costs the price times this (time and "
            "materials) or burns the block at it (block hours); 1.00 to 5.00, empty: the "
            "practice's multiplier."
        ),
        **MULTIPLIER,
    )
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["contract", "unit", "role", "starts_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(price__gte=0), name="billing_line_price_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.description} · {self.price}/{self.unit}"


# Invoices, their runs, lines and number series live in invoice_models.py, timesheets and time
# entries in time_models.py, the accounting exports in export_models.py, capital terms in
# capital_models.py, successions in succession_models.py; they belong to this app all the same.
from thirdway.billing import succession_models  # noqa: E402, F401
from thirdway.billing.capital_models import (  # noqa: E402, F401
    BuyInMethod,
    BuyOutInstalment,
    CapitalTerms,
    PoolAllocation,
)
from thirdway.billing.export_models import (  # noqa: E402, F401
    DebtorAccount,
    ExportBatch,
    ExportedInvoice,
    ExportFormat,
    ExportSettings,
)
from thirdway.billing.invoice_models import (  # noqa: E402, F401
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceRun,
    InvoiceState,
    NumberSeries,
)
from thirdway.billing.project_models import Milestone  # noqa: E402, F401
from thirdway.billing.sharing_models import ReferralClawback, ToolCost, ToolUnit  # noqa
from thirdway.billing.term_models import (  # noqa: E402, F401
    BillableItem,
    BlockNotice,
    BlockTopUp,
    ClientBillingDetails,
    ContractRenewal,
)
from thirdway.billing.time_models import (  # noqa: E402, F401
    BillingStatus,
    TimeEntry,
    TimeKind,
    Timesheet,
    TimesheetState,
)

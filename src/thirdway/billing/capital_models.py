"""A partner's capital terms in a practice and the allocations of the retained pool.

The balances themselves are never stored: a capital account is a ledger account (kind
*capital*), changed only by transactions ``capital.py`` posts through ``ledger.py``.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from thirdway.billing.access import CapitalQuerySet, InstalmentQuerySet, LedgerQuerySet

MONEY = {"max_digits": 14, "decimal_places": 2}
LONGEST_VESTING = 120
MOST_UNITS = 1_000_000
MOST_INSTALMENTS = 120


class BuyInMethod(models.TextChoices):
    AT_ONCE = "at_once", "Paid at once"
    WITHHELD = "withheld", "Withheld from future shares"


class CapitalTerms(models.Model):
    """What a partner agreed with a practice: the buy-in and how it is paid, the units held
    and their vesting, and (once retired) the buy-out that closed the account."""

    practice = models.ForeignKey("network.Practice", on_delete=models.PROTECT, related_name="+")
    partner = models.ForeignKey("network.Partner", on_delete=models.PROTECT, related_name="+")
    buy_in = models.DecimalField(
        default=Decimal(0),
        validators=[MinValueValidator(Decimal(0))],
        help_text="The capital the partner brings on joining.",
        **MONEY,
    )
    buy_in_method = models.CharField(
        max_length=10, choices=BuyInMethod.choices, default=BuyInMethod.AT_ONCE
    )
    withhold_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal(0),
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
        help_text="Of each share when it becomes payable, until the buy-in is paid (withheld).",
    )
    units = models.PositiveIntegerField(
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(MOST_UNITS)],
        help_text="Units of the retained pool held (1 to 1,000,000).",
    )
    vesting_starts_on = models.DateField()
    vesting_months = models.PositiveSmallIntegerField(
        default=48,
        validators=[MaxValueValidator(LONGEST_VESTING)],
        help_text="0 to 120; the units vest linearly by whole months (0: at once).",
    )
    bought_out = models.OneToOneField(
        "billing.LedgerTransaction",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The buy-out that closed the account.",
    )
    instalments_by_standing_order = models.BooleanField(
        default=False,
        help_text="The buy-out's instalments are paid by standing order: each is posted paid "
        "on its due day.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = CapitalQuerySet.as_manager()

    class Meta:
        ordering = ["practice", "partner"]
        verbose_name = "capital terms"
        verbose_name_plural = "capital terms"
        constraints = [
            models.UniqueConstraint(fields=["practice", "partner"], name="billing_capital_once"),
        ]

    def __str__(self) -> str:
        return f"Capital of {self.partner} in {self.practice}"


class PoolAllocation(models.Model):
    """The retained pool of one month of a practice, allocated once to the capital accounts."""

    practice = models.ForeignKey("network.Practice", on_delete=models.PROTECT, related_name="+")
    month = models.DateField(help_text="The first day of the month allocated.")
    amount = models.DecimalField(**MONEY)
    posted = models.OneToOneField(
        "billing.LedgerTransaction",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    made_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    made_at = models.DateTimeField(auto_now_add=True)

    objects = LedgerQuerySet.as_manager()

    class Meta:
        ordering = ["practice", "-month"]
        constraints = [
            models.UniqueConstraint(fields=["practice", "month"], name="billing_pool_once"),
        ]

    def __str__(self) -> str:
        return f"Pool of {self.month:%Y-%m} of {self.practice}"


class BuyOutInstalment(models.Model):
    """One instalment of a buy-out agreed to be paid over time: its amount and due day, and
    the ledger transaction that paid it (posted once, when it is marked paid)."""

    terms = models.ForeignKey(CapitalTerms, on_delete=models.PROTECT, related_name="instalments")
    number = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(MOST_INSTALMENTS)]
    )
    due_on = models.DateField()
    amount = models.DecimalField(validators=[MinValueValidator(Decimal("0.01"))], **MONEY)
    paid = models.OneToOneField(
        "billing.LedgerTransaction",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The payment of the instalment (cash out of the partner's payable share).",
    )
    agreed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    agreed_at = models.DateTimeField(auto_now_add=True)

    objects = InstalmentQuerySet.as_manager()

    class Meta:
        ordering = ["terms", "number"]
        constraints = [
            models.UniqueConstraint(fields=["terms", "number"], name="billing_instalment_once"),
            models.CheckConstraint(
                condition=models.Q(number__gte=1, number__lte=MOST_INSTALMENTS),
                name="billing_instalment_number",
            ),
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="billing_instalment_amount"
            ),
        ]

    def __str__(self) -> str:
        return f"Instalment {self.number} of the buy-out of {self.terms.partner}"

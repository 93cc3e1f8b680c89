"""The sales pipeline: leads, the opportunities made of them, and the proposals sent to
prospects.

A lead goes new → qualified → converted (its opportunity was won) or disqualified (with a
reason).  An opportunity moves through discovery, proposal and negotiation to won or lost (with
a reason); each stage carries a probability, so a board can weigh its expected monthly value.
A proposal is fixed once sent: the prospect opens it from a signed link and accepts it once.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from thirdway.network.places import validate_country, validate_time_zone
from thirdway.sales.access import LeadQuerySet, OpportunityQuerySet, ProposalQuerySet

MONEY = {"max_digits": 14, "decimal_places": 2}
CENT = Decimal("0.01")


class LeadSource(models.TextChoices):
    REFERRAL = "referral", "Referral"
    WEB = "web", "Web"
    EVENT = "event", "Event"
    PARTNER = "partner", "Partner's own"
    OTHER = "other", "Other"


class LeadState(models.TextChoices):
    NEW = "new", "New"
    QUALIFIED = "qualified", "Qualified"
    CONVERTED = "converted", "Converted"
    DISQUALIFIED = "disqualified", "Disqualified"


class Stage(models.TextChoices):
    DISCOVERY = "discovery", "Discovery"
    PROPOSAL = "proposal", "Proposal"
    NEGOTIATION = "negotiation", "Negotiation"
    WON = "won", "Won"
    LOST = "lost", "Lost"


# The chance of winning at each stage, in percent: the board weighs expected values by it.
PROBABILITY = {
    Stage.DISCOVERY: 20,
    Stage.PROPOSAL: 50,
    Stage.NEGOTIATION: 75,
    Stage.WON: 100,
    Stage.LOST: 0,
}
OPEN_STAGES = (Stage.DISCOVERY, Stage.PROPOSAL, Stage.NEGOTIATION)


class Lead(models.Model):
    """A company that may become a client, who brought it, and what it needs."""

    company = models.CharField(max_length=200)
    contact_name = models.CharField(max_length=150)
    contact_email = models.EmailField()
    contact_phone = models.CharField(max_length=40, blank=True)
    source = models.CharField(max_length=10, choices=LeadSource.choices)
    referrer = models.ForeignKey(
        "network.Partner",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="referred_leads",
        help_text="The partner who referred the company.",
    )
    owner = models.ForeignKey(
        "network.Partner", on_delete=models.PROTECT, related_name="owned_leads"
    )
    practices = models.ManyToManyField(
        "network.Practice", blank=True, related_name="leads", help_text="What it needs."
    )
    town = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=2, default="FR", validators=[validate_country])
    time_zone = models.CharField(
        max_length=64, default="Europe/Paris", validators=[validate_time_zone]
    )
    notes = models.TextField(max_length=5000, blank=True)
    state = models.CharField(max_length=12, choices=LeadState.choices, default=LeadState.NEW)
    disqualified_reason = models.CharField(max_length=250, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = LeadQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.company


class Opportunity(models.Model):
    """A deal with a lead in one practice; once won it points at what it made."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="opportunities")
    practice = models.ForeignKey(
        "network.Practice", on_delete=models.PROTECT, related_name="opportunities"
    )
    title = models.CharField(max_length=200)
    stage = models.CharField(max_length=12, choices=Stage.choices, default=Stage.DISCOVERY)
    monthly_value = models.DecimalField(
        default=Decimal(0), validators=[MinValueValidator(Decimal(0))], **MONEY
    )
    expected_close = models.DateField(null=True, blank=True)
    lost_reason = models.CharField(max_length=250, blank=True)
    won_at = models.DateTimeField(null=True, blank=True)
    client = models.OneToOneField(
        "clients.Client", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    contract = models.ForeignKey(
        "billing.Contract", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    run = models.ForeignKey(
        "playbooks.Run", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OpportunityQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "opportunities"

    def __str__(self) -> str:
        return self.title

    @property
    def probability(self) -> int:
        return PROBABILITY[Stage(self.stage)]

    @property
    def weighted_value(self) -> Decimal:
        return (self.monthly_value * self.probability / 100).quantize(CENT)

    @property
    def is_open(self) -> bool:
        return self.stage in OPEN_STAGES


class ProposalState(models.TextChoices):
    DRAFT = "draft", "Draft"
    SENT = "sent", "Sent"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    WITHDRAWN = "withdrawn", "Withdrawn"


class Proposal(models.Model):
    """What is offered: priced services, the term, the notice and the SLA policy.

    ``link_key`` is part of the signed link: withdrawing a proposal changes nothing it signed,
    but a new key makes every earlier link of it worthless."""

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="proposals")
    number = models.PositiveIntegerField()
    term_months = models.PositiveIntegerField(
        default=12, validators=[MinValueValidator(1), MaxValueValidator(120)]
    )
    notice_days = models.PositiveIntegerField(
        default=30, validators=[MinValueValidator(0), MaxValueValidator(365)]
    )
    sla_policy = models.ForeignKey(
        "sla.SlaPolicy", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    state = models.CharField(
        max_length=10, choices=ProposalState.choices, default=ProposalState.DRAFT
    )
    link_key = models.CharField(max_length=32, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    accepted_name = models.CharField(max_length=150, blank=True)
    answered_ip = models.GenericIPAddressField(null=True, blank=True)
    decline_reason = models.CharField(max_length=250, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ProposalQuerySet.as_manager()

    class Meta:
        ordering = ["opportunity", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["opportunity", "number"], name="sales_one_proposal_number"
            )
        ]

    def __str__(self) -> str:
        return f"Proposal {self.number} · {self.opportunity.title}"

    @property
    def total(self) -> Decimal:
        return sum((line.total for line in self.lines.all()), Decimal(0))

    @property
    def term_total(self) -> Decimal:
        return self.total * self.term_months


class ProposalLine(models.Model):
    """One service of a proposal, priced per month."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField()
    description = models.CharField(max_length=200)
    quantity = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    unit_price = models.DecimalField(validators=[MinValueValidator(Decimal(0))], **MONEY)

    class Meta:
        ordering = ["proposal", "position"]

    def __str__(self) -> str:
        return self.description

    @property
    def total(self) -> Decimal:
        return (self.quantity * self.unit_price).quantize(CENT)

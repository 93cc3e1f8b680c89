"""Partners' time: weekly timesheets (submitted, then approved and locked) and the time entries
billed from them.  Part of the billing app's models (``models.py`` imports them)."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from thirdway.billing.access import TimeEntryQuerySet, TimesheetQuerySet
from thirdway.billing.models import ContractLine


class TimeKind(models.TextChoices):
    WORK = "work", "Work"
    TRAVEL = "travel", "Travel"
    ONSITE = "onsite", "On site"


class BillingStatus(models.TextChoices):
    BILLABLE = "billable", "Billable"
    DO_NOT_BILL = "do_not_bill", "Do not bill"
    NO_CHARGE = "no_charge", "No charge (shown at zero)"


class TimesheetState(models.TextChoices):
    OPEN = "open", "Open"
    SUBMITTED = "submitted", "Submitted"
    APPROVED = "approved", "Approved (locked)"
    REJECTED = "rejected", "Rejected"


class Timesheet(models.Model):
    """A partner's week, Monday to Sunday in their time zone: open, submitted, then approved
    (and locked for good) or rejected with a reason (and open to changes again)."""

    partner = models.ForeignKey("network.Partner", on_delete=models.PROTECT, related_name="+")
    week_start = models.DateField(help_text="The Monday of the week.")
    state = models.CharField(
        max_length=10, choices=TimesheetState.choices, default=TimesheetState.OPEN
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=500, blank=True, help_text="Why it was rejected.")

    objects = TimesheetQuerySet.as_manager()

    class Meta:
        ordering = ["-week_start", "partner"]
        constraints = [
            models.UniqueConstraint(fields=["partner", "week_start"], name="billing_one_week")
        ]
        indexes = [models.Index(fields=["state", "week_start"], name="billing_sheet_by_state")]

    def __str__(self) -> str:
        return f"Week of {self.week_start} · {self.partner}"

    @property
    def is_locked(self) -> bool:
        return self.state == TimesheetState.APPROVED

    @property
    def is_editable(self) -> bool:
        return self.state in (TimesheetState.OPEN, TimesheetState.REJECTED)


MINUTES_OF_A_DAY = [MinValueValidator(-24 * 60), MaxValueValidator(24 * 60)]


class TimeEntry(models.Model):
    """Time a partner spent for a client under one hourly contract line.

    The raw ``worked_minutes`` stay beside the ``billable_minutes``; the invoice line that billed
    the entry claims it (``invoice_line``), so no run bills it twice.  An entry belongs to its
    partner's week (``timesheet``); only approved weeks are invoiced.  A locked week is corrected
    by a reversing entry (``reverses``, negative minutes) and a new one, in an open week.
    ``article`` is the ticket reply or note whose minutes the entry carries.
    """

    partner = models.ForeignKey("network.Partner", on_delete=models.PROTECT, related_name="+")
    contract_line = models.ForeignKey(
        ContractLine, on_delete=models.PROTECT, related_name="time_entries"
    )
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    article = models.ForeignKey(
        "tickets.Article", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    timesheet = models.ForeignKey(
        Timesheet, null=True, blank=True, on_delete=models.PROTECT, related_name="entries"
    )
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    worked_on = models.DateField()
    start_time = models.TimeField(
        null=True,
        blank=True,
        help_text=(
            "When the work began, on the day, in the partner's time zone (optional; without "
            "it the time is billed at the line's rate whatever the hour)."
        ),
    )
    kind = models.CharField(max_length=10, choices=TimeKind.choices, default=TimeKind.WORK)
    worked_minutes = models.IntegerField(validators=MINUTES_OF_A_DAY)
    billable_minutes = models.IntegerField(validators=MINUTES_OF_A_DAY)
    billing_status = models.CharField(
        max_length=12, choices=BillingStatus.choices, default=BillingStatus.BILLABLE
    )
    note = models.CharField(max_length=500, blank=True)
    invoice_line = models.ForeignKey(
        "billing.InvoiceLine",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="time_entries",
    )
    # The after-hours line that billed the surcharge of the entry's minutes outside the
    # client's business hours (claimed like ``invoice_line``, so no run bills it twice).
    after_hours_line = models.ForeignKey(
        "billing.InvoiceLine",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="after_hours_entries",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TimeEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-worked_on", "-id"]
        verbose_name_plural = "time entries"
        indexes = [
            models.Index(fields=["contract_line", "worked_on"], name="billing_time_by_line"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(reverses__isnull=False)
                | Q(worked_minutes__gte=0, billable_minutes__gte=0),
                name="billing_time_negative_only_reversing",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.worked_minutes} min on {self.worked_on} by {self.partner}"

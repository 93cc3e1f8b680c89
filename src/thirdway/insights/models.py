"""The insights room's tables: satisfaction ratings of resolved tickets, and the daily snapshots
of the service figures that make trends cheap to draw."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from thirdway.insights.access import (
    CsatQuerySet,
    NpsQuerySet,
    ReportQuerySet,
    SnapshotQuerySet,
)

COMMENT_LENGTH = 1000
LOW_SCORE = 2  # a score at or below this opens a follow-up ticket for the lead partner


class Rating(models.IntegerChoices):
    BAD = 1, "Bad"
    POOR = 2, "Poor"
    OKAY = 3, "Okay"
    FAIR = 4, "Fair"
    GOOD = 5, "Good"


class CsatResponse(models.Model):
    """A client's rating of one resolved ticket (one per ticket: the link is single-use)."""

    ticket = models.OneToOneField(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="csat_response"
    )
    client = models.ForeignKey(
        "clients.Client", on_delete=models.CASCADE, related_name="csat_responses"
    )
    contact = models.ForeignKey(
        "clients.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    partner = models.ForeignKey(
        "network.Partner", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    practice = models.ForeignKey(
        "network.Practice", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    score = models.PositiveSmallIntegerField(
        choices=Rating.choices, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    comment = models.TextField(max_length=COMMENT_LENGTH, blank=True)
    follow_up = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = CsatQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.score}/5 on ticket {self.ticket_id}"


class Scope(models.TextChoices):
    PRACTICE = "practice", "Practice"
    PARTNER = "partner", "Partner"
    CLIENT = "client", "Client"


UNCATEGORISED = "Uncategorised"


class DailySnapshot(models.Model):
    """The service figures of one practice, partner or client on one UTC day.

    Written by the daily job (``snapshots.take``), which replaces a day's rows as a whole, so a
    rerun of the same day writes the same rows once.
    """

    day = models.DateField()
    scope = models.CharField(max_length=10, choices=Scope.choices)
    subject_id = models.PositiveBigIntegerField()
    practice = models.ForeignKey(
        "network.Practice", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    partner = models.ForeignKey(
        "network.Partner", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    client = models.ForeignKey(
        "clients.Client", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # "" for all the subject's tickets; otherwise the row counts only tickets of this category
    # (a ticket without one: ``UNCATEGORISED``).
    category = models.CharField(max_length=100, blank=True, default="")
    opened = models.PositiveIntegerField(default=0)
    resolved = models.PositiveIntegerField(default=0)
    first_response_p50 = models.FloatField(null=True, blank=True)  # minutes
    first_response_p90 = models.FloatField(null=True, blank=True)
    first_response_business = models.BooleanField(default=True)
    sla_met = models.PositiveIntegerField(default=0)
    sla_measured = models.PositiveIntegerField(default=0)
    backlog = models.PositiveIntegerField(default=0)
    backlog_age_p50 = models.FloatField(null=True, blank=True)  # hours
    backlog_age_max = models.FloatField(null=True, blank=True)
    reopened = models.PositiveIntegerField(default=0)
    csat_count = models.PositiveIntegerField(default=0)
    csat_sum = models.PositiveIntegerField(default=0)
    first_contact = models.PositiveIntegerField(default=0)  # of resolved: one reply, no reopening
    desk_resolved = models.PositiveIntegerField(default=0)  # of resolved: by a desk agent
    onsite_resolved = models.PositiveIntegerField(default=0)  # of resolved: with on-site work
    travel_minutes = models.PositiveIntegerField(default=0)  # travel logged on the day
    from_alerts = models.PositiveIntegerField(default=0)  # of opened: by monitoring
    billable_minutes = models.IntegerField(default=0)  # time entries worked on the day
    scheduled_minutes = models.PositiveIntegerField(default=0)  # a partner's working hours
    taken_at = models.DateTimeField(default=timezone.now)

    objects = SnapshotQuerySet.as_manager()

    class Meta:
        ordering = ["day", "scope", "subject_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["day", "scope", "subject_id", "category"],
                name="insights_one_snapshot_per_day_and_category",
            )
        ]
        # one subject's days (the metrics page, the API): the unique index leads with the day,
        # so a year of a practice read every subject's rows of the year
        indexes = [
            models.Index(
                fields=["scope", "subject_id", "category", "day"],
                name="insights_snapshot_subject_day",
            )
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.subject_id} on {self.day}"

    @property
    def sla_attainment(self) -> float | None:
        return None if not self.sla_measured else self.sla_met / self.sla_measured

    @property
    def reopen_rate(self) -> float | None:
        return None if not self.resolved else self.reopened / self.resolved

    @property
    def csat_average(self) -> float | None:
        return None if not self.csat_count else self.csat_sum / self.csat_count

    @property
    def first_contact_rate(self) -> float | None:
        return None if not self.resolved else self.first_contact / self.resolved

    @property
    def desk_share(self) -> float | None:
        return None if not self.resolved else self.desk_resolved / self.resolved

    @property
    def onsite_share(self) -> float | None:
        return None if not self.resolved else self.onsite_resolved / self.resolved

    @property
    def utilisation(self) -> float | None:
        if not self.scheduled_minutes:
            return None
        return self.billable_minutes / self.scheduled_minutes


# --- client reports ------------------------------------------------------------------------------


class Cadence(models.TextChoices):
    OFF = "off", "Off"
    MONTHLY = "monthly", "Monthly"
    QUARTERLY = "quarterly", "Quarterly"


class ReportSchedule(models.Model):
    """How often a client gets a report made for it (a client without a row: never)."""

    client = models.OneToOneField(
        "clients.Client", on_delete=models.CASCADE, related_name="report_schedule"
    )
    cadence = models.CharField(max_length=10, choices=Cadence.choices, default=Cadence.OFF)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.client} {self.cadence}"


AUTO_RELEASE_DEFAULT = 5
AUTO_RELEASE_MAX = 60


class ReportPolicy(models.Model):
    """The practice's one rule for drafts nobody released: after this many days the clock
    releases them (0: never; a person must)."""

    auto_release_days = models.PositiveSmallIntegerField(
        default=AUTO_RELEASE_DEFAULT, validators=[MaxValueValidator(AUTO_RELEASE_MAX)]
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"auto-release after {self.auto_release_days} days"

    @classmethod
    def current(cls) -> ReportPolicy:
        return cls.objects.order_by("pk").first() or cls()


class ReportStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    RELEASED = "released", "Released"


class ClientReport(models.Model):
    """One client's report of one month or quarter: its figures computed once when it was made
    (``figures``, the JSON of ``client_reports.Report``), a draft until released. One row per
    client and period, so a period is reported, and mailed, once."""

    client = models.ForeignKey(
        "clients.Client", on_delete=models.CASCADE, related_name="insight_reports"
    )
    cadence = models.CharField(max_length=10, choices=Cadence.choices)
    period_start = models.DateField()
    period_end = models.DateField(help_text="The last day of the period.")
    status = models.CharField(
        max_length=10, choices=ReportStatus.choices, default=ReportStatus.DRAFT
    )
    figures = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    mailed_to = models.PositiveSmallIntegerField(default=0)

    objects = ReportQuerySet.as_manager()

    class Meta:
        ordering = ["-period_start", "client_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "period_start", "period_end"],
                name="insights_one_report_per_client_and_period",
            )
        ]

    def __str__(self) -> str:
        return f"{self.client} {self.period_label}"

    @property
    def period_label(self) -> str:
        if self.cadence == Cadence.QUARTERLY:
            return f"Q{(self.period_start.month - 1) // 3 + 1} {self.period_start.year}"
        return self.period_start.strftime("%B %Y")

    @property
    def is_released(self) -> bool:
        return self.status == ReportStatus.RELEASED


# --- net promoter score --------------------------------------------------------------------------

NPS_DAY_MAX = 90  # a quarter has at least 90 days
NPS_FOLLOW_UP_DEFAULT = 6  # 0-6 detract
NPS_FOLLOW_UP_MAX = 8  # 9 and 10 promote: never a follow-up


class NpsPolicy(models.Model):
    """The practice's one rule for the net promoter question: whether it is asked, on which day
    of each quarter it goes out, and whether a detractor's answer opens a follow-up ticket."""

    enabled = models.BooleanField(default=False)
    day_of_quarter = models.PositiveSmallIntegerField(
        default=15, validators=[MinValueValidator(1), MaxValueValidator(NPS_DAY_MAX)]
    )
    follow_up_detractors = models.BooleanField(default=False)
    follow_up_at_most = models.PositiveSmallIntegerField(
        default=NPS_FOLLOW_UP_DEFAULT,
        validators=[MaxValueValidator(NPS_FOLLOW_UP_MAX)],
        help_text="An answer at or under this score opens the follow-up (0-6 detract).",
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"NPS {'on' if self.enabled else 'off'}, day {self.day_of_quarter}"

    @classmethod
    def current(cls) -> NpsPolicy:
        return cls.objects.order_by("pk").first() or cls()


class NpsSurvey(models.Model):
    """The net promoter question put to one client contact in one quarter (one row per contact
    and quarter: the row is claimed before the e-mail goes, so it is asked once), and the
    answer when it came (``score`` 0-10, set once)."""

    contact = models.ForeignKey(
        "clients.Contact", on_delete=models.CASCADE, related_name="nps_surveys"
    )
    client = models.ForeignKey("clients.Client", on_delete=models.CASCADE, related_name="+")
    practice = models.ForeignKey(
        "network.Practice", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    quarter_start = models.DateField()
    asked_at = models.DateTimeField(default=timezone.now)
    mailed = models.BooleanField(default=False)
    score = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(10)]
    )
    comment = models.TextField(max_length=COMMENT_LENGTH, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True, db_index=True)
    follow_up = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = NpsQuerySet.as_manager()

    class Meta:
        ordering = ["-quarter_start", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["contact", "quarter_start"], name="insights_one_nps_per_contact_quarter"
            )
        ]

    def __str__(self) -> str:
        return f"NPS of contact {self.contact_id} for {self.quarter_start}"


# --- the practice's thresholds -------------------------------------------------------------------

# name: (default, least, most); the defaults are the rules the reports were first written with
THRESHOLD_BOUNDS: dict[str, tuple[float, float, float]] = {
    "csat_follow_up_at_most": (LOW_SCORE, 1, 4),
    "csat_low_average": (3.5, 1.0, 5.0),
    "csat_min_count": (3, 1, 1000),
    "sla_target_percent": (90, 1, 100),
    "repeat_asset_tickets": (3, 2, 1000),
    "repeat_subject_tickets": (3, 2, 1000),
    "repeat_check_alerts": (3, 2, 10000),
    "expiry_horizon_days": (60, 1, 366),
    "expiry_soon_days": (30, 1, 366),
}


def _bounded(name: str, field: type[models.Field], **kwargs: object) -> models.Field:
    default, least, most = THRESHOLD_BOUNDS[name]
    return field(
        default=default,
        validators=[MinValueValidator(least), MaxValueValidator(most)],
        **kwargs,
    )


class InsightThresholds(models.Model):
    """The practice's one set of thresholds: when a low rating opens a follow-up ticket, and
    when a client report lists a risk or makes a recommendation. Without a row, the defaults."""

    csat_follow_up_at_most = _bounded(
        "csat_follow_up_at_most",
        models.PositiveSmallIntegerField,
        help_text="A rating at or under this (of 5) opens a follow-up ticket.",
    )
    csat_low_average = _bounded(
        "csat_low_average",
        models.FloatField,
        help_text="A report's average rating under this recommends a call to the client.",
    )
    csat_min_count = _bounded(
        "csat_min_count",
        models.PositiveIntegerField,
        help_text="The ratings a report needs before its average recommends anything.",
    )
    sla_target_percent = _bounded(
        "sla_target_percent",
        models.PositiveSmallIntegerField,
        help_text="A clock met less often than this (percent) recommends a review.",
    )
    repeat_asset_tickets = _bounded(
        "repeat_asset_tickets",
        models.PositiveIntegerField,
        help_text="Tickets on one device in a period that recommend replacing it.",
    )
    repeat_subject_tickets = _bounded(
        "repeat_subject_tickets",
        models.PositiveIntegerField,
        help_text="Tickets of one recurring subject that recommend finding the cause.",
    )
    repeat_check_alerts = _bounded(
        "repeat_check_alerts",
        models.PositiveIntegerField,
        help_text="Alerts of one check in a period that recommend fixing what fails.",
    )
    expiry_horizon_days = _bounded(
        "expiry_horizon_days",
        models.PositiveSmallIntegerField,
        help_text="Expirations this many days after the period are listed as risks.",
    )
    expiry_soon_days = _bounded(
        "expiry_soon_days",
        models.PositiveSmallIntegerField,
        help_text="An unacknowledged expiration this close recommends renewing it.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return "insight thresholds"

    @classmethod
    def current(cls) -> InsightThresholds:
        return cls.objects.order_by("pk").first() or cls()

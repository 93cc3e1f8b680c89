"""The ticket itself: its type, channel, tags and the number people see."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from thirdway.tickets.access import TicketQuerySet
from thirdway.tickets.lifecycle import LABELS, OPEN, WAITING, Status

STATUS_CHOICES = [(status.value, LABELS[status]) for status in Status]
USER = settings.AUTH_USER_MODEL
# A moment before any sweep: a ticket written without its next check is read by the next sweep.
SLA_CHECK_NOW = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


class TicketType(models.TextChoices):
    INCIDENT = "incident", "Incident"
    SERVICE_REQUEST = "service_request", "Service request"
    CHANGE = "change", "Change"
    PROBLEM = "problem", "Problem"
    ALERT = "alert", "Alert"
    MAINTENANCE = "maintenance", "Maintenance"


class Channel(models.TextChoices):
    PORTAL = "portal", "Portal"
    EMAIL = "email", "E-mail"
    API = "api", "API"
    PHONE = "phone", "Phone"
    MONITORING = "monitoring", "Monitoring"
    SCHEDULED = "scheduled", "Scheduled"
    WEB = "web", "Desk"


# A ticket carries at most this many tags, each of at most this many characters.
MAX_TAGS = 20
TAG_LENGTH = 50


class Tag(models.Model):
    name = models.CharField(max_length=TAG_LENGTH, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


LEVEL = [MinValueValidator(1), MaxValueValidator(3)]


class Ticket(models.Model):
    """A request for help from a client, with its lifecycle, priority and people.

    The number shown to people is ``TW-<10000 + id>``; a merged ticket keeps its number and
    points at the ticket it was merged into.
    """

    client = models.ForeignKey("clients.Client", on_delete=models.PROTECT, related_name="tickets")
    requester = models.ForeignKey(
        "clients.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    site = models.ForeignKey(
        "clients.Site", null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    asset = models.ForeignKey(
        "clients.Asset", null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    practice = models.ForeignKey(
        "network.Practice", null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    subject = models.CharField(max_length=250)
    category = models.CharField(max_length=100, blank=True)
    type = models.CharField(max_length=20, choices=TicketType.choices, default=TicketType.INCIDENT)
    impact = models.PositiveSmallIntegerField(default=2, validators=LEVEL)
    urgency = models.PositiveSmallIntegerField(default=2, validators=LEVEL)
    priority = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1), MaxValueValidator(4)]
    )
    priority_reason = models.CharField(
        max_length=250, blank=True, help_text="Why the priority differs from the matrix."
    )
    channel = models.CharField(max_length=20, choices=Channel.choices, default=Channel.WEB)
    status = models.CharField(max_length=20, choices=STATUS_CHOICES, default=Status.NEW)
    needs_onsite = models.BooleanField(default=False)
    visit_starts_at = models.DateTimeField(null=True, blank=True)
    visit_ends_at = models.DateTimeField(null=True, blank=True)
    assignee = models.ForeignKey(
        "network.Partner",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tickets",
    )
    watchers = models.ManyToManyField(USER, blank=True, related_name="watched_tickets")
    tags = models.ManyToManyField(Tag, blank=True, related_name="tickets")
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_tickets"
    )
    # Set before the first save, so the SLA clocks can start from it (``clocks.start``).
    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)
    first_responded_at = models.DateTimeField(null=True, blank=True)
    sla_policy = models.ForeignKey(
        "sla.SlaPolicy", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sla_calendar = models.ForeignKey(
        "sla.BusinessCalendar", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    first_response_due_at = models.DateTimeField(null=True, blank=True)
    next_response_due_at = models.DateTimeField(null=True, blank=True)
    resolution_due_at = models.DateTimeField(null=True, blank=True)
    awaiting_reply_since = models.DateTimeField(
        null=True, blank=True, help_text="The client's unanswered reply (next-response clock)."
    )
    sla_due_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="The soonest due time of the running clocks: queues sort by it.",
    )
    # When the clock sweep must next look at the ticket: the next escalation step or pause
    # boundary of its running clocks, or the moment a change made it due again; empty when
    # nothing can happen until the ticket changes.  New rows are due at once (SLA_CHECK_NOW).
    sla_check_at = models.DateTimeField(null=True, blank=True, default=SLA_CHECK_NOW)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    unassignable_reason = models.CharField(
        max_length=500,
        blank=True,
        help_text="Why the dispatcher found nobody: the ticket waits in the desk's queue.",
    )
    search_text = models.TextField(
        blank=True,
        editable=False,
        help_text="Number, subject, requester e-mail and public replies: what clients may find.",
    )
    note_text = models.TextField(
        blank=True, editable=False, help_text="Internal notes: searched for the network only."
    )

    objects = TicketQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(fields=["status", "-updated_at"]),
            models.Index(fields=["assignee", "status"]),
            models.Index(fields=["client", "status"]),
            models.Index(fields=["practice", "status"]),
            # Queues list open tickets newest first; a partial index keeps them off the
            # closed majority (a million-ticket desk is mostly closed tickets).
            models.Index(
                fields=["-updated_at", "-id"],
                condition=Q(status__in=sorted(status.value for status in OPEN)),
                name="ticket_open_by_update",
            ),
            models.Index(
                fields=["-updated_at"],
                condition=Q(assignee__isnull=True) & ~Q(unassignable_reason=""),
                name="ticket_unassignable",
            ),
            # The clock sweep reads the tickets whose sla_check_at has come (a few per minute).
            models.Index(
                fields=["sla_check_at"],
                condition=Q(sla_check_at__isnull=False),
                name="ticket_by_sla_check",
            ),
            models.Index(
                fields=["sla_due_at", "id"],
                condition=Q(sla_due_at__isnull=False),
                name="ticket_by_sla_due",
            ),
            # Unassigned tickets (the unassigned and triage queues, and the "unassigned in my
            # practices" branch of a partner's scope) and waiting ones: each a few percent of a
            # large desk, walked newest first.
            models.Index(
                fields=["-updated_at", "-id"],
                condition=Q(assignee__isnull=True),
                name="ticket_unassigned_by_update",
                # PostgreSQL filters and counts by practice and status from the index alone.
                include=["practice", "status"],
            ),
            models.Index(
                fields=["-updated_at", "-id"],
                condition=Q(status__in=sorted(status.value for status in WAITING)),
                name="ticket_waiting_by_update",
            ),
            # A partner's waiting queue asks "unassigned in my practices" for waiting tickets:
            # hardly any, but PostgreSQL guesses a thousand and walks all unassigned tickets
            # (40,000 of a million) looking for them, once to count and once for the page.
            models.Index(
                fields=["-updated_at", "-id"],
                condition=Q(assignee__isnull=True)
                & Q(status__in=sorted(status.value for status in WAITING)),
                name="ticket_unassigned_waiting",
                include=["practice"],
            ),
            # Open tickets in the queues' other orders: "breaches soonest" (missing due times
            # last) and by priority (also "priority 1, open": the index's first column).  Each
            # is read from its start, where a sort of every open ticket (600,000 of ten
            # million) took a third of a second.
            models.Index(
                # Ascending puts missing values last on PostgreSQL, as the order wants (SQLite
                # cannot say NULLS LAST in an index).
                fields=["sla_due_at", "id"],
                condition=Q(status__in=sorted(status.value for status in OPEN)),
                name="ticket_open_by_sla",
            ),
            models.Index(
                "priority",
                F("updated_at").desc(),
                F("id").desc(),
                condition=Q(status__in=sorted(status.value for status in OPEN)),
                name="ticket_open_by_priority",
            ),
            # A partner's "unassigned in my practices": without it PostgreSQL ANDs a bitmap of
            # the unassigned tickets with one of every ticket of those practices (a third of
            # the table: 85 ms at a million, ten times that at ten million).
            models.Index(
                fields=["practice", "status"],
                condition=Q(assignee__isnull=True),
                name="ticket_unassigned_by_practice",
            ),
            # The same, newest first by number (search): the newest unassigned tickets are
            # walked and tested, not every unassigned ticket of those practices read and sorted.
            models.Index(
                fields=["-id"],
                condition=Q(assignee__isnull=True),
                name="ticket_unassigned_by_id",
                include=["practice"],
            ),
            # And newest first by creation (a partner's list sorted by creation date).
            models.Index(
                fields=["-created_at", "-id"],
                condition=Q(assignee__isnull=True),
                name="ticket_unassigned_by_creation",
                include=["practice"],
            ),
            # "Resolved within 7 days": counted (up to the cap) from the index, not the table.
            models.Index(fields=["resolved_at"], name="ticket_resolved_at"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(priority__gte=1, priority__lte=4), name="ticket_priority_1_4"
            ),
            models.CheckConstraint(
                condition=Q(visit_starts_at__isnull=True)
                | Q(visit_ends_at__isnull=True)
                | Q(visit_ends_at__gt=models.F("visit_starts_at")),
                name="ticket_visit_window_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.subject}"

    @property
    def number(self) -> str:
        return number_of(self.pk)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN

    def get_status_display(self) -> str:
        return LABELS[Status(self.status)]


NUMBER_PREFIX = "TW-"
NUMBER_OFFSET = 10000


def number_of(pk: int | None) -> str:
    return f"{NUMBER_PREFIX}{NUMBER_OFFSET + pk}" if pk else f"{NUMBER_PREFIX}?"


def pk_of_number(text: str) -> int | None:
    """The id behind ``TW-10234`` (or ``10234``), or None when it is not a ticket number."""
    text = text.strip().upper().removeprefix(NUMBER_PREFIX)
    if not text.isdigit() or int(text) <= NUMBER_OFFSET:
        return None
    return int(text) - NUMBER_OFFSET

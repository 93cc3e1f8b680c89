"""Tickets and what hangs off them: articles, attachments, links, tags, saved views, webhooks."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from thirdway.tickets.access import ArticleQuerySet, AttachmentQuerySet, TicketQuerySet
from thirdway.tickets.lifecycle import LABELS, OPEN, WAITING, Status

STATUS_CHOICES = [(status.value, LABELS[status]) for status in Status]
USER = settings.AUTH_USER_MODEL


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


class Tag(models.Model):
    name = models.CharField(max_length=50, unique=True)

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


class ArticleKind(models.TextChoices):
    REPLY = "reply", "Public reply"
    NOTE = "note", "Internal note"
    EVENT = "event", "System event"


class Article(models.Model):
    """One entry on a ticket's timeline: a public reply, an internal note or a system event."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="articles")
    kind = models.CharField(max_length=10, choices=ArticleKind.choices)
    author = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_label = models.CharField(max_length=200)
    body_html = models.TextField(blank=True, help_text="Sanitised HTML.")
    body_text = models.TextField(blank=True)
    event = models.CharField(max_length=50, blank=True)
    data = models.JSONField(default=dict, blank=True)
    time_spent_minutes = models.PositiveIntegerField(default=0)
    channel = models.CharField(max_length=20, choices=Channel.choices, default=Channel.WEB)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.ticket_id}"

    @property
    def is_public(self) -> bool:
        return self.kind == ArticleKind.REPLY


def attachment_path(instance: Attachment, filename: str) -> str:
    return f"attachments/{instance.sha256[:2]}/{instance.sha256}"


class Attachment(models.Model):
    """A file on an article; stored once per content and served only to who sees the ticket."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="attachments")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=200)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AttachmentQuerySet.as_manager()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.filename


class LinkKind(models.TextChoices):
    RELATED = "related", "Related to"
    DUPLICATE = "duplicate", "Duplicate of"
    PARENT = "parent", "Parent of"


class TicketLink(models.Model):
    """``source`` is related to / a duplicate of / the parent of ``target``."""

    source = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="links_out")
    target = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="links_in")
    kind = models.CharField(max_length=20, choices=LinkKind.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "target", "kind"], name="one_link_per_kind"),
            models.CheckConstraint(
                condition=~Q(source=models.F("target")), name="no_link_to_itself"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source_id} {self.kind} {self.target_id}"


class IdempotentRequest(models.Model):
    """The first answer to a POST with an ``Idempotency-Key``, replayed to every retry."""

    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path and body.")
    status_code = models.PositiveSmallIntegerField(null=True)
    response = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="one_answer_per_key")]

    def __str__(self) -> str:
        return f"{self.key} ({self.status_code or 'in progress'})"


class SavedView(models.Model):
    """A named queue filter a person keeps (the query string of the queue page)."""

    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="saved_views")
    name = models.CharField(max_length=80)
    query = models.CharField(max_length=500)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="one_view_name_per_user")
        ]

    def __str__(self) -> str:
        return self.name


class CannedReply(models.Model):
    """A reply text the desk reuses, for one practice or for all."""

    name = models.CharField(max_length=80, unique=True)
    body = models.TextField()
    practice = models.ForeignKey(
        "network.Practice", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "canned replies"

    def __str__(self) -> str:
        return self.name


class Webhook(models.Model):
    """A URL told about ticket events, signed with its secret."""

    name = models.CharField(max_length=100)
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=100)
    events = models.JSONField(default=list, blank=True, help_text="Event names; empty means all.")
    client = models.ForeignKey(
        "clients.Client",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="Only this client's tickets.",
    )
    allow_private_target = models.BooleanField(
        default=False, help_text="Set by a practice admin to allow an internal address."
    )
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    RETRYING = "retrying", "Retrying"
    FAILED = "failed", "Failed"


class WebhookDelivery(models.Model):
    """One event for one webhook; retried with backoff until delivered or out of attempts."""

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=50)
    payload = models.JSONField()
    status = models.CharField(
        max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.event} → {self.webhook} ({self.status})"


class ClockPause(models.Model):
    """A stretch during which the ticket's SLA clocks stood still (waiting on the client, on a
    third party, or for a scheduled visit); ``ended_at`` is empty while it lasts."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="clock_pauses")
    reason = models.CharField(max_length=20, choices=STATUS_CHOICES)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["ticket", "started_at"]
        indexes = [models.Index(fields=["ticket", "started_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket"], condition=Q(ended_at__isnull=True), name="one_open_pause"
            )
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} paused {self.started_at:%Y-%m-%d %H:%M}"


class SlaEscalation(models.Model):
    """One escalation step fired on one clock of a ticket.

    The unique constraint is the claim: the step's row is inserted before its actions run, in
    the same transaction, so two clock workers can never act twice.  ``cycle_start`` tells the
    next-response clocks of successive client replies apart.
    """

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="escalations")
    clock = models.CharField(max_length=20)
    cycle_start = models.DateTimeField()
    percent = models.PositiveSmallIntegerField()
    actions = models.JSONField(default=list)
    outcome = models.TextField(blank=True)
    fired_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["fired_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "clock", "cycle_start", "percent"], name="one_escalation_per_step"
            )
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.clock} {self.percent}%"


class ClockFailure(models.Model):
    """A ticket the clock worker could not evaluate; the sweep went on with the others."""

    ticket = models.ForeignKey(
        Ticket, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    job = models.CharField(max_length=50)
    error = models.TextField()
    occurred_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-occurred_at"]

    def __str__(self) -> str:
        return f"{self.job} on {self.ticket_id}: {self.error[:60]}"


class Handover(models.Model):
    """An open ticket handed to a deputy because its partner is away; undone on their return."""

    absence = models.ForeignKey(
        "network.Absence", on_delete=models.CASCADE, related_name="handovers"
    )
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="handovers")
    from_partner = models.ForeignKey("network.Partner", on_delete=models.CASCADE, related_name="+")
    to_partner = models.ForeignKey(
        "network.Partner", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    handed_at = models.DateTimeField(auto_now_add=True)
    returned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["handed_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["absence", "ticket"], name="one_handover_per_absence")
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.from_partner_id} → {self.to_partner_id}"


class DispatchKind(models.TextChoices):
    ARRIVAL = "arrival", "Assigned on arrival"
    REOPTIMISE = "reoptimise", "Assigned with the queue"
    SUGGESTION = "suggestion", "Ranked on request"
    UNASSIGNABLE = "unassignable", "Nobody can take it"
    OVERRIDE = "override", "Assigned by a person instead"


class DispatchRecord(models.Model):
    """A decision of the dispatcher on a ticket, or a person's override of one.

    ``candidates`` keeps the best few as the engine ranked them (partner, total score, the
    weighted score of each term and the one-line explanation), so *why this partner* can be
    shown later exactly as it was decided.
    """

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="dispatch_records")
    kind = models.CharField(max_length=20, choices=DispatchKind.choices)
    partner = models.ForeignKey(
        "network.Partner", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField(blank=True)
    candidates = models.JSONField(default=list, blank=True)
    rejected_by = models.JSONField(default=dict, blank=True)
    feasible_count = models.PositiveIntegerField(default=0)
    decided_at = models.DateTimeField()

    class Meta:
        ordering = ["-decided_at", "-id"]
        indexes = [models.Index(fields=["ticket", "-decided_at"])]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.kind} → {self.partner_id}"

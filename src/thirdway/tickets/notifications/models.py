"""What the network is told about tickets (the bell and its list) and how each person wants
to hear of it."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from thirdway.tickets.models.ticket import USER, Ticket


class NotificationKind(models.TextChoices):
    ASSIGNED = "assigned", "Assigned to me"
    CLIENT_REPLIED = "client_replied", "The client replied on my ticket"
    HANDED_OVER = "handed_over", "Handed to me while someone is away"
    TAKEN_BACK = "taken_back", "Taken back from me"
    SLA_WARNING = "sla_warning", "SLA warning"
    SLA_BREACH = "sla_breach", "SLA breach"
    MENTIONED = "mentioned", "Mentioned in a note"
    OFFERED = "offered", "Work offered to me"
    PREEMPTED = "preempted", "My work set aside for a P1"
    NEXT_TICKET = "next_ticket", "My next ticket, to take"


# What a person gets by e-mail until they choose: everything but the hand-backs, which only
# take work off their hands.
DEFAULT_EMAIL_KINDS = tuple(k.value for k in NotificationKind if k != NotificationKind.TAKEN_BACK)


class NotificationQuerySet(models.QuerySet):
    def for_user(self, user) -> NotificationQuerySet:
        """Everyone sees their own notifications only."""
        if not (user.is_authenticated and user.is_active):
            return self.none()
        return self.filter(recipient=user)

    def unread(self) -> NotificationQuerySet:
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    """One thing a person of the network should know about a ticket; read once they say so.

    The same kind for the same ticket and person within a few minutes is one notification
    (``services.notify``), refreshed rather than repeated.
    """

    recipient = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=20, choices=NotificationKind.choices)
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="notifications")
    text = models.CharField(max_length=500)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # the bell's count and the list's first page: a person's unread, newest first
            models.Index(
                fields=["recipient", "-created_at"],
                condition=Q(read_at__isnull=True),
                name="notification_unread",
            ),
            models.Index(fields=["recipient", "-created_at", "-id"], name="notification_list"),
            # the look-up that folds a repeat into the notification it repeats
            models.Index(fields=["recipient", "ticket", "kind", "-created_at"], name="notif_same"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.recipient_id} on {self.ticket_id}"


class NotificationPreferenceQuerySet(models.QuerySet):
    def for_user(self, user) -> NotificationPreferenceQuerySet:
        if not (user.is_authenticated and user.is_active):
            return self.none()
        return self.filter(user=user)


class NotificationPreference(models.Model):
    """How one person hears of things: in the app always; by e-mail for the kinds listed, at
    ``email`` (empty: the address of their account)."""

    user = models.OneToOneField(
        USER, on_delete=models.CASCADE, related_name="notification_preference"
    )
    email_kinds = models.JSONField(default=list, blank=True)
    email = models.EmailField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = NotificationPreferenceQuerySet.as_manager()

    def __str__(self) -> str:
        return f"notification preferences of {self.user_id}"

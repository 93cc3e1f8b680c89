"""The only writers of notifications and preferences.

``notify`` is called by the ticket services where something happens to someone (assignment,
hand-over, a client's reply, an SLA step, a mention), inside their transaction: a rolled-back
change tells nobody.  The e-mail of a notification is the mail room's: it registers with
``mail_with`` at start-up (mail sits above tickets), and is handed each new notification whose
recipient wants its kind by e-mail, with the address to use.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from thirdway.audit.services import record
from thirdway.errors import invalid, require
from thirdway.tickets.access import SEES_ALL
from thirdway.tickets.models import DispatchOffer, OfferState, Ticket
from thirdway.tickets.notifications.models import (
    DEFAULT_EMAIL_KINDS,
    Notification,
    NotificationKind,
    NotificationPreference,
)

# Repeats of one kind for one ticket and person within this window fold into one notification.
REPEAT_WINDOW = dt.timedelta(minutes=10)
TEXT_LENGTH = 500
Mailer = Callable[[Notification, str], None]
_MAILERS: list[Mailer] = []


def mail_with(callback: Mailer) -> None:
    """Register who sends a notification by e-mail (the mail room, at start-up)."""
    if callback not in _MAILERS:
        _MAILERS.append(callback)


Letter = Callable[..., object]
_LETTERS: list[Letter] = []


def letters_with(callback: Letter) -> None:
    """Register who mails a message from the network that belongs to no ticket (the mail
    room's outbox, at start-up), for the rooms beside the mail room that cannot import it."""
    if callback not in _LETTERS:
        _LETTERS.append(callback)


def send_letter(
    address: str,
    *,
    to_name: str,
    subject: str,
    body: str,
    dedupe_key: str,
    attachments: tuple[tuple[str, str, bytes], ...] = (),
) -> bool:
    """Queue one such message, once per ``dedupe_key``: whether it was queued now (False
    without a mail room, for an empty address, or when the key was queued before).
    ``attachments``: (file name, MIME type, content) of the files it carries."""
    queued = False
    files = {"attachments": tuple(attachments)} if attachments else {}
    for callback in _LETTERS:
        found = callback(
            address, to_name=to_name, subject=subject, body=body, dedupe_key=dedupe_key, **files
        )
        queued = queued or found is not None
    return queued


def may_be_told(user, ticket: Ticket) -> bool:
    """Only active people of the network who can see the ticket are told about it."""
    if user is None or not user.is_network_staff:
        return False
    if user.role in SEES_ALL or _is_assignee(user, ticket):
        return True  # what the access rule would answer, without asking the database
    return Ticket.objects.for_user(user).filter(pk=ticket.pk).exists()


def _is_assignee(user, ticket: Ticket) -> bool:
    """Whether ``user`` is the ticket's assignee, when the assignee is already loaded (the
    network sees what is assigned to them)."""
    field = Ticket._meta.get_field("assignee")
    if ticket.assignee_id is None or not field.is_cached(ticket):
        return False
    return ticket.assignee.user_id == user.pk


def _offered_to(user, kind: str, ticket: Ticket) -> bool:
    """An offer's notice goes to its partner even where the ticket is not yet theirs to see."""
    if kind != NotificationKind.OFFERED or user is None or not user.is_active:
        return False
    return DispatchOffer.objects.filter(
        ticket=ticket, partner__user=user, state=OfferState.OPEN
    ).exists()


def notify(recipient, kind: str, ticket: Ticket, text: str, *, now=None) -> Notification | None:
    """Tell ``recipient`` about ``ticket``; None when they may not see it.

    A repeat (same kind, ticket and person within ``REPEAT_WINDOW``) refreshes the earlier
    notification, unread again, and sends no second e-mail.  Callers hold the ticket's row
    lock, so two repeats never race into two rows.
    """
    if kind not in NotificationKind.values:
        raise ValueError(f"Unknown notification kind {kind!r}")
    if not (may_be_told(recipient, ticket) or _offered_to(recipient, kind, ticket)):
        return None
    now = now or timezone.now()
    text = text.strip()[:TEXT_LENGTH]
    earlier = (
        Notification.objects.filter(
            recipient=recipient, ticket=ticket, kind=kind, created_at__gte=now - REPEAT_WINDOW
        )
        .order_by("-created_at")
        .first()
    )
    if earlier is not None:
        earlier.text, earlier.created_at, earlier.read_at = text, now, None
        earlier.save(update_fields=["text", "created_at", "read_at"])
        return earlier
    notification = Notification.objects.create(
        recipient=recipient, kind=kind, ticket=ticket, text=text, created_at=now
    )
    address = email_address(recipient, kind)
    if address:
        for callback in _MAILERS:
            callback(notification, address)
    return notification


def notify_all(recipients: Iterable, kind: str, ticket: Ticket, text: str) -> list[Notification]:
    """``notify`` each person once (the same person named twice is told once)."""
    told, seen = [], set()
    for user in recipients:
        if user is None or user.pk in seen:
            continue
        seen.add(user.pk)
        notification = notify(user, kind, ticket, text)
        if notification is not None:
            told.append(notification)
    return told


# --- who wants what by e-mail --------------------------------------------------------------------


def preferences_of(user) -> NotificationPreference:
    """The person's preferences, or the defaults (unsaved) when they never chose."""
    found = NotificationPreference.objects.filter(user=user).first()
    return found or NotificationPreference(user=user, email_kinds=list(DEFAULT_EMAIL_KINDS))


def email_address(user, kind: str) -> str:
    """Where ``kind`` is e-mailed to ``user``, or '' when they do not want it by e-mail."""
    preference = preferences_of(user)
    if kind not in preference.email_kinds:
        return ""
    return preference.email or user.email


@transaction.atomic
def save_preferences(actor, *, email_kinds: Iterable[str], email: str = "", source: str):
    """Choose which kinds come by e-mail, and to which address (empty: the account's)."""
    require(actor.is_network_staff, "Notifications are for people of the network.")
    kinds = sorted(set(email_kinds))
    unknown = [kind for kind in kinds if kind not in NotificationKind.values]
    if unknown:
        raise invalid(
            "email_kinds",
            f"Unknown notification kind {unknown[0]!r}.",
            ", ".join(NotificationKind.values),
        )
    email = email.strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise invalid(
                "email",
                f"{email!r} is not an e-mail address.",
                "an address such as you@example.com, or empty for your account's address",
            ) from None
    preference = preferences_of(actor)
    before = {"email_kinds": sorted(preference.email_kinds), "email": preference.email}
    preference.email_kinds, preference.email = kinds, email
    preference.save()
    changes = {
        name: [before[name], value]
        for name, value in (("email_kinds", kinds), ("email", email))
        if before[name] != value
    }
    record(actor, "notifications.preferences", preference, source=source, changes=changes)
    return preference


# --- reading -------------------------------------------------------------------------------------


def mark_read(actor, notification: Notification) -> Notification:
    """Mark one of one's own notifications read (someone else's is refused)."""
    require(notification.recipient_id == actor.pk, "This notification is someone else's.")
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def mark_all_read(actor) -> int:
    """Mark every unread notification of one's own read; returns how many."""
    return Notification.objects.for_user(actor).unread().update(read_at=timezone.now())


# --- mentions ------------------------------------------------------------------------------------

# ``@name`` at the start or after a space or opening punctuation, as Django usernames are spelt
MAX_MENTIONS = 20
MENTION = re.compile(r"(?:^|(?<=[\s(\[,;:]))@([\w.+-]+)")


def mentioned_names(text: str) -> list[str]:
    """The usernames ``@mentioned`` in a text, in order, each once, at most ``MAX_MENTIONS``
    (a trailing dot is the sentence's, not the name's)."""
    names: dict[str, None] = {}
    for match in MENTION.finditer(text or ""):
        names[match.group(1).rstrip(".")] = None
    return [name for name in names if name][:MAX_MENTIONS]

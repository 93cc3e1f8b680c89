"""The expirations register: add and change items, acknowledge and snooze their reminders, and
the clock's job that opens a ticket at each reminder step."""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.utils import timezone

from thirdway.accounts.models import Role, User
from thirdway.audit.services import diff, record, snapshot
from thirdway.errors import invalid
from thirdway.vault.models import ExpiryItem, ExpiryKind, ExpiryReminder
from thirdway.vault.reminders import MAX_DAYS, STEPS_ALLOWED, due_steps, format_steps, parse_steps
from thirdway.vault.services._shared import linked, require_keeper, scope

log = logging.getLogger(__name__)
FIELDS = ["kind", "name", "expires_on", "reminder_steps", "notes", "site", "asset"]


def _steps(text: str) -> str:
    try:
        return format_steps(parse_steps(text))
    except ValueError as error:
        raise invalid("reminder_steps", str(error), STEPS_ALLOWED) from None


@transaction.atomic
def create_expiry(
    actor, client, *, source: str, site_id=None, asset_id=None, reminder_steps: str = "", **data
) -> ExpiryItem:
    require_keeper(actor, client)
    item = ExpiryItem(client=client, **linked(client, site_id, asset_id), **data)
    if reminder_steps:
        item.reminder_steps = _steps(reminder_steps)
    item.full_clean()
    item.save()
    record(
        actor,
        "expiry.create",
        item,
        source=source,
        scope=scope(client),
        changes=diff({}, snapshot(item, FIELDS)),
    )
    return item


@transaction.atomic
def update_expiry(actor, item: ExpiryItem, data: dict, *, source: str) -> ExpiryItem:
    """Change an item; a new expiry date (a renewal) starts its reminders again."""
    item = ExpiryItem.objects.select_for_update().get(pk=item.pk)
    require_keeper(actor, item.client)
    data = dict(data)
    if "site_id" in data or "asset_id" in data:
        data.update(
            linked(
                item.client, data.pop("site_id", item.site_id), data.pop("asset_id", item.asset_id)
            )
        )
    if "reminder_steps" in data:
        data["reminder_steps"] = _steps(data["reminder_steps"])
    before = snapshot(item, FIELDS)
    for name, value in data.items():
        setattr(item, name, value)
    item.full_clean()
    item.save()
    changes = diff(before, snapshot(item, FIELDS))
    if changes:
        record(
            actor, "expiry.update", item, source=source, scope=scope(item.client), changes=changes
        )
    return item


@transaction.atomic
def acknowledge_expiry(actor, item: ExpiryItem, *, source: str) -> ExpiryItem:
    """No more reminders for this expiry date (a new date starts them again)."""
    require_keeper(actor, item.client)
    before = snapshot(item, ["acknowledged_for"])
    item.acknowledged_for = item.expires_on
    item.save(update_fields=["acknowledged_for"])
    record(
        actor,
        "expiry.acknowledge",
        item,
        source=source,
        scope=scope(item.client),
        changes=diff(before, snapshot(item, ["acknowledged_for"])),
    )
    return item


@transaction.atomic
def snooze_expiry(actor, item: ExpiryItem, until: dt.date, *, source: str) -> ExpiryItem:
    """No reminder before ``until``; steps that fall due meanwhile are sent on that day."""
    require_keeper(actor, item.client)
    today = timezone.localdate()
    if not today < until <= today + dt.timedelta(days=MAX_DAYS):
        raise invalid(
            "until",
            "Snooze until a later day.",
            f"a date after today and at most {MAX_DAYS} days ahead",
        )
    before = snapshot(item, ["snoozed_until"])
    item.snoozed_until = until
    item.save(update_fields=["snoozed_until"])
    record(
        actor,
        "expiry.snooze",
        item,
        source=source,
        scope=scope(item.client),
        changes=diff(before, snapshot(item, ["snoozed_until"])),
    )
    return item


def sent_steps(item: ExpiryItem) -> set[int]:
    return {
        reminder.step_days
        for reminder in item.reminders.all()
        if reminder.expires_on == item.expires_on
    }


# --- the clock's job -------------------------------------------------------------------------


def _opener(item: ExpiryItem) -> User | None:
    """Who the reminder ticket is opened as: the client's lead partner (when they can sign in),
    else a practice admin."""
    lead = item.client.lead_partner
    if lead is not None and lead.user is not None and lead.user.is_active:
        return lead.user
    return User.objects.filter(role=Role.PRACTICE_ADMIN, is_active=True).order_by("pk").first()


def _open_ticket(item: ExpiryItem, step: int, today: dt.date):
    from thirdway.audit.models import Source
    from thirdway.tickets.models import Channel
    from thirdway.tickets.services import create_ticket, note

    opener = _opener(item)
    if opener is None:
        log.warning("No one to open the reminder of expiry item %s as", item.pk)
        return None
    days = (item.expires_on - today).days
    when = f"in {days} days" if days > 0 else ("today" if days == 0 else f"{-days} days ago")
    # The client's contacts see the ticket, but not every folder: a file is named only in an
    # internal note.
    named = item.kind != ExpiryKind.FILE
    what = f"{item.get_kind_display()} {item.name}" if named else "A stored file"
    subject = f"{what} expires {when} ({item.expires_on:%Y-%m-%d})"
    body = (
        f'{item.get_kind_display()} "{item.name}" of {item.client.name}'
        if named
        else f"A file of {item.client.name} in the vault"
    ) + (
        f" expires on {item.expires_on:%Y-%m-%d} (reminder {step} days before). Renew it, then "
        "enter the new date in the expirations register, or acknowledge the reminder there."
    )
    ticket = create_ticket(
        opener,
        item.client,
        subject=subject[:250],
        body_text=body,
        site_id=item.site_id,
        asset_id=item.asset_id,
        category="Renewal",
        type="service_request",
        channel=Channel.SCHEDULED,
        source=Source.SYSTEM,
    )
    if not named:
        note(
            opener,
            ticket,
            body_text=f'The file is "{item.name}" (expirations register item {item.pk}).',
            source=Source.SYSTEM,
        )
    return ticket


def remind_item(item_id: int, today: dt.date) -> int | None:
    """Send the reminder of one item if a step is due: one ticket for the due steps, each step
    claimed once (a unique row per step and date), so reruns and parallel workers send none
    twice.  The ticket's number, or None."""
    with transaction.atomic():
        item = (
            ExpiryItem.objects.select_for_update(of=("self",))
            .select_related("client__lead_partner__user")
            .filter(pk=item_id)
            .first()
        )
        if item is None or item.acknowledged:
            return None
        if item.snoozed_until and today < item.snoozed_until:
            return None
        due = due_steps(item.expires_on, parse_steps(item.reminder_steps), today, sent_steps(item))
        if not due:
            return None
        ticket = _open_ticket(item, due[-1], today)
        ExpiryReminder.objects.bulk_create(
            [
                ExpiryReminder(item=item, expires_on=item.expires_on, step_days=step, ticket=ticket)
                for step in due
            ]
        )
        return ticket.number if ticket else None


def send_due_reminders(today: dt.date | None = None) -> list[int]:
    """Every item's due reminder; one item's failure does not stop the others."""
    today = today or timezone.localdate()
    horizon = today + dt.timedelta(days=MAX_DAYS)
    candidates = ExpiryItem.objects.filter(expires_on__lte=horizon).values_list("pk", flat=True)
    opened = []
    for item_id in candidates.iterator():
        try:
            number = remind_item(item_id, today)
        except Exception:  # one bad row never stops the job
            log.exception("The reminder of expiry item %s failed", item_id)
            continue
        if number is not None:
            opened.append(number)
    return opened

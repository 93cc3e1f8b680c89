"""Rotation reminders: when someone who revealed credentials loses access (account closed,
partner off the client's team or leaving the network), the secrets they revealed that are still
unchanged and that they can no longer reveal get one ticket per client for the client's
practice, once per person and client.

Registered with ``thirdway.accounts.access_lost`` in ``VaultConfig.ready``; runs in the
transaction of the service that took access away.
"""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction
from django.db.models import F, Max, Q

from thirdway.accounts.models import Role, User
from thirdway.vault.models import Credential, CredentialAccess, RotationReminder

log = logging.getLogger(__name__)
MAX_LISTED = 200  # credentials named in one note; the rest are counted


def unchanged_revealed(person: User, client_id: int):
    """The client's credentials ``person`` revealed whose secret has not changed since."""
    return (
        Credential.objects.filter(client_id=client_id, accesses__user=person)
        .annotate(last_revealed_at=Max("accesses__at"))
        .filter(Q(secret_changed_at__isnull=True) | Q(secret_changed_at__lte=F("last_revealed_at")))
        .order_by("last_revealed_at", "pk")
    )


def _opener(client) -> User | None:
    lead = client.lead_partner
    if lead is not None and lead.user is not None and lead.user.is_active:
        return lead.user
    return User.objects.filter(role=Role.PRACTICE_ADMIN, is_active=True).order_by("pk").first()


def _open_ticket(client, person: User, credentials: list[Credential]):
    from thirdway.audit.models import Source
    from thirdway.tickets.models import Channel
    from thirdway.tickets.services import create_ticket, note

    opener = _opener(client)
    if opener is None:
        log.warning("No one to open the rotation reminder of client %s as", client.pk)
        return None
    who = person.get_full_name() or person.get_username()
    count = len(credentials)
    # The subject names neither the secrets nor the person; the internal note does.
    ticket = create_ticket(
        opener,
        client,
        subject=f"Change {count} credential{'s' if count != 1 else ''} after a loss of access",
        body_text=(
            "Someone who revealed credentials of this client lost access. Change the secrets "
            "listed in the internal note, then save them in the vault."
        ),
        category="Security",
        type="service_request",
        channel=Channel.SCHEDULED,
        source=Source.SYSTEM,
    )
    lines = [f"- {c.name} (vault credential {c.pk})" for c in credentials[:MAX_LISTED]]
    if count > MAX_LISTED:
        lines.append(f"- and {count - MAX_LISTED} more (see the vault's report)")
    note(
        opener,
        ticket,
        body_text=f"{who} ({person.get_username()}) revealed, and the secret is unchanged since:\n"
        + "\n".join(lines),
        source=Source.SYSTEM,
    )
    return ticket


def remind_rotation(person: User) -> list[RotationReminder]:
    """Open the missing reminders for ``person``: for each client whose credentials they
    revealed, are still unchanged and they can no longer reveal.  Idempotent."""
    from thirdway.clients.models import Client

    client_ids = set(
        CredentialAccess.objects.filter(user=person).values_list("credential__client_id", flat=True)
    )
    done = set(RotationReminder.objects.filter(person=person).values_list("client_id", flat=True))
    still_seen = Credential.objects.for_user(person)
    made = []
    for client in Client.objects.filter(pk__in=client_ids - done).select_related(
        "lead_partner__user"
    ):
        lost = list(unchanged_revealed(person, client.pk).exclude(pk__in=still_seen))
        if not lost:
            continue
        try:
            with transaction.atomic():
                ticket = _open_ticket(client, person, lost)
                made.append(
                    RotationReminder.objects.create(
                        client=client, person=person, ticket=ticket, credential_count=len(lost)
                    )
                )
        except IntegrityError:  # another run opened it first
            continue
    return made


def on_access_lost(actor, users: list, source: str) -> None:
    for person in users:
        remind_rotation(person)

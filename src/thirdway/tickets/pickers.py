"""Type-ahead pickers: what a person typing in a client, contact, asset, partner or tag field
is offered. Each kind answers at most ``LIMIT`` rows in a fixed number of queries, within what
the person may see; the partner picker tells each one's load and whether they are working now,
and puts the dispatcher's first choice for the ticket on top."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from thirdway.clients.models import Asset, Client, Contact
from thirdway.network.models import Partner
from thirdway.network.schedule import available_ids
from thirdway.tickets.lifecycle import OPEN
from thirdway.tickets.models import DispatchRecord, Tag, Ticket

LIMIT = 20
KINDS = ("client", "contact", "asset", "partner", "tag")
# A select past this many choices becomes a picker.
PICKER_THRESHOLD = 50


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    detail: str = ""
    first_choice: bool = False


@dataclass
class Picked:
    choices: list[Choice]
    more: bool  # more rows match than are shown: type more


def _matching(queryset: QuerySet, field: str, text: str) -> QuerySet:
    """Rows whose ``field`` contains ``text``; a number also finds the row with that id."""
    if not text:
        return queryset
    found = Q(**{f"{field}__icontains": text})
    if text.isdigit() and len(text) <= 18:
        found |= Q(pk=int(text))
    return queryset.filter(found)


def _cut(rows: list, make) -> Picked:
    return Picked([make(row) for row in rows[:LIMIT]], more=len(rows) > LIMIT)


def clients(user, text: str) -> Picked:
    rows = list(
        _matching(Client.objects.for_user(user), "name", text)
        .order_by("name", "pk")
        .values_list("pk", "name")[: LIMIT + 1]
    )
    return _cut(rows, lambda row: Choice(str(row[0]), row[1]))


def contacts(user, text: str, client_id: int | None) -> Picked:
    people = Contact.objects.for_user(user).filter(is_active=True, client_id=client_id)
    if text:
        people = people.filter(Q(name__icontains=text) | Q(email__icontains=text))
    rows = list(people.order_by("name", "pk").values_list("pk", "name", "email")[: LIMIT + 1])
    return _cut(rows, lambda row: Choice(str(row[0]), row[1], row[2]))


def assets(user, text: str, client_id: int | None) -> Picked:
    found = _matching(Asset.objects.for_user(user).filter(client_id=client_id), "name", text)
    rows = list(found.order_by("name", "pk").values_list("pk", "name", "kind")[: LIMIT + 1])
    return _cut(rows, lambda row: Choice(str(row[0]), row[1], row[2]))


def tags(text: str) -> Picked:
    rows = list(
        Tag.objects.filter(name__icontains=text.lower())
        .order_by("name")
        .values_list("name", flat=True)[: LIMIT + 1]
    )
    return _cut(rows, lambda name: Choice(name, name))


def _first_choice(ticket: Ticket | None) -> int | None:
    if ticket is None:
        return None
    record = DispatchRecord.objects.filter(ticket=ticket).only("candidates").first()
    if record is None or not record.candidates:
        return None
    return record.candidates[0].get("partner_id")


def partners(user, text: str, ticket: Ticket | None, now: dt.datetime) -> Picked:
    """Active partners by name, each with their open tickets against their capacity and
    whether they are working now; the engine's first choice for ``ticket`` comes first."""
    first = _first_choice(ticket)
    pool = _matching(Partner.objects.for_user(user).filter(is_active=True), "name", text)
    order = ["name", "pk"]
    if first is not None:
        pool = pool.annotate(first=Q(pk=first))
        order = ["-first", *order]
    # Counted for the rows shown only (a correlated count), not for every partner.
    open_tickets = (
        Ticket.objects.filter(assignee=OuterRef("pk"), status__in=OPEN)
        .order_by()
        .values("assignee")
        .annotate(count=Count("pk"))
        .values("count")
    )
    load = Coalesce(Subquery(open_tickets, output_field=IntegerField()), 0)
    rows = list(
        pool.annotate(load=load)
        .order_by(*order)
        .values_list("pk", "name", "load", "capacity")[: LIMIT + 1]
    )
    shown = [row[0] for row in rows[:LIMIT]]
    working = available_ids(Partner.objects.filter(pk__in=shown), now) if shown else set()

    def choice(row) -> Choice:
        pk, name, load, capacity = row
        state = "working now" if pk in working else "not working now"
        return Choice(str(pk), name, f"{load}/{capacity} open · {state}", pk == first)

    return _cut(rows, choice)

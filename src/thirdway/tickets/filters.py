"""The one filter of ticket lists: what each parameter means, for the desk's queue and the API.

``TicketFilter`` reads the API's values through its own fields (ids as numbers, several
statuses or priorities); ``QueueFilter`` reads the same parameters through the queue page's
form (selects where the lists are short, typed names or ids where they are long, one status
or priority at a time).  Either way the methods below decide what a value means, and the list
is always narrowed within a queryset the caller may see.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable
from typing import Any

import django_filters
from django import forms
from django.db.models import F, QuerySet
from django.utils import timezone

from thirdway.clients.models import Client
from thirdway.tickets.forms import QueueFilterForm
from thirdway.tickets.lifecycle import LABELS, OPEN, Status
from thirdway.tickets.models import Ticket
from thirdway.tickets.search import search
from thirdway.tickets.sla_clocks import clocks

# Sort names and the orders they stand for; each ends with a unique field, as paging needs.
ORDERINGS: dict[str, list[Any]] = {
    "-updated_at": ["-updated_at", "-id"],
    "updated_at": ["updated_at", "id"],
    "-created_at": ["-created_at", "-id"],
    "created_at": ["created_at", "id"],
    "priority": ["priority", "-updated_at", "-id"],
    "-priority": ["-priority", "-updated_at", "-id"],
    "number": ["id"],
    "sla_due_at": list(clocks.BREACHES_SOONEST),
}
# The queue page's names for three of them, kept: its links and saved views hold them.
ORDERINGS |= {
    "updated": ORDERINGS["-updated_at"],
    "created": ORDERINGS["-created_at"],
    "sla": ORDERINGS["sla_due_at"],
}
DEFAULT_SORT = "-updated_at"
# How far ahead ``sla=soon`` (and ``soon1h``) looks; ``sla=breached`` is due by now.  Each
# window counts the tickets already breached too: all that will be late by then.
SLA_SOON = dt.timedelta(hours=4)
SLA_WINDOWS = {"breached": dt.timedelta(0), "soon1h": dt.timedelta(hours=1), "soon": SLA_SOON}
# ``sla=missed``: resolved after the resolution was due (the ticket keeps its last due time).
SLA_MISSED = "missed"
# ``resolved=7d``: resolved within the last 7 days (and still resolved or closed).
RESOLVED_WITHIN = {"7d": dt.timedelta(days=7), "30d": dt.timedelta(days=30)}
# ``q`` keeps the tickets among this many best matches of the search engine.
SEARCH_LIMIT = 500
STATUSES = [("open", "Any open"), *((status.value, LABELS[status]) for status in Status)]


class IntegersField(forms.Field):
    """Several whole numbers: a parameter given more than once."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[int]:
        if value in self.empty_values:
            return []
        values = value if isinstance(value, list | tuple) else [value]
        try:
            return [int(item) for item in values]
        except (TypeError, ValueError):
            raise forms.ValidationError("Enter whole numbers.", code="invalid") from None


class IdFilter(django_filters.Filter):
    """An id; the queue page's form may give the object itself or, for a long list, a name."""

    field_class = forms.IntegerField


class IntegersFilter(django_filters.Filter):
    field_class = IntegersField


class SortFilter(django_filters.ChoiceFilter):
    """The order of the list: the filterset applies it last (see ``TicketFilter.ordering``)."""

    def filter(self, qs: QuerySet, value: Any) -> QuerySet:
        return qs


def day_bounds(now: dt.datetime, zone: str) -> tuple[dt.datetime, dt.datetime]:
    """The day around ``now`` in the time zone ``zone``, as [start, end) instants."""
    local = now.astimezone(zoneinfo.ZoneInfo(zone or "UTC"))
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    end = start + dt.timedelta(days=1)  # wall-clock arithmetic: a DST day is 23 or 25 h
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def _one_or_any(tickets: QuerySet, field: str, values: Iterable[Any]) -> QuerySet:
    wanted = list(values)
    if len(wanted) == 1:
        return tickets.filter(**{field: wanted[0]})
    return tickets.filter(**{f"{field}__in": wanted})


class TicketFilter(django_filters.FilterSet):
    """The filters of a list of tickets and its order, for ``user`` (who is "me")."""

    status = django_filters.MultipleChoiceFilter(choices=STATUSES, method="filter_status")
    priority = IntegersFilter(method="filter_priority")
    client = IdFilter(method="filter_client")
    practice = IdFilter(field_name="practice")
    assignee = IdFilter(method="filter_assignee")
    unassigned = django_filters.BooleanFilter(field_name="assignee", lookup_expr="isnull")
    requester = IdFilter(field_name="requester")
    tag = django_filters.CharFilter(method="filter_tag")
    sla = django_filters.ChoiceFilter(
        choices=[(name, name) for name in [*SLA_WINDOWS, SLA_MISSED]], method="filter_sla"
    )
    resolved = django_filters.ChoiceFilter(
        choices=[(name, name) for name in RESOLVED_WITHIN], method="filter_resolved"
    )
    visit = django_filters.ChoiceFilter(choices=[("today", "today")], method="filter_visit")
    q = django_filters.CharFilter(method="filter_text")
    sort = SortFilter(choices=[(name, name) for name in ORDERINGS])

    class Meta:
        model = Ticket
        fields: list[str] = []

    def __init__(self, data: Any = None, queryset: QuerySet | None = None, *, user: Any) -> None:
        super().__init__(data, queryset)
        self.user = user
        self._found: dict[str, list[int]] = {}

    @property
    def ordering(self) -> list[Any]:
        """The order asked for; the last updated first when none is given (or it is refused)."""
        sort = self._cleaned().get("sort") or DEFAULT_SORT
        return ORDERINGS.get(sort, ORDERINGS[DEFAULT_SORT])

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        """``queryset`` narrowed by every valid filter (a refused one is left out), in order."""
        return super().filter_queryset(queryset).order_by(*self.ordering)

    def _cleaned(self) -> dict[str, Any]:
        if not self.is_bound:
            return {}
        self.form.is_valid()  # valid fields stay in cleaned_data when others are refused
        return self.form.cleaned_data

    # --- what each value means ---

    def filter_status(self, tickets: QuerySet, name: str, value: Any) -> QuerySet:
        wanted = [value] if isinstance(value, str) else list(value)
        if wanted == ["open"]:
            return tickets.filter(status__in=OPEN)
        statuses = [status for item in wanted for status in (OPEN if item == "open" else [item])]
        return _one_or_any(tickets, "status", dict.fromkeys(statuses))

    def filter_priority(self, tickets: QuerySet, name: str, value: Any) -> QuerySet:
        return _one_or_any(tickets, "priority", [value] if isinstance(value, int) else value)

    def filter_client(self, tickets: QuerySet, name: str, value: Any) -> QuerySet:
        if isinstance(value, Client):
            return tickets.filter(client=value)
        if isinstance(value, int):
            return tickets.filter(client_id=value)
        text = value.strip()
        if text.isdigit():
            return tickets.filter(client_id=int(text))
        return tickets.filter(client__name__icontains=text)

    def filter_assignee(self, tickets: QuerySet, name: str, value: Any) -> QuerySet:
        """``me``, ``none`` (nobody), a partner's id or (typed on a long list) part of a name."""
        if isinstance(value, int):
            return tickets.filter(assignee_id=value)
        if value == "me":
            return tickets.filter(assignee__user=self.user)
        if value == "none":
            return tickets.filter(assignee__isnull=True)
        if value.isdigit():
            return tickets.filter(assignee_id=int(value))
        return tickets.filter(assignee__name__icontains=value)

    def filter_tag(self, tickets: QuerySet, name: str, value: str) -> QuerySet:
        # A sub-select rather than a join: a ticket comes once whatever its tags.
        tagged = Ticket.tags.through.objects.filter(tag__name=value.strip().lower())
        return tickets.filter(pk__in=tagged.values("ticket_id"))

    def filter_sla(self, tickets: QuerySet, name: str, value: str) -> QuerySet:
        if value == SLA_MISSED:
            return tickets.filter(resolved_at__gt=F("resolution_due_at"))
        return tickets.filter(sla_due_at__lte=timezone.now() + SLA_WINDOWS[value])

    def filter_resolved(self, tickets: QuerySet, name: str, value: str) -> QuerySet:
        return tickets.filter(resolved_at__gte=timezone.now() - RESOLVED_WITHIN[value])

    def filter_visit(self, tickets: QuerySet, name: str, value: str) -> QuerySet:
        """Visits starting today in the viewer's own time zone."""
        start, end = day_bounds(timezone.now(), getattr(self.user, "time_zone", "UTC"))
        return tickets.filter(visit_starts_at__gte=start, visit_starts_at__lt=end)

    def filter_text(self, tickets: QuerySet, name: str, value: str) -> QuerySet:
        """The best matches of the search engine (a ticket number finds that ticket)."""
        if value not in self._found:
            # Searched once, however many branches of the access rule the queue filters.
            hits = search(self.user, value, limit=SEARCH_LIMIT)
            self._found[value] = [hit.ticket.pk for hit in hits]
        return tickets.filter(pk__in=self._found[value])


class QueueFilter(TicketFilter):
    """The desk's queue page: its form reads the parameters, the filters above say what they
    mean.  A refused value shows its error beside the field and filters nothing."""

    def __init__(self, data: Any, *, user: Any, partners: QuerySet) -> None:
        super().__init__(data, user=user)
        self.partners = partners

    @property
    def form(self) -> QueueFilterForm:
        if not hasattr(self, "_form"):
            self._form = QueueFilterForm(self.data, user=self.user, partners=self.partners)
        return self._form

"""What a client report reads from the other rooms, as plain rows (``client_reports.ReportInput``),
and the periods it covers: calendar months and quarters in the client's time zone."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.db.models import Count, Q

from thirdway.clients.models import Asset, Client
from thirdway.insights import client_reports as cr
from thirdway.insights import thresholds
from thirdway.insights.models import Cadence, CsatResponse
from thirdway.monitoring.models import Alert, Check, CheckResult
from thirdway.tickets.models import Ticket
from thirdway.tickets.models.ticket import number_of
from thirdway.vault.models import ExpiryItem


def period_containing(cadence: str, day: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last day of the month or quarter ``day`` falls in."""
    first_month = day.month if cadence == Cadence.MONTHLY else (day.month - 1) // 3 * 3 + 1
    first = dt.date(day.year, first_month, 1)
    months = 1 if cadence == Cadence.MONTHLY else 3
    year, month = divmod(first.month - 1 + months, 12)
    following = dt.date(first.year + year, month + 1, 1)
    return first, following - dt.timedelta(days=1)


def period_before(cadence: str, day: dt.date) -> tuple[dt.date, dt.date]:
    """The last whole month or quarter that ended before ``day``."""
    first, _ = period_containing(cadence, day)
    return period_containing(cadence, first - dt.timedelta(days=1))


def bounds(client: Client, first: dt.date, last: dt.date) -> tuple[dt.datetime, dt.datetime]:
    zone = ZoneInfo(client.time_zone or "UTC")
    starts = dt.datetime.combine(first, dt.time(), tzinfo=zone)
    ends = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    return starts, ends


def gather(client: Client, cadence: str, first: dt.date, last: dt.date) -> cr.ReportInput:
    """Every row the report of ``client`` for ``first``..``last`` needs (a few queries)."""
    starts, ends = bounds(client, first, last)

    def inside(name: str) -> Q:
        return Q(**{f"{name}__gte": starts, f"{name}__lt": ends})

    tickets = (
        Ticket.objects.filter(client=client, merged_into__isnull=True)
        .filter(
            inside("created_at")
            | inside("resolved_at")
            | inside("first_response_due_at")
            | inside("resolution_due_at")
            | Q(created_at__lt=ends, resolved_at__isnull=True, closed_at__isnull=True)
            | Q(created_at__lt=ends, resolved_at__gte=ends)
        )
        .values_list(
            "pk",
            "subject",
            "category",
            "asset_id",
            "created_at",
            "first_responded_at",
            "first_response_due_at",
            "resolved_at",
            "resolution_due_at",
            "closed_at",
        )
    )
    checks = list(
        Check.objects.filter(client=client).values_list("pk", "name", "kind", "asset_id", "status")
    )
    results = {
        row["check_obj"]: row
        for row in CheckResult.objects.filter(
            check_obj__client=client, collected_at__gte=starts, collected_at__lt=ends
        )
        .values("check_obj")
        .annotate(total=Count("pk"), up=Count("pk", filter=Q(status="ok")))
    }
    alerts = Alert.objects.filter(client=client, opened_at__lt=ends).filter(
        Q(opened_at__gte=starts) | Q(resolved_at__isnull=True) | Q(resolved_at__gte=ends)
    )
    limits = thresholds.for_reports()
    horizon = last + dt.timedelta(days=limits.expiry_horizon_days)
    expirations = ExpiryItem.objects.filter(
        client=client, expires_on__gt=last, expires_on__lte=horizon
    )
    ratings = CsatResponse.objects.filter(
        client=client, created_at__gte=starts, created_at__lt=ends
    )
    return cr.ReportInput(
        client_id=client.pk,
        client_name=client.name,
        cadence=cadence,
        first_day=first,
        last_day=last,
        starts_at=starts,
        ends_at=ends,
        tickets=[cr.TicketRow(row[0], number_of(row[0]), *row[1:]) for row in tickets],
        assets=[
            cr.AssetRow(*row)
            for row in Asset.objects.filter(client=client).values_list("pk", "name", "kind")
        ],
        checks=[
            cr.CheckRow(
                *row,
                results=results.get(row[0], {}).get("total", 0),
                results_up=results.get(row[0], {}).get("up", 0),
            )
            for row in checks
        ],
        alerts=[
            cr.AlertRow(*row)
            for row in alerts.values_list(
                "pk", "check_obj_id", "severity", "summary", "opened_at", "resolved_at"
            )
        ],
        expirations=[
            cr.ExpiryRow(e.pk, e.name, e.get_kind_display(), e.expires_on, e.acknowledged)
            for e in expirations
        ],
        ratings=[
            cr.RatingRow(ticket_id, number_of(ticket_id), score)
            for ticket_id, score in ratings.values_list("ticket_id", "score")
        ],
        thresholds=limits,
    )


def build(client: Client, cadence: str, first: dt.date, last: dt.date) -> cr.Report:
    return cr.compute(gather(client, cadence, first, last))

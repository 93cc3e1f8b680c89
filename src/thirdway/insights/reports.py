"""Reading the figures for a viewer: the subjects they may chart, a subject's days, sums over a
period, CSAT results and a partner's scorecard beside the practice's median."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Avg, Count
from django.http import Http404
from django.utils import timezone

from thirdway.accounts.models import Role
from thirdway.clients.models import Client
from thirdway.insights import figures
from thirdway.insights.models import CsatResponse, DailySnapshot, Scope
from thirdway.network.models import Partner, Practice, Skill

MAX_DAYS = 366
SCORECARD_DAYS = 30


@dataclass(frozen=True)
class Subject:
    scope: str
    id: int
    name: str
    # ``scope:id`` and the option's text, made once: a page has thousands of options
    key: str = field(init=False, compare=False)
    label: str = field(init=False, compare=False)

    def __post_init__(self) -> None:
        scope = Scope(self.scope).value  # the plain text, not the choice's member
        object.__setattr__(self, "scope", scope)
        object.__setattr__(self, "key", f"{scope}:{self.id}")
        object.__setattr__(self, "label", f"{scope.capitalize()}: {self.name}")


# Past this many clients the metrics page's select offers the current client only, and a
# type-ahead picker finds the others (the large network sees 50,000).
CLIENT_CHOICES = 50


def _network_subjects(user) -> list[Subject]:
    if user.role in (Role.PRACTICE_ADMIN, Role.DESK):
        found = [Subject(Scope.PRACTICE, p.pk, p.name) for p in Practice.objects.order_by("name")]
        rows = Partner.objects.order_by("name").values_list("pk", "name")
        return found + [Subject(Scope.PARTNER, pk, name) for pk, name in rows]
    if user.role in (Role.PARTNER, Role.ASSOCIATE):
        rows = Partner.objects.filter(user=user).values_list("pk", "name")
        return [Subject(Scope.PARTNER, pk, name) for pk, name in rows]
    return []


def _clients(user):
    if user.role == Role.CLIENT_USER:
        return Client.objects.none()
    return Client.objects.for_user(user)


def subjects(user) -> list[Subject]:
    """What ``user`` may chart: every practice (admins, desk), their own partner figures, and
    the clients they see (client admins: their own)."""
    rows = _clients(user).order_by("name").values_list("pk", "name")
    return _network_subjects(user) + [Subject(Scope.CLIENT, pk, name) for pk, name in rows]


def choices(user, current: Subject | None = None) -> tuple[list[Subject], bool]:
    """What the metrics page's select offers, and whether a client picker finds the rest: all
    of ``subjects`` up to ``CLIENT_CHOICES`` clients; past that, the current client only."""
    clients = _clients(user)
    rows = list(clients.order_by("name").values_list("pk", "name")[: CLIENT_CHOICES + 1])
    if len(rows) <= CLIENT_CHOICES:
        return _network_subjects(user) + [Subject(Scope.CLIENT, pk, n) for pk, n in rows], False
    shown = _network_subjects(user)
    if current is not None and current.scope == Scope.CLIENT:
        shown.append(current)
    return shown, True


def find_subject(user, key: str) -> Subject:
    """The subject ``scope:id`` if ``user`` may chart it (the rules of ``subjects``, asked of
    that one row); a 404 otherwise."""
    scope, _, raw = key.partition(":")
    if not raw.isdigit() or len(raw) > 18:
        raise Http404("No such figures.")
    pk = int(raw)
    network = user.role in (Role.PRACTICE_ADMIN, Role.DESK)
    if scope == Scope.PRACTICE and network:
        rows = Practice.objects.filter(pk=pk)
    elif scope == Scope.PARTNER and network:
        rows = Partner.objects.filter(pk=pk)
    elif scope == Scope.PARTNER and user.role in (Role.PARTNER, Role.ASSOCIATE):
        rows = Partner.objects.filter(pk=pk, user=user)
    elif scope == Scope.CLIENT:
        rows = _clients(user).filter(pk=pk)
    else:
        raise Http404("No such figures.")
    name = rows.values_list("name", flat=True).first()
    if name is None:
        raise Http404("No such figures.")
    return Subject(scope, pk, name)


def _window(days: int) -> tuple[dt.date, dt.date, int]:
    days = max(1, min(days, MAX_DAYS))
    today = timezone.now().astimezone(dt.UTC).date()
    return today - dt.timedelta(days=days - 1), today, days


def days_of(user, subject: Subject, days: int, category: str = "") -> list[DailySnapshot]:
    """One snapshot per day of the last ``days`` (a day without a row: an empty one), of all
    the subject's tickets or of one category."""
    first, today, days = _window(days)
    stored = {
        row.day: row
        for row in DailySnapshot.objects.for_user(user).filter(
            scope=subject.scope,
            subject_id=subject.id,
            category=category,
            day__gte=first,
            day__lte=today,
        )
    }
    return [
        stored.get(first + dt.timedelta(days=n))
        or DailySnapshot(
            day=first + dt.timedelta(days=n),
            scope=subject.scope,
            subject_id=subject.id,
            category=category,
        )
        for n in range(days)
    ]


def categories_of(user, subject: Subject, days: int) -> list[str]:
    """The categories the subject had figures in during the last ``days``."""
    first, today, _ = _window(days)
    return list(
        DailySnapshot.objects.for_user(user)
        .filter(scope=subject.scope, subject_id=subject.id, day__gte=first, day__lte=today)
        .exclude(category="")
        .values_list("category", flat=True)
        .distinct()
        .order_by("category")
    )


@dataclass(frozen=True)
class Totals:
    """A period's figures summed over its days (percentiles: the median of the daily ones)."""

    opened: int
    resolved: int
    first_response_p50: float | None
    first_response_p90: float | None
    sla_attainment: float | None
    backlog: int
    backlog_age_p50: float | None
    reopen_rate: float | None
    csat_average: float | None
    csat_count: int
    first_contact_rate: float | None
    desk_share: float | None
    onsite_share: float | None
    travel_minutes: int
    from_alerts: int
    billable_minutes: int
    utilisation: float | None


def totals(rows: list[DailySnapshot]) -> Totals:
    def daily(name: str) -> list[float]:
        return [getattr(r, name) for r in rows if getattr(r, name) is not None]

    resolved = sum(r.resolved for r in rows)
    csat_count = sum(r.csat_count for r in rows)
    last = rows[-1] if rows else None
    return Totals(
        opened=sum(r.opened for r in rows),
        resolved=resolved,
        first_response_p50=figures.median(daily("first_response_p50")),
        first_response_p90=figures.median(daily("first_response_p90")),
        sla_attainment=figures.rate(
            sum(r.sla_met for r in rows), sum(r.sla_measured for r in rows)
        ),
        backlog=last.backlog if last else 0,
        backlog_age_p50=last.backlog_age_p50 if last else None,
        reopen_rate=figures.rate(sum(r.reopened for r in rows), resolved),
        csat_average=(sum(r.csat_sum for r in rows) / csat_count) if csat_count else None,
        csat_count=csat_count,
        first_contact_rate=figures.rate(sum(r.first_contact for r in rows), resolved),
        desk_share=figures.rate(sum(r.desk_resolved for r in rows), resolved),
        onsite_share=figures.rate(sum(r.onsite_resolved for r in rows), resolved),
        travel_minutes=sum(r.travel_minutes for r in rows),
        from_alerts=sum(r.from_alerts for r in rows),
        billable_minutes=sum(r.billable_minutes for r in rows),
        utilisation=_utilisation(rows),
    )


def _utilisation(rows: list[DailySnapshot]) -> float | None:
    """Billable over scheduled minutes, of the days with a schedule."""
    scheduled = [r for r in rows if r.scheduled_minutes]
    billable = sum(r.billable_minutes for r in scheduled)
    rate = figures.rate(billable, sum(r.scheduled_minutes for r in scheduled))
    return None if rate is None else max(rate, 0.0)


def trend_chart(rows: list[DailySnapshot]) -> figures.Chart:
    return figures.chart(
        [
            figures.Series("Opened", tuple(float(r.opened) for r in rows)),
            figures.Series("Resolved", tuple(float(r.resolved) for r in rows)),
            figures.Series("Backlog", tuple(float(r.backlog) for r in rows)),
        ]
    )


def csat_results(user, scope: str) -> list[dict]:
    """Average rating and count per partner, practice or client, of the ratings ``user`` sees."""
    field = {"partner": "partner__name", "practice": "practice__name", "client": "client__name"}[
        scope
    ]
    rows = (
        CsatResponse.objects.for_user(user)
        .exclude(**{f"{scope}__isnull": True})
        .values(f"{scope}_id", field)
        .annotate(average=Avg("score"), count=Count("pk"))
        .order_by(field)
    )
    return [
        {
            "id": r[f"{scope}_id"],
            "name": r[field],
            "average": round(r["average"], 2),
            "count": r["count"],
        }
        for r in rows
    ]


# --- the scorecard -------------------------------------------------------------------------------

SCORE_FIGURES = (
    ("resolved", "Tickets resolved", ""),
    ("first_response_p50", "First response, median (minutes)", "lower"),
    ("sla_attainment", "Resolution SLA met", "higher"),
    ("reopen_rate", "Reopened", "lower"),
    ("csat_average", "Satisfaction (1-5)", "higher"),
)


def scorecard_partner(user, partner_id: int | None) -> Partner:
    """The partner whose scorecard ``user`` may read: their own, or any for a practice admin."""
    if user.role == Role.PRACTICE_ADMIN and partner_id is not None:
        found = Partner.objects.filter(pk=partner_id).first()
    elif user.role in (Role.PARTNER, Role.ASSOCIATE):
        found = Partner.objects.filter(user=user).first()
        if partner_id is not None and found is not None and found.pk != partner_id:
            found = None
    else:
        found = None
    if found is None:
        raise Http404("No such scorecard.")
    return found


def scorecard(partner: Partner, days: int = SCORECARD_DAYS) -> dict:
    """The partner's figures over the last ``days`` beside the median of the partners of the
    same practices (their skills); each figure per partner as in ``totals``."""
    today = timezone.now().astimezone(dt.UTC).date()
    first = today - dt.timedelta(days=days - 1)
    practices = list(Skill.objects.filter(partner=partner).values_list("practice_id", flat=True))
    peers = set(
        Skill.objects.filter(practice_id__in=practices).values_list("partner_id", flat=True)
    )
    peers.add(partner.pk)
    by_partner: dict[int, list[DailySnapshot]] = {pk: [] for pk in peers}
    for row in DailySnapshot.objects.filter(
        scope=Scope.PARTNER,
        subject_id__in=sorted(peers),
        category="",
        day__gte=first,
        day__lte=today,
    ):
        by_partner[row.subject_id].append(row)
    sums = {pk: totals(rows) for pk, rows in by_partner.items()}
    lines = []
    for name, label, better in SCORE_FIGURES:
        mine = getattr(sums[partner.pk], name)
        values = [getattr(t, name) for t in sums.values() if getattr(t, name) is not None]
        lines.append(
            {
                "figure": name,
                "label": label,
                "better": better,
                "partner": mine,
                "practice_median": figures.median(values),
            }
        )
    names = list(
        Practice.objects.filter(pk__in=practices).order_by("name").values_list("name", flat=True)
    )
    return {
        "partner": partner,
        "days": days,
        "practices": names,
        "peers": len(peers),
        "lines": lines,
    }


# --- net promoter score --------------------------------------------------------------------------


def nps_results(user, scope: str) -> list[dict]:
    """Net promoter score per practice or client, of the answers ``user`` sees."""
    from thirdway.insights.models import NpsSurvey

    field = {"practice": "practice__name", "client": "client__name"}[scope]
    answers = (
        NpsSurvey.objects.for_user(user)
        .filter(score__isnull=False)
        .exclude(**{f"{scope}__isnull": True})
        .values_list(f"{scope}_id", field, "score")
        .order_by(field, f"{scope}_id")
    )
    grouped: dict[tuple[int, str], list[int]] = {}
    for subject_id, name, score in answers:
        grouped.setdefault((subject_id, name), []).append(score)
    return [
        {
            "id": subject_id,
            "name": name,
            "nps": figures.net_promoter(scores),
            "promoters": sum(1 for s in scores if s >= 9),
            "passives": sum(1 for s in scores if 7 <= s <= 8),
            "detractors": sum(1 for s in scores if s <= 6),
            "count": len(scores),
        }
        for (subject_id, name), scores in grouped.items()
    ]

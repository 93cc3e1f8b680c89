"""A client's report of one month or quarter, computed from plain rows.

``compute`` is pure: it takes a ``ReportInput`` (the rows ``gather`` reads from the other rooms)
and returns a ``Report`` whose every field is JSON as it is, so the report is stored once when
made and shown, mailed and printed from what was stored. The rules, each stated where it is
applied:

- **Service levels.** Per clock, the tickets whose due time fell in the period: met when the
  first response (or the resolution) came by the due time; missed otherwise, including when it
  had not come at all.
- **Recurring issues.** Tickets opened in the period on the same device; and tickets of the
  same category whose subjects share their first two significant words.
- **Devices.** Each device of the client with its checks: status when the report was made, the
  share of results that were up in the period, and the alerts opened in the period.
- **Risks** and **recommendations**: ``report_advice``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field

from thirdway.insights import figures
from thirdway.insights.report_advice import (
    Evidence,
    Recommendation,
    Risk,
    Thresholds,
    recommend,
    risks,
)

UNCATEGORISED = "Uncategorised"
STOP_WORDS = frozenset(
    (
        "the",
        "and",
        "for",
        "with",
        "not",
        "from",
        "our",
        "are",
        "can",
        "cannot",
        "does",
        "doesn't",
        "dont",
        "don't",
        "has",
        "have",
        "into",
        "new",
        "again",
        "please",
        "help",
        "issue",
        "problem",
        "still",
        "when",
        "will",
        "won't",
        "you",
        "your",
        "all",
        "any",
        "after",
        "before",
        "this",
        "that",
        "there",
        "their",
        "them",
        "its",
        "been",
        "being",
        "was",
        "were",
        "on",
        "in",
        "at",
        "to",
        "of",
        "is",
        "a",
        "an",
        "my",
        "no",
    )
)


# --- the input: plain rows -----------------------------------------------------------------------


@dataclass(frozen=True)
class TicketRow:
    id: int
    number: str
    subject: str
    category: str
    asset_id: int | None
    created_at: dt.datetime
    first_responded_at: dt.datetime | None = None
    first_response_due_at: dt.datetime | None = None
    resolved_at: dt.datetime | None = None
    resolution_due_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None


@dataclass(frozen=True)
class AssetRow:
    id: int
    name: str
    kind: str


@dataclass(frozen=True)
class CheckRow:
    id: int
    name: str
    kind: str
    asset_id: int | None
    status: str
    results: int = 0  # results collected in the period
    results_up: int = 0


@dataclass(frozen=True)
class AlertRow:
    id: int
    check_id: int
    severity: str
    summary: str
    opened_at: dt.datetime
    resolved_at: dt.datetime | None = None


@dataclass(frozen=True)
class ExpiryRow:
    id: int
    name: str
    kind: str
    expires_on: dt.date
    acknowledged: bool


@dataclass(frozen=True)
class RatingRow:
    ticket_id: int
    ticket_number: str
    score: int


@dataclass(frozen=True)
class ReportInput:
    client_id: int
    client_name: str
    cadence: str
    first_day: dt.date
    last_day: dt.date
    starts_at: dt.datetime  # the first day's midnight in the client's time zone
    ends_at: dt.datetime  # the midnight after the last day
    tickets: list[TicketRow] = field(default_factory=list)
    assets: list[AssetRow] = field(default_factory=list)
    checks: list[CheckRow] = field(default_factory=list)
    alerts: list[AlertRow] = field(default_factory=list)
    expirations: list[ExpiryRow] = field(default_factory=list)
    ratings: list[RatingRow] = field(default_factory=list)
    thresholds: Thresholds = field(default_factory=Thresholds)


# --- the output: JSON as it is -------------------------------------------------------------------


@dataclass(frozen=True)
class SlaClock:
    clock: str  # first_response or resolution
    label: str
    measured: int
    met: int
    attainment: float | None
    target: float
    missed: list[Evidence]


@dataclass(frozen=True)
class CategoryLine:
    category: str
    opened: int
    resolved: int


@dataclass(frozen=True)
class RecurringIssue:
    kind: str  # asset or subject
    label: str
    count: int
    tickets: list[Evidence]
    asset: Evidence | None = None


@dataclass(frozen=True)
class CheckLine:
    id: int
    name: str
    kind: str
    status: str
    uptime: float | None
    alerts: int


@dataclass(frozen=True)
class Device:
    id: int | None  # None: the client's checks on no device (its services)
    name: str
    kind: str
    health: str  # down, attention, healthy, unmonitored
    tickets: int
    checks: list[CheckLine]


@dataclass(frozen=True)
class Satisfaction:
    count: int
    average: float | None
    scores: dict[str, int]
    low: list[Evidence]


@dataclass(frozen=True)
class Report:
    client_id: int
    client_name: str
    cadence: str
    first_day: str
    last_day: str
    opened: int
    resolved: int
    open_at_end: int
    sla: list[SlaClock]
    categories: list[CategoryLine]
    recurring: list[RecurringIssue]
    devices: list[Device]
    checks_up: int
    checks_down: int
    alerts_in_period: int
    risks: list[Risk]
    satisfaction: Satisfaction
    recommendations: list[Recommendation]

    def as_json(self) -> dict[str, object]:
        return asdict(self)


# --- the computation -----------------------------------------------------------------------------


def compute(data: ReportInput) -> Report:
    """The report of ``data``'s period (pure: no database, no clock)."""
    start, end = data.starts_at, data.ends_at

    def within(moment: dt.datetime | None) -> bool:
        return moment is not None and start <= moment < end

    opened = [t for t in data.tickets if within(t.created_at)]
    resolved = [t for t in data.tickets if within(t.resolved_at)]
    sla = [_clock(data, "first_response"), _clock(data, "resolution")]
    recurring = _recurring(opened, data.assets)
    devices = _devices(data, opened)
    found_risks = risks(data)
    satisfaction = _satisfaction(data.ratings)
    return Report(
        client_id=data.client_id,
        client_name=data.client_name,
        cadence=data.cadence,
        first_day=data.first_day.isoformat(),
        last_day=data.last_day.isoformat(),
        opened=len(opened),
        resolved=len(resolved),
        open_at_end=sum(1 for t in data.tickets if _open_at(t, end)),
        sla=sla,
        categories=_categories(opened, resolved),
        recurring=recurring,
        devices=devices,
        checks_up=sum(1 for c in data.checks if c.status == "ok"),
        checks_down=sum(1 for c in data.checks if c.status == "critical"),
        alerts_in_period=sum(1 for a in data.alerts if within(a.opened_at)),
        risks=found_risks,
        satisfaction=satisfaction,
        recommendations=recommend(data, sla, recurring, satisfaction),
    )


def _open_at(ticket: TicketRow, moment: dt.datetime) -> bool:
    if ticket.created_at >= moment:
        return False
    done = [d for d in (ticket.resolved_at, ticket.closed_at) if d is not None]
    return not done or min(done) >= moment


def _ticket(t: TicketRow) -> Evidence:
    return Evidence("ticket", t.id, f"{t.number} {t.subject}"[:120])


CLOCKS = {
    "first_response": ("First response", "first_response_due_at", "first_responded_at"),
    "resolution": ("Resolution", "resolution_due_at", "resolved_at"),
}


def _clock(data: ReportInput, clock: str) -> SlaClock:
    """The tickets whose ``clock`` was due in the period, and which of them were met."""
    label, due_field, done_field = CLOCKS[clock]
    measured, missed = 0, []
    for t in data.tickets:
        due = getattr(t, due_field)
        if due is None or not data.starts_at <= due < data.ends_at:
            continue
        measured += 1
        done = getattr(t, done_field)
        if done is None or done > due:
            missed.append(_ticket(t))
    met = measured - len(missed)
    return SlaClock(
        clock=clock,
        label=label,
        measured=measured,
        met=met,
        attainment=figures.rate(met, measured),
        target=data.thresholds.sla_target,
        missed=missed,
    )


def _categories(opened: list[TicketRow], resolved: list[TicketRow]) -> list[CategoryLine]:
    counts_opened = Counter(t.category or UNCATEGORISED for t in opened)
    counts_resolved = Counter(t.category or UNCATEGORISED for t in resolved)
    names = set(counts_opened) | set(counts_resolved)
    lines = [CategoryLine(n, counts_opened[n], counts_resolved[n]) for n in names]
    return sorted(lines, key=lambda line: (-line.opened, -line.resolved, line.category))


def subject_words(subject: str) -> tuple[str, ...]:
    """The first two significant words of a subject (lower case, no plural s), its cluster."""
    words = []
    for word in re.findall(r"[a-z']+", subject.lower()):
        if len(word) < 3 or word in STOP_WORDS:
            continue
        plural = len(word) > 3 and word.endswith("s") and not word.endswith("ss")
        words.append(word[:-1] if plural else word)
        if len(words) == 2:
            break
    return tuple(words)


def _recurring(opened: list[TicketRow], assets: list[AssetRow]) -> list[RecurringIssue]:
    names = {a.id: a.name for a in assets}
    by_asset: dict[int, list[TicketRow]] = defaultdict(list)
    by_subject: dict[tuple[str, tuple[str, ...]], list[TicketRow]] = defaultdict(list)
    for t in sorted(opened, key=lambda t: (t.created_at, t.id)):
        if t.asset_id is not None:
            by_asset[t.asset_id].append(t)
        words = subject_words(t.subject)
        if words:
            by_subject[(t.category or UNCATEGORISED, words)].append(t)
    found = [
        RecurringIssue(
            kind="asset",
            label=names.get(asset_id, f"Device {asset_id}"),
            count=len(tickets),
            tickets=[_ticket(t) for t in tickets],
            asset=Evidence("asset", asset_id, names.get(asset_id, f"Device {asset_id}")),
        )
        for asset_id, tickets in by_asset.items()
        if len(tickets) >= 2
    ]
    found += [
        RecurringIssue(
            kind="subject",
            label=f"{category}: {' '.join(words)}",
            count=len(tickets),
            tickets=[_ticket(t) for t in tickets],
        )
        for (category, words), tickets in by_subject.items()
        if len(tickets) >= 2
    ]
    return sorted(found, key=lambda issue: (-issue.count, issue.kind, issue.label))[:10]


def _devices(data: ReportInput, opened: list[TicketRow]) -> list[Device]:
    alerts = Counter(
        a.check_id for a in data.alerts if data.starts_at <= a.opened_at < data.ends_at
    )
    tickets = Counter(t.asset_id for t in opened if t.asset_id is not None)
    checks: dict[int | None, list[CheckLine]] = defaultdict(list)
    for c in sorted(data.checks, key=lambda c: (c.name, c.id)):
        checks[c.asset_id].append(
            CheckLine(
                id=c.id,
                name=c.name,
                kind=c.kind,
                status=c.status,
                uptime=figures.rate(c.results_up, c.results),
                alerts=alerts[c.id],
            )
        )
    devices = [
        Device(a.id, a.name, a.kind, _health(checks[a.id]), tickets[a.id], checks[a.id])
        for a in sorted(data.assets, key=lambda a: (a.name, a.id))
    ]
    if checks[None]:
        devices.append(Device(None, "Services", "service", _health(checks[None]), 0, checks[None]))
    return devices


def _health(lines: list[CheckLine]) -> str:
    if not lines:
        return "unmonitored"
    if any(line.status == "critical" for line in lines):
        return "down"
    if any(line.alerts or line.status in ("warning", "unknown") for line in lines):
        return "attention"
    return "healthy"


def _satisfaction(ratings: list[RatingRow]) -> Satisfaction:
    scores = Counter(r.score for r in ratings)
    return Satisfaction(
        count=len(ratings),
        average=round(sum(r.score for r in ratings) / len(ratings), 2) if ratings else None,
        scores={str(n): scores[n] for n in range(1, 6)},
        low=[
            Evidence("ticket", r.ticket_id, r.ticket_number)
            for r in sorted(ratings, key=lambda r: r.ticket_id)
            if r.score <= 2
        ],
    )

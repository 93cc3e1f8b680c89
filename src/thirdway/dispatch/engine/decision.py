"""Results of a ranking: candidates, rejections, the decision, and :func:`rank`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

import numpy as np

from thirdway.dispatch.engine.cover import PartnerIndex, as_index
from thirdway.dispatch.engine.evaluation import (
    LIMITS,
    STRETCH_MOST,
    STRETCH_PRIORITIES,
    Evaluation,
    _ranked,
    evaluate,
)
from thirdway.dispatch.engine.filters import (
    _availability_reason,
    _capacity_reason,
    _language_reason,
    _radius_reason,
    _skill_reason,
)
from thirdway.dispatch.engine.inputs import (
    MAX_LEVEL,
    TERMS,
    PartnerId,
    PartnerState,
    Rows,
    TicketId,
    TicketNeed,
    Weights,
    _utc,
    check_aware,
    epoch,
)

_COVER_NAMES = ("none", "shift", "on_call", "escalated", "called_in")


@dataclass(frozen=True, slots=True)
class Candidate:
    """A partner who can take the ticket, with the score and the facts behind it.

    ``terms`` are the weighted contributions (they add up to ``total``). ``cover`` is
    "shift", "on_call" or "escalated"; an escalated candidate bypassed the availability
    filter and ``overridden`` says what it would have rejected. ``busy`` means the start
    waits for the partner's work in hand (``PartnerState.free_at``).

    When nobody within their limits can take a ticket in time, a partner just beyond theirs
    may be chosen at a steep cost (the ``stretch`` term; level and shift for urgent tickets
    only): ``stretched_limits`` names the limits stretched ("radius", "level", "shift"),
    ``stretched`` says by how much (e.g. "radius: site is 84 km away, serves 60 km") and
    ``stretch_why`` why (e.g. "nobody within their limits can respond before 02:10 their
    time"). A partner called in off shift (cover "called_in") starts now.

    ``distance_km`` is the drive to an on-site ticket's site: from home, or from the visit
    named by ``drive_from`` (e.g. "the site of TW-10012") when the partner will be out on
    one (``PartnerState.drive_from``).
    """

    partner_id: PartnerId
    partner_name: str
    kind: str
    total: float
    terms: Mapping[str, float]
    tier: int
    escalated: bool
    overridden: str | None
    start_at: datetime
    wait: timedelta
    cover: str
    cover_until: datetime | None
    time_zone: str
    practice: str
    level: int
    distance_km: float | None
    open_load: int
    capacity: int
    continuity: str | None
    busy: bool = False
    stretched: str | None = None
    stretched_limits: tuple[str, ...] = ()
    stretch_why: str | None = None
    drive_from: str | None = None

    @property
    def explanation(self) -> str:
        """One line for humans, e.g. "Security 4/5; 12 km; on shift until 17:00 their time"."""
        parts = [f"{self.practice.capitalize()} {self.level}/{MAX_LEVEL}"]
        if self.distance_km is not None:
            drive = f" drive from {self.drive_from}" if self.drive_from else ""
            parts.append(f"{self.distance_km:.0f} km{drive}")
        parts.append(self._cover_phrase())
        parts.append(f"{self.open_load} of {self.capacity} open")
        if self.continuity == "lead":
            parts.append("client's lead partner")
        elif self.continuity == "recent":
            parts.append("worked for this client recently")
        if self.kind == "desk":
            parts.append("service desk")
        if self.escalated:
            parts.append(f"escalation bypassed {self.overridden}")
        if self.stretched:
            parts.append(f"beyond their limit: {self.stretched}; {self.stretch_why}")
        return "; ".join(parts)

    def _cover_phrase(self) -> str:
        tz = ZoneInfo(self.time_zone)
        now_local = (self.start_at - self.wait).astimezone(tz)
        start_local = self.start_at.astimezone(tz)

        def label(moment: datetime) -> str:
            # Name the day only when it is not the day the partner is in right now.
            fmt = "%H:%M" if moment.date() == now_local.date() else "%a %H:%M"
            return moment.strftime(fmt)

        if self.cover == "escalated":
            return "called in now by escalation"
        if self.cover == "called_in":
            return "called in off shift now"
        what = "on shift" if self.cover == "shift" else "on call"
        if self.wait <= timedelta(0) and self.cover_until is not None:
            return f"{what} until {label(self.cover_until.astimezone(tz))} their time"
        minutes = round(self.wait.total_seconds() / 60)
        verb = "shift starts" if self.cover == "shift" else "on call from"
        if self.busy:
            verb = "free from"
        return (
            f"{verb} {label(start_local)} their time (in {minutes // 60} h {minutes % 60:02d} min)"
        )


@dataclass(frozen=True, slots=True)
class Rejection:
    """A partner the hard filters ruled out, with every reason that applied."""

    partner_id: PartnerId
    partner_name: str
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Source:
    """What a decision was computed from, so its full lists can be rebuilt on demand."""

    ticket: TicketNeed
    index: PartnerIndex
    weights: Weights
    now_s: int

    def evaluate(self) -> Evaluation:
        return evaluate(self.ticket, self.index, self.weights, self.now_s)


@dataclass(frozen=True)
class Decision:
    """Outcome of :func:`rank`.

    ``chosen`` is None when nobody can take the ticket; then ``reason`` starts with "no
    partner can take this ticket:" and the caller queues the ticket for the desk. Nothing
    is dropped: every partner is in ``candidates`` (ranked, best first) or ``rejected``
    (id order, with reasons). Those two lists cost far more to build than the decision
    itself, so they are built on first access (from the same inputs, hence identical) and
    cached; pickling stores them built. ``rejected_by`` counts partners per failed filter.
    """

    ticket_id: TicketId
    decided_at: datetime
    chosen: Candidate | None
    feasible_count: int
    rejected_by: Mapping[str, int]
    reason: str
    _source: _Source | None = field(default=None, compare=False, repr=False)

    @property
    def escalated(self) -> bool:
        """True when the chosen partner was let through by the escalation override."""
        return self.chosen is not None and self.chosen.escalated

    @cached_property
    def candidates(self) -> tuple[Candidate, ...]:
        return self.top(None)

    @cached_property
    def rejected(self) -> tuple[Rejection, ...]:
        assert self._source is not None  # only unpickled decisions lack it, and they are built
        ev = self._source.evaluate()
        return tuple(_rejections(ev, self._source.index, self._source.ticket))

    def top(self, count: int | None) -> tuple[Candidate, ...]:
        """The best ``count`` candidates (all when None) without building the rest."""
        if "candidates" in self.__dict__ or self._source is None:
            return self.candidates[:count]
        ev = self._source.evaluate()
        best = _ranked(ev)[:count]
        return tuple(candidates_at(ev, self._source.index, self._source.ticket, best))

    def verdict(self, partner_id: PartnerId) -> Candidate | Rejection:
        """Why one partner is (or is not) in the running, e.g. for "why not Alice?"."""
        if self._source is None:
            verdicts: tuple[Candidate | Rejection, ...] = (*self.candidates, *self.rejected)
            found = [v for v in verdicts if v.partner_id == partner_id]
            if not found:
                raise KeyError(partner_id)
            return found[0]
        source = self._source
        rows = np.array([source.index.row(partner_id)])
        stretch = self.chosen is not None and self.chosen.stretched is not None
        ev = evaluate(source.ticket, source.index, source.weights, source.now_s, rows, stretch)
        if ev.feasible[0]:
            return candidates_at(ev, source.index, source.ticket, np.array([0]))[0]
        return _rejections(ev, source.index, source.ticket, np.array([0]))[0]

    def __getstate__(self) -> dict[str, object]:
        # Pickle the built lists rather than the partner index they come from.
        state = dict(self.__dict__)
        state.update(candidates=self.candidates, rejected=self.rejected, _source=None)
        return state


def candidates_at(
    ev: Evaluation,
    index: PartnerIndex,
    ticket: TicketNeed,
    positions: Rows,
    extra_load: Sequence[int] | None = None,
    load_weight: float = 0.0,
) -> list[Candidate]:
    """Materialise the candidates at ``positions`` of the evaluation.

    ``extra_load`` counts tickets a plan already gave the partner; each adds
    ``load_weight / capacity`` to the load term, exactly as if it were already open.
    """
    if not len(positions):
        return []
    extra = [0] * len(positions) if extra_load is None else list(extra_load)
    origin, now = index.origin_s, ev.now
    columns = {name: ev.terms[name][positions].tolist() for name in TERMS}
    starts = ev.cover.start[positions].tolist()
    ends = ev.cover.ends(positions).tolist()
    codes = np.where(
        ev.bypass[positions],
        3,
        np.where(ev.stretched_by["shift"][positions], 4, ev.cover.kinds(positions)),
    ).tolist()
    distances = None if ev.distance is None else ev.distance[positions].tolist()
    drives = None if ev.drive is None else ev.drive[positions].tolist()
    out = []
    for i, at in enumerate(positions.tolist()):
        partner = index.partners[ev.rows[at]]
        visit = partner.drive_from.get(ticket.priority) if drives is not None else None
        terms = {name: columns[name][i] for name in TERMS}
        if extra[i]:
            terms["load"] += load_weight * extra[i] / max(partner.capacity, 1)
        escalated = codes[i] == 3
        limits = tuple(name for name in LIMITS if ev.stretched_by[name][at])
        distance = None if distances is None else distances[i]
        stretch = _stretch_texts(ev, index, at, partner, ticket, limits, distance)
        out.append(
            Candidate(
                partner_id=partner.id,
                partner_name=partner.name,
                kind=partner.kind,
                total=sum(terms.values()),
                terms=terms,
                tier=int(ev.tier[at]),
                escalated=escalated,
                overridden=_availability_text(ev, at) if escalated else None,
                start_at=_utc(origin + starts[i]),
                wait=timedelta(seconds=starts[i] - now),
                cover=_COVER_NAMES[codes[i]],
                cover_until=None if codes[i] >= 3 else _utc(origin + ends[i]),
                time_zone=partner.time_zone,
                practice=ticket.practice,
                level=int(ev.level[at]),
                distance_km=None if drives is None else drives[i],
                open_load=partner.open_load + extra[i],
                capacity=partner.capacity,
                continuity=(None, "recent", "lead")[ev.continuity[at]],
                busy=bool(ev.cover.busy[at]),
                stretched=stretch[0],
                stretched_limits=limits,
                stretch_why=stretch[1],
                drive_from=None if visit is None else visit.name,
            )
        )
    return out


def _stretch_texts(
    ev: Evaluation,
    index: PartnerIndex,
    at: int,
    partner: PartnerState,
    ticket: TicketNeed,
    limits: tuple[str, ...],
    distance: float | None,
) -> tuple[str | None, str | None]:
    """What was stretched for the partner at ``at`` and why; (None, None) when nothing was."""
    if not limits:
        return None, None
    origin = index.origin_s
    tz = ZoneInfo(partner.time_zone)
    texts = []
    if "radius" in limits and distance is not None:
        texts.append(_radius_reason(distance, partner.radius_km))
    if "level" in limits:
        level = int(ev.level[at])
        texts.append(f"level: {ticket.practice} {level}/{MAX_LEVEL}, needs {ticket.required_level}")
    if "shift" in limits:
        cover = ev.cover
        # The cover's own start, before a call-in moved it to now.
        next_s = float(min(cover.shift_start[at], cover.call_start[at]))
        starts = _utc(origin + next_s).astimezone(tz)
        texts.append(
            f"shift: off shift and not on call, next cover starts {starts:%H:%M} their time"
        )
    due = ticket.response_due_at.astimezone(tz)
    now = _utc(origin + ev.now)
    far = ev.reach is not None and ev.reach > STRETCH_MOST
    routine = ticket.priority not in STRETCH_PRIORITIES
    # Routine work stretched for a site someone serves: a matter of time, as for urgent work.
    unserved = ev.reach is not None and ev.reach > 1 and routine
    beyond = distance is not None and distance > partner.radius_km * STRETCH_MOST
    if "radius" in limits and routine and not far and beyond:
        # Beyond half as far again: only a partner idle in a quiet area of their own.
        area = float(index.area_load(ev.rows[at : at + 1])[0])
        when = "now" if ticket.response_due_at <= now else f"before {due:%H:%M} their time"
        why = (
            f"nobody within half as far again as their radius can respond {when}; "
            f"free now, and their own area is quiet ({area:.0%} of its capacity in use)"
        )
    elif "radius" in limits and (far or unserved):
        # Not a matter of time: nobody would ever reach it within their limits.
        why = (
            f"nobody with the skill serves this site: the nearest is {ev.reach:.2f} times "
            "their radius away"
        )
    elif ticket.response_due_at <= now:
        why = f"nobody within their limits can respond now (due {due:%H:%M} their time)"
    else:
        why = f"nobody within their limits can respond before {due:%H:%M} their time"
    return "; ".join(texts), why


def _availability_text(ev: Evaluation, at: int) -> str:
    cover = ev.cover
    return _availability_reason(
        bool(cover.absent_now[at]), cover.next_start(at), cover.target, bool(cover.busy[at])
    )


def _rejections(
    ev: Evaluation,
    index: PartnerIndex,
    ticket: TicketNeed,
    positions: Rows | None = None,
) -> list[Rejection]:
    """Infeasible partners (all, in id order, unless ``positions`` is given), with reasons."""
    positions = np.flatnonzero(~ev.feasible) if positions is None else positions
    # Every failed filter is listed: escalation only helps partners who pass the rest.
    failed = {name: mask[positions].tolist() for name, mask in ev.failures.items()}
    levels = ev.level[positions].tolist()
    distances = None if ev.distance is None else ev.distance[positions].tolist()
    out = []
    for i, at in enumerate(positions.tolist()):
        partner = index.partners[ev.rows[at]]
        reasons = []
        if failed["skill"][i]:
            reasons.append(_skill_reason(ticket.practice, levels[i], ticket.required_level))
        if failed["availability"][i]:
            reasons.append(_availability_text(ev, at))
        if distances is not None and failed["radius"][i]:
            reasons.append(_radius_reason(distances[i], partner.radius_km))
        if failed["capacity"][i]:
            reasons.append(_capacity_reason(partner.open_load, partner.capacity))
        if ticket.language is not None and failed["language"][i]:
            reasons.append(_language_reason(ticket.language))
        out.append(Rejection(partner.id, partner.name, tuple(reasons)))
    return out


def rejected_counts(ev: Evaluation) -> dict[str, int]:
    blocked = ~ev.feasible
    return {name: int((mask & blocked).sum()) for name, mask in ev.failures.items()}


def nobody_reason(ticket: TicketNeed, rejected_by: Mapping[str, int], pool: int) -> str:
    """Why nobody qualifies, as counts per filter, for the desk's unassignable queue."""
    if not pool:
        return "no partner can take this ticket: there are no partners to choose from"
    labels = {
        "skill": f"below {ticket.practice} {ticket.required_level}",
        "availability": "not available before the response due time",
        "radius": "too far for the on-site visit",
        "capacity": "at capacity",
        "language": f"do not speak {ticket.language}",
    }
    counts = [f"{count} {labels[name]}" for name, count in rejected_by.items() if count]
    return f"no partner can take this ticket: of {pool}, " + ", ".join(counts)


def rank(
    ticket: TicketNeed,
    partners: PartnerIndex | Iterable[PartnerState],
    weights: Weights | None = None,
    now: datetime | None = None,
) -> Decision:
    """Rank every partner for ``ticket`` and choose the best, explaining every verdict.

    ``partners`` is ideally a reused :class:`PartnerIndex`; a plain iterable is indexed on
    the fly, which is much slower. ``now`` defaults to the current time.
    """
    now = datetime.now(UTC) if now is None else now
    check_aware(now, "now")
    weights = Weights() if weights is None else weights
    index = as_index(partners, [ticket], now)
    source = _Source(ticket, index, weights, epoch(now))
    ev = source.evaluate()
    ranked = _ranked(ev)
    chosen = next(iter(candidates_at(ev, index, ticket, ranked[:1])), None)
    rejected_by = rejected_counts(ev)
    if chosen is None:
        reason = nobody_reason(ticket, rejected_by, len(index))
    else:
        reason = (
            f"{chosen.partner_name} is the best of {len(ranked)} feasible: {chosen.explanation}"
        )
    return Decision(
        ticket_id=ticket.id,
        decided_at=now,
        chosen=chosen,
        feasible_count=len(ranked),
        rejected_by=rejected_by,
        reason=reason,
        _source=source,
    )

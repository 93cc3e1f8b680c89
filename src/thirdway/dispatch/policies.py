"""Dispatch policies the simulator compares, from round robin to Thirdway's own.

Thirdway's policy calls the very engine functions the web app uses: :func:`engine.rank` on
arrival, :func:`optimiser.reoptimise` every ``reoptimise_every_s`` for the unassigned and
at-risk queue.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np

from thirdway.dispatch import engine, optimiser
from thirdway.dispatch.engine import next_ticket, preemption
from thirdway.dispatch.realism import URGENT
from thirdway.dispatch.scenario import SimTicket, at, travel_km
from thirdway.dispatch.simulator import (
    PRIORITY_RANK,
    TICK,
    Job,
    Simulation,
    residual_s,
)
from thirdway.dispatch.storm_desk import SurgeWatch

DEFAULT_REOPTIMISE_EVERY_S = 300.0
# A partner coming free looks at this many of the most urgent tickets they might take.
PULL_LOOKS = next_ticket.LOOKS
# The filters that still hold when a free partner pulls a ticket to start it at once.
PULL_FILTERS = next_ticket.FILTERS
# Tickets of these priorities are taken from another partner's queue when more urgent; others
# only once their response is overdue.
PULL_ANY = next_ticket.ANY
PULLED = "taken on coming free"
# Pre-emption's rule is the engine's, shared with the desk (``engine/preemption.py``).
PREEMPTING = preemption.PREEMPTING
INTERRUPTIBLE = preemption.INTERRUPTIBLE
PREEMPTED = preemption.PREEMPTED
POLICIES = (
    "round_robin",
    "least_loaded",
    "skill_least_loaded",
    "nearest_qualified",
    "priority_fcfs",
    "thirdway",
)


class Policy:
    """Push policies pick a partner on arrival; tickets they cannot place wait and are
    retried whenever a partner frees a place (capacity is the only thing that changes)."""

    name = "policy"
    every_s = math.inf
    pulls = False

    def start(self, sim: Simulation) -> None:
        self.teams = {}
        for practice in {t.ticket.practice for t in sim.jobs} | {engine.DESK_PRACTICE}:
            levels = sim.partners.index.levels(practice)
            self.teams[practice] = (np.flatnonzero(levels >= 1), levels)

    def choose(self, sim: Simulation, j: int) -> int | None:
        raise NotImplementedError

    def arrive(self, sim: Simulation, j: int) -> None:
        with sim.run.timing("decision"):
            row = self.choose(sim, j)
        if row is None:
            sim.queue(j, self.nobody(sim, j))
        else:
            sim.assign(j, row)

    def nobody(self, sim: Simulation, j: int) -> str:
        practice = sim.jobs[j].ticket.practice
        if not len(self.teams[practice][0]):
            return f"no partner practises {practice}"
        return f"every {practice} partner who qualifies is at capacity"

    def freed(self, sim: Simulation, row: int) -> None:
        # Only ``row`` gained a place, so only tickets ``row`` could take can move now.
        for position, j in enumerate(sim.waiting):
            if not self.could_take(sim, row, sim.jobs[j].ticket):
                continue
            chosen = self.choose(sim, j)
            if chosen is not None:
                del sim.waiting[position]
                sim.assign(j, chosen)
                return

    def could_take(self, sim: Simulation, row: int, ticket: SimTicket) -> bool:
        """Whether this policy would ever give ``ticket`` to ``row`` (a cheap pre-check)."""
        return sim.partners.level(row, ticket.practice) >= 1 and sim.partners.speaks(row, ticket)

    def ready(self, sim: Simulation, row: int) -> None:
        """A covered partner about to start their next ticket; push policies leave them to
        their own queue."""

    def idle(self, sim: Simulation, row: int) -> None:
        """A partner with nothing queued; push policies have nothing to offer."""

    def tick(self, sim: Simulation) -> None:
        """Periodic work; only Thirdway's policy has any."""

    def _open(self, sim: Simulation, rows: engine.Rows, j: int) -> engine.Rows:
        """Partners with a free place whom ticket ``j`` may be offered to: no policy gives
        work to someone on leave, to someone who does not speak the ticket's language, or
        again to someone who just let it go unanswered (:meth:`Simulation.may_offer`)."""
        rows = rows[sim.load[rows] < sim.partners.capacity[rows]]
        return rows[[sim.may_offer(j, int(r)) and _comes(sim, int(r)) for r in rows]]

    def _qualified(self, sim: Simulation, j: int) -> engine.Rows:
        t = sim.jobs[j].ticket
        rows, levels = self.teams[t.practice]
        return self._open(sim, rows[levels[rows] >= t.level], j)

    def _least_loaded(self, sim: Simulation, rows: engine.Rows) -> int | None:
        if not len(rows):
            return None
        share = sim.load[rows] / np.maximum(sim.partners.capacity[rows], 1)
        return int(rows[np.argmin(share)])


def _comes(sim: Simulation, row: int) -> bool:
    """Whether the partner has cover ahead, as far as the dispatcher knows: a push policy
    does not queue work with someone who will not be back within the run."""
    return sim.partners.known_cover(row, sim.now, sim.now) < math.inf


class RoundRobin(Policy):
    """The next member of the practice's team in turn who has a free place."""

    name = "round_robin"

    def start(self, sim: Simulation) -> None:
        super().start(sim)
        self.turn: Counter[str] = Counter()

    def choose(self, sim: Simulation, j: int) -> int | None:
        practice = sim.jobs[j].ticket.practice
        team = self.teams[practice][0]
        for step in range(len(team)):
            row = int(team[(self.turn[practice] + step) % len(team)])
            if (
                sim.load[row] < sim.partners.capacity[row]
                and sim.may_offer(j, row)
                and _comes(sim, row)
            ):
                self.turn[practice] += step + 1
                return row
        return None


class LeastLoaded(Policy):
    """The team member with the smallest share of their capacity in use."""

    name = "least_loaded"

    def choose(self, sim: Simulation, j: int) -> int | None:
        team = self.teams[sim.jobs[j].ticket.practice][0]
        return self._least_loaded(sim, self._open(sim, team, j))


class SkillLeastLoaded(Policy):
    """Least loaded among partners at or above the required level."""

    name = "skill_least_loaded"

    def could_take(self, sim: Simulation, row: int, ticket: SimTicket) -> bool:
        return sim.partners.level(row, ticket.practice) >= ticket.level and sim.partners.speaks(
            row, ticket
        )

    def choose(self, sim: Simulation, j: int) -> int | None:
        return self._least_loaded(sim, self._qualified(sim, j))


class NearestQualified(Policy):
    """The qualified partner who lives nearest the client's site."""

    name = "nearest_qualified"
    could_take = SkillLeastLoaded.could_take

    def choose(self, sim: Simulation, j: int) -> int | None:
        rows = self._qualified(sim, j)
        if not len(rows):
            return None
        index, site = sim.partners.index, sim.jobs[j].ticket.site
        distance = index.distances_km(site, rows)
        return int(rows[np.argmin(distance)])


class PriorityFcfs(Policy):
    """One shared queue: a qualified partner who is free and covered takes the most urgent
    priority's oldest ticket. Nothing is pushed; capacity does not apply."""

    name = "priority_fcfs"
    pulls = True

    def choose(self, sim: Simulation, j: int) -> int | None:
        return None

    def arrive(self, sim: Simulation, j: int) -> None:
        t = sim.jobs[j].ticket
        rows, levels = self.teams[t.practice]
        with sim.run.timing("decision"):
            free = [
                int(r)
                for r in rows[levels[rows] >= t.level]
                if sim.current[r] < 0
                and not sim.queues[r]
                and sim.partners.next_cover(int(r), sim.now) == sim.now
                and sim.may_offer(j, int(r))
                and sim.partners.may_start(int(r), t, sim.now)
            ]
        if not rows[levels[rows] >= t.level].size:
            sim.queue(j, f"no partner has {t.practice} at level {t.level}")
        elif free:
            sim.assign(j, free[0])
        else:
            sim.queue(j, "waiting for a qualified partner to be free")
        sim.waiting.sort(key=lambda i: (PRIORITY_RANK[sim.jobs[i].ticket.priority], i))

    def idle(self, sim: Simulation, row: int) -> None:
        for position, j in enumerate(sim.waiting):
            t = sim.jobs[j].ticket
            if (
                sim.partners.level(row, t.practice) >= t.level
                and sim.partners.speaks(row, t)
                and sim.partners.may_start(row, t, sim.now)
            ):
                del sim.waiting[position]
                sim.assign(j, row, pulled=True)
                return

    def freed(self, sim: Simulation, row: int) -> None:
        """Pulling happens in :meth:`idle` once the partner's own queue is empty."""


class Thirdway(Policy):
    """The dispatch engine: greedy by score on arrival, joint re-optimisation on a timer."""

    name = "thirdway"
    pulls = True

    def __init__(self, weights: engine.Weights, every_s: float, preempts: bool = True) -> None:
        self.weights = weights
        self.every_s = every_s
        self.preempts = preempts

    def start(self, sim: Simulation) -> None:
        super().start(sim)
        self.index = sim.partners.index
        self.stale: set[int] = set()
        self.needs: dict[int, engine.TicketNeed] = {}
        self.off_shift: frozenset[int] = frozenset()
        # Partners told a visit to drive from: until when their stretch of cover runs.
        self.out: dict[int, float] = {}
        self.surge = SurgeWatch(sim)
        sim.push(sim.scenario.start_s + self.every_s, TICK, 0)

    def _index(self, sim: Simulation, held: Sequence[int] = ()) -> engine.PartnerIndex:
        """The index with partners' current loads and work in hand, leaving out the
        tickets ``held`` (at risk, about to be placed again)."""
        skip = set(held)
        rows = sim.dirty | self.stale | {sim.jobs[j].partner for j in skip}
        if sim.partners.urgent_only:  # who is on call alone changes with the shifts
            off = frozenset(
                r for r in range(len(sim.partners)) if sim.partners.next_shift(r, sim.now) > sim.now
            )
            rows |= off ^ self.off_shift
            self.off_shift = off
        # A partner out on a visit leaves from home once their stretch of cover ends.
        rows |= {row for row, until in self.out.items() if sim.now >= until}
        sim.dirty = set()
        self.stale = {sim.jobs[j].partner for j in skip}
        if not rows:
            return self.index
        loads, free_at = {}, {}
        drive_from: dict[engine.PartnerId, dict[str, engine.Visit]] = {}
        for row in rows:
            by_rank, _, visits = self._walk(sim, row, skip)
            pid = self.index.partners[row].id
            loads[pid] = int(sim.load[row]) - sum(sim.jobs[j].partner == row for j in skip)
            free_at[pid] = {
                p: at(round(by_rank[k]))
                for k, p in enumerate(engine.PRIORITIES)
                if sim.now < by_rank[k] < math.inf
            }
            if sim.realism.chained_travel:
                drive_from[pid] = {
                    p: _visit(sim, j)
                    for p, j in zip(engine.PRIORITIES, visits, strict=True)
                    if j is not None
                }
                self.out.pop(row, None)
                if drive_from[pid]:
                    self.out[row] = sim.span_end(row, sim.now)
        self.index = self.index.with_loads(loads, free_at, drive_from)
        return self.index

    def _walk(
        self, sim: Simulation, row: int, skip: set[int] | frozenset[int] = frozenset()
    ) -> tuple[list[float], list[int], list[int | None]]:
        """Walk a partner's work in hand at the expected pace: when they could start a new
        ticket of each priority, which queued tickets would start after their due time,
        and (with chained travel) the on-site visit each priority would drive on from: the
        last one before it of the same cover span, else none (from home)."""
        free: float = sim.now
        current = sim.current[row]
        if current >= 0:
            job = sim.jobs[current]
            free = sim.now + self._remaining_s(sim, job, row)
        free = sim.partners.known_cover(row, int(free), sim.now)
        last = sim.visit[row]  # the visit in progress, or the last one of the span
        visit = None if last is None else (last[2], last[1])
        by_rank = [free] * len(engine.PRIORITIES)
        before = [visit] * len(engine.PRIORITIES)
        late = []
        for j in sorted(sim.queues[row], key=lambda i: sim.jobs[i].order()):
            if j in skip:
                continue
            ticket = sim.jobs[j].ticket
            if free > ticket.response_due_s:
                late.append(j)
                continue
            if ticket.onsite:
                visit = (j, sim.span_of(row, free))
            free = sim.partners.known_cover(
                row, int(free + self._expected_s(sim, sim.jobs[j], row)), sim.now
            )
            for rank in range(PRIORITY_RANK[ticket.priority], len(by_rank)):
                by_rank[rank], before[rank] = free, visit
        if sim.partners.urgent_only:  # on call alone, they start only urgent work
            for rank, priority in enumerate(engine.PRIORITIES):
                if priority not in URGENT and by_rank[rank] < math.inf:
                    by_rank[rank] = sim.partners.next_shift(row, int(by_rank[rank]))
        visits = [sim.from_visit(row, v, t) for v, t in zip(before, by_rank, strict=True)]
        return by_rank, late, visits

    def need(self, sim: Simulation, j: int) -> engine.TicketNeed:
        if j not in self.needs:
            t = sim.jobs[j].ticket
            client = sim.scenario.clients[t.client]
            recent = sim.recent.get(t.client, ())
            self.needs[j] = engine.TicketNeed(
                id=t.id,
                practice=t.practice,
                required_level=t.level,
                priority=t.priority,
                created_at=at(t.arrival_s),
                response_due_at=at(t.response_due_s),
                resolution_due_at=at(t.resolution_due_s),
                needs_onsite=t.onsite,
                onsite_location=t.site if t.onsite else None,
                client_lead_partner_id=client.lead_partner,
                recent_partner_ids=frozenset(sim.partners.states[r].id for r in recent),
                desk_first=t.desk_first,
                language=t.language,
            )
        need = self.needs[j]
        return dataclasses.replace(need, surge=True) if need.practice in self.surge else need

    def arrive(self, sim: Simulation, j: int) -> None:
        with sim.run.timing("decision"):
            decision = engine.rank(self.need(sim, j), self._index(sim), self.weights, at(sim.now))
        chosen = decision.chosen
        passed = sim.jobs[j].passed
        if chosen is not None and passed and sim.passed_over(j, self._row(sim, chosen)):
            chosen = next(
                (
                    c
                    for c in decision.top(len(passed) + 1)
                    if not sim.passed_over(j, self._row(sim, c))
                ),
                None,
            )
        # Pre-empting work within the partners' limits comes before stretching one.
        late = preemption.is_late(self.need(sim, j), chosen)
        if self.preempts and late and self._preempt(sim, j):
            return
        if chosen is None:
            sim.queue(j, decision.reason)
        else:
            row = sim.partners.row_of[chosen.partner_id]
            called_in = chosen.cover == "called_in"
            sim.assign(j, row, chosen.escalated, chosen.explanation, called_in=called_in)

    @staticmethod
    def _row(sim: Simulation, candidate: engine.Candidate) -> int:
        return sim.partners.row_of[candidate.partner_id]

    def _preempt_due(self, sim: Simulation) -> None:
        """A P1 not started that will be late by the next tick while its partner is still at
        another ticket (work runs longer than expected) interrupts a running P3 or P4."""
        soon = sim.now + self.every_s
        queued = [*sim.waiting, *(j for queue in sim.queues for j in queue)]
        for j in sorted(queued, key=lambda i: sim.jobs[i].order()):
            job = sim.jobs[j]
            if job.started_s is not None or job.ticket.priority not in PREEMPTING:
                continue
            if job.partner >= 0:
                # Held: their partner may start it in time only when free now.
                start = sim.now if sim.current[job.partner] < 0 else None
                if not preemption.held_is_late(self.need(sim, j), start, sim.now, self.every_s):
                    continue
            elif job.ticket.response_due_s > soon:
                continue
            if j in sim.waiting and self._preempt(sim, j):
                sim.waiting.remove(j)
            elif j not in sim.waiting:
                self._preempt(sim, j)

    def _preempt(self, sim: Simulation, j: int) -> bool:
        """Give ``j`` to a partner at work now on a ticket that may be interrupted, as the
        engine's pre-emption rule chooses; False when there is none."""
        rows = [
            row
            for row, current in enumerate(sim.current)
            if current >= 0 and sim.jobs[current].ticket.priority in INTERRUPTIBLE
        ]
        row = preemption.interrupting_row(
            self.need(sim, j),
            self._index(sim),
            self.weights,
            sim.now,
            rows,
            lambda r: sim.may_offer(j, r),
        )
        if row is None:
            return False
        interrupted = sim.jobs[sim.preempt(row)].ticket
        sim.assign(j, row, why=preemption.why_interrupted(interrupted.priority))
        return True

    def freed(self, sim: Simulation, row: int) -> None:
        """What the partner takes next is chosen in :meth:`ready`."""

    def ready(self, sim: Simulation, row: int) -> None:
        """Urgency first: a partner who comes free (finishes, starts a shift, comes back)
        takes the most urgent ticket they may take from the whole queue — the desk's
        waiting tickets, and from another's queue what ``next_ticket.takeable`` allows (P1s,
        overdue tickets, tickets that partner would start late, and for a partner with
        nothing queued the work of a busy partner that needs no visit) — when it is more
        urgent than the first of their own queue. Capacity does not hold them back (they
        start it at once); skill, radius and language do."""
        own = min((sim.jobs[j].order() for j in sim.queues[row]), default=None)
        # the re-plan may have placed some of the desk's waiting tickets already (see tick)
        waiting = [self._unstarted(sim, j) for j in sim.waiting if sim.jobs[j].partner < 0]
        others = [
            next_ticket.Held(
                [self._unstarted(sim, j) for j in queue],
                sim.current[other] >= 0,
                functools.partial(self._late, sim, other),
            )
            for other, queue in enumerate(sim.queues)
            if other != row and queue
        ]
        rows = np.array([row])
        index: list[engine.PartnerIndex] = []

        def may_take(open_: next_ticket.Open) -> bool:
            ticket = sim.jobs[open_.key].ticket
            if sim.partners.level(row, ticket.practice) < ticket.level:
                return False
            if not sim.partners.may_start(row, ticket, sim.now):
                return False
            index[:] = index or [self._index(sim)]
            need = self.need(sim, open_.key)
            failures = engine.evaluate(need, index[0], self.weights, sim.now, rows).failures
            return not any(failures[name][0] for name in PULL_FILTERS if name in failures)

        pick = next_ticket.next_ticket(own, waiting, others, sim.now, may_take, PULL_LOOKS)
        if pick is None:
            return
        j = pick.ticket.key
        if j in sim.waiting:
            sim.waiting.remove(j)
        load = f"{int(sim.load[row])} of {int(sim.partners.capacity[row])} open"
        why = f"{PULLED}: the most urgent they may take ({load})"
        sim.assign(j, row, why=why, start=False, pulled=True)

    def _late(self, sim: Simulation, row: int) -> list[int]:
        return self._walk(sim, row)[1]

    @staticmethod
    def _unstarted(sim: Simulation, j: int) -> next_ticket.Open:
        t = sim.jobs[j].ticket
        return next_ticket.Open(j, t.id, t.priority, int(t.response_due_s), t.onsite)

    def at_risk(self, sim: Simulation) -> list[int]:
        """Queued tickets whose partner, working through the queue in order at the
        expected pace, would start them after their response due time."""
        risky = []
        for row, queue in enumerate(sim.queues):
            if queue:
                risky.extend(self._walk(sim, row)[1])
        return risky

    def _remaining_s(self, sim: Simulation, job: Job, row: int) -> float:
        """Expected work left on a ticket in progress, given how long it has run.

        Work times are lognormal, so a ticket that has overrun its mean is expected to run
        on (the mean residual life grows): E[S - t | S > t], plus the drive back."""
        t = job.ticket
        service = sim.scenario.service_time(t.practice, t.priority)
        drive = self._expected_s(sim, job, row) - service.mean_minutes * 60
        elapsed = job.done_s + sim.now - (job.resumed_s or job.started_s or sim.now)
        return residual_s(service.median_minutes * 60, service.sigma, elapsed - drive / 2) + (
            drive / 2 if elapsed < drive / 2 else 0.0
        )

    def _expected_s(self, sim: Simulation, job: Job, row: int) -> float:
        """What the dispatcher expects a ticket to take: the mean work, plus the drive."""
        t = job.ticket
        work = sim.scenario.service_time(t.practice, t.priority).mean_minutes * 60
        if t.onsite:
            distance = travel_km(sim.partners.states[row], t.site)
            work += distance / sim.scenario.travel_speed_kmh * 3600
        return work

    def tick(self, sim: Simulation) -> None:
        if self.preempts:
            self._preempt_due(sim)
        risky = self.at_risk(sim)
        todo = sim.waiting + risky
        if not todo:
            return
        with sim.run.timing("reoptimise"):
            index = self._index(sim, risky)
            plan = optimiser.reoptimise(
                [self.need(sim, j) for j in todo], index, self.weights, at(sim.now)
            )
        sim.run.largest_queue = max(sim.run.largest_queue, len(todo))
        waiting: list[int] = []
        again: list[int] = []
        for j, assignment in zip(todo, plan.assignments, strict=True):
            job = sim.jobs[j]
            if job.started_s is not None:
                continue  # taken meanwhile by a partner who came free (see ready)
            candidate = assignment.candidate
            if candidate is None:
                if job.partner < 0:
                    job.reason = assignment.reason
                    waiting.append(j)
                continue
            row = sim.partners.row_of[candidate.partner_id]
            if sim.passed_over(j, row):  # the plan's pick just let it go unanswered
                if job.partner < 0:
                    again.append(j)
                continue
            if row != job.partner:
                called_in = candidate.cover == "called_in"
                sim.assign(j, row, candidate.escalated, candidate.explanation, called_in=called_in)
        # a partner who came free during the assignments above may have pulled one of them
        sim.waiting = [j for j in waiting if sim.jobs[j].partner < 0]
        for j in again:  # ranked alone, without whoever let it go unanswered
            self.arrive(sim, j)


def _visit(sim: Simulation, j: int) -> engine.Visit:
    ticket = sim.jobs[j].ticket
    return engine.Visit(ticket.site, f"the site of ticket {ticket.id}")


def make_policy(
    name: str, weights: engine.Weights, every_s: float, preempts: bool = True
) -> Policy:
    if name == "thirdway":
        return Thirdway(weights, every_s, preempts)
    classes: dict[str, Callable[[], Policy]] = {
        "round_robin": RoundRobin,
        "least_loaded": LeastLoaded,
        "skill_least_loaded": SkillLeastLoaded,
        "nearest_qualified": NearestQualified,
        "priority_fcfs": PriorityFcfs,
    }
    if name not in classes:
        raise ValueError(f"unknown policy {name!r}; known: {', '.join(POLICIES)}")
    return classes[name]()

"""Discrete-event simulation of a practice, to compare dispatch policies on equal terms.

Every policy of a run sees the same tickets (drawn once from the scenario's seed) and the
same partners, who behave the same way whoever dispatches to them:

- a partner works on one ticket at a time, and starts one only while covered (on shift or
  on call, never while absent); work once started runs to the end, even past a shift's end;
- tickets assigned to a partner wait in the partner's own queue, most urgent first
  (priority, then response due time), and count towards the partner's capacity;
- the first response is the moment the partner starts the ticket; resolution is when the
  work ends. Work is the ticket's drawn service time, 50 % longer per level the partner
  lacks, plus the drive out and back for an on-site ticket.

A ticket no policy can place waits in the desk's unassignable queue with the reason and
is retried; it is never dropped. When a partner's absence begins, their queue is dispatched
again. The scenario's realism block (:mod:`thirdway.dispatch.realism`) adds unanswered offers,
missed shifts, waits on the client, chained travel, urgent-only on-call and escalation to a
higher level, all off by default. The policies are in :mod:`thirdway.dispatch.policies`.
"""

from __future__ import annotations

import heapq
import math
import time
from bisect import bisect_right
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from thirdway.dispatch import engine
from thirdway.dispatch import realism as real
from thirdway.dispatch.scenario import Scenario, SimTicket, travel_km
from thirdway.dispatch.sim_partners import Partners
from thirdway.dispatch.storm_desk import StormDesk
from thirdway.distance import haversine_km

if TYPE_CHECKING:
    from thirdway.dispatch.policies import Policy

# Each level a partner lacks makes the work this much longer (baselines may assign so).
SLOWDOWN_PER_LEVEL = 0.5
RECENT_PARTNERS_KEPT = 3
FINISH, WAKE, TICK = 0, 1, 2
# Realism events (scenario.realism): an absence begins, an unanswered offer times out, a
# ticket's wait on the client ends.
AWAY, RETRY, RESUME = 3, 4, 5
NO_ANSWER = "offered, no answer yet"
PRIORITY_RANK = {p: i for i, p in enumerate(engine.PRIORITIES)}


@dataclass(slots=True)
class Job:
    """A ticket's life in one policy's run."""

    ticket: SimTicket
    partner: int = -1  # row in the partner index; -1 while queued at the desk
    started_s: int | None = None
    finished_s: int | None = None
    reassignments: int = 0
    travel_km: float = 0.0
    reason: str = ""  # why it waits in the unassignable queue
    escalated: bool = False
    # Interrupted by a P1 (see ``Simulation.preempt``): the work still to do, how much was
    # done before, when it last resumed, and how many times.
    remaining_s: int | None = None
    done_s: int = 0
    resumed_s: int | None = None
    interruptions: int = 0
    # Realism: offers made and who let one go unanswered (and when); the work left after the
    # wait on the client, and how long the resolution clock stood still for it.
    offers: int = 0
    passed: dict[int, int] = field(default_factory=dict)
    after_wait_s: int | None = None
    paused_s: int = 0
    # Escalation (realism.escalation): raised to a higher level, and when it was first
    # answered (``started_s`` is then the start of the work at the higher level); the work
    # done on it by partners below its true level; the whole stretch of work when the one
    # in progress was cut short where the partner finds out.
    raised: bool = False
    answered_s: int | None = None
    below_done_s: int = 0
    full_s: int | None = None

    @property
    def responded_s(self) -> int | None:
        """The first response: the first start, kept when the ticket is escalated."""
        return self.started_s if self.answered_s is None else self.answered_s

    def order(self) -> tuple[int, int, int]:
        """A partner's working order: priority, response due time, arrival."""
        t = self.ticket
        return (PRIORITY_RANK[t.priority], t.response_due_s, t.id)


@dataclass(frozen=True, slots=True)
class AssignmentRecord:
    """One assignment as decided, for audits of the run (not part of the JSON result)."""

    at_s: int
    ticket_id: int
    partner_row: int
    load_before: int
    escalated: bool
    explanation: str


@dataclass
class Run:
    """One policy over the scenario; :meth:`metrics` summarises it."""

    policy: str
    jobs: list[Job]
    work_s: np.ndarray
    decision_ms: list[float]
    records: list[AssignmentRecord]
    reoptimise_ms: list[float] = field(default_factory=list)
    largest_queue: int = 0
    decision_cpu_ms: list[float] = field(default_factory=list)
    reoptimise_cpu_ms: list[float] = field(default_factory=list)

    @contextmanager
    def timing(self, what: str) -> Iterator[None]:
        """Wall and CPU milliseconds of a decision or a re-optimisation. CPU time leaves
        out waiting for a core, which a busy machine adds to the wall time."""
        wall, cpu = time.perf_counter(), time.process_time()
        yield
        getattr(self, f"{what}_cpu_ms").append((time.process_time() - cpu) * 1000)
        getattr(self, f"{what}_ms").append((time.perf_counter() - wall) * 1000)


class Simulation:
    """The event loop shared by every policy."""

    def __init__(
        self, scenario: Scenario, partners: Partners, tickets: Sequence[SimTicket], policy: Policy
    ) -> None:
        self.scenario = scenario
        self.partners = partners
        self.policy = policy
        self.jobs = [Job(t) for t in tickets]
        n = len(partners)
        self.load = np.zeros(n, dtype=np.int64)
        self.queues: list[list[int]] = [[] for _ in range(n)]
        self.current = [-1] * n
        # When each partner's current ticket ends, so a FINISH left by an interrupted one is
        # recognised as stale; and when it started and how long it was to take.
        self.finish_at = [math.inf] * n
        self.run_from = [0] * n
        self.run_for = [0] * n
        self.wake_at = [math.inf] * n
        self.work_s = np.zeros(n)
        self.waiting: list[int] = []  # the desk's unassignable queue, in arrival order
        self.events: list[tuple[float, int, int]] = []
        self.recent: dict[int, deque[int]] = {}
        self.dirty: set[int] = set()  # partners whose load or work in hand changed
        self.now = scenario.start_s
        self.run = Run(policy.name, self.jobs, self.work_s, [], [])
        self.realism = scenario.realism
        # Chained travel: each partner's last visit of the shift (site, cover span, job).
        self.visit: list[tuple[tuple[float, float], int, int] | None] = [None] * n
        self.storms = StormDesk(self)
        self.storms_on = scenario.link_incidents or scenario.surge

    # ------------------------------------------------------------------ the loop

    def simulate(self) -> Run:
        self.policy.start(self)
        if self.policy.pulls:  # partners who pull work are there when their first cover starts
            for row in range(len(self.partners)):
                when = self.partners.next_cover(row, self.now)
                if when < math.inf:
                    self.wake_at[row] = when
                    self.push(when, WAKE, row)
        jobs, end = self.jobs, self.scenario.end_s
        for when, row in self.partners.away_starts(self.now, end):
            self.push(when, AWAY, row)
        k = 0
        while True:
            next_event = self.events[0][0] if self.events else math.inf
            next_arrival = jobs[k].ticket.arrival_s if k < len(jobs) else math.inf
            if min(next_event, next_arrival) > end:
                break
            if next_event <= next_arrival:
                t, kind, data = heapq.heappop(self.events)
                self.now = int(t)
                if kind == FINISH:
                    if t == self.finish_at[data]:  # else the ticket was interrupted
                        self._finish(data)
                elif kind == WAKE:
                    self.wake_at[data] = math.inf
                    self._try_start(data)
                elif kind == AWAY:
                    self._away(data)
                elif kind == RETRY:
                    self._retry(data)
                elif kind == RESUME:
                    self._resume(data)
                else:
                    self.policy.tick(self)
                    if k < len(jobs) or self.waiting or any(q for q in self.queues):
                        self.push(self.now + self.policy.every_s, TICK, 0)
            else:
                self.now = jobs[k].ticket.arrival_s
                if self.storms_on:
                    self.storms.arrive(k)
                else:
                    self.policy.arrive(self, k)
                k += 1
            if self.storms.deferred:
                self.storms.release()
        for row in range(len(self.partners)):
            self._drive_home(row)
        return self.run

    def push(self, t: float, kind: int, data: int) -> None:
        heapq.heappush(self.events, (t, kind, data))

    # ------------------------------------------------------------------ partners at work

    def assign(
        self,
        j: int,
        row: int,
        escalated: bool = False,
        why: str = "",
        start: bool = True,
        pulled: bool = False,
        called_in: bool = False,
    ) -> None:
        """Give ticket ``j`` to ``row``. An offer (not a partner's own ``pulled`` pick) may
        go unanswered (realism.refusals): the ticket is offered again after the timeout.
        ``called_in`` (a shift stretched by the engine) has an idle partner start it now,
        off cover."""
        job = self.jobs[j]
        if job.partner >= 0:
            self.unassign(j)
            job.reassignments += 1
        self.run.records.append(
            AssignmentRecord(self.now, job.ticket.id, row, int(self.load[row]), escalated, why)
        )
        if not pulled and self.realism.refusal_share > 0:
            job.offers += 1
            if real.refuses(self.scenario, job.ticket.id, job.offers):
                job.passed[row] = self.now
                job.reason = NO_ANSWER
                self.push(self.now + self.realism.refusal_timeout_s, RETRY, j)
                if start:  # a partner interrupted for it goes back to their own queue
                    self._try_start(row)
                return
        job.partner, job.reason, job.escalated = row, "", escalated
        self.load[row] += 1
        self.dirty.add(row)
        self.queues[row].append(j)
        if start:
            self._try_start(row, j if called_in else -1)

    def unassign(self, j: int) -> None:
        row = self.jobs[j].partner
        self.queues[row].remove(j)
        self.load[row] -= 1
        self.dirty.add(row)
        self.jobs[j].partner = -1

    def queue(self, j: int, reason: str) -> None:
        self.jobs[j].reason = reason
        self.waiting.append(j)

    def passed_over(self, j: int, row: int) -> bool:
        """Whether ``row`` let an offer of ticket ``j`` go unanswered a short while ago."""
        when = self.jobs[j].passed.get(row)
        return when is not None and self.now - when < real.REFUSAL_MEMORY_S

    def may_offer(self, j: int, row: int) -> bool:
        """What every policy respects: not to someone away, to a speaker of the ticket's
        language, not again to someone who just let it go unanswered."""
        return (
            not self.partners.absent(row, self.now)
            and self.partners.speaks(row, self.jobs[j].ticket)
            and not self.passed_over(j, row)
        )

    def _retry(self, j: int) -> None:
        """An unanswered offer timed out: the ticket is offered again, unless it was taken
        meanwhile (a partner coming free may pull it before the timeout)."""
        job = self.jobs[j]
        if job.partner >= 0 or job.reason != NO_ANSWER:
            return
        job.reason = ""
        self.policy.arrive(self, j)

    def _away(self, row: int) -> None:
        """An absence (planned or a missed shift) begins: the partner's queue is
        dispatched again, as if each ticket had just arrived."""
        self.dirty.add(row)
        for j in sorted(self.queues[row], key=lambda i: self.jobs[i].order()):
            self.unassign(j)
            self.jobs[j].reassignments += 1
            self.policy.arrive(self, j)

    def _resume(self, j: int) -> None:
        """The client is back: the ticket returns to its partner's queue."""
        job = self.jobs[j]
        row = job.partner
        self.queues[row].append(j)
        self.dirty.add(row)
        if self.partners.absent(row, self.now):
            self._away(row)
        else:
            self._try_start(row)

    def _try_start(self, row: int, called_in: int = -1) -> None:
        if self.current[row] >= 0:
            return
        when = self.partners.next_cover(row, self.now)
        if called_in >= 0:
            when = self.now
        if when > self.now:
            if (self.queues[row] or self.policy.pulls) and when < self.wake_at[row]:
                self.wake_at[row] = when
                self.push(when, WAKE, row)
            return
        self.policy.ready(self, row)
        startable = [called_in] if called_in >= 0 else self._startable(row)
        if not startable:
            self.policy.idle(self, row)
            startable = self._startable(row)
            if not startable:
                if self.queues[row] and self.partners.urgent_only:
                    when = self.partners.next_shift(row, self.now)
                    if self.now < when < self.wake_at[row]:
                        self.wake_at[row] = when
                        self.push(when, WAKE, row)
                return
        queue = self.queues[row]
        j = min(startable, key=lambda i: self.jobs[i].order())
        queue.remove(j)
        self.current[row] = j
        self.dirty.add(row)
        job = self.jobs[j]
        if job.started_s is None:
            # the response (resuming is not a second one; after an escalation, the partner
            # at the higher level starts the work afresh and the first response stands)
            job.started_s = self.now
            if self.storms_on:
                self.storms.started(j)
            before, job.travel_km = job.travel_km, 0.0
            work = self._work_s(job, row, j)
            job.travel_km += before
            if job.ticket.wait_s > 0 and job.paused_s == 0:  # stops half-way for the client
                first = max(1, round(work * real.WAIT_AT))
                job.after_wait_s, work = work - first, first
        else:
            work = job.remaining_s or 0
            job.remaining_s, job.resumed_s = None, self.now
        if self._finds_out(job, row):
            left = max(1, self.realism.escalation_after_s - job.below_done_s)
            if left < work:  # the partner finds out part-way and hands it back
                job.full_s, work = work, left
        self.work_s[row] += work
        self.finish_at[row] = self.now + work
        self.run_from[row], self.run_for[row] = self.now, work
        self.push(self.now + work, FINISH, row)

    def _startable(self, row: int) -> list[int]:
        queue = self.queues[row]
        if not self.partners.urgent_only:
            return queue
        return [j for j in queue if self.partners.may_start(row, self.jobs[j].ticket, self.now)]

    def preempt(self, row: int) -> int:
        """Interrupt the partner's current ticket: it goes back to the head of its kind in
        their queue with the work still to do (started, so its response stands); returns it."""
        j = self.current[row]
        job = self.jobs[j]
        done = self.now - self.run_from[row]
        full = self.run_for[row] if job.full_s is None else job.full_s
        job.remaining_s, job.full_s = max(full - done, 1), None
        job.done_s += done
        job.interruptions += 1
        if self._finds_out(job, row):
            job.below_done_s += done
        self.work_s[row] -= max(self.run_for[row] - done, 1)
        self.current[row] = -1
        self.finish_at[row] = math.inf
        self.queues[row].append(j)
        self.dirty.add(row)
        return j

    def _finds_out(self, job: Job, row: int) -> bool:
        """Whether ``row`` works on a ticket that turns out to need more than their level
        (realism.escalation), so hands it back after a while."""
        ticket = job.ticket
        return (
            ticket.escalates
            and not job.raised
            and self.partners.level(row, ticket.practice) <= ticket.level
        )

    def _escalate(self, row: int) -> None:
        """The partner found out that the ticket needs a level above theirs: it goes back to
        the queue, one level higher, answered (its response stands) and with its resolution
        clock running; whoever takes it starts the work afresh, as a ticket not started."""
        j = self.current[row]
        job = self.jobs[j]
        job.full_s, job.raised = None, True
        job.answered_s, job.started_s = job.responded_s, None
        job.remaining_s = job.after_wait_s = job.resumed_s = None
        job.done_s = 0  # a wait on the client not yet had comes with the new work
        job.ticket = replace(job.ticket, level=min(job.ticket.level + 1, real.TOP_LEVEL))
        if self.storms_on:  # dispatched and not started again
            self.storms.pending[job.ticket.practice] += 1
        self.current[row] = -1
        self.finish_at[row] = math.inf
        self.load[row] -= 1
        self.dirty.add(row)
        job.partner = -1
        job.reassignments += 1
        # A policy that keeps what a ticket needs (Thirdway's) must see the new level.
        needs = getattr(self.policy, "needs", None)
        if isinstance(needs, dict):
            needs.pop(j, None)
        self.policy.arrive(self, j)
        self._try_start(row)

    def _work_s(self, job: Job, row: int, j: int) -> int:
        t = job.ticket
        gap = max(0, t.level - self.partners.level(row, t.practice))
        work = t.work_s * (1 + SLOWDOWN_PER_LEVEL * gap)
        if t.onsite:
            if self.realism.chained_travel:
                job.travel_km = self._leg_km(row, j)
            else:
                job.travel_km = travel_km(self.partners.states[row], t.site)
            work += job.travel_km / self.scenario.travel_speed_kmh * 3600
        return round(work)

    def _leg_km(self, row: int, j: int) -> float:
        """Chained travel: the drive to this visit from the last one of the same cover
        span, else from home (the drive home from the last one counts to it)."""
        span = self.span_of(row, self.now)
        last = self.visit[row]
        site = self.jobs[j].ticket.site
        if last is not None and last[1] == span:
            origin = last[0]
        else:
            self._drive_home(row)
            partner = self.partners.states[row]
            origin = (partner.home_lat, partner.home_lon)
        self.visit[row] = (site, span, j)
        return float(haversine_km(*origin, *site))

    def span_of(self, row: int, t: float) -> int:
        """The partner's cover span at or before ``t`` (chained travel chains within one)."""
        return bisect_right(self.partners.cover[row][0], t) - 1

    def span_end(self, row: int, t: float) -> float:
        """When the partner's stretch of cover at ``t`` ends (``t`` itself when uncovered)."""
        starts, ends = self.partners.cover[row]
        k = bisect_right(starts, t) - 1
        return ends[k] if k >= 0 and t < ends[k] else t

    def from_visit(self, row: int, visit: tuple[int, int] | None, t: float) -> int | None:
        """The ticket of ``visit`` (ticket, span) when the partner, starting new work at
        ``t``, drives on from it: the same cover span; None when they leave from home."""
        if visit is None or t == math.inf or self.span_of(row, t) != visit[1]:
            return None
        return visit[0]

    def _drive_home(self, row: int) -> None:
        """The drive home after the partner's last visit of a span, counted to that visit."""
        last = self.visit[row]
        if last is None:
            return
        partner = self.partners.states[row]
        job = self.jobs[last[2]]
        job.travel_km += float(haversine_km(*last[0], partner.home_lat, partner.home_lon))
        self.visit[row] = None

    def _finish(self, row: int) -> None:
        j = self.current[row]
        job = self.jobs[j]
        if job.full_s is not None:  # the partner finds out it needs a higher level
            self._escalate(row)
            return
        if self._finds_out(job, row):
            job.below_done_s += self.run_for[row]
        if job.after_wait_s is not None:  # waits on the client; the partner is free
            job.remaining_s, job.after_wait_s = job.after_wait_s, None
            job.paused_s += job.ticket.wait_s
            self.current[row] = -1
            self.finish_at[row] = math.inf
            self.dirty.add(row)
            self.push(self.now + job.ticket.wait_s, RESUME, j)
            self._try_start(row)
            return
        job.finished_s = self.now
        if self.storms_on:
            self.storms.finished(j, row)
        self.current[row] = -1
        self.finish_at[row] = math.inf
        self.load[row] -= 1
        self.dirty.add(row)
        recent = self.recent.setdefault(job.ticket.client, deque(maxlen=RECENT_PARTNERS_KEPT))
        if row not in recent:
            recent.append(row)
        self.policy.freed(self, row)
        self._try_start(row)


def residual_s(median_s: float, sigma: float, elapsed_s: float) -> float:
    """E[S - t | S > t] for lognormal work S with ``median_s`` and ``sigma``, t = elapsed."""
    mean = median_s * math.exp(sigma**2 / 2)
    if elapsed_s <= 0:
        return mean - elapsed_s
    if sigma == 0:
        return max(median_s - elapsed_s, 0.0)
    z = (math.log(elapsed_s) - math.log(median_s)) / sigma
    survive = 0.5 * math.erfc(z / math.sqrt(2))
    if survive < 1e-12:
        return elapsed_s * sigma  # far in the tail; keeps the estimate finite and growing
    tail = mean * 0.5 * math.erfc((z - sigma) / math.sqrt(2))
    return tail / survive - elapsed_s

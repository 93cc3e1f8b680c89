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
is retried; it is never dropped. Thirdway's policy calls the very engine functions the web
app uses: :func:`engine.rank` on arrival, :func:`optimiser.reoptimise` every
``reoptimise_every_s`` for the unassigned and at-risk queue.
"""

from __future__ import annotations

import heapq
import math
import time
from bisect import bisect_right
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from thirdway.dispatch import engine, optimiser
from thirdway.dispatch.engine.cover import _merge, _partner_cover
from thirdway.dispatch.engine.terms import _haversine
from thirdway.dispatch.scenario import Scenario, SimTicket, at, travel_km

DEFAULT_REOPTIMISE_EVERY_S = 300.0
# Each level a partner lacks makes the work this much longer (baselines may assign so).
SLOWDOWN_PER_LEVEL = 0.5
RECENT_PARTNERS_KEPT = 3
POLICIES = (
    "round_robin",
    "least_loaded",
    "skill_least_loaded",
    "nearest_qualified",
    "priority_fcfs",
    "thirdway",
)
_FINISH, _WAKE, _TICK = 0, 1, 2
_PRIORITY_RANK = {p: i for i, p in enumerate(engine.PRIORITIES)}


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

    def order(self) -> tuple[int, int, int]:
        """A partner's working order: priority, response due time, arrival."""
        t = self.ticket
        return (_PRIORITY_RANK[t.priority], t.response_due_s, t.id)


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


class Partners:
    """The partner pool in index (id) order, with each partner's cover and queue."""

    def __init__(self, scenario: Scenario) -> None:
        start = scenario.start_s - 86_400
        days = math.ceil((scenario.end_s - start) / 86_400) + 2
        self.index = engine.PartnerIndex(scenario.partners, start=at(start), days=days)
        self.states = self.index.partners
        self.capacity = np.array([p.capacity for p in self.states], dtype=np.int64)
        self.row_of = {p.id: row for row, p in enumerate(self.states)}
        spans = [_partner_cover(p, start, start + days * 86_400) for p in self.states]
        self.shifts = [shifts for shifts, _, _ in spans]
        self.cover = [_starts_ends(_merge([*shifts, *calls])) for shifts, calls, _ in spans]

    def __len__(self) -> int:
        return len(self.states)

    def level(self, row: int, practice: str) -> int:
        return self.states[row].level_in(practice)

    def next_cover(self, row: int, t: int) -> float:
        """``t`` if the partner is covered at ``t``, else when cover next starts (or inf)."""
        starts, ends = self.cover[row]
        k = bisect_right(starts, t) - 1
        if k >= 0 and t < ends[k]:
            return t
        return starts[k + 1] if k + 1 < len(starts) else math.inf


def _starts_ends(spans: Sequence[tuple[int, int]]) -> tuple[list[int], list[int]]:
    """Cover (shifts and on-call, absences removed) as sorted start and end lists."""
    return [s for s, _ in spans], [e for _, e in spans]


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
        self.wake_at = [math.inf] * n
        self.work_s = np.zeros(n)
        self.waiting: list[int] = []  # the desk's unassignable queue, in arrival order
        self.events: list[tuple[float, int, int]] = []
        self.recent: dict[int, deque] = {}
        self.dirty: set[int] = set()  # partners whose load or work in hand changed
        self.now = scenario.start_s
        self.run = Run(policy.name, self.jobs, self.work_s, [], [])

    # ------------------------------------------------------------------ the loop

    def simulate(self) -> Run:
        self.policy.start(self)
        jobs, end = self.jobs, self.scenario.end_s
        k = 0
        while True:
            next_event = self.events[0][0] if self.events else math.inf
            next_arrival = jobs[k].ticket.arrival_s if k < len(jobs) else math.inf
            if min(next_event, next_arrival) > end:
                break
            if next_event <= next_arrival:
                t, kind, data = heapq.heappop(self.events)
                self.now = int(t)
                if kind == _FINISH:
                    self._finish(data)
                elif kind == _WAKE:
                    self.wake_at[data] = math.inf
                    self._try_start(data)
                else:
                    self.policy.tick(self)
                    if k < len(jobs) or self.waiting or any(q for q in self.queues):
                        self.push(self.now + self.policy.every_s, _TICK, 0)
            else:
                self.now = jobs[k].ticket.arrival_s
                self.policy.arrive(self, k)
                k += 1
        return self.run

    def push(self, t: float, kind: int, data: int) -> None:
        heapq.heappush(self.events, (t, kind, data))

    # ------------------------------------------------------------------ partners at work

    def assign(self, j: int, row: int, escalated: bool = False, why: str = "") -> None:
        job = self.jobs[j]
        if job.partner >= 0:
            self.unassign(j)
            job.reassignments += 1
        self.run.records.append(
            AssignmentRecord(self.now, job.ticket.id, row, int(self.load[row]), escalated, why)
        )
        job.partner, job.reason, job.escalated = row, "", escalated
        self.load[row] += 1
        self.dirty.add(row)
        self.queues[row].append(j)
        self._try_start(row)

    def unassign(self, j: int) -> None:
        row = self.jobs[j].partner
        self.queues[row].remove(j)
        self.load[row] -= 1
        self.dirty.add(row)
        self.jobs[j].partner = -1

    def queue(self, j: int, reason: str) -> None:
        self.jobs[j].reason = reason
        self.waiting.append(j)

    def _try_start(self, row: int) -> None:
        if self.current[row] >= 0:
            return
        when = self.partners.next_cover(row, self.now)
        if when > self.now:
            if (self.queues[row] or self.policy.pulls) and when < self.wake_at[row]:
                self.wake_at[row] = when
                self.push(when, _WAKE, row)
            return
        if not self.queues[row]:
            self.policy.idle(self, row)
            if not self.queues[row]:
                return
        queue = self.queues[row]
        j = min(queue, key=lambda i: self.jobs[i].order())
        queue.remove(j)
        self.current[row] = j
        self.dirty.add(row)
        job = self.jobs[j]
        job.started_s = self.now
        work = self._work_s(job, row)
        self.work_s[row] += work
        self.push(self.now + work, _FINISH, row)

    def _work_s(self, job: Job, row: int) -> int:
        t = job.ticket
        gap = max(0, t.level - self.partners.level(row, t.practice))
        work = t.work_s * (1 + SLOWDOWN_PER_LEVEL * gap)
        if t.onsite:
            job.travel_km = travel_km(self.partners.states[row], t.site)
            work += job.travel_km / self.scenario.travel_speed_kmh * 3600
        return round(work)

    def _finish(self, row: int) -> None:
        j = self.current[row]
        job = self.jobs[j]
        job.finished_s = self.now
        self.current[row] = -1
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


# --------------------------------------------------------------------------- policies


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
        return sim.partners.level(row, ticket.practice) >= 1

    def idle(self, sim: Simulation, row: int) -> None:
        """A partner with nothing queued; push policies have nothing to offer."""

    def tick(self, sim: Simulation) -> None:
        """Periodic work; only Thirdway's policy has any."""

    def _open(self, sim: Simulation, rows: np.ndarray) -> np.ndarray:
        return rows[sim.load[rows] < sim.partners.capacity[rows]]

    def _qualified(self, sim: Simulation, j: int) -> np.ndarray:
        t = sim.jobs[j].ticket
        rows, levels = self.teams[t.practice]
        return self._open(sim, rows[levels[rows] >= t.level])

    def _least_loaded(self, sim: Simulation, rows: np.ndarray) -> int | None:
        if not len(rows):
            return None
        share = sim.load[rows] / np.maximum(sim.partners.capacity[rows], 1)
        return int(rows[np.argmin(share)])


class RoundRobin(Policy):
    """The next member of the practice's team in turn who has a free place."""

    name = "round_robin"

    def start(self, sim: Simulation) -> None:
        super().start(sim)
        self.turn: Counter = Counter()

    def choose(self, sim: Simulation, j: int) -> int | None:
        practice = sim.jobs[j].ticket.practice
        team = self.teams[practice][0]
        for step in range(len(team)):
            row = int(team[(self.turn[practice] + step) % len(team)])
            if sim.load[row] < sim.partners.capacity[row]:
                self.turn[practice] += step + 1
                return row
        return None


class LeastLoaded(Policy):
    """The team member with the smallest share of their capacity in use."""

    name = "least_loaded"

    def choose(self, sim: Simulation, j: int) -> int | None:
        return self._least_loaded(sim, self._open(sim, self.teams[sim.jobs[j].ticket.practice][0]))


class SkillLeastLoaded(Policy):
    """Least loaded among partners at or above the required level."""

    name = "skill_least_loaded"

    def could_take(self, sim: Simulation, row: int, ticket: SimTicket) -> bool:
        return sim.partners.level(row, ticket.practice) >= ticket.level

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
        distance = _haversine(index._phi[rows], index._lambda[rows], index._cos_phi[rows], *site)
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
            ]
        if not rows[levels[rows] >= t.level].size:
            sim.queue(j, f"no partner has {t.practice} at level {t.level}")
        elif free:
            sim.assign(j, free[0])
        else:
            sim.queue(j, "waiting for a qualified partner to be free")
        sim.waiting.sort(key=lambda i: (_PRIORITY_RANK[sim.jobs[i].ticket.priority], i))

    def idle(self, sim: Simulation, row: int) -> None:
        for position, j in enumerate(sim.waiting):
            t = sim.jobs[j].ticket
            if sim.partners.level(row, t.practice) >= t.level:
                del sim.waiting[position]
                sim.assign(j, row)
                return

    def freed(self, sim: Simulation, row: int) -> None:
        """Pulling happens in :meth:`idle` once the partner's own queue is empty."""


class Thirdway(Policy):
    """The dispatch engine: greedy by score on arrival, joint re-optimisation on a timer."""

    name = "thirdway"

    def __init__(self, weights: engine.Weights, every_s: float) -> None:
        self.weights = weights
        self.every_s = every_s

    def start(self, sim: Simulation) -> None:
        super().start(sim)
        self.index = sim.partners.index
        self.stale: set[int] = set()
        self.needs: dict[int, engine.TicketNeed] = {}
        sim.push(sim.scenario.start_s + self.every_s, _TICK, 0)

    def _index(self, sim: Simulation, held: Sequence[int] = ()) -> engine.PartnerIndex:
        """The index with partners' current loads and work in hand, leaving out the
        tickets ``held`` (at risk, about to be placed again)."""
        skip = set(held)
        rows = sim.dirty | self.stale | {sim.jobs[j].partner for j in skip}
        sim.dirty = set()
        self.stale = {sim.jobs[j].partner for j in skip}
        if not rows:
            return self.index
        loads, free_at = {}, {}
        for row in rows:
            by_rank, _ = self._walk(sim, row, skip)
            pid = self.index.partners[row].id
            loads[pid] = int(sim.load[row]) - sum(sim.jobs[j].partner == row for j in skip)
            free_at[pid] = {
                p: at(round(by_rank[k]))
                for k, p in enumerate(engine.PRIORITIES)
                if sim.now < by_rank[k] < math.inf
            }
        self.index = self.index.with_loads(loads, free_at)
        return self.index

    def _walk(
        self, sim: Simulation, row: int, skip: set[int] | frozenset[int] = frozenset()
    ) -> tuple[list[float], list[int]]:
        """Walk a partner's work in hand at the expected pace: when they could start a new
        ticket of each priority, and which queued tickets would start after their due time."""
        free: float = sim.now
        current = sim.current[row]
        if current >= 0:
            job = sim.jobs[current]
            free = sim.now + self._remaining_s(sim, job, row)
        free = sim.partners.next_cover(row, int(free))
        by_rank = [free] * len(engine.PRIORITIES)
        late = []
        for j in sorted(sim.queues[row], key=lambda i: sim.jobs[i].order()):
            if j in skip:
                continue
            ticket = sim.jobs[j].ticket
            if free > ticket.response_due_s:
                late.append(j)
                continue
            free = sim.partners.next_cover(row, int(free + self._expected_s(sim, sim.jobs[j], row)))
            for rank in range(_PRIORITY_RANK[ticket.priority], len(by_rank)):
                by_rank[rank] = free
        return by_rank, late

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
            )
        return self.needs[j]

    def arrive(self, sim: Simulation, j: int) -> None:
        with sim.run.timing("decision"):
            decision = engine.rank(self.need(sim, j), self._index(sim), self.weights, at(sim.now))
        chosen = decision.chosen
        if chosen is None:
            sim.queue(j, decision.reason)
        else:
            row = sim.partners.row_of[chosen.partner_id]
            sim.assign(j, row, chosen.escalated, chosen.explanation)

    def freed(self, sim: Simulation, row: int) -> None:
        """Waiting tickets are placed by the next re-optimisation."""

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
        elapsed = sim.now - (job.started_s or sim.now)
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
        waiting = []
        for j, assignment in zip(todo, plan.assignments, strict=True):
            job = sim.jobs[j]
            candidate = assignment.candidate
            if candidate is None:
                if job.partner < 0:
                    job.reason = assignment.reason
                    waiting.append(j)
                continue
            row = sim.partners.row_of[candidate.partner_id]
            if row != job.partner:
                sim.assign(j, row, candidate.escalated, candidate.explanation)
        sim.waiting = waiting


def make_policy(name: str, weights: engine.Weights, every_s: float) -> Policy:
    if name == "thirdway":
        return Thirdway(weights, every_s)
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

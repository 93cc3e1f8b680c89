"""The simulator's side of storms: incident linking and surge mode (scenario ``dispatch``).

With ``link_incidents`` a ticket that :func:`~thirdway.dispatch.storms.link_incident` finds a
repeat of an open ticket is not dispatched: it hangs under that parent, is answered when the
parent's partner starts the parent (at once if already started) and is resolved with it. A
ticket is never linked under a less urgent one (a P1 does not wait behind a P4's queue).

With ``surge`` a deferrable ticket (P4, and P3 with ``surge_defers_p3``) that arrives while
its skill is in surge (:func:`~thirdway.dispatch.storms.in_surge`: tickets dispatched and not
yet started against the qualified partners covered now) is held back, not dispatched, and
handed to the policy, in arrival order, after the first event at which the surge is over.

Both are the same for every policy of a run, like the realism block. Whether or not the
scenario holds work back, :class:`SurgeWatch` tells Thirdway's policy which skills are in
surge by the same rule, for the engine's travel term (``TicketNeed.surge``).
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from thirdway.dispatch import storms

if TYPE_CHECKING:
    from thirdway.dispatch.simulator import Simulation


class StormDesk:
    def __init__(self, sim: Simulation) -> None:
        self.sim = sim
        scenario = sim.scenario
        self.link, self.surge = scenario.link_incidents, scenario.surge
        self.window_s = scenario.link_window_s
        self.open: dict[tuple[int, str], list[int]] = {}  # parents by (client, skill)
        self.children: dict[int, list[int]] = {}
        self.parent_of: dict[int, int] = {}
        self.deferred: list[int] = []
        self.pending: Counter[str] = Counter()  # dispatched, not started, by skill
        self.rows: dict[str, list[int]] = {}

    def arrive(self, j: int) -> None:
        """A new ticket: linked, held back, or handed to the policy."""
        sim = self.sim
        ticket = sim.jobs[j].ticket
        if self.link and self._link(j):
            return
        if (
            self.surge
            and storms.deferred_in_surge(ticket.priority, sim.scenario.surge_defers_p3)
            and self._in_surge(ticket.practice)
        ):
            self.deferred.append(j)
            return
        self._dispatch(j)

    def _dispatch(self, j: int) -> None:
        self.pending[self.sim.jobs[j].ticket.practice] += 1
        self.sim.policy.arrive(self.sim, j)

    def _link(self, j: int) -> bool:
        sim = self.sim
        ticket = sim.jobs[j].ticket
        key = (ticket.client, ticket.practice)
        parents = [
            p
            for p in self.open.get(key, ())
            if sim.jobs[p].finished_s is None
            and ticket.arrival_s - sim.jobs[p].ticket.arrival_s <= self.window_s
        ]
        rank = _rank(ticket.priority)
        candidates = [
            storms.IncidentTicket(
                p, key[0], key[1], sim.jobs[p].ticket.arrival_s, sim.jobs[p].ticket.site
            )
            for p in parents
            if _rank(sim.jobs[p].ticket.priority) <= rank
        ]
        mine = storms.IncidentTicket(j, key[0], key[1], ticket.arrival_s, ticket.site)
        parent = storms.link_incident(mine, candidates, self.window_s)
        if parent is None:
            self.open[key] = [*parents, j]
            return False
        self.open[key] = parents
        self.children.setdefault(parent, []).append(j)
        self.parent_of[j] = parent
        if sim.jobs[parent].responded_s is not None:
            sim.jobs[j].started_s = sim.now
        return True

    def started(self, j: int) -> None:
        """Ticket ``j`` is started for the first time."""
        sim = self.sim
        self.pending[sim.jobs[j].ticket.practice] -= 1
        for child in self.children.get(j, ()):
            if sim.jobs[child].started_s is None:
                sim.jobs[child].started_s = sim.now

    def finished(self, j: int, row: int) -> None:
        for child in self.children.pop(j, ()):
            job = self.sim.jobs[child]
            job.finished_s, job.partner = self.sim.now, row

    def release(self) -> None:
        """Hand held-back tickets to the policy for every skill no longer in surge."""
        calm: dict[str, bool] = {}
        keep = []
        for j in self.deferred:
            practice = self.sim.jobs[j].ticket.practice
            if practice not in calm:
                calm[practice] = not self._in_surge(practice)
            if calm[practice]:
                self._dispatch(j)
            else:
                keep.append(j)
        self.deferred = keep

    def _in_surge(self, practice: str) -> bool:
        sim = self.sim
        rows = _skill_rows(sim, practice, self.rows)
        on = sum(1 for row in rows if _covered(sim, row))
        return storms.in_surge(self.pending[practice], on, sim.scenario.surge_ratio)


class SurgeWatch:
    """Which skills are in surge now for the engine's drive, by :func:`storms.drive_in_surge`
    with the scenario's ``surge_ratio``: their tickets not yet started, queued with a partner
    or waiting at the desk, against their partners covered now. Counted once per moment of
    the run, and the partners only as far as the answer needs (few tickets wait in a calm
    week)."""

    def __init__(self, sim: Simulation) -> None:
        self.sim = sim
        self.at: int | None = None
        self.waiting: Counter[str] = Counter()
        self.known: dict[str, bool] = {}
        self.rows: dict[str, list[int]] = {}

    def __contains__(self, practice: str) -> bool:
        sim = self.sim
        if sim.now != self.at:
            self.at, self.known = sim.now, {}
            self.waiting = Counter(
                sim.jobs[j].ticket.practice
                for queue in (*sim.queues, sim.waiting)
                for j in queue
                if sim.jobs[j].started_s is None
            )
        if practice not in self.known:
            self.known[practice] = self._surging(practice)
        return self.known[practice]

    def _surging(self, practice: str) -> bool:
        sim, ratio = self.sim, self.sim.scenario.surge_ratio
        waiting = self.waiting[practice]
        if not storms.drive_in_surge(waiting, 1, ratio):
            return False
        on = 0
        for row in _skill_rows(sim, practice, self.rows):
            on += _covered(sim, row)
            if not storms.drive_in_surge(waiting, on, ratio):
                return False
        return True


def _skill_rows(sim: Simulation, practice: str, memo: dict[str, list[int]]) -> list[int]:
    """The partners who practise ``practice`` (at any level), memoised in ``memo``."""
    if practice not in memo:
        partners = sim.partners
        memo[practice] = [row for row in range(len(partners)) if partners.level(row, practice) >= 1]
    return memo[practice]


def _covered(sim: Simulation, row: int) -> bool:
    return sim.partners.next_cover(row, sim.now) == sim.now and not sim.partners.absent(
        row, sim.now
    )


def _rank(priority: str) -> int:
    return int(priority[1:]) if priority[1:].isdigit() else 9

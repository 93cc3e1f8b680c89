"""The engine's rule for a P1 someone holds but has not started: it may pre-empt when its
response falls due before the next look and its partner cannot start it before then."""

from __future__ import annotations

from datetime import timedelta

from thirdway.dispatch import engine
from thirdway.dispatch.engine import preemption

from .test_engine import NOW, make_partner, make_ticket

DUE = NOW + timedelta(minutes=4)


def _p1(**overrides: object) -> engine.TicketNeed:
    return make_ticket(priority="P1", response_due_at=overrides.pop("due", DUE), **overrides)


def test_a_holder_who_cannot_start_before_it_is_due_lets_it_pre_empt() -> None:
    now = engine.epoch(NOW)
    assert preemption.held_is_late(_p1(), None, now, 300)  # no cover in time
    assert preemption.held_is_late(_p1(), engine.epoch(DUE) + 60, now, 300)
    assert not preemption.held_is_late(_p1(), now, now, 300)  # free now: they start it
    assert not preemption.held_is_late(_p1(), engine.epoch(DUE), now, 300)


def test_only_a_p1_due_before_the_next_look_pre_empts() -> None:
    now = engine.epoch(NOW)
    assert not preemption.held_is_late(_p1(), None, now, 60)  # due after the next look
    assert not preemption.held_is_late(
        make_ticket(priority="P2", response_due_at=DUE), None, now, 300
    )


def test_overdue_a_holder_free_now_keeps_it_and_one_who_is_not_does_not() -> None:
    overdue = _p1(due=NOW - timedelta(minutes=5))
    now = engine.epoch(NOW)
    assert not preemption.held_is_late(overdue, now, now, 300)
    assert preemption.held_is_late(overdue, now + 60, now, 300)


def test_the_holders_start_is_the_engines_cover() -> None:
    ticket = _p1()
    on_shift = make_partner(1)  # Tuesday 10:00, office hours: starts now
    off = make_partner(2, working_hours={})
    index = engine.as_index([on_shift, off], [ticket], NOW)
    weights = engine.Weights()
    now = engine.epoch(NOW)
    assert preemption.holder_start_s(ticket, index, weights, now, index.row(1)) == now
    assert preemption.holder_start_s(ticket, index, weights, now, index.row(2)) is None

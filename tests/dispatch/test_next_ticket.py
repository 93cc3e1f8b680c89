"""Urgency first: the pure rule for the ticket a partner coming free takes next."""

from thirdway.dispatch.engine.next_ticket import TAKEN, Held, Open, next_ticket

NOW = 1_000_000
HOUR = 3600


def held(*queue: Open, busy: bool = True, late: tuple[int, ...] = ()) -> Held:
    return Held(list(queue), busy, lambda: late)


def anyone(_: Open) -> bool:
    return True


def test_an_overdue_p2_in_another_queue_beats_the_own_p4():
    own = Open(1, 1, "P4", NOW + HOUR)
    overdue = Open(2, 2, "P2", NOW - HOUR)
    pick = next_ticket(own.order(), [], [held(overdue)], NOW, anyone)
    assert pick is not None and pick.ticket == overdue and pick.held
    assert pick.reason.startswith(TAKEN) and "overdue" in pick.reason


def test_an_unassigned_p1_comes_first():
    own = Open(1, 1, "P3", NOW + HOUR)
    p1 = Open(3, 3, "P1", NOW + HOUR)
    overdue = Open(2, 2, "P2", NOW - HOUR)
    pick = next_ticket(own.order(), [p1], [held(overdue)], NOW, anyone)
    assert pick is not None and pick.ticket == p1 and not pick.held


def test_a_p2_not_yet_due_stays_with_its_partner_unless_late_with_them():
    own = Open(1, 1, "P4", NOW + HOUR)
    p2 = Open(2, 2, "P2", NOW + HOUR)
    assert next_ticket(own.order(), [], [held(p2, busy=False)], NOW, anyone) is None
    late = held(p2, busy=False, late=(2,))
    pick = next_ticket(own.order(), [], [late], NOW, anyone)
    assert pick is not None and pick.ticket == p2


def test_nothing_more_urgent_than_the_own_queue_is_taken():
    own = Open(1, 1, "P1", NOW - HOUR)
    waiting = [Open(2, 2, "P2", NOW - HOUR)]
    assert next_ticket(own.order(), waiting, [held(Open(3, 3, "P1", NOW))], NOW, anyone) is None


def test_an_empty_queue_takes_a_busy_partner_s_desk_work_but_not_a_visit():
    desk = Open(2, 2, "P3", NOW + HOUR)
    visit = Open(3, 3, "P2", NOW + HOUR, needs_visit=True)
    pick = next_ticket(None, [], [held(visit, desk)], NOW, anyone)
    assert pick is not None and pick.ticket == desk
    assert next_ticket(None, [], [held(visit, desk, busy=False)], NOW, anyone) is None


def test_a_ticket_outside_the_filters_is_never_picked():
    """Outside radius, language or skill (``may_take`` says no): the next one is taken."""
    outside = Open(2, 2, "P1", NOW - HOUR)
    other = Open(3, 3, "P2", NOW - HOUR)
    refused = {2}
    pick = next_ticket(None, [outside], [held(other)], NOW, lambda t: t.key not in refused)
    assert pick is not None and pick.ticket == other
    assert next_ticket(None, [outside], [], NOW, lambda t: t.key not in refused) is None


def test_only_so_many_are_looked_at():
    waiting = [Open(k, k, "P2", NOW + k) for k in range(1, 5)]
    assert next_ticket(None, waiting, [], NOW, lambda t: t.key == 4, looks=3) is None
    pick = next_ticket(None, waiting, [], NOW, lambda t: t.key == 3, looks=3)
    assert pick is not None and pick.ticket.key == 3

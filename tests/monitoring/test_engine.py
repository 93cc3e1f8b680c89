"""The alert engine against a small brute-force model, and its rules one by one."""

from __future__ import annotations

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from thirdway.monitoring.engine import (
    CheckState,
    Do,
    OneOffWindow,
    Policy,
    Result,
    StateType,
    Status,
    Surroundings,
    Thresholds,
    WeeklyWindow,
    classify,
    covering,
    observe,
    reconsider,
    status_of_exit_code,
)

T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)
NOBODY = Surroundings()
statuses = st.sampled_from(list(Status))


def run(policy, sequence, around=NOBODY):
    """Feed (status, surroundings) pairs a minute apart; the states and actions after each."""
    state, seen = CheckState(), []
    for index, item in enumerate(sequence):
        status, where = item if isinstance(item, tuple) else (item, around)
        outcome = observe(state, policy, Result(T0 + index * MINUTE, status), where)
        state = outcome.state
        seen.append(outcome)
    return seen


# --- the model: everything recomputed from the whole history at each step ---------------------


def model_hard(history: list[Status], attempts: int) -> tuple[Status, StateType]:
    """The trailing run of problems decides: shorter than ``attempts`` is soft (hard stays OK)."""
    run_length = 0
    for status in reversed(history):
        if status is Status.OK:
            break
        run_length += 1
    if run_length == 0:
        return Status.OK, StateType.HARD
    if run_length >= attempts:
        return history[-1], StateType.HARD
    return Status.OK, StateType.SOFT


def model_share(history: list[Status]) -> float:
    last = history[-21:]
    weights = [0.8 + 0.02 * i for i in range(20)][20 - (len(last) - 1) :] if len(last) > 1 else []
    changes = [a != b for a, b in itertools.pairwise(last)]
    return sum(w for w, c in zip(weights, changes, strict=False) if c) / 20


def model_alerts(history: list[Status], policy: Policy) -> list[tuple[bool, bool]]:
    """(flapping, alert open) after each result, without dependencies or maintenance."""
    flapping, open_, out = False, False, []
    for k in range(1, len(history) + 1):
        share = model_share(history[:k])
        limit = policy.flap_stop if flapping else policy.flap_start
        flapping = round(share * 10_000) >= round(limit * 10_000)
        hard, _ = model_hard(history[:k], policy.max_attempts)
        if not flapping:
            open_ = hard is not Status.OK
        out.append((flapping, open_))
    return out


@settings(max_examples=300, deadline=None)
@given(history=st.lists(statuses, min_size=1, max_size=60), attempts=st.integers(1, 4))
def test_the_states_follow_the_model(history, attempts):
    policy = Policy(max_attempts=attempts)
    outcomes = run(policy, history)
    expected = model_alerts(history, policy)
    for k, outcome in enumerate(outcomes):
        hard, kind = model_hard(history[: k + 1], attempts)
        assert (outcome.state.hard_status, outcome.state.state_type) == (hard, kind)
        assert (outcome.state.flapping, outcome.state.alert_open) == expected[k]


@settings(max_examples=200, deadline=None)
@given(history=st.lists(statuses, min_size=1, max_size=60), attempts=st.integers(1, 4))
def test_actions_keep_one_alert_open_at_most(history, attempts):
    open_ = False
    for outcome in run(Policy(max_attempts=attempts), history):
        for action in outcome.actions:
            if action.do is Do.OPEN:
                assert not open_
                open_ = True
            elif action.do is Do.RECOVER:
                assert open_
                open_ = False
            elif action.do in (Do.UPDATE, Do.REPEAT, Do.NOTE):
                assert open_
        assert outcome.state.alert_open == open_


def model_with_surroundings(steps, policy: Policy) -> list[bool]:
    """Alert open after each (status, parent down, maintenance) step, from the whole history:
    the hard state and when it began are recomputed from scratch at every step."""
    history: list[Status] = []
    open_, flapping, out = False, False, []
    for k, (status, parent_down, maintenance) in enumerate(steps):
        history.append(status)
        limit = policy.flap_stop if flapping else policy.flap_start
        flapping = round(model_share(history) * 10_000) >= round(limit * 10_000)
        hard, _ = model_hard(history, policy.max_attempts)
        if not flapping:
            if hard is Status.OK:
                open_ = False
            elif not open_:
                # The trailing run of problems turned hard at its max_attempts-th result.
                run_start = k
                while run_start > 0 and history[run_start - 1] is not Status.OK:
                    run_start -= 1
                began = run_start + policy.max_attempts - 1
                waited = (k - began) * MINUTE >= policy.dependency_delay
                open_ = not maintenance and waited and not parent_down
        out.append(open_)
    return out


@settings(max_examples=300, deadline=None)
@given(
    steps=st.lists(
        st.tuples(st.sampled_from([Status.OK, Status.CRITICAL]), st.booleans(), st.booleans()),
        min_size=1,
        max_size=40,
    ),
    attempts=st.integers(1, 3),
    delay=st.integers(0, 3),
)
def test_dependencies_and_maintenance_follow_the_model(steps, attempts, delay):
    policy = Policy(max_attempts=attempts, has_parent=True, dependency_delay=delay * MINUTE)
    sequence = [
        (status, Surroundings(parent_down=parent, maintenance="m" if m else ""))
        for status, parent, m in steps
    ]
    opened = [outcome.state.alert_open for outcome in run(policy, sequence)]
    assert opened == model_with_surroundings(steps, policy)


@settings(max_examples=200, deadline=None)
@given(steps=st.lists(st.tuples(statuses, st.booleans(), st.booleans()), min_size=1, max_size=40))
def test_a_down_parent_or_a_window_never_stops_a_recovery_and_opens_nothing(steps):
    policy = Policy(max_attempts=1, has_parent=True, dependency_delay=2 * MINUTE)
    sequence = [
        (status, Surroundings(parent_down=parent, parent="router", maintenance="m" if m else ""))
        for status, parent, m in steps
    ]
    for (status, where), outcome in zip(sequence, run(policy, sequence), strict=False):
        done = {action.do for action in outcome.actions}
        if where.maintenance or where.parent_down:
            assert Do.OPEN not in done
        if status is Status.OK and not outcome.state.flapping:
            assert not outcome.state.alert_open


# --- the rules, one by one ---------------------------------------------------------------------


def test_a_problem_turns_hard_at_the_last_attempt_and_is_rechecked_sooner():
    policy = Policy(max_attempts=3, interval=5 * MINUTE, retry_interval=MINUTE)
    first, second, third = run(policy, [Status.CRITICAL] * 3)
    assert first.state.state_type is StateType.SOFT and not first.actions
    assert first.state.next_run_at(policy) == T0 + MINUTE
    assert second.state.state_type is StateType.SOFT
    assert third.state.state_type is StateType.HARD
    assert [a.do for a in third.actions] == [Do.OPEN]
    assert third.state.next_run_at(policy) == T0 + 2 * MINUTE + 5 * MINUTE


def test_a_soft_problem_ends_quietly_and_a_hard_one_recovers_at_once():
    quiet = run(Policy(max_attempts=3), [Status.CRITICAL, Status.OK])
    assert not quiet[-1].actions
    loud = run(Policy(max_attempts=1), [Status.CRITICAL, Status.OK])
    assert [a.do for a in loud[-1].actions] == [Do.RECOVER]


def test_a_worse_status_updates_the_alert_and_the_same_one_repeats():
    outcomes = run(Policy(max_attempts=1), [Status.WARNING, Status.WARNING, Status.CRITICAL])
    assert [[a.do for a in o.actions] for o in outcomes] == [[Do.OPEN], [Do.REPEAT], [Do.UPDATE]]


def test_flapping_starts_at_30_percent_and_notes_instead_of_resolving():
    history = [Status.OK, Status.CRITICAL] * 8
    outcomes = run(Policy(max_attempts=1), history)
    started = next(i for i, o in enumerate(outcomes) if o.state.flapping)
    # Six changes, the newest weighted 1.18 down to 1.08: 6.78 of 20 (33.9 %); five: 28.5 %.
    assert started == 6
    later = outcomes[started:]
    assert all(o.state.alert_open for o in later)
    assert not any(a.do in (Do.RECOVER, Do.OPEN) for o in later for a in o.actions)
    assert any(a.do is Do.NOTE for o in later for a in o.actions)


def test_when_flapping_stops_the_current_state_counts():
    history = [Status.OK, Status.CRITICAL] * 8 + [Status.OK] * 25
    outcomes = run(Policy(max_attempts=1), history)
    assert not outcomes[-1].state.flapping
    assert not outcomes[-1].state.alert_open
    assert any(a.do is Do.RECOVER for o in outcomes[10:] for a in o.actions)


def test_a_child_waits_for_its_parent_and_is_suppressed_when_the_parent_is_down():
    policy = Policy(max_attempts=1, has_parent=True, dependency_delay=2 * MINUTE)
    down = Surroundings(parent_down=True, parent="router")
    outcomes = run(policy, [Status.CRITICAL] * 4, around=down)
    assert outcomes[0].state.suppressed == "waiting for the parent check"
    assert outcomes[2].state.suppressed == "parent down (router)"
    assert not any(a.do is Do.OPEN for o in outcomes for a in o.actions)
    # The parent recovers: the child, still down, gets its alert.
    after = reconsider(outcomes[-1].state, policy, T0 + 10 * MINUTE, NOBODY)
    assert [a.do for a in after.actions] == [Do.OPEN]


def test_a_child_whose_parent_stays_up_opens_after_the_delay():
    policy = Policy(max_attempts=1, has_parent=True, dependency_delay=2 * MINUTE)
    outcomes = run(policy, [Status.CRITICAL] * 3)
    assert [[a.do for a in o.actions] for o in outcomes] == [[Do.SUPPRESS], [], [Do.OPEN]]


def test_a_child_recovers_even_while_its_parent_is_down():
    policy = Policy(max_attempts=1, has_parent=True, dependency_delay=MINUTE)
    down = Surroundings(parent_down=True)
    outcomes = run(policy, [(Status.CRITICAL, NOBODY)] * 3 + [(Status.OK, down)])
    assert outcomes[2].state.alert_open
    assert [a.do for a in outcomes[3].actions] == [Do.RECOVER]


def test_maintenance_opens_nothing_and_its_end_evaluates_the_current_state_only():
    inside = Surroundings(maintenance="patching")
    policy = Policy(max_attempts=1)
    # Down and up again inside the window: nothing afterwards.
    calm = run(policy, [(Status.CRITICAL, inside), (Status.OK, inside)])
    assert not reconsider(calm[-1].state, policy, T0 + 5 * MINUTE, NOBODY).actions
    # Still down when it ends: one alert, opened at the end.
    down = run(policy, [(Status.CRITICAL, inside), (Status.CRITICAL, inside)])
    assert down[-1].state.suppressed == "in maintenance (patching)"
    after = reconsider(down[-1].state, policy, T0 + 5 * MINUTE, NOBODY)
    assert [(a.do, a.at) for a in after.actions] == [(Do.OPEN, T0 + 5 * MINUTE)]


def test_an_older_result_than_the_last_is_ignored():
    state = run(Policy(max_attempts=1), [Status.OK, Status.OK])[-1].state
    late = observe(state, Policy(max_attempts=1), Result(T0, Status.CRITICAL), NOBODY)
    assert late.state == state and not late.actions


@pytest.mark.parametrize(
    ("code", "status"),
    sorted({(0, "ok"), (1, "warning"), (2, "critical"), (3, "unknown"), (7, "unknown")}),
)
def test_nagios_exit_codes(code, status):
    assert status_of_exit_code(code) == status


# --- metric thresholds with hysteresis ---------------------------------------------------------


def test_a_metric_stays_critical_until_it_passes_its_recovery_threshold():
    disk = Thresholds(warning=80, critical=95, warning_recovery=75, critical_recovery=90)
    assert classify(96, disk, Status.OK) is Status.CRITICAL
    assert classify(92, disk, Status.CRITICAL) is Status.CRITICAL
    assert classify(89, disk, Status.CRITICAL) is Status.WARNING
    assert classify(78, disk, Status.WARNING) is Status.WARNING
    assert classify(74, disk, Status.WARNING) is Status.OK
    assert classify(92, disk, Status.OK) is Status.WARNING


def test_lower_is_worse_turns_the_comparisons_round():
    days = Thresholds(warning=14, critical=3, warning_recovery=20, higher_is_worse=False)
    assert classify(2, days, Status.OK) is Status.CRITICAL
    assert classify(10, days, Status.OK) is Status.WARNING
    assert classify(17, days, Status.WARNING) is Status.WARNING
    assert classify(21, days, Status.WARNING) is Status.OK


@settings(max_examples=200, deadline=None)
@given(values=st.lists(st.floats(0, 100), min_size=1, max_size=30))
def test_hysteresis_never_recovers_between_the_edges(values):
    disk = Thresholds(warning=80, critical=95, warning_recovery=75, critical_recovery=90)
    previous = Status.OK
    for value in values:
        now = classify(value, disk, previous)
        if previous is Status.CRITICAL and value >= 90:
            assert now is Status.CRITICAL
        if value >= 95:
            assert now is Status.CRITICAL
        if value < 75:
            assert now is Status.OK
        previous = now


def test_contradicting_thresholds_are_named():
    assert [f for f, _ in Thresholds(warning=90, critical=80).problems()] == ["critical"]
    bad = Thresholds(critical=90, critical_recovery=95).problems()
    assert [f for f, _ in bad] == ["critical_recovery"]
    assert [f for f, _ in Thresholds().problems()] == ["warning"]


# --- maintenance windows -----------------------------------------------------------------------


def test_a_one_off_window_is_half_open():
    window = OneOffWindow(T0, T0 + 60 * MINUTE)
    assert window.covers(T0) and not window.covers(T0 + 60 * MINUTE)


def _utc(*args):
    return dt.datetime(*args, tzinfo=dt.UTC)


def test_a_weekly_window_follows_the_wall_clock_across_the_spring_change():
    # Sundays 01:00-04:00 in Paris; on 29 March 2026 clocks jump from 02:00 to 03:00.
    window = WeeklyWindow(frozenset({6}), dt.time(1, 0), dt.timedelta(hours=3), "Europe/Paris")
    assert window.occurrence(dt.date(2026, 3, 29)) == (_utc(2026, 3, 29, 0), _utc(2026, 3, 29, 2))
    assert window.covers(_utc(2026, 3, 29, 1, 30))  # 03:30 summer time
    assert not window.covers(_utc(2026, 3, 29, 2, 30))  # 04:30 summer time
    # A week earlier, in winter time, the same window is 00:00-03:00 UTC.
    assert window.covers(_utc(2026, 3, 22, 2, 30))


def test_a_weekly_window_lasts_an_hour_longer_on_the_autumn_change():
    # 25 October 2026: clocks go back from 03:00 to 02:00.
    window = WeeklyWindow(frozenset({6}), dt.time(1, 0), dt.timedelta(hours=3), "Europe/Paris")
    begins, ends = window.occurrence(dt.date(2026, 10, 25))
    assert (begins, ends) == (_utc(2026, 10, 24, 23), _utc(2026, 10, 25, 3))
    assert window.covers(_utc(2026, 10, 25, 2, 59))


def test_a_window_starting_in_the_missing_hour_starts_when_the_clock_jumps():
    window = WeeklyWindow(frozenset({6}), dt.time(2, 30), dt.timedelta(hours=1), "Europe/Paris")
    begins, ends = window.occurrence(dt.date(2026, 3, 29))
    assert begins == _utc(2026, 3, 29, 1)  # 03:00 summer time
    assert ends == _utc(2026, 3, 29, 1, 30)  # 03:30 summer time


def test_a_window_past_midnight_covers_the_next_morning():
    window = WeeklyWindow(frozenset({5}), dt.time(22, 0), dt.timedelta(hours=6), "UTC")
    assert window.covers(_utc(2026, 3, 8, 3, 0))  # Sunday 03:00, from Saturday 22:00
    assert not window.covers(_utc(2026, 3, 8, 4, 0))


def _ambiguous(at: dt.datetime, zone: ZoneInfo) -> bool:
    """The local time ``at`` shows is shown twice that night (the hour the clocks go back)."""
    wall = at.astimezone(zone).replace(tzinfo=None)
    first = wall.replace(tzinfo=zone, fold=0).utcoffset()
    return first != wall.replace(tzinfo=zone, fold=1).utcoffset()


@settings(max_examples=300, deadline=None)
@given(
    minutes=st.integers(0, 60 * 24 * 21),
    start=st.integers(0, 23 * 4).map(lambda q: dt.time(q // 4, 15 * (q % 4))),
    length=st.integers(1, 60 * 30),
    days=st.frozensets(st.integers(0, 6), min_size=1),
    zone=st.sampled_from(["Europe/Paris", "America/Toronto", "Australia/Lord_Howe", "UTC"]),
)
def test_weekly_windows_against_the_wall_clock(minutes, start, length, days, zone):
    """The model compares wall-clock readings only: the local time ``at`` shows against each
    window's wall-clock start and end, around the spring and autumn changes of 2026."""
    tz = ZoneInfo(zone)
    window = WeeklyWindow(days, start, dt.timedelta(minutes=length), zone)
    base = _utc(2026, 3, 20) if minutes % 2 else _utc(2026, 10, 15)
    at = base + dt.timedelta(minutes=minutes // 2)
    assume(not _ambiguous(at, tz))
    wall = at.astimezone(tz).replace(tzinfo=None)
    expected = any(
        begins <= wall < begins + dt.timedelta(minutes=length)
        for back in range(3)
        for day in [wall.date() - dt.timedelta(days=back)]
        if day.weekday() in days
        for begins in [dt.datetime.combine(day, start)]
    )
    assert window.covers(at) == expected


def test_covering_names_the_first_window():
    windows = {"b": OneOffWindow(T0, T0 + MINUTE), "a": OneOffWindow(T0, T0 + MINUTE)}
    assert covering(windows, T0) == "a"
    assert covering(windows, T0 + MINUTE) == ""

"""Weekly hours: the one reading of "HH:MM" times, the intervals of a day, overnight shifts and
wall-clock instants across daylight-saving changes."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from thirdway.weekly_hours import (
    MINUTES_PER_DAY,
    WEEKDAYS,
    HoursError,
    Interval,
    check_day,
    format_interval,
    format_time,
    parse_shift,
    parse_time,
    time_of_day,
    wall_clock,
)

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
TIME = (
    "expected HH:MM with two-digit hours 00-23 and minutes 00-59, or 24:00 for the end of the day"
)
EVERY_SPELLING = frozenset(format_time(minute) for minute in range(MINUTES_PER_DAY + 1))


def refused(call, *args, **kwargs) -> HoursError:
    with pytest.raises(HoursError) as caught:
        call(*args, **kwargs)
    return caught.value


def test_weekdays_run_from_monday_like_date_weekday() -> None:
    monday = dt.date(2026, 1, 5)
    assert [WEEKDAYS[(monday + dt.timedelta(days=n)).weekday()] for n in range(7)] == [
        "mon",
        "tue",
        "wed",
        "thu",
        "fri",
        "sat",
        "sun",
    ]


# --------------------------------------------------------------------------- times


@pytest.mark.parametrize(
    ("text", "minute"),
    [("00:00", 0), ("09:30", 570), ("12:00", 720), ("23:59", 1439), ("24:00", 1440)],
)
def test_a_time_reads_as_minutes_since_midnight(text: str, minute: int) -> None:
    assert parse_time(text) == minute
    assert format_time(minute) == text


@pytest.mark.parametrize(
    "text",
    [
        "9:00",
        "009:00",
        "24:01",
        "24:30",
        "25:00",
        "12:60",
        "12h00",
        "noon",
        "",
        ":",
        "09:00:00",
        "09:00\n",
        " 09:00",
        "\u0660\u0669:\u0660\u0660",
        "0\u0669:00",
        "-1:00",
        None,
        900,
        b"09:00",
    ],
)
def test_anything_else_is_a_malformed_time_named_in_the_message(text: object) -> None:
    error = refused(parse_time, text)

    assert str(error) == f"malformed time {text!r}: {TIME}"
    assert (error.problem, error.day, error.value) == ("time", None, text)
    assert isinstance(error, ValueError)


def test_blanks_around_a_time_are_allowed_only_when_asked() -> None:
    assert parse_time(" 08:00 ", blanks=True) == 480
    assert parse_time("\t24:00\n", blanks=True) == 1440
    error = refused(parse_time, " 8:00 ", blanks=True)
    assert str(error) == f"malformed time ' 8:00 ': {TIME}"  # the text as it was given


def test_an_interval_is_written_as_its_two_times() -> None:
    assert format_interval((480, 1440)) == "08:00-24:00"


@pytest.mark.parametrize(
    ("minute", "time"),
    [(0, dt.time(0, 0)), (570, dt.time(9, 30)), (1439, dt.time(23, 59)), (1440, dt.time(0, 0))],
)
def test_the_end_of_the_day_reads_as_midnight(minute: int, time: dt.time) -> None:
    assert time_of_day(minute) == time


@given(st.integers(0, MINUTES_PER_DAY))
def test_every_minute_of_the_day_is_written_and_read_back(minute: int) -> None:
    assert parse_time(format_time(minute)) == minute


@given(
    st.one_of(
        st.text(max_size=7),
        st.from_regex(r"[0-9\u0660-\u0669 ]{1,3}:[0-9\u0660-\u0669]{1,3}\n?", fullmatch=True),
    )
)
def test_the_only_times_read_are_the_canonical_spellings(text: str) -> None:
    try:
        minute = parse_time(text)
    except HoursError:
        assert text not in EVERY_SPELLING
    else:
        assert text in EVERY_SPELLING and format_time(minute) == text


# --------------------------------------------------------------------------- days


def test_a_day_s_intervals_come_back_sorted_and_may_touch() -> None:
    assert check_day("mon", [(780, 1020), (0, 60), (480, 780), (1380, 1440)]) == (
        (0, 60),
        (480, 780),
        (780, 1020),
        (1380, 1440),
    )
    assert check_day("sun", []) == ()


@pytest.mark.parametrize("interval", [(1020, 480), (720, 720), (1440, 1440)])
def test_an_interval_must_start_before_it_ends(interval: Interval) -> None:
    error = refused(check_day, "tue", [(0, 60), interval])

    assert str(error) == (
        f"inverted interval {format_interval(interval)} on tue: the start must be before the "
        "end; an interval may end at 24:00 but cannot cross midnight (split it over two days "
        "instead)"
    )
    assert (error.problem, error.day, error.value) == ("inverted", "tue", interval)


@pytest.mark.parametrize(
    ("intervals", "pair"),
    [
        ([(660, 780), (480, 720)], ((480, 720), (660, 780))),
        ([(480, 1020), (600, 660)], ((480, 1020), (600, 660))),
        ([(480, 720), (480, 600)], ((480, 600), (480, 720))),
    ],
    ids=["crossing", "inside", "same start"],
)
def test_intervals_of_one_day_must_not_overlap(
    intervals: list[Interval], pair: tuple[Interval, Interval]
) -> None:
    error = refused(check_day, "wed", intervals)

    earlier, later = pair
    assert str(error) == (
        f"overlapping intervals on wed: {format_interval(earlier)} and {format_interval(later)}; "
        "intervals of one day must not overlap (touching, like 08:00-12:00 and 12:00-17:00, is "
        "allowed)"
    )
    assert (error.problem, error.day, error.value) == ("overlap", "wed", pair)


def test_intervals_read_lazily_report_the_first_problem_in_the_order_given() -> None:
    def read(texts: list[tuple[str, str]]) -> Iterator[Interval]:
        return ((parse_time(a), parse_time(b)) for a, b in texts)

    inverted_first = read([("12:00", "09:00"), ("noon", "13:00")])
    assert refused(check_day, "mon", inverted_first).problem == "inverted"
    malformed_first = read([("09:00", "12:00"), ("10:00", "11:00"), ("noon", "13:00")])
    assert refused(check_day, "mon", malformed_first).problem == "time"


def _overlap(a: Interval, b: Interval) -> bool:
    return a[0] < b[1] and b[0] < a[1]


@given(
    st.lists(
        st.tuples(st.integers(0, MINUTES_PER_DAY), st.integers(0, MINUTES_PER_DAY))
        .filter(lambda pair: pair[0] < pair[1])
        .map(tuple),
        max_size=6,
    )
)
def test_a_day_is_refused_exactly_when_two_intervals_share_a_minute(
    intervals: list[Interval],
) -> None:
    clash = any(_overlap(a, b) for a, b in itertools.combinations(intervals, 2))
    try:
        day = check_day("fri", intervals)
    except HoursError as error:
        assert clash and error.problem == "overlap"
    else:
        assert not clash
        assert list(day) == sorted(intervals)


# --------------------------------------------------------------------------- shifts


@pytest.mark.parametrize(
    ("start", "end", "minutes"),
    [
        ("09:00", "17:00", (540, 1020)),
        ("00:00", "24:00", (0, 1440)),
        ("22:00", "24:00", (1320, 1440)),
        ("22:00", "06:00", (1320, 1800)),
        ("18:00", "00:00", (1080, 1440)),
        ("23:59", "23:58", (1439, 2878)),
    ],
    ids=["day", "whole day", "to midnight", "overnight", "to midnight written 00:00", "longest"],
)
def test_a_shift_may_cross_midnight(start: str, end: str, minutes: Interval) -> None:
    assert parse_shift("mon", start, end) == minutes


@pytest.mark.parametrize(
    ("start", "end"), [("09:00", "09:00"), ("24:00", "08:00"), ("24:00", "24:00"), ("24:00", "x")]
)
def test_a_shift_cannot_be_empty_nor_start_at_the_end_of_the_day(start: str, end: str) -> None:
    error = refused(parse_shift, "sat", start, end)

    assert str(error) == f"empty or invalid shift {start}-{end} on sat"
    assert (error.problem, error.day, error.value) == ("shift", "sat", (start, end))


def test_a_shift_s_times_are_read_like_any_time() -> None:
    error = refused(parse_shift, "mon", "9am", "5pm")

    assert str(error) == f"malformed time '9am': {TIME}"


@given(st.integers(0, MINUTES_PER_DAY), st.integers(0, MINUTES_PER_DAY))
def test_a_shift_lasts_between_a_minute_and_a_day(first: int, last: int) -> None:
    try:
        start, end = parse_shift("mon", format_time(first), format_time(last))
    except HoursError:
        assert first in (MINUTES_PER_DAY, last)
    else:
        assert start == first < MINUTES_PER_DAY
        assert 1 <= end - start <= MINUTES_PER_DAY
        assert end % MINUTES_PER_DAY == last % MINUTES_PER_DAY


# --------------------------------------------------------------------------- wall clock


def utc(instant: dt.datetime) -> dt.datetime:
    # Equality and subtraction of times in one zone compare wall clocks; instants need UTC.
    return instant.astimezone(dt.UTC)


def test_a_wall_clock_time_is_an_instant_in_the_zone() -> None:
    monday = dt.date(2026, 1, 5)

    assert utc(wall_clock(monday, 540, PARIS)) == dt.datetime(2026, 1, 5, 8, 0, tzinfo=dt.UTC)
    assert wall_clock(monday, 540, PARIS).tzinfo is PARIS
    assert wall_clock(monday, 1440, PARIS) == dt.datetime(2026, 1, 6, 0, 0, tzinfo=PARIS)
    assert wall_clock(monday, 1800, NEW_YORK) == dt.datetime(2026, 1, 6, 6, 0, tzinfo=NEW_YORK)


def test_a_wall_clock_time_in_the_spring_forward_gap_takes_the_offset_before_it() -> None:
    change = dt.date(2026, 3, 29)  # Paris: 02:00 CET becomes 03:00 CEST

    assert utc(wall_clock(change, 150, PARIS)) == dt.datetime(2026, 3, 29, 1, 30, tzinfo=dt.UTC)
    assert utc(wall_clock(change, 210, PARIS)) == dt.datetime(2026, 3, 29, 1, 30, tzinfo=dt.UTC)
    # An overnight shift over the change lasts an hour less than its wall-clock length.
    saturday = dt.date(2026, 3, 28)
    start, end = parse_shift("sat", "22:00", "06:00")
    length = utc(wall_clock(saturday, end, PARIS)) - utc(wall_clock(saturday, start, PARIS))
    assert length == dt.timedelta(hours=7)


def test_a_repeated_wall_clock_time_of_fall_back_is_its_first_pass() -> None:
    change = dt.date(2026, 11, 1)  # New York: 02:00 EDT becomes 01:00 EST

    assert utc(wall_clock(change, 90, NEW_YORK)) == dt.datetime(2026, 11, 1, 5, 30, tzinfo=dt.UTC)
    saturday = dt.date(2026, 10, 31)
    start, end = parse_shift("sat", "22:00", "06:00")
    length = utc(wall_clock(saturday, end, NEW_YORK)) - utc(wall_clock(saturday, start, NEW_YORK))
    assert length == dt.timedelta(hours=9)


@given(
    st.dates(dt.date(2000, 1, 1), dt.date(2040, 12, 31)),
    st.integers(0, 2 * MINUTES_PER_DAY),
    st.sampled_from([PARIS, NEW_YORK, ZoneInfo("Australia/Sydney"), ZoneInfo("UTC")]),
)
def test_a_wall_clock_time_reads_back_as_itself_unless_it_never_happened(
    day: dt.date, minute: int, zone: ZoneInfo
) -> None:
    instant = wall_clock(day, minute, zone)
    days, rest = divmod(minute, MINUTES_PER_DAY)
    seen = instant.astimezone(dt.UTC).astimezone(zone)
    naive = dt.datetime.combine(day + dt.timedelta(days=days), time_of_day(rest))
    in_gap = seen.replace(tzinfo=None) != naive
    # Only a time skipped by a spring-forward change reads back differently: an hour later.
    assert not in_gap or seen.replace(tzinfo=None) - naive == dt.timedelta(hours=1)

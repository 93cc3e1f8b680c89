"""Tests of the SLA business-time engine (pure Python, no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from thirdway.sla.engine import (
    WEEKDAYS,
    Calendar,
    CalendarError,
    ClockError,
    ClockState,
    EscalationError,
    EscalationPolicy,
    EscalationStep,
    Pause,
    SlaClock,
    add_business_seconds,
    business_seconds_between,
    due_escalations,
    evaluate_clock,
    evaluate_many,
    is_open,
    next_open,
    parse_hhmm,
    parse_interval,
)

HOUR = 3600
PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
SYDNEY = ZoneInfo("Australia/Sydney")
SANTIAGO = ZoneInfo("America/Santiago")

WORKDAYS = WEEKDAYS[:5]


def office(time_zone: str, *intervals: str, closed: tuple[date, ...] = ()) -> Calendar:
    """Monday-to-Friday calendar with the same intervals every day."""
    return Calendar.from_hours(time_zone, {day: list(intervals) for day in WORKDAYS}, closed)


def every_day(time_zone: str, *intervals: str) -> Calendar:
    return Calendar.from_hours(time_zone, {day: list(intervals) for day in WEEKDAYS})


def local(zone: ZoneInfo, *parts: int, fold: int = 0) -> datetime:
    return datetime(*parts, tzinfo=zone, fold=fold)  # type: ignore[misc]


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def day_hours(calendar: Calendar, zone: ZoneInfo, day: date) -> float:
    """Business hours during one local date (midnight to midnight, real instants)."""
    start = datetime(day.year, day.month, day.day, tzinfo=zone)
    following = day + timedelta(days=1)
    end = datetime(following.year, following.month, following.day, tzinfo=zone)
    return business_seconds_between(calendar, start, end) / HOUR


# --------------------------------------------------------------------------------------------
# Daylight saving time
# --------------------------------------------------------------------------------------------


class TestParisDst:
    SPRING = date(2025, 3, 30)  # 02:00 CET -> 03:00 CEST (a Sunday)
    AUTUMN = date(2025, 10, 26)  # 03:00 CEST -> 02:00 CET (a Sunday)

    def test_spring_forward_whole_day_is_23_hours(self) -> None:
        assert day_hours(every_day("Europe/Paris", "00:00-24:00"), PARIS, self.SPRING) == 23

    def test_spring_forward_hours_containing_the_gap_lose_an_hour(self) -> None:
        # 01:00-10:00 on the wall clock, but 02:00-03:00 never happens: 8 real hours.
        assert day_hours(every_day("Europe/Paris", "01:00-10:00"), PARIS, self.SPRING) == 8

    def test_spring_forward_hours_clear_of_the_gap_are_unchanged(self) -> None:
        assert day_hours(every_day("Europe/Paris", "08:00-17:00"), PARIS, self.SPRING) == 9

    def test_interval_starting_inside_the_gap_opens_when_the_gap_ends(self) -> None:
        calendar = every_day("Europe/Paris", "02:30-05:00")
        assert day_hours(calendar, PARIS, self.SPRING) == 2  # 03:00-05:00 CEST
        assert next_open(calendar, utc(2025, 3, 29, 23, 0)) == utc(2025, 3, 30, 1, 0)

    def test_fall_back_whole_day_is_25_hours(self) -> None:
        assert day_hours(every_day("Europe/Paris", "00:00-24:00"), PARIS, self.AUTUMN) == 25

    def test_fall_back_repeated_hour_counts_twice(self) -> None:
        calendar = every_day("Europe/Paris", "02:00-03:00")
        assert day_hours(calendar, PARIS, self.AUTUMN) == 2
        half = every_day("Europe/Paris", "02:30-02:45")
        assert day_hours(half, PARIS, self.AUTUMN) == 0.5
        first_pass = local(PARIS, 2025, 10, 26, 2, 35, fold=0)
        second_pass = local(PARIS, 2025, 10, 26, 2, 35, fold=1)
        assert second_pass - first_pass == timedelta(0)  # same wall clock ...
        assert second_pass.astimezone(UTC) - first_pass.astimezone(UTC) == timedelta(hours=1)
        assert is_open(half, first_pass) and is_open(half, second_pass)
        assert not is_open(half, local(PARIS, 2025, 10, 26, 2, 50, fold=0))

    def test_office_week_over_the_spring_change_keeps_wall_clock_hours(self) -> None:
        calendar = office("Europe/Paris", "09:00-17:00")
        friday = local(PARIS, 2025, 3, 28, 16, 0)  # 15:00 UTC
        due = add_business_seconds(calendar, friday, 2 * HOUR)
        assert due == local(PARIS, 2025, 3, 31, 10, 0)  # 1h on Friday, 1h on Monday (CEST)
        assert due == utc(2025, 3, 31, 8, 0)
        week_before = business_seconds_between(calendar, utc(2025, 3, 24), utc(2025, 3, 31))
        week_after = business_seconds_between(calendar, utc(2025, 3, 31), utc(2025, 4, 7))
        assert week_before == week_after == 40 * HOUR


class TestNewYorkDst:
    def test_spring_forward_gap_is_not_business_time(self) -> None:
        calendar = every_day("America/New_York", "01:00-04:00")
        assert day_hours(calendar, NEW_YORK, date(2025, 3, 9)) == 2
        assert day_hours(calendar, NEW_YORK, date(2025, 3, 8)) == 3

    def test_fall_back_repeated_hour_counts_twice(self) -> None:
        calendar = every_day("America/New_York", "01:00-02:00")
        assert day_hours(calendar, NEW_YORK, date(2025, 11, 2)) == 2
        assert (
            day_hours(every_day("America/New_York", "00:00-24:00"), NEW_YORK, date(2025, 11, 2))
            == 25
        )

    def test_due_time_across_the_fall_change(self) -> None:
        calendar = office("America/New_York", "09:00-17:00")
        friday = local(NEW_YORK, 2025, 10, 31, 16, 0)  # EDT, 20:00 UTC
        due = add_business_seconds(calendar, friday, 2 * HOUR)
        assert due == utc(2025, 11, 3, 15, 0)  # Monday 10:00 EST
        assert business_seconds_between(calendar, friday, due) == 2 * HOUR


class TestSydneyDst:
    """Southern hemisphere: clocks go back in April and forward in October."""

    def test_april_fall_back_day_is_25_hours(self) -> None:
        calendar = every_day("Australia/Sydney", "00:00-24:00")
        assert day_hours(calendar, SYDNEY, date(2025, 4, 6)) == 25
        assert (
            day_hours(every_day("Australia/Sydney", "02:00-03:00"), SYDNEY, date(2025, 4, 6)) == 2
        )

    def test_october_spring_forward_day_is_23_hours(self) -> None:
        calendar = every_day("Australia/Sydney", "00:00-24:00")
        assert day_hours(calendar, SYDNEY, date(2025, 10, 5)) == 23
        assert (
            day_hours(every_day("Australia/Sydney", "01:00-04:00"), SYDNEY, date(2025, 10, 5)) == 2
        )

    def test_due_time_across_the_october_change(self) -> None:
        calendar = office("Australia/Sydney", "09:00-17:00")
        friday = local(SYDNEY, 2025, 10, 3, 16, 0)  # AEST, 06:00 UTC
        due = add_business_seconds(calendar, friday, 2 * HOUR)
        assert due == local(SYDNEY, 2025, 10, 6, 10, 0)  # Monday AEDT
        assert due == utc(2025, 10, 5, 23, 0)


class TestMidnightTransitions:
    """Zones changing clocks around midnight, so a local date can repeat or start late."""

    def test_fall_back_at_midnight_repeats_the_last_hour_of_saturday(self) -> None:
        # Sunday 2025-04-06 00:00 -04 becomes Saturday 23:00 -03 ... -04 again.
        calendar = Calendar.from_hours("America/Santiago", {"sat": ["22:00-24:00"]})
        assert day_hours(calendar, SANTIAGO, date(2025, 4, 5)) == 3
        sunday = Calendar.from_hours("America/Santiago", {"sun": ["00:00-02:00"]})
        assert day_hours(sunday, SANTIAGO, date(2025, 4, 6)) == 2

    def test_spring_forward_at_midnight_skips_the_first_hour_of_sunday(self) -> None:
        calendar = Calendar.from_hours("America/Santiago", {"sun": ["00:00-02:00"]})
        assert day_hours(calendar, SANTIAGO, date(2025, 9, 7)) == 1
        assert next_open(calendar, utc(2025, 9, 7, 0, 0)) == utc(2025, 9, 7, 4, 0)

    def test_fall_back_across_midnight_interleaves_two_local_dates(self) -> None:
        # Goose Bay, 2006-10-29 03:01 UTC: Sunday 00:01 ADT became Saturday 23:01 AST.  So
        # Saturday 23:00-24:00 ADT (02:00-03:00 UTC), Sunday 00:00-00:01 ADT (03:00-03:01),
        # Saturday 23:01-24:00 AST again (03:01-04:00), then Sunday 00:00 AST (04:00).
        saturday = Calendar.from_hours("America/Goose_Bay", {"sat": ["23:00-24:00"]})
        sunday = Calendar.from_hours("America/Goose_Bay", {"sun": ["00:00-00:30"]})
        both = Calendar.from_hours(
            "America/Goose_Bay", {"sat": ["23:00-24:00"], "sun": ["00:00-00:30"]}
        )
        start, end = utc(2006, 10, 29, 1, 0), utc(2006, 10, 29, 6, 0)
        assert business_seconds_between(saturday, start, end) == 119 * 60
        assert business_seconds_between(sunday, start, end) == 31 * 60
        assert business_seconds_between(both, start, end) == 150 * 60
        assert add_business_seconds(both, start, 150 * 60) == utc(2006, 10, 29, 4, 30)
        assert is_open(sunday, utc(2006, 10, 29, 3, 0, 30))
        assert not is_open(saturday, utc(2006, 10, 29, 3, 0, 30))
        assert next_open(saturday, utc(2006, 10, 29, 3, 0, 30)) == utc(2006, 10, 29, 3, 1)


# --------------------------------------------------------------------------------------------
# Weekends, holidays, closing time
# --------------------------------------------------------------------------------------------


class TestOfficeHours:
    calendar = office(
        "Europe/Paris", "08:00-12:00", "13:00-17:00", closed=(date(2025, 5, 1), date(2025, 5, 8))
    )

    def test_weekend_is_skipped(self) -> None:
        friday = local(PARIS, 2025, 6, 6, 15, 0)
        assert add_business_seconds(self.calendar, friday, 8 * HOUR) == local(
            PARIS, 2025, 6, 9, 15, 0
        )
        saturday, monday = local(PARIS, 2025, 6, 7, 9, 0), local(PARIS, 2025, 6, 9, 8, 0)
        assert business_seconds_between(self.calendar, saturday, monday) == 0

    def test_holiday_is_skipped(self) -> None:
        # Wednesday 16:00 + 4h: 1h on Wednesday, Thursday 1 May closed, 3h on Friday.
        wednesday = local(PARIS, 2025, 4, 30, 16, 0)
        due = add_business_seconds(self.calendar, wednesday, 4 * HOUR)
        assert due == local(PARIS, 2025, 5, 2, 11, 0)
        assert not is_open(self.calendar, local(PARIS, 2025, 5, 1, 10, 0))
        assert day_hours(self.calendar, PARIS, date(2025, 5, 1)) == 0
        assert day_hours(self.calendar, PARIS, date(2025, 5, 2)) == 8

    def test_lunch_break_is_skipped(self) -> None:
        morning = local(PARIS, 2025, 6, 10, 11, 30)
        assert add_business_seconds(self.calendar, morning, HOUR) == local(
            PARIS, 2025, 6, 10, 13, 30
        )

    def test_ticket_opened_just_before_closing(self) -> None:
        opened = local(PARIS, 2025, 6, 10, 16, 59, 30)
        due = add_business_seconds(self.calendar, opened, 60)
        assert due == local(PARIS, 2025, 6, 11, 8, 0, 30)
        assert business_seconds_between(self.calendar, opened, due) == 60

    def test_target_reached_exactly_at_closing_is_due_at_closing(self) -> None:
        opened = local(PARIS, 2025, 6, 10, 16, 0)
        assert add_business_seconds(self.calendar, opened, HOUR) == local(PARIS, 2025, 6, 10, 17)
        assert not is_open(self.calendar, local(PARIS, 2025, 6, 10, 17, 0))
        assert is_open(self.calendar, local(PARIS, 2025, 6, 10, 16, 59, 59))

    def test_ticket_opened_on_a_weekend_counts_from_monday_opening(self) -> None:
        saturday = local(PARIS, 2025, 6, 7, 10, 0)
        assert next_open(self.calendar, saturday) == local(PARIS, 2025, 6, 9, 8, 0)
        assert add_business_seconds(self.calendar, saturday, 30 * 60) == local(
            PARIS, 2025, 6, 9, 8, 30
        )

    def test_zero_seconds_is_due_immediately(self) -> None:
        saturday = local(PARIS, 2025, 6, 7, 10, 0)
        assert add_business_seconds(self.calendar, saturday, 0) == saturday

    def test_next_open_when_already_open_is_the_same_instant(self) -> None:
        at = local(PARIS, 2025, 6, 10, 9, 15, 7, 123)
        assert next_open(self.calendar, at) == at
        assert next_open(self.calendar, at).tzinfo is UTC

    def test_year_of_business_hours(self) -> None:
        # 2025 has 261 weekdays; 1 and 8 May are Thursdays.
        seconds = business_seconds_between(self.calendar, utc(2025, 1, 1), utc(2026, 1, 1))
        assert seconds == (261 - 2) * 8 * HOUR

    def test_microseconds_are_kept(self) -> None:
        opened = local(PARIS, 2025, 6, 10, 9, 0, 0, 250_000)
        due = add_business_seconds(self.calendar, opened, 10)
        assert due == local(PARIS, 2025, 6, 10, 9, 0, 10, 250_000)
        assert business_seconds_between(self.calendar, opened, due - timedelta(microseconds=1)) == 9

    def test_reversed_or_empty_range_is_zero(self) -> None:
        at = local(PARIS, 2025, 6, 10, 10, 0)
        assert business_seconds_between(self.calendar, at, at) == 0
        assert business_seconds_between(self.calendar, at, at - timedelta(hours=5)) == 0

    def test_naive_datetimes_are_refused(self) -> None:
        with pytest.raises(ValueError, match="timezone-aware"):
            business_seconds_between(self.calendar, datetime(2025, 6, 10), utc(2025, 6, 11))
        with pytest.raises(ValueError, match="timezone-aware"):
            is_open(self.calendar, datetime(2025, 6, 10, 10))

    def test_negative_or_non_integer_seconds_are_refused(self) -> None:
        with pytest.raises(ValueError, match="non-negative integer"):
            add_business_seconds(self.calendar, utc(2025, 6, 10), -1)
        with pytest.raises(ValueError, match="non-negative integer"):
            add_business_seconds(self.calendar, utc(2025, 6, 10), 1.5)  # type: ignore[arg-type]


class TestMidnightIntervals:
    calendar = Calendar.from_hours("Europe/Paris", {"fri": ["18:00-24:00"], "sat": ["00:00-06:00"]})

    def test_interval_may_end_at_24_00(self) -> None:
        assert parse_hhmm("24:00") == 24 * 60
        assert self.calendar.weekly_hours[4] == ((18 * 60, 24 * 60),)

    def test_night_shift_is_continuous_across_midnight(self) -> None:
        friday = local(PARIS, 2025, 6, 13, 23, 0)
        assert add_business_seconds(self.calendar, friday, 3 * HOUR) == local(
            PARIS, 2025, 6, 14, 2, 0
        )
        assert is_open(self.calendar, local(PARIS, 2025, 6, 14, 0, 0))
        assert is_open(self.calendar, local(PARIS, 2025, 6, 13, 23, 59, 59))
        assert not is_open(self.calendar, local(PARIS, 2025, 6, 14, 6, 0))
        week = business_seconds_between(self.calendar, utc(2025, 6, 9), utc(2025, 6, 16))
        assert week == 12 * HOUR == self.calendar.weekly_business_seconds


class TestTwentyFourSeven:
    def test_business_time_is_real_time_even_across_dst(self) -> None:
        calendar = Calendar.twenty_four_seven("Europe/Paris")
        assert calendar.is_24x7
        start, end = local(PARIS, 2025, 10, 25, 12, 0), local(PARIS, 2025, 10, 27, 12, 0)
        assert business_seconds_between(calendar, start, end) == 49 * HOUR
        assert add_business_seconds(calendar, start, 49 * HOUR) == end
        assert is_open(calendar, start) and next_open(calendar, start) == start

    def test_default_zone_is_utc(self) -> None:
        calendar = Calendar.twenty_four_seven()
        assert calendar.time_zone == "UTC" and calendar.weekly_business_seconds == 7 * 24 * HOUR

    def test_closed_dates_make_it_not_24x7(self) -> None:
        calendar = Calendar.twenty_four_seven("Europe/Paris", closed_dates=[date(2025, 12, 25)])
        assert not calendar.is_24x7
        christmas_eve = local(PARIS, 2025, 12, 24, 12, 0)
        # 12 hours run out exactly at midnight, the start of the closed day ...
        assert add_business_seconds(calendar, christmas_eve, 12 * HOUR) == local(
            PARIS, 2025, 12, 25, 0, 0
        )
        # ... and the 13th hour is the first of the 26th.
        assert add_business_seconds(calendar, christmas_eve, 13 * HOUR) == local(
            PARIS, 2025, 12, 26, 1, 0
        )
        assert next_open(calendar, local(PARIS, 2025, 12, 25, 8, 0)) == local(
            PARIS, 2025, 12, 26, 0, 0
        )

    def test_full_days_built_by_hand_are_24x7(self) -> None:
        calendar = every_day("Asia/Kolkata", "00:00-12:00", "12:00-24:00")
        assert calendar.is_24x7


class TestLongSpans:
    def test_large_target_matches_a_week_by_week_walk(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        holidays = tuple(
            date(year, month, day)
            for year in range(2025, 2031)
            for month, day in ((1, 1), (5, 1), (7, 14), (12, 25))
        )
        calendar = office("Europe/Paris", "09:00-17:00", closed=holidays)
        start = local(PARIS, 2025, 2, 3, 10, 0)
        target = 1_500 * 8 * HOUR  # about six years of business days
        fast = add_business_seconds(calendar, start, target)
        span = business_seconds_between(calendar, start, fast)
        # Disable the arithmetic skip.
        monkeypatch.setattr("thirdway.sla.engine.calendar._SKIP_MIN_BLOCKS", 10**9)
        walked = Calendar(calendar.time_zone, calendar.weekly_hours, calendar.closed_dates)
        assert add_business_seconds(walked, start, target) == fast
        assert business_seconds_between(walked, start, fast) == span == target
        assert fast.astimezone(PARIS).hour in range(9, 18)

    def test_target_ending_exactly_after_whole_skipped_weeks(self) -> None:
        calendar = office("UTC", "09:00-17:00")
        thursday = utc(2025, 1, 2)  # internal weeks start on Thursdays 00:00 UTC
        due = add_business_seconds(calendar, thursday, 20 * 40 * HOUR)
        assert due == utc(2025, 5, 21, 17, 0)  # closing time of the last business day
        assert business_seconds_between(calendar, thursday, due) == 20 * 40 * HOUR

    def test_skipping_weeks_counts_dst_weeks_with_hours_at_the_change(self) -> None:
        # Open around the clock on Sundays: the weeks of the changes hold 23 or 25 such hours.
        calendar = Calendar.from_hours(
            "Europe/Paris", {"sun": ["00:00-24:00"], "wed": ["09:00-17:00"]}
        )
        start, end = utc(2025, 1, 6), utc(2031, 1, 6)
        sundays = (end - start).days // 7
        assert business_seconds_between(calendar, start, end) == sundays * 32 * HOUR
        assert add_business_seconds(calendar, start, sundays * 32 * HOUR) == local(
            PARIS, 2031, 1, 6, 0, 0
        )


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------


class TestCalendarValidation:
    @pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "", "../../etc/passwd", "europe paris"])
    def test_unknown_time_zone(self, zone: str) -> None:
        with pytest.raises(CalendarError, match=r"unknown time zone .*IANA name"):
            office(zone, "09:00-17:00")

    @pytest.mark.parametrize("interval", ["17:00-08:00", "09:00-09:00", "24:00-24:00"])
    def test_inverted_interval(self, interval: str) -> None:
        with pytest.raises(CalendarError, match=r"inverted interval .* on mon.*before the end"):
            Calendar.from_hours("UTC", {"mon": [interval]})

    def test_overlapping_intervals(self) -> None:
        with pytest.raises(
            CalendarError, match="overlapping intervals on tue: 08:00-12:00 and 11:00-13:00"
        ):
            Calendar.from_hours("UTC", {"tue": ["11:00-13:00", "08:00-12:00"]})

    def test_touching_intervals_are_allowed(self) -> None:
        calendar = Calendar.from_hours("UTC", {"tue": ["12:00-17:00", "08:00-12:00"]})
        assert calendar.weekly_hours[1] == ((480, 720), (720, 1020))

    @pytest.mark.parametrize("text", ["8:00", "12:60", "24:30", "25:00", "noon", "12h00", ""])
    def test_malformed_time(self, text: str) -> None:
        with pytest.raises(CalendarError, match=r"malformed time .*expected HH:MM"):
            parse_hhmm(text)
        with pytest.raises(CalendarError, match="malformed"):
            Calendar.from_hours("UTC", {"mon": [f"{text}-23:00"]})

    @pytest.mark.parametrize("spec", ["08:00", "08:00-12:00-13:00", ("08:00",), 8])
    def test_malformed_interval(self, spec: object) -> None:
        with pytest.raises(CalendarError, match="malformed interval"):
            parse_interval(spec)  # type: ignore[arg-type]

    def test_parse_interval_forms(self) -> None:
        assert parse_interval("08:00-12:30") == (480, 750)
        assert parse_interval(" 08:00 - 12:30 ") == (480, 750)
        assert parse_interval(("00:00", "24:00")) == (0, 1440)

    def test_unknown_weekday(self) -> None:
        with pytest.raises(CalendarError, match=r"unknown weekday key.*'monday'.*mon, tue"):
            Calendar.from_hours("UTC", {"monday": ["08:00-12:00"]})

    def test_calendar_without_any_hours(self) -> None:
        with pytest.raises(CalendarError, match="no business hours"):
            Calendar.from_hours("UTC", {})

    def test_weekly_hours_need_seven_days(self) -> None:
        with pytest.raises(CalendarError, match="exactly 7 entries"):
            Calendar("UTC", (((0, 60),),) * 5)

    def test_minutes_out_of_range(self) -> None:
        with pytest.raises(CalendarError, match=r"out of range.*1440"):
            Calendar("UTC", (((0, 1500),),) + ((),) * 6)

    def test_minutes_must_be_integer_pairs(self) -> None:
        with pytest.raises(CalendarError, match="pair of integer minutes"):
            Calendar("UTC", ((("08:00", "12:00"),),) + ((),) * 6)  # type: ignore[arg-type]

    def test_closed_dates_must_be_dates(self) -> None:
        with pytest.raises(CalendarError, match=r"must be a datetime.date"):
            office("UTC", "09:00-17:00", closed=(utc(2025, 1, 1),))  # type: ignore[arg-type]
        with pytest.raises(CalendarError, match=r"must be a datetime.date"):
            office("UTC", "09:00-17:00", closed=("2025-01-01",))  # type: ignore[arg-type]

    def test_calendar_is_hashable_and_compares_by_value(self) -> None:
        first = office("Europe/Paris", "09:00-17:00", closed=(date(2025, 1, 1),))
        second = office("Europe/Paris", "09:00-17:00", closed=(date(2025, 1, 1),))
        assert first == second and hash(first) == hash(second)
        assert first != office("Europe/Paris", "09:00-18:00")


# --------------------------------------------------------------------------------------------
# SLA clocks with pauses
# --------------------------------------------------------------------------------------------


class TestClock:
    calendar = office("Europe/Paris", "09:00-17:00")
    monday = local(PARIS, 2025, 6, 2, 9, 0)

    def clock(self, *pauses: Pause, target: int = 16 * HOUR) -> SlaClock:
        return SlaClock("paris", self.monday, target, pauses)

    def test_running_clock(self) -> None:
        state = evaluate_clock(self.calendar, self.clock(), local(PARIS, 2025, 6, 2, 13, 0))
        assert state == ClockState(
            target_seconds=16 * HOUR,
            elapsed_seconds=4 * HOUR,
            remaining_seconds=12 * HOUR,
            due_at=local(PARIS, 2025, 6, 3, 17, 0),
            breached=False,
            paused=False,
            fraction_elapsed=0.25,
        )

    def test_paused_clock_has_no_due_time(self) -> None:
        pause = Pause(local(PARIS, 2025, 6, 2, 15, 0))  # still paused
        state = evaluate_clock(self.calendar, self.clock(pause), local(PARIS, 2025, 6, 3, 10, 0))
        assert state.paused and state.due_at is None
        assert state.elapsed_seconds == 6 * HOUR and state.remaining_seconds == 10 * HOUR

    def test_pause_and_resume_across_days(self) -> None:
        # Paused Monday 15:00, resumed Wednesday 11:00; evaluated Wednesday 12:00.
        pause = Pause(local(PARIS, 2025, 6, 2, 15, 0), local(PARIS, 2025, 6, 4, 11, 0))
        state = evaluate_clock(self.calendar, self.clock(pause), local(PARIS, 2025, 6, 4, 12, 0))
        assert not state.paused
        assert state.elapsed_seconds == 7 * HOUR
        # 9h left from Wednesday 12:00: 5h on Wednesday, 4h on Thursday.
        assert state.due_at == local(PARIS, 2025, 6, 5, 13, 0)

    def test_pause_ending_after_now_is_still_ongoing_at_now(self) -> None:
        pause = Pause(local(PARIS, 2025, 6, 2, 15, 0), local(PARIS, 2025, 6, 4, 11, 0))
        state = evaluate_clock(self.calendar, self.clock(pause), local(PARIS, 2025, 6, 3, 12, 0))
        assert state.paused and state.due_at is None and state.elapsed_seconds == 6 * HOUR

    def test_pause_starting_after_now_is_ignored(self) -> None:
        pause = Pause(local(PARIS, 2025, 6, 3, 15, 0))
        state = evaluate_clock(self.calendar, self.clock(pause), local(PARIS, 2025, 6, 3, 12, 0))
        assert not state.paused and state.elapsed_seconds == 11 * HOUR
        assert state.due_at == local(PARIS, 2025, 6, 3, 17, 0)

    def test_pause_starting_exactly_now_pauses(self) -> None:
        now = local(PARIS, 2025, 6, 2, 15, 0)
        state = evaluate_clock(self.calendar, self.clock(Pause(now)), now)
        assert state.paused and state.elapsed_seconds == 6 * HOUR

    def test_overlapping_pauses_and_pauses_before_the_start(self) -> None:
        pauses = (
            Pause(local(PARIS, 2025, 6, 1, 12, 0), local(PARIS, 2025, 6, 2, 10, 0)),
            Pause(local(PARIS, 2025, 6, 2, 12, 0), local(PARIS, 2025, 6, 2, 14, 0)),
            Pause(local(PARIS, 2025, 6, 2, 13, 0), local(PARIS, 2025, 6, 2, 15, 0)),
            Pause(local(PARIS, 2025, 6, 2, 16, 0), local(PARIS, 2025, 6, 2, 16, 0)),
        )
        state = evaluate_clock(self.calendar, self.clock(*pauses), local(PARIS, 2025, 6, 2, 17, 0))
        # Runs 10:00-12:00 and 15:00-17:00 only.
        assert state.elapsed_seconds == 4 * HOUR

    def test_pauses_sharing_a_start_one_still_open(self) -> None:
        pauses = (
            Pause(local(PARIS, 2025, 6, 2, 11, 0)),
            Pause(local(PARIS, 2025, 6, 2, 11, 0), local(PARIS, 2025, 6, 2, 12, 0)),
            Pause(local(PARIS, 2025, 6, 2, 14, 0), local(PARIS, 2025, 6, 2, 15, 0)),
        )
        state = evaluate_clock(self.calendar, self.clock(*pauses), local(PARIS, 2025, 6, 2, 17, 0))
        assert state.paused and state.elapsed_seconds == 2 * HOUR and state.due_at is None

    def test_breach_reports_when_the_target_was_reached(self) -> None:
        pause = Pause(local(PARIS, 2025, 6, 2, 10, 0), local(PARIS, 2025, 6, 2, 14, 0))
        clock = self.clock(pause, target=2 * HOUR)
        at_due = evaluate_clock(self.calendar, clock, local(PARIS, 2025, 6, 2, 15, 0))
        assert at_due.breached and at_due.remaining_seconds == 0
        later = evaluate_clock(self.calendar, clock, local(PARIS, 2025, 6, 3, 10, 0))
        assert later.breached and later.due_at == local(PARIS, 2025, 6, 2, 15, 0)
        assert later.elapsed_seconds == 5 * HOUR and later.fraction_elapsed == 2.5
        just_before = evaluate_clock(self.calendar, clock, local(PARIS, 2025, 6, 2, 14, 59, 59))
        assert not just_before.breached and just_before.remaining_seconds == 1

    def test_breached_then_paused_keeps_its_due_time(self) -> None:
        pause = Pause(local(PARIS, 2025, 6, 2, 12, 0))
        clock = self.clock(pause, target=HOUR)
        state = evaluate_clock(self.calendar, clock, local(PARIS, 2025, 6, 3, 9, 0))
        assert state.paused and state.breached
        assert state.due_at == local(PARIS, 2025, 6, 2, 10, 0)

    def test_clock_not_started_yet(self) -> None:
        state = evaluate_clock(self.calendar, self.clock(), local(PARIS, 2025, 6, 1, 9, 0))
        assert state.elapsed_seconds == 0 and not state.paused
        assert state.due_at == local(PARIS, 2025, 6, 3, 17, 0)

    def test_clock_validation(self) -> None:
        with pytest.raises(ClockError, match="positive integer"):
            SlaClock("paris", self.monday, 0)
        with pytest.raises(ClockError, match="timezone-aware"):
            SlaClock("paris", datetime(2025, 6, 2, 9), HOUR)
        with pytest.raises(ClockError, match=r"ends .* before it starts"):
            Pause(self.monday, self.monday - timedelta(seconds=1))
        with pytest.raises(ClockError, match="timezone-aware"):
            Pause(datetime(2025, 6, 2, 9))
        with pytest.raises(ClockError, match="Pause instances"):
            SlaClock("paris", self.monday, HOUR, ((self.monday, None),))  # type: ignore[arg-type]

    def test_evaluate_many_keeps_order_and_uses_each_calendar(self) -> None:
        calendars = {"paris": self.calendar, "always": Calendar.twenty_four_seven()}
        clocks = [
            SlaClock("always", self.monday, 4 * HOUR),
            SlaClock("paris", self.monday, 4 * HOUR),
            SlaClock("paris", self.monday, 8 * HOUR, (Pause(self.monday),)),
        ]
        now = local(PARIS, 2025, 6, 2, 20, 0)
        states = evaluate_many(calendars, clocks, now)
        assert [s.elapsed_seconds for s in states] == [11 * HOUR, 8 * HOUR, 0]
        assert [s.breached for s in states] == [True, True, False]
        assert states[2].paused and states[2].due_at is None
        assert states == [evaluate_clock(calendars[c.calendar_key], c, now) for c in clocks]

    def test_evaluate_many_unknown_calendar(self) -> None:
        with pytest.raises(KeyError, match="unknown calendar 'tokyo'"):
            evaluate_many({}, [SlaClock("tokyo", self.monday, HOUR)], self.monday)


# --------------------------------------------------------------------------------------------
# Escalations
# --------------------------------------------------------------------------------------------


class TestEscalations:
    policy = EscalationPolicy(
        (
            EscalationStep(50, "notify-assignee"),
            EscalationStep(75, "notify-lead"),
            EscalationStep(100, "page-on-call"),
        )
    )

    @staticmethod
    def state(elapsed: int, target: int = 100) -> ClockState:
        return ClockState(
            target,
            elapsed,
            max(0, target - elapsed),
            None,
            elapsed >= target,
            False,
            elapsed / target,
        )

    def test_nothing_due_before_the_first_threshold(self) -> None:
        assert due_escalations(self.state(0), self.policy) == ()
        assert due_escalations(self.state(49), self.policy) == ()

    def test_thresholds_are_inclusive(self) -> None:
        assert [s.action for s in due_escalations(self.state(50), self.policy)] == [
            "notify-assignee"
        ]

    def test_several_steps_due_at_once_come_in_order(self) -> None:
        due = due_escalations(self.state(120), self.policy)
        assert [s.percent for s in due] == [50, 75, 100]

    def test_fired_steps_are_never_returned_again(self) -> None:
        assert [s.percent for s in due_escalations(self.state(80), self.policy, {50})] == [75]
        assert due_escalations(self.state(80), self.policy, {50, 75}) == ()
        assert [s.percent for s in self.policy.due(self.state(100), frozenset({50, 75}))] == [100]

    def test_hundred_percent_fires_exactly_at_breach(self) -> None:
        clock = SlaClock("utc", utc(2025, 1, 1), 3)
        calendar = Calendar.twenty_four_seven()
        before = evaluate_clock(calendar, clock, utc(2025, 1, 1, 0, 0, 2))
        at = evaluate_clock(calendar, clock, utc(2025, 1, 1, 0, 0, 3))
        assert 100 not in [s.percent for s in due_escalations(before, self.policy)]
        assert at.breached and [s.percent for s in due_escalations(at, self.policy)] == [
            50,
            75,
            100,
        ]

    def test_plain_sequence_of_steps_is_validated(self) -> None:
        steps = [EscalationStep(10, "a"), EscalationStep(20, "b")]
        assert [s.action for s in due_escalations(self.state(25), steps)] == ["a", "b"]
        with pytest.raises(EscalationError, match="strictly increasing"):
            due_escalations(self.state(25), list(reversed(steps)))

    @pytest.mark.parametrize("percent", [0, -5, 101, 150])
    def test_percent_out_of_range(self, percent: int) -> None:
        with pytest.raises(EscalationError, match=r"out of range.*1 to 100"):
            EscalationStep(percent, "notify")

    def test_percent_must_be_an_integer(self) -> None:
        with pytest.raises(EscalationError, match="out of range"):
            EscalationStep(50.0, "notify")  # type: ignore[arg-type]
        with pytest.raises(EscalationError, match="out of range"):
            EscalationStep(True, "notify")  # type: ignore[arg-type]

    def test_action_required(self) -> None:
        with pytest.raises(EscalationError, match="non-empty string"):
            EscalationStep(50, "  ")

    def test_out_of_order_steps(self) -> None:
        with pytest.raises(EscalationError, match=r"strictly increasing.*75% .* after 80%"):
            EscalationPolicy((EscalationStep(80, "lead"), EscalationStep(75, "assignee")))

    def test_duplicate_percents(self) -> None:
        with pytest.raises(EscalationError, match=r"strictly increasing.*50% .* after 50%"):
            EscalationPolicy((EscalationStep(50, "a"), EscalationStep(50, "b")))

    def test_policy_members_must_be_steps(self) -> None:
        with pytest.raises(EscalationError, match="must be EscalationStep"):
            EscalationPolicy(((50, "a"),))  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# Property tests against a brute-force minute-by-minute oracle
# --------------------------------------------------------------------------------------------

# Each zone with the 2025 local dates of its offset changes (zones without DST get two
# ordinary dates), so generated ranges often straddle a change.
PROPERTY_ZONES: dict[str, tuple[date, ...]] = {
    "Europe/Paris": (date(2025, 3, 30), date(2025, 10, 26)),
    "America/New_York": (date(2025, 3, 9), date(2025, 11, 2)),
    "Australia/Sydney": (date(2025, 4, 6), date(2025, 10, 5)),
    "Australia/Lord_Howe": (date(2025, 4, 6), date(2025, 10, 5)),  # 30-minute shift
    "America/Santiago": (date(2025, 4, 6), date(2025, 9, 7)),  # changes at midnight
    "America/Goose_Bay": (date(2006, 4, 2), date(2006, 10, 29)),  # changed at 00:01 then
    "Asia/Kolkata": (date(2025, 1, 1), date(2025, 6, 15)),  # +05:30, no DST
    "UTC": (date(2025, 1, 1), date(2025, 6, 15)),
}
MINUTE = timedelta(minutes=1)
QUARTERS = list(range(0, 24 * 60 + 1, 15))


# Strategies are built once: building them inside each draw dominates the run time.
DAY_KIND = st.integers(0, 9)
INTERVAL_COUNT = st.integers(0, 2)
BOUNDS = [st.sets(st.sampled_from(QUARTERS), min_size=2 * n, max_size=2 * n) for n in (1, 2, 3)]


@st.composite
def day_intervals(draw: st.DrawFn) -> tuple[tuple[int, int], ...]:
    """Mostly 1 to 3 quarter-hour-aligned intervals; sometimes a full or an empty day."""
    kind = draw(DAY_KIND)
    if kind == 0:
        return ((0, 24 * 60),)
    if kind == 1:
        return ()
    bounds = sorted(draw(BOUNDS[draw(INTERVAL_COUNT)]))
    return tuple(zip(bounds[::2], bounds[1::2], strict=True))


Scenario = tuple[Calendar, datetime, datetime]
ZONE_NAMES = st.sampled_from(sorted(PROPERTY_ZONES))
ZONE_ANCHORS = {zone: st.sampled_from(anchors) for zone, anchors in PROPERTY_ZONES.items()}
WEEKS = st.lists(day_intervals(), min_size=7, max_size=7).filter(any)
CLOSED_OFFSETS = st.sets(st.integers(-10, 16), max_size=6)
DAYS_BEFORE = st.integers(1, 8)
MINUTE_OF_DAY = st.integers(0, 24 * 60 - 1)


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    """A random calendar, a minute-aligned UTC start, and the UTC midnight starting the local
    date of one of the zone's offset changes (the *anchor*, 1 to 9 days after the start)."""
    zone = draw(ZONE_NAMES)
    week = draw(WEEKS)
    anchor = draw(ZONE_ANCHORS[zone])
    closed = frozenset(anchor + timedelta(days=d) for d in draw(CLOSED_OFFSETS))
    calendar = Calendar(zone, tuple(week), closed)
    days_before, minutes = draw(DAYS_BEFORE), draw(MINUTE_OF_DAY)
    midnight = datetime(anchor.year, anchor.month, anchor.day, tzinfo=UTC)
    return calendar, midnight - timedelta(days=days_before) + minutes * MINUTE, midnight


def minute_lengths(max_days: int) -> st.SearchStrategy[int]:
    """Lengths in minutes spread evenly over whole days (plain integers favour small ones)."""
    return st.builds(
        lambda days, minutes: days * 24 * 60 + minutes,
        st.integers(0, max_days - 1),
        st.integers(0, 24 * 60 - 1),
    )


def brute_force_open(calendar: Calendar, instant: datetime) -> bool:
    """Direct reading of the definition: the local wall clock is within the day's hours."""
    wall = instant.astimezone(ZoneInfo(calendar.time_zone))
    if wall.date() in calendar.closed_dates:
        return False
    minute = wall.hour * 60 + wall.minute
    return any(start <= minute < end for start, end in calendar.weekly_hours[wall.weekday()])


def brute_force_seconds(calendar: Calendar, start: datetime, end: datetime) -> int:
    """Count open minutes one by one (same definition as above, with lookup tables)."""
    zone = ZoneInfo(calendar.time_zone)
    open_minutes = [
        [any(s <= minute < e for s, e in day) for minute in range(24 * 60)]
        for day in calendar.weekly_hours
    ]
    count = 0
    for ts in range(int(start.timestamp()), int(end.timestamp()), 60):
        wall = datetime.fromtimestamp(ts, zone)
        if open_minutes[wall.weekday()][wall.hour * 60 + wall.minute]:
            count += wall.date() not in calendar.closed_dates
    return count * 60


PROPERTY_SETTINGS = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@PROPERTY_SETTINGS
@given(
    scenario=scenarios(),
    across_change=st.booleans(),
    length=minute_lengths(14),
    after_change=minute_lengths(5),
)
def test_between_matches_minute_by_minute_count(
    scenario: Scenario, across_change: bool, length: int, after_change: int
) -> None:
    calendar, start, anchor = scenario
    if across_change:
        # At least a day past the anchor: the range contains the zone's offset change.
        end = anchor + timedelta(days=1) + after_change * MINUTE
    else:
        end = start + length * MINUTE
    assert business_seconds_between(calendar, start, end) == brute_force_seconds(
        calendar, start, end
    )


@PROPERTY_SETTINGS
@given(scenario=scenarios(), minutes=st.lists(st.integers(0, 14 * 24 * 60), max_size=40))
def test_is_open_matches_the_definition(scenario: Scenario, minutes: list[int]) -> None:
    calendar, start, _ = scenario
    for minute in minutes:
        instant = start + minute * MINUTE
        assert is_open(calendar, instant) == brute_force_open(calendar, instant)


@settings(max_examples=250, deadline=None)
@given(
    scenario=scenarios(),
    raw_seconds=st.one_of(st.integers(0, 3 * 24 * HOUR), st.integers(0, 10**9)),
    jitter_us=st.integers(0, 59_999_999),
)
def test_add_is_the_earliest_instant_reaching_the_target(
    scenario: Scenario, raw_seconds: int, jitter_us: int
) -> None:
    calendar, start, _ = scenario
    # Up to ~40 weeks of this calendar's hours, so sparse calendars stay within a few years.
    seconds = raw_seconds % (40 * calendar.weekly_business_seconds + 1)
    start += timedelta(microseconds=jitter_us)
    due = add_business_seconds(calendar, start, seconds)
    assert due >= start and due.tzinfo is UTC
    assert business_seconds_between(calendar, start, due) == seconds
    if seconds:
        # Business time accrues right up to the due instant, so one microsecond earlier the
        # target is not yet reached.
        just_before = due - timedelta(microseconds=1)
        assert is_open(calendar, just_before)
        assert business_seconds_between(calendar, start, just_before) == seconds - 1
    else:
        assert due == start


@PROPERTY_SETTINGS
@given(scenario=scenarios(), minute=st.integers(0, 7 * 24 * 60))
def test_next_open_is_the_first_open_instant(scenario: Scenario, minute: int) -> None:
    calendar, start, _ = scenario
    at = start + minute * MINUTE
    opening = next_open(calendar, at)
    assert opening >= at and is_open(calendar, opening)
    assert business_seconds_between(calendar, at, opening) == 0


@settings(max_examples=60, deadline=None)
@given(scenario=scenarios(), weeks=st.integers(9, 120), extra=st.integers(0, 10**6))
def test_skipping_regular_weeks_matches_walking_every_week(
    scenario: Scenario, weeks: int, extra: int
) -> None:
    calendar, start, _ = scenario
    seconds = weeks * calendar.weekly_business_seconds + extra
    due = add_business_seconds(calendar, start, seconds)
    span = business_seconds_between(calendar, start, start + timedelta(weeks=weeks))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("thirdway.sla.engine.calendar._SKIP_MIN_BLOCKS", 10**9)
        assert add_business_seconds(calendar, start, seconds) == due
        assert business_seconds_between(calendar, start, start + timedelta(weeks=weeks)) == span
    assert business_seconds_between(calendar, start, due) == seconds

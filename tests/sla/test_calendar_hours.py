"""A calendar's opening hours as an administrator sends them: what is kept, and what is refused
with which words (the problem the API answers for the ``weekly_hours`` field)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from thirdway.sla.calendars import check_hours

TIME = (
    "expected HH:MM with two-digit hours 00-23 and minutes 00-59, or 24:00 for the end of the day"
)


def problem(hours: object) -> str:
    with pytest.raises(ValidationError) as caught:
        check_hours(hours)
    [message] = caught.value.message_dict["weekly_hours"]
    return message


@pytest.mark.parametrize(
    ("hours", "kept"),
    [
        ({"mon": [["09:00", "17:00"]], "sun": []}, {"mon": [["09:00", "17:00"]]}),
        ({"mon": ["09:00-17:00"]}, {"mon": [["09:00", "17:00"]]}),
        ({"mon": [" 09:00 - 17:00 "]}, {"mon": [[" 09:00 ", " 17:00 "]]}),
        (
            {"tue": [["12:00", "24:00"], ["08:00", "12:00"]]},
            {"tue": [["12:00", "24:00"], ["08:00", "12:00"]]},
        ),
    ],
    ids=["pairs", "a string", "blanks around the times", "touching, in any order"],
)
def test_opening_hours_are_kept_as_given(hours: dict, kept: dict) -> None:
    assert check_hours(hours) == kept


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        ([], "Hours must be an object of weekdays."),
        ({"mon": "09:00-17:00"}, "hours of a weekday must be a list, got '09:00-17:00'"),
        (
            {"mon": ["09:00"]},
            "malformed interval '09:00': expected 'HH:MM-HH:MM', e.g. '08:00-12:00'",
        ),
        ({"mon": [["09:00"]]}, "malformed interval ['09:00']: expected [HH:MM, HH:MM]"),
        ({"mon": [["9:00", "17:00"]]}, f"malformed time '9:00': {TIME}"),
        ({"mon": [[" 9:00", "17:00"]]}, f"malformed time ' 9:00': {TIME}"),
        ({"mon": [["09:00", "24:30"]]}, f"malformed time '24:30': {TIME}"),
        ({"mon": [[900, 1700]]}, f"malformed time '900': {TIME}"),
        ({"mon": [["\u0660\u0669:00", "17:00"]]}, f"malformed time '\u0660\u0669:00': {TIME}"),
        (
            {"mon": [["17:00", "09:00"]]},
            "inverted interval 17:00-09:00 on mon: the start must be before the end; an interval "
            "may end at 24:00 but cannot cross midnight (split it over two days instead)",
        ),
        (
            {"mon": [["24:00", "24:00"]]},
            "inverted interval 24:00-24:00 on mon: the start must be before the end; an interval "
            "may end at 24:00 but cannot cross midnight (split it over two days instead)",
        ),
        (
            {"tue": [["11:00", "13:00"], ["08:00", "12:00"]]},
            "overlapping intervals on tue: 08:00-12:00 and 11:00-13:00; intervals of one day must "
            "not overlap (touching, like 08:00-12:00 and 12:00-17:00, is allowed)",
        ),
        (
            {"funday": [["09:00", "17:00"]], "monday": []},
            "unknown weekday key(s) 'funday', 'monday': expected some of mon, tue, wed, thu, fri, "
            "sat, sun",
        ),
        (
            {"mon": []},
            "the calendar has no business hours on any weekday: at least one interval is "
            "required, otherwise no SLA target could ever be reached",
        ),
    ],
    ids=[
        "not an object",
        "day as a string",
        "string without a dash",
        "one time",
        "hour without its leading zero",
        "blank and no leading zero",
        "past the end of the day",
        "numbers",
        "digits of another script",
        "inverted",
        "starting at the end of the day",
        "overlapping",
        "unknown weekdays",
        "no hours at all",
    ],
)
def test_opening_hours_that_are_refused_say_why(hours: object, message: str) -> None:
    assert problem(hours) == message


def test_every_time_is_read_before_any_interval_is_checked() -> None:
    # A malformed time anywhere in the week is reported before an inverted interval.
    assert (
        problem({"tue": [["12:00", "09:00"]], "mon": [["x", "y"]]}) == f"malformed time 'x': {TIME}"
    )
    assert problem({"mon": [["12:00", "09:00"], ["x", "y"]]}) == f"malformed time 'x': {TIME}"

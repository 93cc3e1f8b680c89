"""Service-level fixtures built through the services: an office calendar in Paris with French
public holidays, a 24x7 calendar, and a default policy with escalation steps."""

from __future__ import annotations

import pytest

from thirdway.audit.models import Source
from thirdway.sla import services as sla

PARIS_OFFICE = {
    day: [["09:00", "12:00"], ["13:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")
}
TARGETS = {
    1: {"first_response": 60, "next_response": 120, "resolution": 240},
    2: {"first_response": 120, "next_response": 240, "resolution": 480},
    3: {"first_response": 240, "next_response": 480, "resolution": 960},
    4: {"first_response": 480, "next_response": None, "resolution": 2400},
}
STEPS = {
    "first_response": [(75, ["warn_assignee"]), (100, ["notify_lead", "hand_to_on_call"])],
    "resolution": [(75, ["warn_assignee"]), (100, ["notify_lead", "raise_priority"])],
}


@pytest.fixture
def office(cast):
    return sla.create_calendar(
        cast.admin,
        name="Paris office",
        time_zone="Europe/Paris",
        weekly_hours=PARIS_OFFICE,
        holiday_country="FR",
        closed_dates=["2026-12-24"],
        source=Source.CLI,
    )


@pytest.fixture
def always(cast):
    return sla.create_calendar(
        cast.admin,
        name="24x7",
        time_zone="UTC",
        weekly_hours={
            day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
        },
        source=Source.CLI,
    )


@pytest.fixture
def standard(cast, office):
    return sla.create_policy(
        cast.admin,
        name="Standard",
        calendar=office,
        targets=TARGETS,
        steps=STEPS,
        is_default=True,
        source=Source.CLI,
    )

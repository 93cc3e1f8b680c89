"""Per-client SLA policies in the simulator: named policies, each client naming one, and
public holidays per policy or per client zone, counted by the SLA engine's calendars."""

from __future__ import annotations

from datetime import UTC, date, datetime

from thirdway.dispatch import drawing, scenario
from thirdway.sla.engine import Calendar, add_business_seconds

from .test_simulator import OFFICE, problems_of, tiny

GOLD = {
    "P1": {"response_hours": 0.5, "resolution_hours": 2},
    "P2": {"response_hours": 1, "resolution_hours": 4, "hours": OFFICE},
    "P3": {"response_hours": 2, "resolution_hours": 8, "hours": OFFICE},
    "P4": {"response_hours": 4, "resolution_hours": 16, "hours": OFFICE},
}


def _due(zone: str, arrival_s: int, hours: float, closed: tuple[date, ...] = ()) -> int:
    week = {day: [tuple(span) for span in spans] for day, spans in OFFICE.items()}
    calendar = Calendar.from_hours(zone, week, closed)
    start = datetime.fromtimestamp(arrival_s, UTC)
    return int(add_business_seconds(calendar, start, round(hours * 3600)).timestamp())


def test_a_client_naming_a_policy_has_its_terms_and_the_others_the_default():
    document = tiny(named_sla_policies={"gold": GOLD})
    document["clients"][0]["sla_policy"] = "gold"
    model = scenario.parse(document)
    tickets = drawing.draw_tickets(model)
    assert {t.client for t in tickets} == {0, 1}
    for t in tickets:
        terms = GOLD if t.client == 0 else tiny()["sla_policies"]
        hours = terms[t.priority]["response_hours"]
        if t.priority == "P1":  # around the clock
            assert t.response_due_s == t.arrival_s + round(hours * 3600)
        else:
            assert t.response_due_s == _due("Europe/London", t.arrival_s, hours)
    # the same arrivals as without the named policy: only the due times differ
    plain = drawing.draw_tickets(scenario.parse(tiny()))
    assert [(t.arrival_s, t.client, t.work_s) for t in tickets] == [
        (t.arrival_s, t.client, t.work_s) for t in plain
    ]


def test_a_holiday_has_no_business_hours_and_around_the_clock_runs_through_it():
    # The Tuesday of arrivals is a holiday in London: office-hours clocks start on Wednesday.
    tuesday = "2025-03-11"
    for where in ("zone", "policy"):
        document = tiny()
        if where == "zone":
            document["public_holidays"] = {"Europe/London": [tuesday]}
        else:
            document["sla_policies"]["holidays"] = [tuesday]
        tickets = drawing.draw_tickets(scenario.parse(document))
        plain = drawing.draw_tickets(scenario.parse(tiny()))
        wednesday_8 = int(datetime(2025, 3, 12, 8, tzinfo=UTC).timestamp())
        for t, before in zip(tickets, plain, strict=True):
            if t.priority == "P1":
                assert t.response_due_s == before.response_due_s
            else:
                hours = tiny()["sla_policies"][t.priority]["response_hours"]
                assert t.response_due_s == wednesday_8 + hours * 3600
                assert t.response_due_s >= before.response_due_s
        assert any(t.priority != "P1" for t in tickets)


def test_a_zone_s_holidays_apply_only_to_clients_of_that_zone():
    document = tiny(public_holidays={"Asia/Singapore": ["2025-03-11"]})
    assert drawing.draw_tickets(scenario.parse(document)) == drawing.draw_tickets(
        scenario.parse(tiny())
    )


def test_a_named_policy_s_holidays_and_the_zone_s_add_up():
    document = tiny(
        named_sla_policies={"gold": {**GOLD, "holidays": ["2025-03-12"]}},
        public_holidays={"Europe/London": ["2025-03-11"]},
    )
    document["clients"][0]["sla_policy"] = "gold"
    model = scenario.parse(document)
    client = model.clients[0]
    _, calendar = model.sla_for(client, "P3")
    assert calendar is not None
    assert calendar.closed_dates == {date(2025, 3, 11), date(2025, 3, 12)}
    _, other = model.sla_for(model.clients[1], "P3")
    assert other is not None and other.closed_dates == {date(2025, 3, 11)}


def test_unknown_policy_names_and_bad_dates_are_named_by_their_path():
    document = tiny(
        named_sla_policies={"gold": {**GOLD, "holidays": ["2025-02-30"]}},
        public_holidays={"Mars/Olympus": ["2025-12-25"], "Europe/Paris": ["25/12/2025"]},
    )
    document["clients"][1]["sla_policy"] = "platinum"
    document["sla_policies"]["holidays"] = ["2025-13-01"]
    problems = problems_of(document)
    # the schema's pattern first: that one is reported alone
    assert set(problems) == {"public_holidays.Europe/Paris[0]"}
    assert "is not a date YYYY-MM-DD" in problems["public_holidays.Europe/Paris[0]"]
    del document["public_holidays"]["Europe/Paris"]
    problems = problems_of(document)
    assert problems["clients[1].sla_policy"] == "no SLA policy named 'platinum'; known: 'gold'"
    assert "'2025-02-30' is not a date" in problems["named_sla_policies.gold.holidays[0]"]
    assert "'2025-13-01' is not a date" in problems["sla_policies.holidays[0]"]
    assert problems["public_holidays.Mars/Olympus"] == "unknown time zone 'Mars/Olympus'"


def test_a_named_policy_is_checked_like_the_default_block():
    bad = {**GOLD, "P3": {"response_hours": 2, "resolution_hours": 8, "hours": {"xyz": []}}}
    problems = problems_of(tiny(named_sla_policies={"gold": bad, "silver": {"P1": GOLD["P1"]}}))
    assert "named_sla_policies.gold.P3.hours" in problems
    assert "named_sla_policies.silver" in problems

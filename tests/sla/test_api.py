"""The service-level API: who may read and write it, bad input, on call and rotas."""

from __future__ import annotations

import datetime as dt

from thirdway.audit.models import Source
from thirdway.network import services as network
from thirdway.sla.models import BusinessCalendar

API = "/api/v1"
HOURS = {"mon": [["09:00", "17:00"]]}


def test_the_network_reads_policies_and_outsiders_see_nothing(cast, standard, api_as):
    answer = api_as(cast.partner).get(f"{API}/sla/policies")
    assert answer.status_code == 200
    [policy] = answer.json()["items"]
    assert policy["name"] == "Standard" and len(policy["targets"]) == 4
    assert {s["percent"] for s in policy["steps"]} == {75, 100}
    for user in (cast.client_admin, cast.outsider):
        client = api_as(user)
        assert client.get(f"{API}/sla/policies").json()["items"] == []
        assert client.get(f"{API}/sla/policies/{standard.pk}").status_code == 404
        assert client.get(f"{API}/sla/calendars").json()["items"] == []


def test_an_admin_creates_a_calendar_and_bad_hours_are_a_400_naming_the_field(cast, api_as):
    admin = api_as(cast.admin)
    made = admin.post(
        f"{API}/sla/calendars",
        {
            "name": "Quebec",
            "time_zone": "America/Toronto",
            "weekly_hours": HOURS,
            "holiday_country": "CA",
            "holiday_region": "QC",
        },
        content_type="application/json",
    )
    assert made.status_code == 201 and made.json()["holiday_region"] == "QC"
    bad = admin.post(
        f"{API}/sla/calendars",
        {"name": "Bad", "time_zone": "Europe/Paris", "weekly_hours": {"mon": [["17:00", "09:00"]]}},
        content_type="application/json",
    )
    assert bad.status_code == 400
    [error] = bad.json()["errors"]
    assert error["field"] == "weekly_hours" and "inverted" in error["problem"]
    assert error["allowed"]
    refused = api_as(cast.partner).post(
        f"{API}/sla/calendars",
        {"name": "Mine", "time_zone": "Europe/Paris", "weekly_hours": HOURS},
        content_type="application/json",
    )
    assert refused.status_code == 403
    assert list(BusinessCalendar.objects.values_list("name", flat=True)) == ["Quebec"]


def test_who_is_on_call_and_the_uncovered_hours(cast, api_as):
    rota = network.create_rota(
        cast.admin,
        name="Security nights",
        practice=cast.security,
        kind="follow_the_sun",
        time_zone="UTC",
        starts_on=dt.date(2026, 1, 5),
        members=[cast.partner_record],
        source=Source.CLI,
    )
    desk = api_as(cast.desk)
    at = "2026-01-05T10:00:00+01:00"
    answer = desk.get(f"{API}/on-call", {"practice": cast.security.pk, "at": at}).json()
    assert (answer["partner_name"], answer["rota_id"]) == ("Paula Partner", rota.pk)
    night = desk.get(f"{API}/on-call", {"practice": cast.security.pk, "at": "2026-01-05T23:00Z"})
    assert night.json()["partner_id"] is None
    [listed] = desk.get(f"{API}/rotas").json()
    assert listed["member_ids"] == [cast.partner_record.pk]
    assert "Fri 16:00 to Mon 00:00 UTC" in listed["uncovered"]
    client = api_as(cast.client_admin)
    assert client.get(f"{API}/on-call").status_code == 404
    assert client.get(f"{API}/rotas").json() == []


def test_tickets_carry_their_due_times_and_sort_by_breaches_soonest(cast, standard, api_as):
    from thirdway.tickets import services

    slow = services.create_ticket(
        cast.admin, cast.acme, subject="Slow", body_text="x", impact=3, urgency=3, source="web"
    )
    urgent = services.create_ticket(
        cast.admin, cast.acme, subject="Down", body_text="x", impact=1, urgency=1, source="web"
    )
    answer = api_as(cast.partner).get(f"{API}/tickets", {"sort": "sla_due_at"}).json()
    assert [t["id"] for t in answer["items"]] == [urgent.pk, slow.pk]
    assert answer["items"][0]["sla_due_at"] is not None

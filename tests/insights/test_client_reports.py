"""A client report's figures against the values worked out by hand (reports_data.py), and each
recommendation's threshold: it fires on it and stays quiet just under it."""

from __future__ import annotations

import datetime as dt

import pytest

from thirdway.insights import client_reports as cr
from thirdway.insights import report_sources

from .reports_data import OCTOBER, build_october

pytestmark = pytest.mark.django_db


@pytest.fixture
def october(cast):
    data = build_october(cast)
    first, last = report_sources.period_containing("monthly", OCTOBER)
    return data, report_sources.build(cast.acme, "monthly", first, last)


def ids(evidence: list) -> list[int]:
    return [e.id for e in evidence]


def test_periods_are_calendar_months_and_quarters_in_the_clients_time_zone(cast):
    assert report_sources.period_containing("monthly", dt.date(2026, 2, 14)) == (
        dt.date(2026, 2, 1),
        dt.date(2026, 2, 28),
    )
    assert report_sources.period_containing("quarterly", dt.date(2026, 11, 30)) == (
        dt.date(2026, 10, 1),
        dt.date(2026, 12, 31),
    )
    assert report_sources.period_before("quarterly", dt.date(2027, 1, 2)) == (
        dt.date(2026, 10, 1),
        dt.date(2026, 12, 31),
    )
    assert report_sources.period_before("monthly", dt.date(2026, 3, 1)) == (
        dt.date(2026, 2, 1),
        dt.date(2026, 2, 28),
    )
    starts, ends = report_sources.bounds(cast.acme, dt.date(2026, 10, 1), dt.date(2026, 10, 31))
    assert starts == dt.datetime(2026, 9, 30, 22, tzinfo=dt.UTC)
    assert ends == dt.datetime(2026, 10, 31, 23, tzinfo=dt.UTC)  # winter time from 25 Oct


def test_the_ticket_figures_are_those_worked_out_by_hand(october):
    data, report = october
    t = data.tickets
    assert (report.opened, report.resolved, report.open_at_end) == (6, 5, 3)
    assert [(c.category, c.opened, c.resolved) for c in report.categories] == [
        ("Printing", 3, 2),
        ("Hardware", 2, 2),
        ("Backup", 1, 0),
        ("Network", 0, 1),
    ]
    first, resolution = report.sla
    assert (first.measured, first.met, first.attainment) == (5, 4, 0.8)
    assert ids(first.missed) == [t["t2"].pk]
    assert (resolution.measured, resolution.met, resolution.attainment) == (4, 2, 0.5)
    assert sorted(ids(resolution.missed)) == sorted([t["t2"].pk, t["t3"].pk])
    assert [(r.kind, r.label, r.count) for r in report.recurring] == [
        ("asset", "ACME-SRV1", 3),
        ("subject", "Printing: printer jam", 3),
        ("asset", "BOB-LAPTOP", 2),
    ]
    assert ids(report.recurring[1].tickets) == [t["t4"].pk, t["t5"].pk, t["t6"].pk]


def test_devices_risks_and_satisfaction_are_those_worked_out_by_hand(october):
    data, report = october
    devices = {d.name: d for d in report.devices}
    assert [d.name for d in report.devices] == ["ACME-SRV1", "BOB-LAPTOP", "Services"]
    server = devices["ACME-SRV1"]
    assert (server.health, server.tickets) == ("attention", 3)
    assert [(c.name, c.uptime, c.alerts) for c in server.checks] == [("SRV1 port", 0.8, 3)]
    assert (devices["BOB-LAPTOP"].health, devices["BOB-LAPTOP"].tickets) == ("unmonitored", 2)
    assert devices["Services"].health == "down"
    assert (report.checks_up, report.checks_down, report.alerts_in_period) == (1, 1, 4)
    assert [(r.kind, r.evidence[0].id) for r in report.risks] == [
        ("expiry", data.expirations["domain"].pk),
        ("expiry", data.expirations["licence"].pk),
        ("expiry", data.expirations["warranty"].pk),
        ("heartbeat", data.checks["backup"].pk),
        ("open_alert", data.checks["backup"].pk),
    ]
    assert "acknowledged" in report.risks[1].text and "not" not in report.risks[1].text
    sat = report.satisfaction
    assert (sat.count, sat.average) == (3, 2.67)
    assert sat.scores == {"1": 1, "2": 1, "3": 0, "4": 0, "5": 1}
    assert sorted(ids(sat.low)) == sorted([data.tickets["t2"].pk, data.tickets["t4"].pk])


def test_each_recommendation_links_to_its_evidence(cast, october):
    data, report = october
    t = data.tickets
    found = {r.rule: r for r in report.recommendations}
    assert list(found) == [
        "asset_tickets",
        "recurring_subject",
        "sla_first_response",
        "sla_resolution",
        "expiry_soon",
        "check_repeating",
        "csat_low",
    ]
    asset = found["asset_tickets"]
    assert asset.text == "Replace or review ACME-SRV1: 3 tickets in the period."
    assert [(e.kind, e.id) for e in asset.evidence] == [
        ("asset", cast.acme_server.pk),
        ("ticket", t["t1"].pk),
        ("ticket", t["t2"].pk),
        ("ticket", t["t3"].pk),
    ]
    assert found["sla_first_response"].text.startswith("First response met 80% of the time")
    assert ids(found["sla_resolution"].evidence) == ids(report.sla[1].missed)
    assert "acme.fr" in found["expiry_soon"].text and "20 days" in found["expiry_soon"].text
    assert [(e.kind, e.id) for e in found["expiry_soon"].evidence] == [
        ("expiry", data.expirations["domain"].pk)
    ]
    assert found["check_repeating"].evidence[0].id == data.checks["port"].pk
    assert "3 times" in found["check_repeating"].text
    assert "2.7 out of 5 over 3 ratings" in found["csat_low"].text


# --- thresholds, on plain rows (no database) -----------------------------------------------------

START = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
END = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


def _input(**rows) -> cr.ReportInput:
    return cr.ReportInput(
        client_id=1,
        client_name="Test",
        cadence="monthly",
        first_day=dt.date(2026, 10, 1),
        last_day=dt.date(2026, 10, 31),
        starts_at=START,
        ends_at=END,
        **rows,
    )


def _tickets(count: int, *, late: int = 0, asset_id=None, subject="Screen flickers"):
    due = START + dt.timedelta(days=2)
    return [
        cr.TicketRow(
            id=n + 1,
            number=f"TW-{10001 + n}",
            subject=subject,
            category="Hardware",
            asset_id=asset_id,
            created_at=START + dt.timedelta(days=1),
            first_response_due_at=due,
            first_responded_at=due + dt.timedelta(minutes=1 if n < late else -1),
        )
        for n in range(count)
    ]


def rules(data: cr.ReportInput) -> list[str]:
    return [r.rule for r in cr.compute(data).recommendations]


def test_a_device_fires_at_three_tickets_and_not_at_two():
    assets = [cr.AssetRow(7, "PRINTER-1", "printer")]
    three = _input(tickets=_tickets(3, asset_id=7, subject="A"), assets=assets)
    two = _input(tickets=_tickets(2, asset_id=7, subject="A"), assets=assets)
    assert rules(three) == ["asset_tickets"]
    assert rules(two) == []


def test_a_subject_cluster_all_on_one_recommended_device_is_not_said_twice():
    assets = [cr.AssetRow(7, "PC-7", "laptop")]
    same = _input(tickets=_tickets(3, asset_id=7, subject="PC-7 will not start"), assets=assets)
    assert rules(same) == ["asset_tickets"]
    assert [r.kind for r in cr.compute(same).recurring] == ["asset", "subject"]


def test_a_subject_cluster_fires_at_three_tickets_and_not_at_two():
    assert rules(_input(tickets=_tickets(3))) == ["recurring_subject"]
    assert rules(_input(tickets=_tickets(2))) == []
    assert cr.subject_words("The screens flicker again!") == ("screen", "flicker")


def test_an_sla_fires_under_ninety_percent_and_not_at_ninety():
    assert "sla_first_response" not in rules(_input(tickets=_tickets(10, late=1, subject="A")))
    eleven = rules(_input(tickets=_tickets(11, late=2, subject="A")))  # 9 of 11: 81.8%
    assert eleven == ["sla_first_response"]


def _expiry(days: int, acknowledged: bool = False) -> cr.ExpiryRow:
    return cr.ExpiryRow(
        1, "shop.example", "Domain", dt.date(2026, 10, 31) + dt.timedelta(days), acknowledged
    )


def test_an_expiration_fires_within_thirty_days_unless_acknowledged():
    assert rules(_input(expirations=[_expiry(30)])) == ["expiry_soon"]
    assert rules(_input(expirations=[_expiry(31)])) == []
    assert rules(_input(expirations=[_expiry(5, acknowledged=True)])) == []
    listed = cr.compute(_input(expirations=[_expiry(60), _expiry(61)])).risks
    assert len(listed) == 1


def _alerts(count: int) -> list[cr.AlertRow]:
    return [
        cr.AlertRow(n, 3, "critical", "down", START + dt.timedelta(days=n + 1), None)
        for n in range(count)
    ]


def test_a_check_fires_at_three_alerts_in_the_period_and_not_at_two():
    checks = [cr.CheckRow(3, "Web shop", "http", None, "ok")]
    assert rules(_input(checks=checks, alerts=_alerts(3))) == ["check_repeating"]
    assert rules(_input(checks=checks, alerts=_alerts(2))) == []


def test_satisfaction_fires_under_three_and_a_half_with_three_ratings():
    def ratings(*scores):
        return [cr.RatingRow(n, f"TW-{n}", s) for n, s in enumerate(scores, 1)]

    assert rules(_input(ratings=ratings(3, 3, 4))) == ["csat_low"]  # 3.33
    assert rules(_input(ratings=ratings(3, 4, 4, 3))) == []  # 3.5
    assert rules(_input(ratings=ratings(1, 1))) == []  # two ratings say too little


def test_a_quiet_period_gives_no_recommendation_and_empty_figures():
    report = cr.compute(_input())
    assert report.recommendations == [] and report.risks == [] and report.devices == []
    assert [c.attainment for c in report.sla] == [None, None]
    assert report.satisfaction.average is None


def test_a_device_with_updates_waiting_is_a_risk_linked_to_its_check():
    """Worked out by hand: of three updates checks, the warning and the critical ones are risks
    (named by their device, or by the check when it is on no device); the one that is ok is not."""
    moment = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
    data = cr.ReportInput(
        client_id=1,
        client_name="Acme",
        cadence="month",
        first_day=dt.date(2026, 10, 1),
        last_day=dt.date(2026, 10, 31),
        starts_at=moment,
        ends_at=moment + dt.timedelta(days=31),
        assets=[cr.AssetRow(7, "FRONT-DESK-PC", "workstation"), cr.AssetRow(8, "NAS", "server")],
        checks=[
            cr.CheckRow(11, "Updates front desk", "agent_updates", 7, "warning"),
            cr.CheckRow(12, "Updates NAS", "agent_updates", 8, "ok"),
            cr.CheckRow(13, "Updates spare", "agent_updates", None, "critical"),
            cr.CheckRow(14, "Disk NAS", "agent_disk", 8, "critical"),
        ],
    )
    risks = cr.compute(data).risks
    assert [(r.kind, r.evidence[0].id) for r in risks] == [("unpatched", 11), ("unpatched", 13)]
    assert risks[0].text.startswith("FRONT-DESK-PC has operating-system updates waiting")
    assert risks[1].text.startswith("Updates spare has")

"""The figures added to the daily snapshot (first-contact resolution, the desk's share, on-site
work and travel, tickets opened by monitoring, utilisation) and the per-category rows, against
values worked out by hand; the metrics page's category, its CSV and the API."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest

from thirdway.audit.models import Source
from thirdway.billing import services as billing
from thirdway.billing.models import TimeEntry
from thirdway.insights import snapshots
from thirdway.insights.models import DailySnapshot
from thirdway.tickets import services
from thirdway.tickets.models import Article, Ticket

DAY = dt.date(2025, 1, 14)  # a Tuesday, the day before the pages' frozen "now"


def at(hour: int) -> dt.datetime:
    return dt.datetime(2025, 1, 14, hour, tzinfo=dt.UTC)


def _open(cast, name: str, category: str = "", **columns) -> Ticket:
    ticket = services.create_ticket(
        cast.admin, cast.acme, subject=name, body_text=name, source=Source.CLI
    )
    Ticket.objects.filter(pk=ticket.pk).update(category=category, **columns)
    return Ticket.objects.get(pk=ticket.pk)


def _answer(cast, ticket: Ticket, times: int = 1, **work) -> None:
    for n in range(times):
        services.reply(cast.partner, ticket, body_text=f"Answer {n}", source=Source.CLI, **work)


@pytest.fixture
def day(cast, frozen_now):
    """
    p1 Acme Printing  Paula  one answer (60 min on site) and a 30-min travel note, resolved by Paula
    p2 Acme Printing  Paula  two answers, resolved by the desk
    e1 Acme Email     Paula  one answer, resolved, reopened, resolved again (by the admin)
    m1 Acme (none)    nobody opened by monitoring, still new
    Paula has 240 billable minutes on p1 that day and works 09:00-17:00 on Tuesdays.
    """
    frozen_now()
    paula = cast.partner_record
    p1, p2, e1 = (
        _open(cast, name, cat)
        for name, cat in (("p1", "Printing"), ("p2", "Printing"), ("e1", "Email"))
    )
    for ticket in (p1, p2, e1):
        services.assign(cast.admin, ticket, paula, source=Source.CLI)
    _answer(cast, p1, time_spent_minutes=60, work_type="onsite")
    services.note(
        cast.partner,
        p1,
        body_text="Drove over",
        time_spent_minutes=30,
        work_type="travel",
        source=Source.CLI,
    )
    services.change_status(cast.partner, p1, "resolved", source=Source.CLI)
    _answer(cast, p2, times=2)
    services.change_status(cast.desk, p2, "resolved", source=Source.CLI)
    _answer(cast, e1)
    for status in ("resolved", "in_progress", "resolved"):
        services.change_status(cast.admin, e1, status, source=Source.CLI)
    _open(cast, "m1", channel="monitoring")
    Ticket.objects.update(created_at=at(9))
    Ticket.objects.exclude(resolved_at=None).update(resolved_at=at(15))
    Article.objects.update(created_at=at(11))
    contract = billing.create_contract(
        cast.admin,
        client=cast.acme,
        kind="time_materials",
        practice=cast.security,
        name="Acme hours",
        starts_on=dt.date(2024, 1, 1),
        source=Source.CLI,
    )
    line = billing.add_contract_line(
        cast.admin, contract, description="Any", unit="hour", price=Decimal(90), source=Source.CLI
    )
    TimeEntry.objects.all().delete()  # only the entry below counts
    TimeEntry.objects.create(
        partner=paula,
        contract_line=line,
        ticket=p1,
        worked_on=DAY,
        kind="work",
        worked_minutes=240,
        billable_minutes=240,
    )
    return DAY


def _row(scope: str, subject_id: int, category: str = "") -> DailySnapshot:
    return DailySnapshot.objects.get(day=DAY, scope=scope, subject_id=subject_id, category=category)


FIELDS = (
    "opened",
    "resolved",
    "first_contact",
    "desk_resolved",
    "onsite_resolved",
    "travel_minutes",
    "from_alerts",
    "billable_minutes",
    "reopened",
    "backlog",
)


def _figures(row: DailySnapshot) -> dict[str, int]:
    return {name: getattr(row, name) for name in FIELDS}


def test_the_new_figures_and_category_rows_match_the_hand_count(cast, day):
    snapshots.take(day)
    acme = cast.acme.pk
    assert _figures(_row("client", acme)) == {
        "opened": 4,
        "resolved": 3,
        "first_contact": 1,
        "desk_resolved": 1,
        "onsite_resolved": 1,
        "travel_minutes": 30,
        "from_alerts": 1,
        "billable_minutes": 240,
        "reopened": 1,
        "backlog": 1,
    }
    assert _figures(_row("client", acme, "Printing")) == {
        "opened": 2,
        "resolved": 2,
        "first_contact": 1,
        "desk_resolved": 1,
        "onsite_resolved": 1,
        "travel_minutes": 30,
        "from_alerts": 0,
        "billable_minutes": 240,
        "reopened": 0,
        "backlog": 0,
    }
    email = _row("client", acme, "Email")
    assert (email.resolved, email.first_contact, email.reopened) == (1, 0, 1)
    other = _row("client", acme, "Uncategorised")
    assert (other.opened, other.from_alerts, other.backlog) == (1, 1, 1)
    paula = _row("partner", cast.partner_record.pk)
    assert (paula.resolved, paula.first_contact, paula.desk_resolved) == (3, 1, 1)
    assert (paula.billable_minutes, paula.scheduled_minutes, paula.utilisation) == (240, 480, 0.5)
    assert paula.first_contact_rate == pytest.approx(1 / 3)
    assert _row("partner", cast.partner_record.pk, "Printing").scheduled_minutes == 0
    assert snapshots.take(day) == DailySnapshot.objects.filter(day=DAY).count()


def test_the_metrics_page_csv_and_api_show_one_category(cast, day, web_as, api_as, page):
    snapshots.take(day)
    viewer = web_as(cast.partner)
    query = f"?subject=client:{cast.acme.pk}&days=7&category=Printing"
    html = page(viewer.get("/insights/metrics/" + query))
    assert 'id="category-shown"' in html and 'data-figure="opened">2<' in html
    assert 'data-figure="first_contact_rate">50%<' in html
    assert 'data-figure="desk_share">50%<' in html
    unknown = page(
        viewer.get(f"/insights/metrics/?subject=client:{cast.acme.pk}&days=7&category=Nope")
    )
    assert 'id="category-shown"' not in unknown and 'data-figure="opened">4<' in unknown
    exported = viewer.get("/insights/metrics.csv" + query)
    rows = list(csv.DictReader(io.StringIO(exported.content.decode())))
    assert (
        rows[-2]["day"],
        rows[-2]["category"],
        rows[-2]["opened"],
        rows[-2]["travel_minutes"],
    ) == ("2025-01-14", "Printing", "2", "30")
    api = api_as(cast.partner)
    url = f"/api/v1/insights/figures?scope=client&id={cast.acme.pk}&days=7"
    found = api.get(url + "&category=Printing").json()
    assert found["categories"] == ["Email", "Printing", "Uncategorised"]
    assert found["days"][-2]["first_contact"] == 1 and found["days"][-2]["onsite_share"] == 0.5
    refused = api.get(url + "&category=Nope")
    assert refused.status_code == 400 and refused.json()["errors"][0]["field"] == "category"
    assert api.get(url + "&category=" + "x" * 101).status_code in (400, 422)
    mine = api.get(
        f"/api/v1/insights/figures?scope=partner&id={cast.partner_record.pk}&days=7"
    ).json()
    assert mine["days"][-2]["utilisation"] == 0.5
    # another client's admin reads none of Acme's categories
    assert api_as(cast.other_client_admin).get(url + "&category=Printing").status_code == 404
    assert web_as(cast.other_client_admin).get("/insights/metrics/" + query).status_code == 404

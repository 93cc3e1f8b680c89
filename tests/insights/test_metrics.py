"""The daily snapshot against hand-computed figures, the job's idempotence, the metrics page and
its CSV, the scorecard, and who may read which figures (page and API)."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from thirdway.audit.models import Source
from thirdway.clock.jobs import JOBS
from thirdway.insights import services as insights
from thirdway.insights import snapshots
from thirdway.insights.models import DailySnapshot
from thirdway.insights.tasks import take_daily_snapshots
from thirdway.sla.models import BusinessCalendar
from thirdway.tickets import services
from thirdway.tickets.models import Article, Ticket

DAY = dt.date(2025, 1, 14)  # the day before the pages' frozen "now" (15 Jan, 10:00 UTC)


def at(hour: int, minute: int = 0, days: int = 0) -> dt.datetime:
    return dt.datetime(2025, 1, 14, hour, minute, tzinfo=dt.UTC) + dt.timedelta(days=days)


def _ticket(cast, client, name, assignee=None, status=None, **columns) -> Ticket:
    ticket = services.create_ticket(
        cast.admin, client, subject=name, body_text=name, source=Source.CLI
    )
    if assignee is not None:
        services.assign(cast.admin, ticket, assignee, source=Source.CLI)
    if status is not None:
        services.change_status(cast.admin, ticket, status, source=Source.CLI)
    Ticket.objects.filter(pk=ticket.pk).update(**columns)
    return Ticket.objects.get(pk=ticket.pk)


@pytest.fixture
def day(cast, frozen_now):
    """
    t1 Acme   Paula  opened 09:00, answered 09:30, resolved 12:00 (due 13:00: met), rated 4
    t2 Acme   Paula  opened 10:00, answered 11:30, resolved 16:00 (due 15:00: missed)
    t3 Acme   Paula  opened two days before at 08:00, still in progress
    t4 Acme   nobody opened 20:00, new
    t5 Globex Oscar  opened 08:00, answered 08:10, resolved 09:00 (no due time)
    t6 Acme   nobody opened the day before at 12:00, resolved, reopened during the day
    """
    frozen_now()
    paula, oscar = cast.partner_record, cast.other_partner_record
    t1 = _ticket(
        cast,
        cast.acme,
        "t1",
        paula,
        "resolved",
        created_at=at(9),
        first_responded_at=at(9, 30),
        resolved_at=at(12),
        resolution_due_at=at(13),
    )
    _ticket(
        cast,
        cast.acme,
        "t2",
        paula,
        "resolved",
        created_at=at(10),
        first_responded_at=at(11, 30),
        resolved_at=at(16),
        resolution_due_at=at(15),
    )
    _ticket(cast, cast.acme, "t3", paula, "in_progress", created_at=at(8, days=-2))
    _ticket(cast, cast.acme, "t4", created_at=at(20))
    _ticket(
        cast,
        cast.globex,
        "t5",
        oscar,
        "resolved",
        created_at=at(8),
        first_responded_at=at(8, 10),
        resolved_at=at(9),
    )
    t6 = _ticket(cast, cast.acme, "t6", None, "resolved", created_at=at(12, days=-1))
    services.change_status(cast.admin, t6, "in_progress", source=Source.CLI)
    Article.objects.filter(ticket=t6, event="status").update(created_at=at(14))
    rating = insights.rate_ticket(None, insights.rating_token(t1), score=4, source=Source.CLI)
    type(rating).objects.filter(pk=rating.pk).update(created_at=at(13))
    return DAY


def _row(scope, subject) -> DailySnapshot:
    return DailySnapshot.objects.get(day=DAY, scope=scope, subject_id=subject.pk, category="")


def test_the_snapshot_of_a_day_matches_the_figures_worked_out_by_hand(cast, day):
    snapshots.take(day)
    acme = _row("client", cast.acme)
    assert (acme.opened, acme.resolved, acme.sla_met, acme.sla_measured) == (3, 2, 1, 2)
    # answers after 30 and 90 minutes: p50 by nearest rank is 30, p90 is 90 (wall clock)
    assert (acme.first_response_p50, acme.first_response_p90) == (30, 90)
    assert acme.first_response_business is False
    # open at the day's end: t3 (64 h old), t6 (36 h), t4 (4 h)
    assert (acme.backlog, acme.backlog_age_p50, acme.backlog_age_max) == (3, 36, 64)
    assert (acme.reopened, acme.reopen_rate) == (1, 0.5)
    assert (acme.csat_count, acme.csat_average) == (1, 4)
    paula = _row("partner", cast.partner_record)
    assert (paula.opened, paula.resolved, paula.backlog, paula.reopened) == (2, 2, 1, 0)
    assert (paula.sla_attainment, paula.csat_average) == (0.5, 4)
    globex = _row("client", cast.globex)
    assert (globex.opened, globex.resolved, globex.first_response_p50, globex.backlog) == (
        1,
        1,
        10,
        0,
    )
    assert globex.sla_attainment is None  # nothing had a due time


def test_first_responses_are_in_business_minutes_when_the_ticket_has_a_calendar(cast, day):
    office = BusinessCalendar.objects.create(
        name="Office", time_zone="UTC", weekly_hours={"tue": [["10:00", "18:00"]]}
    )
    Ticket.objects.filter(subject__in=["t1", "t2"]).update(sla_calendar=office)
    snapshots.take(day)
    acme = _row("client", cast.acme)
    # t1 09:00 to 09:30 is before opening (0 min); t2 10:00 to 11:30 is 90 minutes
    assert (acme.first_response_p50, acme.first_response_p90) == (0, 90)
    assert acme.first_response_business is True


def test_the_daily_job_is_listed_and_running_it_again_writes_the_same_rows_once(cast, day):
    assert "thirdway.insights.tasks.take_daily_snapshots" in {job.task_path for job in JOBS}
    take_daily_snapshots.call()  # yesterday (the fixed day) and today
    first = list(DailySnapshot.objects.values_list("day", "scope", "subject_id", "opened"))
    take_daily_snapshots.call()
    assert list(DailySnapshot.objects.values_list("day", "scope", "subject_id", "opened")) == first
    assert DailySnapshot.objects.filter(day=DAY, scope="client", category="").count() == 2


def test_the_metrics_page_draws_the_trend_and_exports_the_same_days(cast, day, web_as, page):
    snapshots.take(day)
    viewer = web_as(cast.partner)
    query = f"?subject=client:{cast.acme.pk}&days=7"
    html = page(viewer.get("/insights/metrics/" + query))
    assert html.count("<polyline") == 3 and "<script" not in html.split("</header>")[1]
    assert 'data-figure="opened">3<' in html and 'data-figure="sla_attainment">50%<' in html
    exported = viewer.get("/insights/metrics.csv" + query)
    rows = list(csv.DictReader(io.StringIO(exported.content.decode())))
    assert [r["day"] for r in rows][-2:] == ["2025-01-14", "2025-01-15"]
    assert (rows[-2]["opened"], rows[-2]["first_response_p90"], rows[-2]["backlog"]) == (
        "3",
        "90.0",
        "3",
    )


def test_the_scorecard_sets_the_partner_beside_the_median_of_their_practice(
    cast, day, api_as, web_as, page
):
    snapshots.take(day)
    card = api_as(cast.partner).get("/api/v1/insights/scorecard").json()
    lines = {line["figure"]: line for line in card["lines"]}
    assert card["practices"] == ["Security"] and card["peers"] == 1
    assert lines["resolved"]["partner"] == 2 and lines["resolved"]["practice_median"] == 2
    assert lines["sla_attainment"]["partner"] == 0.5
    admin_card = page(web_as(cast.admin).get(f"/insights/scorecard/{cast.partner_record.pk}/"))
    assert "Paula Partner" in admin_card and 'data-figure="csat_average"' in admin_card


def _expected(role: str) -> dict[str, int]:
    acme_readers = {"admin", "desk", "partner", "associate", "client_admin"}
    return {
        "client": 200 if role in acme_readers else 404,
        "practice": 200 if role in {"admin", "desk"} else 404,
        "scorecard": 200 if role in {"admin", "partner"} else 404,
    }


# Every role in one test: the day's tickets are built once (the suite's time is counted).
ROLES = sorted(
    {
        "admin",
        "desk",
        "partner",
        "associate",
        "other_partner",
        "client_admin",
        "client_user",
        "other_client_admin",
        "outsider",
    }
)


def test_each_figure_is_read_only_by_whom_it_concerns(cast, day, api_as, web_as):
    snapshots.take(day)
    acme, security, paula = cast.acme.pk, cast.security.pk, cast.partner_record.pk
    for role in ROLES:
        user, expected = getattr(cast, role), _expected(role)
        api, web = api_as(user), web_as(user)
        answers = {
            "client": [
                api.get(f"/api/v1/insights/figures?scope=client&id={acme}"),
                web.get(f"/insights/metrics/?subject=client:{acme}"),
                web.get(f"/insights/metrics.csv?subject=client:{acme}"),
            ],
            "practice": [api.get(f"/api/v1/insights/figures?scope=practice&id={security}")],
            "scorecard": [
                api.get(f"/api/v1/insights/scorecard/{paula}"),
                web.get(f"/insights/scorecard/{paula}/"),
            ],
        }
        for figure, responses in answers.items():
            codes = [r.status_code for r in responses]
            assert codes == [expected[figure]] * len(codes), (role, figure, codes)

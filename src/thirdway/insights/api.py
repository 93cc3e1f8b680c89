"""API of the insights room: ratings (the signed link, the submission, the results), the daily
figures of a practice, partner or client, and a partner's scorecard."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from ninja import Field, Query, Router, Schema, Status

from thirdway.audit.models import Source
from thirdway.errors import invalid
from thirdway.insights import nps, report_pdf, reports, services
from thirdway.insights.models import COMMENT_LENGTH, ClientReport, CsatResponse, NpsSurvey
from thirdway.payloads import Payload
from thirdway.tickets.models import Ticket

router = Router()


class RatingLinkOut(Schema):
    ticket_id: int
    url: str
    expires_in_days: int
    rated: bool


class RatingIn(Payload, extra="forbid"):
    token: str = Field(max_length=500)
    score: int = Field(ge=1, le=5)
    comment: str = Field("", max_length=COMMENT_LENGTH)


class RatingOut(Schema):
    id: int
    ticket_id: int
    client_id: int
    partner_id: int | None
    practice_id: int | None
    score: int
    comment: str
    follow_up_id: int | None
    created_at: dt.datetime


class RatingsResultOut(Schema):
    id: int
    name: str
    average: float
    count: int


class DayOut(Schema):
    day: dt.date
    opened: int
    resolved: int
    first_response_p50: float | None
    first_response_p90: float | None
    first_response_business: bool
    sla_met: int
    sla_measured: int
    sla_attainment: float | None
    backlog: int
    backlog_age_p50: float | None
    backlog_age_max: float | None
    reopened: int
    reopen_rate: float | None
    csat_count: int
    csat_average: float | None
    first_contact: int
    first_contact_rate: float | None
    desk_resolved: int
    desk_share: float | None
    onsite_resolved: int
    onsite_share: float | None
    travel_minutes: int
    from_alerts: int
    billable_minutes: int
    scheduled_minutes: int
    utilisation: float | None


class FiguresQuery(Schema):
    scope: Literal["practice", "partner", "client"]
    id: int = Field(ge=1, le=2**62)
    days: int = Field(30, ge=1, le=reports.MAX_DAYS)
    category: str = Field("", max_length=100)


class FiguresOut(Schema):
    scope: str
    id: int
    name: str
    category: str
    categories: list[str]
    days: list[DayOut]


class ScoreLineOut(Schema):
    figure: str
    label: str
    better: str
    partner: float | None
    practice_median: float | None


class ScorecardOut(Schema):
    partner_id: int
    days: int
    practices: list[str]
    peers: int
    lines: list[ScoreLineOut]


@router.get("/insights/tickets/{ticket_id}/rating-link", response=RatingLinkOut)
def rating_link(request, ticket_id: int):
    """The signed, single-use link that rates a resolved ticket (valid 14 days)."""
    ticket = get_object_or_404(
        Ticket.objects.for_user(request.user).filter(status__in=services.RATED), pk=ticket_id
    )
    return {
        "ticket_id": ticket.pk,
        "url": services.rating_url(ticket),
        "expires_in_days": services.LINK_DAYS,
        "rated": services.already_rated(ticket),
    }


@router.post("/insights/ratings", response={201: RatingOut})
def submit_rating(request, payload: RatingIn):
    """Rate a resolved ticket with the token of its link (once)."""
    response = services.rate_ticket(
        request.user, payload.token, score=payload.score, comment=payload.comment, source=Source.API
    )
    return Status(201, response)


@router.get("/insights/ratings", response=list[RatingOut])
def list_ratings(request, limit: int = Query(100, ge=1, le=500)):
    return list(CsatResponse.objects.for_user(request.user)[:limit])


@router.get("/insights/ratings/{rating_id}", response=RatingOut)
def get_rating(request, rating_id: int):
    return get_object_or_404(CsatResponse.objects.for_user(request.user), pk=rating_id)


@router.get("/insights/ratings-by/{scope}", response=list[RatingsResultOut])
def rating_results(request, scope: Literal["practice", "partner", "client"]):
    """Average rating and count per practice, partner or client, of the ratings you see."""
    return reports.csat_results(request.user, scope)


@router.get("/insights/figures", response=FiguresOut)
def daily_figures(request, query: Query[FiguresQuery]):
    """The daily figures of a practice, partner or client you may see (404 otherwise)."""
    subject = reports.find_subject(request.user, f"{query.scope}:{query.id}")
    categories = reports.categories_of(request.user, subject, query.days)
    if query.category and query.category not in categories:
        raise invalid(
            "category",
            f"{query.scope} {query.id} has no figures in {query.category!r}.",
            ", ".join(categories) or "none in these days",
        )
    rows = reports.days_of(request.user, subject, query.days, query.category)
    return {
        "scope": subject.scope,
        "id": subject.id,
        "name": subject.name,
        "category": query.category,
        "categories": categories,
        "days": rows,
    }


@router.get("/insights/scorecard", response=ScorecardOut)
def my_scorecard(request):
    return _card(reports.scorecard(reports.scorecard_partner(request.user, None)))


@router.get("/insights/scorecard/{partner_id}", response=ScorecardOut)
def partner_scorecard(request, partner_id: int):
    return _card(reports.scorecard(reports.scorecard_partner(request.user, partner_id)))


def _card(card: dict) -> dict:
    return {**card, "partner_id": card["partner"].pk}


# --- client reports ------------------------------------------------------------------------------


class ReportEvidenceOut(Schema):
    kind: str
    id: int
    label: str


class ReportSlaOut(Schema):
    clock: str
    label: str
    measured: int
    met: int
    attainment: float | None
    target: float
    missed: list[ReportEvidenceOut]


class ReportCategoryOut(Schema):
    category: str
    opened: int
    resolved: int


class ReportRecurringOut(Schema):
    kind: str
    label: str
    count: int
    tickets: list[ReportEvidenceOut]
    asset: ReportEvidenceOut | None


class ReportCheckOut(Schema):
    id: int
    name: str
    kind: str
    status: str
    uptime: float | None
    alerts: int


class ReportDeviceOut(Schema):
    id: int | None
    name: str
    kind: str
    health: str
    tickets: int
    checks: list[ReportCheckOut]


class ReportRiskOut(Schema):
    kind: str
    text: str
    evidence: list[ReportEvidenceOut]


class ReportSatisfactionOut(Schema):
    count: int
    average: float | None
    scores: dict[str, int]
    low: list[ReportEvidenceOut]


class ReportRecommendationOut(Schema):
    rule: str
    text: str
    evidence: list[ReportEvidenceOut]


class ReportFiguresOut(Schema):
    client_id: int
    client_name: str
    cadence: str
    first_day: dt.date
    last_day: dt.date
    opened: int
    resolved: int
    open_at_end: int
    sla: list[ReportSlaOut]
    categories: list[ReportCategoryOut]
    recurring: list[ReportRecurringOut]
    devices: list[ReportDeviceOut]
    checks_up: int
    checks_down: int
    alerts_in_period: int
    risks: list[ReportRiskOut]
    satisfaction: ReportSatisfactionOut
    recommendations: list[ReportRecommendationOut]


class ClientReportOut(Schema):
    id: int
    client_id: int
    cadence: str
    period: str
    period_start: dt.date
    period_end: dt.date
    status: str
    created_at: dt.datetime
    released_at: dt.datetime | None
    recommendations: int
    pdf_url: str


class ClientReportDetailOut(ClientReportOut):
    figures: ReportFiguresOut


def _report(report: ClientReport) -> dict:
    return {
        "id": report.pk,
        "client_id": report.client_id,
        "cadence": report.cadence,
        "period": report.period_label,
        "period_start": report.period_start,
        "period_end": report.period_end,
        "status": report.status,
        "created_at": report.created_at,
        "released_at": report.released_at,
        "recommendations": len(report.figures.get("recommendations", [])),
        "pdf_url": reverse("insights:report_pdf", args=[report.pk]),
    }


@router.get("/insights/reports", response=list[ClientReportOut])
def list_client_reports(
    request,
    client_id: int | None = Query(None, ge=1, le=2**62),
    limit: int = Query(100, ge=1, le=500),
):
    """The client reports you may see (a client admin: its organisation's released ones)."""
    reports = ClientReport.objects.for_user(request.user)
    if client_id is not None:
        reports = reports.filter(client_id=client_id)
    return [_report(r) for r in reports[:limit]]


@router.get("/insights/reports/{report_id}", response=ClientReportDetailOut)
def get_client_report(request, report_id: int):
    """One report with all its figures, as they were when it was made."""
    report = get_object_or_404(ClientReport.objects.for_user(request.user), pk=report_id)
    return {**_report(report), "figures": report.figures}


@router.get("/insights/reports/{report_id}/pdf")
def get_client_report_pdf(request, report_id: int):
    """The report as a PDF (application/pdf)."""
    report = get_object_or_404(ClientReport.objects.for_user(request.user), pk=report_id)
    response = HttpResponse(
        report_pdf.render(report, report.figures), content_type="application/pdf"
    )
    response["Content-Disposition"] = f'inline; filename="report-{report.pk}.pdf"'
    return response


# --- net promoter score --------------------------------------------------------------------------


class InsightsNpsAnswerIn(Payload, extra="forbid"):
    token: str = Field(max_length=500)
    score: int = Field(ge=0, le=10)
    comment: str = Field("", max_length=COMMENT_LENGTH)


class InsightsNpsAnswerOut(Schema):
    id: int
    client_id: int
    contact_id: int
    practice_id: int | None
    quarter_start: dt.date
    score: int | None
    comment: str
    answered_at: dt.datetime | None
    follow_up_id: int | None


class InsightsNpsResultOut(Schema):
    id: int
    name: str
    nps: float | None
    promoters: int
    passives: int
    detractors: int
    count: int


@router.post("/insights/nps", response={201: InsightsNpsAnswerOut})
def answer_nps(request, payload: InsightsNpsAnswerIn):
    """Answer the quarter's recommendation question with the token of its link (once)."""
    survey = nps.answer(
        request.user, payload.token, score=payload.score, comment=payload.comment, source=Source.API
    )
    return Status(201, survey)


@router.get("/insights/nps", response=list[InsightsNpsAnswerOut])
def list_nps_answers(request, limit: int = Query(100, ge=1, le=500)):
    """The answers you see, newest quarter first."""
    return list(NpsSurvey.objects.for_user(request.user).filter(score__isnull=False)[:limit])


@router.get("/insights/nps-by/{scope}", response=list[InsightsNpsResultOut])
def nps_results(request, scope: Literal["practice", "client"]):
    """Net promoter score per practice or client, of the answers you see."""
    return reports.nps_results(request.user, scope)

"""The insights room's one writer of ratings: signed rating links, the rating itself, and the
follow-up ticket a low score opens for the client's lead partner."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from thirdway.audit.models import Source
from thirdway.audit.services import record
from thirdway.errors import invalid, require, require_admin
from thirdway.insights.models import (
    AUTO_RELEASE_MAX,
    COMMENT_LENGTH,
    Cadence,
    ClientReport,
    CsatResponse,
    InsightThresholds,
    ReportPolicy,
    ReportSchedule,
    ReportStatus,
)
from thirdway.tickets.lifecycle import Status
from thirdway.tickets.models import Ticket
from thirdway.tickets.rating_links import (
    LINK_DAYS,
    LinkExpired,
    LinkForged,
    rating_token,
    read_rating_token,
)

log = logging.getLogger(__name__)
RATED = (Status.RESOLVED, Status.CLOSED)
REPORTS_ONLY = "Only a practice admin or the client's lead partner may do this."


def rating_path(ticket: Ticket) -> str:
    return reverse("insights:rate", args=[rating_token(ticket)])


def rating_url(ticket: Ticket) -> str:
    """The whole link, for an e-mail or the API (on ``THIRDWAY_SITE_URL`` when set)."""
    base = settings.SITE_URL or ""
    return base.rstrip("/") + rating_path(ticket)


def ticket_of_token(token: str) -> tuple[Ticket, dict]:
    """The ticket a rating link names, or a 400 on ``token`` saying why it cannot be used."""
    try:
        data = read_rating_token(token)
    except LinkExpired:
        raise invalid(
            "token", "This rating link has expired.", f"a link under {LINK_DAYS} days old"
        ) from None
    except LinkForged:
        raise invalid(
            "token", "This rating link is not valid.", "the link from the e-mail or portal"
        ) from None
    ticket = (
        Ticket.objects.select_related("client__lead_partner__user").filter(pk=data.get("t")).first()
    )
    if ticket is None or ticket.status not in RATED:
        raise invalid("token", "This ticket is not resolved any more.", "a resolved ticket")
    return ticket, data


def already_rated(ticket: Ticket) -> bool:
    return CsatResponse.objects.filter(ticket=ticket).exists()


@transaction.atomic
def rate_ticket(actor, token: str, *, score: int, comment: str = "", source: str) -> CsatResponse:
    """Record the rating a signed link carries (once per ticket); a low score opens one
    follow-up ticket for the client's lead partner. ``actor`` may be None (a link from mail
    followed without signing in: the link is the proof)."""
    ticket, data = ticket_of_token(token)
    if not isinstance(score, int) or not 1 <= score <= 5:
        raise invalid("score", f"{score!r} is not a rating.", "1 (bad) to 5 (good)")
    comment = (comment or "").strip()
    if len(comment) > COMMENT_LENGTH:
        raise invalid(
            "comment", f"The comment has {len(comment)} characters.", f"at most {COMMENT_LENGTH}"
        )
    if already_rated(ticket):
        raise invalid("token", "This ticket was rated already.", "one rating per ticket")
    try:
        with transaction.atomic():
            response = CsatResponse.objects.create(
                ticket=ticket,
                client_id=ticket.client_id,
                contact_id=data.get("c"),
                partner_id=ticket.assignee_id,
                practice_id=ticket.practice_id,
                score=score,
                comment=comment,
            )
    except IntegrityError:
        raise invalid("token", "This ticket was rated already.", "one rating per ticket") from None
    record(actor, "insights.rated", response, source=source, changes={"score": [None, score]})
    if score <= InsightThresholds.current().csat_follow_up_at_most:
        _follow_up(response, ticket)
    return response


def follow_up_for_lead(
    client, answer, *, subject: str, fact: str, ask: str, practice_id: int | None, what: str
) -> None:
    """Open one follow-up ticket for ``client``'s lead partner about a low ``answer`` (a CSAT
    rating or an NPS answer: its contact, comment and ``follow_up`` field), assigned to them,
    in their name: ``fact``, the client's comment, then what to ``ask``.  Without a lead
    partner nothing opens (logged, naming ``what``)."""
    from thirdway.tickets.services import create_ticket

    lead = client.lead_partner
    if lead is None or lead.user is None:
        log.warning("No lead partner to follow up %s", what)
        return
    said = f'\n\nTheir comment: "{answer.comment}"' if answer.comment else ""
    follow = create_ticket(
        lead.user,
        client,
        subject=subject[:250],
        body_text=f"{fact}{said}\n\n{ask}",
        requester_id=answer.contact_id,
        practice_id=practice_id,
        category="Client satisfaction",
        type="service_request",
        assignee_id=lead.pk,
        source=Source.SYSTEM,
    )
    answer.follow_up = follow
    answer.save(update_fields=["follow_up"])


def _follow_up(response: CsatResponse, ticket: Ticket) -> None:
    follow_up_for_lead(
        ticket.client,
        response,
        subject=f"Low satisfaction on {ticket.number}: {ticket.subject}",
        fact=f"The client rated {ticket.number} {response.score} out of 5.",
        ask="Call them, find out what went wrong and what would put it right.",
        practice_id=ticket.practice_id,
        what=f"the low rating of ticket {ticket.pk}",
    )


# --- client reports ------------------------------------------------------------------------------


def may_manage_reports(user, client) -> bool:
    """Practice admins for every client; the lead partner for their own clients."""
    if user is None:
        return True
    if not (user.is_authenticated and user.is_active):
        return False
    if user.is_practice_admin:
        return True
    lead = client.lead_partner
    return lead is not None and lead.user_id == user.pk


@transaction.atomic
def set_report_schedule(actor, client, cadence: str, *, source: str) -> ReportSchedule:
    """How often ``client`` gets a report: off, monthly or quarterly."""
    require(may_manage_reports(actor, client), REPORTS_ONLY)
    if cadence not in Cadence.values:
        raise invalid("cadence", f"{cadence!r} is not a schedule.", "off, monthly or quarterly")
    schedule, _ = ReportSchedule.objects.select_for_update().get_or_create(client=client)
    before = schedule.cadence
    if before != cadence:
        schedule.cadence = cadence
        schedule.save()
        record(
            actor,
            "insights.report_schedule",
            schedule,
            source=source,
            changes={"cadence": [before, cadence]},
            scope=f"client:{client.pk}",
        )
    return schedule


@transaction.atomic
def set_report_policy(actor, auto_release_days: int, *, source: str) -> ReportPolicy:
    """After how many days the clock releases a draft nobody released (0: never)."""
    require_admin(actor)
    if not isinstance(auto_release_days, int) or not 0 <= auto_release_days <= AUTO_RELEASE_MAX:
        raise invalid(
            "auto_release_days",
            f"{auto_release_days!r} is not a number of days.",
            f"0 (never) to {AUTO_RELEASE_MAX}",
        )
    policy = ReportPolicy.current()
    before = policy.auto_release_days if policy.pk else None
    policy.auto_release_days = auto_release_days
    policy.save()
    record(
        actor,
        "insights.report_policy",
        policy,
        source=source,
        changes={"auto_release_days": [before, auto_release_days]},
    )
    return policy


def make_report(actor, client, cadence: str, first: dt.date, *, source: str) -> ClientReport:
    """The draft report of the month or quarter that starts on ``first`` (the existing one if
    it was made already: one per client and period). Only a period that has ended."""
    from thirdway.insights import report_sources

    require(may_manage_reports(actor, client), REPORTS_ONLY)
    if cadence not in (Cadence.MONTHLY, Cadence.QUARTERLY):
        raise invalid("cadence", f"{cadence!r} is not a period.", "monthly or quarterly")
    first, last = report_sources.period_containing(cadence, first)
    _, ends = report_sources.bounds(client, first, last)
    if ends > timezone.now():
        raise invalid("period", "This period has not ended yet.", "a month or quarter that ended")
    found = ClientReport.objects.filter(client=client, period_start=first, period_end=last).first()
    if found is not None:
        return found
    figures = report_sources.build(client, cadence, first, last).as_json()
    try:
        with transaction.atomic():
            report = ClientReport.objects.create(
                client=client,
                cadence=cadence,
                period_start=first,
                period_end=last,
                figures=figures,
            )
    except IntegrityError:  # made at the same moment by another worker
        return ClientReport.objects.get(client=client, period_start=first, period_end=last)
    record(actor, "insights.report_made", report, source=source, scope=f"client:{client.pk}")
    return report


def release_report(actor, report: ClientReport, *, source: str) -> ClientReport:
    """Release a draft to the client and mail its admins a link, once: the draft is claimed by
    a conditional update, so a second release (or the clock at the same moment) does nothing."""
    require(may_manage_reports(actor, report.client), REPORTS_ONLY)
    with transaction.atomic():
        claimed = ClientReport.objects.filter(pk=report.pk, status=ReportStatus.DRAFT).update(
            status=ReportStatus.RELEASED,
            released_at=timezone.now(),
            released_by=actor if actor is not None and actor.is_authenticated else None,
        )
        report.refresh_from_db()
        if not claimed:
            return report
        record(
            actor,
            "insights.report_released",
            report,
            source=source,
            scope=f"client:{report.client_id}",
        )
        report.mailed_to = _mail_report(report)
        report.save(update_fields=["mailed_to"])
    return report


PDF_ATTACH_MAX = 5 * 1024 * 1024  # a larger PDF is left to the link


def report_attachment(report: ClientReport) -> tuple[tuple[str, str, bytes], ...]:
    """The report's PDF as the e-mail's attachment, drawn once for all its recipients; none
    when it is larger than ``PDF_ATTACH_MAX`` (the link in the message still gives it)."""
    from thirdway.insights import report_pdf

    content = report_pdf.render(report, report.figures)
    if len(content) > PDF_ATTACH_MAX:
        log.warning("The PDF of report %s is too large to attach", report.pk)
        return ()
    name = f"report-{report.client_id}-{report.period_start:%Y-%m}.pdf"
    return ((name, "application/pdf", content),)


def _mail_report(report: ClientReport) -> int:
    from thirdway.clients.models import Contact, ContactRole
    from thirdway.tickets.notifications.services import send_letter

    admins = Contact.objects.filter(
        client_id=report.client_id, role=ContactRole.ADMIN, is_active=True
    ).exclude(email="")
    path = reverse("insights:report", args=[report.pk])
    url = (settings.SITE_URL or "").rstrip("/") + path
    files = report_attachment(report) if admins.exists() else ()
    said = "The PDF is attached; read it online" if files else "Read it (and download the PDF)"
    sent = 0
    for contact in admins.order_by("pk"):
        sent += send_letter(
            contact.email,
            to_name=contact.name,
            subject=f"Your IT report for {report.period_label}",
            body=(
                f"Hello {contact.name},\n\n"
                f"Your report of {report.period_label} for {report.client.name} is ready: "
                "the service levels we met, your tickets, your devices, the risks we see and "
                "what we recommend.\n\n"
                f"{said}: {url}\n\n"
                "-- \nThirdway. Nobody reads answers to this message: reply on a ticket.\n"
            ),
            dedupe_key=f"client-report:{report.pk}:{contact.pk}",
            attachments=files,
        )
    return sent


def run_report_schedules(today: dt.date | None = None) -> dict:
    """The clock's job: make the draft of the last ended period of each scheduled client, and
    release the drafts older than the practice's auto-release days."""
    from thirdway.insights import report_sources

    today = today or timezone.now().astimezone(dt.UTC).date()
    made = 0
    for schedule in ReportSchedule.objects.exclude(cadence=Cadence.OFF).select_related("client"):
        first, last = report_sources.period_before(schedule.cadence, today)
        exists = ClientReport.objects.filter(
            client=schedule.client, period_start=first, period_end=last
        ).exists()
        _, ends = report_sources.bounds(schedule.client, first, last)
        if exists or ends > timezone.now():
            continue
        try:
            make_report(None, schedule.client, schedule.cadence, first, source=Source.SYSTEM)
            made += 1
        except Exception:  # one client's failure never stops the others
            log.exception("Could not make the report of client %s", schedule.client_id)
    released = 0
    days = ReportPolicy.current().auto_release_days
    if days:
        cutoff = timezone.now() - dt.timedelta(days=days)
        for report in ClientReport.objects.filter(
            status=ReportStatus.DRAFT, created_at__lte=cutoff
        ).select_related("client"):
            release_report(None, report, source=Source.SYSTEM)
            released += 1
    return {"made": made, "released": released}

"""The net promoter question: one writer for the policy, the surveys and their answers.

Asked of each active client contact at most once a quarter (one ``NpsSurvey`` row per contact
and quarter, claimed before the e-mail goes), by e-mail with a signed link that expires, and on
the portal's home while the contact is due. Opening the link never answers; the form does, once.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from thirdway.audit.services import record
from thirdway.errors import invalid, require_admin
from thirdway.insights.models import (
    COMMENT_LENGTH,
    NPS_DAY_MAX,
    NPS_FOLLOW_UP_MAX,
    NpsPolicy,
    NpsSurvey,
)
from thirdway.insights.services import follow_up_for_lead

log = logging.getLogger(__name__)
SALT = "thirdway.insights.nps"
LINK_DAYS = 30
PROMOTER_MIN = 9


def quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


def is_due(policy: NpsPolicy, today: dt.date) -> bool:
    """Whether the question goes out on ``today``: NPS on, and the quarter's day reached."""
    asking_day = quarter_start(today) + dt.timedelta(days=policy.day_of_quarter - 1)
    return policy.enabled and today >= asking_day


def _today() -> dt.date:
    return timezone.now().astimezone(dt.UTC).date()


# --- the link -----------------------------------------------------------------------------------


def survey_token(survey: NpsSurvey) -> str:
    return signing.dumps({"s": survey.pk, "c": survey.contact_id}, salt=SALT)


def survey_url(survey: NpsSurvey) -> str:
    path = reverse("insights:nps_answer", args=[survey_token(survey)])
    return (settings.SITE_URL or "").rstrip("/") + path


def survey_of_token(token: str) -> NpsSurvey:
    """The survey a link names, or a 400 on ``token`` saying why it cannot be used."""
    try:
        data = signing.loads(token, salt=SALT, max_age=dt.timedelta(days=LINK_DAYS))
    except signing.SignatureExpired:
        raise invalid(
            "token", "This link has expired.", f"a link under {LINK_DAYS} days old"
        ) from None
    except signing.BadSignature:
        raise invalid("token", "This link is not valid.", "the link from the e-mail") from None
    survey = (
        NpsSurvey.objects.select_related("client", "contact")
        .filter(pk=data.get("s") if isinstance(data, dict) else None)
        .first()
    )
    if survey is None or survey.contact_id != data.get("c"):
        raise invalid("token", "This link is not valid.", "the link from the e-mail")
    return survey


# --- asking -------------------------------------------------------------------------------------


def _practice_of(client_id: int, since: dt.datetime) -> int | None:
    """The practice that served the client most in the last quarter (its answers count there)."""
    from thirdway.tickets.models import Ticket

    row = (
        Ticket.objects.filter(client_id=client_id, created_at__gte=since, practice__isnull=False)
        .values("practice_id")
        .annotate(n=Count("pk"))
        .order_by("-n", "practice_id")
        .first()
    )
    return row["practice_id"] if row else None


def _claim(contact, quarter: dt.date, *, mailed: bool) -> NpsSurvey | None:
    """Insert the contact's survey of the quarter; None when another worker already did."""
    since = timezone.now() - dt.timedelta(days=92)
    try:
        with transaction.atomic():
            return NpsSurvey.objects.create(
                contact=contact,
                client_id=contact.client_id,
                practice_id=_practice_of(contact.client_id, since),
                quarter_start=quarter,
                mailed=mailed,
            )
    except IntegrityError:
        return None


def due_contacts(quarter: dt.date):
    from thirdway.clients.models import ClientStatus, Contact

    asked = NpsSurvey.objects.filter(quarter_start=quarter).values("contact_id")
    return (
        Contact.objects.filter(is_active=True, client__status=ClientStatus.ACTIVE)
        .exclude(email="")
        .exclude(pk__in=asked)
        .select_related("client")
        .order_by("pk")
    )


def send_due_surveys(today: dt.date | None = None) -> int:
    """The clock's job: mail the question to every contact not yet asked this quarter, once the
    quarter's day is reached. Each contact's row is claimed by an insert that the unique
    constraint lets only one worker win, and each message has its own key: never twice."""
    from thirdway.tickets.notifications.services import send_letter

    today = today or _today()
    policy = NpsPolicy.current()
    if not is_due(policy, today):
        return 0
    quarter, sent = quarter_start(today), 0
    for contact in due_contacts(quarter):
        survey = _claim(contact, quarter, mailed=True)
        if survey is None:
            continue
        sent += send_letter(
            contact.email,
            to_name=contact.name,
            subject="One question: would you recommend us?",
            body=_letter(contact, survey),
            dedupe_key=f"nps:{survey.pk}",
        )
    return sent


def _letter(contact, survey: NpsSurvey) -> str:
    return (
        f"Hello {contact.name},\n\n"
        "How likely are you to recommend us to a friend or colleague, from 0 (not at all) to "
        "10 (certainly)? One click on the page below, and a comment if you wish:\n\n"
        f"{survey_url(survey)}\n\n"
        f"The link works for {LINK_DAYS} days. We ask this at most once a quarter.\n\n"
        "-- \nThirdway. Nobody reads answers to this message: reply on a ticket.\n"
    )


def portal_survey(contact, today: dt.date | None = None) -> NpsSurvey | None:
    """The contact's open question of this quarter for the portal: the one mailed, or a new one
    when they are due and were not asked yet; None when NPS is off, not due, or answered."""
    today = today or _today()
    quarter = quarter_start(today)
    survey = NpsSurvey.objects.filter(contact=contact, quarter_start=quarter).first()
    if survey is None and is_due(NpsPolicy.current(), today) and contact.is_active:
        survey = (
            _claim(contact, quarter, mailed=False)
            or NpsSurvey.objects.filter(contact=contact, quarter_start=quarter).first()
        )
    if survey is None or survey.score is not None:
        return None
    return survey


# --- answering ----------------------------------------------------------------------------------


def answer(actor, token: str, *, score: int, comment: str = "", source: str) -> NpsSurvey:
    """Record the answer a link carries, once; a detractor opens a follow-up ticket for the
    lead partner only when the practice turned that on. ``actor`` may be None (the link)."""
    survey = survey_of_token(token)
    if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 10:
        raise invalid("score", f"{score!r} is not a score.", "a whole number from 0 to 10")
    comment = (comment or "").strip()
    if len(comment) > COMMENT_LENGTH:
        raise invalid(
            "comment", f"The comment has {len(comment)} characters.", f"at most {COMMENT_LENGTH}"
        )
    with transaction.atomic():
        claimed = NpsSurvey.objects.filter(pk=survey.pk, score__isnull=True).update(
            score=score, comment=comment, answered_at=timezone.now()
        )
        if not claimed:
            raise invalid("token", "This question was answered already.", "one answer a quarter")
        survey.refresh_from_db()
        record(
            actor,
            "insights.nps_answered",
            survey,
            source=source,
            changes={"score": [None, score]},
            scope=f"client:{survey.client_id}",
        )
        policy = NpsPolicy.current()
        if policy.follow_up_detractors and score <= policy.follow_up_at_most:
            _follow_up(survey)
    return survey


def _follow_up(survey: NpsSurvey) -> None:
    follow_up_for_lead(
        survey.client,
        survey,
        subject=f"Would not recommend us: {survey.contact.name} gave {survey.score} of 10",
        fact=(
            f"{survey.contact.name} answered the quarter's recommendation question with "
            f"{survey.score} out of 10."
        ),
        ask="Call them and find out what would change it.",
        practice_id=survey.practice_id,
        what=f"the NPS answer {survey.pk}",
    )


POLICY_FIELDS = ("enabled", "day_of_quarter", "follow_up_detractors", "follow_up_at_most")


def _whole(name: str, value: object, least: int, most: int, allowed: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not least <= value <= most:
        raise invalid(name, f"{value!r} is out of bounds.", allowed)
    return value


@transaction.atomic
def set_policy(actor, *, source: str, **changes: object) -> NpsPolicy:
    """Whether the question is asked, on which day of the quarter, whether a low answer opens a
    follow-up ticket and from which score down; the fields left out stay as they are."""
    require_admin(actor)
    unknown = sorted(set(changes) - set(POLICY_FIELDS))
    if unknown:
        raise invalid(unknown[0], "No such setting.", ", ".join(POLICY_FIELDS))
    if "day_of_quarter" in changes:
        day = changes["day_of_quarter"]
        _whole("day_of_quarter", day, 1, NPS_DAY_MAX, f"1 to {NPS_DAY_MAX}")
    if "follow_up_at_most" in changes:
        _whole(
            "follow_up_at_most",
            changes["follow_up_at_most"],
            0,
            NPS_FOLLOW_UP_MAX,
            f"0 to {NPS_FOLLOW_UP_MAX} (9 and 10 promote)",
        )
    for name in ("enabled", "follow_up_detractors"):
        if name in changes and not isinstance(changes[name], bool):
            raise invalid(name, f"{changes[name]!r} is not true or false.", "true or false")
    policy = NpsPolicy.current()
    before = [getattr(policy, name) for name in POLICY_FIELDS]
    for name, value in changes.items():
        setattr(policy, name, value)
    policy.save()
    after = [getattr(policy, name) for name in POLICY_FIELDS]
    record(actor, "insights.nps_policy", policy, source=source, changes={"policy": [before, after]})
    return policy

"""The prospect's way in: a signed, expiring link to one proposal, and their answer to it.

The token signs the proposal's id and its ``link_key`` with a salt of its own (no other signed
value of Thirdway opens a proposal, nor the other way round).  Sending again makes a new key,
so earlier links stop working; the age is checked against ``SALES_PROPOSAL_LINK_DAYS``.
An answer locks the proposal row: the first answer wins, a second is refused.
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils import timezone

from thirdway.audit.services import record
from thirdway.errors import invalid, require
from thirdway.sales.access import can_work
from thirdway.sales.models import Opportunity, Proposal, ProposalState, Stage
from thirdway.sales.services import check_answerable

SALT = "thirdway.sales.proposal-link"
MAX_NAME = 150


class LinkRefused(Exception):
    """The link is not one of ours (``expired`` False) or is too old (``expired`` True)."""

    def __init__(self, expired: bool) -> None:
        super().__init__("expired" if expired else "bad signature")
        self.expired = expired


def link_days() -> int:
    return int(getattr(settings, "SALES_PROPOSAL_LINK_DAYS", 30))


def token_for(proposal: Proposal) -> str:
    return signing.dumps({"p": proposal.pk, "k": proposal.link_key}, salt=SALT)


def proposal_for(token: str) -> Proposal:
    """The proposal a token opens, or ``LinkRefused``."""
    if not isinstance(token, str) or len(token) > 300:
        raise LinkRefused(expired=False)
    try:
        data = signing.loads(token, salt=SALT, max_age=dt.timedelta(days=link_days()))
    except signing.SignatureExpired:
        raise LinkRefused(expired=True) from None
    except signing.BadSignature:
        raise LinkRefused(expired=False) from None
    if not isinstance(data, dict) or not isinstance(data.get("p"), int):
        raise LinkRefused(expired=False)
    proposal = Proposal.objects.filter(pk=data["p"]).first()
    if proposal is None or not proposal.link_key or proposal.link_key != data.get("k"):
        raise LinkRefused(expired=False)
    return proposal


@transaction.atomic
def send(actor, proposal: Proposal, *, source: str) -> str:
    """Put a draft (or sent) proposal out for an answer: a fresh link, valid ``link_days``."""
    opportunity = proposal.opportunity
    require(can_work(actor, opportunity.lead), "Only those who work on the lead send proposals.")
    proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
    if proposal.state not in (ProposalState.DRAFT, ProposalState.SENT):
        raise invalid("proposal", f"This proposal is {proposal.state}.", "a draft or sent one")
    now = timezone.now()
    proposal.state = ProposalState.SENT
    proposal.link_key = secrets.token_hex(16)
    proposal.sent_at = now
    proposal.expires_at = now + dt.timedelta(days=link_days())
    proposal.save(update_fields=["state", "link_key", "sent_at", "expires_at"])
    record(actor, "proposal.send", proposal, source=source, scope=f"lead:{opportunity.lead_id}")
    return token_for(proposal)


def _locked(proposal: Proposal) -> Proposal:
    # The deal's row first, then the proposal's: the order ``winning.win`` takes them in (it
    # locks the opportunity, then updates its open proposals). Taken the other way round, an
    # acceptance racing a win from the desk deadlocked on PostgreSQL.
    list(
        Opportunity.objects.select_for_update()
        .filter(pk=proposal.opportunity_id)
        .values_list("pk", flat=True)
    )
    proposal = (
        Proposal.objects.select_for_update().select_related("opportunity").get(pk=proposal.pk)
    )
    check_answerable(proposal)
    return proposal


@transaction.atomic
def accept(proposal: Proposal, *, name: str, agreed: bool, ip: str | None, source: str):
    """The prospect accepts: their typed name and tick, when and from where, then the deal is
    won (``winning.win``) in the same transaction.  Only once."""
    from thirdway.sales import winning

    name = str(name or "").strip()
    if not name or len(name) > MAX_NAME:
        raise invalid("name", "Type your full name to accept.", f"1 to {MAX_NAME} characters")
    if agreed is not True:
        raise invalid("agree", "Tick the box to accept the proposal.", "the box ticked")
    proposal = _locked(proposal)
    proposal.state = ProposalState.ACCEPTED
    proposal.accepted_name = name
    proposal.answered_at = timezone.now()
    proposal.answered_ip = ip
    proposal.save(update_fields=["state", "accepted_name", "answered_at", "answered_ip"])
    record(
        None,
        "proposal.accept",
        proposal,
        source=source,
        scope=f"lead:{proposal.opportunity.lead_id}",
        changes={"accepted_by": [None, name], "ip": [None, ip]},
    )
    winning.win(None, proposal.opportunity, source=source, proposal=proposal)
    return proposal


@transaction.atomic
def decline(proposal: Proposal, *, reason: str, ip: str | None, source: str) -> Proposal:
    """The prospect declines (a reason is optional); the opportunity goes back to
    negotiation so its owner can follow up."""
    reason = str(reason or "").strip()
    if len(reason) > 250:
        raise invalid("reason", "Too long.", "at most 250 characters")
    proposal = _locked(proposal)
    proposal.state = ProposalState.DECLINED
    proposal.decline_reason = reason
    proposal.answered_at = timezone.now()
    proposal.answered_ip = ip
    proposal.save(update_fields=["state", "decline_reason", "answered_at", "answered_ip"])
    opportunity = proposal.opportunity
    if opportunity.is_open and opportunity.stage != Stage.NEGOTIATION:
        opportunity.stage = Stage.NEGOTIATION
        opportunity.save(update_fields=["stage"])
    record(
        None,
        "proposal.decline",
        proposal,
        source=source,
        scope=f"lead:{opportunity.lead_id}",
        changes={"reason": [None, reason], "ip": [None, ip]},
    )
    return proposal

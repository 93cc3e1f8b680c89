"""Referral fees clawed back when a client leaves within the practice's period.

A client **leaves** a practice when it is marked *former* (on the day of that change, read from
the audit record) or when every contract it has with the practice has ended (on the last end
date).  When that day falls within ``clawback_months`` of the client's first invoice from the
practice, the referral shares posted for its invoices are reversed: one transaction debits each
referrer's owed and payable accounts by what the referral rule left on them (credit notes
already taken off) and credits the pool's account of the same kind.  Nothing is deleted, and
the clawback is claimed by a unique row per practice and client, so it happens once.

The clients room sits below billing and cannot call it when a client leaves, so the clock's
hourly job ``billing.claw_back_referrals`` sweeps for clients that left; a practice admin may
also claw back at once (*Claw back now* on the tools page, ``POST /api/v1/billing/clawbacks``).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from thirdway.audit.models import AuditRecord
from thirdway.audit.services import record
from thirdway.billing import ledger
from thirdway.billing.access import may_manage_billing
from thirdway.billing.engine.clawback import claws_back, whole_months
from thirdway.billing.models import (
    AccountKind,
    BillingSettings,
    Contract,
    ContractStatus,
    Holder,
    Invoice,
    InvoiceKind,
    InvoiceState,
    LedgerTransaction,
    Leg,
    ReferralClawback,
    TransactionKind,
)
from thirdway.clients.models import Client, ClientStatus
from thirdway.errors import invalid, require

logger = logging.getLogger(__name__)
MANAGE = "Only a practice admin may claw back referral fees."
SHARE_KINDS = (AccountKind.OWED, AccountKind.PAYABLE)


def _marked_former_on(client: Client) -> dt.date:
    """The day the client was marked former (today when no record says so)."""
    changes = AuditRecord.objects.filter(
        object_type="clients.client", object_id=str(client.pk), changes__has_key="status"
    ).order_by("-at", "-pk")
    for change in changes.values("at", "changes")[:20]:
        if change["changes"]["status"][-1] == ClientStatus.FORMER:
            return timezone.localdate(change["at"])
    return timezone.localdate()


def left_on(client: Client, practice) -> dt.date | None:
    """The day the client left the practice, or None while it is still a client."""
    if client.status == ClientStatus.FORMER:
        return _marked_former_on(client)
    ends = list(
        Contract.objects.filter(client=client, practice=practice, status=ContractStatus.ACTIVE)
        .order_by("pk")
        .values_list("ends_on", flat=True)
    )
    if not ends or any(end is None or end >= timezone.localdate() for end in ends):
        return None
    return max(ends)


def first_invoiced_on(client: Client, practice) -> dt.date | None:
    return (
        Invoice.objects.filter(client=client, practice=practice, kind=InvoiceKind.INVOICE)
        .exclude(state=InvoiceState.DRAFT)
        .exclude(issued_on__isnull=True)
        .order_by("issued_on")
        .values_list("issued_on", flat=True)
        .first()
    )


def referral_balances(client: Client, practice) -> dict:
    """What the referral rule left on each referrer's owed and payable account for the client's
    invoices (a credit note has reversed its own), by account."""
    legs = Leg.objects.filter(
        transaction__practice=practice,
        transaction__invoice__client=client,
        rule="referral",
        account__holder=Holder.PARTNER,
        account__kind__in=SHARE_KINDS,
    ).select_related("account")
    balances: dict = defaultdict(lambda: Decimal("0.00"))
    accounts = {}
    for leg in legs.order_by("pk"):
        balances[leg.account_id] += leg.amount
        accounts[leg.account_id] = leg.account
    return {accounts[pk]: amount for pk, amount in sorted(balances.items()) if amount}


def _post(client: Client, practice, months: int, balances: dict) -> LedgerTransaction:
    entries = []
    for acct, amount in balances.items():
        pool = ledger.account(practice, acct.kind, Holder.POOL)
        entries += [ledger.Entry(acct, -amount, "referral"), ledger.Entry(pool, amount, "referral")]
    return ledger.post(
        practice,
        TransactionKind.CLAWBACK,
        f"Clawed back: {client} left after {months} month{'' if months == 1 else 's'}",
        entries,
        facts={"client": client.pk, "months": months},
    )


def claw_back(actor, practice, client: Client, *, source: str) -> ReferralClawback | None:
    """Claw back the client's referral fees if it left within the practice's period; the
    clawback made earlier when there was one, None when nothing is due."""
    require(may_manage_billing(actor), MANAGE)
    period = (
        BillingSettings.objects.filter(practice=practice)
        .values_list("clawback_months", flat=True)
        .first()
        or 0
    )
    done = ReferralClawback.objects.filter(practice=practice, client=client).first()
    if done is not None:
        return done
    left, first = left_on(client, practice), first_invoiced_on(client, practice)
    if left is None or first is None or not claws_back(period, first, left):
        return None
    months = whole_months(first, left)
    try:
        with transaction.atomic():
            claim = ReferralClawback.objects.create(
                practice=practice,
                client=client,
                first_invoiced_on=first,
                left_on=left,
                months=months,
                at=timezone.now(),
            )
            balances = referral_balances(client, practice)
            if balances:
                claim.clawback = _post(client, practice, months, balances)
                claim.save(update_fields=["clawback"])
            record(
                actor,
                "billing.referral.clawback",
                claim,
                source=source,
                scope=f"client:{client.pk}",
                changes={
                    "clawed_back": [None, str(-sum(balances.values(), Decimal(0)))],
                    "months": [None, months],
                },
            )
    except IntegrityError:  # claimed meanwhile by another run
        return ReferralClawback.objects.get(practice=practice, client=client)
    return claim


def claw_back_named(actor, practice, client_id: int, *, source: str) -> ReferralClawback:
    """:func:`claw_back` for the API: a client that has not left, or left after the period,
    is a 400 naming ``client``."""
    client = Client.objects.filter(pk=client_id).first()
    if client is None:
        raise invalid("client", f"No client {client_id}.", "a client of the practice")
    found = claw_back(actor, practice, client, source=source)
    if found is None:
        raise invalid(
            "client",
            f"{client} has not left within the practice's clawback period.",
            "a client that left within the clawback period of its first invoice",
        )
    return found


def sweep(*, source: str) -> dict[str, int]:
    """The clock's job: claw back, once, every client with referral fees that left within its
    practice's period.  One failing client never stops the others."""
    done = {"clawed_back": 0, "failed": 0}
    for settings in BillingSettings.objects.filter(clawback_months__gt=0).select_related(
        "practice"
    ):
        practice = settings.practice
        claimed = ReferralClawback.objects.filter(practice=practice).values("client_id")
        client_ids = (
            Leg.objects.filter(
                transaction__practice=practice, rule="referral", account__holder=Holder.PARTNER
            )
            .exclude(transaction__invoice__client__in=claimed)
            .exclude(transaction__invoice__isnull=True)
            .values_list("transaction__invoice__client", flat=True)
            .distinct()
        )
        for client in Client.objects.filter(pk__in=list(client_ids)).order_by("pk"):
            try:
                if claw_back(None, practice, client, source=source) is not None:
                    done["clawed_back"] += 1
            except Exception:  # one client that cannot be clawed back never stops the others
                logger.exception("Clawback of client %s in %s failed", client.pk, practice)
                done["failed"] += 1
    return done

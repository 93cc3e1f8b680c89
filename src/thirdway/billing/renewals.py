"""Contract renewal: once the notice date has passed without the renewal being stopped, the
contract runs for another term.  The renewal is an explicit step (this service, called by the
page, the API or the clock's daily job), claimed by a unique row per term, so running it twice
renews once.  A contract past its end that did not renew is no longer billed."""

from __future__ import annotations

import datetime as dt

from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from thirdway.audit.services import record
from thirdway.billing.access import may_manage_billing
from thirdway.billing.contract_checks import _check_overlap
from thirdway.billing.models import Contract, ContractRenewal, ContractStatus
from thirdway.billing.services import MANAGE
from thirdway.errors import invalid, require

# How many terms one call catches up on for a contract left unrenewed a long time.
MOST_TERMS = 120


def next_end(contract: Contract) -> dt.date:
    """The end of the next term: the day after the end, plus the term, less a day."""
    start = contract.ends_on + dt.timedelta(days=1)
    try:
        return start + relativedelta(months=contract.renewal_months) - dt.timedelta(days=1)
    except (OverflowError, ValueError):
        raise invalid(
            "renewal_months", "The next term would end after year 9999.", "a shorter term"
        ) from None


def is_due(contract: Contract, today: dt.date) -> bool:
    return contract.notice_by is not None and today > contract.notice_by


def _check_due(contract: Contract, today: dt.date) -> None:
    if contract.renews_on is None:
        raise invalid(
            "renewal_months",
            "The contract does not renew (no end date or no renewal term).",
            "a contract with an end date and a renewal term of 1 to 120 months",
        )
    if not is_due(contract, today):
        raise invalid(
            "notice_by",
            f"The renewal may still be stopped until {contract.notice_by}.",
            f"a day after {contract.notice_by}",
        )


@transaction.atomic
def renew_contract(
    actor,
    contract: Contract,
    *,
    source: str,
    today: dt.date | None = None,
    term_ending: dt.date | None = None,
) -> ContractRenewal | None:
    """Renew the term ending ``term_ending`` (default: the contract's end as the caller read
    it) if it is due; None when that term was renewed already, the renewal otherwise.  Lines
    ending with the contract are extended with it."""
    require(actor is None or may_manage_billing(actor), MANAGE)
    today = today or timezone.localdate()
    previous = term_ending or contract.ends_on
    contract = Contract.objects.select_for_update().get(pk=contract.pk)
    if previous is not None and contract.ends_on != previous:
        if contract.renewals.filter(previous_end=previous).exists():
            return None  # renewed already (a retry, or someone else meanwhile)
        raise invalid(
            "term_ending",
            f"The contract's term ends on {contract.ends_on}, not {previous}.",
            f"{contract.ends_on}",
        )
    _check_due(contract, today)
    new_end = next_end(contract)
    try:
        with transaction.atomic():
            renewal = ContractRenewal.objects.create(
                contract=contract, previous_end=contract.ends_on, new_end=new_end, renewed_by=actor
            )
    except IntegrityError:
        return None
    contract.ends_on = new_end
    _check_overlap(contract)
    contract.save(update_fields=["ends_on"])
    contract.lines.filter(ends_on=renewal.previous_end).update(ends_on=new_end)
    record(
        actor,
        "contract.renew",
        contract,
        source=source,
        scope=f"client:{contract.client_id}",
        changes={"ends_on": [str(renewal.previous_end), str(new_end)]},
    )
    return renewal


def renew_due_contracts(today: dt.date | None = None, *, source: str) -> dict[str, int]:
    """The clock's daily job: renew every active contract whose notice date has passed, each
    in its own transaction; one refused (it would overlap another) never stops the rest."""
    today = today or timezone.localdate()
    horizon = today + dt.timedelta(days=731)  # the longest notice, and a day
    found = Contract.objects.filter(
        renewal_months__gt=0, ends_on__isnull=False, ends_on__lt=horizon
    ).exclude(status=ContractStatus.DRAFT)
    renewed = refused = 0
    for contract in found.order_by("pk").iterator():
        for _ in range(MOST_TERMS):
            if not is_due(contract, today):
                break
            try:
                made = renew_contract(None, contract, source=source, today=today)
            except ValidationError:
                refused += 1
                break
            if made is None:
                break
            renewed += 1
            contract.refresh_from_db()
    return {"renewed": renewed, "refused": refused}

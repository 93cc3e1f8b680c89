"""Capital terms for the base cast: Paula and Oscar both partners of Security, with a paid
invoice putting money in the practice's pool."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from thirdway.audit.models import Source
from thirdway.billing import capital, invoicing, issuing
from thirdway.billing.models import Invoice
from thirdway.network import services as network

from .weeks import approve_weeks

D = Decimal
MONTH = dt.date(2026, 11, 1)


def join_security(cast) -> None:
    """Oscar joins Security too, so both partners may hold capital there."""
    network.set_skill(cast.admin, cast.other_partner_record, cast.security, 3, source=Source.CLI)


def terms(cast, partner, **extra):
    data = {
        "buy_in": D("1000.00"),
        "buy_in_method": "at_once",
        "withhold_percent": D(0),
        "units": 10,
        "vesting_starts_on": dt.date(2020, 1, 1),
        "vesting_months": 0,
    }
    data.update(extra)
    return capital.set_terms(
        cast.admin, practice=cast.security, partner=partner, source=Source.CLI, **data
    )


def paid_invoice(cast) -> Invoice:
    """Run November, approve Acme's invoice and record its payment."""
    approve_weeks(cast)
    invoicing.run_invoices(cast.admin, cast.security, MONTH, source=Source.CLI)
    draft = Invoice.objects.get(client=cast.acme, state="draft")
    invoice = issuing.approve_invoice(cast.admin, draft, source=Source.CLI)
    return issuing.mark_paid(cast.admin, invoice, source=Source.CLI)

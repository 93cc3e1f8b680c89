"""API of a contract's terms: a line's change from a day, the renewal, and a client's billing
details (the buyer's VAT identifier an e-invoice names)."""

import datetime as dt

from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status

from thirdway.audit.models import Source
from thirdway.billing import client_details, renewals, services
from thirdway.billing.access import may_manage_billing
from thirdway.billing.api import ContractOut, LineOut, Money, Quantity
from thirdway.billing.models import Contract
from thirdway.clients.models import Client
from thirdway.errors import refuse_nulls, require
from thirdway.payloads import Payload, kept

router = Router()


class BillingLineChangeIn(Payload, extra="forbid"):
    """A new price or quantity from ``effective_on`` (left out: unchanged)."""

    effective_on: dt.date
    price: Money | None = None
    quantity: Quantity | None = None


@router.post("/contracts/{contract_id}/lines/{line_id}/change", response={201: LineOut})
def change_line(request, contract_id: int, line_id: int, payload: BillingLineChangeIn):
    """End the line the day before ``effective_on`` and start a copy with the new price or
    quantity that day (the month of the change is prorated between the two); the new line."""
    contract = get_object_or_404(Contract.objects.for_user(request.auth), pk=contract_id)
    line = get_object_or_404(contract.lines, pk=line_id)
    data = payload.model_dump()
    effective_on = data.pop("effective_on")
    made = services.change_line_from(request.auth, line, effective_on, source=Source.API, **data)
    return Status(201, made)


class BillingRenewIn(Payload, extra="forbid"):
    term_ending: dt.date | None = Field(
        None, description="The end of the term to renew; sent again, it changes nothing."
    )


@router.post("/contracts/{contract_id}/renew", response=ContractOut)
def renew_contract(request, contract_id: int, payload: BillingRenewIn):
    """Renew the contract for a term once its notice date has passed (400 before).  With
    ``term_ending``, a retry of a renewal done already answers the contract unchanged.  The
    clock renews due contracts every hour by itself."""
    contracts = Contract.objects.for_user(request.auth).prefetch_related("lines")
    contract = get_object_or_404(contracts, pk=contract_id)
    renewals.renew_contract(
        request.auth, contract, source=Source.API, term_ending=payload.term_ending
    )
    return contracts.get(pk=contract.pk)


class BillingDetailsOut(Schema):
    client_id: int
    vat_id: str


class BillingDetailsPatch(Payload, extra="forbid"):
    vat_id: str = kept(max_length=14, description="Country code and up to 12 capitals or digits.")


def _client(request, client_id: int) -> Client:
    client = get_object_or_404(Client.objects.for_user(request.auth), pk=client_id)
    require(may_manage_billing(request.auth), services.MANAGE)
    return client


@router.get("/billing/client-details/{client_id}", response=BillingDetailsOut)
def get_billing_details(request, client_id: int):
    """The client's billing details (practice admins): the buyer's VAT identifier."""
    details = client_details.details_of(_client(request, client_id))
    return {"client_id": client_id, "vat_id": details.vat_id}


@router.patch("/billing/client-details/{client_id}", response=BillingDetailsOut)
def update_billing_details(request, client_id: int, payload: BillingDetailsPatch):
    """Change the client's billing details; an empty VAT identifier clears it."""
    client = _client(request, client_id)
    data = payload.model_dump(exclude_unset=True)
    refuse_nulls(name for name, value in data.items() if value is None)
    details = client_details.update_billing_details(request.auth, client, data, source=Source.API)
    return {"client_id": client.pk, "vat_id": details.vat_id}

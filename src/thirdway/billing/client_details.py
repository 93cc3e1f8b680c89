"""A client's billing details (the buyer's VAT identifier): read with a blank default, changed
only here, by a practice admin, with an audit record."""

from __future__ import annotations

from django.db import transaction

from thirdway.audit.services import update_and_record
from thirdway.billing.access import may_manage_billing
from thirdway.billing.models import ClientBillingDetails
from thirdway.billing.services import MANAGE
from thirdway.errors import require

DETAIL_FIELDS = ["vat_id"]


def details_of(client) -> ClientBillingDetails:
    """The client's details, blank (and unsaved) until someone fills them in."""
    found = ClientBillingDetails.objects.filter(client=client).first()
    return found or ClientBillingDetails(client=client)


@transaction.atomic
def update_billing_details(actor, client, data: dict, *, source: str) -> ClientBillingDetails:
    """Change the client's billing details; a VAT identifier is given in capitals without
    spaces (``de 123 456 789`` is read as ``DE123456789``) and refused naming the field when
    it is not a country code and up to 12 capitals or digits."""
    require(may_manage_billing(actor), MANAGE)
    details, _ = ClientBillingDetails.objects.select_for_update().get_or_create(client=client)
    if isinstance(data.get("vat_id"), str):
        data = {**data, "vat_id": data["vat_id"].replace(" ", "").upper()}
    return update_and_record(
        actor,
        details,
        data,
        fields=DETAIL_FIELDS,
        action="client.billing_details",
        source=source,
        scope=f"client:{client.pk}",
    )

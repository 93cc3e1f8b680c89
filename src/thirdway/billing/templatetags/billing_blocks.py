"""``{% block_burn_down client %}``: the burn-down of a client's block-hours contracts, for the
client page and the portal (the rooms below billing show it without importing it)."""

from __future__ import annotations

from django import template

from thirdway.accounts.models import Role
from thirdway.billing import blocks
from thirdway.billing.access import may_manage_billing
from thirdway.billing.models import Contract, ContractKind

register = template.Library()


def _blocks_seen_by(user, client):
    contracts = Contract.objects.filter(client=client, kind=ContractKind.BLOCK_HOURS)
    if user.is_authenticated and user.role == Role.CLIENT_ADMIN:
        contact = getattr(user, "contact", None)
        if contact is None or not contact.is_active or contact.client_id != client.pk:
            return contracts.none()
        return contracts
    return contracts.filter(pk__in=Contract.objects.for_user(user))


@register.inclusion_tag("billing/_burn_down.html", takes_context=True)
def block_burn_down(context, client) -> dict:
    user = context["user"]
    contracts = _blocks_seen_by(user, client).order_by("-starts_on", "-pk")
    return {
        "burns": [blocks.burn(contract) for contract in contracts],
        "can_top_up": may_manage_billing(user),
        "user": user,
    }

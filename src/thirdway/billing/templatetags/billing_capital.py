"""The capital accounts beside a partner's statement: ``{% capital_cards partner %}``."""

from __future__ import annotations

from django import template

from thirdway.billing import capital
from thirdway.billing.models import CapitalTerms

register = template.Library()


@register.inclusion_tag("billing/_capital_cards.html", takes_context=True)
def capital_cards(context, partner) -> dict:
    """The partner's capital accounts, for whoever may see the partner's statement (the page
    has checked that already): one card per practice."""
    found = CapitalTerms.objects.filter(partner=partner).select_related("practice", "partner")
    return {"accounts": [capital.summary(terms) for terms in found.order_by("practice")[:20]]}

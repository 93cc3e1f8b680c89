"""``{% nps_card %}``: the portal home's card asking a due contact the recommendation question
(the portal shows it without importing the insights room)."""

from __future__ import annotations

from django import template

from thirdway.insights import nps

register = template.Library()


@register.inclusion_tag("insights/_nps_card.html", takes_context=True)
def nps_card(context) -> dict:
    user = context["user"]
    contact = getattr(user, "contact", None) if user.is_authenticated else None
    if contact is None or not user.is_client_contact:
        return {"survey": None}
    return {"survey": nps.portal_survey(contact)}

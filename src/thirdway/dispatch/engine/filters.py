"""The hard filters for one partner, and the reasons every filter gives."""

from __future__ import annotations

import math
from datetime import datetime

from thirdway.dispatch.engine.cover import PartnerIndex
from thirdway.dispatch.engine.evaluation import _availability, within_radius
from thirdway.dispatch.engine.inputs import (
    EXPERT_LEVEL,
    MAX_LEVEL,
    PartnerState,
    TicketNeed,
    epoch,
)
from thirdway.distance import haversine_km

# Shared by the single-partner filters and the vectorised path so both say the same thing.


def _skill_reason(practice: str, level: int, required: int) -> str:
    if level == 0:
        return f"skill: no {practice} (needs {required})"
    return f"skill: {practice} {level}/{MAX_LEVEL}, needs {required}"


def _availability_reason(
    absent_now: bool, next_cover_s: float, target_s: float, busy: bool = False
) -> str:
    if busy and not absent_now:
        head = "busy with work in hand"
    else:
        head = "absent" if absent_now else "off shift and not on call"
    if math.isinf(next_cover_s):
        return f"availability: {head}; no cover within the planning horizon"
    hours = (next_cover_s - target_s) / 3600
    return f"availability: {head}; next cover starts {hours:.1f} h after the response due time"


def _radius_reason(distance_km: float, radius_km: float) -> str:
    return f"radius: site is {distance_km:.0f} km away, serves {radius_km:.0f} km"


def _capacity_reason(open_load: int, capacity: int) -> str:
    return f"capacity: {open_load} of {capacity} open"


def _language_reason(language: str) -> str:
    return f"language: does not speak {language}"


def reject_skill(ticket: TicketNeed, partner: PartnerState) -> str | None:
    """Reason when the partner's level in the practice is below the required level."""
    level = partner.level_in(ticket.practice)
    if level >= ticket.required_level:
        return None
    return _skill_reason(ticket.practice, level, ticket.required_level)


def reject_availability(ticket: TicketNeed, partner: PartnerState, now: datetime) -> str | None:
    """Reason when the partner cannot start before the response due time.

    Available means on shift now, or a shift starting before the response due time, or on
    call before it; never while absent. If the response is already overdue, only cover
    right now counts. Escalation is not considered here: :func:`rank` applies it.
    """
    index = PartnerIndex.for_tickets([partner], [ticket], now)
    cover = _availability(index, ticket, epoch(now) - index.origin_s, None)
    if not cover.unavailable[0]:
        return None
    return _availability_reason(
        bool(cover.absent_now[0]), cover.next_start(0), cover.target, bool(cover.busy[0])
    )


def reject_radius(ticket: TicketNeed, partner: PartnerState) -> str | None:
    """Reason when an on-site ticket's location is outside the partner's service radius
    (measured from the visit they drive on from, if any, as :func:`within_radius` says)."""
    if not ticket.needs_onsite or ticket.onsite_location is None:
        return None
    site = ticket.onsite_location
    distance = float(haversine_km(partner.home_lat, partner.home_lon, *site))
    visit = partner.drive_from.get(ticket.priority)
    drive = distance if visit is None else float(haversine_km(*visit.location, *site))
    if bool(within_radius(distance, drive, partner.radius_km)):
        return None
    return _radius_reason(distance, partner.radius_km)


def reject_capacity(ticket: TicketNeed, partner: PartnerState) -> str | None:
    """Reason when the partner has no free capacity (open load >= capacity)."""
    del ticket  # same signature as the other filters; capacity does not depend on it
    if partner.open_load < partner.capacity:
        return None
    return _capacity_reason(partner.open_load, partner.capacity)


def reject_language(ticket: TicketNeed, partner: PartnerState) -> str | None:
    """Reason when the ticket names a language the partner does not speak."""
    if ticket.language is None or ticket.language in partner.languages:
        return None
    return _language_reason(ticket.language)


def may_bypass_availability(ticket: TicketNeed, partner: PartnerState) -> bool:
    """Escalation override: experts of the practice may be called in outside their cover."""
    level = partner.level_in(ticket.practice)
    return ticket.escalate and level >= max(EXPERT_LEVEL, ticket.required_level)

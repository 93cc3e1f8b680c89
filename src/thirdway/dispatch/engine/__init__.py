"""Dispatch engine: decide which partner of the cooperative should take a ticket.

The engine is deliberately free of Django and of the rest of thirdway (but for the equally
pure :mod:`thirdway.distance`) so that the web app and the simulator can both feed it plain,
frozen dataclasses. A decision has three steps:

1. Hard filters (skill, availability within the response target, on-site radius, capacity,
   language). Each can say in one line why it rejected somebody.
2. A weighted sum of cost terms for everyone left; lower is better (see :class:`Weights`).
3. A deterministic order: escalation bypasses last, then the ticket's preferred tier (desk
   work goes to the desk first), then total cost, then partner id.

Speed comes from :class:`PartnerIndex`, a column-oriented snapshot of the partner pool:
numpy arrays plus every partner's shift and on-call intervals expanded from their local
weekly hours into UTC seconds, so one ``searchsorted`` answers "when can each partner start?"
for the whole pool. Build it once and reuse it for many decisions.

Joint assignment of a queue and placing on-site visits live in
:mod:`thirdway.dispatch.optimiser`.

Times inside the engine are whole seconds since the Unix epoch (or since the index origin);
whole seconds keep the interval arithmetic exact and the results reproducible.
"""

from __future__ import annotations

from thirdway.dispatch.engine.cover import PartnerIndex, as_index
from thirdway.dispatch.engine.decision import (
    Candidate,
    Decision,
    Rejection,
    candidates_at,
    nobody_reason,
    rank,
    rejected_counts,
)
from thirdway.dispatch.engine.evaluation import Evaluation, evaluate, within_radius
from thirdway.dispatch.engine.filters import (
    may_bypass_availability,
    reject_availability,
    reject_capacity,
    reject_language,
    reject_radius,
    reject_skill,
)
from thirdway.dispatch.engine.inputs import (
    DEFAULT_HORIZON_DAYS,
    DEFAULT_TRAVEL_SPEED_KMH,
    DESK_KIND_LEVEL,
    DESK_PRACTICE,
    EXPERT_LEVEL,
    FILTERS,
    MAX_LEVEL,
    MIN_RESPONSE_BUDGET_S,
    PARTNER_KINDS,
    PRIORITIES,
    TERMS,
    WEEKDAYS,
    Flags,
    Floats,
    Ints,
    LatLon,
    Num,
    PartnerId,
    PartnerState,
    Rows,
    Span,
    TicketId,
    TicketNeed,
    Visit,
    Weights,
    check_aware,
    epoch,
    id_key,
)
from thirdway.dispatch.engine.terms import (
    continuity_cost,
    load_cost,
    skill_fit_cost,
    sla_slack_cost,
    travel_cost,
)
from thirdway.distance import EARTH_RADIUS_KM, haversine_km

__all__ = [
    "DEFAULT_HORIZON_DAYS",
    "DEFAULT_TRAVEL_SPEED_KMH",
    "DESK_KIND_LEVEL",
    "DESK_PRACTICE",
    "EARTH_RADIUS_KM",
    "EXPERT_LEVEL",
    "FILTERS",
    "MAX_LEVEL",
    "MIN_RESPONSE_BUDGET_S",
    "PARTNER_KINDS",
    "PRIORITIES",
    "TERMS",
    "WEEKDAYS",
    "Candidate",
    "Decision",
    "Evaluation",
    "Flags",
    "Floats",
    "Ints",
    "LatLon",
    "Num",
    "PartnerId",
    "PartnerIndex",
    "PartnerState",
    "Rejection",
    "Rows",
    "Span",
    "TicketId",
    "TicketNeed",
    "Visit",
    "Weights",
    "as_index",
    "candidates_at",
    "check_aware",
    "continuity_cost",
    "epoch",
    "evaluate",
    "haversine_km",
    "id_key",
    "load_cost",
    "may_bypass_availability",
    "nobody_reason",
    "rank",
    "reject_availability",
    "reject_capacity",
    "reject_language",
    "reject_radius",
    "reject_skill",
    "rejected_counts",
    "skill_fit_cost",
    "sla_slack_cost",
    "travel_cost",
    "within_radius",
]

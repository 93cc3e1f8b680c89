"""Cost terms of a ranking."""

from __future__ import annotations

from typing import overload

import numpy as np

from thirdway.dispatch.engine.inputs import MAX_LEVEL, MIN_RESPONSE_BUDGET_S, Flags, Floats, Num

# Written with numpy ufuncs so one definition serves a single partner and the whole pool.


@overload
def sla_slack_cost(start_s: float, now_s: float, due_s: float) -> float: ...
@overload
def sla_slack_cost(start_s: np.ndarray, now_s: Num, due_s: Num) -> Floats: ...
def sla_slack_cost(start_s: Num, now_s: Num, due_s: Num) -> Num:
    """Share of the remaining response time used up before the partner can start (0..1)."""
    budget = np.maximum(np.subtract(due_s, now_s), MIN_RESPONSE_BUDGET_S)
    return np.clip(np.subtract(start_s, now_s) / budget, 0.0, 1.0)


@overload
def skill_fit_cost(level: float, required: float) -> float: ...
@overload
def skill_fit_cost(level: np.ndarray, required: Num) -> Floats: ...
def skill_fit_cost(level: Num, required: Num) -> Num:
    """0 for an exact fit, rising to 1 for a level-5 expert on a level-1 ticket."""
    return np.clip(np.subtract(level, required) / (MAX_LEVEL - 1), 0.0, 1.0)


@overload
def travel_cost(distance_km: float, speed_kmh: float) -> float: ...
@overload
def travel_cost(distance_km: np.ndarray, speed_kmh: float) -> Floats: ...
def travel_cost(distance_km: Num, speed_kmh: float) -> Num:
    """Hours of driving to the site."""
    return np.divide(distance_km, speed_kmh)


@overload
def load_cost(open_load: float, capacity: float) -> float: ...
@overload
def load_cost(open_load: np.ndarray, capacity: Num) -> Floats: ...
def load_cost(open_load: Num, capacity: Num) -> Num:
    """Share of the partner's capacity already in use."""
    return np.divide(open_load, np.maximum(capacity, 1))


@overload
def continuity_cost(is_lead: bool, is_recent: bool, recent_share: float) -> float: ...
@overload
def continuity_cost(is_lead: Flags, is_recent: Flags, recent_share: float) -> Floats: ...
def continuity_cost(is_lead: bool | Flags, is_recent: bool | Flags, recent_share: float) -> Num:
    """0 for the client's lead partner, smaller bonus for recent partners, 1 for strangers."""
    return 1.0 - np.maximum(np.multiply(is_lead, 1.0), np.multiply(is_recent, recent_share))


# A skill held by more partners than this is not scarce.
SCARCE_HOLDERS = 3


def scarcity_cost(holders: int) -> float:
    """What giving other work to one of ``holders`` partners of a skill costs: 1 / holders
    while the skill is scarce (at most ``SCARCE_HOLDERS`` hold it), else 0."""
    return 1.0 / holders if 0 < holders <= SCARCE_HOLDERS else 0.0

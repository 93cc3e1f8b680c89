"""Cost terms of a ranking, and the great-circle distance the travel term needs."""

from __future__ import annotations

import numpy as np

from thirdway.dispatch.engine.inputs import MAX_LEVEL, MIN_RESPONSE_BUDGET_S, Num

EARTH_RADIUS_KM = 6371.0088


# Written with numpy ufuncs so one definition serves a single partner and the whole pool.


def haversine_km(lat1: Num, lon1: Num, lat2: Num, lon2: Num) -> Num:
    """Great-circle distance in km; straight-line is good enough for a radius check."""
    phi1 = np.radians(lat1)
    return _haversine(phi1, np.radians(lon1), np.cos(phi1), lat2, lon2)


def _haversine(phi1: Num, lambda1: Num, cos_phi1: Num, lat2: float, lon2: float) -> Num:
    """:func:`haversine_km` with the first point in radians, precomputed for the pool."""
    phi2 = np.radians(lat2)
    half_dlambda = (np.radians(lon2) - lambda1) / 2
    a = np.sin((phi2 - phi1) / 2) ** 2 + cos_phi1 * np.cos(phi2) * np.sin(half_dlambda) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def sla_slack_cost(start_s: Num, now_s: Num, due_s: Num) -> Num:
    """Share of the remaining response time used up before the partner can start (0..1)."""
    budget = np.maximum(np.subtract(due_s, now_s), MIN_RESPONSE_BUDGET_S)
    return np.clip(np.subtract(start_s, now_s) / budget, 0.0, 1.0)


def skill_fit_cost(level: Num, required: Num) -> Num:
    """0 for an exact fit, rising to 1 for a level-5 expert on a level-1 ticket."""
    return np.clip(np.subtract(level, required) / (MAX_LEVEL - 1), 0.0, 1.0)


def travel_cost(distance_km: Num, speed_kmh: float) -> Num:
    """Hours of driving to the site."""
    return np.divide(distance_km, speed_kmh)


def load_cost(open_load: Num, capacity: Num) -> Num:
    """Share of the partner's capacity already in use."""
    return np.divide(open_load, np.maximum(capacity, 1))


def continuity_cost(is_lead: object, is_recent: object, recent_share: float) -> Num:
    """0 for the client's lead partner, smaller bonus for recent partners, 1 for strangers."""
    return 1.0 - np.maximum(np.multiply(is_lead, 1.0), np.multiply(is_recent, recent_share))

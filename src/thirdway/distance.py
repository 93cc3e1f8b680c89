"""Great-circle distance on the Earth, written once for the whole project.

Imports nothing of thirdway and no Django, so the pure engines use it as freely as the rooms.
"""

from __future__ import annotations

from typing import overload

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]
# Degrees, radians or kilometres: one number, or one per point of an array.
Num = float | Floats

EARTH_RADIUS_KM = 6371.0088


@overload
def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float: ...
@overload
def haversine_km(lat1: Num, lon1: Num, lat2: Num, lon2: Num) -> Num: ...
def haversine_km(lat1: Num, lon1: Num, lat2: Num, lon2: Num) -> Num:
    """Great-circle distance in km; straight-line is good enough for a radius check."""
    phi1: Num = np.radians(lat1)
    return haversine_from_radians_km(phi1, np.radians(lon1), np.cos(phi1), lat2, lon2)


@overload
def haversine_from_radians_km(
    phi1: Floats, lambda1: Floats, cos_phi1: Floats, lat2: float, lon2: float
) -> Floats: ...
@overload
def haversine_from_radians_km(
    phi1: Num, lambda1: Num, cos_phi1: Num, lat2: Num, lon2: Num
) -> Num: ...
def haversine_from_radians_km(phi1: Num, lambda1: Num, cos_phi1: Num, lat2: Num, lon2: Num) -> Num:
    """:func:`haversine_km` with the first point in radians, precomputed for the pool."""
    phi2 = np.radians(lat2)
    half_dlambda = (np.radians(lon2) - lambda1) / 2
    a = np.sin((phi2 - phi1) / 2) ** 2 + cos_phi1 * np.cos(phi2) * np.sin(half_dlambda) ** 2
    distance: Num = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
    return distance

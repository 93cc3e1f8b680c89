"""Dispatch weights per practice: the site-wide weights (THIRDWAY_DISPATCH_WEIGHTS over the
engine's defaults), overridden weight by weight by a practice admin for one practice.

The only writer of ``PracticeDispatch``; every change is recorded.
"""

from __future__ import annotations

import dataclasses
import math

from django.conf import settings
from django.db import transaction

from thirdway import configcache
from thirdway.audit.services import record
from thirdway.dispatch import engine
from thirdway.errors import invalid, require_admin
from thirdway.tickets.assignment.models import PracticeDispatch

ALLOWED = "a number of 0 or more"
LIMITS = {
    "recent_partner_share": "a number from 0 to 1",
    "travel_speed_kmh": "a number above 0",
}


def site_weights() -> dict[str, float]:
    """Every weight as the whole site has it (the engine's defaults, then the setting)."""
    return dataclasses.asdict(engine.Weights.from_dict(settings.DISPATCH_WEIGHTS))


def overrides() -> dict[int, dict[str, float]]:
    """The weights each practice sets for itself, by practice id (from the configuration
    cache: read when a ticket is ranked)."""

    def load() -> dict[int, dict[str, float]]:
        rows = PracticeDispatch.objects.values_list("practice_id", "weights")
        return {practice_id: dict(weights or {}) for practice_id, weights in rows}

    return configcache.get(("dispatch.weights",), load)


def weights_for(practice_id: int | None) -> engine.Weights:
    own = overrides().get(practice_id, {}) if practice_id is not None else {}
    return engine.Weights.from_dict({**settings.DISPATCH_WEIGHTS, **own})


@transaction.atomic
def set_practice_weights(actor, practice, weights: dict, *, source: str) -> PracticeDispatch:
    """Set the practice's own weights; a weight left out (or None) keeps the site-wide value."""
    require_admin(actor, "Only practice admins set dispatch weights.")
    chosen = _checked(weights)
    entry, _ = PracticeDispatch.objects.get_or_create(practice=practice)
    before = dict(entry.weights)
    if before != chosen:
        entry.weights = chosen
        entry.save()
        changes = {
            name: [before.get(name), chosen.get(name)]
            for name in sorted(set(before) | set(chosen))
            if before.get(name) != chosen.get(name)
        }
        record(
            actor,
            "dispatch.weights",
            practice,
            source=source,
            changes=changes,
            scope=f"practice:{practice.pk}",
        )
    return entry


def _checked(weights: dict) -> dict[str, float]:
    names = engine.Weights.names()
    chosen: dict[str, float] = {}
    for name, value in weights.items():
        if name not in names:
            raise invalid(name, "Not a dispatch weight.", ", ".join(names))
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise invalid(name, f"{value!r} is not a number.", LIMITS.get(name, ALLOWED))
        if not _in_range(name, value):
            raise invalid(name, f"{value} is out of range.", LIMITS.get(name, ALLOWED))
        chosen[name] = float(value)
    return chosen


def _in_range(name: str, value: float) -> bool:
    """What the engine's ``Weights`` accepts, checked here to name the field."""
    if not math.isfinite(value) or value < 0:
        return False
    if name == "travel_speed_kmh":
        return value > 0
    return value <= 1 if name == "recent_partner_share" else True

"""A practice's dispatch switches kept beside its weights (``PracticeDispatch``): whether a P1
may interrupt running routine work (``preempt``), and whether repeats of an open incident are
linked under it (``link_incidents``), and what happens when a partner comes free
(``when_free``: nothing, offer or take their next ticket; ``assignment.coming_free``), and
whether routine work is held while its skill is in surge (``surge``, ``surge_ratio``,
``surge_defers_p3``; ``assignment.surge``). All are off until a practice admin turns them on;
this module is their only writer, and each change is audited."""

from __future__ import annotations

from django.db import transaction

from thirdway.audit.services import record as audit_record
from thirdway.dispatch import storms
from thirdway.errors import invalid, require_admin
from thirdway.tickets.assignment.models import PracticeDispatch, WhenFree

SWITCHES = ("preempt", "link_incidents", "surge", "surge_defers_p3")
# Switches of more than two positions, with the values each allows (the first is the default).
CHOICES = {"when_free": tuple(WhenFree.values)}
# Numbers, with their default and bounds.
NUMBERS = {"surge_ratio": (storms.DEFAULT_SURGE_RATIO, 1.0, 10.0)}


def switches_of(practice_id: int | None) -> dict:
    """The practice's switches (all off for a practice that never set them)."""
    found = (
        PracticeDispatch.objects.filter(practice_id=practice_id)
        .values(*SWITCHES, *CHOICES, *NUMBERS)
        .first()
        if practice_id is not None
        else None
    )
    on = {name: bool(found and found[name]) for name in SWITCHES}
    on |= {name: found[name] if found else bounds[0] for name, bounds in NUMBERS.items()}
    return on | {name: found[name] if found else allowed[0] for name, allowed in CHOICES.items()}


def switches_by_practice() -> dict[int, dict]:
    """Every practice's switches, by practice id, for those that set any (one query)."""
    return {
        row.pop("practice_id"): row
        for row in PracticeDispatch.objects.values("practice_id", *SWITCHES, *CHOICES, *NUMBERS)
    }


def _check(name: str, value) -> None:
    if name in NUMBERS:
        _, low, high = NUMBERS[name]
        allowed = f"a number from {low:g} to {high:g}"
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise invalid(name, "Give a number.", allowed)
        if not low <= value <= high:
            raise invalid(name, f"{value:g} is out of range.", allowed)
    elif name in CHOICES:
        allowed = CHOICES[name]
        if not isinstance(value, str) or value not in allowed:
            raise invalid(name, f"{str(value)[:40]!r} is not a choice.", ", ".join(allowed))
    elif name not in SWITCHES:
        raise invalid(name, "Unknown dispatch switch.", ", ".join((*SWITCHES, *CHOICES, *NUMBERS)))
    elif not isinstance(value, bool):
        raise invalid(name, "Give true or false.", "true or false")


def set_switches(actor, practice, values: dict, *, source: str) -> PracticeDispatch:
    """A practice admin turns the named switches on or off, sets ``when_free`` to one of its
    choices or ``surge_ratio`` within its bounds (others are kept)."""
    require_admin(actor)
    for name, value in values.items():
        _check(name, value)
    values = {name: float(value) if name in NUMBERS else value for name, value in values.items()}
    with transaction.atomic():
        entry, _ = PracticeDispatch.objects.select_for_update().get_or_create(practice=practice)
        changes = {
            name: [getattr(entry, name), value]
            for name, value in values.items()
            if getattr(entry, name) != value
        }
        if changes:
            for name, (_, value) in changes.items():
                setattr(entry, name, value)
            entry.save(update_fields=[*changes, "updated_at"])
            audit_record(actor, "dispatch.switches", practice, source=source, changes=changes)
    return entry

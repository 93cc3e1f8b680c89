"""A practice's dispatch switches kept beside its weights (``PracticeDispatch``): whether a P1
may interrupt running routine work (``preempt``), and whether repeats of an open incident are
linked under it (``link_incidents``). Both are off until a practice admin turns them on; this
module is their only writer, and each change is audited."""

from __future__ import annotations

from django.db import transaction

from thirdway.audit.services import record as audit_record
from thirdway.errors import invalid, require_admin
from thirdway.tickets.assignment.models import PracticeDispatch

SWITCHES = ("preempt", "link_incidents")


def switches_of(practice_id: int | None) -> dict[str, bool]:
    """The practice's switches (all off for a practice that never set them)."""
    found = (
        PracticeDispatch.objects.filter(practice_id=practice_id).values(*SWITCHES).first()
        if practice_id is not None
        else None
    )
    return {name: bool(found and found[name]) for name in SWITCHES}


def switches_by_practice() -> dict[int, dict[str, bool]]:
    """Every practice's switches that are on, by practice id (one query)."""
    return {
        row["practice_id"]: {name: row[name] for name in SWITCHES}
        for row in PracticeDispatch.objects.values("practice_id", *SWITCHES)
    }


def set_switches(actor, practice, values: dict, *, source: str) -> PracticeDispatch:
    """A practice admin turns the named switches on or off (others are kept)."""
    require_admin(actor)
    for name, value in values.items():
        if name not in SWITCHES:
            raise invalid(name, "Unknown dispatch switch.", ", ".join(SWITCHES))
        if not isinstance(value, bool):
            raise invalid(name, "Give true or false.", "true or false")
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

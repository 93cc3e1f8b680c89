"""Who is working at a given moment: working hours in each partner's zone, minus absences."""

from __future__ import annotations

import datetime as dt

from thirdway.network.models import Absence, Partner
from thirdway.network.places import shift_at


def available_ids(partners, at: dt.datetime) -> set[int]:
    """Ids of the given partners who are on shift at ``at`` and not absent."""
    rows = partners.values_list("pk", "time_zone", "working_hours")
    return available_among({pk: (zone, hours) for pk, zone, hours in rows}, at)


def available_among(hours_by_id: dict[int, tuple[str, dict]], at: dt.datetime) -> set[int]:
    """Ids of the partners given by id with their zone and working hours (read already) who
    are on shift at ``at`` and not absent (one query, of absences)."""
    away = set(
        Absence.objects.current(at)
        .filter(partner_id__in=list(hours_by_id))
        .values_list("partner_id", flat=True)
    )
    return {
        pk
        for pk, (zone, hours) in hours_by_id.items()
        if pk not in away and shift_at(hours, zone, at)
    }


def is_available(partner: Partner, at: dt.datetime) -> bool:
    return partner.pk in available_ids(Partner.objects.filter(pk=partner.pk), at)

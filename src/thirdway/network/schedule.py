"""Who is working at a given moment: working hours in each partner's zone, minus absences."""

from __future__ import annotations

import datetime as dt

from thirdway.network.models import Absence, Partner
from thirdway.network.places import shift_at


def available_ids(partners, at: dt.datetime) -> set[int]:
    """Ids of the given partners who are on shift at ``at`` and not absent."""
    rows = list(partners.values_list("pk", "time_zone", "working_hours"))
    away = set(
        Absence.objects.current(at)
        .filter(partner_id__in=[pk for pk, _, _ in rows])
        .values_list("partner_id", flat=True)
    )
    return {pk for pk, zone, hours in rows if pk not in away and shift_at(hours, zone, at)}


def is_available(partner: Partner, at: dt.datetime) -> bool:
    return partner.pk in available_ids(Partner.objects.filter(pk=partner.pk), at)

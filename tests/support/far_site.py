"""A site beyond a partner's radius: the shape the tests of stretched dispatch and its offers
share."""

from __future__ import annotations

import math

from thirdway.audit.models import Source
from thirdway.clients import services as clients
from thirdway.dispatch import engine
from thirdway.network.models import Partner, Practice

ALWAYS = {day: [["00:00", "24:00"]] for day in engine.WEEKDAYS}
KM = engine.EARTH_RADIUS_KM * math.pi / 180


def depot_beyond_radius(cast):
    """Paula (the only Security partner, always at work) serves 60 km; Acme's depot is 84 km
    north of her home; Security is dispatched automatically."""
    Partner.objects.update(working_hours=ALWAYS)
    Partner.objects.filter(pk=cast.partner_record.pk).update(service_radius_km=60)
    Practice.objects.filter(pk=cast.security.pk).update(auto_dispatch=True)
    home = cast.partner_record
    cast.depot = clients.create_site(
        cast.admin,
        cast.acme,
        name="Depot",
        latitude=home.latitude + 84 / KM,
        longitude=home.longitude,
        source=Source.CLI,
    )
    return cast

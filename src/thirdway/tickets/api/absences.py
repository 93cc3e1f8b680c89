"""API of absences: a partner back from one takes back the tickets their deputies still hold."""

from django.shortcuts import get_object_or_404
from ninja import Router, Schema

from thirdway.audit.models import Source
from thirdway.network.models import Absence
from thirdway.tickets.assignment import continuity

router = Router()


class TakeBackOut(Schema):
    taken_back: int


@router.post("/absences/{absence_id}/take-back", response=TakeBackOut)
def take_back(request, absence_id: int):
    """The partner, back from an absence, takes back the tickets their deputies still hold."""
    absence = get_object_or_404(Absence.objects.for_user(request.auth), pk=absence_id)
    return {"taken_back": continuity.take_back(request.auth, absence, source=Source.API)}

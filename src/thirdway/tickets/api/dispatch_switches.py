"""API of a practice's dispatch switches: whether a P1 may interrupt routine work (``preempt``),
whether repeats of an open incident are linked under it (``link_incidents``), and what happens
when a partner comes free (``when_free``: nothing, offer or take their next ticket), and
whether routine work is held while its skill is in surge (``surge``, ``surge_ratio`` from 1.0
to 10.0, ``surge_defers_p3``). Practice admins read and change them; all are off until turned
on (``assignment.switches``)."""

from __future__ import annotations

from typing import Literal

from django.shortcuts import get_object_or_404
from ninja import Router, Schema

from thirdway.audit.models import Source
from thirdway.errors import require_admin
from thirdway.network.models import Practice
from thirdway.payloads import Payload, kept
from thirdway.tickets.assignment import switches

router = Router()
ADMINS_ONLY = "Only practice admins read and change dispatch switches."
WhenFreeName = Literal["nothing", "offer", "take"]


class DispatchSwitchesOut(Schema):
    practice_id: int
    preempt: bool
    link_incidents: bool
    when_free: WhenFreeName
    surge: bool
    surge_ratio: float
    surge_defers_p3: bool


class DispatchSwitchesPatch(Payload, extra="forbid"):
    preempt: bool = kept()
    link_incidents: bool = kept()
    when_free: WhenFreeName = kept()
    surge: bool = kept()
    surge_ratio: float = kept(ge=1.0, le=10.0)
    surge_defers_p3: bool = kept()


def _practice(request, practice_id: int) -> Practice:
    practice = get_object_or_404(Practice.objects.for_user(request.auth), pk=practice_id)
    require_admin(request.auth, ADMINS_ONLY)
    return practice


def _out(practice: Practice) -> dict:
    return {"practice_id": practice.pk, **switches.switches_of(practice.pk)}


@router.get("/dispatch-switches/{practice_id}", response=DispatchSwitchesOut)
def get_dispatch_switches(request, practice_id: int):
    """The practice's switches (all off for a practice that never set them)."""
    return _out(_practice(request, practice_id))


@router.patch("/dispatch-switches/{practice_id}", response=DispatchSwitchesOut)
def update_dispatch_switches(request, practice_id: int, payload: DispatchSwitchesPatch):
    """Turn any switch on or off, or set ``when_free``; a switch left out keeps its value.
    Audited."""
    practice = _practice(request, practice_id)
    values = payload.model_dump(exclude_unset=True)
    if values:
        switches.set_switches(request.auth, practice, values, source=Source.API)
    return _out(practice)

"""API of successions and joinings: a preview of what moves (nothing written), the plan, its
application (scheduled when its day has not come) and the record of what moved."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from thirdway.audit.models import Source
from thirdway.billing import succession_apply
from thirdway.billing.access import may_manage_billing
from thirdway.billing.succession import MAX_CLIENTS, Move, check_plan, plan_from, plan_of
from thirdway.billing.succession_models import OPEN_STATES, Succession
from thirdway.errors import require
from thirdway.payloads import Id, Page, Payload

router = Router()


class SuccessionClientIn(Schema):
    client: Id
    successor: Id | None = None


class SuccessionIn(Payload, extra="forbid"):
    """A leaver with ``successor`` and one entry per client they lead; or a
    ``joining_partner`` with the clients they bring (``successor`` left out everywhere)."""

    leaver: Id | None = None
    successor: Id | None = None
    joining_partner: Id | None = None
    effective_on: dt.date
    origination: Literal["successor", "leaver", "leaver_until"] = "successor"
    origination_until: dt.date | None = None
    clients: list[SuccessionClientIn] = Field(default_factory=list, max_length=MAX_CLIENTS)
    note: str = Field("", max_length=200)

    def plan_data(self) -> dict:
        data = self.model_dump(exclude={"clients", "note"})
        data["clients"] = [(row.client, row.successor) for row in self.clients]
        return data


class SuccessionMoveOut(Schema):
    kind: str
    object_id: int
    label: str
    from_partner_id: int | None
    to_partner_id: int | None
    detail: str
    moved_at: dt.datetime | None = None


class SuccessionPreviewOut(Schema):
    moves: list[SuccessionMoveOut]


class SuccessionClientOut(Schema):
    client_id: int
    successor_id: int


class SuccessionOut(Schema):
    id: int
    leaver_id: int | None
    successor_id: int | None
    joining_partner_id: int | None
    effective_on: dt.date
    origination: str
    origination_until: dt.date | None
    note: str
    state: str
    applied_at: dt.datetime | None
    origination_passed_at: dt.datetime | None
    problem: str
    clients: list[SuccessionClientOut]
    moves: list[SuccessionMoveOut]

    @staticmethod
    def resolve_clients(obj: Succession) -> list:
        return list(obj.clients.all())

    @staticmethod
    def resolve_moves(obj: Succession) -> list:
        return list(obj.moves.all())


def _preview(moves: list[Move]) -> dict:
    return {
        "moves": [
            {
                "kind": m.kind,
                "object_id": m.object_id,
                "label": m.label,
                "from_partner_id": m.from_partner.pk if m.from_partner else None,
                "to_partner_id": m.to_partner.pk if m.to_partner else None,
                "detail": m.detail,
            }
            for m in moves
        ]
    }


def _visible(request, succession_id: int) -> Succession:
    return get_object_or_404(Succession.objects.for_user(request.auth), pk=succession_id)


def _managed(request, succession_id: int) -> Succession:
    succession = _visible(request, succession_id)
    require(may_manage_billing(request.auth), succession_apply.MANAGE)
    return succession


@router.post("/billing/successions/preview", response=SuccessionPreviewOut)
def preview_succession(request, payload: SuccessionIn):
    """What the plan would move, read now (nothing is written); a plan that would leave
    anything without an owner is a 400 naming the field."""
    require(may_manage_billing(request.auth), succession_apply.MANAGE)
    return _preview(check_plan(plan_from(payload.plan_data())))


@router.get("/billing/successions", response=list[SuccessionOut])
@paginate(Page)
def list_successions(request):
    """Plans and their records: a practice admin's all, a partner's those they leave, join
    or succeed in."""
    return Succession.objects.for_user(request.auth).prefetch_related("clients", "moves")


@router.get("/billing/successions/{succession_id}", response=SuccessionOut)
def get_succession(request, succession_id: int):
    """A plan, and once applied the record of what moved, from whom to whom, when."""
    return _visible(request, succession_id)


@router.post("/billing/successions", response={201: SuccessionOut})
def create_succession(request, payload: SuccessionIn):
    """Keep the plan (nothing moves until it is applied)."""
    require(may_manage_billing(request.auth), succession_apply.MANAGE)
    plan = plan_from(payload.plan_data())
    made = succession_apply.save_plan(request.auth, plan, note=payload.note, source=Source.API)
    return Status(201, made)


@router.get("/billing/successions/{succession_id}/preview", response=SuccessionPreviewOut)
def preview_saved_succession(request, succession_id: int):
    """What a planned or scheduled plan moves if applied now (an applied plan: nothing)."""
    succession = _managed(request, succession_id)
    if succession.state not in OPEN_STATES:
        return {"moves": []}
    return _preview(check_plan(plan_of(succession), applying=True))


@router.post("/billing/successions/{succession_id}/apply", response=SuccessionOut)
def apply_succession(request, succession_id: int):
    """Apply the plan now if its day has come (else it is scheduled for the clock); applying
    an applied plan changes nothing."""
    succession = _managed(request, succession_id)
    return succession_apply.apply_succession(request.auth, succession, source=Source.API)


@router.post("/billing/successions/{succession_id}/cancel", response=SuccessionOut)
def cancel_succession(request, succession_id: int):
    """Cancel a planned or scheduled plan (an applied one is a 400 naming ``state``)."""
    succession = _managed(request, succession_id)
    return succession_apply.cancel_plan(request.auth, succession, source=Source.API)

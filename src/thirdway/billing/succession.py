"""Succession: what a partner leaving hands on, to whom, from which day; and what a partner
joining brings.

A plan names the leaver, the effective date, a successor for each client the leaver leads,
a successor for the rest (rota seats, on-call duties after the date, places in other clients'
teams and those clients' open tickets), and the rule for their contracts' origination.
``moves_of`` lists exactly what would move, read live from the database; the preview shows
it and ``succession_apply.apply_succession`` does it and keeps it as the record.  A plan that
would leave anything without an owner is refused here, naming the field.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.utils import timezone

from thirdway.billing.models import Contract
from thirdway.billing.succession_models import (
    OPEN_STATES,
    MoveKind,
    OriginationRule,
    Succession,
)
from thirdway.clients.models import Client
from thirdway.errors import invalid
from thirdway.network.models import Partner, PartnerKind, RotaMember, RotaOverride, Skill
from thirdway.tickets.lifecycle import OPEN
from thirdway.tickets.models import Ticket

# How far ahead a plan may be dated, and how long origination may stay with a leaver.
MAX_AHEAD = dt.timedelta(days=730)
MAX_KEEP = dt.timedelta(days=3660)
MAX_CLIENTS = 5000
AN_ACTIVE_PARTNER = "an active partner (not an associate or the desk), other than the leaver"


@dataclass
class Plan:
    """A succession (or a joining) as checked and previewed, stored or not yet."""

    effective_on: dt.date
    leaver: Partner | None = None
    successor: Partner | None = None
    joining: Partner | None = None
    origination: str = OriginationRule.SUCCESSOR
    origination_until: dt.date | None = None
    successors: dict[int, Partner] = field(default_factory=dict)
    pk: int | None = None

    def heir(self, client_id: int | None) -> Partner | None:
        """Who takes what belongs to this client (the joining partner takes all)."""
        if self.joining is not None:
            return self.joining
        return self.successors.get(client_id or 0, self.successor)


@dataclass
class Move:
    kind: str
    obj: object
    label: str
    from_partner: Partner | None
    to_partner: Partner | None
    detail: str = ""

    @property
    def object_id(self) -> int:
        return self.obj.pk  # type: ignore[attr-defined]


def plan_of(succession: Succession) -> Plan:
    rows = succession.clients.select_related("successor", "client")
    return Plan(
        effective_on=succession.effective_on,
        leaver=succession.leaver,
        successor=succession.successor,
        joining=succession.joining_partner,
        origination=succession.origination,
        origination_until=succession.origination_until,
        successors={row.client_id: row.successor for row in rows},
        pk=succession.pk,
    )


def _partner(name: str, partner_id: int | None) -> Partner | None:
    if partner_id is None:
        return None
    found = Partner.objects.filter(pk=partner_id).first()
    if found is None:
        raise invalid(name, f"No partner with id {partner_id}.", "a partner's id")
    return found


def plan_from(data: dict) -> Plan:
    """A plan from ids (a payload or a form): ``clients`` is a list of (client id, partner
    id); an unknown id is refused naming its field."""
    pairs = list(data.get("clients") or [])
    if data.get("joining_partner") is not None:  # a joining partner takes every client named
        pairs = [(client_id, data["joining_partner"]) for client_id, _ in pairs]
    if len(pairs) > MAX_CLIENTS:
        raise invalid("clients", "Too many clients in one plan.", f"at most {MAX_CLIENTS}")
    ids = [client_id for client_id, _ in pairs]
    if len(set(ids)) != len(ids):
        raise invalid("clients", "A client appears twice.", "each client once")
    partners = Partner.objects.in_bulk({p for _, p in pairs if p is not None})
    successors = {}
    for client_id, partner_id in pairs:
        if partner_id is None or partner_id not in partners:
            name = Client.objects.filter(pk=client_id).values_list("name", flat=True).first()
            raise invalid(
                "clients", f"{name or f'Client {client_id}'} has no successor.", AN_ACTIVE_PARTNER
            )
        successors[client_id] = partners[partner_id]
    return Plan(
        effective_on=data["effective_on"],
        leaver=_partner("leaver", data.get("leaver")),
        successor=_partner("successor", data.get("successor")),
        joining=_partner("joining_partner", data.get("joining_partner")),
        origination=data.get("origination") or OriginationRule.SUCCESSOR,
        origination_until=data.get("origination_until"),
        successors=successors,
    )


# --- the checks ------------------------------------------------------------------------------


def _check_heir(name: str, partner: Partner | None, leaver: Partner | None) -> None:
    if partner is None:
        raise invalid(name, "Nobody is named to take over.", AN_ACTIVE_PARTNER)
    usable = partner.is_active and partner.kind == PartnerKind.PARTNER
    if not usable or (leaver is not None and partner.pk == leaver.pk):
        raise invalid(name, f"{partner} cannot take over.", AN_ACTIVE_PARTNER)


def _check_dates(plan: Plan, today: dt.date, applying: bool) -> None:
    if not applying and plan.effective_on < today:
        raise invalid("effective_on", "The effective date is in the past.", f"{today} or later")
    if plan.effective_on > today + MAX_AHEAD:
        raise invalid("effective_on", "Too far ahead.", f"at most {today + MAX_AHEAD}")
    until = plan.origination_until
    if plan.origination == OriginationRule.LEAVER_UNTIL:
        latest = plan.effective_on + MAX_KEEP
        if until is None or until <= plan.effective_on or until > latest:
            raise invalid(
                "origination_until",
                "Say until when origination stays with the leaver.",
                f"a date after {plan.effective_on} and at most {latest}",
            )
    elif until is not None:
        raise invalid(
            "origination_until", "Only the rule 'until a date' takes a date.", "leave it empty"
        )


def _check_clients(plan: Plan) -> None:
    led = dict(Client.objects.filter(lead_partner=plan.leaver).values_list("pk", "name"))
    missing = [name for pk, name in led.items() if pk not in plan.successors]
    if missing:
        raise invalid(
            "clients",
            f"No successor for {', '.join(sorted(missing)[:5])}.",
            "a successor for every client the leaver leads",
        )
    stray = set(plan.successors) - set(led)
    if stray:
        raise invalid(
            "clients", f"Not led by {plan.leaver}: ids {sorted(stray)[:5]}.", "their own clients"
        )
    for partner in plan.successors.values():
        _check_heir("clients", partner, plan.leaver)


def _check_joining(plan: Plan) -> None:
    _check_heir("joining_partner", plan.joining, None)
    if not plan.successors:
        raise invalid("clients", "Name the clients the partner brings.", "one or more clients")
    clients = Client.objects.filter(pk__in=plan.successors).select_related("lead_partner")
    if len(clients) != len(plan.successors):
        raise invalid("clients", "No such client.", "ids of existing clients")
    for client in clients:
        lead = client.lead_partner
        if lead is not None and lead.is_active and lead.pk != plan.joining.pk:  # type: ignore[union-attr]
            raise invalid(
                "clients",
                f"{client} is led by {lead}; hand it over with a succession instead.",
                "clients without an active lead partner",
            )


def _check_practices(plan: Plan, moves: list[Move]) -> None:
    """Whoever receives origination, or a rota seat, works in that contract's or rota's
    practice."""
    skills = set(Skill.objects.values_list("partner_id", "practice_id"))
    for move in moves:
        practice = _practice_of(move)
        if move.to_partner is None or practice is None:
            continue
        if (move.to_partner.pk, practice.pk) not in skills:
            client_id = getattr(move.obj, "client_id", None)
            field_name = "clients" if client_id in plan.successors else "successor"
            if plan.joining is not None:
                field_name = "joining_partner"
            raise invalid(
                field_name,
                f"{move.to_partner} has no skill in {practice}, the practice of {move.label}.",
                f"an active partner of {practice}",
            )


def _practice_of(move: Move):
    if move.kind == MoveKind.ORIGINATION and move.detail != KEPT:
        return move.obj.practice  # type: ignore[attr-defined]
    if move.kind in (MoveKind.ROTA, MoveKind.DUTY):
        rota = move.obj.rota  # type: ignore[attr-defined]
        return rota.practice if rota.practice_id else None
    return None


def check_plan(plan: Plan, *, today: dt.date | None = None, applying: bool = False) -> list[Move]:
    """Refuse a plan that would leave anything without an owner (400 naming the field);
    answer what it moves."""
    today = today or timezone.localdate()
    _check_dates(plan, today, applying)
    if plan.origination not in OriginationRule.values:
        raise invalid("origination", "Unknown rule.", ", ".join(OriginationRule.values))
    if plan.joining is not None:
        if plan.leaver is not None:
            raise invalid("leaver", "A joining has no leaver.", "leave it empty")
        _check_joining(plan)
    else:
        if plan.leaver is None:
            raise invalid("leaver", "Name the partner who leaves.", "a partner's id")
        _check_heir("successor", plan.successor, plan.leaver)
        if not applying:
            _check_clients(plan)
            _check_open(plan)
        else:
            _check_clients_still_theirs(plan)
    moves = moves_of(plan)
    _check_practices(plan, moves)
    return moves


def _check_open(plan: Plan) -> None:
    others = Succession.objects.filter(leaver=plan.leaver, state__in=OPEN_STATES)
    if plan.pk is not None:
        others = others.exclude(pk=plan.pk)
    if others.exists():
        raise invalid("leaver", f"{plan.leaver} already has an open plan.", "cancel it first")


def _check_clients_still_theirs(plan: Plan) -> None:
    """On the day, every heir must still be able to take over (a client the leaver took on
    since the plan goes to the plan's successor)."""
    for partner in plan.successors.values():
        _check_heir("clients", partner, plan.leaver)


# --- what moves -----------------------------------------------------------------------------

KEPT = "stays with the leaver"


def moves_of(plan: Plan) -> list[Move]:
    if plan.joining is not None:
        return _joining_moves(plan)
    return [
        *_lead_moves(plan),
        *_team_moves(plan),
        *_ticket_moves(plan),
        *_rota_moves(plan),
        *_duty_moves(plan),
        *_origination_moves(plan),
    ]


def _lead_moves(plan: Plan) -> list[Move]:
    led = Client.objects.filter(lead_partner=plan.leaver).order_by("name", "pk")
    return [Move(MoveKind.LEAD, c, str(c), plan.leaver, plan.heir(c.pk)) for c in led]


def _team_moves(plan: Plan) -> list[Move]:
    served = Client.objects.filter(team=plan.leaver).order_by("name", "pk")
    return [
        Move(MoveKind.TEAM, c, str(c), plan.leaver, plan.heir(c.pk), "takes the leaver's place")
        for c in served
    ]


def _ticket_moves(plan: Plan) -> list[Move]:
    tickets = (
        Ticket.objects.filter(assignee=plan.leaver, status__in=OPEN)
        .select_related("client")
        .order_by("pk")
    )
    return [
        Move(MoveKind.TICKET, t, str(t)[:250], plan.leaver, plan.heir(t.client_id)) for t in tickets
    ]


def moment_of(day: dt.date, zone: str) -> dt.datetime:
    """The start of ``day`` in ``zone`` (a rota's hand-overs are in its own zone)."""
    return dt.datetime.combine(day, dt.time(0), tzinfo=ZoneInfo(zone))


def _rota_moves(plan: Plan) -> list[Move]:
    seats = RotaMember.objects.filter(partner=plan.leaver).select_related("rota__practice")
    taken = set(RotaMember.objects.filter(partner=plan.successor).values_list("rota_id", flat=True))
    moves = []
    for seat in seats.order_by("rota__name"):
        detail = "already in the rota: the seat is dropped" if seat.rota_id in taken else ""
        moves.append(Move(MoveKind.ROTA, seat, str(seat.rota), plan.leaver, plan.successor, detail))
    return moves


def _duty_moves(plan: Plan) -> list[Move]:
    duties = RotaOverride.objects.filter(partner=plan.leaver).select_related("rota__practice")
    moves = []
    for duty in duties.order_by("starts_at"):
        start = moment_of(plan.effective_on, duty.rota.time_zone)
        if duty.ends_at <= start:
            continue
        label = f"{duty.rota} {duty.starts_at:%Y-%m-%d %H:%M}–{duty.ends_at:%Y-%m-%d %H:%M}"
        detail = f"from {start:%Y-%m-%d %H:%M}" if duty.starts_at < start else ""
        moves.append(Move(MoveKind.DUTY, duty, label, plan.leaver, plan.successor, detail))
    return moves


def _contracts_of(plan: Plan, clients: Q):
    running = Q(ends_on__isnull=True) | Q(ends_on__gte=plan.effective_on)
    return (
        Contract.objects.filter(running)
        .filter(clients)
        .select_related("client", "practice", "originator")
        .order_by("client__name", "name", "pk")
    )


def _origination_moves(plan: Plan) -> list[Move]:
    mine = Q(originator=plan.leaver) | Q(originator__isnull=True, client__lead_partner=plan.leaver)
    moves = []
    for contract in _contracts_of(plan, mine):
        heir = plan.heir(contract.client_id)
        label = f"{contract.name} ({contract.client})"
        if plan.origination == OriginationRule.LEAVER:
            moves.append(
                Move(MoveKind.ORIGINATION, contract, label, plan.leaver, plan.leaver, KEPT)
            )
            continue
        detail = f"from {plan.effective_on}, fading from then"
        if plan.origination == OriginationRule.LEAVER_UNTIL:
            detail = f"{KEPT} until {plan.origination_until}, then passes on"
        moves.append(Move(MoveKind.ORIGINATION, contract, label, plan.leaver, heir, detail))
    return moves


def _joining_moves(plan: Plan) -> list[Move]:
    joiner = plan.joining
    clients = Client.objects.filter(pk__in=plan.successors).select_related("lead_partner")
    moves = [
        Move(MoveKind.LEAD, c, str(c), c.lead_partner, joiner)
        for c in clients.order_by("name", "pk")
        if c.lead_partner_id != joiner.pk  # type: ignore[union-attr]
    ]
    for contract in _contracts_of(plan, Q(client__in=clients)):
        label = f"{contract.name} ({contract.client})"
        detail = f"from {plan.effective_on}"
        moves.append(
            Move(MoveKind.ORIGINATION, contract, label, contract.originator, joiner, detail)
        )
    return moves

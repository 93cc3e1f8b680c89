"""Who is on call: rotas turned into plain plans, then answered for any instant.

A plan holds everything needed to answer "who is on call at T" without the database, so a
feed of sixty days or a week of coverage checks costs one load.
"""

from __future__ import annotations

import datetime as dt
import itertools
import zoneinfo
from dataclasses import dataclass, field

from thirdway.network.models import Absence, Partner, Rota, RotaKind, RotaMember, RotaOverride
from thirdway.network.places import shift_at

STEP = dt.timedelta(minutes=15)
Span = tuple[dt.datetime, dt.datetime]


@dataclass(frozen=True)
class Member:
    partner_id: int
    name: str
    time_zone: str
    working_hours: dict


@dataclass(frozen=True)
class RotaPlan:
    rota_id: int
    name: str
    kind: str
    time_zone: str
    handover: dt.time
    starts_on: dt.date
    members: tuple[Member, ...]
    overrides: tuple[tuple[dt.datetime, dt.datetime, int], ...] = ()
    absences: dict[int, tuple[Span, ...]] = field(default_factory=dict)

    def _away(self, partner_id: int, at: dt.datetime) -> bool:
        return any(start <= at < end for start, end in self.absences.get(partner_id, ()))

    def _turn(self, at: dt.datetime) -> int:
        local = at.astimezone(zoneinfo.ZoneInfo(self.time_zone))
        days = (local.date() - self.starts_on).days - (local.time() < self.handover)
        return days // 7 if self.kind == RotaKind.WEEKLY else days

    def on_call_at(self, at: dt.datetime) -> int | None:
        """The partner id on call at ``at``: an override, else the rota's turn (absent skipped)."""
        for start, end, partner_id in self.overrides:
            if start <= at < end and not self._away(partner_id, at):
                return partner_id
        if not self.members:
            return None
        if self.kind == RotaKind.FOLLOW_THE_SUN:
            order = self.members
        else:
            turn = self._turn(at) % len(self.members)
            order = self.members[turn:] + self.members[:turn]
        for member in order:
            if self._away(member.partner_id, at):
                continue
            if self.kind != RotaKind.FOLLOW_THE_SUN or shift_at(
                member.working_hours, member.time_zone, at
            ):
                return member.partner_id
        return None

    def segments(
        self, start: dt.datetime, end: dt.datetime
    ) -> list[tuple[dt.datetime, dt.datetime, int | None]]:
        """Who is on call over [start, end), as merged (from, to, partner id) stretches.

        Answers are sampled on a 15-minute grid plus every hand-over, override and absence
        edge, so stretches start and end exactly where those do.
        """
        points = {start, end}
        t = start
        while t < end:
            points.add(t)
            t += STEP
        points |= {edge for s, e, _ in self.overrides for edge in (s, e) if start < edge < end}
        for spans in self.absences.values():
            points |= {edge for s, e in spans for edge in (s, e) if start < edge < end}
        ordered = sorted(points)
        out: list[tuple[dt.datetime, dt.datetime, int | None]] = []
        for a, b in itertools.pairwise(ordered):
            who = self.on_call_at(a)
            if out and out[-1][2] == who and out[-1][1] == a:
                out[-1] = (out[-1][0], b, who)
            else:
                out.append((a, b, who))
        return out

    def gaps(self, week_start: dt.datetime) -> list[Span]:
        """Stretches of the week from ``week_start`` that no member's turn or hours cover
        (absences and overrides left out: these are holes in the rota itself)."""
        bare = RotaPlan(
            self.rota_id,
            self.name,
            self.kind,
            self.time_zone,
            self.handover,
            self.starts_on,
            self.members,
        )
        return [
            (a, b)
            for a, b, who in bare.segments(week_start, week_start + dt.timedelta(days=7))
            if who is None
        ]


def plan_of(rota: Rota, start: dt.datetime, end: dt.datetime) -> RotaPlan:
    """Load a rota with its overrides and its members' absences touching [start, end)."""
    return plans_of([rota], start, end)[0]


def plans_of(rotas: list[Rota], start: dt.datetime, end: dt.datetime) -> list[RotaPlan]:
    """Load several rotas at once (members, overrides, absences: three queries in all)."""
    ids = [rota.pk for rota in rotas]
    members: dict[int, list[Member]] = {pk: [] for pk in ids}
    for m in RotaMember.objects.select_related("partner").filter(
        rota_id__in=ids, partner__is_active=True
    ):
        partner = m.partner
        members[m.rota_id].append(
            Member(m.partner_id, partner.name, partner.time_zone, partner.working_hours)
        )
    overrides: dict[int, list[tuple[dt.datetime, dt.datetime, int]]] = {pk: [] for pk in ids}
    for rota_id, s, e, pid in RotaOverride.objects.filter(
        rota_id__in=ids, starts_at__lt=end, ends_at__gt=start
    ).values_list("rota_id", "starts_at", "ends_at", "partner_id"):
        overrides[rota_id].append((s, e, pid))
    people = {m.partner_id for group in members.values() for m in group}
    people |= {pid for group in overrides.values() for _, _, pid in group}
    absences: dict[int, list[Span]] = {}
    for pid, s, e in (
        Absence.objects.overlapping(start, end)
        .filter(partner_id__in=people)
        .values_list("partner_id", "starts_at", "ends_at")
    ):
        absences.setdefault(pid, []).append((s, e))
    return [
        RotaPlan(
            rota.pk,
            rota.name,
            rota.kind,
            rota.time_zone,
            rota.handover_time,
            rota.starts_on,
            tuple(members[rota.pk]),
            tuple(overrides[rota.pk]),
            {
                pid: tuple(absences[pid])
                for pid in _involved(members[rota.pk], overrides[rota.pk])
                if pid in absences
            },
        )
        for rota in rotas
    ]


def _involved(members: list[Member], overrides: list) -> set[int]:
    return {m.partner_id for m in members} | {pid for _, _, pid in overrides}


def rotas_for(practice_id: int | None):
    """The rotas answering for a practice, then the desk rotas as the last resort."""
    rotas = list(Rota.objects.filter(practice_id=practice_id)) if practice_id else []
    return rotas + list(Rota.objects.filter(practice__isnull=True))


def who_is_on_call(practice_id: int | None, at: dt.datetime) -> tuple[Partner | None, Rota | None]:
    """The partner on call for a practice (or the desk, when none) at ``at``, and the rota."""
    for rota in rotas_for(practice_id):
        partner_id = plan_of(rota, at, at + dt.timedelta(seconds=1)).on_call_at(at)
        if partner_id is not None:
            return Partner.objects.get(pk=partner_id), rota
    return None, None


def describe_gaps(gaps: list[Span]) -> list[str]:
    """Readable stretches, e.g. ``Mon 22:00-Tue 06:00 UTC``."""
    return [f"{a:%a %H:%M} to {b:%a %H:%M} UTC" for a, b in gaps]


def monday_of(at: dt.datetime) -> dt.datetime:
    day = at.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day - dt.timedelta(days=day.weekday())

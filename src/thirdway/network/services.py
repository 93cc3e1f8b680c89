"""Every change to practices, partners, skills and absences (the only writers of these models)."""

from __future__ import annotations

import hashlib
import secrets

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.text import slugify

from thirdway.accounts import services as accounts
from thirdway.accounts.models import Role
from thirdway.audit.services import create_and_record, record, update_and_record
from thirdway.errors import require_admin
from thirdway.network.models import (
    Absence,
    OnCallFeed,
    Partner,
    PartnerKind,
    Practice,
    Rota,
    RotaMember,
    RotaOverride,
    Skill,
)

PRACTICE_FIELDS = ["name", "slug", "description", "lead", "auto_dispatch", "move_late"]
PARTNER_FIELDS = [
    "name",
    "email",
    "phone",
    "kind",
    "region",
    "town",
    "latitude",
    "longitude",
    "time_zone",
    "service_radius_km",
    "working_hours",
    "capacity",
    "languages",
    "is_active",
    "deputy",
]
# What partners may change on their own profile; the rest is the practice admin's.
SELF_SERVICE_FIELDS = [
    "phone",
    "town",
    "latitude",
    "longitude",
    "time_zone",
    "service_radius_km",
    "working_hours",
    "languages",
    "deputy",
]
ROLE_OF_KIND = {
    PartnerKind.PARTNER: Role.PARTNER,
    PartnerKind.ASSOCIATE: Role.ASSOCIATE,
    PartnerKind.DESK: Role.DESK,
}


def can_edit_partner(actor, partner: Partner) -> bool:
    return actor.is_practice_admin or partner.user_id == actor.pk


def can_manage_absences(actor, partner: Partner) -> bool:
    return actor.is_practice_admin or partner.user_id == actor.pk


def resolve_partner(field: str, partner_id) -> Partner | None:
    """An active partner by id from a payload, or a ValidationError naming ``field``."""
    if partner_id is None:
        return None
    partner = Partner.objects.filter(pk=partner_id, is_active=True).first()
    if partner is None:
        raise ValidationError(
            {
                field: ValidationError(
                    f"No active partner with id {partner_id}.",
                    params={"allowed": "an active partner's id"},
                )
            }
        )
    return partner


# --- practices ---------------------------------------------------------------------------------


@transaction.atomic
def create_practice(actor, *, source: str, **data) -> Practice:
    require_admin(actor)
    data.setdefault("slug", slugify(data.get("name", "")))
    practice = Practice(**data)
    return create_and_record(
        actor,
        practice,
        fields=PRACTICE_FIELDS,
        action="practice.create",
        source=source,
        scope=lambda saved: f"practice:{saved.pk}",
    )


@transaction.atomic
def update_practice(actor, practice: Practice, data: dict, *, source: str) -> Practice:
    require_admin(actor)
    return update_and_record(
        actor,
        practice,
        data,
        fields=PRACTICE_FIELDS,
        action="practice.update",
        source=source,
        scope=f"practice:{practice.pk}",
    )


# --- partners ----------------------------------------------------------------------------------


@transaction.atomic
def create_partner(
    actor, *, source: str, username: str | None = None, password: str | None = None, **data
) -> Partner:
    """Add a person to the network, with a sign-in account when ``username`` is given."""
    require_admin(actor)
    partner = Partner(**data)
    partner.full_clean()
    if username:
        role = ROLE_OF_KIND[partner.kind]
        partner.user = accounts.create_user(
            actor,
            username=username,
            email=partner.email,
            role=role,
            password=password,
            first_name=partner.name,
            time_zone=partner.time_zone,
            source=source,
        )
    return create_and_record(
        actor,
        partner,
        fields=PARTNER_FIELDS,
        action="partner.create",
        source=source,
        scope=lambda saved: f"partner:{saved.pk}",
    )


@transaction.atomic
def update_partner(actor, partner: Partner, data: dict, *, source: str) -> Partner:
    """Change a profile; a practice admin setting ``is_active`` off also closes the account."""
    if not can_edit_partner(actor, partner):
        raise PermissionDenied("You may change only your own profile.")
    fields = PARTNER_FIELDS if actor.is_practice_admin else SELF_SERVICE_FIELDS
    old_kind = partner.kind
    update_and_record(
        actor,
        partner,
        data,
        fields=fields,
        action="partner.update",
        source=source,
        scope=f"partner:{partner.pk}",
    )
    if partner.kind != old_kind and partner.user and not partner.user.is_practice_admin:
        accounts.set_role(actor, partner.user, ROLE_OF_KIND[partner.kind], source=source)
    if not partner.is_active and partner.user and partner.user.is_active:
        # Someone who left the network no longer signs in, nor do their tokens work.
        accounts.deactivate_user(actor, partner.user, source=source)
    return partner


@transaction.atomic
def set_skill(actor, partner: Partner, practice: Practice, level: int, *, source: str) -> Skill:
    """Give or change a partner's level in a practice (practice admins and the practice lead)."""
    if not (actor.is_practice_admin or _leads(actor, practice)):
        raise PermissionDenied("Only a practice admin or the practice lead may set skills.")
    skill = Skill.objects.filter(partner=partner, practice=practice).first()
    scope = f"partner:{partner.pk}"
    if skill is None:
        skill = Skill(partner=partner, practice=practice, level=level)
        return create_and_record(
            actor,
            skill,
            fields=["practice", "level"],
            action="skill.set",
            source=source,
            scope=scope,
        )
    return update_and_record(
        actor,
        skill,
        {"level": level},
        fields=["level"],
        action="skill.set",
        source=source,
        scope=scope,
    )


def _leads(actor, practice: Practice) -> bool:
    return practice.lead_id is not None and practice.lead.user_id == actor.pk


@transaction.atomic
def remove_skill(actor, skill: Skill, *, source: str) -> None:
    if not (actor.is_practice_admin or _leads(actor, skill.practice)):
        raise PermissionDenied("Only a practice admin or the practice lead may remove skills.")
    record(
        actor,
        "skill.remove",
        skill,
        source=source,
        scope=f"partner:{skill.partner_id}",
        changes={"level": [skill.level, None]},
    )
    skill.delete()


# --- absences ----------------------------------------------------------------------------------


ABSENCE_FIELDS = ["kind", "starts_at", "ends_at", "note", "deputy"]
DEPUTY_ALLOWED = (
    "an active partner other than the one away, not away during the absence, "
    "who shares a practice with them"
)


def _check_absence_period(absence: Absence) -> None:
    """End after start, and no overlap with the partner's other absences."""
    if absence.ends_at <= absence.starts_at:
        raise ValidationError(
            {
                "ends_at": ValidationError(
                    "The absence must end after it starts.",
                    params={"allowed": "a time later than starts_at"},
                )
            }
        )
    others = absence.partner.absences.exclude(pk=absence.pk)
    clash = others.overlapping(absence.starts_at, absence.ends_at).first()
    if clash is not None:
        raise ValidationError(
            {
                "starts_at": ValidationError(
                    "This absence overlaps another one (%(other)s).",
                    params={
                        "other": str(clash),
                        "allowed": "a period that overlaps no other absence",
                    },
                )
            }
        )


def _deputy_of(value) -> Partner | None:
    """The deputy a form (a Partner) or a payload (an id) names; None for none."""
    if value is None or isinstance(value, Partner):
        return value
    return resolve_partner("deputy", value)


def _check_deputy(absence: Absence) -> None:
    """A named deputy is active, someone else, not away then, and in a practice of the
    partner's (when the partner has any)."""
    deputy = absence.deputy
    if deputy is None:
        return
    problem = None
    if deputy.pk == absence.partner_id:
        problem = f"{deputy.name} cannot stand in for themselves."
    elif not deputy.is_active:
        problem = f"{deputy.name} no longer works in the network."
    else:
        away = deputy.absences.overlapping(absence.starts_at, absence.ends_at).first()
        shared = Skill.objects.filter(
            partner=deputy, practice__skills__partner_id=absence.partner_id
        )
        has_practices = Skill.objects.filter(partner_id=absence.partner_id).exists()
        if away is not None:
            problem = f"{deputy.name} is away then too ({away})."
        elif has_practices and not shared.exists():
            problem = f"{deputy.name} shares no practice with {absence.partner.name}."
    if problem:
        raise ValidationError(
            {"deputy": ValidationError(problem, params={"allowed": DEPUTY_ALLOWED})}
        )


def _lock(partner: Partner) -> None:
    """Serialise absence changes of one partner, so two requests cannot both pass the checks."""
    Partner.objects.select_for_update().filter(pk=partner.pk).first()


@transaction.atomic
def add_absence(actor, partner: Partner, *, source: str, **data) -> Absence:
    """Record an absence; one that overlaps another of the same partner is refused."""
    if not can_manage_absences(actor, partner):
        raise PermissionDenied("You may record absences only for yourself.")
    _lock(partner)
    if "deputy" in data:
        data["deputy"] = _deputy_of(data["deputy"])
    absence = Absence(partner=partner, **data)
    absence.full_clean(validate_constraints=False)
    _check_absence_period(absence)
    _check_deputy(absence)
    return create_and_record(
        actor,
        absence,
        fields=ABSENCE_FIELDS,
        action="absence.add",
        source=source,
        scope=f"partner:{partner.pk}",
    )


@transaction.atomic
def update_absence(actor, absence: Absence, data: dict, *, source: str) -> Absence:
    if not can_manage_absences(actor, absence.partner):
        raise PermissionDenied("You may change absences only for yourself.")
    _lock(absence.partner)
    if "deputy" in data:
        data = {**data, "deputy": _deputy_of(data["deputy"])}
    unknown = set(data) - set(ABSENCE_FIELDS)
    candidate = Absence(
        pk=absence.pk,
        partner=absence.partner,
        **{
            name: data.get(name, getattr(absence, name))
            for name in ABSENCE_FIELDS
            if name not in unknown
        },
    )
    # The candidate stands for the saved absence: its own id is not a clash with itself.
    candidate.full_clean(validate_unique=False, validate_constraints=False)
    _check_absence_period(candidate)
    _check_deputy(candidate)
    return update_and_record(
        actor,
        absence,
        data,
        fields=ABSENCE_FIELDS,
        action="absence.update",
        source=source,
        scope=f"partner:{absence.partner_id}",
    )


@transaction.atomic
def cancel_absence(actor, absence: Absence, *, source: str) -> None:
    if not can_manage_absences(actor, absence.partner):
        raise PermissionDenied("You may cancel absences only for yourself.")
    record(
        actor,
        "absence.cancel",
        absence,
        source=source,
        scope=f"partner:{absence.partner_id}",
        changes={"starts_at": [absence.starts_at.isoformat(), None]},
    )
    absence.delete()


# --- on-call rotas -------------------------------------------------------------------------------

ROTA_FIELDS = ["name", "practice", "kind", "time_zone", "handover_time", "starts_on", "covers_24x7"]


def _may_run_rota(actor, practice: Practice | None) -> bool:
    return (
        actor is None
        or actor.is_practice_admin
        or (practice is not None and _leads(actor, practice))
    )


def can_run_rota(actor, practice: Practice | None) -> bool:
    """A practice admin, or the lead of the rota's practice, may change the rota."""
    return actor is not None and _may_run_rota(actor, practice)


def leads_any_practice(actor) -> bool:
    return Practice.objects.filter(lead__user=actor).exists()


def _require_rota_admin(actor, practice: Practice | None) -> None:
    if not _may_run_rota(actor, practice):
        raise PermissionDenied("Only a practice admin or the practice lead may change rotas.")


@transaction.atomic
def create_rota(actor, *, members: list[Partner], source: str, **data) -> Rota:
    """A rota with its members in order (the first is on call from ``starts_on``)."""
    _require_rota_admin(actor, data.get("practice"))
    rota = create_and_record(
        actor, Rota(**data), fields=ROTA_FIELDS, action="rota.create", source=source
    )
    set_rota_members(actor, rota, members, source=source)
    return rota


@transaction.atomic
def update_rota(actor, rota: Rota, data: dict, *, source: str) -> Rota:
    """Change a rota's name, practice, kind, zone, hand-over or start (admin or the lead of
    the practice it belongs to and, when it moves, of the practice it goes to)."""
    _require_rota_admin(actor, rota.practice)
    if "practice" in data:
        _require_rota_admin(actor, data["practice"])
    return update_and_record(
        actor, rota, data, fields=ROTA_FIELDS, action="rota.update", source=source
    )


@transaction.atomic
def set_rota_members(actor, rota: Rota, members: list[Partner], *, source: str) -> None:
    _require_rota_admin(actor, rota.practice)
    if len({m.pk for m in members}) != len(members):
        raise ValidationError(
            {
                "members": ValidationError(
                    "A partner appears twice.", params={"allowed": "each partner once"}
                )
            }
        )
    before = list(rota.memberships.values_list("partner_id", flat=True))
    RotaMember.objects.filter(rota=rota).delete()
    RotaMember.objects.bulk_create(
        RotaMember(rota=rota, partner=partner, position=i) for i, partner in enumerate(members)
    )
    record(
        actor,
        "rota.members",
        rota,
        source=source,
        changes={"members": [before, [m.pk for m in members]]},
    )


@transaction.atomic
def add_override(
    actor, rota: Rota, partner: Partner, *, starts_at, ends_at, reason: str = "", source: str
) -> RotaOverride:
    """Put ``partner`` on call for the rota over a period (a practice admin, the lead, or the
    partner taking the duty themselves)."""
    if not (_may_run_rota(actor, rota.practice) or partner.user_id == actor.pk):
        raise PermissionDenied("You may only take on-call duty yourself.")
    if starts_at and ends_at and ends_at <= starts_at:
        raise ValidationError(
            {
                "ends_at": ValidationError(
                    "The duty must end after it starts.",
                    params={"allowed": "a time later than starts_at"},
                )
            }
        )
    return create_and_record(
        actor,
        RotaOverride(
            rota=rota, partner=partner, starts_at=starts_at, ends_at=ends_at, reason=reason
        ),
        fields=["rota", "partner", "starts_at", "ends_at", "reason"],
        action="rota.override",
        source=source,
    )


@transaction.atomic
def swap_duty(actor, rota: Rota, first: tuple, second: tuple, *, source: str) -> list[RotaOverride]:
    """Two partners exchange duties: ``first = (partner, starts_at, ends_at)`` is covered by the
    second partner and the other way round; recorded as two overrides."""
    (a, a_start, a_end), (b, b_start, b_end) = first, second
    if not (_may_run_rota(actor, rota.practice) or actor.pk in (a.user_id, b.user_id)):
        raise PermissionDenied("Only the partners swapping, the lead or an admin may swap.")
    reason = f"swap between {a} and {b}"
    return [
        add_override(None, rota, b, starts_at=a_start, ends_at=a_end, reason=reason, source=source),
        add_override(None, rota, a, starts_at=b_start, ends_at=b_end, reason=reason, source=source),
    ]


@transaction.atomic
def remove_override(actor, override: RotaOverride, *, source: str) -> None:
    """Take back an override (one half of a swap stays unless removed too)."""
    _require_rota_admin(actor, override.rota.practice)
    record(
        actor,
        "rota.override_remove",
        override.rota,
        source=source,
        changes={
            "override": [
                [override.partner_id, override.starts_at.isoformat(), override.ends_at.isoformat()],
                None,
            ]
        },
    )
    override.delete()


def feed_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def reset_on_call_feed(actor, partner: Partner, *, source: str) -> str:
    """A new secret for the partner's iCal feed; the old address stops working.

    Returns the token, which is shown once: only its digest is stored.
    """
    if not can_edit_partner(actor, partner):
        raise PermissionDenied("You may only reset your own feed.")
    token = secrets.token_urlsafe(32)
    feed, _ = OnCallFeed.objects.update_or_create(
        partner=partner, defaults={"token_digest": feed_digest(token)}
    )
    record(actor, "partner.feed_reset", feed, source=source, scope=f"partner:{partner.pk}")
    return token

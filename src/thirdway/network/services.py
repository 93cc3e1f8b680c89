"""Every change to practices, partners, skills and absences (the only writers of these models)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.text import slugify

from thirdway.accounts import services as accounts
from thirdway.accounts.models import Role
from thirdway.audit.services import create_and_record, record, update_and_record
from thirdway.network.models import Absence, Partner, PartnerKind, Practice, Skill

PRACTICE_FIELDS = ["name", "slug", "description", "lead"]
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
]
ROLE_OF_KIND = {
    PartnerKind.PARTNER: Role.PARTNER,
    PartnerKind.ASSOCIATE: Role.ASSOCIATE,
    PartnerKind.DESK: Role.DESK,
}


def _require_admin(actor) -> None:
    if actor is not None and not actor.is_practice_admin:
        raise PermissionDenied("Only a practice admin may do this.")


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


def visible_partner(actor, field: str, partner_id) -> Partner:
    """A partner the actor may see, by id from a payload, or a ValidationError naming ``field``."""
    partner = Partner.objects.for_user(actor).filter(pk=partner_id).first()
    if partner is None:
        raise ValidationError(
            {
                field: ValidationError(
                    f"No partner with id {partner_id}.",
                    params={"allowed": "the id of a partner you can see"},
                )
            }
        )
    return partner


# --- practices ---------------------------------------------------------------------------------


@transaction.atomic
def create_practice(actor, *, source: str, **data) -> Practice:
    _require_admin(actor)
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
    _require_admin(actor)
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
    _require_admin(actor)
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


ABSENCE_FIELDS = ["kind", "starts_at", "ends_at", "note"]


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


def _lock(partner: Partner) -> None:
    """Serialise absence changes of one partner, so two requests cannot both pass the checks."""
    Partner.objects.select_for_update().filter(pk=partner.pk).first()


@transaction.atomic
def add_absence(actor, partner: Partner, *, source: str, **data) -> Absence:
    """Record an absence; one that overlaps another of the same partner is refused."""
    if not can_manage_absences(actor, partner):
        raise PermissionDenied("You may record absences only for yourself.")
    _lock(partner)
    absence = Absence(partner=partner, **data)
    absence.full_clean(validate_constraints=False)
    _check_absence_period(absence)
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

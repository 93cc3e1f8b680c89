"""The cooperative's people and specialties: practices, partners, skills and absences."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from thirdway.network.access import AbsenceQuerySet, PartnerQuerySet, PracticeQuerySet
from thirdway.network.places import (
    validate_languages,
    validate_latitude,
    validate_longitude,
    validate_time_zone,
    validate_working_hours,
)


class Practice(models.Model):
    """A specialty area of the network (Security, Accounting software, Phones & VoIP...)."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    lead = models.ForeignKey(
        "network.Partner", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    auto_dispatch = models.BooleanField(
        default=False,
        help_text="New tickets of this practice go to the partner the dispatcher ranks first; "
        "otherwise the desk assigns them, with the ranking as a suggestion.",
    )
    move_late = models.BooleanField(
        default=False,
        help_text="A P1 or late ticket nobody has started, whose partner cannot take it now "
        "(off shift, away, at capacity), goes once to the partner the dispatcher ranks first.",
    )

    objects = PracticeQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PartnerKind(models.TextChoices):
    PARTNER = "partner", "Partner"
    ASSOCIATE = "associate", "Associate"
    DESK = "desk", "Desk agent"


class Partner(models.Model):
    """A person of the network: a cooperative member, an associate or a 24/7 desk agent.

    Working hours are weekly intervals in the partner's own time zone,
    ``{"mon": [["09:00", "17:00"]], ...}``.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="partner",
    )
    name = models.CharField(max_length=150)
    email = models.EmailField(unique=True)
    phone = models.CharField(max_length=40, blank=True)
    kind = models.CharField(max_length=20, choices=PartnerKind.choices, default=PartnerKind.PARTNER)
    region = models.CharField(max_length=100, blank=True, db_index=True)
    town = models.CharField(max_length=100, blank=True)
    latitude = models.FloatField(validators=[validate_latitude])
    longitude = models.FloatField(validators=[validate_longitude])
    time_zone = models.CharField(max_length=64, validators=[validate_time_zone])
    service_radius_km = models.PositiveIntegerField(
        default=30, validators=[MaxValueValidator(20000)]
    )
    working_hours = models.JSONField(default=dict, blank=True, validators=[validate_working_hours])
    capacity = models.PositiveIntegerField(
        default=10, validators=[MinValueValidator(0), MaxValueValidator(1000)]
    )
    languages = models.JSONField(default=list, blank=True, validators=[validate_languages])
    is_active = models.BooleanField(default=True)
    deputy = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Takes over open tickets while this partner is away.",
    )
    practices = models.ManyToManyField(Practice, through="Skill", related_name="partners")

    objects = PartnerQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(latitude__gte=-90, latitude__lte=90), name="partner_latitude_range"
            ),
            models.CheckConstraint(
                condition=Q(longitude__gte=-180, longitude__lte=180),
                name="partner_longitude_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Skill(models.Model):
    """How well a partner masters a practice, from 1 (can help) to 5 (the expert)."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="skills")
    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="skills")
    level = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(5)]
    )

    class Meta:
        ordering = ["-level", "practice__name"]
        constraints = [
            models.UniqueConstraint(fields=["partner", "practice"], name="one_skill_per_practice"),
            models.CheckConstraint(condition=Q(level__gte=1, level__lte=5), name="skill_level_1_5"),
        ]

    def __str__(self) -> str:
        return f"{self.practice} {self.level}/5"


class AbsenceKind(models.TextChoices):
    VACATION = "vacation", "Vacation"
    SICK = "sick", "Sick"
    TRAINING = "training", "Training"
    OTHER = "other", "Other"


class Absence(models.Model):
    """A period when a partner does not work; absences of one partner never overlap."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="absences")
    kind = models.CharField(max_length=20, choices=AbsenceKind.choices)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    note = models.CharField(max_length=200, blank=True)
    deputy = models.ForeignKey(
        Partner,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deputising",
        help_text="Who takes the partner's open tickets during this absence; when empty, the "
        "partner's standing deputy, else the partner the dispatcher ranks first per ticket.",
    )

    objects = AbsenceQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="absence_ends_after_start"
            )
        ]
        indexes = [models.Index(fields=["partner", "starts_at", "ends_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.starts_at:%Y-%m-%d}–{self.ends_at:%Y-%m-%d}"


class RotaKind(models.TextChoices):
    DAILY = "daily", "Daily hand-over"
    WEEKLY = "weekly", "Weekly hand-over"
    FOLLOW_THE_SUN = "follow_the_sun", "Follow the sun (members' working hours)"


class Rota(models.Model):
    """Who is on call for a practice (or for the desk when ``practice`` is empty).

    Daily and weekly rotas hand over at ``handover_time`` in ``time_zone``, taking the members
    in order from ``starts_on``; follow-the-sun rotas put on call whichever member is inside
    their own working hours (first in order wins).  Absent members are skipped, overrides win.
    """

    name = models.CharField(max_length=100, unique=True)
    practice = models.ForeignKey(
        Practice, null=True, blank=True, on_delete=models.CASCADE, related_name="rotas"
    )
    kind = models.CharField(max_length=20, choices=RotaKind.choices, default=RotaKind.WEEKLY)
    time_zone = models.CharField(max_length=64, validators=[validate_time_zone])
    handover_time = models.TimeField(default="09:00")
    starts_on = models.DateField()
    covers_24x7 = models.BooleanField(
        default=True, help_text="Warn about hours nobody covers (follow-the-sun rotas)."
    )
    members = models.ManyToManyField(Partner, through="RotaMember", related_name="rotas")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RotaMember(models.Model):
    rota = models.ForeignKey(Rota, on_delete=models.CASCADE, related_name="memberships")
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="rota_memberships")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["rota", "position"]
        constraints = [
            models.UniqueConstraint(fields=["rota", "partner"], name="one_membership_per_rota"),
            models.UniqueConstraint(fields=["rota", "position"], name="one_member_per_position"),
        ]

    def __str__(self) -> str:
        return f"{self.rota} #{self.position} {self.partner}"


class RotaOverride(models.Model):
    """``partner`` is on call for the rota during [starts_at, ends_at); a swap is two of them."""

    rota = models.ForeignKey(Rota, on_delete=models.CASCADE, related_name="overrides")
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="+")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="override_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.partner} {self.starts_at:%Y-%m-%d %H:%M}–{self.ends_at:%Y-%m-%d %H:%M}"


class OnCallFeed(models.Model):
    """The secret address of a partner's on-call calendar; only its SHA-256 digest is kept."""

    partner = models.OneToOneField(Partner, on_delete=models.CASCADE, related_name="on_call_feed")
    token_digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"feed of {self.partner}"

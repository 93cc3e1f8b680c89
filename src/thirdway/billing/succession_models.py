"""Partners leaving and joining: the plan that hands a leaver's clients to successors, and the
record of what moved (``succession.py`` checks and previews a plan, ``succession_apply.py``
applies it).  Imported by ``models.py``; part of the billing app all the same."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class OriginationRule(models.TextChoices):
    """What happens to the origination of the leaver's contracts (the split's first rule)."""

    SUCCESSOR = "successor", "Passes to the successor on the effective date (fading from then)"
    LEAVER = "leaver", "Stays with the leaver, fading as the practice's rules say"
    LEAVER_UNTIL = "leaver_until", "Stays with the leaver until a date, then passes on"


class SuccessionState(models.TextChoices):
    PLANNED = "planned", "Planned"
    SCHEDULED = "scheduled", "Scheduled"
    APPLIED = "applied", "Applied"
    CANCELLED = "cancelled", "Cancelled"


OPEN_STATES = (SuccessionState.PLANNED, SuccessionState.SCHEDULED)


class SuccessionQuerySet(models.QuerySet):
    def for_user(self, user) -> SuccessionQuerySet:
        """A practice admin sees every plan; a partner the plans they leave or succeed in."""
        if not (user.is_authenticated and user.is_active):
            return self.none()
        if user.is_practice_admin:
            return self.all()
        if getattr(user, "partner", None) is None or not user.is_network_staff:
            return self.none()
        mine = (
            Q(leaver__user=user)
            | Q(successor__user=user)
            | Q(clients__successor__user=user)
            | Q(joining_partner__user=user)
        )
        return self.filter(pk__in=self.filter(mine).values("pk"))


class Succession(models.Model):
    """A partner leaving hands their clients to successors from ``effective_on``; or (with
    ``joining_partner``) a partner joining brings clients.

    Each client the leaver leads names its successor (``SuccessionClient``); ``successor``
    takes what belongs to no listed client: the leaver's seats in rotas and on-call duties,
    their place in other clients' teams and those clients' open tickets.
    """

    leaver = models.ForeignKey(
        "network.Partner", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    successor = models.ForeignKey(
        "network.Partner", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    joining_partner = models.ForeignKey(
        "network.Partner", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    effective_on = models.DateField()
    origination = models.CharField(
        max_length=20, choices=OriginationRule.choices, default=OriginationRule.SUCCESSOR
    )
    origination_until = models.DateField(
        null=True, blank=True, help_text="With 'until a date': the day origination passes on."
    )
    note = models.CharField(max_length=200, blank=True)
    state = models.CharField(
        max_length=10, choices=SuccessionState.choices, default=SuccessionState.PLANNED
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    applied_at = models.DateTimeField(null=True, blank=True)
    origination_passed_at = models.DateTimeField(null=True, blank=True)
    problem = models.CharField(
        max_length=500, blank=True, help_text="Why the clock could not apply it on the day."
    )

    objects = SuccessionQuerySet.as_manager()

    class Meta:
        ordering = ["-effective_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["leaver"],
                condition=Q(state__in=["planned", "scheduled"]),
                name="one_open_succession_per_leaver",
            ),
        ]

    def __str__(self) -> str:
        who = self.leaver if self.leaver_id else self.joining_partner
        return f"{'Joining' if self.joining_partner_id else 'Succession'} of {who}"

    @property
    def is_joining(self) -> bool:
        return self.joining_partner_id is not None


class SuccessionClient(models.Model):
    """One client of the leaver and the partner who leads it from the effective date (or, when
    joining, a client the new partner brings)."""

    succession = models.ForeignKey(Succession, on_delete=models.CASCADE, related_name="clients")
    client = models.ForeignKey("clients.Client", on_delete=models.PROTECT, related_name="+")
    successor = models.ForeignKey(
        "network.Partner", on_delete=models.PROTECT, related_name="succeeded_clients"
    )

    class Meta:
        ordering = ["client__name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["succession", "client"], name="one_successor_per_client"
            )
        ]

    def __str__(self) -> str:
        return f"{self.client} → {self.successor}"


class MoveKind(models.TextChoices):
    LEAD = "lead", "Lead partner"
    TEAM = "team", "Team"
    TICKET = "ticket", "Open ticket"
    ROTA = "rota", "Rota seat"
    DUTY = "duty", "On-call duty"
    ORIGINATION = "origination", "Contract origination"


class SuccessionMove(models.Model):
    """What one applied plan moved, from whom to whom, when: the record kept afterwards.  The
    unique (plan, kind, object) claims each move, so nothing moves twice."""

    succession = models.ForeignKey(Succession, on_delete=models.CASCADE, related_name="moves")
    kind = models.CharField(max_length=20, choices=MoveKind.choices)
    object_id = models.PositiveBigIntegerField()
    label = models.CharField(max_length=250)
    from_partner = models.ForeignKey(
        "network.Partner", null=True, on_delete=models.PROTECT, related_name="+"
    )
    to_partner = models.ForeignKey(
        "network.Partner", null=True, on_delete=models.PROTECT, related_name="+"
    )
    detail = models.CharField(max_length=250, blank=True)
    moved_at = models.DateTimeField()

    class Meta:
        ordering = ["kind", "label", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["succession", "kind", "object_id"], name="one_move_per_object"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.label}: {self.from_partner} → {self.to_partner}"

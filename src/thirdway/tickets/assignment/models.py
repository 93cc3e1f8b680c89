"""Who got a ticket and why: hand-overs during absences and the dispatcher's decisions."""

from __future__ import annotations

from django.db import models

from thirdway.accounts.models import Role
from thirdway.tickets.models.ticket import USER, Ticket


class Handover(models.Model):
    """An open ticket handed to a deputy because its partner is away; undone on their return."""

    absence = models.ForeignKey(
        "network.Absence", on_delete=models.CASCADE, related_name="handovers"
    )
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="handovers")
    from_partner = models.ForeignKey("network.Partner", on_delete=models.CASCADE, related_name="+")
    to_partner = models.ForeignKey(
        "network.Partner", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    handed_at = models.DateTimeField(auto_now_add=True)
    returned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["handed_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["absence", "ticket"], name="one_handover_per_absence")
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.from_partner_id} → {self.to_partner_id}"


class DispatchKind(models.TextChoices):
    ARRIVAL = "arrival", "Assigned on arrival"
    REOPTIMISE = "reoptimise", "Assigned with the queue"
    SUGGESTION = "suggestion", "Ranked on request"
    UNASSIGNABLE = "unassignable", "Nobody can take it"
    OVERRIDE = "override", "Assigned by a person instead"
    MOVED = "moved", "Moved to a partner who can take it now"
    OFFERED = "offered", "Offered beyond the partner's limits, awaiting acceptance"
    ACCEPTED = "accepted", "Accepted by the partner"
    DECLINED = "declined", "Declined by the partner"
    EXPIRED = "expired", "Offer not answered in time"
    PREEMPTED = "preempted", "Taken at once, interrupting routine work"
    TAKEN = "taken", "Taken as the most urgent next"
    HELD = "held", "Held: its skill in surge"
    RELEASED = "released", "Assigned when the surge was over"


class DispatchRecord(models.Model):
    """A decision of the dispatcher on a ticket, or a person's override of one.

    ``candidates`` keeps the best few as the engine ranked them (partner, total score, the
    weighted score of each term and the one-line explanation), so *why this partner* can be
    shown later exactly as it was decided.
    """

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="dispatch_records")
    kind = models.CharField(max_length=20, choices=DispatchKind.choices)
    partner = models.ForeignKey(
        "network.Partner", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField(blank=True)
    candidates = models.JSONField(default=list, blank=True)
    rejected_by = models.JSONField(default=dict, blank=True)
    feasible_count = models.PositiveIntegerField(default=0)
    decided_at = models.DateTimeField()

    class Meta:
        ordering = ["-decided_at", "-id"]
        indexes = [models.Index(fields=["ticket", "-decided_at"])]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.kind} → {self.partner_id}"


class WhenFree(models.TextChoices):
    NOTHING = "nothing", "Nothing: they press Take my next ticket"
    OFFER = "offer", "Offer them their next ticket"
    TAKE = "take", "Take their next ticket for them"


class PracticeDispatch(models.Model):
    """A practice's own dispatch weights, over the site-wide ones (THIRDWAY_DISPATCH_WEIGHTS);
    a weight not named here keeps the site-wide value."""

    practice = models.OneToOneField(
        "network.Practice", on_delete=models.CASCADE, related_name="dispatch_settings"
    )
    weights = models.JSONField(default=dict, blank=True)
    offer_timeout_minutes = models.PositiveSmallIntegerField(
        default=15,
        help_text="How long a partner has to accept on-site work beyond their radius or shift.",
    )
    preempt = models.BooleanField(
        default=False,
        help_text="A P1 nobody can start in time may interrupt a partner's running P3 or P4.",
    )
    link_incidents = models.BooleanField(
        default=False,
        help_text="A new ticket that repeats an open one (same client and skill, within 15 "
        "minutes, same site and asset where both name them) is linked under it.",
    )
    when_free = models.CharField(
        max_length=10,
        choices=WhenFree.choices,
        default=WhenFree.NOTHING,
        help_text="When a partner comes free (finishes a ticket, starts a shift, comes back): "
        "nothing, their most urgent next ticket of this practice offered, or taken for them.",
    )
    surge = models.BooleanField(
        default=False,
        help_text="While this skill is in surge (tickets not started outnumber its partners at "
        "work by the ratio), a new P4 is held, not dispatched, until the surge is over.",
    )
    surge_ratio = models.FloatField(
        default=2.0,
        help_text="Tickets not started per partner at work above which the skill is in surge "
        "(1.0 to 10.0).",
    )
    surge_defers_p3 = models.BooleanField(
        default=False, help_text="In a surge, hold new P3 work as well as P4."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            # the bounds of ``switches.NUMBERS``, kept by the database for any other writer
            models.CheckConstraint(
                condition=models.Q(surge_ratio__gte=1.0, surge_ratio__lte=10.0),
                name="surge_ratio_from_1_to_10",
            )
        ]

    def __str__(self) -> str:
        return f"dispatch weights of practice {self.practice_id}"


class FreeTrigger(models.TextChoices):
    RESOLVED = "resolved", "finished a ticket"
    SHIFT = "shift", "started a shift"
    BACK = "back", "came back"


class ComingFree(models.Model):
    """A partner coming free, claimed once: a retried task or a sweep that sees the same
    event again finds this row and does nothing. ``outcome`` says what came of it."""

    partner = models.ForeignKey("network.Partner", on_delete=models.CASCADE, related_name="+")
    trigger = models.CharField(max_length=10, choices=FreeTrigger.choices)
    key = models.CharField(max_length=80)
    outcome = models.CharField(max_length=200, blank=True)
    ticket = models.ForeignKey(
        Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField()

    class Meta:
        ordering = ["-decided_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "trigger", "key"], name="one_coming_free_per_event"
            )
        ]

    def __str__(self) -> str:
        return f"{self.partner_id} {self.trigger} {self.key}: {self.outcome}"


class OfferState(models.TextChoices):
    OPEN = "open", "Awaiting acceptance"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    EXPIRED = "expired", "Not answered in time"


class DispatchOfferQuerySet(models.QuerySet):
    def for_user(self, user) -> DispatchOfferQuerySet:
        """Practice admins and the desk see every offer; a partner or associate the offers
        made to them; nobody else any (deny by default)."""
        from thirdway.tickets.access import SEES_ALL

        if not (user.is_authenticated and user.is_active):
            return self.none()
        if user.role in SEES_ALL:
            return self.all()
        if user.role in (Role.PARTNER, Role.ASSOCIATE):
            return self.filter(partner__user=user)
        return self.none()


class DispatchOffer(models.Model):
    """On-site work offered to a partner beyond their radius or shift, which they accept or
    decline: the dispatcher does not impose a stretch of someone's limits.

    While it is open the ticket stays unassigned and out of the re-planned queue; a decline or
    a timeout dispatches it again without the partner.
    """

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="dispatch_offers")
    partner = models.ForeignKey("network.Partner", on_delete=models.CASCADE, related_name="+")
    record = models.ForeignKey(
        DispatchRecord, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    limits = models.CharField(max_length=40)
    stretched = models.TextField(blank=True)
    why = models.TextField(blank=True)
    state = models.CharField(max_length=10, choices=OfferState.choices, default=OfferState.OPEN)
    offered_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decline_reason = models.CharField(max_length=500, blank=True)

    objects = DispatchOfferQuerySet.as_manager()

    class Meta:
        ordering = ["expires_at", "id"]
        indexes = [models.Index(fields=["state", "expires_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket"],
                condition=models.Q(state="open"),
                name="one_open_dispatch_offer_per_ticket",
            )
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} offered to {self.partner_id} ({self.state})"

    @property
    def limit_names(self) -> list[str]:
        return [name for name in self.limits.split(",") if name]


class IncidentLinkQuerySet(models.QuerySet):
    def for_user(self, user) -> IncidentLinkQuerySet:
        """The links between two tickets the user sees, both of them (nothing for anyone who
        sees no ticket: deny by default, by the tickets' own rule)."""
        visible = Ticket.objects.for_user(user)
        return self.filter(parent__in=visible, child__in=visible)


class IncidentLink(models.Model):
    """A ticket linked under the open ticket it repeats (same client and skill within
    minutes, the same site and asset where both name them: ``dispatch/storms.py``), in a
    practice that links incidents. Only the parent is dispatched; the child is answered when
    the parent is started and resolved with it. Unlinking dispatches the child on its own."""

    parent = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="incident_children")
    child = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="incident_parent")
    why = models.CharField(max_length=300)
    linked_at = models.DateTimeField()

    objects = IncidentLinkQuerySet.as_manager()

    class Meta:
        ordering = ["linked_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(parent=models.F("child")), name="incident_not_its_own_parent"
            )
        ]

    def __str__(self) -> str:
        return f"{self.child_id} under {self.parent_id}"


class HoldEnd(models.TextChoices):
    RELEASED = "released", "Released: the surge is over"
    TAKEN = "taken", "Taken by hand"
    CLOSED = "closed", "No longer waiting: closed, merged or started"


class SurgeHoldQuerySet(models.QuerySet):
    def for_user(self, user) -> SurgeHoldQuerySet:
        """Practice admins and the desk see every hold; a partner the holds of tickets they
        see in the practices they have a skill in; nobody else any (deny by default)."""
        from thirdway.network.models import Skill
        from thirdway.tickets.access import SEES_ALL

        if not (user.is_authenticated and user.is_active):
            return self.none()
        if user.role in SEES_ALL:
            return self.all()
        if user.role != Role.PARTNER:
            return self.none()
        skills = Skill.objects.filter(partner__user=user).values("practice_id")
        return self.filter(practice_id__in=skills, ticket__in=Ticket.objects.for_user(user))


class SurgeHold(models.Model):
    """A routine ticket held back, not dispatched, because it arrived while its skill was in
    surge (``assignment/surge.py``). Open while ``ended_at`` is empty: released in arrival
    order once the surge is over, or ended when someone takes the ticket by hand."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="surge_holds")
    practice = models.ForeignKey("network.Practice", on_delete=models.CASCADE, related_name="+")
    held_at = models.DateTimeField()
    why = models.CharField(max_length=300)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_how = models.CharField(max_length=10, choices=HoldEnd.choices, blank=True)

    objects = SurgeHoldQuerySet.as_manager()

    class Meta:
        ordering = ["held_at", "id"]
        indexes = [models.Index(fields=["ended_at", "practice"])]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket"],
                condition=models.Q(ended_at__isnull=True),
                name="one_open_surge_hold_per_ticket",
            )
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} held ({self.ended_how or 'open'})"

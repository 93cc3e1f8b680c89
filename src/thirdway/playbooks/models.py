"""Playbooks: versioned templates of ordered steps, their runs for clients, and recurring
maintenance schedules.

A template (``Playbook``) has versions; a version is a draft until published, and a published
version never changes: editing it makes a draft of the next number.  A run keeps the version
it started with, and opens a parent ticket with a child ticket per step.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from thirdway.playbooks import branching, engine, library
from thirdway.playbooks.access import (
    PlaybookQuerySet,
    RunQuerySet,
    RunStepQuerySet,
    ScheduleQuerySet,
)


class Evidence(models.TextChoices):
    NONE = engine.NONE, "None"
    CHECKBOX = engine.CHECKBOX, "Checkbox"
    TEXT = engine.TEXT, "Text"
    VALUE = engine.VALUE, "Value (a number)"
    FILE = engine.FILE, "File reference"
    YES_NO = engine.YES_NO, "Yes or no"


class ConditionOperator(models.TextChoices):
    EQUALS = branching.EQUALS, "equals"
    NOT_EQUALS = branching.NOT_EQUALS, "does not equal"
    CONTAINS = branching.CONTAINS, "contains"
    LT = branching.LT, "is less than"
    LTE = branching.LTE, "is at most"
    GT = branching.GT, "is greater than"
    GTE = branching.GTE, "is at least"


class ConditionMatch(models.TextChoices):
    ALL = branching.ALL, "all of them hold (and)"
    ANY = branching.ANY, "any of them holds (or)"


class OwnerRole(models.TextChoices):
    NONE = "", "—"
    PRACTICE_ADMIN = "practice_admin", "Practice admin"
    PARTNER = "partner", "Partner"
    ASSOCIATE = "associate", "Associate"
    DESK = "desk", "Desk agent"


class Playbook(models.Model):
    """A template of a practice, copied from a built-in (``builtin_key``) or written anew."""

    practice = models.ForeignKey(
        "network.Practice", on_delete=models.PROTECT, related_name="playbooks"
    )
    name = models.CharField(max_length=150)
    description = models.TextField(max_length=2000, blank=True)
    builtin_key = models.CharField(max_length=50, blank=True)
    timeline_report = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PlaybookQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name

    @property
    def builtin_name(self) -> str:
        builtin = library.BY_KEY.get(self.builtin_key)
        return builtin.name if builtin else ""

    def published(self) -> PlaybookVersion | None:
        return self.versions.exclude(published_at=None).order_by("-number").first()

    def draft(self) -> PlaybookVersion | None:
        return self.versions.filter(published_at=None).order_by("-number").first()


class PlaybookVersion(models.Model):
    playbook = models.ForeignKey(Playbook, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["playbook", "number"]
        constraints = [
            models.UniqueConstraint(fields=["playbook", "number"], name="one_version_number")
        ]

    def __str__(self) -> str:
        return f"{self.playbook.name} v{self.number}"


class PlaybookStep(models.Model):
    version = models.ForeignKey(PlaybookVersion, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    instructions = models.TextField(max_length=5000, blank=True)
    owner_practice = models.ForeignKey(
        "network.Practice", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    owner_role = models.CharField(max_length=20, choices=OwnerRole.choices, blank=True)
    expected_minutes = models.PositiveIntegerField(
        default=60, validators=[MinValueValidator(1), MaxValueValidator(60 * 24 * 90)]
    )
    evidence = models.CharField(max_length=10, choices=Evidence.choices, default=Evidence.NONE)
    blocking = models.BooleanField(default=False)
    # Applies only when the evidence of the earlier step at ``condition_position`` compares so.
    condition_position = models.PositiveIntegerField(null=True, blank=True)
    condition_operator = models.CharField(
        max_length=12, choices=ConditionOperator.choices, blank=True
    )
    condition_value = models.CharField(max_length=branching.MAX_CONDITION_VALUE, blank=True)
    # Further conditions, ``[{"step": 2, "operator": "gt", "value": "10"}, ...]`` (at most
    # ``MAX_CONDITIONS - 1``), combined with the first one by ``condition_match``.
    more_conditions = models.JSONField(default=list, blank=True)
    condition_match = models.CharField(
        max_length=3, choices=ConditionMatch.choices, default=ConditionMatch.ALL
    )
    # Runs this playbook (of the same practice) as a run of its own; done when that run is.
    subplaybook = models.ForeignKey(
        "playbooks.Playbook",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="used_as_step",
    )

    class Meta:
        ordering = ["version", "position"]
        constraints = [
            models.UniqueConstraint(fields=["version", "position"], name="one_step_per_position")
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def conditions(self) -> list[branching.Condition]:
        """Every condition of the step, the first one first (empty: it always applies)."""
        if self.condition_position is None:
            return []
        first = branching.Condition(
            self.condition_position, self.condition_operator, self.condition_value
        )
        more = [
            branching.Condition(int(c["step"]), str(c["operator"]), str(c["value"]))
            for c in self.more_conditions or []
        ]
        return [first, *more]

    @property
    def condition_positions(self) -> set[int]:
        return {c.position for c in self.conditions}

    @property
    def condition_words(self) -> str:
        """``step 3 equals "yes" and step 4 is greater than "10"`` (empty without one)."""
        words = dict(ConditionOperator.choices)
        said = [
            f'step {c.position} {words.get(c.operator, "?")} "{c.value}"' for c in self.conditions
        ]
        joint = " or " if self.condition_match == branching.ANY else " and "
        return joint.join(said)


class Run(models.Model):
    """One playbook run for a client, on the version it started with."""

    playbook = models.ForeignKey(Playbook, on_delete=models.PROTECT, related_name="runs")
    version = models.ForeignKey(PlaybookVersion, on_delete=models.PROTECT, related_name="runs")
    client = models.ForeignKey("clients.Client", on_delete=models.CASCADE, related_name="runs")
    ticket = models.OneToOneField(
        "tickets.Ticket", on_delete=models.PROTECT, related_name="playbook_run"
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)
    schedule = models.ForeignKey(
        "playbooks.Schedule", null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    # A run started by a step of another run (a sub-playbook); it completes that step.
    parent_step = models.OneToOneField(
        "playbooks.RunStep",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="child_run",
    )
    depth = models.PositiveSmallIntegerField(default=1)

    objects = RunQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.playbook.name} for {self.client.name}"


class RunStep(models.Model):
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="steps")
    step = models.ForeignKey(PlaybookStep, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveIntegerField()
    ticket = models.OneToOneField(
        "tickets.Ticket", on_delete=models.PROTECT, related_name="playbook_step"
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    completed_by_label = models.CharField(max_length=200, blank=True)
    evidence = models.TextField(max_length=engine.MAX_EVIDENCE, blank=True)
    # Settled without work: its condition on an earlier answer was false.
    not_applicable_at = models.DateTimeField(null=True, blank=True)
    # False while a blocking step before it held it from the start: its ticket is dispatched
    # when it becomes workable, not when the run starts.
    dispatched = models.BooleanField(default=True)

    objects = RunStepQuerySet.as_manager()

    class Meta:
        ordering = ["run", "position"]
        constraints = [
            models.UniqueConstraint(fields=["run", "position"], name="one_run_step_per_position")
        ]

    def __str__(self) -> str:
        return self.step.title

    @property
    def settled(self) -> bool:
        """Done, or not applicable: either way it holds no later step."""
        return self.completed_at is not None or self.not_applicable_at is not None


class RunEvent(models.Model):
    """One line of a run's timeline: who did what when (the incident report reads these)."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    actor_label = models.CharField(max_length=200)
    text = models.TextField(max_length=6000)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return self.text[:80]


class ScheduleMakes(models.TextChoices):
    TICKET = "ticket", "A ticket"
    RUN = "run", "A playbook run"


class OnHoliday(models.TextChoices):
    SKIP = "skip", "Skip the occurrence"
    MOVE = "move", "Move it to the next working day"
    IGNORE = "ignore", "Keep it (holidays do not matter)"


class Schedule(models.Model):
    """Recurring maintenance of a client: an RFC 5545 rule that opens a ticket or starts a
    playbook run ``lead_minutes`` ahead of each occurrence."""

    client = models.ForeignKey(
        "clients.Client", on_delete=models.CASCADE, related_name="maintenance_schedules"
    )
    name = models.CharField(max_length=150)
    rule = models.CharField(max_length=500)
    starts_at = models.DateTimeField()
    time_zone = models.CharField(max_length=64)
    lead_minutes = models.PositiveIntegerField(
        default=1440, validators=[MaxValueValidator(60 * 24 * 60)]
    )
    makes = models.CharField(max_length=10, choices=ScheduleMakes.choices)
    playbook = models.ForeignKey(
        Playbook, null=True, blank=True, on_delete=models.PROTECT, related_name="schedules"
    )
    practice = models.ForeignKey(
        "network.Practice", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Optional: the site or asset the maintenance is for (of the same client).
    site = models.ForeignKey(
        "clients.Site", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    asset = models.ForeignKey(
        "clients.Asset", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # What an occurrence on a closed day of the client's calendar (or a public holiday) does.
    on_holiday = models.CharField(max_length=10, choices=OnHoliday.choices, default=OnHoliday.SKIP)
    is_active = models.BooleanField(default=True)
    next_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # ``next_at`` less the lead time: when the sweep makes the next work (None: the rule ended).
    make_at = models.DateTimeField(null=True, blank=True)
    last_slot = models.DateTimeField(null=True, blank=True)
    last_ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScheduleQuerySet.as_manager()

    class Meta:
        ordering = ["client", "name", "pk"]
        indexes = [
            models.Index(
                fields=["make_at"], condition=models.Q(is_active=True), name="schedule_due_idx"
            )
        ]

    def __str__(self) -> str:
        return self.name


class StepReopen(models.Model):
    """A completed step opened again (rework): who, when and why, with when it was done before."""

    run_step = models.ForeignKey(RunStep, on_delete=models.CASCADE, related_name="reopens")
    at = models.DateTimeField()
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField(max_length=1000)
    was_completed_at = models.DateTimeField()
    # Reopened by setting its ticket back to an open status (the desk, the tickets API).
    from_ticket = models.BooleanField(default=False)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return self.reason[:80]


class RunFeedback(models.Model):
    """One person's score (1 to 5) and comment on a completed run; one per person per run."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="feedback")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    person_label = models.CharField(max_length=200)
    score = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    comment = models.TextField(max_length=1000, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["run", "person"], name="one_feedback_per_person"),
            models.CheckConstraint(
                condition=models.Q(score__gte=1, score__lte=5), name="feedback_score_1_to_5"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.score}/5"

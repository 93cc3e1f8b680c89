"""The clock's memory: which periodic job was enqueued for which time slot."""

from django.db import models


class ClockTick(models.Model):
    """One enqueue of a periodic job for one slot (``slot`` = start of the period, UTC).

    The unique constraint is the claim: when several clocks run, only the one whose insert
    succeeds enqueues the job, so nothing runs twice for the same slot.
    """

    job = models.CharField(max_length=100)
    slot = models.DateTimeField()
    enqueued_at = models.DateTimeField(auto_now_add=True)
    task_result_id = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "slot"], name="one_tick_per_slot")]
        indexes = [models.Index(fields=["job", "-slot"])]

    def __str__(self) -> str:
        return f"{self.job} @ {self.slot:%Y-%m-%d %H:%M}"

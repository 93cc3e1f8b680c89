"""What the desk keeps for its own work: saved queue views and canned replies."""

from __future__ import annotations

from django.db import models

from thirdway.tickets.access import CannedReplyQuerySet
from thirdway.tickets.models.ticket import USER


class SavedView(models.Model):
    """A named queue filter a person keeps (the query string of the queue page)."""

    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="saved_views")
    name = models.CharField(max_length=80)
    query = models.CharField(max_length=500)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="one_view_name_per_user")
        ]

    def __str__(self) -> str:
        return self.name


class CannedReply(models.Model):
    """A reply text the desk reuses: shared (for one practice or for all, kept by practice
    admins) or one person's own (``owner``), offered to them only."""

    name = models.CharField(max_length=80)
    body = models.TextField()
    practice = models.ForeignKey(
        "network.Practice", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    owner = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.CASCADE, related_name="canned_replies"
    )

    objects = CannedReplyQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "canned replies"
        constraints = [
            models.UniqueConstraint(
                fields=["name"],
                condition=models.Q(owner__isnull=True),
                name="one_shared_canned_reply_name",
            ),
            models.UniqueConstraint(fields=["owner", "name"], name="one_canned_reply_name_each"),
        ]

    def __str__(self) -> str:
        return self.name

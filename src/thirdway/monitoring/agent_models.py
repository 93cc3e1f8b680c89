"""The agents of the monitoring room: enrolment tokens, the agents themselves, their result
batches and the changes they report on a client's assets.  Imported by ``models.py``: these
models belong to the monitoring app."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from thirdway.monitoring.access import AssetChangeQuerySet, ClientOwnedQuerySet

# --- agents on client machines -----------------------------------------------------------------


class AgentEnrolmentToken(models.Model):
    """A one-time secret a machine presents to enrol as an agent of a client (and a site):
    stored as a SHA-256 digest, shown once, expiring, used once."""

    client = models.ForeignKey(
        "clients.Client", on_delete=models.CASCADE, related_name="agent_enrolment_tokens"
    )
    site = models.ForeignKey("clients.Site", null=True, blank=True, on_delete=models.CASCADE)
    note = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=12)
    digest = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.client})"

    def state_at(self, now) -> str:
        if self.revoked_at:
            return "revoked"
        if self.used_at:
            return "used"
        return "expired" if self.expires_at <= now else "usable"


class Agent(models.Model):
    """One enrolled machine of a client: its secret (a digest), when it was last seen, and
    what it last said about itself (its inventory goes to its asset)."""

    client = models.ForeignKey("clients.Client", on_delete=models.CASCADE, related_name="agents")
    site = models.ForeignKey("clients.Site", null=True, blank=True, on_delete=models.SET_NULL)
    asset = models.ForeignKey(
        "clients.Asset", null=True, blank=True, on_delete=models.SET_NULL, related_name="agents"
    )
    hostname = models.CharField(max_length=255)
    os_name = models.CharField(max_length=100, blank=True)
    os_version = models.CharField(max_length=100, blank=True)
    agent_version = models.CharField(max_length=40, blank=True)
    prefix = models.CharField(max_length=12)
    digest = models.CharField(max_length=64, unique=True)
    enrolled_at = models.DateTimeField(auto_now_add=True)
    enrolled_with = models.ForeignKey(
        AgentEnrolmentToken, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_seen_at = models.DateTimeField(null=True, blank=True)
    last_skew_seconds = models.FloatField(null=True, blank=True)
    # What the agent last said of its buffer: results waiting, and dropped since it enrolled.
    results_buffered = models.PositiveIntegerField(default=0)
    results_dropped = models.PositiveIntegerField(default=0)
    inventory = models.JSONField(default=dict, blank=True)
    inventory_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["hostname", "id"]

    def __str__(self) -> str:
        return self.hostname


class AgentBatch(models.Model):
    """A results batch an agent delivered, by the id the agent gave it: a batch sent again
    (its answer was lost) is recognised and acknowledged without storing anything twice."""

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="batches")
    batch_id = models.CharField(max_length=64)
    received_at = models.DateTimeField(auto_now_add=True)
    accepted = models.PositiveIntegerField(default=0)
    refused = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agent", "batch_id"], name="one_batch_per_agent_id")
        ]

    def __str__(self) -> str:
        return f"{self.agent} batch {self.batch_id}"


class AssetChange(models.Model):
    """What an agent's inventory changed on an asset, and when."""

    asset = models.ForeignKey(
        "clients.Asset", on_delete=models.CASCADE, related_name="inventory_changes"
    )
    agent = models.ForeignKey(Agent, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField()
    field = models.CharField(max_length=50)
    before = models.TextField(blank=True)
    after = models.TextField(blank=True)

    objects = AssetChangeQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.field} of {self.asset_id} at {self.at:%Y-%m-%d %H:%M}"

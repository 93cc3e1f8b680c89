"""The script library of the monitoring room: scripts per practice, their versions (each with
its SHA-256) and every run an agent reported.  Imported by ``monitoring/models.py``."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from thirdway.monitoring.access import ScriptQuerySet
from thirdway.monitoring.models import Agent, Check, CheckStatus


class Interpreter(models.TextChoices):
    SH = "sh", "sh"
    BASH = "bash", "bash"
    PYTHON3 = "python3", "python3"


class Script(models.Model):
    """A script of a practice's library, run by agents for script checks.  Its body lives in
    its versions: editing it makes a new version, and the old ones stay."""

    practice = models.ForeignKey(
        "network.Practice", on_delete=models.CASCADE, related_name="scripts"
    )
    name = models.CharField(max_length=150)
    description = models.CharField(max_length=500, blank=True)
    interpreter = models.CharField(max_length=10, choices=Interpreter.choices)
    timeout_seconds = models.PositiveSmallIntegerField(
        default=30, validators=[MinValueValidator(1), MaxValueValidator(300)]
    )
    current = models.ForeignKey(
        "monitoring.ScriptVersion",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScriptQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "name"], name="one_script_name_per_practice"
            )
        ]

    def __str__(self) -> str:
        return self.name


class ScriptVersion(models.Model):
    """One body of a script, numbered from 1, with the SHA-256 of its bytes (UTF-8)."""

    script = models.ForeignKey(Script, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    interpreter = models.CharField(max_length=10, choices=Interpreter.choices)
    timeout_seconds = models.PositiveSmallIntegerField()
    body = models.TextField()
    sha256 = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["script", "number"], name="one_script_version_number")
        ]

    def __str__(self) -> str:
        return f"{self.script} v{self.number}"


class ScriptRun(models.Model):
    """One run of a script by an agent, as the agent reported it: what ran (its version and the
    hash of the body), for which check on which agent, who asked, and what came of it."""

    script = models.ForeignKey(Script, on_delete=models.CASCADE, related_name="runs")
    version = models.ForeignKey(
        ScriptVersion, null=True, on_delete=models.SET_NULL, related_name="runs"
    )
    sha256 = models.CharField(max_length=64)
    check_obj = models.ForeignKey(
        Check,
        null=True,
        on_delete=models.SET_NULL,
        related_name="script_runs",
        db_column="check_id",
    )
    agent = models.ForeignKey(Agent, null=True, on_delete=models.SET_NULL, related_name="+")
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=10, choices=CheckStatus.choices)
    exit_code = models.IntegerField(null=True, blank=True)
    output = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    collected_at = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-collected_at", "-id"]
        indexes = [models.Index(fields=["script", "-collected_at"], name="script_run_time")]

    def __str__(self) -> str:
        return f"{self.script} at {self.collected_at:%Y-%m-%d %H:%M}"

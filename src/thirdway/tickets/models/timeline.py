"""A ticket's timeline: replies, notes and system events, and the files on them."""

from __future__ import annotations

from django.db import models

from thirdway.tickets.access import ArticleQuerySet, AttachmentQuerySet
from thirdway.tickets.models.ticket import USER, Channel, Ticket


class ArticleKind(models.TextChoices):
    REPLY = "reply", "Public reply"
    NOTE = "note", "Internal note"
    EVENT = "event", "System event"


class WorkType(models.TextChoices):
    """What the time on a reply or note was spent on (billing rates differ by kind)."""

    REMOTE = "remote", "Remote work"
    ONSITE = "onsite", "On-site work"
    TRAVEL = "travel", "Travel"


class Article(models.Model):
    """One entry on a ticket's timeline: a public reply, an internal note or a system event."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="articles")
    kind = models.CharField(max_length=10, choices=ArticleKind.choices)
    author = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_label = models.CharField(max_length=200)
    body_html = models.TextField(blank=True, help_text="Sanitised HTML.")
    body_text = models.TextField(blank=True)
    event = models.CharField(max_length=50, blank=True)
    data = models.JSONField(default=dict, blank=True)
    time_spent_minutes = models.PositiveIntegerField(default=0)
    work_type = models.CharField(max_length=10, choices=WorkType.choices, default=WorkType.REMOTE)
    billable = models.BooleanField(default=True)
    channel = models.CharField(max_length=20, choices=Channel.choices, default=Channel.WEB)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.ticket_id}"

    @property
    def is_public(self) -> bool:
        return self.kind == ArticleKind.REPLY


def attachment_path(instance: Attachment, filename: str) -> str:
    return f"attachments/{instance.sha256[:2]}/{instance.sha256}"


class Attachment(models.Model):
    """A file on an article; stored once per content and served only to who sees the ticket."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="attachments")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=200)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AttachmentQuerySet.as_manager()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.filename

"""The e-mail channel: mailboxes, every message received (raw first), threading references,
client domains, notification templates and the outbox."""

from __future__ import annotations

from django.db import models, transaction
from django.db.models import Q

from thirdway.mail.access import (
    InboundQuerySet,
    MailboxQuerySet,
    OutboundQuerySet,
)


class AfterFetch(models.TextChoices):
    DELETE = "delete", "Delete from the server"
    MARK_SEEN = "mark_seen", "Mark as seen"


class Mailbox(models.Model):
    """An address the desk receives mail at: polled over IMAP, or fed by a pipe or the API.

    New tickets from a mailbox go to its practice; ``default_client`` (for an address given to
    one client) takes senders no client claims instead of sending them to triage.
    """

    name = models.SlugField(max_length=50, unique=True)
    address = models.EmailField(help_text="Replies go to this address (Reply-To).")
    practice = models.ForeignKey(
        "network.Practice", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    default_client = models.ForeignKey(
        "clients.Client", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    imap_host = models.CharField(max_length=200, blank=True, help_text="Empty: no polling.")
    imap_port = models.PositiveIntegerField(default=993)
    imap_ssl = models.BooleanField(default=True)
    imap_user = models.CharField(max_length=200, blank=True)
    # Sealed under the network's data key (docs/vault.md), bound to this row and field;
    # read and set through ``imap_password``.
    imap_password_sealed = models.TextField(blank=True)
    imap_password_key_version = models.PositiveIntegerField(default=0)
    imap_folder = models.CharField(max_length=200, default="INBOX")
    after_fetch = models.CharField(
        max_length=20, choices=AfterFetch.choices, default=AfterFetch.DELETE
    )
    is_active = models.BooleanField(default=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_poll_error = models.TextField(blank=True)

    objects = MailboxQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "mailboxes"

    def __str__(self) -> str:
        return f"{self.name} <{self.address}>"

    def save(self, *args, **kwargs) -> None:
        """A staged password is sealed once the row has its id, in the same transaction: a
        closed vault saves nothing."""
        pending = getattr(self, "_new_imap_password", None)
        if pending is None:
            super().save(*args, **kwargs)
            return
        with transaction.atomic():
            super().save(*args, **kwargs)
            version, sealed = 0, ""
            if pending:
                from thirdway.vault.keyring import seal_network_secret

                version, sealed = seal_network_secret(
                    self.sealed_record(self.pk), "imap_password", pending
                )
            Mailbox.objects.filter(pk=self.pk).update(
                imap_password_sealed=sealed, imap_password_key_version=version
            )
        self.imap_password_sealed, self.imap_password_key_version = sealed, version
        del self._new_imap_password

    @property
    def has_imap_password(self) -> bool:
        return bool(self.imap_password_sealed) or bool(getattr(self, "_new_imap_password", ""))

    @property
    def imap_password(self) -> str:
        """The IMAP password, opened from the vault (``VaultError`` when it cannot be)."""
        pending = getattr(self, "_new_imap_password", None)
        if pending is not None:
            return pending
        if not self.imap_password_sealed:
            return ""
        from thirdway.vault.keyring import open_network_secret

        return open_network_secret(
            self.sealed_record(self.pk),
            "imap_password",
            self.imap_password_key_version,
            self.imap_password_sealed,
        )

    @imap_password.setter
    def imap_password(self, value: str) -> None:
        """Staged, and sealed when the mailbox is saved (the seal names the row's id)."""
        self._new_imap_password = value

    @staticmethod
    def sealed_record(pk) -> str:
        return f"mail.mailbox:{pk}"


class InboundSource(models.TextChoices):
    IMAP = "imap", "IMAP"
    PIPE = "pipe", "Pipe"
    HTTP = "http", "HTTP"


class InboundStatus(models.TextChoices):
    RECEIVED = "received", "Received, not processed"
    TICKET = "ticket", "Opened a ticket"
    ARTICLE = "article", "Added to a ticket"
    BOUNCE = "bounce", "Delivery report noted"
    UNKNOWN_CLIENT = "unknown_client", "Unknown client (triage)"
    QUARANTINED = "quarantined", "Quarantined"


class InboundMessage(models.Model):
    """One message as it arrived: raw bytes kept before anything is parsed.

    ``message_key`` (SHA-256 of the Message-ID, or of the bytes when there is none) is unique
    per mailbox, so the same message fetched or piped twice is one row and one article.
    """

    mailbox = models.ForeignKey(
        Mailbox, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    mailbox_name = models.CharField(max_length=50, blank=True)
    source = models.CharField(max_length=10, choices=InboundSource.choices)
    message_key = models.CharField(max_length=64)
    message_id = models.CharField(max_length=998, blank=True)
    raw = models.BinaryField()
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    status = models.CharField(
        max_length=20, choices=InboundStatus.choices, default=InboundStatus.RECEIVED
    )
    reason = models.TextField(blank=True, help_text="Why it was quarantined or not processed.")
    from_address = models.CharField(max_length=320, blank=True)
    subject = models.CharField(max_length=250, blank=True)
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    article = models.ForeignKey(
        "tickets.Article", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    objects = InboundQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["status", "received_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["mailbox_name", "message_key"], name="one_message_per_mailbox"
            )
        ]

    def __str__(self) -> str:
        return f"{self.message_id or self.sha256[:12]} ({self.status})"


class ThreadReference(models.Model):
    """A Message-ID we received or sent, and the ticket it belongs to (for In-Reply-To and
    References)."""

    message_key = models.CharField(max_length=64, unique=True)
    message_id = models.CharField(max_length=998)
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.message_id


class ClientDomain(models.Model):
    """A mail domain that belongs to a client: unknown senders there become its contacts."""

    domain = models.CharField(max_length=253, unique=True)
    # Named so the clients room can ask who owns a domain without importing this room.
    client = models.ForeignKey(
        "clients.Client", on_delete=models.CASCADE, related_name="mail_domains"
    )

    class Meta:
        ordering = ["domain"]

    def __str__(self) -> str:
        return self.domain


class BouncingAddress(models.Model):
    """An address a delivery report said we cannot reach."""

    address = models.CharField(max_length=320, unique=True)
    bounces = models.PositiveIntegerField(default=1)
    last_status = models.CharField(max_length=20, blank=True)
    last_diagnostic = models.TextField(blank=True)
    last_bounced_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.address


class NotificationKind(models.TextChoices):
    RECEIVED = "received", "Request received"
    REPLY = "reply", "Reply from the desk"
    STATUS = "status", "Status changed"
    RESOLVED = "resolved", "Resolved"
    NOTICE = "notice", "Notification to the network"


class MailTemplate(models.Model):
    """A practice's wording of one notification (Django template syntax); without one the
    built-in wording is used."""

    practice = models.ForeignKey(
        "network.Practice", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=NotificationKind.choices)
    subject = models.CharField(max_length=250)
    body = models.TextField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "kind"], name="one_template_per_practice_kind"
            ),
            models.UniqueConstraint(
                fields=["kind"], condition=Q(practice__isnull=True), name="one_default_template"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} ({self.practice or 'all practices'})"


class OutboundStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    RETRYING = "retrying", "Retrying"
    FAILED = "failed", "Failed"
    SUPPRESSED = "suppressed", "Not sent"


class OutboundMessage(models.Model):
    """One notification in the outbox: rendered once, sent by the worker, retried with backoff.

    ``dedupe_key`` (event, article, recipient) makes a repeated event one message.
    """

    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=NotificationKind.choices)
    dedupe_key = models.CharField(max_length=200, unique=True)
    to_address = models.CharField(max_length=320, db_index=True)
    subject = models.CharField(max_length=400)
    message_id = models.CharField(max_length=300)
    raw = models.BinaryField()
    automatic = models.BooleanField(default=True)
    status = models.CharField(
        max_length=20, choices=OutboundStatus.choices, default=OutboundStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True, help_text="The server's answer, as it gave it.")
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    objects = OutboundQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["to_address", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.to_address} ({self.status})"

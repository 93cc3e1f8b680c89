"""The vault's tables: client data keys, credentials and who revealed them, documentation pages
with their versions, and the expirations register with the reminders it sent."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from thirdway.vault.access import (
    CredentialQuerySet,
    DocumentQuerySet,
    ExpiryItemQuerySet,
)
from thirdway.vault.reminders import DEFAULT_STEPS, format_steps


class ClientKey(models.Model):
    """A client's data key, wrapped by a master key (named by its id, never stored).

    The newest version seals new values; older versions stay until no record uses them
    (``thirdway keys rotate``)."""

    client = models.ForeignKey("clients.Client", on_delete=models.CASCADE, related_name="+")
    version = models.PositiveIntegerField()
    master_key_id = models.CharField(max_length=16)
    wrapped = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint("client", "version", name="vault_client_key_version_unique")
        ]

    def __str__(self) -> str:
        return f"data key {self.version} of client {self.client_id}"


class Credential(models.Model):
    """A password (and its username, address, notes, TOTP seed) the practice keeps for a client.

    The secret, the notes and the TOTP seed are sealed under the client's data key version
    ``key_version``; the name, username and address stay readable for lists and search."""

    client = models.ForeignKey("clients.Client", on_delete=models.CASCADE, related_name="+")
    site = models.ForeignKey(
        "clients.Site", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    asset = models.ForeignKey(
        "clients.Asset", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    name = models.CharField(max_length=150)
    username = models.CharField(max_length=200, blank=True)
    url = models.CharField("address", max_length=500, blank=True)
    secret_sealed = models.TextField(blank=True)
    notes_sealed = models.TextField(blank=True)
    totp_sealed = models.TextField(blank=True)
    key_version = models.PositiveIntegerField(default=0)
    shared_with_client_admins = models.BooleanField(
        default=False, help_text="The client's admins may see and reveal it."
    )
    secret_changed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CredentialQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def has_totp(self) -> bool:
        return bool(self.totp_sealed)


class CredentialAccess(models.Model):
    """One reveal of a credential: who, when and why (the audit trail has it too)."""

    credential = models.ForeignKey(Credential, on_delete=models.CASCADE, related_name="accesses")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    reason = models.CharField(max_length=250)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"reveal of credential {self.credential_id} by user {self.user_id}"


class DocumentKind(models.TextChoices):
    PAGE = "page", "Page"
    FIREWALL = "firewall", "Firewall"
    WIFI = "wifi", "Wi-Fi"
    M365 = "m365", "Microsoft 365 tenant"
    APPLICATION = "application", "Line-of-business application"
    BACKUP = "backup", "Backup"


class Visibility(models.TextChoices):
    NETWORK = "network", "The network only"
    CLIENT_ADMINS = "client_admins", "Also the client's admins"
    CLIENT_CONTACTS = "client_contacts", "Also all the client's contacts"


class Document(models.Model):
    """A documentation page of a client, in Markdown; every save keeps a version."""

    client = models.ForeignKey("clients.Client", on_delete=models.CASCADE, related_name="+")
    site = models.ForeignKey(
        "clients.Site", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    asset = models.ForeignKey(
        "clients.Asset", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=DocumentKind.choices, default=DocumentKind.PAGE)
    visibility = models.CharField(
        max_length=20, choices=Visibility.choices, default=Visibility.NETWORK
    )
    body = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    MAX_BODY = 200_000

    objects = DocumentQuerySet.as_manager()

    class Meta:
        ordering = ["title", "id"]

    def __str__(self) -> str:
        return self.title


class DocumentVersion(models.Model):
    """A page as it was saved: its number, title, text, author and time."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint("document", "number", name="vault_document_version_unique")
        ]

    def __str__(self) -> str:
        return f"version {self.number} of page {self.document_id}"


class ExpiryKind(models.TextChoices):
    DOMAIN = "domain", "Domain"
    CERTIFICATE = "certificate", "TLS certificate"
    LICENCE = "licence", "Licence"
    WARRANTY = "warranty", "Warranty"
    CONTRACT = "contract", "Contract"
    OTHER = "other", "Other"


class ExpiryItem(models.Model):
    """Something of a client that expires; reminders open a ticket at each step before."""

    client = models.ForeignKey("clients.Client", on_delete=models.CASCADE, related_name="+")
    site = models.ForeignKey(
        "clients.Site", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    asset = models.ForeignKey(
        "clients.Asset", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=ExpiryKind.choices)
    name = models.CharField(max_length=200)
    expires_on = models.DateField()
    reminder_steps = models.CharField(
        max_length=60,
        default=format_steps(DEFAULT_STEPS),
        help_text="Days before the expiry date, e.g. 60,30,14,7,1.",
    )
    notes = models.TextField(blank=True)
    acknowledged_for = models.DateField(
        null=True, blank=True, help_text="The expiry date someone acknowledged: no more reminders."
    )
    snoozed_until = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ExpiryItemQuerySet.as_manager()

    class Meta:
        ordering = ["expires_on", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.name}"

    @property
    def acknowledged(self) -> bool:
        return self.acknowledged_for == self.expires_on


class ExpiryReminder(models.Model):
    """A reminder step sent for one expiry date of an item (unique: sent once)."""

    item = models.ForeignKey(ExpiryItem, on_delete=models.CASCADE, related_name="reminders")
    expires_on = models.DateField()
    step_days = models.PositiveIntegerField()
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                "item", "expires_on", "step_days", name="vault_expiry_reminder_once"
            )
        ]

    def __str__(self) -> str:
        return f"reminder {self.step_days} days before {self.expires_on} of item {self.item_id}"

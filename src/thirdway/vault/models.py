"""The vault's tables: client data keys and the network's, credentials and who revealed them,
documentation pages with their versions, and the expirations register with the reminders it sent."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from thirdway.vault.access import (
    CredentialQuerySet,
    DocumentQuerySet,
    ExpiryItemQuerySet,
)
from thirdway.vault.file_access import FolderQuerySet, StoredFileQuerySet
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


class NetworkKey(models.Model):
    """The network's data key, wrapped by a master key: it seals secrets that belong to no
    client, such as the IMAP passwords of the desk's mailboxes (configured by administrators
    for the whole network, and a mailbox's practice may be empty or change)."""

    version = models.PositiveIntegerField(unique=True)
    master_key_id = models.CharField(max_length=16)
    wrapped = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"network data key {self.version}"


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


class RotationReminder(models.Model):
    """The ticket that asks a client's practice to change the secrets a person revealed, opened
    once when that person lost access (unique per person and client)."""

    client = models.ForeignKey("clients.Client", on_delete=models.CASCADE, related_name="+")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    credential_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint("client", "person", name="vault_rotation_reminder_once")
        ]

    def __str__(self) -> str:
        return f"rotation reminder for user {self.person_id} at client {self.client_id}"


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
    FILE = "file", "File"
    OTHER = "other", "Other"


class RdapState(models.TextChoices):
    """What the registry's RDAP said of a domain's expiry date at the last check."""

    NOT_CHECKED = "", "Not checked"
    FOUND = "found", "Date from the registry"
    UNKNOWN = "unknown", "Unknown — enter by hand"
    FAILED = "failed", "Check failed"


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
    rdap_state = models.CharField(max_length=10, choices=RdapState.choices, default="", blank=True)
    rdap_checked_at = models.DateTimeField(null=True, blank=True)
    rdap_message = models.CharField(max_length=300, blank=True)
    # A TLS certificate monitoring reads: its host:port (one item per client and endpoint),
    # whose it is and who issued it, and when a check last read it.
    endpoint = models.CharField(max_length=270, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    issuer = models.CharField(max_length=300, blank=True)
    seen_at = models.DateTimeField(null=True, blank=True)

    objects = ExpiryItemQuerySet.as_manager()

    class Meta:
        ordering = ["expires_on", "id"]
        constraints = [
            models.UniqueConstraint(
                "client",
                "endpoint",
                condition=~models.Q(endpoint=""),
                name="vault_expiry_endpoint_unique",
            )
        ]

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


# --- files -------------------------------------------------------------------------------------


class Audience(models.TextChoices):
    """Who a folder's grant speaks to (docs/vault.md, "Files: who may read and write")."""

    PRACTICE = "practice", "The practice (admins, desk, associates)"
    PARTNER = "partner", "Partners"
    CLIENT_ADMIN = "client_admin", "The client's admins"
    CLIENT_USER = "client_user", "The client's users"


class Access(models.TextChoices):
    NONE = "none", "No access"
    READ = "read", "Read"
    WRITE = "write", "Read and write"


class FileQuota(models.Model):
    """How many bytes a client's files may hold and hold now.  ``used_bytes`` only moves through
    one conditional UPDATE (``services.files.reserve``), so parallel writers never overrun it."""

    client = models.OneToOneField(
        "clients.Client", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    limit_bytes = models.BigIntegerField()
    used_bytes = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(used_bytes__gte=0), name="vault_quota_used_not_negative"
            )
        ]

    def __str__(self) -> str:
        return f"quota of client {self.client_id}"


class Folder(models.Model):
    """A folder of a client's files; the folder without a parent is the client's root.

    A folder in the trash takes everything under it along (each subfolder carries the same
    ``deleted_at``); its files keep their own state and keep counting in the quota."""

    client = models.ForeignKey("clients.Client", on_delete=models.CASCADE, related_name="+")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    name = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)
    # An optional limit on the bytes under this folder (its subfolders included, every
    # version and the trash counted, like the quota); ``used_bytes`` is kept only while a
    # limit is set, reserved by the same conditional UPDATEs as the client's quota.
    limit_bytes = models.BigIntegerField(null=True, blank=True)
    used_bytes = models.BigIntegerField(default=0)
    deleted_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="In the trash (with everything under it) since then; its files still count.",
    )

    objects = FolderQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                "parent",
                "name",
                condition=models.Q(deleted_at=None),
                name="vault_folder_name_unique_live",
            ),
            models.UniqueConstraint(
                "client", condition=models.Q(parent=None), name="vault_folder_one_root"
            ),
        ]

    def __str__(self) -> str:
        return self.name or "/"


class FolderGrant(models.Model):
    """An explicit grant of a folder to an audience; subfolders inherit it until a nearer
    grant for the same audience says otherwise."""

    folder = models.ForeignKey(Folder, on_delete=models.CASCADE, related_name="grants")
    audience = models.CharField(max_length=20, choices=Audience.choices)
    access = models.CharField(max_length=10, choices=Access.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint("folder", "audience", name="vault_folder_grant_unique")
        ]

    def __str__(self) -> str:
        return f"{self.audience} {self.access} on folder {self.folder_id}"


class StoredFile(models.Model):
    """A file in a folder; its bytes are its versions (the newest is current).

    After ``expires_on`` it leaves the ordinary lists and is archived; deleted files wait in
    the trash (still counted in the quota) until purged."""

    client = models.ForeignKey("clients.Client", on_delete=models.CASCADE, related_name="+")
    folder = models.ForeignKey(Folder, on_delete=models.CASCADE, related_name="files")
    name = models.CharField(max_length=255)
    size = models.BigIntegerField(default=0)
    content_type = models.CharField(max_length=100, blank=True)
    version = models.PositiveIntegerField(default=0)
    expires_on = models.DateField(null=True, blank=True)
    expiry = models.OneToOneField(
        ExpiryItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="stored_file"
    )
    archived_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = StoredFileQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                "folder",
                "name",
                condition=models.Q(deleted_at=None),
                name="vault_file_name_unique",
            )
        ]

    def __str__(self) -> str:
        return self.name


class FileVersion(models.Model):
    """The bytes of one version of a file, kept under a key the server made."""

    file = models.ForeignKey(StoredFile, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    storage_key = models.CharField(max_length=100, unique=True)
    size = models.BigIntegerField()
    content_type = models.CharField(max_length=100)
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Stored while the virus scanner was unreachable (the "store unscanned" setting): the
    # clock's job scans it once the scanner answers again.
    scan_pending = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        constraints = [models.UniqueConstraint("file", "number", name="vault_file_version_unique")]

    def __str__(self) -> str:
        return f"version {self.number} of file {self.file_id}"


class FileNote(models.Model):
    """A note on a folder or on a file (one of the two)."""

    client = models.ForeignKey("clients.Client", on_delete=models.CASCADE, related_name="+")
    folder = models.ForeignKey(
        Folder, null=True, blank=True, on_delete=models.CASCADE, related_name="notes"
    )
    file = models.ForeignKey(
        StoredFile, null=True, blank=True, on_delete=models.CASCADE, related_name="notes"
    )
    body = models.TextField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    MAX_BODY = 5000

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(folder__isnull=True) ^ models.Q(file__isnull=True),
                name="vault_note_on_folder_or_file",
            )
        ]

    def __str__(self) -> str:
        return f"note {self.pk}"


class ExpiryFeed(models.Model):
    """The secret address of a person's iCal feed of expirations: of one client, or (no client)
    of every client they see.  Only the token's SHA-256 digest is kept; the feed shows what its
    owner may see at the moment it is read."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="expiry_feeds"
    )
    client = models.ForeignKey(
        "clients.Client", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    token_digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["client_id", "id"]
        constraints = [
            models.UniqueConstraint(
                "user",
                "client",
                condition=models.Q(client__isnull=False),
                name="vault_expiry_feed_one_per_client",
            ),
            models.UniqueConstraint(
                "user",
                condition=models.Q(client__isnull=True),
                name="vault_expiry_feed_one_network_wide",
            ),
        ]

    def __str__(self) -> str:
        return f"expirations feed {self.pk} of user {self.user_id}"


class UnscannedFiles(models.TextChoices):
    REFUSE = "refuse", "Refuse the file (nothing is stored; the uploader is told to try later)"
    STORE = "store", "Store it marked “not scanned” and scan it when the scanner is back"


class VaultSettings(models.Model):
    """The practice's settings of the vault (one row): what an upload does while the virus
    scanner is configured but unreachable."""

    unscanned_files = models.CharField(
        max_length=10, choices=UnscannedFiles.choices, default=UnscannedFiles.REFUSE
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "vault settings"

    def __str__(self) -> str:
        return "vault settings"

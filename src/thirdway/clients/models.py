"""The businesses the practice serves: clients, their sites, contacts and assets."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower

from thirdway.clients.access import AssetQuerySet, ClientQuerySet, ContactQuerySet, SiteQuerySet
from thirdway.network.places import (
    validate_country,
    validate_latitude,
    validate_longitude,
    validate_time_zone,
)


class ClientStatus(models.TextChoices):
    PROSPECT = "prospect", "Prospect"
    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended"
    FORMER = "former", "Former"


class Client(models.Model):
    """A small or medium business served by the practice.

    The lead partner owns the relationship; the team are the partners and associates who
    serve the client.  Country and region (ISO 3166-2 subdivision) select public holidays.
    """

    name = models.CharField(max_length=200)
    lead_partner = models.ForeignKey(
        "network.Partner",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="led_clients",
    )
    team = models.ManyToManyField("network.Partner", blank=True, related_name="served_clients")
    time_zone = models.CharField(max_length=64, validators=[validate_time_zone])
    country = models.CharField(max_length=2, validators=[validate_country])
    region = models.CharField(max_length=10, blank=True)
    status = models.CharField(
        max_length=20, choices=ClientStatus.choices, default=ClientStatus.ACTIVE
    )
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ClientQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class Site(models.Model):
    """A place where the client works and where partners may go on site."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="sites")
    name = models.CharField(max_length=150)
    address = models.TextField(blank=True)
    latitude = models.FloatField(null=True, blank=True, validators=[validate_latitude])
    longitude = models.FloatField(null=True, blank=True, validators=[validate_longitude])
    time_zone = models.CharField(max_length=64, validators=[validate_time_zone])

    objects = SiteQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.client})"


class ContactRole(models.TextChoices):
    USER = "user", "User"
    ADMIN = "admin", "Client admin"


class Contact(models.Model):
    """A person at a client; client admins see and manage their whole organisation."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="contacts")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contact",
    )
    name = models.CharField(max_length=150)
    email = models.EmailField()
    phone = models.CharField(max_length=40, blank=True)
    role = models.CharField(max_length=10, choices=ContactRole.choices, default=ContactRole.USER)
    is_active = models.BooleanField(default=True)

    objects = ContactQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint("client", Lower("email"), name="contact_email_unique_in_client")
        ]
        # Mail finds the sender among all clients' contacts (``with_email``).
        indexes = [models.Index(Lower("email"), name="contact_email_lower")]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


class AssetKind(models.TextChoices):
    WORKSTATION = "workstation", "Workstation"
    LAPTOP = "laptop", "Laptop"
    SERVER = "server", "Server"
    NETWORK = "network", "Network device"
    PRINTER = "printer", "Printer"
    PHONE = "phone", "Phone"
    MOBILE = "mobile", "Mobile device"
    CLOUD = "cloud", "Cloud service"
    SOFTWARE = "software", "Software"
    OTHER = "other", "Other"


class Asset(models.Model):
    """A device or service the practice looks after for a client."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="assets")
    name = models.CharField(max_length=150)
    kind = models.CharField(max_length=20, choices=AssetKind.choices)
    site = models.ForeignKey(
        Site, null=True, blank=True, on_delete=models.SET_NULL, related_name="assets"
    )
    contact = models.ForeignKey(
        Contact,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assets",
        help_text="The person who uses it.",
    )
    serial = models.CharField(max_length=100, blank=True)
    operating_system = models.CharField(max_length=100, blank=True)
    notes = models.TextField(blank=True)

    objects = AssetQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

"""Users, their role in the practice, second factors and personal API tokens."""

from __future__ import annotations

import hashlib

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models


class Role(models.TextChoices):
    PRACTICE_ADMIN = "practice_admin", "Practice admin"
    PARTNER = "partner", "Partner"
    ASSOCIATE = "associate", "Associate"
    DESK = "desk", "Desk agent"
    CLIENT_ADMIN = "client_admin", "Client admin"
    CLIENT_USER = "client_user", "Client user"
    NONE = "none", "No role"


STAFF_ROLES = frozenset({Role.PRACTICE_ADMIN, Role.PARTNER, Role.ASSOCIATE, Role.DESK})
CLIENT_ROLES = frozenset({Role.CLIENT_ADMIN, Role.CLIENT_USER})


class User(AbstractUser):
    """A person who signs in: someone of the network or a contact at a client.

    ``role`` is set by the services that link the user to a partner or a contact; it decides
    what the access rules (``for_user``) let them see.  A user with no role sees nothing.
    """

    role = models.CharField(max_length=20, choices=Role.choices, default=Role.NONE)
    time_zone = models.CharField(
        max_length=64, default="UTC", help_text="Times are shown to this person in this zone."
    )
    totp_secret = models.CharField(max_length=64, blank=True)
    totp_enabled_at = models.DateTimeField(null=True, blank=True)
    totp_last_step = models.BigIntegerField(
        null=True,
        blank=True,
        help_text="Time step of the last code accepted; codes are single-use.",
    )

    objects = UserManager()

    @property
    def is_practice_admin(self) -> bool:
        return self.is_active and self.role == Role.PRACTICE_ADMIN

    @property
    def is_network_staff(self) -> bool:
        """Practice admins, partners, associates and desk agents."""
        return self.is_active and self.role in STAFF_ROLES

    @property
    def is_client_contact(self) -> bool:
        return self.is_active and self.role in CLIENT_ROLES

    @property
    def has_second_factor(self) -> bool:
        return self.totp_enabled_at is not None


def token_digest(secret: str) -> str:
    """Tokens are long random secrets, so a fast digest is enough to store them safely."""
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def for_user(self, user) -> ApiTokenQuerySet:
        """Everyone sees their own tokens only; admins revoke others' through the admin site."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(user=user)

    def active(self) -> ApiTokenQuerySet:
        return self.filter(revoked_at__isnull=True, user__is_active=True)


class ApiToken(models.Model):
    """A personal API token: shown once at creation, stored as its SHA-256 digest."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, help_text="First characters, to recognise it.")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="unique_token_name_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class FailureKind(models.TextChoices):
    PASSWORD = "password", "Wrong password"
    CODE = "code", "Wrong second-factor code"


class SignInFailure(models.Model):
    """One failed sign-in step.  Recent failures slow guessing down (``accounts/throttle.py``).

    ``login`` is the name that was tried (lower-cased; it need not belong to anyone), and
    ``address`` the client's IP address, so both one account and one source can be limited.
    """

    kind = models.CharField(max_length=10, choices=FailureKind.choices)
    login = models.CharField(max_length=254)
    address = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["kind", "login", "at"], name="sign_in_failure_by_login"),
            models.Index(fields=["address", "at"], name="sign_in_failure_by_address"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.login} at {self.at:%Y-%m-%d %H:%M}"

"""The portal's own table: one-time sign-in links sent by e-mail (kept as digests only)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class SignInLink(models.Model):
    """A single-use sign-in link for a client contact.

    Only the SHA-256 digest of the link's token is stored; the token itself exists only in the
    e-mail.  ``email`` is the address the link was asked for (lowercased), which the hourly
    throttle counts by.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    email = models.CharField(max_length=254)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["email", "created_at"])]

    def __str__(self) -> str:
        return f"Sign-in link for {self.email}"

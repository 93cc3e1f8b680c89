"""Middleware of accounts: second-factor enrolment and each person's time zone."""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone

EXEMPT_PREFIXES = ("/static/", "/api/")


class SecondFactorMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (
            settings.REQUIRE_ADMIN_SECOND_FACTOR
            and user.is_authenticated
            and user.is_practice_admin
            and not user.has_second_factor
            and not request.path.startswith(EXEMPT_PREFIXES)
            and request.path not in _exempt_paths()
        ):
            return redirect("accounts:second_factor")
        return self.get_response(request)


def _exempt_paths() -> set[str]:
    return {reverse("accounts:second_factor"), reverse("accounts:logout")}


class UserTimeZoneMiddleware:
    """Show and read times in the signed-in person's own zone."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            timezone.activate(zoneinfo.ZoneInfo(user.time_zone))
        else:
            timezone.deactivate()
        return self.get_response(request)

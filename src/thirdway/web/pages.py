"""What the pages share: who may open them. To anyone else a page does not exist (404)."""

from __future__ import annotations

from django.http import Http404, HttpRequest


def require_staff(request: HttpRequest) -> None:
    """The network's pages are for the network's partners, desk and admins."""
    if not getattr(request.user, "is_network_staff", False):
        raise Http404


def require_practice_admin(request: HttpRequest) -> None:
    """Settings and the practice's set-up pages are a practice admin's alone."""
    if not getattr(request.user, "is_practice_admin", False):
        raise Http404

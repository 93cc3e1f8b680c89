"""What the network's pages share: who may open them."""

from __future__ import annotations

from django.http import Http404, HttpRequest


def require_staff(request: HttpRequest) -> None:
    """The network's pages are for the network; to anyone else they do not exist (404)."""
    if not request.user.is_network_staff:
        raise Http404

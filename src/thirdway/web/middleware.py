"""Headers every answer to a signed-in person carries."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase

PRIVATE = "no-store, private"


class PrivateAnswersMiddleware:
    """An answer to a signed-in person or a bearer token is never stored by a browser or a
    proxy (``Cache-Control: no-store, private``): tickets and contacts must not survive on a
    shared computer or in a cache after sign-out.  Static files are answered before this
    (WhiteNoise) and keep their long caching; answers to nobody keep theirs."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        # Read after the view: the API's token authentication sets request.user there.
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            response["Cache-Control"] = PRIVATE
        return response

"""How many wrong passwords and codes are tolerated before sign-in waits.

Limits hold per login name (whoever tries it, from wherever) and per client address (whatever
names it tries), over a sliding window.  A refused attempt does not check the password at all,
so a guesser learns nothing while the limit holds, and a refused attempt adds no failure: the
wait ends on its own.  Failures are written by ``services.record_sign_in_failure``.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import math

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from thirdway.accounts.models import FailureKind, SignInFailure

WINDOW = dt.timedelta(minutes=15)
PASSWORD_FAILURES_PER_LOGIN = 10
CODE_FAILURES_PER_LOGIN = 5
FAILURES_PER_ADDRESS = 50

_PER_LOGIN = {
    FailureKind.PASSWORD: PASSWORD_FAILURES_PER_LOGIN,
    FailureKind.CODE: CODE_FAILURES_PER_LOGIN,
}


def client_address(request: HttpRequest) -> str | None:
    """The client's IP address.

    With ``PROXY_COUNT`` proxies in front, it is the entry of X-Forwarded-For the outermost of
    them added (entries further left can be forged by the client); without, the peer's address.
    """
    count = settings.PROXY_COUNT
    if count:
        hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        if len(hops) >= count and _is_address(hops[-count]):
            return hops[-count]
    return request.META.get("REMOTE_ADDR") or None


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def normalise_login(login: str) -> str:
    return (login or "").strip().lower()[:254]


def _wait_after(oldest: dt.datetime | None, now: dt.datetime) -> int:
    if oldest is None:
        return 0
    return max(1, math.ceil((oldest + WINDOW - now).total_seconds()))


def _wait_for(rows, limit: int, now: dt.datetime) -> int:
    """Seconds until fewer than ``limit`` of ``rows`` fall in the window (0: go ahead)."""
    recent = rows.filter(at__gte=now - WINDOW).order_by("-at")
    ats = list(recent.values_list("at", flat=True)[:limit])
    if len(ats) < limit:
        return 0
    # The limit holds until the limit-th newest failure leaves the window.
    return _wait_after(ats[-1], now)


def seconds_to_wait(kind: str, login: str, address: str | None) -> int:
    """0 when another attempt may be checked now, else how many seconds to wait."""
    now = timezone.now()
    waits = [
        _wait_for(
            SignInFailure.objects.filter(kind=kind, login=normalise_login(login)),
            _PER_LOGIN[kind],
            now,
        )
    ]
    if address:
        waits.append(
            _wait_for(SignInFailure.objects.filter(address=address), FAILURES_PER_ADDRESS, now)
        )
    return max(waits)


def wait_message(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    unit = "minute" if minutes == 1 else "minutes"
    return (
        "Too many failed attempts to sign in. For safety, sign-in is paused for this account "
        f"or this connection; try again in {minutes} {unit}."
    )

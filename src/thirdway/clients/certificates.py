"""TLS certificates seen on a client's hosts: the monitoring room tells, rooms that keep
expiry dates (the vault's expirations register) listen.  Both rooms stand on the same floor
and import neither each other: the vault registers here at start-up (in ``vault/apps.py``) and
monitoring calls :func:`certificate_seen` after a check read a certificate.

A listener that fails is logged and never stops the check that saw the certificate (each runs
in a savepoint of its own, so a database error in it leaves the caller's transaction usable).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SeenCertificate:
    """What a check read of a certificate.  ``exact`` is False when ``not_after`` was worked
    out from a rounded number of days left (an agent's LAN check): it may be off by minutes."""

    host: str
    port: int
    not_after: dt.datetime
    subject: str = ""
    issuer: str = ""
    exact: bool = True

    @property
    def endpoint(self) -> str:
        host = self.host.strip().lower()
        return f"[{host}]:{self.port}" if ":" in host else f"{host}:{self.port}"


# listener(client_id, certificate, source)
Listener = Callable[[int, SeenCertificate, str], None]
_LISTENERS: list[Listener] = []


def on_certificate_seen(listener: Listener) -> None:
    """Call ``listener(client_id, certificate, source)`` whenever a check read a certificate."""
    if listener not in _LISTENERS:
        _LISTENERS.append(listener)


def certificate_seen(client_id: int, certificate: SeenCertificate, *, source: str) -> None:
    """Tell the listeners; ``source`` names what saw it (e.g. ``check:12``)."""
    for listener in list(_LISTENERS):
        try:
            with transaction.atomic():
                listener(client_id, certificate, source)
        except Exception:
            log.exception("A listener could not take the certificate of %s.", certificate.endpoint)

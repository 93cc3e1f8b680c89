"""Helpers of the desk tests: reading queue rows and page parts, audit records, htmx requests."""

from __future__ import annotations

import re

from thirdway.audit.models import AuditRecord

NETWORK = ["admin", "partner", "other_partner", "associate", "desk"]
NOT_NETWORK = ["client_admin", "client_user", "outsider"]
EVERYONE = NETWORK + NOT_NETWORK


def shown_numbers(html: str) -> list[str]:
    """The ticket numbers of the queue's rows, in order."""
    return re.findall(r'<tr data-ticket="(TW-\d+)"', html)


def element(html: str, element_id: str) -> str:
    """The outer HTML of the element with this id, nested elements of its kind included."""
    start = re.search(rf'<([a-z0-9]+) [^>]*\bid="{re.escape(element_id)}"', html)
    assert start, f"no element #{element_id}"
    tag, depth = start.group(1), 0
    for match in re.compile(rf"<(/?){tag}\b[^>]*>").finditer(html, start.start()):
        depth += -1 if match.group(1) else 1
        if depth == 0:
            return html[start.start() : match.end()]
    raise AssertionError(f"#{element_id} is not closed")


def web_records(actor, action: str, ticket=None):
    records = AuditRecord.objects.filter(actor=actor, action=action, source="web")
    if ticket is not None:
        records = records.filter(object_type="tickets.ticket", object_id=str(ticket.pk))
    return records


def htmx(client, method: str, url: str, data=None, **extra):
    """A request as htmx sends it."""
    send = getattr(client, method)
    return send(url, data or {}, headers={"HX-Request": "true"}, **extra)

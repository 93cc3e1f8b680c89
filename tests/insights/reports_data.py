"""October 2026 of Acme Bakery (Europe/Paris), with every figure of its report worked out by hand.

Tickets (all times UTC; the month runs from 30 Sep 22:00 to 31 Oct 23:00 UTC):

    t1  Hardware  ACME-SRV1   3 Oct   first response due 3 Oct 11:00, answered 10:30 (met);
                                      resolution due 4 Oct, resolved 3 Oct (met)
    t2  Hardware  ACME-SRV1   10 Oct  answered 12:00, due 11:00 (missed); resolution due 11 Oct,
                                      resolved 12 Oct (missed)
    t3  Backup    ACME-SRV1   20 Oct  answered in time; resolution due 21 Oct, never (missed)
    t4  Printing  BOB-LAPTOP  5 Oct   both in time (met, met)
    t5  Printing  BOB-LAPTOP  15 Oct  answered in time; resolution due 2 Nov (not this period),
                                      resolved 16 Oct
    t6  Printing  no device   25 Oct  no clocks, open
    t7  Network               20 Sep  resolved 2 Oct (counted resolved, not opened)
    t8  Network               3 Nov   (after the period: nowhere)
    t9  Network               10 Sep  still open (open at the end)
    g1  Globex's ticket in October: never in Acme's report

Opened 6 (t1-t6), resolved 5 (t1, t2, t4, t5, t7), open at the end 3 (t3, t6, t9).
First response 4 of 5 (80%), resolution 2 of 4 (50%): both under the 90% target.
Recurring: ACME-SRV1 3 tickets, "Printing: printer jam" 3 (t4-t6), BOB-LAPTOP 2.
Checks: "SRV1 port" (on ACME-SRV1, up): 10 results in October, 8 up, 3 alerts (resolved);
"Nightly backup" (heartbeat, no device, down): 1 alert opened 28 Oct, still open. An alert of
September (resolved in September) is outside.
Expirations after 31 Oct: acme.fr domain 20 Nov (not acknowledged: recommendation), Office
licence 25 Nov (acknowledged), firewall warranty 20 Dec (50 days), router 15 Jan 2027 (76
days: not listed).
Ratings in October: 5 (t1), 2 (t2), 1 (t4): average 2.67, low t2 and t4.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from thirdway.audit.models import Source
from thirdway.insights.models import CsatResponse
from thirdway.monitoring.models import Alert, Check, CheckResult
from thirdway.tickets import services as tickets
from thirdway.tickets.models import Ticket
from thirdway.vault.models import ExpiryItem

UTC = dt.UTC
OCTOBER = dt.date(2026, 10, 1)


def at(month: int, day: int, hour: int = 10, minute: int = 0, year: int = 2026) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=UTC)


@dataclass
class October:
    tickets: dict[str, Ticket]
    checks: dict[str, Check]
    expirations: dict[str, ExpiryItem]


def _ticket(cast, client, subject, category, asset, created, **columns) -> Ticket:
    ticket = tickets.create_ticket(
        cast.admin,
        client,
        subject=subject,
        body_text=subject,
        category=category,
        asset_id=asset.pk if asset else None,
        source=Source.CLI,
    )
    values = {
        "created_at": created,
        "first_responded_at": None,
        "first_response_due_at": None,
        "resolution_due_at": None,
        "resolved_at": None,
        "closed_at": None,
        **columns,
    }
    Ticket.objects.filter(pk=ticket.pk).update(**values)
    ticket.refresh_from_db()
    return ticket


def build_october(cast) -> October:
    acme, srv, laptop = cast.acme, cast.acme_server, cast.acme_laptop
    t = {
        "t1": _ticket(
            cast,
            acme,
            "Server slow",
            "Hardware",
            srv,
            at(10, 3),
            first_response_due_at=at(10, 3, 11),
            first_responded_at=at(10, 3, 10, 30),
            resolution_due_at=at(10, 4),
            resolved_at=at(10, 3, 15),
        ),
        "t2": _ticket(
            cast,
            acme,
            "Server disk full",
            "Hardware",
            srv,
            at(10, 10),
            first_response_due_at=at(10, 10, 11),
            first_responded_at=at(10, 10, 12),
            resolution_due_at=at(10, 11),
            resolved_at=at(10, 12),
        ),
        "t3": _ticket(
            cast,
            acme,
            "Server backup failed",
            "Backup",
            srv,
            at(10, 20),
            first_response_due_at=at(10, 20, 11),
            first_responded_at=at(10, 20, 10, 15),
            resolution_due_at=at(10, 21),
        ),
        "t4": _ticket(
            cast,
            acme,
            "Printer jams on floor 2",
            "Printing",
            laptop,
            at(10, 5),
            first_response_due_at=at(10, 5, 11),
            first_responded_at=at(10, 5, 10, 5),
            resolution_due_at=at(10, 6),
            resolved_at=at(10, 5, 16),
        ),
        "t5": _ticket(
            cast,
            acme,
            "Printer jams again",
            "Printing",
            laptop,
            at(10, 15),
            first_response_due_at=at(10, 15, 11),
            first_responded_at=at(10, 15, 10, 20),
            resolution_due_at=at(11, 2),
            resolved_at=at(10, 16),
        ),
        "t6": _ticket(cast, acme, "Printer jam, paper tray", "Printing", None, at(10, 25)),
        "t7": _ticket(
            cast,
            acme,
            "Wi-Fi drops",
            "Network",
            None,
            at(9, 20),
            resolution_due_at=at(9, 25),
            resolved_at=at(10, 2),
        ),
        "t8": _ticket(cast, acme, "Switch replacement", "Network", None, at(11, 3)),
        "t9": _ticket(cast, acme, "VPN for the new shop", "Network", None, at(9, 10)),
        "g1": _ticket(
            cast,
            cast.globex,
            "Printer jams",
            "Printing",
            cast.globex_laptop,
            at(10, 7),
            first_response_due_at=at(10, 7, 11),
        ),
    }
    port = Check.objects.create(
        client=acme,
        asset=srv,
        name="SRV1 port",
        kind="tcp",
        target="srv1.acme.example",
        port=443,
        status="ok",
    )
    backup = Check.objects.create(
        client=acme, name="Nightly backup", kind="heartbeat", status="critical"
    )
    for n in range(10):
        CheckResult.objects.create(
            check_obj=port, collected_at=at(10, 2 + n), status="ok" if n < 8 else "critical"
        )
    CheckResult.objects.create(check_obj=port, collected_at=at(9, 29), status="critical")
    for day in (4, 12, 22):
        Alert.objects.create(
            check_obj=port,
            client=acme,
            status="resolved",
            severity="critical",
            summary="Port 443 closed",
            opened_at=at(10, day),
            last_seen_at=at(10, day, 11),
            resolved_at=at(10, day, 12),
        )
    Alert.objects.create(
        check_obj=port,
        client=acme,
        status="resolved",
        severity="critical",
        summary="Port 443 closed",
        opened_at=at(9, 10),
        last_seen_at=at(9, 10),
        resolved_at=at(9, 11),
    )
    Alert.objects.create(
        check_obj=backup,
        client=acme,
        status="open",
        severity="critical",
        summary="No ping for 26 hours",
        opened_at=at(10, 28),
        last_seen_at=at(11, 5),
    )

    def expiry(name, kind, day, acknowledged=False):
        return ExpiryItem.objects.create(
            client=acme,
            name=name,
            kind=kind,
            expires_on=day,
            acknowledged_for=day if acknowledged else None,
        )

    e = {
        "domain": expiry("acme.fr", "domain", dt.date(2026, 11, 20)),
        "licence": expiry("Office licence", "licence", dt.date(2026, 11, 25), acknowledged=True),
        "warranty": expiry("Firewall warranty", "warranty", dt.date(2026, 12, 20)),
        "router": expiry("Router support", "contract", dt.date(2027, 1, 15)),
    }
    for name, score in (("t1", 5), ("t2", 2), ("t4", 1)):
        CsatResponse.objects.create(ticket=t[name], client=acme, score=score, created_at=at(10, 20))
    return October(t, {"port": port, "backup": backup}, e)

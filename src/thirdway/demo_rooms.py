"""The small demo's work beyond the network and its clients: service levels, tickets worked
on, the vault, monitoring, contracts and time, and a client report.  Called by ``demo.py``'s
small load, in its order; deterministic like it.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.core.files.base import ContentFile
from django.utils import timezone

from thirdway.audit.models import Source
from thirdway.billing import services as billing
from thirdway.billing import timesheets as billing_weeks
from thirdway.clients.models import Asset, Client
from thirdway.monitoring import evaluation as monitoring_results
from thirdway.monitoring import services as monitoring
from thirdway.network import services as network
from thirdway.network.models import Practice, Skill
from thirdway.sla import calendars
from thirdway.sla import services as sla
from thirdway.tickets import services as tickets
from thirdway.tickets.assignment import switches as dispatch_switches
from thirdway.vault.services import credentials as vault_credentials
from thirdway.vault.services import documents as vault_documents
from thirdway.vault.services import expirations as vault_expirations
from thirdway.vault.services import files as vault_files
from thirdway.vault.templates_library import starter

WORKDAYS = ("mon", "tue", "wed", "thu", "fri")


def _slug(name: str) -> str:
    import unicodedata

    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return plain.lower().replace(" ", ".").replace("'", "")


def _small_monitoring(admin, clients_watched: int = 6) -> None:
    """Heartbeats of a few clients' nightly backups, one of which has just reported a failure
    (an alert, and the ticket it opened, on the status board)."""
    for index, client in enumerate(Client.objects.order_by("pk")[:clients_watched]):
        check = monitoring.create_check(
            admin,
            client,
            name="Nightly backup",
            kind="heartbeat",
            period_seconds=86_400,
            grace_seconds=3_600,
            source=Source.CLI,
        )
        monitoring_results.ping(check.ping_token, "fail" if index == 0 else "success")
    _small_agent(admin, Client.objects.order_by("pk").first())


def _small_agent(admin, client) -> None:
    """One enrolled machine of the first client, its inventory and a disk check near full."""
    from thirdway.monitoring import agents

    _, token = agents.issue_enrolment_token(admin, client, note="file server", source=Source.CLI)
    made = agents.enrol(
        token, hostname="srv-files", os_name="Debian GNU/Linux", agent_version="0.1.0"
    )
    assert made is not None
    agent = made[0]
    agents.record_inventory(
        agent,
        {
            "hostname": "srv-files",
            "os_name": "Debian GNU/Linux",
            "os_version": "12 (bookworm)",
            "cpu_model": "Intel(R) Xeon(R) E-2224 CPU @ 3.40GHz",
            "cpu_count": 4,
            "memory_bytes": 16 * 1024**3,
            "disks": [
                {
                    "mount": "/srv",
                    "device": "/dev/sdb1",
                    "fstype": "ext4",
                    "total_bytes": 2 * 10**12,
                }
            ],
            "interfaces": [{"name": "eth0", "mac": "52:54:00:1a:2b:3c", "addresses": ["10.0.0.5"]}],
            "boot_time": (timezone.now() - dt.timedelta(days=12))
            .replace(microsecond=0)
            .isoformat(),
            "users": [],
        },
    )
    check = monitoring.create_check(
        admin,
        client,
        name="Disk /srv",
        kind="agent_metric",
        agent_id=agent.pk,
        asset_id=agent.asset_id,
        metric="disk:/srv",
        warning_threshold=85.0,
        critical_threshold=95.0,
        source=Source.CLI,
    )
    agents.receive_results(
        agent,
        "demo-0000001",
        [
            {
                "check_id": check.pk,
                "collected_at": timezone.now(),
                "value": 88.0,
                "output": "Disk /srv 88 % used",
            }
        ],
    )


def _small_report(admin) -> None:
    """The demo client's monthly report of last month, released: three tickets on one device
    last month make its first recommendation (the client admin login reads it)."""
    from thirdway.insights import report_sources
    from thirdway.insights import services as insights
    from thirdway.tickets.models import Ticket

    client = Client.objects.order_by("pk").first()
    asset = Asset.objects.filter(client=client).order_by("pk").first()
    if client is None or asset is None:
        return
    first, _ = report_sources.period_before("monthly", timezone.now().date())
    for day in (4, 11, 19):
        ticket = tickets.create_ticket(
            admin,
            client,
            subject=f"{asset.name} will not start",
            body_text="It stays on a black screen.",
            category="Endpoints",
            asset_id=asset.pk,
            source=Source.CLI,
        )
        moment = dt.datetime.combine(first.replace(day=day), dt.time(9), tzinfo=dt.UTC)
        Ticket.objects.filter(pk=ticket.pk).update(  # as if opened and solved last month
            created_at=moment,
            first_responded_at=moment + dt.timedelta(minutes=40),
            resolved_at=moment + dt.timedelta(hours=5),
            status="resolved",
        )
    insights.set_report_schedule(admin, client, "monthly", source=Source.CLI)
    report = insights.make_report(admin, client, "monthly", first, source=Source.CLI)
    insights.release_report(admin, report, source=Source.CLI)


def _small_dispatch(admin, practices: list[Practice]) -> None:
    """Every practice offers a partner coming free their next ticket (a *Take it* notice)."""
    for practice in practices:
        dispatch_switches.set_switches(admin, practice, {"when_free": "offer"}, source=Source.CLI)


def _small_contracts(admin, practices: list[Practice], clients_billed: int = 6) -> None:
    """Managed-services contracts (per device, and a flat fee) for a few clients, from the
    first of the month before, so an invoice run has something to bill."""
    first = timezone.localdate().replace(day=1)
    starts = (first - dt.timedelta(days=1)).replace(day=1)
    for index, client in enumerate(Client.objects.order_by("pk")[:clients_billed]):
        contract = billing.create_contract(
            admin,
            client=client,
            practice=practices[index % len(practices)],
            kind="managed",
            name="Managed workstations",
            starts_on=starts,
            originator=client.lead_partner,
            source=Source.CLI,
        )
        for description, unit, price in (
            ("Workstation care", "device", Decimal("35.00")),
            ("Service desk", "flat", Decimal("120.00")),
        ):
            billing.add_contract_line(
                admin,
                contract,
                description=description,
                unit=unit,
                price=price,
                source=Source.CLI,
            )


def _small_block_and_weeks(admin, practices: list[Practice]) -> None:
    """A block of 20 prepaid hours for the seventh client, with its lead partner's time: last
    week approved (so the run bills it), this week open (so My timesheet has something)."""
    client = Client.objects.order_by("pk")[6:7].first()
    if client is None or client.lead_partner is None:
        return
    today = timezone.localdate()
    starts = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    contract = billing.create_contract(
        admin,
        client=client,
        practice=practices[0],
        kind="block_hours",
        name="Twenty prepaid hours",
        starts_on=starts,
        block_minutes=20 * 60,
        block_price=Decimal("1700.00"),
        originator=client.lead_partner,
        source=Source.CLI,
    )
    line = billing.add_contract_line(
        admin,
        contract,
        description="Support",
        unit="hour",
        price=Decimal("95.00"),
        source=Source.CLI,
    )
    for days_ago, minutes in ((8, 240), (7, 180), (6, 300), (1, 150)):
        day = max(starts, today - dt.timedelta(days=days_ago))
        billing.record_time(
            admin,
            partner=client.lead_partner,
            contract_line=line,
            worked_on=day,
            worked_minutes=minutes,
            note="Server patching",
            source=Source.CLI,
        )
    last_week = billing_weeks.sheet_for(client.lead_partner, today - dt.timedelta(days=7))
    if last_week.entries.exists() and last_week.is_editable:
        billing_weeks.submit(admin, last_week, source=Source.CLI)
        billing_weeks.approve(admin, last_week, source=Source.CLI)


def _small_vault(admin, rng: random.Random, clients_with_vault: int = 6) -> None:
    """A few clients' vaults: a firewall login with a TOTP seed, a Wi-Fi page, expirations.

    Sealing the secrets makes the vault's master key (generated in THIRDWAY_HOME on a laptop)."""
    today = timezone.localdate()
    for client in Client.objects.order_by("pk")[:clients_with_vault]:
        domain = _slug(client.name).replace(".", "-") + ".example"
        vault_credentials.create_credential(
            admin,
            client,
            name="Firewall admin",
            username="admin",
            secret=f"demo-{rng.randrange(10**8):08d}",
            url=f"https://fw.{domain}",
            totp_seed="JBSWY3DPEHPK3PXP",
            source=Source.CLI,
        )
        title, body = starter("wifi")
        vault_documents.create_document(
            admin, client, title=title, kind="wifi", body=body, source=Source.CLI
        )
        for kind, name, days in (
            ("domain", domain, rng.randint(5, 90)),
            ("certificate", f"www.{domain}", rng.randint(10, 120)),
            ("licence", "Backup software", rng.randint(30, 365)),
        ):
            vault_expirations.create_expiry(
                admin,
                client,
                kind=kind,
                name=name,
                expires_on=today + dt.timedelta(days=days),
                source=Source.CLI,
            )
        _small_files(admin, client, today)


def _small_files(admin, client, today: dt.date) -> None:
    """A little folder tree: a shared Contracts folder the client's admins may write."""
    root = vault_files.root_of(client)
    contracts = vault_files.create_folder(admin, root, "Contracts", source=Source.CLI)
    network = vault_files.create_folder(admin, root, "Network diagrams", source=Source.CLI)
    vault_files.set_grant(admin, contracts, "client_admin", "write", source=Source.CLI)
    lease = vault_files.upload_file(
        admin,
        contracts,
        "Office lease.txt",
        ContentFile(f"Lease of {client.name}, signed copy in the safe.\n".encode()),
        source=Source.CLI,
    )
    vault_files.set_expiry(admin, lease, today + dt.timedelta(days=45), source=Source.CLI)
    vault_files.add_note(admin, contracts, "Originals are kept at the office.", source=Source.CLI)
    vault_files.upload_file(
        admin,
        network,
        "Rack layout.txt",
        ContentFile(b"Switch 1: ports 1-24 office; 25-48 servers.\n"),
        source=Source.CLI,
    )


def _small_service_levels(admin, practices: list[Practice], by_region) -> None:
    """An office calendar with French holidays, a 24x7 calendar, a default and a critical
    policy with escalation steps, a weekly rota per practice and a follow-the-sun desk rota."""
    office = sla.create_calendar(
        admin,
        name="Office hours (Lyon)",
        time_zone="Europe/Paris",
        weekly_hours={day: [["08:30", "12:30"], ["13:30", "18:00"]] for day in WORKDAYS},
        holiday_country="FR",
        source=Source.CLI,
    )
    always = sla.create_calendar(
        admin,
        name="24x7",
        time_zone="UTC",
        weekly_hours=calendars.twenty_four_seven_hours(),
        source=Source.CLI,
    )
    steps = {
        "first_response": [(75, ["warn_assignee"]), (100, ["notify_lead", "hand_to_on_call"])],
        "next_response": [(100, ["warn_assignee", "notify_lead"])],
        "resolution": [(75, ["warn_assignee"]), (100, ["notify_lead", "raise_priority"])],
    }
    targets = {
        priority: {"first_response": first, "next_response": first * 2, "resolution": fix}
        for priority, first, fix in ((1, 30, 240), (2, 60, 480), (3, 240, 1440), (4, 480, 2880))
    }
    sla.create_policy(
        admin,
        name="Standard",
        calendar=office,
        targets=targets,
        steps=steps,
        is_default=True,
        source=Source.CLI,
    )
    sla.create_policy(
        admin,
        name="Critical 24x7",
        calendar=always,
        targets={1: {"first_response": 15, "next_response": 30, "resolution": 120}},
        steps={"first_response": [(50, ["warn_assignee"]), (100, ["hand_to_expert"])]},
        source=Source.CLI,
    )
    monday = timezone.localdate() - dt.timedelta(days=timezone.localdate().weekday())
    for practice in practices:
        members = [
            s.partner
            for s in Skill.objects.filter(practice=practice)
            .select_related("partner")
            .order_by("-level", "partner_id")[:4]
        ]
        if members:
            network.create_rota(
                admin,
                name=f"{practice.name} on call",
                practice=practice,
                kind="weekly",
                time_zone=members[0].time_zone,
                starts_on=monday,
                members=members,
                source=Source.CLI,
            )
    desk = [p for partners in by_region.values() for p in partners if p.kind == "desk"]
    network.create_rota(
        admin,
        name="Desk (follow the sun)",
        practice=None,
        kind="follow_the_sun",
        time_zone="UTC",
        starts_on=monday,
        members=desk,
        source=Source.CLI,
    )


PROBLEMS = [
    ("Outlook keeps asking for my password", "Cloud & Microsoft 365", 2, 2),
    ("Printer on the first floor is offline", "Endpoints", 3, 2),
    ("Cannot reach the shared drive from home over VPN", "Networking", 2, 1),
    ("Sage won't open after the update", "Accounting software", 2, 1),
    ("Suspicious e-mail asking to reset my bank details", "Security", 1, 1),
    ("Desk phone shows 'no service'", "Phones & VoIP", 2, 2),
    ("Last night's backup job failed", "Backup & continuity", 2, 2),
    ("New employee starting Monday needs a laptop and accounts", "Endpoints", 3, 3),
    ("Wi-Fi drops every few minutes in the meeting room", "Networking", 2, 2),
    ("Booking software shows a database error", "Line-of-business apps", 1, 2),
]
REPLIES = [
    "Thanks, I'm looking into it now.",
    "Could you send a photo of the error message?",
    "I've restarted the service; please try again.",
    "On site tomorrow at 9:00.",
]


def _small_tickets(admin, rng, practices: list[Practice], per_client: int = 2) -> None:
    """Tickets in every state, so queues, search and the portal have something to show."""
    by_name = {practice.name: practice for practice in practices}
    for client in Client.objects.select_related("lead_partner").order_by("pk"):
        contacts = list(client.contacts.all())
        # The demo's client logins each get a ticket of their own to look at.
        requesters = [c for c in contacts if c.user_id]
        requesters += [rng.choice(contacts) for _ in range(rng.randint(0, per_client))]
        for requester in requesters:
            subject, practice, impact, urgency = rng.choice(PROBLEMS)
            ticket = tickets.create_ticket(
                admin,
                client,
                subject=subject,
                body_text=f"{subject}. Can someone help?",
                requester_id=requester.pk,
                practice_id=by_name[practice].pk,
                impact=impact,
                urgency=urgency,
                channel=rng.choice(["email", "portal", "phone"]),
                source=Source.CLI,
            )
            _work_on(admin, rng, ticket, client.lead_partner)


def _work_on(admin, rng, ticket, lead) -> None:
    stage = rng.choice(["new", "assigned", "replied", "waiting", "resolved", "closed"])
    if stage == "new" or lead is None:
        return
    tickets.assign(admin, ticket, lead, source=Source.CLI)
    if stage == "assigned":
        return
    tickets.reply(
        admin, ticket, body_text=rng.choice(REPLIES), time_spent_minutes=15, source=Source.CLI
    )
    tickets.note(admin, ticket, body_text="Checked the logs; nothing unusual.", source=Source.CLI)
    target = {
        "replied": "in_progress",
        "waiting": "waiting_client",
        "resolved": "resolved",
        "closed": "resolved",
    }[stage]
    tickets.change_status(admin, ticket, target, source=Source.CLI)
    if stage == "closed":
        tickets.change_status(admin, ticket, "closed", source=Source.CLI)


# --- large: bulk inserts -----------------------------------------------------------------------

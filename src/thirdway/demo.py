"""A deterministic demo practice: the same seed always gives the same people, clients and logins.

``small`` (about 24 partners, 120 clients) goes through the services like real work, so every
object has its audit record.  ``large`` (about 2,000 partners, 50,000 clients) is for benchmarks
and uses bulk inserts with one audit record for the whole load.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from thirdway.accounts import services as accounts
from thirdway.accounts.models import Role, User
from thirdway.audit.models import Source
from thirdway.audit.services import record
from thirdway.billing import services as billing
from thirdway.billing import timesheets as billing_weeks
from thirdway.clients import services as clients
from thirdway.clients.models import Asset, Client, Contact, Site
from thirdway.monitoring import evaluation as monitoring_results
from thirdway.monitoring import services as monitoring
from thirdway.network import services as network
from thirdway.network.models import Partner, Practice, Skill
from thirdway.sales import demo as sales_demo
from thirdway.sla import calendars
from thirdway.sla import services as sla
from thirdway.tickets import services as tickets
from thirdway.vault.services import credentials as vault_credentials
from thirdway.vault.services import documents as vault_documents
from thirdway.vault.services import expirations as vault_expirations
from thirdway.vault.services import files as vault_files
from thirdway.vault.templates_library import starter

DEMO_PASSWORD = "thirdway-demo-2026"  # noqa: S105 - printed for the demo on purpose
ADMIN_USERNAME = "demo-admin"

PRACTICES = [
    "Accounting software",
    "Cloud & Microsoft 365",
    "Phones & VoIP",
    "Security",
    "Networking",
    "Endpoints",
    "Backup & continuity",
    "Line-of-business apps",
]


WORKDAYS = ("mon", "tue", "wed", "thu", "fri")


@dataclass(frozen=True)
class Region:
    name: str
    country: str
    subdivision: str
    time_zone: str
    towns: tuple[tuple[str, float, float], ...]


REGIONS = (
    Region(
        "Rhône-Alpes",
        "FR",
        "ARA",
        "Europe/Paris",
        (
            ("Lyon", 45.764, 4.836),
            ("Villeurbanne", 45.772, 4.890),
            ("Grenoble", 45.188, 5.724),
            ("Annecy", 45.899, 6.129),
            ("Chambéry", 45.565, 5.918),
            ("Saint-Étienne", 45.440, 4.387),
        ),
    ),
    Region(
        "Québec",
        "CA",
        "QC",
        "America/Toronto",
        (
            ("Montréal", 45.502, -73.567),
            ("Laval", 45.607, -73.712),
            ("Longueuil", 45.531, -73.518),
            ("Québec", 46.814, -71.208),
            ("Sherbrooke", 45.404, -71.893),
            ("Gatineau", 45.477, -75.701),
        ),
    ),
    Region(
        "British Columbia",
        "CA",
        "BC",
        "America/Vancouver",
        (
            ("Vancouver", 49.283, -123.121),
            ("Burnaby", 49.249, -122.981),
            ("Surrey", 49.191, -122.849),
            ("Richmond", 49.167, -123.134),
            ("Victoria", 48.428, -123.366),
            ("Kelowna", 49.888, -119.496),
        ),
    ),
)

FIRST = [
    "Alex",
    "Camille",
    "Dominique",
    "Jordan",
    "Morgan",
    "Sacha",
    "Noa",
    "Robin",
    "Eden",
    "Charlie",
    "Louise",
    "Hugo",
    "Maya",
    "Nathan",
    "Inès",
    "Liam",
    "Chloé",
    "Omar",
    "Zoé",
    "Yann",
    "Priya",
    "Mateo",
    "Aiko",
    "Samir",
    "Lena",
    "Tariq",
    "Elsa",
    "Victor",
]
LAST = [
    "Martin",
    "Bernard",
    "Tremblay",
    "Gagnon",
    "Roy",
    "Côté",
    "Leroy",
    "Moreau",
    "Nguyen",
    "Fournier",
    "Girard",
    "Lambert",
    "Chen",
    "Singh",
    "Bouchard",
    "Morin",
    "Pelletier",
    "Fontaine",
    "Garcia",
    "Rousseau",
    "Lefebvre",
    "Wong",
    "Dubois",
    "Mercier",
]
TRADES = [
    "Bakery",
    "Dental Clinic",
    "Law Office",
    "Architects",
    "Accountants",
    "Garage",
    "Pharmacy",
    "Florist",
    "Real Estate",
    "Notary",
    "Veterinary Clinic",
    "Print Shop",
    "Brewery",
    "Physiotherapy",
    "Insurance Brokers",
    "Travel Agency",
    "Opticians",
    "Hardware Store",
    "Bistro",
    "Design Studio",
]
ASSETS = [
    ("laptop", "Windows 11 Pro"),
    ("workstation", "Windows 11 Pro"),
    ("laptop", "macOS 15"),
    ("server", "Windows Server 2022"),
    ("network", "RouterOS 7"),
    ("printer", ""),
    ("phone", "Yealink firmware 86"),
    ("cloud", "Microsoft 365 Business Premium"),
    ("software", "Sage 50"),
]


def hours(start: str, end: str, days=("mon", "tue", "wed", "thu", "fri")) -> dict:
    return {day: [[start, end]] for day in days}


# Desk shifts chosen so that the three regions' desks together cover every hour of the week.
DESK_HOURS = {
    "Europe/Paris": hours("07:00", "15:00", ("mon", "tue", "wed", "thu", "fri", "sat", "sun")),
    "America/Toronto": hours("09:00", "17:00", ("mon", "tue", "wed", "thu", "fri", "sat", "sun")),
    "America/Vancouver": hours("14:00", "22:00", ("mon", "tue", "wed", "thu", "fri", "sat", "sun")),
}


@dataclass
class Login:
    role: str
    username: str
    password: str
    who: str


def load_demo(size: str = "small", seed: int = 2026, small_clients: int = 120) -> list[Login]:
    """Load the demo once; on a database that already has it, just return the logins."""
    if User.objects.filter(username=ADMIN_USERNAME).exists():
        return _logins()
    rng = random.Random(seed)
    if size == "large":
        _load_large(rng)
    else:
        _load_small(rng, small_clients)
    return _logins()


def _person(rng: random.Random, used: set[str]) -> str:
    while True:
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        if name not in used:
            used.add(name)
            return name


def _slug(name: str) -> str:
    import unicodedata

    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return plain.lower().replace(" ", ".").replace("'", "")


def _jitter(rng: random.Random, lat: float, lon: float, km: float = 8.0) -> tuple[float, float]:
    return round(lat + rng.uniform(-km, km) / 111, 5), round(lon + rng.uniform(-km, km) / 78, 5)


# --- small: through the services ---------------------------------------------------------------


@transaction.atomic
def _load_small(rng: random.Random, client_count: int = 120) -> None:
    admin = accounts.create_user(
        None,
        username=ADMIN_USERNAME,
        email="admin@thirdway.example",
        role=Role.PRACTICE_ADMIN,
        password=DEMO_PASSWORD,
        first_name="Demo admin",
        source=Source.CLI,
    )
    practices = [
        network.create_practice(
            admin, name=name, auto_dispatch=True, move_late=True, source=Source.CLI
        )
        for name in PRACTICES
    ]
    used: set[str] = set()
    by_region: dict[str, list[Partner]] = {}
    for region_index, region in enumerate(REGIONS):
        kinds = ["partner"] * 5 + ["associate"] * 2 + ["desk"]
        for index, kind in enumerate(kinds):
            partner = _small_partner(
                admin, rng, region, kind, used, login=_demo_login(region_index, index, kind)
            )
            by_region.setdefault(region.name, []).append(partner)
            _small_skills(admin, rng, partner, practices, kind)
    leads = [p for partners in by_region.values() for p in partners if p.kind == "partner"]
    for index, practice in enumerate(practices):
        network.update_practice(
            admin, practice, {"lead": leads[index % len(leads)]}, source=Source.CLI
        )
    _small_absences(admin, rng, leads)
    _small_service_levels(admin, practices, by_region)
    for number in range(client_count):
        _small_client(admin, rng, number, by_region, used)
    _small_tickets(admin, rng, practices)
    _small_vault(admin, rng)
    _small_monitoring(admin)
    _small_contracts(admin, practices)
    sales_demo.load(admin, practices)
    _small_report(admin)
    _small_block_and_weeks(admin, practices)


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


def _demo_login(region_index: int, index: int, kind: str) -> str | None:
    """The first partner, associate and desk agent of the first region get demo logins."""
    if region_index != 0:
        return None
    return {
        (0, "partner"): "demo-partner",
        (5, "associate"): "demo-associate",
        (7, "desk"): "demo-desk",
    }.get((index, kind))


def _small_partner(admin, rng, region: Region, kind: str, used: set[str], login) -> Partner:
    name = _person(rng, used)
    town, lat, lon = rng.choice(region.towns)
    lat, lon = _jitter(rng, lat, lon)
    start = rng.choice(["07:30", "08:00", "08:30", "09:00"])
    end = {"07:30": "16:00", "08:00": "17:00", "08:30": "17:30", "09:00": "18:00"}[start]
    working = DESK_HOURS[region.time_zone] if kind == "desk" else hours(start, end)
    return network.create_partner(
        admin,
        source=Source.CLI,
        username=login,
        password=DEMO_PASSWORD if login else None,
        name=name,
        email=f"{_slug(name)}@partners.thirdway.example",
        kind=kind,
        region=region.name,
        town=town,
        latitude=lat,
        longitude=lon,
        time_zone=region.time_zone,
        service_radius_km=rng.choice([15, 25, 40, 60]) if kind != "desk" else 0,
        working_hours=working,
        capacity=rng.choice([6, 8, 10, 12]) if kind != "desk" else 20,
        languages=["fr", "en"] if region.country == "FR" or region.subdivision == "QC" else ["en"],
        phone=f"+1 555 01{rng.randint(10, 99)}",
    )


def _small_skills(admin, rng, partner: Partner, practices: list[Practice], kind: str) -> None:
    count = {"partner": 3, "associate": 2, "desk": 4}[kind]
    for practice in rng.sample(practices, count):
        level = rng.randint(1, 2) if kind == "desk" else rng.randint(2, 5)
        network.set_skill(admin, partner, practice, level, source=Source.CLI)


def _small_absences(admin, rng, partners: list[Partner]) -> None:
    today = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    for partner in rng.sample(partners, 4):
        start = today + dt.timedelta(days=rng.randint(-3, 20))
        network.add_absence(
            admin,
            partner,
            kind=rng.choice(["vacation", "training", "sick"]),
            starts_at=start,
            ends_at=start + dt.timedelta(days=rng.randint(2, 10)),
            source=Source.CLI,
        )


def _small_client(admin, rng, number: int, by_region, used: set[str]) -> None:
    region = REGIONS[number % len(REGIONS)]
    team_pool = by_region[region.name]
    leads = [p for p in team_pool if p.kind == "partner"]
    lead = leads[number % len(leads)]
    town, lat, lon = rng.choice(region.towns)
    family = rng.choice(LAST)
    client = clients.create_client(
        admin,
        name=f"{family} {rng.choice(TRADES)} #{number + 1}",
        lead_partner=lead,
        time_zone=region.time_zone,
        country=region.country,
        region=region.subdivision,
        source=Source.CLI,
    )
    others = [p for p in team_pool if p != lead and p.kind != "desk"]
    team = rng.sample(others, rng.randint(0, 2))
    if number == 0:
        team.append(next(p for p in team_pool if p.kind == "associate"))
    clients.set_team(admin, client, team, source=Source.CLI)
    sites = []
    for index in range(rng.randint(1, 2)):
        site_lat, site_lon = _jitter(rng, lat, lon, km=4)
        sites.append(
            clients.create_site(
                admin,
                client,
                name="Head office" if index == 0 else f"{town} branch",
                address=f"{rng.randint(1, 200)} Main Street, {town}",
                latitude=site_lat,
                longitude=site_lon,
                source=Source.CLI,
            )
        )
    contacts = []
    domain = f"{_slug(family)}{number + 1}.example"
    for index in range(rng.randint(2, 4)):
        name = _person(rng, used) if len(used) < 600 else f"{rng.choice(FIRST)} {family}"
        login = _client_login(number, index)
        contacts.append(
            clients.create_contact(
                admin,
                client,
                name=name,
                email=login or f"{_slug(name)}@{domain}",
                role="admin" if index == 0 else "user",
                with_login=bool(login),
                password=DEMO_PASSWORD if login else None,
                source=Source.CLI,
            )
        )
    for index in range(rng.randint(3, 6)):
        kind, system = rng.choice(ASSETS)
        clients.create_asset(
            admin,
            client,
            name=f"{kind.upper()}-{number + 1:03d}-{index + 1}",
            kind=kind,
            site_id=rng.choice(sites).pk,
            operating_system=system,
            contact_id=rng.choice(contacts).pk if kind in ("laptop", "workstation") else None,
            serial=f"SN{rng.randint(10**7, 10**8 - 1)}",
            source=Source.CLI,
        )


def _client_login(number: int, index: int) -> str | None:
    if number != 0:
        return None
    return {0: "client-admin@demo.thirdway.example", 1: "client-user@demo.thirdway.example"}.get(
        index
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


def _load_large(rng: random.Random, partners_count: int = 2000, clients_count: int = 50000) -> None:
    _load_small(rng)
    admin = User.objects.get(username=ADMIN_USERNAME)
    practices = list(Practice.objects.all())
    with Progress() as progress:
        task = progress.add_task("Partners", total=partners_count)
        new_partners = _bulk_partners(
            rng,
            partners_count - Partner.objects.count(),
            practices,
            lambda n: progress.advance(task, n),
        )
        task = progress.add_task("Clients", total=clients_count)
        _bulk_clients(
            rng,
            clients_count - Client.objects.count(),
            new_partners,
            lambda n: progress.advance(task, n),
        )
    record(
        admin,
        "demo.load_large",
        admin,
        source=Source.CLI,
        changes={"partners": [None, partners_count], "clients": [None, clients_count]},
    )


@transaction.atomic
def _bulk_partners(rng, count: int, practices, advance) -> list[Partner]:
    partners = []
    for number in range(count):
        region = REGIONS[number % len(REGIONS)]
        town, lat, lon = rng.choice(region.towns)
        lat, lon = _jitter(rng, lat, lon, km=30)
        kind = rng.choices(["partner", "associate", "desk"], weights=[6, 3, 1])[0]
        partners.append(
            Partner(
                name=f"{rng.choice(FIRST)} {rng.choice(LAST)} {number}",
                email=f"partner{number}@bulk.thirdway.example",
                kind=kind,
                region=region.name,
                town=town,
                latitude=lat,
                longitude=lon,
                time_zone=region.time_zone,
                service_radius_km=rng.choice([15, 25, 40, 60]),
                working_hours=DESK_HOURS[region.time_zone]
                if kind == "desk"
                else hours("08:00", "17:00"),
                capacity=rng.choice([6, 8, 10, 12]),
                languages=["en"],
            )
        )
    created = Partner.objects.bulk_create(partners, batch_size=500)
    skills = [
        Skill(partner=partner, practice=practice, level=rng.randint(1, 5))
        for partner in created
        for practice in rng.sample(practices, 3)
    ]
    Skill.objects.bulk_create(skills, batch_size=2000)
    advance(count)
    return created


def _bulk_clients(rng, count: int, partners: list[Partner], advance, batch: int = 2000) -> None:
    leads = [p for p in partners if p.kind == "partner"]
    for offset in range(0, count, batch):
        with transaction.atomic():
            made = Client.objects.bulk_create(
                [
                    _bulk_client(rng, offset + index, rng.choice(leads))
                    for index in range(min(batch, count - offset))
                ]
            )
            _bulk_owned(rng, made)
        advance(len(made))


def _bulk_client(rng, number: int, lead: Partner) -> Client:
    region = next(r for r in REGIONS if r.name == lead.region)
    return Client(
        name=f"{rng.choice(LAST)} {rng.choice(TRADES)} B{number}",
        lead_partner=lead,
        time_zone=region.time_zone,
        country=region.country,
        region=region.subdivision,
    )


def _bulk_owned(rng, made: list[Client]) -> None:
    sites = Site.objects.bulk_create(
        [
            Site(
                client=client,
                name="Head office",
                time_zone=client.time_zone,
                latitude=client.lead_partner.latitude,
                longitude=client.lead_partner.longitude,
            )
            for client in made
        ]
    )
    Contact.objects.bulk_create(
        [
            Contact(
                client=client,
                name=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                email=f"person{index}@c{client.pk}.example",
                role="admin" if index == 0 else "user",
            )
            for client in made
            for index in range(3)
        ]
    )
    Asset.objects.bulk_create(
        [
            Asset(
                client=site.client,
                site=site,
                name=f"DEVICE-{site.client_id}-{index}",
                kind=ASSETS[index][0],
                operating_system=ASSETS[index][1],
            )
            for site in sites
            for index in range(3)
        ]
    )


# --- logins ------------------------------------------------------------------------------------


def _logins() -> list[Login]:
    wanted = [
        (Role.PRACTICE_ADMIN, ADMIN_USERNAME),
        (Role.PARTNER, "demo-partner"),
        (Role.ASSOCIATE, "demo-associate"),
        (Role.DESK, "demo-desk"),
        (Role.CLIENT_ADMIN, "client-admin@demo.thirdway.example"),
        (Role.CLIENT_USER, "client-user@demo.thirdway.example"),
    ]
    users = {u.username: u for u in User.objects.filter(username__in=[w[1] for w in wanted])}
    return [
        Login(Role(role).label, username, DEMO_PASSWORD, users[username].first_name)
        for role, username in wanted
        if username in users
    ]


def print_logins(logins: list[Login]) -> None:
    table = Table("Role", "Username", "Password", "Who", title="Demo logins")
    for login in logins:
        table.add_row(login.role, login.username, login.password, login.who)
    console = Console(width=120)
    console.print(table)
    console.print("Open http://127.0.0.1:8000/ and sign in with any of these.")

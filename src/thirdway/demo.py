"""A deterministic demo practice: the same seed always gives the same people, clients and logins.

``small`` (about 24 partners, 120 clients) goes through the services like real work, so every
object has its audit record.  ``large`` (about 2,000 partners, 50,000 clients) is for benchmarks
and uses bulk inserts with one audit record for the whole load.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from thirdway.accounts import services as accounts
from thirdway.accounts.models import Role, User
from thirdway.audit.models import Source
from thirdway.audit.services import record
from thirdway.clients import services as clients
from thirdway.clients.models import Asset, Client, Contact, Site
from thirdway.demo_rooms import (
    _slug,
    _small_block_and_weeks,
    _small_contracts,
    _small_dispatch,
    _small_monitoring,
    _small_report,
    _small_service_levels,
    _small_tickets,
    _small_vault,
)
from thirdway.network import services as network
from thirdway.network.models import Partner, Practice, Skill
from thirdway.sales import demo as sales_demo

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
    _small_dispatch(admin, practices)
    _small_tickets(admin, rng, practices)
    _small_vault(admin, rng)
    _small_monitoring(admin)
    _small_contracts(admin, practices)
    sales_demo.load(admin, practices)
    _small_report(admin)
    _small_block_and_weeks(admin, practices)


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

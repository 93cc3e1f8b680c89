"""The base cast every test can use: two clients, the network around them, and an outsider.

Built through the services, as a practice would build it, so audit records exist too.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass

import pytest
from django.test import Client as HttpClient
from django.utils import timezone

from support import snapshot
from thirdway import configcache
from thirdway.accounts import services as accounts
from thirdway.accounts.models import Role, User
from thirdway.audit.models import Source
from thirdway.clients import services as clients
from thirdway.clients.models import Asset, Client, Contact, Site
from thirdway.network import services as network
from thirdway.network.models import Partner, Practice

# The page tests' fixtures (a role of the cast, a fixed clock, reading pages and forms), for
# the page tests of every room; the check of every API answer against the OpenAPI document; the
# security headers every answer owes; a real chromium for the browser tests; and threads that
# share the test database; the run's migrated template for the installations of the command
# tests.
pytest_plugins = [
    "support.pages",
    "support.contract",
    "support.headers",
    "support.browser",
    "support.threads",
    "support.migrated",
]

# What makes a test reach the suite's database: pytest-django's marker or fixtures, or the
# ``database`` marker of tests that start a database of their own on the suite's server.
DATABASE_FIXTURES = frozenset(
    {"db", "transactional_db", "django_db_reset_sequences", "django_db_serialized_rollback"}
)


def reaches_database(item: pytest.Item) -> bool:
    if item.get_closest_marker("django_db") or item.get_closest_marker("database"):
        return True
    return bool(DATABASE_FIXTURES & set(getattr(item, "fixturenames", ())))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """With THIRDWAY_TESTS_DATABASE_ONLY=1 only the tests that reach a database run.

    CI runs the whole suite on SQLite, then again on PostgreSQL; a test that never touches a
    database (the engines, the simulator, parsing, the layering) gives the same answer on both,
    so the second run leaves it out.
    """
    if os.environ.get("THIRDWAY_TESTS_DATABASE_ONLY") != "1":
        return
    kept = [item for item in items if reaches_database(item)]
    if len(kept) < len(items):
        config.hook.pytest_deselected(items=[item for item in items if not reaches_database(item)])
        items[:] = kept


PASSWORD = "correct-horse-battery-staple"
OFFICE_HOURS = {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
ALWAYS = {day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


@dataclass
class Cast:
    """Everyone and everything of the base fixture, by role."""

    admin: User
    partner: User
    other_partner: User
    associate: User
    desk: User
    outsider: User
    client_admin: User
    client_user: User
    other_client_admin: User
    other_client_user: User
    security: Practice
    networking: Practice
    partner_record: Partner
    other_partner_record: Partner
    associate_record: Partner
    desk_record: Partner
    acme: Client
    globex: Client
    acme_site: Site
    globex_site: Site
    acme_admin_contact: Contact
    acme_user_contact: Contact
    globex_admin_contact: Contact
    globex_user_contact: Contact
    acme_laptop: Asset
    acme_server: Asset
    globex_laptop: Asset

    def users(self) -> dict[str, User]:
        return {
            "admin": self.admin,
            "partner": self.partner,
            "other_partner": self.other_partner,
            "associate": self.associate,
            "desk": self.desk,
            "client_admin": self.client_admin,
            "client_user": self.client_user,
            "outsider": self.outsider,
        }


def _partner(admin, username, name, kind, town, lat, lon, zone, hours=OFFICE_HOURS) -> Partner:
    return network.create_partner(
        admin,
        source=Source.CLI,
        username=username,
        password=PASSWORD,
        name=name,
        email=f"{username}@network.example",
        kind=kind,
        region="Rhône-Alpes" if zone == "Europe/Paris" else "Québec",
        town=town,
        latitude=lat,
        longitude=lon,
        time_zone=zone,
        working_hours=hours,
        capacity=8,
        languages=["en", "fr"],
    )


@pytest.fixture
def cast(db) -> Cast:
    return snapshot.cast(_build_cast)


def _build_cast() -> Cast:
    admin = accounts.create_user(
        None,
        username="admin",
        email="admin@network.example",
        role=Role.PRACTICE_ADMIN,
        password=PASSWORD,
        source=Source.CLI,
    )
    security = network.create_practice(admin, name="Security", source=Source.CLI)
    networking = network.create_practice(admin, name="Networking", source=Source.CLI)
    partner = _partner(
        admin, "paula", "Paula Partner", "partner", "Lyon", 45.76, 4.84, "Europe/Paris"
    )
    other = _partner(
        admin, "oscar", "Oscar Other", "partner", "Montréal", 45.50, -73.57, "America/Toronto"
    )
    associate = _partner(
        admin, "ada", "Ada Associate", "associate", "Grenoble", 45.19, 5.72, "Europe/Paris"
    )
    desk = _partner(
        admin, "dean", "Dean Desk", "desk", "Lyon", 45.75, 4.85, "Europe/Paris", hours=ALWAYS
    )
    network.set_skill(admin, partner, security, 4, source=Source.CLI)
    network.set_skill(admin, other, networking, 3, source=Source.CLI)
    network.set_skill(admin, associate, networking, 2, source=Source.CLI)
    outsider = accounts.create_user(
        None,
        username="olive",
        email="olive@elsewhere.example",
        role=Role.NONE,
        password=PASSWORD,
        source=Source.CLI,
    )

    acme = clients.create_client(
        admin,
        name="Acme Bakery",
        lead_partner=partner,
        time_zone="Europe/Paris",
        country="FR",
        source=Source.CLI,
    )
    globex = clients.create_client(
        admin,
        name="Globex Dental",
        lead_partner=other,
        time_zone="America/Toronto",
        country="CA",
        region="QC",
        source=Source.CLI,
    )
    clients.set_team(admin, acme, [associate], source=Source.CLI)
    acme_site = clients.create_site(
        admin,
        acme,
        name="Bakery",
        address="1 rue du Pain, Lyon",
        latitude=45.76,
        longitude=4.83,
        source=Source.CLI,
    )
    globex_site = clients.create_site(
        admin, globex, name="Clinic", latitude=45.5, longitude=-73.56, source=Source.CLI
    )

    def contact(client, name, email, role):
        return clients.create_contact(
            admin,
            client,
            name=name,
            email=email,
            role=role,
            with_login=True,
            password=PASSWORD,
            source=Source.CLI,
        )

    acme_admin = contact(acme, "Alice Acme", "alice@acme.example", "admin")
    acme_user = contact(acme, "Bob Acme", "bob@acme.example", "user")
    globex_admin = contact(globex, "Gina Globex", "gina@globex.example", "admin")
    globex_user = contact(globex, "Hank Globex", "hank@globex.example", "user")
    acme_laptop = clients.create_asset(
        admin,
        acme,
        name="BOB-LAPTOP",
        kind="laptop",
        site_id=acme_site.pk,
        contact_id=acme_user.pk,
        source=Source.CLI,
    )
    acme_server = clients.create_asset(
        admin, acme, name="ACME-SRV1", kind="server", site_id=acme_site.pk, source=Source.CLI
    )
    globex_laptop = clients.create_asset(
        admin,
        globex,
        name="HANK-LAPTOP",
        kind="laptop",
        contact_id=globex_user.pk,
        source=Source.CLI,
    )
    network.add_absence(
        admin,
        other,
        kind="vacation",
        starts_at=timezone.now() + dt.timedelta(days=10),
        ends_at=timezone.now() + dt.timedelta(days=17),
        source=Source.CLI,
    )
    return Cast(
        admin=admin,
        partner=partner.user,
        other_partner=other.user,
        associate=associate.user,
        desk=desk.user,
        outsider=outsider,
        client_admin=acme_admin.user,
        client_user=acme_user.user,
        other_client_admin=globex_admin.user,
        other_client_user=globex_user.user,
        security=security,
        networking=networking,
        partner_record=partner,
        other_partner_record=other,
        associate_record=associate,
        desk_record=desk,
        acme=acme,
        globex=globex,
        acme_site=acme_site,
        globex_site=globex_site,
        acme_admin_contact=acme_admin,
        acme_user_contact=acme_user,
        globex_admin_contact=globex_admin,
        globex_user_contact=globex_user,
        acme_laptop=acme_laptop,
        acme_server=acme_server,
        globex_laptop=globex_laptop,
    )


@pytest.fixture
def api_as(cast):
    """A function giving an HTTP client that sends a fresh API token of the given user."""

    def make(user: User) -> HttpClient:
        _, secret = accounts.issue_token(user, f"test-{user.pk}", source=Source.CLI)
        return HttpClient(headers={"Authorization": f"Bearer {secret}"})

    return make


@pytest.fixture
def web_as(cast):
    """A function giving a browser-like client signed in as the given user."""

    def make(user: User) -> HttpClient:
        client = HttpClient()
        client.force_login(user)
        return client

    return make


@pytest.fixture(autouse=True)
def _plain_storage(settings, tmp_path):
    """Tests read static files from the apps (no collectstatic) and keep uploads per test."""
    settings.STORAGES = {
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "files")},
        },
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _vault_key_per_test(settings, tmp_path):
    """The vault's generated master key lives in the test's own folder, never in var/."""
    settings.VAULT_GENERATED_MASTER_KEY_FILE = tmp_path / "vault_master_key"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Argon2 is slow on purpose; tests that are not about hashing need not pay for it."""
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.Argon2PasswordHasher",
    ]


@pytest.fixture(autouse=True)
def _no_time_zone_left_active():
    """A request through the test client activates its user's zone in the test's thread (the
    middleware sets it on every request); the next test starts in the default zone again."""
    yield
    timezone.deactivate()


@pytest.fixture(autouse=True)
def _results_stored_by_the_request(monkeypatch):
    """Agents' results batches are stored by the request's own thread: a writer thread of an
    in-process server would keep a connection open on the test database. The writer itself is
    tested on its own (tests/monitoring/test_agent_group_commit.py) and by served instances."""
    from thirdway.monitoring import ingest_writer

    monkeypatch.setattr(ingest_writer.Writer, "enabled", False)


@pytest.fixture(autouse=True)
def _fresh_configuration_cache():
    """Each test starts with an empty configuration cache: rows a rolled-back test cached must
    not leak into the next (SQLite reuses their ids)."""
    configcache.reset()
    yield
    configcache.reset()

"""Every change made through the API leaves audit records; audit records never change."""

from dataclasses import dataclass

import pytest
from django.db import transaction

from support.api import path, pk, resolve, send
from thirdway.audit.models import AuditRecord, Source


@dataclass(frozen=True)
class Audited:
    """An API call, the actions it records in order, and the changes of the main record."""

    name: str
    role: str
    method: str
    url: str
    payload: dict | None
    actions: tuple[str, ...]
    object_type: str
    object_name: str | None  # the object changed, by its name in the cast; None for a new one
    changes: dict  # a subset of the main record's changes, "@name" standing for an id
    scope: str | None = None  # "client:@acme" or "partner:@paula"; None: not checked


CALLS = [
    Audited(
        "create a practice",
        "admin",
        "POST",
        "/practices",
        {"name": "Backups", "lead": "@paula"},
        ("practice.create",),
        "network.practice",
        None,
        {"name": [None, "Backups"], "slug": [None, "backups"], "lead": [None, "@paula"]},
    ),
    Audited(
        "update a practice",
        "admin",
        "PATCH",
        "/practices/{security}",
        {"description": "Firewalls"},
        ("practice.update",),
        "network.practice",
        "security",
        {"description": ["", "Firewalls"]},
        scope="practice:@security",
    ),
    Audited(
        "create a partner with an account",
        "admin",
        "POST",
        "/partners",
        {
            "name": "Nina New",
            "email": "nina@network.example",
            "latitude": 45.0,
            "longitude": 5.0,
            "time_zone": "Europe/Paris",
            "kind": "associate",
            "username": "nina",
            "password": "a long enough passphrase",
        },
        ("user.create", "partner.create"),
        "network.partner",
        None,
        {"name": [None, "Nina New"], "kind": [None, "associate"], "capacity": [None, 10]},
    ),
    Audited(
        "a partner updates their profile",
        "partner",
        "PATCH",
        "/partners/{paula}",
        {"town": "Villeurbanne", "languages": ["fr"]},
        ("partner.update",),
        "network.partner",
        "paula",
        {"town": ["Lyon", "Villeurbanne"], "languages": [["en", "fr"], ["fr"]]},
        scope="partner:@paula",
    ),
    Audited(
        "an admin changes a partner's kind",
        "admin",
        "PATCH",
        "/partners/{ada}",
        {"kind": "partner"},
        ("partner.update", "user.role"),
        "network.partner",
        "ada",
        {"kind": ["associate", "partner"]},
        scope="partner:@ada",
    ),
    Audited(
        "give a skill",
        "admin",
        "PUT",
        "/partners/{ada}/skills/{security}",
        {"level": 3},
        ("skill.set",),
        "network.skill",
        None,
        {"practice": [None, "@security"], "level": [None, 3]},
        scope="partner:@ada",
    ),
    Audited(
        "change a skill",
        "admin",
        "PUT",
        "/partners/{paula}/skills/{security}",
        {"level": 5},
        ("skill.set",),
        "network.skill",
        None,
        {"level": [4, 5]},
        scope="partner:@paula",
    ),
    Audited(
        "remove a skill",
        "admin",
        "DELETE",
        "/partners/{paula}/skills/{security}",
        None,
        ("skill.remove",),
        "network.skill",
        None,
        {"level": [4, None]},
        scope="partner:@paula",
    ),
    Audited(
        "record an absence",
        "partner",
        "POST",
        "/absences",
        {
            "partner": "@paula",
            "kind": "training",
            "starts_at": "2031-03-02T08:00:00Z",
            "ends_at": "2031-03-04T18:00:00Z",
            "note": "Course",
        },
        ("absence.add",),
        "network.absence",
        None,
        {
            "kind": [None, "training"],
            "starts_at": [None, "2031-03-02T08:00:00+00:00"],
            "note": [None, "Course"],
        },
        scope="partner:@paula",
    ),
    Audited(
        "change an absence",
        "other_partner",
        "PATCH",
        "/absences/{oscar_vacation}",
        {"note": "Gaspésie"},
        ("absence.update",),
        "network.absence",
        "oscar_vacation",
        {"note": ["", "Gaspésie"]},
        scope="partner:@oscar",
    ),
    Audited(
        "cancel an absence",
        "other_partner",
        "DELETE",
        "/absences/{oscar_vacation}",
        None,
        ("absence.cancel",),
        "network.absence",
        "oscar_vacation",
        {},
        scope="partner:@oscar",
    ),
    Audited(
        "create a client",
        "admin",
        "POST",
        "/clients",
        {"name": "Initech", "time_zone": "Europe/Paris", "country": "FR", "lead_partner": "@paula"},
        ("client.create",),
        "clients.client",
        None,
        {"name": [None, "Initech"], "lead_partner": [None, "@paula"], "status": [None, "active"]},
    ),
    Audited(
        "the lead partner updates the client",
        "partner",
        "PATCH",
        "/clients/{acme}",
        {"notes": "Opens at 6", "status": "suspended"},
        ("client.update",),
        "clients.client",
        "acme",
        {"notes": ["", "Opens at 6"], "status": ["active", "suspended"]},
        scope="client:@acme",
    ),
    Audited(
        "the lead partner names the team",
        "partner",
        "PUT",
        "/clients/{acme}/team",
        {"partners": ["@dean", "@ada"]},
        ("client.team",),
        "clients.client",
        "acme",
        {},
        scope="client:@acme",
    ),
    Audited(
        "a client admin adds a site",
        "client_admin",
        "POST",
        "/sites",
        {"client": "@acme", "name": "Depot", "latitude": 45.7, "longitude": 4.9},
        ("site.create",),
        "clients.site",
        None,
        {"name": [None, "Depot"], "time_zone": [None, "Europe/Paris"], "latitude": [None, 45.7]},
        scope="client:@acme",
    ),
    Audited(
        "the desk updates a site",
        "desk",
        "PATCH",
        "/sites/{acme_site}",
        {"address": "2 rue du Pain"},
        ("site.update",),
        "clients.site",
        "acme_site",
        {"address": ["1 rue du Pain, Lyon", "2 rue du Pain"]},
        scope="client:@acme",
    ),
    Audited(
        "a partner adds a contact who can sign in",
        "partner",
        "POST",
        "/contacts",
        {
            "client": "@acme",
            "name": "Carol Acme",
            "email": "carol@acme.example",
            "with_login": True,
            "password": "a long enough passphrase",
        },
        ("user.create", "contact.create"),
        "clients.contact",
        None,
        {
            "name": [None, "Carol Acme"],
            "email": [None, "carol@acme.example"],
            "role": [None, "user"],
        },
        scope="client:@acme",
    ),
    Audited(
        "a client admin makes a contact an admin",
        "client_admin",
        "PATCH",
        "/contacts/{bob}",
        {"role": "admin"},
        ("contact.update", "user.role"),
        "clients.contact",
        "bob",
        {"role": ["user", "admin"]},
        scope="client:@acme",
    ),
    Audited(
        "a client admin adds an asset",
        "client_admin",
        "POST",
        "/assets",
        {
            "client": "@acme",
            "name": "ALICE-PHONE",
            "kind": "mobile",
            "site": "@acme_site",
            "contact": "@alice",
        },
        ("asset.create",),
        "clients.asset",
        None,
        {"name": [None, "ALICE-PHONE"], "site": [None, "@acme_site"], "contact": [None, "@alice"]},
        scope="client:@acme",
    ),
    Audited(
        "the desk updates an asset",
        "desk",
        "PATCH",
        "/assets/{bob_laptop}",
        {"serial": "SN-42", "contact": None},
        ("asset.update",),
        "clients.asset",
        "bob_laptop",
        {"serial": ["", "SN-42"], "contact": ["@bob", None]},
        scope="client:@acme",
    ),
]


@pytest.mark.parametrize("call", CALLS, ids=[call.name for call in CALLS])
def test_each_change_through_the_api_is_audited(cast, api_as, call):
    user = getattr(cast, call.role)
    client = api_as(user)
    last = AuditRecord.objects.order_by("-pk").values_list("pk", flat=True).first()
    target = pk(cast, call.object_name) if call.object_name else None

    response = send(client, call.method, path(cast, call.url), resolve(cast, call.payload))

    assert response.status_code in (200, 201, 204), response.content
    records = list(AuditRecord.objects.filter(pk__gt=last).order_by("pk"))
    assert tuple(record.action for record in records) == call.actions
    for record in records:
        assert (record.actor, record.actor_label, record.source) == (user, user.username, "api")
    main = next(record for record in records if record.object_type == call.object_type)
    if target is not None:
        assert main.object_id == str(target)
    elif response.status_code != 204 and "id" in response.json():
        assert main.object_id == str(response.json()["id"])
    expected = resolve(cast, call.changes)
    assert {name: main.changes[name] for name in expected} == expected
    if call.scope is not None:
        scope_name, _, ref = call.scope.partition(":")
        assert main.scope == f"{scope_name}:{resolve(cast, ref)}"


def test_the_team_change_records_the_team_before_and_after(cast, api_as):
    url = path(cast, "/clients/{acme}/team")

    send(api_as(cast.partner), "PUT", url, {"partners": [cast.desk_record.pk]})

    record = AuditRecord.objects.for_object(cast.acme).get(action="client.team", source="api")
    assert record.changes == {"team": [[cast.associate_record.pk], [cast.desk_record.pk]]}


def test_a_change_that_changes_nothing_records_nothing(cast, api_as):
    client = api_as(cast.partner)
    before = AuditRecord.objects.count()

    response = send(client, "PATCH", path(cast, "/partners/{paula}"), {"town": "Lyon"})

    assert response.status_code == 200
    assert AuditRecord.objects.count() == before


def test_a_refused_change_records_nothing(cast, api_as):
    client = api_as(cast.associate)
    before = AuditRecord.objects.count()

    response = send(client, "PATCH", path(cast, "/clients/{acme}"), {"notes": "mine now"})

    assert response.status_code == 403
    assert AuditRecord.objects.count() == before


# --- append-only -------------------------------------------------------------------------------


@pytest.fixture
def a_record(cast):
    return AuditRecord.objects.filter(source=Source.CLI).order_by("pk").first()


def test_an_audit_record_cannot_be_saved_again(a_record):
    a_record.action = "user.forged"

    with pytest.raises(PermissionError):
        a_record.save()

    assert AuditRecord.objects.get(pk=a_record.pk).action != "user.forged"


def test_an_audit_record_cannot_be_deleted(a_record):
    with pytest.raises(PermissionError):
        a_record.delete()

    assert AuditRecord.objects.filter(pk=a_record.pk).exists()


@pytest.mark.parametrize(
    "attempt",
    [
        lambda records: records.update(action="user.forged"),
        lambda records: records.filter(source=Source.CLI).update(actor_label="nobody"),
        lambda records: records.delete(),
        lambda records: records.filter(action="user.create").delete(),
        lambda records: AuditRecord.objects.bulk_update(list(records), ["action"]),
    ],
    ids=["update all", "update some", "delete all", "delete some", "bulk update"],
)
def test_audit_records_cannot_be_changed_or_deleted_in_bulk(cast, attempt):
    before = list(AuditRecord.objects.order_by("pk").values())

    # In a savepoint, as a caller's transaction would be: bulk_update joins the outer one.
    with pytest.raises(PermissionError), transaction.atomic():
        attempt(AuditRecord.objects.all())

    assert list(AuditRecord.objects.order_by("pk").values()) == before

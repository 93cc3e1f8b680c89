"""Who sees and changes what through /api/v1: every endpoint for every role of the cast.

Deny by default: out-of-scope objects answer 404 with no data, visible objects a role may not
change answer 403, and a payload naming a client (or partner) the caller cannot see is a 400.
"""

import re
from dataclasses import dataclass

import pytest
from django.test import Client as HttpClient

from support.api import (
    API,
    CONTACTS,
    NETWORK,
    ROLES,
    assert_refused,
    ids,
    nothing_written,
    path,
    pk,
    resolve,
    send,
    state,
)
from thirdway.accounts import services as accounts
from thirdway.audit.models import AuditRecord, Source
from thirdway.clients import services as clients
from thirdway.network import services as network

# --- what each role sees -----------------------------------------------------------------------


def table(default: frozenset, **by_role: set) -> dict[str, frozenset]:
    """A visibility table: ``default`` for every role not named."""
    return {role: frozenset(by_role.get(role, default)) for role in ROLES}


NOTHING = frozenset()
VISIBLE = {
    "practices": table(
        frozenset({"security", "networking"}),
        outsider=NOTHING,
    ),
    "partners": table(
        frozenset({"paula", "oscar", "ada", "dean"}),
        client_admin={"paula", "ada"},
        client_user={"paula", "ada"},
        other_client_admin={"oscar"},
        other_client_user={"oscar"},
        outsider=NOTHING,
    ),
    "absences": table(
        NOTHING,
        admin={"oscar_vacation"},
        partner={"oscar_vacation"},
        other_partner={"oscar_vacation"},
        associate={"oscar_vacation"},
        desk={"oscar_vacation"},
    ),
    "clients": table(
        NOTHING,
        admin={"acme", "globex"},
        desk={"acme", "globex"},
        partner={"acme"},
        associate={"acme"},
        client_admin={"acme"},
        client_user={"acme"},
        other_partner={"globex"},
        other_client_admin={"globex"},
        other_client_user={"globex"},
    ),
    "sites": table(
        NOTHING,
        admin={"acme_site", "globex_site"},
        desk={"acme_site", "globex_site"},
        partner={"acme_site"},
        associate={"acme_site"},
        client_admin={"acme_site"},
        other_partner={"globex_site"},
        other_client_admin={"globex_site"},
    ),
    "contacts": table(
        NOTHING,
        admin={"alice", "bob", "gina", "hank"},
        desk={"alice", "bob", "gina", "hank"},
        partner={"alice", "bob"},
        associate={"alice", "bob"},
        client_admin={"alice", "bob"},
        client_user={"bob"},
        other_partner={"gina", "hank"},
        other_client_admin={"gina", "hank"},
        other_client_user={"hank"},
    ),
    "assets": table(
        NOTHING,
        admin={"bob_laptop", "acme_server", "hank_laptop"},
        desk={"bob_laptop", "acme_server", "hank_laptop"},
        partner={"bob_laptop", "acme_server"},
        associate={"bob_laptop", "acme_server"},
        client_admin={"bob_laptop", "acme_server"},
        client_user={"bob_laptop"},
        other_partner={"hank_laptop"},
        other_client_admin={"hank_laptop"},
        other_client_user={"hank_laptop"},
    ),
}
EVERY_OBJECT = {
    resource: frozenset().union(*by_role.values()) for resource, by_role in VISIBLE.items()
}
RESOURCE_ROLE = [(resource, role) for resource in VISIBLE for role in ROLES]


@pytest.mark.parametrize(("resource", "role"), RESOURCE_ROLE)
def test_each_role_lists_exactly_the_objects_it_may_see(cast, api_as, resource, role):
    response = api_as(getattr(cast, role)).get(f"{API}/{resource}")

    expected = {pk(cast, name) for name in VISIBLE[resource][role]}
    assert ids(response) == expected
    assert response.json()["count"] == len(expected)


@pytest.mark.parametrize(("resource", "role"), RESOURCE_ROLE)
def test_each_role_reads_what_it_sees_and_gets_404_for_everything_else(
    cast, api_as, resource, role
):
    client = api_as(getattr(cast, role))

    for name in sorted(EVERY_OBJECT[resource]):
        response = client.get(f"{API}/{resource}/{pk(cast, name)}")
        if name in VISIBLE[resource][role]:
            assert response.status_code == 200, (name, response.content)
            assert response.json()["id"] == pk(cast, name)
        else:
            assert response.status_code == 404, (name, response.content)
            assert response.json() == {"detail": "Not found."}
    missing = client.get(f"{API}/{resource}/987654")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "Not found."}


# Query filters narrow a list; they never reach past what the role sees.
NARROWING = [
    ("partner", "/sites?client={globex}"),
    ("partner", "/contacts?client={globex}"),
    ("partner", "/assets?client={globex}"),
    ("associate", "/assets?client={globex}"),
    ("client_admin", "/assets?client={globex}"),
    ("client_admin", "/contacts?client={globex}"),
    ("client_user", "/assets?client={acme}"),
    ("client_user", "/sites?client={acme}"),
    ("client_user", "/absences?partner={oscar}"),
    ("other_client_user", "/partners?practice={security}"),
    ("outsider", "/clients?status=active"),
]


@pytest.mark.parametrize(("role", "url"), NARROWING)
def test_a_list_filter_never_widens_what_a_role_sees(cast, api_as, role, url):
    resource = url.split("?")[0].strip("/")
    allowed = {pk(cast, name) for name in VISIBLE[resource][role]}
    hidden_from_role = {pk(cast, name) for name in EVERY_OBJECT[resource]} - allowed

    seen = ids(api_as(getattr(cast, role)).get(path(cast, url)))

    assert seen <= allowed
    assert not seen & hidden_from_role


@pytest.mark.parametrize("role", ROLES)
def test_me_answers_who_the_token_belongs_to(cast, api_as, role):
    user = getattr(cast, role)

    response = api_as(user).get(f"{API}/me")

    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["username"], body["role"]) == (user.pk, user.username, user.role)


PRIVATE = ("email", "phone", "latitude", "longitude", "time_zone", "working_hours", "capacity")


@pytest.mark.parametrize("role", CONTACTS)
def test_a_client_contact_sees_its_partners_without_their_private_fields(cast, api_as, role):
    client = api_as(getattr(cast, role))
    lead = "/partners/{paula}" if role in ("client_admin", "client_user") else "/partners/{oscar}"

    listed = client.get(f"{API}/partners").json()["items"]
    read = client.get(path(cast, lead)).json()

    for partner in [*listed, read]:
        assert partner["name"] and partner["skills"] is not None
        assert all(partner[name] is None for name in PRIVATE), partner
        assert partner["user_id"] is None


@pytest.mark.parametrize("role", NETWORK)
def test_the_network_sees_the_private_fields_of_partners(cast, api_as, role):
    read = api_as(getattr(cast, role)).get(path(cast, "/partners/{paula}")).json()

    assert read["email"] == "paula@network.example"
    assert read["time_zone"] == "Europe/Paris"
    assert read["capacity"] == 8
    assert read["user_id"] == cast.partner.pk


# --- who may write -----------------------------------------------------------------------------


# What each role gets from each write, called with a valid payload: 201/200/204 done, 403 the
# object is visible but not theirs to change, 404 invisible, 400 the payload names a client or a
# partner the role cannot see.  Columns are the people of the cast, in the order of ROLES:
# the practice admin, partner Paula (leads Acme), other partner Oscar (leads Globex), associate
# Ada (on Acme's team), desk agent Dean, Acme's client admin Alice and client user Bob, Globex's
# client admin Gina and client user Hank, and Olive the outsider.
STATUSES = """
                                     adm  paula oscar ada  dean alice bob  gina hank olive
create a practice                    201  403  403  403  403  403  403  403  403  403
update a practice                    200  403  403  403  403  403  403  403  403  404
create a partner                     201  403  403  403  403  403  403  403  403  403
update Paula's profile               200  200  403  403  403  403  403  404  404  404
update Oscar's profile               200  403  200  403  403  404  404  403  403  404
set a skill of Ada                   200  403  403  403  403  403  403  404  404  404
remove a skill of Paula              204  403  403  403  403  403  403  404  404  404
record an absence of Paula           201  201  403  403  403  403  403  400  400  400
change Oscar's absence               200  403  200  403  403  404  404  404  404  404
cancel Oscar's absence               204  403  204  403  403  404  404  404  404  404
create a client                      201  403  403  403  403  403  403  403  403  403
update Acme                          200  200  404  403  403  403  403  404  404  404
update Globex                        200  404  200  404  403  404  404  403  403  404
name Acme's team                     200  200  404  403  403  403  403  404  404  404
add a site to Acme                   201  201  400  403  201  201  403  400  400  400
add a site to Globex                 201  400  201  400  201  400  400  201  403  400
update Acme's site                   200  200  404  403  200  200  404  404  404  404
add a contact to Acme                201  201  400  403  201  201  403  400  400  400
update Alice (Acme's admin contact)  200  200  404  403  200  200  404  404  404  404
update Bob (Acme's user contact)     200  200  404  403  200  200  403  404  404  404
add an asset to Acme                 201  201  400  403  201  201  403  400  400  400
update Bob's laptop                  200  200  404  403  200  200  403  404  404  404
update Acme's server                 200  200  404  403  200  200  404  404  404  404
"""


def _statuses(grid: str) -> dict[str, dict[str, int]]:
    rows = {}
    for line in grid.strip().splitlines()[1:]:
        name, *codes = line.rsplit(maxsplit=len(ROLES))
        assert len(codes) == len(ROLES), line
        rows[name.strip()] = dict(zip(ROLES, map(int, codes), strict=True))
    return rows


STATUS = _statuses(STATUSES)


@dataclass(frozen=True)
class Write:
    """One write endpoint called with a valid payload ("@name" stands for an id of the cast)."""

    name: str
    method: str
    url: str
    payload: dict | None
    # The field a 400 names when the payload points at something the role cannot see.
    hidden_field: str | None = None


NEW_PARTNER = {
    "name": "Nina New",
    "email": "nina@network.example",
    "latitude": 45.0,
    "longitude": 5.0,
    "time_zone": "Europe/Paris",
}
ABSENCE = {
    "partner": "@paula",
    "kind": "training",
    "starts_at": "2031-03-02T08:00:00Z",
    "ends_at": "2031-03-04T18:00:00Z",
}
NEW_CLIENT = {
    "name": "Initech",
    "time_zone": "Europe/Paris",
    "country": "FR",
    "lead_partner": "@paula",
}
WRITES = [
    Write("create a practice", "POST", "/practices", {"name": "Backups"}),
    Write("update a practice", "PATCH", "/practices/{security}", {"description": "Firewalls"}),
    Write("create a partner", "POST", "/partners", NEW_PARTNER),
    Write("update Paula's profile", "PATCH", "/partners/{paula}", {"town": "Villeurbanne"}),
    Write("update Oscar's profile", "PATCH", "/partners/{oscar}", {"town": "Laval"}),
    Write("set a skill of Ada", "PUT", "/partners/{ada}/skills/{security}", {"level": 3}),
    Write("remove a skill of Paula", "DELETE", "/partners/{paula}/skills/{security}", None),
    Write("record an absence of Paula", "POST", "/absences", ABSENCE, hidden_field="partner"),
    Write("change Oscar's absence", "PATCH", "/absences/{oscar_vacation}", {"note": "Gaspésie"}),
    Write("cancel Oscar's absence", "DELETE", "/absences/{oscar_vacation}", None),
    Write("create a client", "POST", "/clients", NEW_CLIENT),
    Write("update Acme", "PATCH", "/clients/{acme}", {"notes": "Opens at 6"}),
    Write("update Globex", "PATCH", "/clients/{globex}", {"status": "suspended"}),
    Write("name Acme's team", "PUT", "/clients/{acme}/team", {"partners": ["@ada", "@dean"]}),
    Write(
        "add a site to Acme",
        "POST",
        "/sites",
        {"client": "@acme", "name": "Depot"},
        hidden_field="client",
    ),
    Write(
        "add a site to Globex",
        "POST",
        "/sites",
        {"client": "@globex", "name": "Annex"},
        hidden_field="client",
    ),
    Write("update Acme's site", "PATCH", "/sites/{acme_site}", {"address": "2 rue du Pain"}),
    Write(
        "add a contact to Acme",
        "POST",
        "/contacts",
        {"client": "@acme", "name": "Carol Acme", "email": "carol@acme.example"},
        hidden_field="client",
    ),
    Write(
        "update Alice (Acme's admin contact)",
        "PATCH",
        "/contacts/{alice}",
        {"phone": "+33 4 00 00 00 01"},
    ),
    Write(
        "update Bob (Acme's user contact)",
        "PATCH",
        "/contacts/{bob}",
        {"phone": "+33 4 00 00 00 02"},
    ),
    Write(
        "add an asset to Acme",
        "POST",
        "/assets",
        {"client": "@acme", "name": "PRINTER-1", "kind": "printer", "site": "@acme_site"},
        hidden_field="client",
    ),
    Write("update Bob's laptop", "PATCH", "/assets/{bob_laptop}", {"serial": "SN-0001"}),
    Write(
        "update Acme's server",
        "PATCH",
        "/assets/{acme_server}",
        {"operating_system": "Debian 13"},
    ),
]
WRITE_ROLE = [
    pytest.param(write, role, id=f"{write.name}-{role}") for write in WRITES for role in ROLES
]


@pytest.mark.parametrize(("write", "role"), WRITE_ROLE)
def test_each_write_answers_each_role_as_the_rules_say(cast, api_as, write, role):
    client = api_as(getattr(cast, role))
    url, payload = path(cast, write.url), resolve(cast, write.payload)
    expected = STATUS[write.name][role]
    audit_before = AuditRecord.objects.count()
    before = state()

    response = send(client, write.method, url, payload)

    assert response.status_code == expected, response.content
    if expected in (200, 201, 204):
        assert AuditRecord.objects.count() > audit_before
        if expected != 204:
            body = response.json()
            assert body.get("id") or body.get("practice_id"), body
        return
    assert state() == before
    if expected == 400:
        assert_refused(response, write.hidden_field)
    else:
        # Refusals carry no data of the object, only why.
        assert set(response.json()) == {"detail"}


def test_the_status_table_and_the_writes_name_the_same_calls():
    assert [write.name for write in WRITES] == list(STATUS)


def _shape(url: str) -> str:
    """``/partners/{paula}/skills/{security}`` and ``/partners/{partner_id}/...`` alike."""
    return re.sub(r"\{[^}]+\}", "{}", url.removeprefix(API))


ROOMS = {"accounts", "network", "clients"}  # the routers these matrices are about


def test_the_matrices_cover_every_endpoint_of_accounts_network_and_clients(db):
    schema = HttpClient().get(f"{API}/openapi.json").json()
    every = {
        (method.upper(), _shape(url))
        for url, operations in schema["paths"].items()
        for method, operation in operations.items()
        if ROOMS & set(operation.get("tags", []))
    }
    writes = {(write.method, _shape(write.url)) for write in WRITES}
    reads = {("GET", f"/{resource}") for resource in VISIBLE}
    reads |= {("GET", f"/{resource}/{{}}") for resource in VISIBLE} | {("GET", "/me")}

    assert {(method, _shape(url)) for method, url in ENDPOINTS} == every
    assert writes | reads == every


# --- more rules, beyond the cast as it is ------------------------------------------------------


def test_a_partner_on_the_team_may_change_the_clients_data_but_not_the_client(cast, api_as):
    clients.set_team(
        cast.admin, cast.acme, [cast.associate_record, cast.other_partner_record], source=Source.CLI
    )
    oscar = api_as(cast.other_partner)

    assert ids(oscar.get(f"{API}/clients")) == {cast.acme.pk, cast.globex.pk}
    assert send(oscar, "PATCH", path(cast, "/clients/{acme}"), {"notes": "x"}).status_code == 403
    team = send(oscar, "PUT", path(cast, "/clients/{acme}/team"), {"partners": []})
    assert team.status_code == 403
    site = send(oscar, "POST", f"{API}/sites", {"client": cast.acme.pk, "name": "Depot"})
    assert site.status_code == 201


def test_the_lead_partner_may_not_hand_the_client_to_another_lead(cast, api_as):
    paula = api_as(cast.partner)

    with nothing_written():
        response = send(
            paula,
            "PATCH",
            path(cast, "/clients/{acme}"),
            {"lead_partner": cast.other_partner_record.pk},
        )

    assert response.status_code == 403


def test_the_practice_lead_may_set_and_remove_skills_of_their_practice_only(cast, api_as):
    network.update_practice(
        cast.admin, cast.security, {"lead": cast.partner_record}, source=Source.CLI
    )
    paula = api_as(cast.partner)

    own = send(paula, "PUT", path(cast, "/partners/{ada}/skills/{security}"), {"level": 2})
    other = send(paula, "PUT", path(cast, "/partners/{ada}/skills/{networking}"), {"level": 5})
    removed = send(paula, "DELETE", path(cast, "/partners/{ada}/skills/{security}"))
    kept = send(paula, "DELETE", path(cast, "/partners/{ada}/skills/{networking}"))

    assert (own.status_code, other.status_code) == (200, 403)
    assert (removed.status_code, kept.status_code) == (204, 403)
    assert list(cast.associate_record.skills.values_list("practice__name", "level")) == [
        ("Networking", 2)
    ]


def test_a_partner_may_not_change_fields_of_their_profile_that_are_not_self_service(cast, api_as):
    paula = api_as(cast.partner)

    with nothing_written():
        response = send(paula, "PATCH", path(cast, "/partners/{paula}"), {"capacity": 40})

    errors = assert_refused(response, "capacity")
    assert "working_hours" in errors[0]["allowed"]


def test_removing_a_skill_the_partner_does_not_have_is_a_404(cast, api_as):
    response = send(api_as(cast.admin), "DELETE", path(cast, "/partners/{ada}/skills/{security}"))

    assert response.status_code == 404


def test_a_deactivated_contact_sees_nothing_of_their_former_client(cast, api_as):
    clients.update_contact(
        cast.admin, cast.acme_user_contact, {"is_active": False}, source=Source.CLI
    )
    bob = api_as(cast.client_user)

    for resource in VISIBLE:
        assert ids(bob.get(f"{API}/{resource}")) == set(), resource
    assert bob.get(path(cast, "/assets/{bob_laptop}")).status_code == 404
    assert bob.get(path(cast, "/partners/{paula}")).status_code == 404


# --- authentication ----------------------------------------------------------------------------

ENDPOINTS = [
    ("GET", "/me"),
    ("GET", "/practices"),
    ("POST", "/practices"),
    ("GET", "/practices/{security}"),
    ("PATCH", "/practices/{security}"),
    ("GET", "/partners"),
    ("POST", "/partners"),
    ("GET", "/partners/{paula}"),
    ("PATCH", "/partners/{paula}"),
    ("PUT", "/partners/{paula}/skills/{security}"),
    ("DELETE", "/partners/{paula}/skills/{security}"),
    ("GET", "/absences"),
    ("POST", "/absences"),
    ("GET", "/absences/{oscar_vacation}"),
    ("PATCH", "/absences/{oscar_vacation}"),
    ("DELETE", "/absences/{oscar_vacation}"),
    ("GET", "/clients"),
    ("POST", "/clients"),
    ("GET", "/clients/{acme}"),
    ("PATCH", "/clients/{acme}"),
    ("PUT", "/clients/{acme}/team"),
    ("GET", "/sites"),
    ("POST", "/sites"),
    ("GET", "/sites/{acme_site}"),
    ("PATCH", "/sites/{acme_site}"),
    ("GET", "/contacts"),
    ("POST", "/contacts"),
    ("GET", "/contacts/{alice}"),
    ("PATCH", "/contacts/{alice}"),
    ("GET", "/assets"),
    ("POST", "/assets"),
    ("GET", "/assets/{bob_laptop}"),
    ("PATCH", "/assets/{bob_laptop}"),
]


def _revoked_token(cast) -> str:
    token, secret = accounts.issue_token(cast.admin, "old laptop", source=Source.CLI)
    accounts.revoke_token(cast.admin, token, source=Source.CLI)
    return f"Bearer {secret}"


CREDENTIALS = {
    "no token": lambda cast: None,
    "a malformed token": lambda cast: "Bearer not-a-thirdway-token",
    "an unknown token": lambda cast: "Bearer tw_" + "x" * 43,
    "a revoked token": _revoked_token,
    "another scheme": lambda cast: "Token tw_" + "x" * 43,
}


@pytest.mark.parametrize("credentials", CREDENTIALS)
@pytest.mark.parametrize(("method", "url"), ENDPOINTS, ids=[f"{m} {u}" for m, u in ENDPOINTS])
def test_every_endpoint_answers_401_without_a_valid_token(cast, method, url, credentials):
    header = CREDENTIALS[credentials](cast)
    client = HttpClient(headers={"Authorization": header} if header else {})
    payload = None if method in ("GET", "DELETE") else {"name": "Anything"}

    with nothing_written():
        response = send(client, method, path(cast, url), payload)

    assert response.status_code == 401
    assert set(response.json()) == {"detail"}


def test_a_browser_session_may_use_the_api_but_must_send_the_csrf_token_to_write(cast):
    browser = HttpClient(enforce_csrf_checks=True)
    browser.force_login(cast.admin)
    payload = {"name": "Backups"}

    assert browser.get(f"{API}/me").json()["username"] == "admin"
    with nothing_written():
        forged = send(browser, "POST", f"{API}/practices", payload)
    browser.get("/accounts/login/")  # a page of the site hands out the CSRF cookie
    token = browser.cookies["csrftoken"].value
    genuine = browser.post(
        f"{API}/practices", data=payload, content_type="application/json", HTTP_X_CSRFTOKEN=token
    )

    assert forged.status_code == 403
    assert genuine.status_code == 201

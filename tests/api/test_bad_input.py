"""Bad input: a 400 naming the field and saying what is allowed, and nothing written."""

import datetime as dt

import pytest

from support.api import API, assert_refused, nothing_written, path, resolve, send
from thirdway.audit.models import Source
from thirdway.clients.models import Contact
from thirdway.network import services as network

PARTNER = {
    "name": "Nina New",
    "email": "nina@network.example",
    "latitude": 45.0,
    "longitude": 5.0,
    "time_zone": "Europe/Paris",
}
CLIENT = {"name": "Initech", "time_zone": "Europe/Paris", "country": "FR"}


def refused(cast, api_as, role, method, url, payload, *fields):
    """Send as ``role``; assert the 400 names ``fields`` and that nothing was written."""
    client = api_as(getattr(cast, role))
    with nothing_written():
        response = send(client, method, path(cast, url), resolve(cast, payload))
    return assert_refused(response, *fields)


def accepted(cast, api_as, role, method, url, payload):
    response = send(api_as(getattr(cast, role)), method, path(cast, url), resolve(cast, payload))
    assert response.status_code in (200, 201), response.content
    return response.json()


@pytest.mark.parametrize(
    ("role", "method", "url", "payload"),
    [
        ("admin", "POST", "/partners", {**PARTNER, "time_zone": "Europe/Lyon"}),
        ("partner", "PATCH", "/partners/{paula}", {"time_zone": "CET+1"}),
        ("admin", "POST", "/clients", {**CLIENT, "time_zone": "Mars/Olympus"}),
        ("partner", "PATCH", "/clients/{acme}", {"time_zone": "paris"}),
        (
            "client_admin",
            "POST",
            "/sites",
            {"client": "@acme", "name": "X", "time_zone": "Nowhere"},
        ),
        ("desk", "PATCH", "/sites/{acme_site}", {"time_zone": "Europe/Atlantis"}),
    ],
    ids=["new partner", "own profile", "new client", "client", "new site", "site"],
)
def test_an_unknown_time_zone_is_refused(cast, api_as, role, method, url, payload):
    errors = refused(cast, api_as, role, method, url, payload, "time_zone")

    assert "IANA" in errors[0]["allowed"]


@pytest.mark.parametrize(
    ("role", "method", "url", "payload", "field", "allowed"),
    [
        ("admin", "POST", "/partners", {**PARTNER, "latitude": 90.5}, "latitude", "-90 to 90"),
        ("admin", "POST", "/partners", {**PARTNER, "longitude": -180.5}, "longitude", "-180"),
        ("partner", "PATCH", "/partners/{paula}", {"latitude": -91}, "latitude", "-90 to 90"),
        ("partner", "PATCH", "/partners/{paula}", {"longitude": 200}, "longitude", "-180"),
        (
            "client_admin",
            "POST",
            "/sites",
            {"client": "@acme", "name": "North pole", "latitude": 91, "longitude": 0},
            "latitude",
            "-90 to 90",
        ),
        ("desk", "PATCH", "/sites/{acme_site}", {"longitude": 181}, "longitude", "-180 to 180"),
    ],
    ids=[
        "partner latitude",
        "partner longitude",
        "own latitude",
        "own longitude",
        "site latitude",
        "site longitude",
    ],
)
def test_coordinates_out_of_range_are_refused(
    cast, api_as, role, method, url, payload, field, allowed
):
    errors = refused(cast, api_as, role, method, url, payload, field)

    assert allowed in next(e["allowed"] for e in errors if e["field"] == field)


@pytest.mark.parametrize(
    ("method", "url", "payload"),
    [
        ("POST", "/partners", {**PARTNER, "capacity": -1}),
        ("PATCH", "/partners/{paula}", {"capacity": -5}),
    ],
    ids=["new partner", "partner"],
)
def test_a_negative_capacity_is_refused(cast, api_as, method, url, payload):
    errors = refused(cast, api_as, "admin", method, url, payload, "capacity")

    assert errors[0]["allowed"] == "a value of at least 0"


@pytest.mark.parametrize("level", [0, 6])
@pytest.mark.parametrize(
    "url",
    ["/partners/{ada}/skills/{security}", "/partners/{paula}/skills/{security}"],
    ids=["new skill", "existing skill"],
)
def test_a_skill_level_outside_one_to_five_is_refused(cast, api_as, url, level):
    errors = refused(cast, api_as, "admin", "PUT", url, {"level": level}, "level")

    assert errors[0]["allowed"] in ("a value of at least 1", "a value of at most 5")


@pytest.mark.parametrize(
    ("role", "method", "url", "payload"),
    [
        (
            "client_admin",
            "POST",
            "/contacts",
            {"client": "@acme", "name": "Alice again", "email": "ALICE@Acme.Example"},
        ),
        (
            "partner",
            "POST",
            "/contacts",
            {"client": "@acme", "name": "Bob again", "email": "bob@acme.example"},
        ),
        ("client_admin", "PATCH", "/contacts/{bob}", {"email": "Alice@ACME.example"}),
    ],
    ids=["new contact, other case", "new contact, same case", "changed e-mail"],
)
def test_a_contact_email_already_used_at_the_client_is_refused_whatever_its_case(
    cast, api_as, role, method, url, payload
):
    errors = refused(cast, api_as, role, method, url, payload, "email")

    assert "no other contact of this client" in errors[0]["allowed"]


def test_the_same_contact_email_is_allowed_at_another_client(cast, api_as):
    payload = {"client": "@globex", "name": "Alice at Globex", "email": "Alice@acme.example"}

    body = accepted(cast, api_as, "admin", "POST", "/contacts", payload)

    assert body["client_id"] == cast.globex.pk
    assert Contact.objects.filter(email__iexact="alice@acme.example").count() == 2


@pytest.fixture
def vacation(cast):
    """The start and end of Oscar's vacation, the one absence of the cast."""
    absence = cast.other_partner_record.absences.get()
    return absence.starts_at, absence.ends_at


def test_an_absence_overlapping_another_is_refused(cast, api_as, vacation):
    starts_at, ends_at = vacation
    payload = {
        "partner": "@oscar",
        "kind": "sick",
        "starts_at": (ends_at - (ends_at - starts_at) / 2).isoformat(),
        "ends_at": (ends_at + (ends_at - starts_at)).isoformat(),
    }

    for role in ("admin", "other_partner"):
        errors = refused(cast, api_as, role, "POST", "/absences", payload, "starts_at")
        assert errors[0]["allowed"] == "a period that overlaps no other absence"


def test_an_absence_moved_onto_another_is_refused(cast, api_as, vacation):
    starts_at, ends_at = vacation
    later = network.add_absence(
        cast.admin,
        cast.other_partner_record,
        kind="training",
        starts_at=ends_at + (ends_at - starts_at),
        ends_at=ends_at + 2 * (ends_at - starts_at),
        source=Source.CLI,
    )
    url = f"/absences/{later.pk}"

    refused(
        cast,
        api_as,
        "other_partner",
        "PATCH",
        url,
        {"starts_at": starts_at.isoformat()},
        "starts_at",
    )


def test_an_absence_starting_when_another_ends_is_allowed(cast, api_as, vacation):
    _, ends_at = vacation
    payload = {
        "partner": "@oscar",
        "kind": "training",
        "starts_at": ends_at.isoformat(),
        "ends_at": (ends_at + dt.timedelta(days=3)).isoformat(),
    }

    body = accepted(cast, api_as, "other_partner", "POST", "/absences", payload)

    assert body["partner_id"] == cast.other_partner_record.pk


@pytest.mark.parametrize(
    ("method", "url", "payload"),
    [
        (
            "POST",
            "/absences",
            {
                "partner": "@paula",
                "kind": "sick",
                "starts_at": "2031-01-02T09:00:00Z",
                "ends_at": "2031-01-01T09:00:00Z",
            },
        ),
        (
            "POST",
            "/absences",
            {
                "partner": "@paula",
                "kind": "sick",
                "starts_at": "2031-01-02T09:00:00Z",
                "ends_at": "2031-01-02T09:00:00Z",
            },
        ),
        ("PATCH", "/absences/{oscar_vacation}", {"ends_at": "2001-01-01T00:00:00Z"}),
    ],
    ids=["new, ends before start", "new, ends when it starts", "moved end before start"],
)
def test_an_absence_ending_before_it_starts_is_refused(cast, api_as, method, url, payload):
    errors = refused(cast, api_as, "admin", method, url, payload, "ends_at")

    assert errors[0]["allowed"] == "a time later than starts_at"


@pytest.mark.parametrize(
    ("method", "url", "payload", "field"),
    [
        ("POST", "/clients", {**CLIENT, "lead_partner": 987654}, "lead_partner"),
        ("PATCH", "/clients/{acme}", {"lead_partner": 987654}, "lead_partner"),
        ("POST", "/practices", {"name": "Backups", "lead": 987654}, "lead"),
        ("PATCH", "/practices/{security}", {"lead": 987654}, "lead"),
        ("PUT", "/clients/{acme}/team", {"partners": ["@ada", 987654]}, "partners"),
        (
            "POST",
            "/absences",
            {
                "partner": 987654,
                "kind": "sick",
                "starts_at": "2031-01-01T09:00:00Z",
                "ends_at": "2031-01-02T09:00:00Z",
            },
            "partner",
        ),
        ("POST", "/sites", {"client": 987654, "name": "X"}, "client"),
        ("POST", "/contacts", {"client": 987654, "name": "X", "email": "x@x.example"}, "client"),
        ("POST", "/assets", {"client": 987654, "name": "X", "kind": "other"}, "client"),
        (
            "POST",
            "/assets",
            {"client": "@acme", "name": "X", "kind": "other", "site": 987654},
            "site",
        ),
        ("PATCH", "/assets/{bob_laptop}", {"contact": 987654}, "contact"),
    ],
    ids=[
        "client lead",
        "client new lead",
        "practice lead",
        "practice new lead",
        "team",
        "absence partner",
        "site client",
        "contact client",
        "asset client",
        "asset site",
        "asset contact",
    ],
)
def test_an_unknown_foreign_id_is_refused(cast, api_as, method, url, payload, field):
    errors = refused(cast, api_as, "admin", method, url, payload, field)

    assert "id" in errors[0]["allowed"]


def test_an_inactive_partner_cannot_lead_a_client(cast, api_as):
    network.update_partner(cast.admin, cast.desk_record, {"is_active": False}, source=Source.CLI)

    refused(
        cast, api_as, "admin", "PATCH", "/clients/{acme}", {"lead_partner": "@dean"}, "lead_partner"
    )


@pytest.mark.parametrize("role", ["admin", "partner", "client_admin"])
@pytest.mark.parametrize(
    ("method", "url", "payload", "field"),
    [
        (
            "POST",
            "/assets",
            {"client": "@acme", "name": "X", "kind": "laptop", "site": "@globex_site"},
            "site",
        ),
        (
            "POST",
            "/assets",
            {"client": "@acme", "name": "X", "kind": "laptop", "contact": "@hank"},
            "contact",
        ),
        ("PATCH", "/assets/{bob_laptop}", {"site": "@globex_site"}, "site"),
        ("PATCH", "/assets/{bob_laptop}", {"contact": "@gina"}, "contact"),
    ],
    ids=[
        "new asset, Globex site",
        "new asset, Globex contact",
        "asset moved to Globex site",
        "asset given to Globex contact",
    ],
)
def test_another_clients_site_or_contact_in_an_asset_is_refused(
    cast, api_as, role, method, url, payload, field
):
    errors = refused(cast, api_as, role, method, url, payload, field)

    assert errors[0]["allowed"] == f"the id of one of its {field}s"
    # The message names the id sent back, nothing of the other client.
    assert "Globex" not in str(errors) and "Clinic" not in str(errors)


WRITE_PAYLOADS = [
    ("POST", "/practices", {"name": "Backups"}),
    ("PATCH", "/practices/{security}", {}),
    ("POST", "/partners", PARTNER),
    ("PATCH", "/partners/{paula}", {}),
    ("PUT", "/partners/{ada}/skills/{security}", {"level": 3}),
    (
        "POST",
        "/absences",
        {
            "partner": "@paula",
            "kind": "sick",
            "starts_at": "2031-01-01T09:00:00Z",
            "ends_at": "2031-01-02T09:00:00Z",
        },
    ),
    ("PATCH", "/absences/{oscar_vacation}", {}),
    ("POST", "/clients", CLIENT),
    ("PATCH", "/clients/{acme}", {}),
    ("PUT", "/clients/{acme}/team", {"partners": []}),
    ("POST", "/sites", {"client": "@acme", "name": "Depot"}),
    ("PATCH", "/sites/{acme_site}", {}),
    ("POST", "/contacts", {"client": "@acme", "name": "Carol", "email": "carol@acme.example"}),
    ("PATCH", "/contacts/{alice}", {}),
    ("POST", "/assets", {"client": "@acme", "name": "X", "kind": "other"}),
    ("PATCH", "/assets/{bob_laptop}", {}),
]


@pytest.mark.parametrize("extra", ["colour", "id", "created_at"])
@pytest.mark.parametrize(
    ("method", "url", "payload"), WRITE_PAYLOADS, ids=[f"{m} {u}" for m, u, _ in WRITE_PAYLOADS]
)
def test_an_unknown_field_is_refused(cast, api_as, method, url, payload, extra):
    errors = refused(cast, api_as, "admin", method, url, {**payload, extra: "1"}, extra)

    assert errors[0]["allowed"] == "only the documented fields"


def test_a_partner_record_field_outside_the_schema_is_refused(cast, api_as):
    refused(cast, api_as, "admin", "PATCH", "/partners/{paula}", {"user": "@admin"}, "user")


@pytest.mark.parametrize(
    ("method", "url", "payload", "field"),
    [
        ("POST", "/partners", {**PARTNER, "capacity": "lots"}, "capacity"),
        ("POST", "/partners", {**PARTNER, "latitude": "north"}, "latitude"),
        ("POST", "/partners", {**PARTNER, "name": 42}, "name"),
        ("POST", "/partners", {**PARTNER, "kind": "wizard"}, "kind"),
        ("POST", "/partners", {**PARTNER, "working_hours": "always"}, "working_hours"),
        ("POST", "/partners", {**PARTNER, "languages": "en"}, "languages"),
        ("PATCH", "/partners/{paula}", {"is_active": "maybe"}, "is_active"),
        ("PATCH", "/partners/{paula}", {"service_radius_km": 2.5}, "service_radius_km"),
        ("PUT", "/partners/{ada}/skills/{security}", {"level": "expert"}, "level"),
        ("PUT", "/clients/{acme}/team", {"partners": "@ada"}, "partners"),
        ("PATCH", "/absences/{oscar_vacation}", {"starts_at": "tomorrow"}, "starts_at"),
        ("PATCH", "/clients/{acme}", {"status": "bankrupt"}, "status"),
        ("POST", "/assets", {"client": "acme", "name": "X", "kind": "other"}, "client"),
        ("POST", "/contacts", {"client": "@acme", "name": "X"}, "email"),
    ],
    ids=[
        "integer",
        "number",
        "string",
        "choice",
        "object",
        "list",
        "boolean",
        "whole number",
        "level",
        "list of ids",
        "date and time",
        "status",
        "id",
        "missing field",
    ],
)
def test_a_value_of_the_wrong_type_is_refused(cast, api_as, method, url, payload, field):
    refused(cast, api_as, "admin", method, url, payload, field)


@pytest.mark.parametrize(
    "hours",
    [
        {"mon": [["17:00", "09:00"]]},
        {"tue": [["09:00", "12:00"], ["11:00", "14:00"]]},
        {"funday": [["09:00", "17:00"]]},
        {"wed": [["9:00", "17:00"]]},
        {"thu": [["09:00", "25:00"]]},
        {"fri": [["09:60", "17:00"]]},
        {"sat": [["noon", "17:00"]]},
        {"sun": [["09:00", "12:00", "17:00"]]},
        {"mon": [["09:00"]]},
        {"mon": "09:00-17:00"},
    ],
    ids=[
        "inverted",
        "overlapping",
        "bad weekday",
        "hour without leading zero",
        "hour 25",
        "minute 60",
        "not a time",
        "three times",
        "one time",
        "not a list",
    ],
)
@pytest.mark.parametrize(
    ("role", "method", "url", "payload"),
    [("admin", "POST", "/partners", PARTNER), ("partner", "PATCH", "/partners/{paula}", {})],
    ids=["new partner", "own profile"],
)
def test_malformed_working_hours_are_refused(cast, api_as, role, method, url, payload, hours):
    errors = refused(
        cast, api_as, role, method, url, {**payload, "working_hours": hours}, "working_hours"
    )

    assert all(error["field"].startswith("working_hours") for error in errors)


@pytest.mark.parametrize(
    ("role", "url", "field"),
    [
        ("partner", "/partners/{paula}", "phone"),
        ("partner", "/partners/{paula}", "working_hours"),
        ("admin", "/partners/{paula}", "name"),
        ("admin", "/partners/{paula}", "region"),
        ("admin", "/practices/{security}", "description"),
        ("partner", "/clients/{acme}", "notes"),
        ("desk", "/sites/{acme_site}", "address"),
        ("client_admin", "/contacts/{bob}", "phone"),
        ("client_admin", "/assets/{bob_laptop}", "serial"),
        ("other_partner", "/absences/{oscar_vacation}", "note"),
        ("other_partner", "/absences/{oscar_vacation}", "kind"),
        ("client_admin", "/contacts/{bob}", "email"),
        ("partner", "/clients/{acme}", "name"),
    ],
)
def test_null_is_refused_for_a_field_that_cannot_be_null(cast, api_as, role, url, field):
    refused(cast, api_as, role, "PATCH", url, {field: None}, field)


@pytest.mark.parametrize(
    ("role", "url", "field"),
    [
        ("admin", "/partners/{paula}", "name"),
        ("admin", "/practices/{security}", "name"),
        ("partner", "/clients/{acme}", "name"),
        ("desk", "/sites/{acme_site}", "time_zone"),
        ("client_admin", "/contacts/{bob}", "email"),
        ("client_admin", "/assets/{bob_laptop}", "name"),
    ],
)
def test_an_empty_value_is_refused_for_a_field_that_needs_one(cast, api_as, role, url, field):
    refused(cast, api_as, role, "PATCH", url, {field: ""}, field)


def test_a_date_and_time_without_offset_is_refused(cast, api_as):
    payload = {
        "partner": "@paula",
        "kind": "training",
        "starts_at": "2031-03-02T08:00:00",
        "ends_at": "2031-03-04T18:00:00",
    }

    errors = refused(cast, api_as, "partner", "POST", "/absences", payload, "starts_at", "ends_at")

    assert "offset" in errors[0]["allowed"]


def test_a_body_that_is_not_json_is_refused(cast, api_as):
    client = api_as(cast.admin)

    with nothing_written():
        response = client.post(f"{API}/practices", data="{name:", content_type="application/json")

    errors = assert_refused(response, "__all__")
    assert errors[0]["problem"].startswith("The body is not valid JSON: Expecting property name")
    assert "JSON object" in errors[0]["allowed"]


@pytest.mark.parametrize(
    "body",
    [b"\xff\xfe{", b"[1, 2", b"nul", b"{} {}", b'"unterminated'],
    ids=["not utf-8", "cut short", "a bad literal", "two values", "an open string"],
)
def test_every_unreadable_body_is_refused_in_the_documented_shape(cast, api_as, body):
    client = api_as(cast.admin)

    with nothing_written():
        response = client.patch(
            f"{API}/practices/{cast.security.pk}", data=body, content_type="application/json"
        )

    assert assert_refused(response, "__all__")[0]["field"] == "__all__"


def test_a_json_body_over_the_size_limit_is_a_413_saying_the_limit(cast, api_as, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    client = api_as(cast.admin)
    payload = {"name": "Forensics", "description": "x" * 2000}

    with nothing_written():
        response = send(client, "POST", f"{API}/practices", payload)

    assert response.status_code == 413, response.content
    body = response.json()
    assert body["limit_bytes"] == 1000
    assert body["errors"] == [
        {
            "field": "__all__",
            "problem": "The request body is over the size limit.",
            "allowed": "a body of at most 1000 bytes",
        }
    ]

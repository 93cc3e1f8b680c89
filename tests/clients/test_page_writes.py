"""Changes made through the pages' forms.

A permitted POST goes through the service and leaves an audit record of source "web"; a bad value
re-renders the form with the error and writes nothing; a POST the role may not make writes nothing
either (403 when the object is in its scope, 404 when it is not).
"""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest

from thirdway.accounts.models import ApiToken, Role, User
from thirdway.audit.models import AuditRecord, Source
from thirdway.clients.models import Asset, Client, Contact, Site
from thirdway.network import services as network
from thirdway.network.models import Absence, Partner

PASSWORD = "correct-horse-battery-staple"
ROLES = [
    "admin",
    "partner",
    "other_partner",
    "associate",
    "desk",
    "client_admin",
    "client_user",
    "other_client_admin",
    "other_client_user",
    "outsider",
]
NETWORK = {"admin", "partner", "other_partner", "associate", "desk"}


def _all_but(*allowed: str) -> list[str]:
    return [role for role in ROLES if role not in allowed]


MODELS = (AuditRecord, User, ApiToken, Partner, Absence, Client, Site, Contact, Asset)


@pytest.fixture
def written():
    """Counts of every table a form can write to, for proving that nothing was written."""

    def counts() -> dict[str, int]:
        return {model.__name__: model.objects.count() for model in MODELS}

    return counts


def _form(browser, url, page, form_fields, **changes) -> dict[str, str]:
    """The form at ``url`` as the browser would send it back, with ``changes``."""
    data = form_fields(page(browser.get(url)))
    missing = set(changes) - set(data)
    assert not missing, f"the form has no {missing}"
    data.update(changes)
    return data


# --- partners ----------------------------------------------------------------------------------

NEW_PARTNER = {
    "name": "Nina New",
    "email": "nina@network.example",
    "kind": "associate",
    "region": "Bretagne",
    "town": "Rennes",
    "latitude": "48.11",
    "longitude": "-1.68",
    "time_zone": "Europe/Paris",
    "service_radius_km": "40",
    "capacity": "6",
    "working_hours": json.dumps({"mon": [["08:00", "12:00"]]}),
    "languages": '["fr", "br"]',
    "username": "nina",
    "password": PASSWORD,
}


def test_the_practice_admin_adds_a_partner_with_an_account(
    cast, web_as, page, form_fields, web_audit
):
    browser = web_as(cast.admin)
    data = _form(browser, "/partners/new/", page, form_fields, **NEW_PARTNER)
    response = browser.post("/partners/new/", data)
    nina = Partner.objects.get(email="nina@network.example")
    assert response.status_code == 302
    assert response["Location"] == f"/partners/{nina.pk}/"
    assert (nina.name, nina.kind, nina.region, nina.capacity) == (
        "Nina New",
        "associate",
        "Bretagne",
        6,
    )
    assert nina.working_hours == {"mon": [["08:00", "12:00"]]}
    assert nina.languages == ["fr", "br"]
    assert nina.is_active
    assert nina.user.username == "nina"
    assert nina.user.role == Role.ASSOCIATE
    assert nina.user.check_password(PASSWORD)
    record = web_audit(cast.admin, "partner.create", object_id=str(nina.pk)).get()
    assert record.scope == f"partner:{nina.pk}"
    assert record.changes["name"] == [None, "Nina New"]
    assert web_audit(cast.admin, "user.create", object_id=str(nina.user.pk)).count() == 1
    # She is in the directory, and can sign in.
    assert "Nina New" in browser.get("/partners/").content.decode()
    assert browser.get(response["Location"]).status_code == 200


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"time_zone": "Mars/Olympus"}, "Unknown time zone &#x27;Mars/Olympus&#x27;."),
        ({"latitude": "91"}, "Latitude 91.0 is out of range."),
        ({"capacity": "-1"}, "Ensure this value is greater than or equal to 0."),
        ({"email": "not-an-email"}, "Enter a valid email address."),
        ({"email": "paula@network.example"}, "Partner with this Email already exists."),
        ({"working_hours": "{not json"}, "Not valid JSON"),
        ({"working_hours": '{"mon": [["17:00", "09:00"]]}'}, "ends before it starts"),
        ({"languages": '["English"]'}, "Languages must be a list of language codes."),
        ({"username": "paula"}, "The username &#x27;paula&#x27; is already taken."),
        ({"password": "123"}, "This password is too short."),
        ({"kind": "boss"}, "Select a valid choice."),
    ],
)
def test_a_bad_value_for_a_new_partner_is_shown_and_nothing_is_written(
    cast, web_as, page, form_fields, written, changes, error
):
    browser = web_as(cast.admin)
    data = _form(browser, "/partners/new/", page, form_fields, **{**NEW_PARTNER, **changes})
    before = written()
    html = page(browser.post("/partners/new/", data))
    assert error in html
    assert "<h1>New partner</h1>" in html
    assert 'value="Nina New"' in html  # what was typed is kept
    assert written() == before
    assert not User.objects.filter(username="nina").exists()


@pytest.mark.parametrize("role", _all_but("admin"))
def test_only_the_practice_admin_adds_partners(cast, web_as, role, written):
    before = written()
    response = web_as(getattr(cast, role)).post("/partners/new/", NEW_PARTNER)
    assert response.status_code == 404
    assert written() == before


def test_the_practice_admin_changes_any_partner(cast, web_as, page, form_fields, web_audit):
    browser = web_as(cast.admin)
    url = f"/partners/{cast.other_partner_record.pk}/edit/"
    data = _form(browser, url, page, form_fields, region="Ontario", capacity="12")
    response = browser.post(url, data)
    assert response.status_code == 302
    assert response["Location"] == f"/partners/{cast.other_partner_record.pk}/"
    oscar = Partner.objects.get(pk=cast.other_partner_record.pk)
    assert (oscar.region, oscar.capacity) == ("Ontario", 12)
    assert oscar.working_hours == cast.other_partner_record.working_hours
    record = web_audit(cast.admin, "partner.update", object_id=str(oscar.pk)).get()
    assert record.changes == {"region": ["Québec", "Ontario"], "capacity": [8, 12]}


def test_changing_a_partner_s_kind_changes_what_their_account_may_see(
    cast, web_as, page, form_fields, web_audit
):
    browser = web_as(cast.admin)
    url = f"/partners/{cast.associate_record.pk}/edit/"
    browser.post(url, _form(browser, url, page, form_fields, kind="partner"))
    cast.associate.refresh_from_db()
    assert cast.associate.role == Role.PARTNER
    assert web_audit(cast.admin, "user.role", object_id=str(cast.associate.pk)).count() == 1


@pytest.mark.parametrize("role", ["partner", "other_partner", "associate", "desk"])
def test_a_member_of_the_network_changes_their_own_profile(
    cast, web_as, page, form_fields, web_audit, role
):
    user = getattr(cast, role)
    browser = web_as(user)
    url = f"/partners/{user.partner.pk}/edit/"
    hours = json.dumps({"sat": [["10:00", "14:00"]]})
    data = _form(browser, url, page, form_fields, phone="+1 555 0100", working_hours=hours)
    # Fields that are not theirs to change are not in the form; sending them changes nothing.
    data.update(name="Someone Else", capacity="999", kind="desk")
    response = browser.post(url, data)
    assert response.status_code == 302
    record = Partner.objects.get(pk=user.partner.pk)
    assert record.phone == "+1 555 0100"
    assert record.working_hours == {"sat": [["10:00", "14:00"]]}
    assert (record.name, record.capacity, record.kind) == (
        user.partner.name,
        8,
        user.partner.kind,
    )
    changes = web_audit(user, "partner.update", object_id=str(record.pk)).get().changes
    assert set(changes) == {"phone", "working_hours"}


def test_a_partner_with_no_languages_listed_can_still_save_their_profile(
    cast, web_as, page, form_fields, web_audit
):
    network.update_partner(
        cast.admin, cast.partner_record, {"languages": [], "working_hours": {}}, source=Source.CLI
    )
    browser = web_as(cast.partner)
    url = f"/partners/{cast.partner_record.pk}/edit/"
    data = _form(browser, url, page, form_fields, phone="04 00 00 00 00")
    assert (data["languages"], data["working_hours"]) == ("[]", "{}")
    response = browser.post(url, data)
    assert response.status_code == 302, response.content.decode()
    paula = Partner.objects.get(pk=cast.partner_record.pk)
    assert (paula.phone, paula.languages, paula.working_hours) == ("04 00 00 00 00", [], {})
    assert web_audit(cast.partner, "partner.update").get().changes == {
        "phone": ["", "04 00 00 00 00"]
    }


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"latitude": "123"}, "Latitude 123.0 is out of range."),
        ({"time_zone": "Lyon"}, "Unknown time zone &#x27;Lyon&#x27;."),
        ({"working_hours": '{"funday": []}'}, "Unknown weekday &#x27;funday&#x27;."),
        ({"working_hours": '{"mon": [["09:00", "12:00"], ["11:00", "13:00"]]}'}, "overlapping"),
        ({"languages": "fr"}, "Not valid JSON"),
        ({"service_radius_km": "20001"}, "Ensure this value is less than or equal to 20000."),
    ],
)
def test_a_bad_value_in_a_profile_is_shown_and_nothing_is_written(
    cast, web_as, page, form_fields, written, changes, error
):
    browser = web_as(cast.partner)
    url = f"/partners/{cast.partner_record.pk}/edit/"
    data = _form(browser, url, page, form_fields, **changes)
    before = written()
    html = page(browser.post(url, data))
    assert error in html
    assert "<h1>Edit Paula Partner</h1>" in html
    assert written() == before
    paula = Partner.objects.get(pk=cast.partner_record.pk)
    assert (paula.latitude, paula.time_zone) == (45.76, "Europe/Paris")
    assert paula.working_hours == cast.partner_record.working_hours


@pytest.mark.parametrize("role", _all_but("admin", "partner"))
def test_nobody_else_changes_a_partner_s_profile(cast, web_as, role, written):
    before = written()
    response = web_as(getattr(cast, role)).post(
        f"/partners/{cast.partner_record.pk}/edit/", {"phone": "123", "region": "X"}
    )
    assert response.status_code == (403 if role in NETWORK else 404)
    assert "Paula" not in response.content.decode()
    assert written() == before
    assert Partner.objects.get(pk=cast.partner_record.pk).phone == ""


# --- absences ----------------------------------------------------------------------------------

ABSENCE = {
    "kind": "training",
    "starts_at": "2031-03-03T09:00",
    "ends_at": "2031-03-04T17:30",
    "note": "Firewall course",
}


@pytest.mark.parametrize(
    ("role", "whose"),
    [
        ("admin", "other_partner_record"),
        ("admin", "desk_record"),
        ("partner", "partner_record"),
        ("other_partner", "other_partner_record"),
        ("associate", "associate_record"),
        ("desk", "desk_record"),
    ],
)
def test_an_absence_is_recorded_by_the_admin_or_the_partner_themselves(
    cast, web_as, page, form_fields, web_audit, role, whose
):
    user, partner = getattr(cast, role), getattr(cast, whose)
    browser = web_as(user)
    detail = page(browser.get(f"/partners/{partner.pk}/"))
    action = f"/partners/{partner.pk}/absences/"
    data = form_fields(detail, action=action)
    assert set(data) == set(ABSENCE)
    response = browser.post(action, ABSENCE, follow=True)
    assert response.redirect_chain[-1][0] == f"/partners/{partner.pk}/"
    assert "Absence recorded." in response.content.decode()
    absence = partner.absences.get(note="Firewall course")
    # The times were typed in the viewer's zone.
    zone = ZoneInfo(user.time_zone)
    assert absence.starts_at == dt.datetime(2031, 3, 3, 9, 0, tzinfo=zone)
    assert absence.ends_at == dt.datetime(2031, 3, 4, 17, 30, tzinfo=zone)
    assert absence.kind == "training"
    record = web_audit(user, "absence.add", object_id=str(absence.pk)).get()
    assert record.scope == f"partner:{partner.pk}"


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"ends_at": "2031-03-03T08:00"}, "The absence must end after it starts."),
        ({"starts_at": "someday"}, "Enter a valid date/time."),
        ({"kind": "holiday"}, "Select a valid choice."),
        ({"ends_at": ""}, "This field is required."),
    ],
)
def test_a_bad_absence_is_refused_with_the_reason_and_nothing_is_written(
    cast, web_as, written, changes, error
):
    browser = web_as(cast.partner)
    before = written()
    response = browser.post(
        f"/partners/{cast.partner_record.pk}/absences/", {**ABSENCE, **changes}, follow=True
    )
    assert response.redirect_chain[-1][0] == f"/partners/{cast.partner_record.pk}/"
    html = response.content.decode()
    assert error in html
    assert "Absence recorded." not in html
    assert written() == before


def test_an_absence_that_overlaps_another_is_refused(cast, web_as, written):
    existing = cast.other_partner_record.absences.get()
    zone = ZoneInfo(cast.other_partner.time_zone)
    overlapping = {
        **ABSENCE,
        "starts_at": f"{existing.starts_at.astimezone(zone) + dt.timedelta(days=1):%Y-%m-%dT%H:%M}",
        "ends_at": f"{existing.ends_at.astimezone(zone) + dt.timedelta(days=1):%Y-%m-%dT%H:%M}",
    }
    before = written()
    response = web_as(cast.other_partner).post(
        f"/partners/{cast.other_partner_record.pk}/absences/", overlapping, follow=True
    )
    assert "This absence overlaps another one" in response.content.decode()
    assert written() == before


@pytest.mark.parametrize("role", _all_but("admin", "partner"))
def test_nobody_else_records_an_absence_for_a_partner(cast, web_as, role, written):
    before = written()
    response = web_as(getattr(cast, role)).post(
        f"/partners/{cast.partner_record.pk}/absences/", ABSENCE
    )
    assert response.status_code == (403 if role in NETWORK else 404)
    assert written() == before


@pytest.mark.parametrize("role", ["admin", "other_partner"])
def test_an_absence_is_cancelled_by_the_admin_or_the_partner_themselves(
    cast, web_as, web_audit, role
):
    user = getattr(cast, role)
    absence = cast.other_partner_record.absences.get()
    response = web_as(user).post(
        f"/partners/{cast.other_partner_record.pk}/absences/{absence.pk}/cancel/", follow=True
    )
    assert "Absence cancelled." in response.content.decode()
    assert not Absence.objects.filter(pk=absence.pk).exists()
    assert web_audit(user, "absence.cancel", object_id=str(absence.pk)).count() == 1


@pytest.mark.parametrize("role", _all_but("admin", "other_partner"))
def test_nobody_else_cancels_a_partner_s_absence(cast, web_as, role, written):
    absence = cast.other_partner_record.absences.get()
    before = written()
    response = web_as(getattr(cast, role)).post(
        f"/partners/{cast.other_partner_record.pk}/absences/{absence.pk}/cancel/"
    )
    assert response.status_code == (403 if role in NETWORK else 404)
    assert written() == before


def test_an_absence_is_cancelled_only_through_its_own_partner(cast, web_as, written):
    absence = cast.other_partner_record.absences.get()
    before = written()
    browser = web_as(cast.admin)
    url = f"/partners/{cast.partner_record.pk}/absences/{absence.pk}/cancel/"
    assert browser.post(url).status_code == 404
    assert browser.get(url).status_code == 405
    assert written() == before


# --- clients -----------------------------------------------------------------------------------


def _new_client(cast) -> dict[str, str]:
    return {
        "name": "Initech",
        "lead_partner": str(cast.partner_record.pk),
        "time_zone": "Europe/Paris",
        "country": "FR",
        "region": "",
        "status": "prospect",
        "notes": "Met at the fair.",
    }


def test_the_practice_admin_adds_a_client(cast, web_as, page, form_fields, web_audit):
    browser = web_as(cast.admin)
    data = _form(browser, "/clients/new/", page, form_fields, **_new_client(cast))
    response = browser.post("/clients/new/", data)
    initech = Client.objects.get(name="Initech")
    assert response.status_code == 302
    assert response["Location"] == f"/clients/{initech.pk}/"
    assert (initech.lead_partner, initech.status, initech.country) == (
        cast.partner_record,
        "prospect",
        "FR",
    )
    record = web_audit(cast.admin, "client.create", object_id=str(initech.pk)).get()
    assert record.scope == f"client:{initech.pk}"
    # Its lead partner sees it at once; the other partner does not.
    assert "Initech" in web_as(cast.partner).get("/clients/").content.decode()
    assert web_as(cast.other_partner).get(f"/clients/{initech.pk}/").status_code == 404


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"country": "ZZ"}, "Unknown country code &#x27;ZZ&#x27;."),
        ({"time_zone": "Paris"}, "Unknown time zone &#x27;Paris&#x27;."),
        ({"name": ""}, "This field is required."),
        ({"status": "bankrupt"}, "Select a valid choice."),
        ({"lead_partner": "999999"}, "Select a valid choice."),
    ],
)
def test_a_bad_value_for_a_new_client_is_shown_and_nothing_is_written(
    cast, web_as, page, form_fields, written, changes, error
):
    browser = web_as(cast.admin)
    data = _form(browser, "/clients/new/", page, form_fields, **{**_new_client(cast), **changes})
    before = written()
    html = page(browser.post("/clients/new/", data))
    assert error in html
    assert "<h1>New client</h1>" in html
    assert written() == before


@pytest.mark.parametrize("role", _all_but("admin"))
def test_only_the_practice_admin_adds_clients(cast, web_as, role, written):
    before = written()
    response = web_as(getattr(cast, role)).post("/clients/new/", _new_client(cast))
    assert response.status_code == 403
    assert written() == before


def test_the_practice_admin_hands_a_client_to_another_lead_partner(
    cast, web_as, page, form_fields, web_audit
):
    browser = web_as(cast.admin)
    url = f"/clients/{cast.acme.pk}/edit/"
    data = _form(browser, url, page, form_fields, lead_partner=str(cast.other_partner_record.pk))
    assert browser.post(url, data).status_code == 302
    record = web_audit(cast.admin, "client.update", object_id=str(cast.acme.pk)).get()
    assert record.changes == {
        "lead_partner": [cast.partner_record.pk, cast.other_partner_record.pk]
    }
    # Oscar now sees Acme; Paula does not any more.
    assert web_as(cast.other_partner).get(f"/clients/{cast.acme.pk}/").status_code == 200
    assert web_as(cast.partner).get(f"/clients/{cast.acme.pk}/").status_code == 404


def test_the_lead_partner_changes_their_client_but_not_who_leads_it(
    cast, web_as, page, form_fields, web_audit
):
    browser = web_as(cast.partner)
    url = f"/clients/{cast.acme.pk}/edit/"
    data = _form(browser, url, page, form_fields, notes="Closed on Mondays.")
    assert "lead_partner" not in data
    data["lead_partner"] = str(cast.other_partner_record.pk)
    assert browser.post(url, data).status_code == 302
    acme = Client.objects.get(pk=cast.acme.pk)
    assert acme.notes == "Closed on Mondays."
    assert acme.lead_partner == cast.partner_record
    record = web_audit(cast.partner, "client.update", object_id=str(acme.pk)).get()
    assert record.changes == {"notes": ["", "Closed on Mondays."]}


def test_a_bad_value_for_a_client_is_shown_and_nothing_is_written(
    cast, web_as, page, form_fields, written
):
    browser = web_as(cast.partner)
    url = f"/clients/{cast.acme.pk}/edit/"
    data = _form(browser, url, page, form_fields, time_zone="Nowhere/Town", notes="x")
    before = written()
    html = page(browser.post(url, data))
    assert "Unknown time zone &#x27;Nowhere/Town&#x27;." in html
    assert written() == before
    assert Client.objects.get(pk=cast.acme.pk).time_zone == "Europe/Paris"


CLIENT_EDIT_STATUS = {
    "other_partner": 404,
    "associate": 403,
    "desk": 403,
    "client_admin": 403,
    "client_user": 403,
    "other_client_admin": 404,
    "other_client_user": 404,
    "outsider": 404,
}


@pytest.mark.parametrize("role", sorted(CLIENT_EDIT_STATUS))
def test_nobody_else_changes_a_client(cast, web_as, role, written):
    before = written()
    response = web_as(getattr(cast, role)).post(
        f"/clients/{cast.acme.pk}/edit/", {**_new_client(cast), "name": "Hijacked"}
    )
    assert response.status_code == CLIENT_EDIT_STATUS[role]
    assert written() == before
    assert Client.objects.get(pk=cast.acme.pk).name == "Acme Bakery"


# --- sites, contacts and assets ----------------------------------------------------------------

DATA_EDITORS = ["admin", "partner", "desk", "client_admin"]


def _new_things(cast) -> dict[str, tuple[dict[str, str], type, str]]:
    """Per kind: what the form is filled in with, the model, and how the object is found."""
    return {
        "site": (
            {
                "name": "Warehouse",
                "address": "9 quai des Sacs, Lyon",
                "latitude": "45.74",
                "longitude": "4.82",
                "time_zone": "Europe/Paris",
            },
            Site,
            "Warehouse",
        ),
        "contact": (
            {
                "name": "Carl Acme",
                "email": "carl@acme.example",
                "phone": "04 11 22 33 44",
                "role": "user",
                "is_active": "on",
            },
            Contact,
            "Carl Acme",
        ),
        "asset": (
            {
                "name": "PRINTER-1",
                "kind": "printer",
                "site": str(cast.acme_site.pk),
                "contact": str(cast.acme_user_contact.pk),
                "serial": "SN-1",
            },
            Asset,
            "PRINTER-1",
        ),
    }


@pytest.mark.parametrize("kind", ["site", "contact", "asset"])
@pytest.mark.parametrize("role", DATA_EDITORS)
def test_a_client_s_data_is_added_by_those_who_look_after_it(
    cast, web_as, page, form_fields, web_audit, role, kind
):
    user = getattr(cast, role)
    values, model, name = _new_things(cast)[kind]
    browser = web_as(user)
    url = f"/clients/{cast.acme.pk}/{kind}/new/"
    data = _form(browser, url, page, form_fields, **values)
    response = browser.post(url, data)
    assert response.status_code == 302
    assert response["Location"] == f"/clients/{cast.acme.pk}/"
    created = model.objects.get(name=name)
    assert created.client == cast.acme
    record = web_audit(user, f"{kind}.create", object_id=str(created.pk)).get()
    assert record.scope == f"client:{cast.acme.pk}"
    assert name in browser.get(f"/clients/{cast.acme.pk}/").content.decode()


def test_an_asset_may_be_added_without_a_site_or_a_user(cast, web_as, page, form_fields, web_audit):
    browser = web_as(cast.client_admin)
    url = f"/clients/{cast.acme.pk}/asset/new/"
    data = _form(browser, url, page, form_fields, name="M365", kind="cloud", site="", contact="")
    response = browser.post(url, data)
    assert response.status_code == 302
    asset = Asset.objects.get(name="M365")
    assert (asset.site, asset.contact, asset.client) == (None, None, cast.acme)
    assert web_audit(cast.client_admin, "asset.create", object_id=str(asset.pk)).count() == 1


def test_an_asset_may_have_a_site_and_no_user(cast, web_as, page, form_fields):
    browser = web_as(cast.partner)
    url = f"/clients/{cast.acme.pk}/asset/new/"
    site = str(cast.acme_site.pk)
    data = _form(browser, url, page, form_fields, name="NAS", kind="server", site=site)
    assert browser.post(url, data).status_code == 302
    asset = Asset.objects.get(name="NAS")
    assert (asset.site, asset.contact) == (cast.acme_site, None)


@pytest.mark.parametrize(
    ("kind", "changes", "error"),
    [
        ("site", {"latitude": "200"}, "Latitude 200.0 is out of range."),
        ("site", {"time_zone": "Lyon"}, "Unknown time zone &#x27;Lyon&#x27;."),
        ("site", {"name": ""}, "This field is required."),
        ("contact", {"email": "carl-at-acme"}, "Enter a valid email address."),
        ("contact", {"email": "BOB@acme.example"}, "is already a contact of this client."),
        ("contact", {"role": "owner"}, "Select a valid choice."),
        ("asset", {"kind": "spaceship"}, "Select a valid choice."),
        ("asset", {"site": "{globex_site}"}, "Select a valid choice."),
        ("asset", {"contact": "{globex_contact}"}, "Select a valid choice."),
    ],
)
def test_a_bad_value_for_a_client_s_data_is_shown_and_nothing_is_written(
    cast, web_as, page, form_fields, written, kind, changes, error
):
    values, _, _ = _new_things(cast)[kind]
    ids = {"globex_site": cast.globex_site.pk, "globex_contact": cast.globex_user_contact.pk}
    changes = {field: value.format(**ids) for field, value in changes.items()}
    browser = web_as(cast.client_admin)
    url = f"/clients/{cast.acme.pk}/{kind}/new/"
    data = _form(browser, url, page, form_fields, **{**values, **changes})
    before = written()
    html = page(browser.post(url, data))
    assert error in html
    assert f"<h1>New {kind} · Acme Bakery</h1>" in html
    assert written() == before


ACME_DATA_STATUS = {
    "other_partner": 404,
    "associate": 403,
    "client_user": 403,
    "other_client_admin": 404,
    "other_client_user": 404,
    "outsider": 404,
}


@pytest.mark.parametrize("kind", ["site", "contact", "asset"])
@pytest.mark.parametrize("role", sorted(ACME_DATA_STATUS))
def test_nobody_else_adds_to_a_client_s_data(cast, web_as, role, written, kind):
    values, _, _ = _new_things(cast)[kind]
    before = written()
    response = web_as(getattr(cast, role)).post(f"/clients/{cast.acme.pk}/{kind}/new/", values)
    assert response.status_code == ACME_DATA_STATUS[role]
    assert written() == before


def _existing(cast):
    """Per kind: an object of Acme, a change to make to it, and the field that changes."""
    return {
        "site": (cast.acme_site, {"name": "Main bakery"}, "name"),
        "contact": (cast.acme_user_contact, {"phone": "06 12 34 56 78"}, "phone"),
        "asset": (cast.acme_laptop, {"operating_system": "Debian 13"}, "operating_system"),
    }


@pytest.mark.parametrize("kind", ["site", "contact", "asset"])
@pytest.mark.parametrize("role", DATA_EDITORS)
def test_a_client_s_data_is_changed_by_those_who_look_after_it(
    cast, web_as, page, form_fields, web_audit, role, kind
):
    user = getattr(cast, role)
    obj, changes, field = _existing(cast)[kind]
    before = getattr(obj, field)
    browser = web_as(user)
    url = f"/clients/{cast.acme.pk}/{kind}/{obj.pk}/edit/"
    response = browser.post(url, _form(browser, url, page, form_fields, **changes))
    assert response.status_code == 302
    obj.refresh_from_db()
    assert getattr(obj, field) == changes[field]
    record = web_audit(user, f"{kind}.update", object_id=str(obj.pk)).get()
    assert record.changes == {field: [before, changes[field]]}
    assert record.scope == f"client:{cast.acme.pk}"


def test_an_asset_is_moved_off_its_site_and_given_to_another_person(
    cast, web_as, page, form_fields, web_audit
):
    browser = web_as(cast.desk)
    url = f"/clients/{cast.acme.pk}/asset/{cast.acme_laptop.pk}/edit/"
    contact = str(cast.acme_admin_contact.pk)
    browser.post(url, _form(browser, url, page, form_fields, site="", contact=contact))
    laptop = Asset.objects.get(pk=cast.acme_laptop.pk)
    assert (laptop.site, laptop.contact) == (None, cast.acme_admin_contact)
    record = web_audit(cast.desk, "asset.update", object_id=str(laptop.pk)).get()
    assert record.changes == {
        "site": [cast.acme_site.pk, None],
        "contact": [cast.acme_user_contact.pk, cast.acme_admin_contact.pk],
    }


@pytest.mark.parametrize(
    ("kind", "changes", "error"),
    [
        ("site", {"longitude": "-181"}, "Longitude -181.0 is out of range."),
        ("contact", {"email": "alice@acme.example"}, "is already a contact of this client."),
        ("asset", {"site": "{globex_site}"}, "Select a valid choice."),
    ],
)
def test_a_bad_change_to_a_client_s_data_is_shown_and_nothing_is_written(
    cast, web_as, page, form_fields, written, kind, changes, error
):
    obj, _, _ = _existing(cast)[kind]
    changes = {
        field: value.format(globex_site=cast.globex_site.pk) for field, value in changes.items()
    }
    browser = web_as(cast.partner)
    url = f"/clients/{cast.acme.pk}/{kind}/{obj.pk}/edit/"
    data = _form(browser, url, page, form_fields, **changes)
    before = written()
    html = page(browser.post(url, data))
    assert error in html
    assert written() == before
    fresh = type(obj).objects.get(pk=obj.pk)
    for field in changes:
        name = "site_id" if field == "site" else field
        assert getattr(fresh, name) == getattr(obj, name)


ACME_EDIT_STATUS = {
    "other_partner": {"*": 404},
    "associate": {"*": 403},
    # A client user sees their own contact and laptop (403) but not the site (404).
    "client_user": {"site": 404, "contact": 403, "asset": 403},
    "other_client_admin": {"*": 404},
    "other_client_user": {"*": 404},
    "outsider": {"*": 404},
}


@pytest.mark.parametrize("kind", ["site", "contact", "asset"])
@pytest.mark.parametrize("role", sorted(ACME_EDIT_STATUS))
def test_nobody_else_changes_a_client_s_data(cast, web_as, role, written, kind):
    obj, changes, field = _existing(cast)[kind]
    before = written()
    response = web_as(getattr(cast, role)).post(
        f"/clients/{cast.acme.pk}/{kind}/{obj.pk}/edit/", changes
    )
    rules = ACME_EDIT_STATUS[role]
    assert response.status_code == rules.get(kind, rules.get("*"))
    assert written() == before
    assert getattr(type(obj).objects.get(pk=obj.pk), field) == getattr(obj, field)

"""Changes to clients, their sites, contacts and assets made through the pages' forms.

A permitted POST goes through the service and leaves an audit record of source "web"; a bad value
re-renders the form with the error and writes nothing; a POST the role may not make writes nothing
either (403 when the object is in its scope, 404 when it is not).
"""

from __future__ import annotations

import pytest

from support.pages import all_but, form_with
from thirdway.clients.models import Asset, Client, Contact, Site

PASSWORD = "correct-horse-battery-staple"


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
    data = form_with(browser, "/clients/new/", page, form_fields, **_new_client(cast))
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
    data = form_with(
        browser, "/clients/new/", page, form_fields, **{**_new_client(cast), **changes}
    )
    before = written()
    html = page(browser.post("/clients/new/", data))
    assert error in html
    assert "<h1>New client</h1>" in html
    assert written() == before


@pytest.mark.parametrize("role", all_but("admin"))
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
    data = form_with(
        browser, url, page, form_fields, lead_partner=str(cast.other_partner_record.pk)
    )
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
    data = form_with(browser, url, page, form_fields, notes="Closed on Mondays.")
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
    data = form_with(browser, url, page, form_fields, time_zone="Nowhere/Town", notes="x")
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
    data = form_with(browser, url, page, form_fields, **values)
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
    data = form_with(
        browser, url, page, form_fields, name="M365", kind="cloud", site="", contact=""
    )
    response = browser.post(url, data)
    assert response.status_code == 302
    asset = Asset.objects.get(name="M365")
    assert (asset.site, asset.contact, asset.client) == (None, None, cast.acme)
    assert web_audit(cast.client_admin, "asset.create", object_id=str(asset.pk)).count() == 1


def test_an_asset_may_have_a_site_and_no_user(cast, web_as, page, form_fields):
    browser = web_as(cast.partner)
    url = f"/clients/{cast.acme.pk}/asset/new/"
    site = str(cast.acme_site.pk)
    data = form_with(browser, url, page, form_fields, name="NAS", kind="server", site=site)
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
    data = form_with(browser, url, page, form_fields, **{**values, **changes})
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
    response = browser.post(url, form_with(browser, url, page, form_fields, **changes))
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
    browser.post(url, form_with(browser, url, page, form_fields, site="", contact=contact))
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
    data = form_with(browser, url, page, form_fields, **changes)
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

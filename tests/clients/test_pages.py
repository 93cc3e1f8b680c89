"""What every role of the cast sees on the client pages: exactly its own clients, and 404 (with
nothing of the object) for what is out of its scope."""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient

from support.pages import CLIENT_NAMES, NETWORK, VISIBLE_CLIENTS, cell_texts
from thirdway.audit.models import Source
from thirdway.clients import services as clients

# Everything of each client that may show on a page: its name, sites, people and assets.
CLIENT_DATA = {
    "acme": [
        "Acme Bakery",
        "1 rue du Pain",
        "Alice Acme",
        "alice@acme.example",
        "Bob Acme",
        "bob@acme.example",
        "BOB-LAPTOP",
        "ACME-SRV1",
    ],
    "globex": [
        "Globex Dental",
        "Clinic",
        "Gina Globex",
        "gina@globex.example",
        "Hank Globex",
        "hank@globex.example",
        "HANK-LAPTOP",
    ],
}
# (sites, contacts, assets) of each client's page for those who see the whole organisation.
WHOLE = {
    "acme": (["Bakery"], ["Alice Acme", "Bob Acme"], ["ACME-SRV1", "BOB-LAPTOP"]),
    "globex": (["Clinic"], ["Gina Globex", "Hank Globex"], ["HANK-LAPTOP"]),
}
# A client user sees their own contact record and the assets they use, and no sites.
OWN = {
    "client_user": ([], ["Bob Acme"], ["BOB-LAPTOP"]),
    "other_client_user": ([], ["Hank Globex"], ["HANK-LAPTOP"]),
}


def _other(key: str) -> str:
    return "globex" if key == "acme" else "acme"


# --- client list -------------------------------------------------------------------------------


def test_the_client_list_shows_exactly_the_clients_of_each_role(cast, web_as, role, page, section):
    browser = web_as(getattr(cast, role))
    html = page(browser.get("/clients/"))
    partial = page(browser.get("/clients/", headers={"HX-Request": "true"}))
    rows = section(html, "client-rows")
    for key, name in CLIENT_NAMES.items():
        visible = key in VISIBLE_CLIENTS[role]
        assert (name in rows) == visible, name
        assert (name in html) == visible, name
        assert (name in partial) == visible, name
        link = f'href="/clients/{getattr(cast, key).pk}/"'
        assert (link in rows) == visible
    if not VISIBLE_CLIENTS[role]:
        assert "No client matches." in rows
    assert ("Add a client" in html) == (role == "admin")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=acme", {"acme"}),
        ("q=DENTAL", {"globex"}),
        ("q=bakery+x", set()),
        ("status=active", {"acme"}),
        ("status=former", {"globex"}),
        ("status=", {"acme", "globex"}),
        ("status=former&q=acme", set()),
        ("status=nonsense", {"acme", "globex"}),
    ],
)
def test_the_client_list_filters_by_name_and_status(cast, web_as, section, query, expected, role):
    clients.update_client(cast.admin, cast.globex, {"status": "former"}, source=Source.CLI)
    browser = web_as(getattr(cast, role))
    full = browser.get(f"/clients/?{query}")
    partial = browser.get(f"/clients/?{query}", headers={"HX-Request": "true"})
    assert full.status_code == partial.status_code == 200
    rows = section(full.content.decode(), "client-rows")
    for key, name in CLIENT_NAMES.items():
        shown = key in expected and key in VISIBLE_CLIENTS[role]
        assert (name in rows) == shown, (query, name)
        assert (name in partial.content.decode()) == shown, (query, name)


def test_the_htmx_partial_of_the_client_list_is_only_the_rows(cast, web_as):
    html = web_as(cast.admin).get("/clients/?q=glo", headers={"HX-Request": "true"})
    text = html.content.decode()
    assert text.lstrip().startswith("<table")
    assert "<html" not in text
    assert "Globex Dental" in text
    assert "Acme Bakery" not in text


def test_the_client_list_pages_through_many_clients(cast, web_as, section):
    for number in range(55):
        clients.create_client(
            cast.admin,
            name=f"Zeta {number:02}",
            time_zone="UTC",
            country="FR",
            source=Source.CLI,
        )
    browser = web_as(cast.desk)
    first = section(browser.get("/clients/?q=zeta").content.decode(), "client-rows")
    second = section(browser.get("/clients/?q=zeta&page=2").content.decode(), "client-rows")
    assert "Zeta 00" in first and "Zeta 49" in first and "Zeta 50" not in first
    assert "Zeta 50" in second and "Zeta 54" in second and "Zeta 00" not in second
    assert "Page 2 of 2" in second
    assert "?q=zeta&page=1" in second


# --- client pages ------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["acme", "globex"])
def test_a_client_page_shows_what_the_role_may_see_and_is_404_otherwise(
    cast, web_as, role, page, section, key
):
    clients.update_client(
        cast.admin, getattr(cast, key), {"notes": "Alarm code 4711"}, source=Source.CLI
    )
    response = web_as(getattr(cast, role)).get(f"/clients/{getattr(cast, key).pk}/")
    if key not in VISIBLE_CLIENTS[role]:
        assert response.status_code == 404
        body = response.content.decode()
        for text in [*CLIENT_DATA["acme"], *CLIENT_DATA["globex"], "Alarm code"]:
            assert text not in body
        return
    html = page(response)
    sites, contacts, assets = OWN.get(role, WHOLE[key])
    # Names of every site, person and asset of both clients: each shows only where expected.
    for index, part in enumerate(("sites", "contacts", "assets")):
        cells = cell_texts(section(html, part))
        for candidate in WHOLE["acme"][index] + WHOLE["globex"][index]:
            expected = candidate in (sites, contacts, assets)[index]
            assert (candidate in cells) == expected, (part, candidate)
    for text in CLIENT_DATA[_other(key)]:
        assert text not in html
    assert f"<h1>{CLIENT_NAMES[key]}</h1>" in html
    lead = "Paula Partner" if key == "acme" else "Oscar Other"
    assert f"Lead partner: {lead}" in html
    if role in NETWORK:
        assert "Alarm code 4711" in html
        assert 'id="audit-heading"' in html
        assert "client.create" in html
        assert ("Team: " in html) == (key == "acme")
    else:
        assert "Alarm code" not in html
        assert "History" not in html
        assert "client.create" not in html
        assert "Team: " not in html
        assert "Ada Associate" not in html


def test_a_client_user_sees_no_site_even_through_the_assets_they_use(cast, web_as, page, section):
    html = page(web_as(cast.client_user).get(f"/clients/{cast.acme.pk}/"))
    assert "BOB-LAPTOP" in section(html, "assets")
    assert "<td>Bakery</td>" not in html
    assert "1 rue du Pain" not in html
    assert "No sites to show." in section(html, "sites")
    # The network still sees where each asset stands.
    admin = page(web_as(cast.admin).get(f"/clients/{cast.acme.pk}/"))
    assert "<td>Bakery</td>" in section(admin, "assets")


@pytest.mark.parametrize(
    ("role", "edit_client", "edit_data"),
    [
        ("admin", True, True),
        ("partner", True, True),
        ("associate", False, False),
        ("desk", False, True),
        ("client_admin", False, True),
        ("client_user", False, False),
    ],
)
def test_a_client_page_offers_only_the_changes_the_role_may_make(
    cast, web_as, page, role, edit_client, edit_data
):
    html = page(web_as(getattr(cast, role)).get(f"/clients/{cast.acme.pk}/"))
    acme = cast.acme.pk
    assert (f'href="/clients/{acme}/edit/"' in html) == edit_client
    for kind in ("site", "contact", "asset"):
        assert (f'href="/clients/{acme}/{kind}/new/"' in html) == edit_data
    assert (f'href="/clients/{acme}/asset/{cast.acme_laptop.pk}/edit/"' in html) == edit_data


def test_a_missing_client_is_not_found(cast, web_as):
    assert web_as(cast.admin).get("/clients/999999/").status_code == 404


# --- forms: who may open them ------------------------------------------------------------------


def _form_pages(cast) -> dict[str, str]:
    acme = cast.acme.pk
    return {
        "client edit": f"/clients/{acme}/edit/",
        "site new": f"/clients/{acme}/site/new/",
        "contact new": f"/clients/{acme}/contact/new/",
        "asset new": f"/clients/{acme}/asset/new/",
        "site edit": f"/clients/{acme}/site/{cast.acme_site.pk}/edit/",
        "admin contact edit": f"/clients/{acme}/contact/{cast.acme_admin_contact.pk}/edit/",
        "user contact edit": f"/clients/{acme}/contact/{cast.acme_user_contact.pk}/edit/",
        "used asset edit": f"/clients/{acme}/asset/{cast.acme_laptop.pk}/edit/",
        "server edit": f"/clients/{acme}/asset/{cast.acme_server.pk}/edit/",
    }


# What opening each of Acme's forms answers: 200 the form (the default), 403 when the object is
# visible but not theirs to change, 404 when it is out of their scope.
ACME_FORM_STATUS = {
    "admin": {},
    "partner": {},
    "desk": {"client edit": 403},
    "associate": {"*": 403},
    "client_admin": {"client edit": 403},
    "client_user": {
        "*": 403,
        "site edit": 404,
        "admin contact edit": 404,
        "server edit": 404,
    },
    "other_partner": {"*": 404},
    "other_client_admin": {"*": 404},
    "other_client_user": {"*": 404},
    "outsider": {"*": 404},
}


def test_each_role_may_open_exactly_the_forms_of_acme_it_may_use(cast, web_as, role):
    browser = web_as(getattr(cast, role))
    rules = ACME_FORM_STATUS[role]
    for name, url in _form_pages(cast).items():
        expected = rules.get(name, rules.get("*", 200))
        response = browser.get(url)
        assert response.status_code == expected, (role, name)
        body = response.content.decode()
        if expected == 200:
            assert '<form method="post"' in body
        else:
            assert "Alice Acme" not in body
            assert "alice@acme.example" not in body
            assert "ACME-SRV1" not in body


def test_a_form_of_an_object_reached_through_another_client_is_not_found(cast, web_as):
    browser = web_as(cast.admin)
    acme, globex = cast.acme.pk, cast.globex.pk
    for url in (
        f"/clients/{acme}/site/{cast.globex_site.pk}/edit/",
        f"/clients/{acme}/contact/{cast.globex_user_contact.pk}/edit/",
        f"/clients/{globex}/asset/{cast.acme_laptop.pk}/edit/",
        f"/clients/{acme}/asset/999999/edit/",
        "/clients/999999/site/new/",
    ):
        assert browser.get(url).status_code == 404, url


def test_the_asset_form_offers_only_the_sites_and_people_of_its_client(cast, web_as, page):
    html = page(web_as(cast.admin).get(f"/clients/{cast.acme.pk}/asset/new/"))
    assert f'<option value="{cast.acme_site.pk}">Bakery (Acme Bakery)</option>' in html
    assert "Bob Acme" in html
    for text in ("Clinic", "Hank Globex", "Gina Globex"):
        assert text not in html


def test_only_the_practice_admin_may_open_the_form_that_adds_clients(cast, web_as, role):
    response = web_as(getattr(cast, role)).get("/clients/new/")
    if role == "admin":
        assert response.status_code == 200
        assert 'name="name"' in response.content.decode()
    else:
        assert response.status_code == 403


# --- signing out ---------------------------------------------------------------------------------


def test_a_signed_out_browser_sees_nothing_of_a_client(cast, web_as):
    browser = web_as(cast.admin)
    browser.post("/accounts/logout/")
    response = browser.get(f"/clients/{cast.acme.pk}/")
    assert response.status_code == 302
    assert HttpClient().get(f"/clients/{cast.acme.pk}/").status_code == 302

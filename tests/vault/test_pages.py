"""The vault's pages: who sees what (404 outside one's scope), the reveal with a reason, forms
that show errors beside their fields."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils.html import escape

from support.pages import ROLES
from support.vault import SECRET
from thirdway.audit.models import Source
from thirdway.vault.models import Credential, CredentialAccess, Document
from thirdway.vault.services import credentials, documents, expirations

# Who may open each kind of page of Acme's vault (the credential is not shared with admins,
# the page is shown to Acme's admins, the item is Acme's).
NETWORK_OF_ACME = {"admin", "partner", "associate", "desk"}
SEES = {
    "credential": NETWORK_OF_ACME,
    "document": NETWORK_OF_ACME | {"client_admin"},
    "expiry": NETWORK_OF_ACME | {"client_admin"},
    "client": NETWORK_OF_ACME | {"client_admin"},
}
KEEPERS = {"admin", "partner", "desk"}


@pytest.fixture
def acme_vault(cast, firewall):
    page = documents.create_document(
        cast.partner,
        cast.acme,
        title="Wi-Fi",
        kind="wifi",
        visibility="client_admins",
        body="# Networks\n\nStaff: **WPA3**",
        source=Source.CLI,
    )
    item = expirations.create_expiry(
        cast.partner,
        cast.acme,
        kind="domain",
        name="acme.example",
        expires_on=dt.date.today() + dt.timedelta(days=20),
        source=Source.CLI,
    )
    return {"credential": firewall, "document": page, "expiry": item, "client": cast.acme}


def _pages(vault) -> dict[str, list[str]]:
    c, d, _, client = (vault[k].pk for k in ("credential", "document", "expiry", "client"))
    return {
        "credential": [f"/vault/credentials/{c}/"],
        "document": [f"/vault/documents/{d}/", f"/vault/documents/{d}/history/"],
        "expiry": [],
        "client": [f"/vault/clients/{client}/documents/", f"/vault/clients/{client}/expirations/"],
    }


def _writes(vault) -> list[str]:
    c, d, e, client = (vault[k].pk for k in ("credential", "document", "expiry", "client"))
    return [
        f"/vault/credentials/{c}/edit/",
        f"/vault/documents/{d}/edit/",
        f"/vault/expirations/{e}/edit/",
        f"/vault/clients/{client}/credentials/new/",
        f"/vault/clients/{client}/documents/new/",
        f"/vault/clients/{client}/expirations/new/",
    ]


@pytest.mark.parametrize("role", ROLES)
def test_each_role_opens_exactly_the_vault_pages_it_may_see(cast, web_as, acme_vault, role):
    browser = web_as(getattr(cast, role))
    for kind, urls in _pages(acme_vault).items():
        for url in urls:
            status = browser.get(url).status_code
            assert status == (200 if role in SEES[kind] else 404), (url, status)
    credentials_list = browser.get(f"/vault/clients/{cast.acme.pk}/credentials/")
    assert credentials_list.status_code == (200 if role in SEES["client"] else 404)
    if credentials_list.status_code == 200:
        assert ("Firewall" in credentials_list.content.decode()) == (role in SEES["credential"])
    for url in _writes(acme_vault):
        status = browser.get(url).status_code
        scope = SEES["credential"] if "credentials/" in url and "new" not in url else SEES["client"]
        expected = 200 if role in KEEPERS else (403 if role in scope else 404)
        assert status == expected, (url, status)


@pytest.mark.parametrize("role", ROLES)
def test_the_network_wide_lists_show_only_what_each_role_sees(cast, web_as, acme_vault, role):
    browser = web_as(getattr(cast, role))
    index = browser.get("/vault/").content.decode()
    overview = browser.get("/vault/expirations/").content.decode()
    assert ("Acme Bakery" in index) == (role in SEES["client"])
    assert ("Globex Dental" in index) == (
        role in {"admin", "desk", "other_partner", "other_client_admin"}
    )
    assert ("Domain: acme.example" in overview) == (role in SEES["expiry"])


def test_a_reveal_asks_for_a_reason_shows_the_secret_once_and_is_not_stored(cast, web_as, firewall):
    browser = web_as(cast.partner)
    detail = browser.get(f"/vault/credentials/{firewall.pk}/")
    assert SECRET not in detail.content.decode()
    assert "no-store" in detail["Cache-Control"]
    refused = browser.post(f"/vault/credentials/{firewall.pk}/reveal/", {"reason": "x"})
    assert refused.status_code == 400
    html = refused.content.decode()
    assert SECRET not in html
    assert 'class="field invalid"' in html and "at least 4 characters" in html
    assert not CredentialAccess.objects.exists()
    shown = browser.post(f"/vault/credentials/{firewall.pk}/reveal/", {"reason": "VPN reset"})
    assert shown.status_code == 200
    assert escape(SECRET) in shown.content.decode()
    assert "no-store" in shown["Cache-Control"]
    assert CredentialAccess.objects.get().reason == "VPN reset"
    assert SECRET not in browser.get(f"/vault/credentials/{firewall.pk}/").content.decode()


@pytest.mark.parametrize(
    "role", sorted({"other_partner", "client_admin", "client_user", "outsider"})
)
def test_who_does_not_see_a_credential_gets_404_on_its_reveal(cast, web_as, firewall, role):
    response = web_as(getattr(cast, role)).post(
        f"/vault/credentials/{firewall.pk}/reveal/", {"reason": "just looking"}
    )
    assert response.status_code == 404
    assert not CredentialAccess.objects.exists()


def test_a_credential_added_through_the_page_is_sealed_and_errors_show_beside_fields(
    cast, web_as, master_key
):
    browser = web_as(cast.partner)
    url = f"/vault/clients/{cast.acme.pk}/credentials/new/"
    refused = browser.post(url, {"name": "", "totp_seed": "not base32!"})
    assert refused.status_code == 400
    html = refused.content.decode()
    assert html.count('class="field invalid"') == 1  # the name (the form's own check)
    refused = browser.post(url, {"name": "NAS", "totp_seed": "not base32!"})
    assert "This is not a TOTP seed." in refused.content.decode()
    assert not Credential.objects.exists()
    made = browser.post(url, {"name": "NAS", "secret": "nas-pass", "site": cast.acme_site.pk})
    credential = Credential.objects.get()
    assert made.status_code == 302 and made["Location"] == f"/vault/credentials/{credential.pk}/"
    assert "nas-pass" not in credential.secret_sealed
    foreign = browser.post(url, {"name": "X", "site": cast.globex_site.pk})
    assert foreign.status_code == 400 and Credential.objects.count() == 1


def test_a_page_renders_safe_markdown_and_keeps_its_history(cast, web_as):
    browser = web_as(cast.partner)
    made = browser.post(
        f"/vault/clients/{cast.acme.pk}/documents/new/",
        {
            "title": "Firewall",
            "kind": "firewall",
            "visibility": "network",
            "body": "# Rules\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1))",
        },
    )
    page = Document.objects.get()
    assert made.status_code == 302
    html = browser.get(f"/vault/documents/{page.pk}/").content.decode()
    assert '<h1 id="doc-rules">Rules</h1>' in html
    assert "<script>alert" not in html and 'href="javascript' not in html
    browser.post(
        f"/vault/documents/{page.pk}/edit/",
        {
            "title": "Firewall",
            "kind": "firewall",
            "visibility": "network",
            "body": "# Rules\n\nAllow 443",
        },
    )
    history = browser.get(f"/vault/documents/{page.pk}/history/").content.decode()
    assert "Version 1 → 2" in history
    assert '<span class="diff-add">+Allow 443</span>' in history


def test_a_template_fills_a_new_page_and_search_finds_pages_by_their_words(
    cast, web_as, acme_vault
):
    browser = web_as(cast.partner)
    form = browser.get(f"/vault/clients/{cast.acme.pk}/documents/new/?kind=m365").content.decode()
    assert "Tenant id" in form
    found = browser.get(f"/vault/clients/{cast.acme.pk}/documents/?q=wpa3").content.decode()
    assert "Wi-Fi" in found
    missed = browser.get(f"/vault/clients/{cast.acme.pk}/documents/?q=wpa3+zebra").content.decode()
    assert "No page matches." in missed


def test_an_expiry_form_refuses_bad_steps_beside_the_field(cast, web_as):
    browser = web_as(cast.partner)
    refused = browser.post(
        f"/vault/clients/{cast.acme.pk}/expirations/new/",
        {
            "kind": "domain",
            "name": "acme.example",
            "expires_on": "2030-01-01",
            "reminder_steps": "60,x",
        },
    )
    assert refused.status_code == 400
    assert "is not a number of days" in refused.content.decode()


def test_the_report_lists_what_a_person_revealed_that_is_still_unchanged(cast, web_as, firewall):
    other = credentials.create_credential(
        cast.partner, cast.acme, name="NAS", secret="nas", source=Source.CLI
    )
    for credential in (firewall, other):
        credentials.reveal_credential(
            cast.associate, credential, reason="Leaving soon", source=Source.CLI
        )
    credentials.update_credential(cast.partner, other, {"secret": "changed"}, source=Source.CLI)
    browser = web_as(cast.admin)
    html = browser.get(f"/vault/accessed/?person={cast.associate.pk}").content.decode()
    rows = html.split('id="at-risk"')[1]
    assert "Firewall" in rows and "NAS" not in rows
    for role in sorted({"partner", "desk", "client_admin", "outsider"}):
        assert web_as(getattr(cast, role)).get("/vault/accessed/").status_code == 404


def test_a_change_through_the_page_keeps_empty_secrets_and_may_remove_the_seed(
    cast, web_as, firewall
):
    browser = web_as(cast.partner)
    url = f"/vault/credentials/{firewall.pk}/edit/"
    assert "Remove the TOTP seed" in browser.get(url).content.decode()
    kept = browser.post(url, {"name": "Firewall 2", "username": "admin"})
    assert kept.status_code == 302
    changed = Credential.objects.get(pk=firewall.pk)
    assert changed.name == "Firewall 2" and changed.has_totp
    assert credentials.open_values(changed)["secret"] == SECRET
    browser.post(url, {"name": "Firewall 2", "remove_totp": "on"})
    assert not Credential.objects.get(pk=firewall.pk).has_totp


@pytest.mark.parametrize("role", ROLES)
def test_acknowledge_and_snooze_answer_each_role_as_the_rules_say(cast, web_as, acme_vault, role):
    browser = web_as(getattr(cast, role))
    item = acme_vault["expiry"]
    until = str(dt.date.today() + dt.timedelta(days=2))
    expected = 302 if role in KEEPERS else (403 if role in SEES["expiry"] else 404)
    acknowledged = browser.post(f"/vault/expirations/{item.pk}/acknowledge/")
    snoozed = browser.post(f"/vault/expirations/{item.pk}/snooze/", {"until": until})
    assert (acknowledged.status_code, snoozed.status_code) == (expected, expected)
    item.refresh_from_db()
    assert item.acknowledged == (role in KEEPERS)
    assert (item.snoozed_until is not None) == (role in KEEPERS)

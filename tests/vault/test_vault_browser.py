"""The vault in a real browser: a partner adds a credential, is refused a reveal without a
reason, reveals it with one; the pages fit a laptop and a phone."""

from __future__ import annotations

import datetime as dt
import os
import re

import pytest

from support.browser import DESKTOP, PHONE, fits, sign_in
from thirdway.audit.models import Source
from thirdway.vault.models import Credential, CredentialAccess
from thirdway.vault.services import documents, expirations
from thirdway.vault.templates_library import starter

SHOTS = os.environ.get("THIRDWAY_SCREENSHOTS")  # a folder to keep screenshots in, if set


def _shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


def _other_pages(cast) -> tuple[int, int]:
    """A firewall page saved twice and an expiring certificate, to look at on both screens."""
    title, body = starter("firewall")
    made = documents.create_document(
        cast.partner, cast.acme, title=title, kind="firewall", body=body, source=Source.CLI
    )
    documents.update_document(
        cast.partner,
        made,
        {"body": body.replace("| Firmware | |", "| Firmware | 7.4.3 |")},
        source=Source.CLI,
    )
    item = expirations.create_expiry(
        cast.partner,
        cast.acme,
        kind="certificate",
        name="www.acme-bakery-lyon.example",
        expires_on=dt.date.today() + dt.timedelta(days=12),
        site_id=cast.acme_site.pk,
        source=Source.CLI,
    )
    return made.pk, item.pk


@pytest.mark.browser
def test_a_partner_adds_a_credential_and_reveals_it_with_a_reason(
    cast, master_key, live_server, browser
):
    from playwright.sync_api import expect

    url = live_server.url
    page_id, _ = _other_pages(cast)
    for screen, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page = browser.new_context(viewport=size).new_page()
        page.set_default_timeout(20_000)
        new = f"/vault/clients/{cast.acme.pk}/credentials/new/"
        sign_in(page, url, "paula", new)
        expect(page).to_have_url(f"{url}{new}")

        # A bad TOTP seed is refused beside its field, and nothing is kept.
        page.get_by_label("Name:", exact=True).fill(f"Firewall {screen}")
        page.get_by_label("Secret:", exact=True).fill("s3cret-" + screen)
        page.get_by_label("TOTP seed:", exact=True).fill("not a seed!")
        page.get_by_role("button", name="Save").click()
        expect(page.locator(".field.invalid .error")).to_contain_text("This is not a TOTP seed.")
        assert not Credential.objects.filter(name=f"Firewall {screen}").exists()
        _shot(page, f"vault-form-error-{screen}")
        assert fits(page)

        page.get_by_label("Secret:", exact=True).fill("s3cret-" + screen)
        page.get_by_label("TOTP seed:", exact=True).fill("JBSWY3DPEHPK3PXP")
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_role("heading", name=f"Firewall {screen}")).to_be_visible()

        # Without a reason the reveal is refused; with one the secret and the code show.
        page.get_by_role("button", name="Reveal").click()
        expect(page.locator("#reveal .error")).to_be_visible()
        expect(page.locator("#secret-value")).to_have_count(0)
        page.get_by_label("Reason:", exact=True).fill("Firmware update")
        page.get_by_role("button", name="Reveal").click()
        expect(page.locator("#secret-value")).to_have_text("s3cret-" + screen)
        expect(page.locator("#totp-code")).to_have_text(re.compile(r"^\d{6}$"))
        _shot(page, f"vault-revealed-{screen}")
        assert fits(page)
        for name, path in (
            ("list", f"/vault/clients/{cast.acme.pk}/credentials/"),
            ("document", f"/vault/documents/{page_id}/"),
            ("history", f"/vault/documents/{page_id}/history/"),
            ("expirations", f"/vault/clients/{cast.acme.pk}/expirations/"),
        ):
            page.goto(f"{url}{path}")
            _shot(page, f"vault-{name}-{screen}")
            assert fits(page), name
        page.context.close()
    assert CredentialAccess.objects.count() == 2

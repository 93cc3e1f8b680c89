"""In a real browser: a folder's limit set on the folder page (and a bad one refused), an
upload over it refused naming it; the vault's settings page (store unscanned) with its list;
certificates read by monitoring in the expirations register.  Desktop and phone."""

from __future__ import annotations

import datetime as dt
import os

import pytest

from support.browser import DESKTOP, PHONE, fits, sign_in
from support.vault_files import put, tree
from thirdway.audit.models import Source
from thirdway.clients.certificates import SeenCertificate, certificate_seen
from thirdway.vault.models import Folder, StoredFile
from thirdway.vault.services import scanning

SHOTS = os.environ.get("THIRDWAY_SCREENSHOTS")


def _shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


@pytest.mark.browser
def test_a_folder_limit_is_set_shown_and_enforced(cast, live_server, browser):
    from playwright.sync_api import expect

    url = live_server.url
    _root, contracts, _year = tree(cast)
    put(contracts, "lease.pdf", b"%PDF " + b"x" * 1000)
    for screen, size in (("desktop", DESKTOP), ("phone", PHONE)):
        Folder.objects.filter(pk=contracts.pk).update(limit_bytes=None, used_bytes=0)
        page = browser.new_context(viewport=size).new_page()
        page.set_default_timeout(20_000)
        start = f"/vault/files/folders/{contracts.pk}/"
        sign_in(page, url, "paula", start)
        field = page.get_by_label("Limit of this folder")
        field.fill("lots")
        page.get_by_role("button", name="Set limit").click()
        expect(page.locator(".vault-limit-form .error")).to_contain_text("That is not a size")
        _shot(page, f"folder-limit-invalid-{screen}")
        assert fits(page)
        page.get_by_label("Limit of this folder").fill("2 KB")
        page.get_by_role("button", name="Set limit").click()
        expect(page.locator(".vault-folder-limit")).to_contain_text("limit of the folder")
        assert Folder.objects.get(pk=contracts.pk).limit_bytes == 2048
        page.locator("input[name=file]").set_input_files(
            {
                "name": f"big-{screen}.bin",
                "mimeType": "application/octet-stream",
                "buffer": b"b" * 1500,
            }
        )
        page.get_by_role("button", name="Upload", exact=True).click()
        expect(page.locator(".vault-upload .error")).to_contain_text("'Contracts' (2048 bytes)")
        assert not StoredFile.objects.filter(name=f"big-{screen}.bin").exists()
        _shot(page, f"folder-limit-refused-{screen}")
        assert fits(page)
        page.context.close()


@pytest.mark.browser
def test_the_vault_settings_page_and_certificates_from_monitoring(
    cast, live_server, browser, settings, tmp_path
):
    from playwright.sync_api import expect

    url = live_server.url
    root, _, _ = tree(cast)
    settings.VAULT_CLAMD_SOCKET = str(tmp_path / "no-clamd.sock")
    scanning.update_settings(None, unscanned_files="store", source=Source.CLI)
    put(root, "scan-me-later.pdf", b"%PDF later")
    certificate_seen(
        cast.acme.pk,
        SeenCertificate(
            "www.acme.example",
            443,
            dt.datetime(2027, 3, 1, tzinfo=dt.UTC),
            subject="CN=www.acme.example",
            issuer="CN=R11,O=Let's Encrypt,C=US",
        ),
        source="check:1",
    )
    for screen, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page = browser.new_context(viewport=size).new_page()
        page.set_default_timeout(20_000)
        sign_in(page, url, cast.admin.username, "/vault/settings/")
        expect(page.locator("#unscanned-files")).to_contain_text("scan-me-later.pdf")
        page.get_by_label("Refuse the file").check()
        page.get_by_role("button", name="Save").click()
        expect(page.locator("body")).to_contain_text("Saved.")
        assert scanning.settings_of().unscanned_files == "refuse"
        page.get_by_label("Store it marked").check()
        page.get_by_role("button", name="Save").click()
        expect(page.locator("body")).to_contain_text("Saved.")
        _shot(page, f"vault-settings-{screen}")
        assert fits(page)
        # a forged value is refused, nothing changes
        page.evaluate("document.querySelector('input[value=store]').value = 'sometimes'")
        page.get_by_label("Store it marked").check()
        page.get_by_role("button", name="Save").click()
        expect(page.locator(".vault-settings .error")).to_contain_text("Select a valid choice")
        assert scanning.settings_of().unscanned_files == "store"
        _shot(page, f"vault-settings-invalid-{screen}")
        page.goto(f"{url}/vault/files/folders/{root.pk}/")
        expect(page.locator(".vault-unscanned").first).to_be_visible()
        _shot(page, f"vault-unscanned-folder-{screen}")
        page.goto(f"{url}/vault/clients/{cast.acme.pk}/expirations/")
        expect(page.locator("#expiry-rows")).to_contain_text("read by monitoring")
        _shot(page, f"vault-certificate-expiry-{screen}")
        assert fits(page)
        page.context.close()

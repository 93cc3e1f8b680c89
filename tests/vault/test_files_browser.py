"""The file browser in a real browser: a partner uploads a file and sees the quota bar move,
an upload over the quota is refused with the limit; a client admin browses on a phone."""

from __future__ import annotations

import os

import pytest

from support.browser import DESKTOP, PHONE, fits, sign_in
from support.vault_files import put, tree
from thirdway.audit.models import Source
from thirdway.vault.models import StoredFile
from thirdway.vault.services import files

SHOTS = os.environ.get("THIRDWAY_SCREENSHOTS")


def _shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


@pytest.mark.browser
def test_an_upload_moves_the_quota_bar_and_one_over_it_is_refused(cast, live_server, browser):
    from playwright.sync_api import expect

    url = live_server.url
    root, contracts, _ = tree(cast)
    lease = put(contracts, "lease-2026.pdf", b"%PDF-1.4 " + b"x" * 3000)
    files.add_note(None, contracts, "Signed originals are in the safe.", source=Source.CLI)
    files.set_grant(None, root, "client_admin", "read", source=Source.CLI)
    files.set_grant(None, contracts, "client_admin", "write", source=Source.CLI)
    files.set_quota(None, cast.acme, 20_000, source=Source.CLI)
    for screen, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page = browser.new_context(viewport=size).new_page()
        page.set_default_timeout(20_000)
        start = f"/vault/files/folders/{root.pk}/"
        sign_in(page, url, "paula", start)
        expect(page).to_have_url(f"{url}{start}")
        bar = page.locator(".vault-quota-bar")
        before = int(bar.get_attribute("value"))
        page.locator("input[name=file]").set_input_files(
            {"name": f"plan-{screen}.txt", "mimeType": "text/plain", "buffer": b"p" * 5000}
        )
        page.get_by_role("button", name="Upload", exact=True).click()
        expect(page.get_by_role("link", name=f"plan-{screen}.txt")).to_be_visible()
        assert int(page.locator(".vault-quota-bar").get_attribute("value")) == before + 5000
        _shot(page, f"files-folder-{screen}")
        assert fits(page)

        page.locator("input[name=file]").set_input_files(
            {"name": "huge.bin", "mimeType": "application/octet-stream", "buffer": b"h" * 15000}
        )
        page.get_by_role("button", name="Upload", exact=True).click()
        expect(page.locator(".vault-upload .error")).to_contain_text("quota of 20000 bytes")
        assert not StoredFile.objects.filter(name="huge.bin").exists()
        _shot(page, f"files-over-quota-{screen}")
        assert fits(page)

        for name, path in (
            ("file", f"/vault/files/{lease.pk}/"),
            ("permissions", f"/vault/files/folders/{contracts.pk}/permissions/"),
        ):
            page.goto(f"{url}{path}")
            _shot(page, f"files-{name}-{screen}")
            assert fits(page), name
        page.context.close()

    page = browser.new_context(viewport=PHONE).new_page()
    start = f"/vault/files/folders/{contracts.pk}/"
    sign_in(page, url, cast.client_admin.username, start)
    expect(page.get_by_role("link", name="lease-2026.pdf")).to_be_visible()
    expect(page.get_by_role("button", name="Upload", exact=True)).to_be_visible()
    _shot(page, "files-client-admin-phone")
    assert fits(page)
    page.goto(f"{url}/vault/files/folders/{contracts.pk}/permissions/")
    expect(page.locator("body")).to_contain_text("Forbidden")
    page.context.close()

"""Moving, renaming and trashing in a real browser, on a desktop and a phone; the calendar
page of expirations shows its new address once."""

from __future__ import annotations

import os
import re

import pytest

from support.browser import DESKTOP, PHONE, fits, sign_in
from support.vault_files import put, tree
from thirdway.audit.models import Source
from thirdway.vault.models import Folder, StoredFile
from thirdway.vault.services import expirations, files

SHOTS = os.environ.get("THIRDWAY_SCREENSHOTS")


def _shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


@pytest.mark.browser
def test_move_rename_and_trash_on_desktop_and_phone(cast, live_server, browser):
    from playwright.sync_api import expect

    url = live_server.url
    root, _contracts, year = tree(cast)
    for screen, size in (("desktop", DESKTOP), ("phone", PHONE)):
        plan = put(root, f"plan-{screen}.txt", b"plan")
        put(year, f"lease-{screen}.pdf", b"%PDF-1.4 lease")
        old = files.create_folder(None, root, f"Old {screen}", source=Source.CLI)
        put(old, "old.txt", b"12345")
        page = browser.new_context(viewport=size).new_page()
        page.set_default_timeout(20_000)
        start = f"/vault/files/{plan.pk}/"
        sign_in(page, url, "paula", start)
        expect(page).to_have_url(f"{url}{start}")
        move = page.locator(".vault-move form").first
        # A bad name is refused beside the field; nothing moves.
        move.locator("input[name=name]").fill("../escape")
        move.get_by_role("button", name="Save").click()
        expect(page.locator(".vault-move .error")).to_contain_text("A name cannot be a path.")
        assert StoredFile.objects.get(pk=plan.pk).name == f"plan-{screen}.txt"
        _shot(page, f"files-move-refused-{screen}")
        assert fits(page)
        move = page.locator(".vault-move form").first
        move.locator("select[name=folder]").select_option(label="/Contracts/2026")
        move.locator("input[name=name]").fill(f"plan-2026-{screen}.txt")
        move.get_by_role("button", name="Save").click()
        expect(page.locator(".flash")).to_contain_text("/Contracts/2026")
        moved = StoredFile.objects.get(pk=plan.pk)
        assert (moved.folder_id, moved.name) == (year.pk, f"plan-2026-{screen}.txt")

        page.goto(f"{url}/vault/files/folders/{old.pk}/")
        expect(page.get_by_role("heading", name="Rename or move this folder")).to_be_visible()
        _shot(page, f"files-folder-move-{screen}")
        assert fits(page)
        page.get_by_role("button", name="Move this folder to the trash").click()
        expect(page.locator(".flash")).to_contain_text("are in the trash")
        expect(page.locator(".vault-hidden-files")).to_contain_text(f"Old {screen}/")
        assert Folder.objects.get(pk=old.pk).deleted_at is not None
        _shot(page, f"files-folder-trash-{screen}")
        assert fits(page)
        page.locator(".vault-hidden-files li", has_text=f"Old {screen}/").get_by_role(
            "button", name="Delete for good"
        ).click()
        expect(page.locator(".flash")).to_contain_text("5 bytes freed")
        assert not Folder.objects.filter(pk=old.pk).exists()
        page.context.close()


@pytest.mark.browser
def test_the_calendar_page_shows_a_new_address_once(cast, live_server, browser):
    from playwright.sync_api import expect

    url = live_server.url
    expirations.create_expiry(
        None, cast.acme, kind="domain", name="acme.example", expires_on="2027-01-01", source="cli"
    )
    for screen, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page = browser.new_context(viewport=size).new_page()
        page.set_default_timeout(20_000)
        start = f"/vault/clients/{cast.acme.pk}/expirations/"
        sign_in(page, url, "paula", start)
        page.get_by_role("link", name="In your calendar (iCal)").click()
        expect(page.get_by_role("heading", name="Expirations in your calendar")).to_be_visible()
        page.locator("select[name=client]").select_option(label=cast.acme.name)
        page.get_by_role("button", name="Make a new address").click()
        field = page.locator(".expiry-feed-url")
        expect(field).to_have_value(re.compile(r"/vault/expirations/feed/.+\.ics$"))
        feed_url = field.input_value()
        _shot(page, f"expiry-calendar-{screen}")
        assert fits(page)
        answer = page.request.get(feed_url)
        assert answer.status == 200 and b"acme.example" in answer.body()
        page.reload()
        expect(page.locator(".expiry-feed-url")).to_have_count(0)
        expect(page.locator(".expiry-feeds")).to_contain_text(cast.acme.name)
        page.context.close()

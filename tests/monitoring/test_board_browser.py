"""The status board and the check form in a real browser, on a desktop and a phone."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from django.utils import timezone

from support.browser import DESKTOP, PHONE, fits, sign_in
from thirdway.audit.models import Source
from thirdway.monitoring import evaluation, services
from thirdway.monitoring.engine import Status
from thirdway.monitoring.models import Check

# Set THIRDWAY_SCREENSHOTS to a directory to keep what the browser saw.
SHOTS = os.environ.get("THIRDWAY_SCREENSHOTS", "")


def _shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


@pytest.mark.browser
def test_the_status_board_and_the_check_form(cast, live_server, browser):
    from playwright.sync_api import expect

    def add(name, **data):
        return services.create_check(
            cast.admin, cast.acme, name=name, max_attempts=1, source=Source.CLI, **data
        )

    shop = add("Web shop", kind="http", target="https://shop.acme-bakery.example/basket")
    server = add(
        "File server",
        kind="tcp",
        target="srv1.acme.example",
        port=445,
        asset_id=cast.acme_server.pk,
    )
    cert = add("Shop certificate", kind="tls", target="shop.acme-bakery.example")
    add("Nightly backup", kind="heartbeat")
    now = timezone.now()
    services.create_window(
        cast.admin,
        cast.acme,
        name="Disk swap",
        kind="one_off",
        asset_id=cast.acme_server.pk,
        starts_at=now - dt.timedelta(hours=1),
        ends_at=now + dt.timedelta(hours=2),
        source=Source.CLI,
    )
    evaluation.record_result(shop.pk, Status.CRITICAL, output="HTTP 502, expected 200.")
    evaluation.record_result(server.pk, Status.CRITICAL, output="No connection within 10 s.")
    evaluation.record_result(cert.pk, Status.WARNING, output="CN=shop, 12 days left.", value=12)

    url = live_server.url
    board = f"/monitoring/clients/{cast.acme.pk}/"
    for screen, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page = browser.new_context(viewport=size).new_page()
        page.set_default_timeout(20_000)
        sign_in(page, url, "paula", board)
        expect(page.locator("h1")).to_have_text("Status · Acme Bakery")
        expect(page.get_by_text("In maintenance: Disk swap")).to_be_visible()
        expect(page.get_by_text("Held: in maintenance (Disk swap)")).to_be_visible()
        expect(page.locator(".mon-site h2").first).to_contain_text("Bakery")
        assert fits(page), screen
        _shot(page, f"monitoring-board-{screen}")

        page.get_by_role("link", name="Add a check").click()
        page.locator("input[name=name]").fill("Portal")
        page.locator("select[name=kind]").select_option("tcp")
        page.locator("input[name=target]").fill("portal.acme.example")
        page.get_by_role("button", name="Save").click()
        port = page.locator(".field.invalid", has=page.locator("input[name=port]"))
        expect(port).to_contain_text("Give the port to connect to.")
        assert fits(page), screen
        _shot(page, f"monitoring-form-invalid-{screen}")
        page.locator("input[name=port]").fill("443")
        page.get_by_role("button", name="Save").click()
        expect(page.locator("h1")).to_have_text("Portal")
        _shot(page, f"monitoring-check-{screen}")
        Check.objects.filter(name="Portal").delete()
        page.goto(f"{url}/monitoring/")
        expect(page.get_by_role("link", name="Web shop")).to_be_visible()
        assert fits(page), screen
        _shot(page, f"monitoring-down-now-{screen}")
        page.goto(f"{url}/monitoring/clients/{cast.acme.pk}/windows/")
        expect(page.get_by_role("cell", name="Disk swap")).to_be_visible()
        assert fits(page), screen
        _shot(page, f"monitoring-windows-{screen}")
        page.context.close()

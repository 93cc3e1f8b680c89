"""A real chromium (Debian's, driven by Playwright) for the pages' browser tests.

``browser`` is the launched chromium; ``sign_in`` signs a page in through the login form;
``settled`` waits until htmx has swapped and settled. Screens: ``DESKTOP`` and ``PHONE``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connections

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "correct-horse-battery-staple"
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


def sign_in(page, url: str, username: str, next_path: str) -> None:
    page.goto(f"{url}/accounts/login/?next={next_path}")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    # Back only once the next page has loaded: its URL shows before its deferred scripts (htmx)
    # ran, and a select changed before then changes nothing.
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name="Sign in").click()


def settled(page) -> None:
    """Wait until htmx has finished swapping and settling (new content gets its triggers then)."""
    # A function, not an expression: the pages' Content-Security-Policy allows no eval.
    busy = ".htmx-request, .htmx-swapping, .htmx-settling, .htmx-added"
    page.wait_for_function(f"() => !document.querySelector('{busy}')")


def fits(page) -> bool:
    """Nothing sticks out sideways (a phone would widen its viewport to show it)."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.fixture
def browser(monkeypatch):
    if not CHROMIUM.exists():
        pytest.skip(f"no chromium at {CHROMIUM}: install Debian's chromium to run this test")
    from playwright.sync_api import expect, sync_playwright

    # Assertions wait as long as actions do: a busy CI machine is slower than a laptop.
    expect.set_options(timeout=20_000)
    # Playwright's sync API runs an event loop in this thread; the ORM calls of the test are
    # still plain synchronous calls.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            chromium.close()
            # Playwright ran the test in a context of its own, where the ORM opened a
            # connection of its own: closed here, or the test database could not be dropped.
            connections.close_all()

"""The interactive API docs in a real browser: Swagger UI comes from our own static files, so
the page renders the operations with every other host unreachable, and within the policy."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.db import connections

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", function (event) {
  window.reportViolation(event.violatedDirective + " " + event.blockedURI);
});
"""


def _directives(header: str) -> list[str]:
    """The directives of a policy, in whatever order it lists them."""
    return [part.strip() for part in header.split(";")]


@pytest.mark.browser
def test_the_docs_render_the_operations_with_no_host_but_ours(cast, live_server, monkeypatch):
    if not CHROMIUM.exists():
        pytest.skip(f"no chromium at {CHROMIUM}: install Debian's chromium to run this test")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=20_000)
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    ours = urlsplit(live_server.url).netloc
    elsewhere: list[str] = []
    violations: list[str] = []

    def only_ours(route) -> None:
        if urlsplit(route.request.url).netloc == ours:
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=ARGS, headless=True
        )
        try:
            context = chromium.new_context()
            context.route("**/*", only_ours)
            context.expose_function("reportViolation", lambda text: violations.append(text))
            context.add_init_script(REPORT_VIOLATIONS)
            page = context.new_page()
            page.set_default_timeout(20_000)

            response = page.goto(f"{live_server.url}/api/v1/docs")
            assert "script-src 'self'" in _directives(response.headers["content-security-policy"])
            expect(page.locator(".swagger-ui .info .title")).to_contain_text("Thirdway API")
            operations = page.locator(".opblock-summary-path")
            expect(operations.first).to_be_visible()
            assert operations.count() > 50
            page.locator(".opblock-summary-path", has_text="/api/v1/me").first.click()
            expect(page.locator(".opblock-body").first).to_be_visible()
        finally:
            chromium.close()
            connections.close_all()

    assert elsewhere == []
    assert violations == []

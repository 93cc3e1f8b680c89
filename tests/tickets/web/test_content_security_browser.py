"""The Content-Security-Policy in a real browser: the desk, the ticket page, the portal and the
admin site load and work (htmx included) without a single violation of the policy."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client as HttpClient

from support.browser import settled as _settled
from thirdway.audit.models import Source
from thirdway.tickets import services

# Reports every violation to the test, on every page of the context, before any page script.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", function (event) {
  window.reportViolation(
    [location.pathname, event.violatedDirective, event.blockedURI, event.sourceFile,
     event.lineNumber].join(" ")
  );
});
"""


def _watched_context(browser, live_server, user, violations: list[str]):
    """A browser context signed in as ``user`` that records every violation of the policy,
    reported by the page or logged by the browser."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.expose_function("reportViolation", lambda text: violations.append(text))
    context.add_init_script(REPORT_VIOLATIONS)
    if user is not None:
        signed_in = HttpClient()
        signed_in.force_login(user)
        cookie = signed_in.cookies[settings.SESSION_COOKIE_NAME].value
        context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
        )
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.on(
        "console",
        lambda message: (
            violations.append(f"console: {message.text}")
            if "Content Security Policy" in message.text
            else None
        ),
    )
    return page


def _directives(header: str) -> list[str]:
    """The directives of a policy, in whatever order it lists them."""
    return [part.strip() for part in header.split(";")]


@pytest.mark.browser
def test_the_desk_works_under_the_policy_without_a_violation(cast, desk, live_server, browser):
    from playwright.sync_api import expect

    violations: list[str] = []
    url = live_server.url
    page = _watched_context(browser, live_server, None, violations)

    # Signing in posts a form to our own origin.
    response = page.goto(f"{url}/accounts/login/?next=/tickets/%3Fqueue%3Dall")
    assert "script-src 'self'" in _directives(response.headers["content-security-policy"])
    page.locator("input[name=username]").fill("paula")
    page.locator("input[name=password]").fill("correct-horse-battery-staple")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{url}/tickets/?queue=all")
    # The URL changes when the response commits; htmx reads its config once the document is
    # parsed, so the check waits for that.
    page.wait_for_load_state("load")
    assert page.evaluate("htmx.config.includeIndicatorStyles") is False
    assert page.locator("head style").count() == 0

    # The queue filters in place with htmx, and refreshes.
    page.evaluate("window.stayed = true")
    page.locator("#queue-filters select[name=status]").select_option("new")
    expect(page.locator("#ticket-rows tr[data-ticket]")).to_have_count(1)  # of her five
    _settled(page)
    page.evaluate("htmx.trigger(document.body, 'queue-refresh')")
    _settled(page)
    assert page.evaluate("window.stayed === true")

    # The 30-second poll (a request htmx starts with no event, as htmx.ajax does) waits while
    # a row is ticked, and refreshes once none is.
    services.create_ticket(
        cast.admin, cast.acme, subject="Fresh one", body_text="New", source=Source.CLI
    )
    poll = (
        "htmx.ajax('GET', location.href,"
        " {source: '#ticket-rows', target: '#ticket-rows', swap: 'outerHTML'})"
    )
    ticked = page.locator("#ticket-rows input[name=ticket]").first
    ticked.check()
    page.evaluate(poll)
    _settled(page)
    expect(ticked).to_be_checked()
    expect(page.locator("#ticket-rows")).not_to_contain_text("Fresh one")
    ticked.uncheck()
    page.evaluate(poll)
    expect(page.locator("#ticket-rows")).to_contain_text("Fresh one")
    _settled(page)

    # The ticket page: the shortcuts' script runs, htmx assigns and changes the status in place,
    # and a reply is posted.
    page.goto(f"{url}/tickets/{desk.t1.number}/")
    _settled(page)
    page.evaluate("window.stayed = true")
    page.keyboard.press("a")
    expect(page.locator("#ticket-assignee")).to_have_text("Paula Partner")
    _settled(page)
    page.locator("#status-moves").get_by_role("button", name="In progress").click()
    expect(page.locator("#ticket-status")).to_have_text("In progress")
    assert page.evaluate("window.stayed === true")
    page.locator("#reply-body").fill("On it.")
    page.locator("#reply-form button[type=submit]").click()
    expect(page.locator("#timeline")).to_contain_text("On it.")

    for path in ("/tickets/new/", "/tickets/search?q=printer", "/clients/", "/partners/", "/"):
        page.goto(f"{url}{path}")
        expect(page.locator("main")).to_be_visible()

    assert violations == []


@pytest.mark.browser
def test_the_portal_and_the_admin_site_load_without_a_violation(cast, desk, live_server, browser):
    from playwright.sync_api import expect

    violations: list[str] = []
    url = live_server.url
    anonymous = _watched_context(browser, live_server, None, violations)
    response = anonymous.goto(f"{url}/portal/login/")
    assert "style-src 'self'" in _directives(response.headers["content-security-policy"])
    expect(anonymous.locator("main")).to_be_visible()

    contact = _watched_context(browser, live_server, cast.client_admin, violations)
    contact.goto(f"{url}/portal/")
    expect(contact.locator("main")).to_contain_text(desk.t1.subject)
    contact.goto(f"{url}/portal/tickets/{desk.t1.pk}/")
    expect(contact.locator("main")).to_contain_text(desk.t1.subject)
    contact.goto(f"{url}/portal/new/")
    expect(contact.locator("main form")).to_be_visible()

    admin = _watched_context(browser, live_server, cast.admin, violations)
    admin.goto(f"{url}/admin/")
    expect(admin.locator("#content")).to_be_visible()

    assert violations == []

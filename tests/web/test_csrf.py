"""CSRF protection of every form: the login, the signed-in forms, and htmx requests."""

from __future__ import annotations

from django.test import Client as HttpClient

from thirdway.accounts.models import ApiToken
from thirdway.audit.models import AuditRecord

PASSWORD = "correct-horse-battery-staple"
LOGIN = "/accounts/login/"


def _signed_in_as(browser) -> str | None:
    return browser.session.get("_auth_user_id")


def test_a_login_without_the_csrf_token_is_refused(cast):
    browser = HttpClient(enforce_csrf_checks=True)
    response = browser.post(LOGIN, {"username": "paula", "password": PASSWORD})
    assert response.status_code == 403
    assert _signed_in_as(browser) is None


def test_a_login_with_the_csrf_token_of_the_page_works(cast):
    browser = HttpClient(enforce_csrf_checks=True)
    browser.get(LOGIN)
    token = browser.cookies["csrftoken"].value
    response = browser.post(
        LOGIN, {"username": "paula", "password": PASSWORD, "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    assert _signed_in_as(browser) == str(cast.partner.pk)


def test_a_signed_in_post_without_the_csrf_token_is_refused(cast):
    browser = HttpClient(enforce_csrf_checks=True)
    browser.force_login(cast.partner)
    before = AuditRecord.objects.count()
    for url, data in [
        ("/accounts/settings/tokens/", {"name": "stolen"}),
        (f"/clients/{cast.acme.pk}/site/new/", {"name": "Hideout", "time_zone": "UTC"}),
        (f"/partners/{cast.partner_record.pk}/absences/", {"kind": "sick"}),
        ("/accounts/settings/second-factor/off/", {}),
        ("/accounts/logout/", {}),
    ]:
        assert browser.post(url, data).status_code == 403, url
    assert AuditRecord.objects.count() == before
    assert not ApiToken.objects.filter(name="stolen").exists()
    assert _signed_in_as(browser) == str(cast.partner.pk)


def test_htmx_requests_carry_the_csrf_token_in_a_header(cast):
    browser = HttpClient(enforce_csrf_checks=True)
    browser.force_login(cast.partner)
    html = browser.get("/").content.decode()
    assert """hx-headers='{"X-CSRFToken": \"""" in html
    token = browser.cookies["csrftoken"].value
    response = browser.post(
        "/accounts/settings/tokens/", {"name": "via htmx"}, headers={"X-CSRFToken": token}
    )
    assert response.status_code == 200
    assert ApiToken.objects.filter(user=cast.partner, name="via htmx").exists()

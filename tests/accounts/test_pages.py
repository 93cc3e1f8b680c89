"""The account pages every role has: settings, API tokens, second factor."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from django.test import Client as HttpClient

from thirdway.accounts import services as accounts
from thirdway.accounts.models import ApiToken
from thirdway.audit.models import AuditRecord, Source

PASSWORD = "correct-horse-battery-staple"


def _new_secret(html: str) -> str:
    match = re.search(r'<code id="new-token">([^<]+)</code>', html)
    assert match, "the new token is not shown"
    return match.group(1)


# --- settings and API tokens -------------------------------------------------------------------


def test_the_settings_page_shows_the_account_and_only_its_own_tokens(cast, web_as, role, page):
    user = getattr(cast, role)
    accounts.issue_token(cast.desk, "someone-elses", source=Source.CLI)
    accounts.issue_token(user, "mine", source=Source.CLI)
    html = page(web_as(user).get("/accounts/settings/"))
    assert f"{user.get_username()} · {user.get_role_display()}" in html
    assert "<td>mine</td>" in html
    assert ("someone-elses" in html) == (user == cast.desk)
    assert "Set up an authenticator app" in html
    assert 'id="new-token"' not in html


def test_issuing_a_token_shows_its_secret_once(cast, web_as, role, page, web_audit):
    user = getattr(cast, role)
    browser = web_as(user)
    response = browser.post("/accounts/settings/tokens/", {"name": "backup script"})
    secret = _new_secret(page(response))
    assert secret.startswith("tw_")
    token = ApiToken.objects.get(user=user, name="backup script")
    assert secret.startswith(token.prefix)
    assert secret not in token.digest
    assert accounts.user_for_token(secret) == user
    assert web_audit(user, "token.issue", object_id=str(token.pk)).count() == 1
    # Never again: the settings page lists the token by its prefix only.
    again = page(browser.get("/accounts/settings/"))
    assert secret not in again
    assert f"<code>{token.prefix}…</code>" in again
    # The token works on the API.
    me = HttpClient().get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.status_code == 200
    assert me.json()["username"] == user.get_username()


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("", "This field is required."),
        ("   ", "This field is required."),
        ("x" * 101, "at most 100 characters"),
        ("taken", "You already have a token named &#x27;taken&#x27;."),
    ],
)
def test_a_token_with_a_bad_name_is_refused_and_nothing_is_issued(cast, web_as, role, name, error):
    user = getattr(cast, role)
    accounts.issue_token(user, "taken", source=Source.CLI)
    before = AuditRecord.objects.count()
    response = web_as(user).post("/accounts/settings/tokens/", {"name": name})
    assert response.status_code == 400
    html = response.content.decode()
    assert error in html
    assert 'id="new-token"' not in html
    assert list(ApiToken.objects.filter(user=user).values_list("name", flat=True)) == ["taken"]
    assert AuditRecord.objects.count() == before


def test_revoking_a_token_stops_it_working(cast, web_as, role, web_audit):
    user = getattr(cast, role)
    token, secret = accounts.issue_token(user, "old", source=Source.CLI)
    browser = web_as(user)
    response = browser.post(f"/accounts/settings/tokens/{token.pk}/revoke/", follow=True)
    assert response.redirect_chain[-1][0] == "/accounts/settings/"
    html = response.content.decode()
    assert "Token old revoked." in html
    assert "revoked</td>" in html
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert accounts.user_for_token(secret) is None
    assert web_audit(user, "token.revoke", object_id=str(token.pk)).count() == 1
    me = HttpClient().get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.status_code == 401


def test_nobody_revokes_another_person_s_token_from_the_web(cast, web_as, role):
    owner = cast.desk if role != "desk" else cast.partner
    token, secret = accounts.issue_token(owner, "theirs", source=Source.CLI)
    browser = web_as(getattr(cast, role))
    response = browser.post(f"/accounts/settings/tokens/{token.pk}/revoke/")
    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
    assert accounts.user_for_token(secret) == owner


def test_revoking_answers_only_to_post(cast, web_as):
    token, _ = accounts.issue_token(cast.partner, "kept", source=Source.CLI)
    browser = web_as(cast.partner)
    assert browser.get(f"/accounts/settings/tokens/{token.pk}/revoke/").status_code == 405
    assert browser.get("/accounts/settings/tokens/").status_code == 405
    token.refresh_from_db()
    assert token.revoked_at is None


# --- second factor -----------------------------------------------------------------------------


def _enrolment_secret(html: str) -> str:
    match = re.search(r'<code class="secret">([A-Z2-7]+)</code>', html)
    assert match, "no secret on the enrolment page"
    return match.group(1)


def _wrong_code(secret: str) -> str:
    """A six-digit code that the authenticator does not show now, nor just before or after."""
    totp = pyotp.TOTP(secret)
    return next(
        code
        for code in ("000000", "111111", "222222", "333333")
        if not totp.verify(code, valid_window=2)
    )


def test_every_role_may_enrol_an_authenticator(cast, web_as, role, page, web_audit):
    user = getattr(cast, role)
    browser = web_as(user)
    html = page(browser.get("/accounts/settings/second-factor/"))
    secret = _enrolment_secret(html)
    assert f"otpauth://totp/Thirdway:{user.get_username()}" in html.replace("%40", "@")
    # The same secret is kept while the person fetches a code from their app.
    assert _enrolment_secret(page(browser.get("/accounts/settings/second-factor/"))) == secret

    response = browser.post(
        "/accounts/settings/second-factor/", {"code": pyotp.TOTP(secret).now()}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/accounts/settings/"
    assert "Second factor enabled." in response.content.decode()
    user.refresh_from_db()
    assert user.has_second_factor
    assert user.totp_secret == secret
    assert web_audit(user, "user.2fa_enable").count() == 1


def test_a_wrong_code_does_not_enrol_the_authenticator(cast, web_as, role, page):
    user = getattr(cast, role)
    browser = web_as(user)
    secret = _enrolment_secret(page(browser.get("/accounts/settings/second-factor/")))
    html = page(browser.post("/accounts/settings/second-factor/", {"code": _wrong_code(secret)}))
    assert "That code does not match" in html
    assert _enrolment_secret(html) == secret
    user.refresh_from_db()
    assert not user.has_second_factor
    assert not AuditRecord.objects.filter(action="user.2fa_enable").exists()


def test_a_person_may_turn_their_second_factor_off(cast, web_as, web_audit):
    secret = pyotp.random_base32()
    accounts.enable_second_factor(
        cast.partner, secret, pyotp.TOTP(secret).at(time.time() - 30), source=Source.CLI
    )
    browser = web_as(cast.partner)
    assert "On since" in browser.get("/accounts/settings/").content.decode()
    refused = browser.post("/accounts/settings/second-factor/off/", {"code": "000000"}, follow=True)
    assert "the second factor stays on" in refused.content.decode()
    cast.partner.refresh_from_db()
    assert cast.partner.has_second_factor
    response = browser.post(
        "/accounts/settings/second-factor/off/", {"code": pyotp.TOTP(secret).now()}, follow=True
    )
    assert "Second factor turned off." in response.content.decode()
    cast.partner.refresh_from_db()
    assert not cast.partner.has_second_factor
    assert cast.partner.totp_secret == ""
    assert web_audit(cast.partner, "user.2fa_disable").count() == 1

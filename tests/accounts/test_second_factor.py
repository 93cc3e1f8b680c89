"""TOTP codes are single-use, and the factor cannot be swapped or dropped without one."""

from __future__ import annotations

import time

import pyotp

from thirdway.accounts import services as accounts
from thirdway.audit.models import Source

CODE = "/accounts/login/code/"


def _enrolled(user) -> pyotp.TOTP:
    secret = pyotp.random_base32()
    accounts.enable_second_factor(
        user, secret, pyotp.TOTP(secret).at(time.time() - 30), source=Source.CLI
    )
    return pyotp.TOTP(secret)


def test_a_code_signs_in_once_and_is_refused_the_second_time(cast):
    totp = _enrolled(cast.partner)
    code = totp.now()
    assert accounts.check_second_factor(cast.partner, code) is True
    assert accounts.check_second_factor(cast.partner, code) is False


def test_an_older_code_than_the_last_one_used_is_refused(cast):
    totp = _enrolled(cast.partner)
    assert accounts.check_second_factor(cast.partner, totp.now()) is True
    assert accounts.check_second_factor(cast.partner, totp.at(time.time() - 30)) is False


def test_a_replayed_code_does_not_sign_in_a_second_browser(cast, client, django_user_model):
    from django.test import Client

    totp = _enrolled(cast.desk)
    first, second = client, Client()
    for browser in (first, second):
        browser.post(
            "/accounts/login/", {"username": "dean", "password": "correct-horse-battery-staple"}
        )
    code = totp.now()
    assert first.post(CODE, {"code": code}).status_code == 302
    replay = second.post(CODE, {"code": code})
    assert replay.status_code == 200
    assert "already used" in replay.content.decode()
    assert "_auth_user_id" not in second.session


def test_enrolling_again_is_refused_while_a_factor_is_on(cast, web_as):
    _enrolled(cast.partner)
    secret_before = type(cast.partner).objects.get(pk=cast.partner.pk).totp_secret
    browser = web_as(cast.partner)
    response = browser.get("/accounts/settings/second-factor/", follow=True)
    assert "Turn off your current second factor first" in response.content.decode()
    assert type(cast.partner).objects.get(pk=cast.partner.pk).totp_secret == secret_before


def test_an_admin_who_owes_a_second_factor_cannot_use_the_api_with_the_session(
    cast, web_as, settings
):
    browser = web_as(cast.admin)
    assert browser.get("/api/v1/me").status_code == 200
    settings.REQUIRE_ADMIN_SECOND_FACTOR = True
    assert browser.get("/api/v1/me").status_code == 401
    _enrolled(cast.admin)
    assert browser.get("/api/v1/me").status_code == 200
    partner = web_as(cast.partner)
    assert partner.get("/api/v1/me").status_code == 200

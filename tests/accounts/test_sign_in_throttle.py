"""Repeated wrong passwords and codes pause sign-in, per login name and per client address."""

from __future__ import annotations

import datetime as dt
import time

import pyotp
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.utils import timezone

from thirdway.accounts import services as accounts
from thirdway.accounts import throttle
from thirdway.accounts.models import FailureKind, SignInFailure
from thirdway.audit.models import Source

PASSWORD = "correct-horse-battery-staple"
LOGIN = "/accounts/login/"
CODE = "/accounts/login/code/"
PORTAL = "/portal/login/"


def try_password(browser: Client, username: str, password: str, address: str = "10.0.0.1"):
    return browser.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def test_the_right_password_is_refused_once_the_limit_of_wrong_ones_is_reached(cast):
    browser = Client()
    for _ in range(throttle.PASSWORD_FAILURES_PER_LOGIN):
        assert try_password(browser, "paula", "wrong").status_code == 200
    refused = try_password(browser, "paula", PASSWORD)
    assert refused.status_code == 429
    assert "try again in 15 minutes" in refused.content.decode()
    assert SESSION_KEY not in browser.session
    # A refused attempt is not counted: the pause ends on its own.
    assert SignInFailure.objects.filter(login="paula").count() == (
        throttle.PASSWORD_FAILURES_PER_LOGIN
    )


def test_the_pause_ends_when_the_failures_leave_the_window(cast):
    browser = Client()
    for _ in range(throttle.PASSWORD_FAILURES_PER_LOGIN):
        try_password(browser, "paula", "wrong")
    SignInFailure.objects.update(at=timezone.now() - throttle.WINDOW - dt.timedelta(seconds=1))
    assert try_password(browser, "paula", PASSWORD).status_code == 302
    assert browser.session[SESSION_KEY] == str(cast.partner.pk)


def test_a_success_clears_that_logins_failures(cast):
    browser = Client()
    for _ in range(throttle.PASSWORD_FAILURES_PER_LOGIN - 1):
        try_password(browser, "paula", "wrong")
    assert try_password(browser, "paula", PASSWORD).status_code == 302
    assert not SignInFailure.objects.filter(login="paula").exists()


def test_one_login_paused_leaves_the_others_alone(cast):
    for n in range(throttle.PASSWORD_FAILURES_PER_LOGIN):
        try_password(Client(), "PAULA", "wrong", address=f"10.0.1.{n}")
    assert try_password(Client(), "paula", PASSWORD, address="10.0.2.1").status_code == 429
    assert try_password(Client(), "oscar", PASSWORD, address="10.0.2.1").status_code == 302


def test_one_address_trying_many_names_is_paused_for_all_of_them(cast):
    for n in range(throttle.FAILURES_PER_ADDRESS):
        try_password(Client(), f"nobody{n}", "wrong", address="192.0.2.7")
    assert try_password(Client(), "oscar", PASSWORD, address="192.0.2.7").status_code == 429
    assert try_password(Client(), "oscar", PASSWORD, address="192.0.2.8").status_code == 302


def test_wrong_second_factor_codes_are_limited_too(cast):
    secret = pyotp.random_base32()
    totp = pyotp.TOTP(secret)
    accounts.enable_second_factor(cast.desk, secret, totp.at(time.time() - 30), source=Source.CLI)
    browser = Client()
    assert try_password(browser, "dean", PASSWORD).status_code == 302
    for _ in range(throttle.CODE_FAILURES_PER_LOGIN):
        assert browser.post(CODE, {"code": "000000"}).status_code == 200
    refused = browser.post(CODE, {"code": totp.now()})
    assert refused.status_code == 429
    assert "Too many failed attempts" in refused.content.decode()
    assert SESSION_KEY not in browser.session
    # The code was not checked, so it stays usable once the pause is over.
    SignInFailure.objects.update(at=timezone.now() - throttle.WINDOW - dt.timedelta(seconds=1))
    assert browser.post(CODE, {"code": totp.now()}).status_code == 302
    assert not SignInFailure.objects.filter(kind=FailureKind.CODE).exists()


def test_the_portal_password_sign_in_shares_the_limit(cast):
    browser = Client()
    for _ in range(throttle.PASSWORD_FAILURES_PER_LOGIN):
        answer = browser.post(
            PORTAL, {"email": "Alice@Acme.example", "password": "wrong"}, REMOTE_ADDR="10.9.0.1"
        )
        assert answer.status_code == 400
    refused = browser.post(
        PORTAL, {"email": "alice@acme.example", "password": PASSWORD}, REMOTE_ADDR="10.9.0.1"
    )
    assert refused.status_code == 429
    assert SESSION_KEY not in browser.session


def test_old_failures_are_forgotten(cast):
    accounts.record_sign_in_failure(FailureKind.PASSWORD, "paula", "10.0.0.1")
    accounts.record_sign_in_failure(FailureKind.PASSWORD, "oscar", "10.0.0.1")
    SignInFailure.objects.filter(login="paula").update(at=timezone.now() - dt.timedelta(days=2))
    assert accounts.forget_old_sign_in_failures() == 1
    assert list(SignInFailure.objects.values_list("login", flat=True)) == ["oscar"]


def test_behind_a_proxy_the_address_is_the_one_the_proxy_saw(cast, settings):
    settings.PROXY_COUNT = 1
    for n in range(throttle.FAILURES_PER_ADDRESS):
        Client().post(
            LOGIN,
            {"username": f"nobody{n}", "password": "wrong"},
            REMOTE_ADDR="127.0.0.1",
            HTTP_X_FORWARDED_FOR=f"203.0.113.{n % 3}, 198.51.100.9",
        )
    # The forged left-hand entries did not spread the count: 198.51.100.9 is paused ...
    assert set(SignInFailure.objects.values_list("address", flat=True)) == {"198.51.100.9"}
    paused = Client().post(
        LOGIN,
        {"username": "oscar", "password": PASSWORD},
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_FOR="198.51.100.9",
    )
    assert paused.status_code == 429
    # ... while other clients behind the same proxy are not.
    other = Client().post(
        LOGIN,
        {"username": "oscar", "password": PASSWORD},
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_FOR="198.51.100.10",
    )
    assert other.status_code == 302

"""Signing in: password, the TOTP second factor, enrolment required of admins, and safe redirects
after login."""

from __future__ import annotations

import time

import pyotp
import pytest

from thirdway.accounts import services as accounts
from thirdway.audit.models import AuditRecord, Source
from thirdway.clients.models import Client

PASSWORD = "correct-horse-battery-staple"
LOGIN = "/accounts/login/"
CODE = "/accounts/login/code/"
ENROL = "/accounts/settings/second-factor/"


def _signed_in_as(browser) -> str | None:
    return browser.session.get("_auth_user_id")


def _with_second_factor(user) -> pyotp.TOTP:
    """Enrol with the previous step's code, so the current code is still unused for sign-in."""
    secret = pyotp.random_base32()
    previous = pyotp.TOTP(secret).at(time.time() - 30)
    accounts.enable_second_factor(user, secret, previous, source=Source.CLI)
    return pyotp.TOTP(secret)


def _wrong_code(totp: pyotp.TOTP) -> str:
    """Six digits the authenticator shows neither now nor in the neighbouring windows."""
    return next(c for c in ("000000", "111111", "222222") if not totp.verify(c, valid_window=2))


# --- password ----------------------------------------------------------------------------------


def test_every_role_signs_in_with_a_password(cast, client, role):
    user = getattr(cast, role)
    response = client.post(LOGIN, {"username": user.get_username(), "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert _signed_in_as(client) == str(user.pk)
    assert client.get("/", follow=True).status_code == 200  # the portal, for a contact


WRONG = "Please enter a correct username and password"


@pytest.mark.parametrize(
    ("username", "password", "error"),
    [
        ("paula", "wrong-horse-battery-staple", WRONG),
        ("paula", "", "This field is required."),
        ("nobody", PASSWORD, WRONG),
        ("olive", "correct-horse-battery-stapler", WRONG),
    ],
)
def test_a_wrong_password_or_unknown_user_is_refused(cast, client, username, password, error):
    response = client.post(LOGIN, {"username": username, "password": password})
    assert response.status_code == 200
    assert error in response.content.decode()
    assert _signed_in_as(client) is None
    assert client.get("/").status_code == 302


def test_a_deactivated_account_cannot_sign_in(cast, client):
    accounts.deactivate_user(cast.admin, cast.partner, source=Source.CLI)
    response = client.post(LOGIN, {"username": "paula", "password": PASSWORD})
    assert response.status_code == 200
    assert _signed_in_as(client) is None


def test_signing_out_ends_the_session(cast, client):
    client.post(LOGIN, {"username": "paula", "password": PASSWORD})
    assert client.get("/accounts/logout/").status_code == 405
    response = client.post("/accounts/logout/")
    assert response["Location"] == LOGIN
    assert _signed_in_as(client) is None
    assert client.get("/clients/").status_code == 302


# --- the second factor -------------------------------------------------------------------------


def test_with_a_second_factor_the_password_alone_does_not_sign_in(cast, client, role):
    user = getattr(cast, role)
    totp = _with_second_factor(user)
    response = client.post(LOGIN, {"username": user.get_username(), "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == CODE
    assert _signed_in_as(client) is None
    assert client.get("/").status_code == 302
    assert client.get("/clients/").status_code == 302

    form = client.get(CODE)
    assert form.status_code == 200
    assert 'autocomplete="one-time-code"' in form.content.decode()

    wrong = client.post(CODE, {"code": _wrong_code(totp)})
    assert wrong.status_code == 200
    assert "That code does not match" in wrong.content.decode()
    assert _signed_in_as(client) is None

    right = client.post(CODE, {"code": totp.now()})
    assert right.status_code == 302
    assert right["Location"] == "/"
    assert _signed_in_as(client) == str(user.pk)
    assert client.get("/", follow=True).status_code == 200  # the portal, for a contact


@pytest.mark.parametrize("code", ["", "abcdef", "12345", "1234567"])
def test_a_malformed_code_is_refused(cast, client, code):
    _with_second_factor(cast.admin)
    client.post(LOGIN, {"username": "admin", "password": PASSWORD})
    response = client.post(CODE, {"code": code})
    assert response.status_code == 200
    assert _signed_in_as(client) is None


def test_a_code_with_spaces_as_an_app_shows_it_is_accepted(cast, client):
    totp = _with_second_factor(cast.desk)
    client.post(LOGIN, {"username": "dean", "password": PASSWORD})
    code = totp.now()
    client.post(CODE, {"code": f"{code[:3]} {code[3:]}"})
    assert _signed_in_as(client) == str(cast.desk.pk)


def test_the_code_page_without_a_password_first_sends_back_to_the_login(cast, client):
    totp = _with_second_factor(cast.admin)
    assert client.get(CODE)["Location"] == LOGIN
    response = client.post(CODE, {"code": totp.now()})
    assert response["Location"] == LOGIN
    assert _signed_in_as(client) is None


def test_a_wrong_password_never_reaches_the_code_page(cast, client):
    totp = _with_second_factor(cast.admin)
    client.post(LOGIN, {"username": "admin", "password": "not-the-password"})
    response = client.post(CODE, {"code": totp.now()})
    assert response["Location"] == LOGIN
    assert _signed_in_as(client) is None


# --- admins must enrol when the practice requires it -------------------------------------------


def _pages(cast) -> list[str]:
    return [
        "/",
        "/partners/",
        f"/partners/{cast.partner_record.pk}/",
        "/partners/new/",
        "/clients/",
        f"/clients/{cast.acme.pk}/",
        "/clients/new/",
        f"/clients/{cast.acme.pk}/site/new/",
        "/accounts/settings/",
        "/admin/",
        "/admin/clients/client/",
    ]


def test_a_required_second_factor_holds_an_unenrolled_admin_at_enrolment(
    cast, web_as, settings, page
):
    settings.REQUIRE_ADMIN_SECOND_FACTOR = True
    browser = web_as(cast.admin)
    for url in _pages(cast):
        response = browser.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == ENROL, url
        assert "Acme" not in response.content.decode()
    # Writes are held too.
    before = Client.objects.count(), AuditRecord.objects.count()
    response = browser.post(
        "/clients/new/", {"name": "Sneaky", "time_zone": "UTC", "country": "FR"}
    )
    assert response["Location"] == ENROL
    assert (Client.objects.count(), AuditRecord.objects.count()) == before

    # Enrolment itself is open; once done, every page is.
    html = page(browser.get(ENROL))
    secret = browser.session["second_factor_enrol_secret"]
    assert secret in html
    response = browser.post(ENROL, {"code": pyotp.TOTP(secret).now()})
    assert response["Location"] == "/accounts/settings/"
    for url in _pages(cast):
        assert browser.get(url).status_code == 200, url


def test_an_unenrolled_admin_may_still_sign_out(cast, web_as, settings):
    settings.REQUIRE_ADMIN_SECOND_FACTOR = True
    browser = web_as(cast.admin)
    response = browser.post("/accounts/logout/")
    assert response["Location"] == LOGIN
    assert _signed_in_as(browser) is None


def test_an_unenrolled_admin_signing_in_lands_on_enrolment(cast, client, settings):
    settings.REQUIRE_ADMIN_SECOND_FACTOR = True
    client.post(LOGIN, {"username": "admin", "password": PASSWORD})
    response = client.get("/", follow=True)
    assert response.redirect_chain[-1][0] == ENROL
    assert "Set up a second factor" in response.content.decode()


def test_a_required_second_factor_does_not_hold_anyone_but_admins(cast, web_as, settings, role):
    settings.REQUIRE_ADMIN_SECOND_FACTOR = True
    response = web_as(getattr(cast, role)).get("/clients/")
    assert response.status_code == (302 if role == "admin" else 200)
    assert web_as(getattr(cast, role)).get("/accounts/settings/").status_code == (
        302 if role == "admin" else 200
    )


def test_an_enrolled_admin_is_not_held(cast, web_as, settings):
    settings.REQUIRE_ADMIN_SECOND_FACTOR = True
    _with_second_factor(cast.admin)
    assert web_as(cast.admin).get("/clients/").status_code == 200


def test_without_the_requirement_an_unenrolled_admin_is_not_held(cast, web_as, settings):
    settings.REQUIRE_ADMIN_SECOND_FACTOR = False
    assert web_as(cast.admin).get("/clients/").status_code == 200


# --- where the login sends people --------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "landing"),
    [
        ("/clients/", "/clients/"),
        ("/clients/?q=acme&status=active", "/clients/?q=acme&status=active"),
        ("http://testserver/partners/", "http://testserver/partners/"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example/", "/"),
        ("http:/evil.example/", "/"),
        ("javascript:alert(1)", "/"),
        ("https://testserver.evil.example/", "/"),
        ("", "/"),
    ],
)
def test_the_login_redirects_only_within_the_site(cast, client, target, landing):
    shown = client.get(LOGIN, {"next": target}).content.decode()
    assert "evil.example" not in shown
    assert "javascript:" not in shown
    response = client.post(
        f"{LOGIN}?next={target}", {"username": "paula", "password": PASSWORD, "next": target}
    )
    assert response.status_code == 302
    assert response["Location"] == landing


@pytest.mark.parametrize(
    ("target", "landing"), [("/partners/", "/partners/"), ("https://evil.example/x", "/")]
)
def test_the_second_factor_step_keeps_only_a_safe_next(cast, client, target, landing):
    totp = _with_second_factor(cast.partner)
    client.post(LOGIN, {"username": "paula", "password": PASSWORD, "next": target})
    response = client.post(CODE, {"code": totp.now()})
    assert response["Location"] == landing


def test_a_page_asked_for_before_signing_in_is_shown_after(cast, client):
    first = client.get(f"/clients/{cast.acme.pk}/")
    assert first["Location"] == f"{LOGIN}?next=/clients/{cast.acme.pk}/"
    login = client.get(first["Location"]).content.decode()
    assert f'name="next" value="/clients/{cast.acme.pk}/"' in login
    response = client.post(
        first["Location"],
        {"username": "paula", "password": PASSWORD, "next": f"/clients/{cast.acme.pk}/"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == f"/clients/{cast.acme.pk}/"
    assert "<h1>Acme Bakery</h1>" in response.content.decode()

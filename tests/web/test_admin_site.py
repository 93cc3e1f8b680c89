"""Django's admin site: for the practice admin only, read-only for the domain, behind the one login
page and its second factor."""

from __future__ import annotations

import time

import pyotp

from thirdway.accounts import services as accounts
from thirdway.audit.models import Source

PASSWORD = "correct-horse-battery-staple"


def test_the_admin_site_is_for_the_practice_admin_only(cast, web_as, role):
    browser = web_as(getattr(cast, role))
    response = browser.get("/admin/clients/client/", follow=True)
    html = response.content.decode()
    if role == "admin":
        assert response.status_code == 200
        assert not response.redirect_chain
        assert "Acme Bakery" in html
        assert "Globex Dental" in html
        return
    assert response.redirect_chain, "a non-admin must be sent away"
    assert response.redirect_chain[-1][0].startswith("/accounts/login/")
    assert "Acme Bakery" not in html
    assert "Globex Dental" not in html


def test_the_admin_site_shows_the_domain_read_only(cast, web_as, page):
    browser = web_as(cast.admin)
    index = page(browser.get("/admin/"))
    for model in ("Clients", "Partners", "Audit records", "Api tokens"):
        assert model in index
    assert browser.get("/admin/clients/client/add/").status_code == 403
    change = browser.get(f"/admin/clients/client/{cast.acme.pk}/change/")
    assert change.status_code == 200
    assert 'name="_save"' not in change.content.decode()
    assert browser.post(f"/admin/clients/client/{cast.acme.pk}/delete/").status_code == 403


def test_the_admin_site_login_form_does_not_skip_the_second_factor(cast, client):
    secret = pyotp.random_base32()
    accounts.enable_second_factor(
        cast.admin, secret, pyotp.TOTP(secret).at(time.time() - 30), source=Source.CLI
    )
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": "admin", "password": PASSWORD, "next": "/admin/"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/admin/"
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302
    assert client.get("/clients/").status_code == 302


def test_the_admin_site_sends_people_to_the_one_login_page(cast, client):
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0] == "/accounts/login/?next=%2Fadmin%2F"
    response = client.post(
        "/accounts/login/", {"username": "admin", "password": PASSWORD, "next": "/admin/"}
    )
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200

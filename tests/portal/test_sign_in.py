"""Signing in to the portal: with a password, or with a one-time link sent by e-mail."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import time

import pyotp
import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client as HttpClient
from django.utils import timezone

from thirdway.accounts import services as accounts
from thirdway.audit.models import AuditRecord, Source
from thirdway.clients import services as clients
from thirdway.portal.models import SignInLink
from thirdway.portal.services import LINKS_PER_HOUR

from .conftest import without_csrf

PASSWORD = "correct-horse-battery-staple"
LINK = re.compile(r"http://testserver(/portal/login/link/([A-Za-z0-9_-]+)/)")


def signed_in_as(client: HttpClient):
    return client.session.get(SESSION_KEY)


def ask_for_link(client: HttpClient, email: str):
    return client.post("/portal/login/link/", {"email": email})


def the_link(message) -> tuple[str, str]:
    """The path and token of the sign-in link in a mail."""
    match = LINK.search(message.body)
    assert match, message.body
    return match.group(1), match.group(2)


def travel(monkeypatch, delta: dt.timedelta) -> None:
    moment = timezone.now() + delta
    monkeypatch.setattr(timezone, "now", lambda: moment)


# --- password ----------------------------------------------------------------------------------


def test_the_login_page_offers_a_password_and_an_e_mailed_link(client):
    response = client.get("/portal/login/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'action="/portal/login/"' in html
    assert 'name="password"' in html
    assert 'action="/portal/login/link/"' in html
    assert "works once, within 15 minutes" in html


@pytest.mark.parametrize("who", ["client_admin", "client_user", "other_client_user"])
def test_a_contact_signs_in_with_e_mail_and_password_and_lands_on_their_tickets(cast, client, who):
    user = getattr(cast, who)
    response = client.post("/portal/login/", {"email": user.email.upper(), "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/portal/"
    assert signed_in_as(client) == str(user.pk)
    assert client.get("/portal/").status_code == 200


def test_a_wrong_password_is_refused(cast, client):
    response = client.post(
        "/portal/login/", {"email": "alice@acme.example", "password": "not-the-password"}
    )
    assert response.status_code == 400
    assert "do not match an account" in response.content.decode()
    assert signed_in_as(client) is None


def test_password_sign_in_follows_a_local_next_only(cast, client):
    data = {"email": "bob@acme.example", "password": PASSWORD}
    local = client.post("/portal/login/?next=/portal/new/", data)
    assert local["Location"] == "/portal/new/"
    elsewhere = HttpClient().post("/portal/login/?next=https://evil.example/", data)
    assert elsewhere["Location"] == "/portal/"


@pytest.mark.parametrize("who", ["admin", "partner", "desk", "associate"])
def test_the_network_is_sent_to_its_own_sign_in_page(cast, client, who):
    user = getattr(cast, who)
    response = client.post("/portal/login/", {"email": user.get_username(), "password": PASSWORD})
    assert response.status_code == 400
    assert "The network signs in on the main sign-in page" in response.content.decode()
    assert signed_in_as(client) is None


def test_a_contact_whose_record_is_inactive_cannot_sign_in_with_a_password(cast, client):
    clients.update_contact(
        cast.admin, cast.acme_user_contact, {"is_active": False}, source=Source.CLI
    )
    response = client.post("/portal/login/", {"email": "bob@acme.example", "password": PASSWORD})
    assert response.status_code == 400
    assert "Your access to the portal is turned off" in response.content.decode()
    assert signed_in_as(client) is None


def test_a_contact_signed_in_before_being_deactivated_is_shut_out(cast, desk, web_as):
    browser = web_as(cast.client_user)
    assert browser.get("/portal/").status_code == 200
    clients.update_contact(
        cast.admin, cast.acme_user_contact, {"is_active": False}, source=Source.CLI
    )
    for url in ("/portal/", "/portal/new/", f"/portal/tickets/{desk.bob_laptop.pk}/"):
        response = browser.get(url)
        assert response.status_code == 404, url
        assert "Laptop battery" not in response.content.decode()
    assert browser.post("/portal/new/", {"subject": "x", "description": "y"}).status_code == 404


def test_a_contact_with_a_second_factor_gives_a_code_after_the_password(cast, client):
    secret = accounts.new_totp_secret()
    accounts.enable_second_factor(
        cast.client_user, secret, pyotp.TOTP(secret).at(time.time() - 30), source=Source.CLI
    )
    response = client.post("/portal/login/", {"email": "bob@acme.example", "password": PASSWORD})
    assert response["Location"] == "/accounts/login/code/"
    assert signed_in_as(client) is None
    coded = client.post("/accounts/login/code/", {"code": pyotp.TOTP(secret).now()})
    assert coded["Location"] == "/portal/"
    assert signed_in_as(client) == str(cast.client_user.pk)


# --- one-time links ----------------------------------------------------------------------------


def test_asking_for_a_link_mails_one_that_signs_the_contact_in_once(cast, client, mailoutbox):
    response = ask_for_link(client, "Alice@Acme.example")
    assert response.status_code == 302
    assert response["Location"] == "/portal/login/link/sent/"
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["alice@acme.example"]
    assert "sign-in link" in message.subject
    path, token = the_link(message)
    assert len(token) >= 40

    # Opening the link asks to confirm (a mail scanner's visit does not use it up)...
    confirm = client.get(path)
    assert confirm.status_code == 200
    assert signed_in_as(client) is None
    # ...and confirming signs in.
    used = client.post(path)
    assert used.status_code == 302
    assert used["Location"] == "/portal/"
    assert signed_in_as(client) == str(cast.client_admin.pk)
    assert AuditRecord.objects.filter(
        actor=cast.client_admin, action="portal.sign_in_by_link"
    ).exists()

    # A second use, by anyone, is refused.
    again = HttpClient()
    assert again.get(path).status_code == 410
    second = again.post(path)
    assert second.status_code == 410
    assert "This link no longer works" in second.content.decode()
    assert signed_in_as(again) is None


def test_only_a_digest_of_the_link_is_stored(cast, client, mailoutbox):
    ask_for_link(client, "bob@acme.example")
    _, token = the_link(mailoutbox[0])
    link = SignInLink.objects.get()
    assert link.user == cast.client_user
    assert link.digest == hashlib.sha256(token.encode()).hexdigest()
    stored = [str(value) for value in SignInLink.objects.values().get().values()]
    assert not any(token in value for value in stored)
    assert not AuditRecord.objects.filter(changes__icontains=token).exists()


def test_an_expired_link_is_refused(cast, client, mailoutbox, monkeypatch):
    ask_for_link(client, "bob@acme.example")
    path, _ = the_link(mailoutbox[0])
    travel(monkeypatch, dt.timedelta(minutes=15, seconds=1))
    assert client.get(path).status_code == 410
    response = client.post(path)
    assert response.status_code == 410
    assert signed_in_as(client) is None


def test_a_link_still_works_just_before_it_expires(cast, client, mailoutbox, monkeypatch):
    ask_for_link(client, "bob@acme.example")
    path, _ = the_link(mailoutbox[0])
    travel(monkeypatch, dt.timedelta(minutes=14, seconds=50))
    assert client.post(path)["Location"] == "/portal/"
    assert signed_in_as(client) == str(cast.client_user.pk)


def test_a_made_up_or_tampered_link_is_refused(cast, client, mailoutbox):
    ask_for_link(client, "bob@acme.example")
    path, token = the_link(mailoutbox[0])
    tampered = path.replace(token, token[:-1] + ("A" if token[-1] != "A" else "B"))
    for target in (tampered, "/portal/login/link/nothing/", f"/portal/login/link/{'x' * 500}/"):
        assert client.post(target).status_code == 410, target
    assert signed_in_as(client) is None
    # The real one still works afterwards.
    assert client.post(path)["Location"] == "/portal/"


def test_using_a_link_retires_the_other_links_of_that_person(cast, client, mailoutbox):
    ask_for_link(client, "bob@acme.example")
    ask_for_link(client, "bob@acme.example")
    first, _ = the_link(mailoutbox[0])
    second, _ = the_link(mailoutbox[1])
    assert client.post(second)["Location"] == "/portal/"
    assert HttpClient().post(first).status_code == 410


@pytest.mark.parametrize(
    "email",
    [
        "nobody@acme.example",  # no such contact
        "paula@network.example",  # a partner, not a contact
        "olive@elsewhere.example",  # a user with no role
    ],
)
def test_an_address_that_cannot_sign_in_gets_the_same_answer_and_no_mail(cast, mailoutbox, email):
    known, unknown = HttpClient(), HttpClient()
    known_answer = ask_for_link(known, "alice@acme.example")
    unknown_answer = ask_for_link(unknown, email)
    assert (unknown_answer.status_code, unknown_answer["Location"]) == (
        known_answer.status_code,
        known_answer["Location"],
    )
    known_page = known.get(known_answer["Location"])
    unknown_page = unknown.get(unknown_answer["Location"])
    assert without_csrf(unknown_page.content.decode()) == without_csrf(known_page.content.decode())
    assert [message.to for message in mailoutbox] == [["alice@acme.example"]]
    assert not SignInLink.objects.filter(email=email).exists()


def test_an_inactive_contact_gets_no_link_and_an_earlier_link_stops_working(
    cast, client, mailoutbox
):
    ask_for_link(client, "bob@acme.example")
    path, _ = the_link(mailoutbox[0])
    clients.update_contact(
        cast.admin, cast.acme_user_contact, {"is_active": False}, source=Source.CLI
    )
    response = ask_for_link(client, "bob@acme.example")
    assert response["Location"] == "/portal/login/link/sent/"
    assert len(mailoutbox) == 1
    assert client.get(path).status_code == 410
    assert client.post(path).status_code == 410
    assert signed_in_as(client) is None


def test_a_deactivated_user_account_gets_no_link(cast, client, mailoutbox):
    accounts.deactivate_user(cast.admin, cast.client_user, source=Source.CLI)
    ask_for_link(client, "bob@acme.example")
    assert mailoutbox == []


def test_at_most_five_links_an_hour_go_to_one_address(cast, client, mailoutbox, monkeypatch):
    for _ in range(LINKS_PER_HOUR + 2):
        response = ask_for_link(client, "bob@acme.example")
        assert response["Location"] == "/portal/login/link/sent/"
    assert len(mailoutbox) == LINKS_PER_HOUR == 5
    # Another address is not held back by Bob's.
    ask_for_link(client, "alice@acme.example")
    assert len(mailoutbox) == 6
    # An hour later, Bob may ask again.
    travel(monkeypatch, dt.timedelta(hours=1, minutes=1))
    ask_for_link(client, "bob@acme.example")
    assert len(mailoutbox) == 7
    assert mailoutbox[-1].to == ["bob@acme.example"]


def test_a_link_hands_over_to_the_second_factor_when_the_contact_has_one(cast, client, mailoutbox):
    secret = accounts.new_totp_secret()
    accounts.enable_second_factor(
        cast.client_admin, secret, pyotp.TOTP(secret).at(time.time() - 30), source=Source.CLI
    )
    ask_for_link(client, "alice@acme.example")
    path, _ = the_link(mailoutbox[0])
    response = client.post(path)
    assert response["Location"] == "/accounts/login/code/"
    assert signed_in_as(client) is None


def test_an_invalid_address_is_shown_as_such_and_sends_nothing(cast, client, mailoutbox):
    response = ask_for_link(client, "not an address")
    assert response.status_code == 400
    assert "Enter a valid email address." in response.content.decode()
    assert mailoutbox == []


def test_sign_in_forms_need_the_csrf_token(cast, mailoutbox):
    browser = HttpClient(enforce_csrf_checks=True)
    password = browser.post("/portal/login/", {"email": "bob@acme.example", "password": PASSWORD})
    assert password.status_code == 403
    assert signed_in_as(browser) is None
    assert ask_for_link(browser, "bob@acme.example").status_code == 403
    assert mailoutbox == []
    # The e-mailed link's confirmation is a form with the token, like every other.
    ask_for_link(HttpClient(), "bob@acme.example")
    path, _ = the_link(mailoutbox[0])
    assert browser.post(path).status_code == 403
    assert signed_in_as(browser) is None
    html = browser.get(path).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    assert browser.post(path, {"csrfmiddlewaretoken": token})["Location"] == "/portal/"

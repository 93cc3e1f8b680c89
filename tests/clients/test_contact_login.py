"""A contact's portal login is their e-mail address, and follows it when it changes."""

from __future__ import annotations

import pytest
from django.contrib.auth import SESSION_KEY
from django.core.exceptions import ValidationError
from django.test import Client

from thirdway.accounts.models import User
from thirdway.audit.models import AuditRecord, Source
from thirdway.clients import services as clients

PASSWORD = "correct-horse-battery-staple"


def portal_sign_in(email: str) -> Client:
    browser = Client()
    browser.post("/portal/login/", {"email": email, "password": PASSWORD})
    return browser


def test_a_new_address_becomes_the_login_and_the_old_one_stops_working(cast):
    bob = cast.acme_user_contact
    clients.update_contact(cast.admin, bob, {"email": "Robert@Acme.example"}, source=Source.WEB)
    user = User.objects.get(pk=bob.user_id)
    assert (user.username, user.email.lower()) == ("robert@acme.example", "robert@acme.example")
    assert SESSION_KEY in portal_sign_in("robert@acme.example").session
    assert SESSION_KEY not in portal_sign_in("bob@acme.example").session
    change = AuditRecord.objects.get(action="user.change_login", object_id=str(user.pk))
    assert change.changes["username"] == ["bob@acme.example", "robert@acme.example"]


def test_an_address_another_login_uses_is_refused_and_nothing_changes(cast):
    bob = cast.acme_user_contact
    with pytest.raises(ValidationError) as refused:
        clients.update_contact(cast.admin, bob, {"email": "gina@globex.example"}, source=Source.WEB)
    assert "already uses this address" in str(refused.value.message_dict["email"])
    bob.refresh_from_db()
    assert bob.email == "bob@acme.example"
    assert User.objects.get(pk=bob.user_id).username == "bob@acme.example"

"""The site as a whole: anonymous visitors are sent to sign in from every page, and the home page
shows each role what it may see."""

from __future__ import annotations

import datetime as dt

from support.pages import CLIENT_NAMES, NETWORK, VISIBLE_CLIENTS
from thirdway.audit.models import Source
from thirdway.network import services as network

# --- anonymous visitors ------------------------------------------------------------------------


def _every_page(cast) -> list[str]:
    acme, paula = cast.acme.pk, cast.partner_record.pk
    absence = cast.other_partner_record.absences.get().pk
    other = cast.other_partner_record.pk
    return [
        "/",
        "/partners/",
        "/partners/?region=Qu%C3%A9bec",
        "/partners/new/",
        f"/partners/{paula}/",
        f"/partners/{paula}/edit/",
        f"/partners/{paula}/absences/",
        f"/partners/{other}/absences/{absence}/cancel/",
        "/clients/",
        "/clients/?q=Acme",
        "/clients/new/",
        f"/clients/{acme}/",
        f"/clients/{acme}/edit/",
        f"/clients/{acme}/site/new/",
        f"/clients/{acme}/site/{cast.acme_site.pk}/edit/",
        f"/clients/{acme}/contact/new/",
        f"/clients/{acme}/contact/{cast.acme_user_contact.pk}/edit/",
        f"/clients/{acme}/asset/new/",
        f"/clients/{acme}/asset/{cast.acme_laptop.pk}/edit/",
        "/accounts/settings/",
        "/accounts/settings/tokens/",
        "/accounts/settings/second-factor/",
    ]


def test_anonymous_visitors_are_sent_to_the_login_page_from_every_page(cast, client):
    for url in _every_page(cast):
        for method in (client.get, client.post):
            response = method(url)
            assert response.status_code == 302, (method, url)
            assert response["Location"].startswith("/accounts/login/?next="), url
            assert "Acme" not in response.content.decode()


def test_anonymous_visitors_to_the_admin_site_are_asked_to_sign_in(client):
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain
    assert response.redirect_chain[-1][0].startswith("/accounts/login/")
    assert "Sign in" in response.content.decode()


def test_the_login_page_is_open_to_anonymous_visitors(client, page):
    html = page(client.get("/accounts/login/"))
    assert 'name="username"' in html
    assert 'name="password"' in html


# --- home --------------------------------------------------------------------------------------


def test_the_home_page_counts_what_each_role_may_see(cast, web_as, role, frozen_now, page):
    response = web_as(getattr(cast, role)).get("/")
    if getattr(cast, role).is_client_contact:
        assert response.status_code == 302 and response["Location"] == "/portal/"
        return
    html = page(response)
    count = len(VISIBLE_CLIENTS[role])
    assert f"<strong>{count}</strong> clients you can see" in html
    if role in NETWORK:
        assert "<strong>4</strong> active partners" in html
        assert 'href="/partners/"' in html
    else:
        assert "active partners" not in html
        assert 'href="/partners/"' not in html
    for key in ("acme", "globex"):
        assert CLIENT_NAMES[key] not in html


def test_the_home_page_lists_who_is_away_now_to_the_network_only(
    cast, web_as, role, frozen_now, page
):
    network.add_absence(
        cast.admin,
        cast.other_partner_record,
        kind="sick",
        starts_at=frozen_now() - dt.timedelta(hours=2),
        ends_at=frozen_now() + dt.timedelta(days=1),
        source=Source.CLI,
    )
    html = page(web_as(getattr(cast, role)).get("/", follow=True))
    if role in NETWORK:
        assert "Away now" in html
        assert "Oscar Other</a> — Sick" in html
    else:
        assert "Away now" not in html
        assert "Oscar Other" not in html

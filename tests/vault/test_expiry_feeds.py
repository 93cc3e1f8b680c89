"""The iCal feeds of expirations: a secret address per client or for every client one sees,
shown once, replaced when made again; the feed parses and never shows another client's items."""

from __future__ import annotations

import datetime as dt
import re

import icalendar
from django.test import Client as HttpClient
from django.utils import timezone

from thirdway.audit.models import Source
from thirdway.vault.models import ExpiryFeed
from thirdway.vault.services import expirations, expiry_feeds


def _item(client, name, kind="domain", days=20):
    return expirations.create_expiry(
        None,
        client,
        kind=kind,
        name=name,
        expires_on=timezone.localdate() + dt.timedelta(days=days),
        source=Source.CLI,
    )


def _events(body: bytes) -> list:
    calendar = icalendar.Calendar.from_ical(body)
    return list(calendar.walk("VEVENT"))


def _feed(token: str):
    return HttpClient().get(f"/vault/expirations/feed/{token}.ics")


def test_a_client_feed_parses_and_holds_only_that_clients_items(cast):
    soon = _item(cast.acme, "acme.example").expires_on
    _item(cast.acme, "Office", kind="licence", days=40)
    _item(cast.globex, "globex.example")
    _item(cast.acme, "long-gone.example", days=-60)
    token = expiry_feeds.reset_feed(cast.admin, cast.acme, source=Source.CLI)
    answer = _feed(token)
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("text/calendar")
    events = _events(answer.content)
    summaries = sorted(str(e["summary"]) for e in events)
    assert summaries == [
        f"Domain expires: acme.example ({cast.acme.name})",
        f"Licence expires: Office ({cast.acme.name})",
    ]
    first = next(e for e in events if "acme.example" in str(e["summary"]))
    # The item's own date: one taken when the module loaded is a day behind when the run
    # crosses midnight.
    assert first.decoded("dtstart") == soon


def test_the_network_wide_feed_holds_what_its_owner_sees(cast):
    _item(cast.acme, "acme.example")
    _item(cast.globex, "globex.example")
    every = expiry_feeds.reset_feed(cast.admin, None, source=Source.CLI)
    assert len(_events(_feed(every).content)) == 2
    # A partner of Acme's only: Globex's item never shows.
    mine = expiry_feeds.reset_feed(cast.partner, None, source=Source.CLI)
    names = [str(e["summary"]) for e in _events(_feed(mine).content)]
    assert names == [f"Domain expires: acme.example ({cast.acme.name})"]


def test_a_client_admins_feed_never_shows_another_client_or_files(cast):
    _item(cast.acme, "acme.example")
    _item(cast.globex, "globex.example")
    _item(cast.acme, "contract.pdf", kind="file")
    token = expiry_feeds.reset_feed(cast.client_admin, cast.acme, source=Source.CLI)
    names = [str(e["summary"]) for e in _events(_feed(token).content)]
    assert names == [f"Domain expires: acme.example ({cast.acme.name})"]
    network = expiry_feeds.reset_feed(cast.client_admin, None, source=Source.CLI)
    assert len(_events(_feed(network).content)) == 1


def test_a_new_address_replaces_the_old_and_a_bad_one_is_404(cast):
    _item(cast.acme, "acme.example")
    old = expiry_feeds.reset_feed(cast.admin, cast.acme, source=Source.CLI)
    new = expiry_feeds.reset_feed(cast.admin, cast.acme, source=Source.CLI)
    assert _feed(old).status_code == 404 and _feed(new).status_code == 200
    assert _feed("x" * 43).status_code == 404
    assert _feed("x" * 200).status_code == 404
    assert ExpiryFeed.objects.count() == 1
    cast.admin.is_active = False
    cast.admin.save()
    assert _feed(new).status_code == 404


def test_a_feed_of_a_client_one_no_longer_sees_is_404(cast):
    _item(cast.acme, "acme.example")
    token = expiry_feeds.reset_feed(cast.client_admin, cast.acme, source=Source.CLI)
    contact = cast.client_admin.contact
    contact.is_active = False
    contact.save()
    assert _feed(token).status_code == 404


def test_the_page_shows_the_new_address_once(cast, web_as):
    _item(cast.acme, "acme.example")
    paula = web_as(cast.partner)
    page = paula.get("/vault/expirations/calendar/")
    assert page.status_code == 200 and b"Every client I see" in page.content
    assert cast.globex.name.encode() not in page.content
    answer = paula.post("/vault/expirations/calendar/new/", {"client": cast.acme.pk}, follow=True)
    found = re.search(rb"/vault/expirations/feed/([A-Za-z0-9_-]+)\.ics", answer.content)
    assert found is not None
    assert _feed(found.group(1).decode()).status_code == 200
    again = paula.get("/vault/expirations/calendar/")
    assert found.group(0) not in again.content
    # Another client's id is not a choice.
    answer = paula.post("/vault/expirations/calendar/new/", {"client": cast.globex.pk})
    assert answer.status_code == 400
    assert ExpiryFeed.objects.count() == 1


def test_stopping_a_feed_and_another_persons_feed(cast, web_as):
    token = expiry_feeds.reset_feed(cast.admin, cast.acme, source=Source.CLI)
    feed = ExpiryFeed.objects.get()
    assert (
        web_as(cast.partner).post(f"/vault/expirations/calendar/{feed.pk}/stop/").status_code == 404
    )
    assert _feed(token).status_code == 200
    assert (
        web_as(cast.admin).post(f"/vault/expirations/calendar/{feed.pk}/stop/").status_code == 302
    )
    assert _feed(token).status_code == 404


def test_a_client_user_has_no_feed_page(cast, web_as):
    assert web_as(cast.client_user).get("/vault/expirations/calendar/").status_code == 404

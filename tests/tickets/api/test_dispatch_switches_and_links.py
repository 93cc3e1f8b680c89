"""The API of a practice's dispatch switches and of incident links, endpoint by endpoint, for
every role of the cast: practice admins alone read and change the switches (others who see
the practice get 403, the rest 404); a link is seen by whoever sees both its tickets, and
only the network may unlink it."""

from __future__ import annotations

import json

import pytest

from support.api import assert_refused, nothing_written
from thirdway.audit.models import AuditRecord
from thirdway.tickets.assignment import switches
from thirdway.tickets.models import IncidentLink, Ticket

from ..test_incidents import _open
from .conftest import API, ROLES

SWITCHES = f"{API}/dispatch-switches"
LINKS = f"{API}/incident-links"
SEES_PRACTICE = set(ROLES) - {"outsider"}
# An unassigned Acme ticket of Security, opened by the admin (tickets.access).
SEES_LINK = {"admin", "desk", "partner", "client_admin"}
OFF = {
    "preempt": False,
    "link_incidents": False,
    "when_free": "nothing",
    "surge": False,
    "surge_ratio": 2.0,
    "surge_defers_p3": False,
}


def _patch(client, url: str, payload: dict):
    return client.patch(url, data=json.dumps(payload), content_type="application/json")


@pytest.fixture
def linked(cast):
    switches.set_switches(cast.admin, cast.security, {"link_incidents": True}, source="web")
    first = _open(cast, site_id=cast.acme_site.pk)
    second = _open(cast, site_id=cast.acme_site.pk, priority=3)
    return IncidentLink.objects.get(parent=first, child=second)


# --- switches ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_only_practice_admins_read_the_switches(cast, api_as, role):
    response = api_as(getattr(cast, role)).get(f"{SWITCHES}/{cast.security.pk}")
    if role == "admin":
        assert response.status_code == 200
        assert response.json() == {"practice_id": cast.security.pk, **OFF}
    else:
        assert response.status_code == (403 if role in SEES_PRACTICE else 404), response.content


@pytest.mark.parametrize("role", ROLES)
def test_only_practice_admins_change_the_switches(cast, api_as, role):
    client = api_as(getattr(cast, role))
    url = f"{SWITCHES}/{cast.security.pk}"
    if role != "admin":
        with nothing_written():
            response = _patch(client, url, {"preempt": True})
        assert response.status_code == (403 if role in SEES_PRACTICE else 404), response.content
        assert switches.switches_of(cast.security.pk) == OFF
        return
    response = _patch(client, url, {"preempt": True})
    assert response.status_code == 200, response.content
    assert response.json()["preempt"] is True and response.json()["link_incidents"] is False
    assert switches.switches_of(cast.security.pk) == OFF | {"preempt": True}
    assert switches.switches_of(cast.networking.pk) == OFF
    audit = AuditRecord.objects.get(action="dispatch.switches")
    assert audit.changes == {"preempt": [False, True]} and audit.source == "api"
    kept = _patch(client, url, {"link_incidents": True})
    assert kept.json() == {"practice_id": cast.security.pk, **OFF, "preempt": True} | {
        "link_incidents": True
    }
    chosen = _patch(client, url, {"when_free": "take"})
    assert chosen.status_code == 200 and chosen.json()["when_free"] == "take"
    assert switches.switches_of(cast.security.pk)["when_free"] == "take"
    audit = AuditRecord.objects.filter(action="dispatch.switches").first()
    assert audit.changes == {"when_free": ["nothing", "take"]}
    surge = _patch(client, url, {"surge": True, "surge_ratio": 3.5, "surge_defers_p3": True})
    assert surge.status_code == 200, surge.content
    assert {k: surge.json()[k] for k in ("surge", "surge_ratio", "surge_defers_p3")} == {
        "surge": True,
        "surge_ratio": 3.5,
        "surge_defers_p3": True,
    }
    assert switches.switches_of(cast.security.pk)["surge_ratio"] == 3.5


def test_a_practice_nobody_may_see_is_a_404(cast, api_as):
    assert api_as(cast.admin).get(f"{SWITCHES}/999999").status_code == 404


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"preempt": "sometimes"}, "preempt"),
        ({"preempt": None}, "preempt"),
        ({"link_incidents": 3}, "link_incidents"),
        ({"storm": True}, "storm"),
        ({"surge": "sometimes"}, "surge"),
        ({"surge_ratio": 0.5}, "surge_ratio"),
        ({"surge_ratio": 10.5}, "surge_ratio"),
        ({"surge_ratio": None}, "surge_ratio"),
        ({"surge_ratio": "many"}, "surge_ratio"),
        ({"surge": True, "surge_ratio": 11}, "surge_ratio"),
        ({"when_free": "sometimes"}, "when_free"),
        ({"when_free": None}, "when_free"),
        ({"when_free": True}, "when_free"),
        ({"when_free": "take", "preempt": "x"}, "preempt"),
    ],
)
def test_a_bad_switch_is_a_400_naming_it_and_nothing_is_written(cast, api_as, payload, field):
    client = api_as(cast.admin)
    with nothing_written():
        response = _patch(client, f"{SWITCHES}/{cast.security.pk}", payload)
    assert_refused(response, field)
    assert switches.switches_of(cast.security.pk) == OFF
    assert not AuditRecord.objects.filter(action="dispatch.switches").exists()


# --- incident links ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_a_link_is_listed_and_read_by_those_who_see_both_tickets(cast, api_as, linked, role):
    client = api_as(getattr(cast, role))
    listed = client.get(LINKS)
    one = client.get(f"{LINKS}/{linked.pk}")
    of_ticket = client.get(LINKS, {"ticket": linked.child_id})
    assert listed.status_code == 200 and of_ticket.status_code == 200
    if role in SEES_LINK:
        (row,) = listed.json()
        assert row["id"] == linked.pk and row["parent_id"] == linked.parent_id
        assert row["child_number"] == linked.child.number and row["child_status"] == "new"
        assert one.status_code == 200 and one.json() == row
        assert [r["id"] for r in of_ticket.json()] == [linked.pk]
    else:
        assert listed.json() == [] and of_ticket.json() == []
        assert one.status_code == 404 and one.json() == {"detail": "Not found."}


def test_the_ticket_filter_keeps_the_links_of_that_ticket_only(cast, api_as, linked):
    client = api_as(cast.admin)
    assert [r["id"] for r in client.get(LINKS, {"ticket": linked.parent_id}).json()] == [linked.pk]
    other = _open(cast, cast.globex)
    assert client.get(LINKS, {"ticket": other.pk}).json() == []
    assert_refused(client.get(LINKS, {"ticket": 0}), "ticket")


@pytest.mark.parametrize("role", ROLES)
def test_the_network_unlinks_a_repeat_and_nobody_else_may(cast, api_as, linked, role):
    client = api_as(getattr(cast, role))
    url = f"{LINKS}/{linked.pk}"
    if role in SEES_LINK and role != "client_admin":
        response = client.delete(url)
        assert response.status_code == 204, response.content
        assert not IncidentLink.objects.exists()
        audit = AuditRecord.objects.get(action="ticket.incident_unlinked")
        assert audit.source == "api" and audit.actor == getattr(cast, role)
        # on its own now: dispatched like any ticket, with the unlink on its timeline
        child = Ticket.objects.get(pk=linked.child_id)
        assert child.articles.filter(event="incident_unlinked").exists()
        assert client.delete(url).status_code == 404
        return
    with nothing_written():
        response = client.delete(url)
    assert response.status_code == (403 if role in SEES_LINK else 404), response.content
    assert IncidentLink.objects.filter(pk=linked.pk).exists()

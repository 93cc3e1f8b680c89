"""The surge page and API: the desk and practice admins see every skill and every held ticket;
a partner their own skills and the held tickets they see, never another practice's; anyone
else nothing (the page is the network's). The ticket page and the queue say a ticket is held."""

from __future__ import annotations

import pytest

from thirdway.network.models import Partner, Practice
from thirdway.tickets.assignment import dispatching, surge, switches

from .test_dispatching import ALWAYS
from .test_incidents import _open

API = "/api/v1/dispatch-surge"
PAGE = "/tickets/surge/"
ROLES = (
    "admin",
    "desk",
    "partner",
    "other_partner",
    "associate",
    "client_admin",
    "client_user",
    "other_client_admin",
    "outsider",
)


@pytest.fixture
def held(cast):
    """A P4 of Acme held in a Security surge, and one of Globex in a Networking surge."""
    Partner.objects.update(working_hours=ALWAYS)
    Practice.objects.update(auto_dispatch=True)
    found = {}
    for practice, client, storm in (
        (cast.security, cast.acme, 2),
        (cast.networking, cast.globex, 3),
    ):
        switches.set_switches(
            cast.admin, practice, {"surge": True, "surge_ratio": 1.0}, source="web"
        )
        for n in range(storm):
            _open(cast, client, practice=practice, subject=f"Alarm {n}")
        ticket = _open(cast, client, practice=practice, priority=4, subject=f"Held {client.name}")
        dispatching.dispatch_on_arrival(ticket.pk)
        assert surge.open_hold(ticket.pk) is not None
        found[practice.name] = ticket
    return found


SEES = {
    "admin": ({"Security", "Networking"}, {"Security", "Networking"}),
    "desk": ({"Security", "Networking"}, {"Security", "Networking"}),
    "partner": ({"Security"}, {"Security"}),
    "other_partner": ({"Networking"}, {"Networking"}),
    "associate": ({"Networking"}, set()),
}


@pytest.mark.parametrize("role", ROLES)
def test_each_role_sees_only_its_own_skills_and_held_tickets(cast, held, api_as, role):
    answer = api_as(getattr(cast, role)).get(API)
    assert answer.status_code == 200, answer.content
    body = answer.json()
    skills, holds = SEES.get(role, (set(), set()))
    assert {row["practice"] for row in body["skills"]} == skills
    assert {row["practice"] for row in body["held"]} == holds
    assert {row["ticket_id"] for row in body["held"]} == {held[name].pk for name in holds}
    in_surge = {row["practice"] for row in body["skills"] if row["in_surge"]}
    assert in_surge == skills


@pytest.mark.parametrize("role", ROLES)
def test_the_surge_page_is_the_networks_and_shows_what_each_sees(cast, held, web_as, role):
    answer = web_as(getattr(cast, role)).get(PAGE)
    if role not in SEES:
        assert answer.status_code == 404
        return
    assert answer.status_code == 200
    text = answer.content.decode()
    skills, holds = SEES[role]
    for name, ticket in held.items():
        assert (ticket.number in text) == (name in holds), (role, name)
    assert ("Networking" in text) == ("Networking" in skills)


def test_the_ticket_page_and_the_queue_say_the_ticket_is_held(cast, held, web_as):
    client = web_as(cast.desk)
    ticket = held["Security"]
    page = client.get(f"/tickets/{ticket.number}/").content.decode()
    assert "held: surge on Security" in page and "take or assign it by hand" in page
    queue = client.get("/tickets/?queue=triage").content.decode()
    assert "held: surge on Security" in queue
    calm = _open(cast, cast.acme, priority=1, subject="Calm")
    assert "held: surge" not in client.get(f"/tickets/{calm.number}/").content.decode()

"""The playbooks API: templates, runs and step completion, schedules; and who gets a 404."""

from __future__ import annotations

import pytest

from support.api import API, assert_refused, send
from thirdway.playbooks.models import Playbook, Run, Schedule


def test_a_partner_copies_edits_publishes_and_runs_a_template(cast, api_as):
    api = api_as(cast.partner)
    made = send(
        api,
        "post",
        f"{API}/playbook-copies",
        {"builtin": "major_outage", "practice": cast.security.pk},
    )
    assert made.status_code == 201, made.content
    book = made.json()
    assert book["published"]["number"] == 1 and book["draft"] is None
    added = send(
        api,
        "post",
        f"{API}/playbooks/{book['id']}/steps",
        {"title": "Tell the insurer", "evidence": "text", "blocking": True},
    )
    assert added.status_code == 201 and added.json()["position"] == 5
    published = send(api, "post", f"{API}/playbooks/{book['id']}/publish")
    assert published.json()["published"]["number"] == 2
    started = send(
        api, "post", f"{API}/playbook-runs", {"playbook": book["id"], "client": cast.acme.pk}
    )
    assert started.status_code == 201, started.content
    run = started.json()
    assert run["version"] == 2 and len(run["steps"]) == 5
    url = f"{API}/playbook-runs/{run['id']}/steps/1/complete"
    assert_refused(send(api, "post", url, {}), "evidence")
    assert_refused(
        send(api, "post", f"{API}/playbook-runs/{run['id']}/steps/2/complete", {"evidence": "x"}),
        "step",
    )
    done = send(api, "post", url, {"evidence": "Called the client at 09:10"})
    assert done.status_code == 200
    assert done.json()["steps"][0]["evidence"] == "Called the client at 09:10"


def test_bad_rules_and_unknown_kinds_are_refused_naming_the_field(cast, api_as):
    api = api_as(cast.partner)
    bad = send(
        api,
        "post",
        f"{API}/maintenance-schedules",
        {
            "client": cast.acme.pk,
            "name": "Too often",
            "rule": "FREQ=SECONDLY",
            "starts_at": "2026-01-01T00:00:00Z",
        },
    )
    assert_refused(bad, "rule")
    assert_refused(
        send(
            api, "post", f"{API}/playbook-copies", {"builtin": "nope", "practice": cast.security.pk}
        ),
        "builtin",
    )
    assert not Schedule.objects.exists() and not Playbook.objects.exists()
    good = send(
        api,
        "post",
        f"{API}/maintenance-schedules",
        {
            "client": cast.acme.pk,
            "name": "Backups",
            "rule": "FREQ=WEEKLY;BYDAY=FR",
            "starts_at": "2026-01-01T18:00:00Z",
            "lead_minutes": 60,
        },
    )
    assert good.status_code == 201 and good.json()["next_at"]


OUTSIDERS = sorted(
    {"other_partner", "other_client_admin", "other_client_user", "client_user", "outsider"}
)


@pytest.mark.parametrize("who", OUTSIDERS)
def test_others_get_404_on_every_object(cast, books, api_as, who):
    api = api_as(getattr(cast, who))
    for url in (
        f"/playbooks/{books.incident.pk}",
        f"/playbook-runs/{books.run.pk}",
        f"/maintenance-schedules/{books.schedule.pk}",
    ):
        assert send(api, "get", API + url).status_code == 404, (who, url)
    complete = send(
        api, "post", f"{API}/playbook-runs/{books.run.pk}/steps/1/complete", {"evidence": "x"}
    )
    assert complete.status_code == 404
    patch = send(api, "patch", f"{API}/maintenance-schedules/{books.schedule.pk}", {"name": "x"})
    assert patch.status_code == 404
    for url in ("/playbooks", "/playbook-runs", "/maintenance-schedules"):
        assert send(api, "get", API + url).json()["items"] == []


def test_client_contacts_cannot_start_runs_and_a_client_admin_reads_their_own(cast, books, api_as):
    clients = {who: api_as(getattr(cast, who)) for who in ("client_admin", "client_user")}
    for api in clients.values():
        answer = send(
            api,
            "post",
            f"{API}/playbook-runs",
            {"playbook": books.incident.pk, "client": cast.acme.pk},
        )
        assert answer.status_code == 403
    assert Run.objects.count() == 1
    mine = send(clients["client_admin"], "get", f"{API}/playbook-runs/{books.run.pk}")
    assert mine.status_code == 200 and mine.json()["steps"][0]["title"] == "Triage"
    refused = send(
        clients["client_admin"],
        "post",
        f"{API}/playbook-runs/{books.run.pk}/steps/1/complete",
        {"evidence": "x"},
    )
    assert refused.status_code == 403

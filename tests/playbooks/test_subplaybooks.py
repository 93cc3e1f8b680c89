"""Sub-playbooks: a step runs another playbook as a run of its own once workable, and is done
when that run is; cycles (through published versions and drafts) and chains deeper than five
are refused naming the field."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from support.api import API, assert_refused, send
from thirdway.playbooks import services
from thirdway.playbooks.models import PlaybookStep, Run
from thirdway.tickets.lifecycle import Status
from thirdway.tickets.models import TicketLink

from .branchy import CLI, book, complete, step


def _parent_and_child(cast):
    child = book(
        cast, [{"title": "Create the account"}, {"title": "Send the welcome mail"}], "New user"
    )
    parent = book(
        cast,
        [
            {"title": "Prepare", "blocking": True},
            {"title": "Onboard the first user", "subplaybook": child.pk},
            {"title": "Close"},
        ],
        "New office",
    )
    return parent, child


def test_a_sub_playbook_starts_when_its_step_is_workable_and_completes_the_step(cast):
    parent, child = _parent_and_child(cast)
    run = services.start_run(cast.partner, parent, cast.acme, source=CLI)
    assert not Run.objects.filter(parent_step__run=run).exists()  # held by step 1
    complete(cast.partner, run, 1)
    sub = Run.objects.get(parent_step__run=run)
    assert sub.playbook == child and sub.client == cast.acme and sub.depth == 2
    assert TicketLink.objects.filter(source=step(run, 2).ticket, target=sub.ticket).exists()
    with pytest.raises(ValidationError) as refused:
        complete(cast.partner, run, 2)
    assert "step" in refused.value.message_dict
    complete(cast.partner, sub, 1)
    complete(cast.partner, sub, 2)
    sub.refresh_from_db()
    done = step(run, 2)
    assert sub.completed_at is not None and done.completed_at is not None
    assert done.ticket.status == Status.RESOLVED
    complete(cast.partner, run, 3)
    run.refresh_from_db()
    assert run.completed_at is not None


def test_reopening_a_step_of_the_sub_run_reopens_the_step_that_ran_it(cast):
    parent, _ = _parent_and_child(cast)
    run = services.start_run(cast.partner, parent, cast.acme, source=CLI)
    complete(cast.partner, run, 1)
    sub = Run.objects.get(parent_step__run=run)
    complete(cast.partner, sub, 1)
    complete(cast.partner, sub, 2)
    services.reopen_step(cast.partner, step(sub, 2), reason="Mail bounced", source=CLI)
    assert step(run, 2).completed_at is None
    complete(cast.partner, sub, 2)
    assert step(run, 2).completed_at is not None


def test_a_cycle_through_a_published_version_or_a_draft_is_refused_naming_it(cast):
    parent, child = _parent_and_child(cast)
    with pytest.raises(ValidationError) as refused:
        services.add_step(
            cast.admin, child, {"title": "Again", "subplaybook": parent.pk}, source=CLI
        )
    assert refused.value.message_dict["subplaybook"][0].startswith(
        "Sub-playbooks would run in a cycle: New user → New office → New user"
    )
    assert child.draft() is None or child.draft().steps.count() == 2  # nothing added
    third = book(cast, [{"title": "Audit"}], "Audit")
    services.add_step(cast.admin, third, {"title": "Office", "subplaybook": parent.pk}, source=CLI)
    with pytest.raises(ValidationError) as refused:  # the draft of Audit runs New office
        services.add_step(
            cast.admin, child, {"title": "Audit", "subplaybook": third.pk}, source=CLI
        )
    assert "Audit" in str(refused.value) and "cycle" in str(refused.value)


def test_a_cycle_made_behind_the_services_back_is_refused_at_publish(cast):
    parent, child = _parent_and_child(cast)
    services.add_step(cast.admin, child, {"title": "Extra"}, source=CLI)
    draft = child.draft()
    PlaybookStep.objects.filter(version=draft, position=3).update(subplaybook=parent)
    with pytest.raises(ValidationError) as refused:
        services.publish(cast.admin, child, source=CLI)
    assert "cycle" in refused.value.message_dict["subplaybook"][0]


def test_a_chain_deeper_than_five_playbooks_is_refused(cast):
    below = book(cast, [{"title": "Leaf"}], "Level 6")
    for level in range(5, 1, -1):
        below = book(cast, [{"title": "Run", "subplaybook": below.pk}], f"Level {level}")
    top = book(cast, [{"title": "Start"}], "Level 1")
    with pytest.raises(ValidationError) as refused:
        services.add_step(cast.admin, top, {"title": "Run", "subplaybook": below.pk}, source=CLI)
    assert "6 playbooks deep" in refused.value.message_dict["subplaybook"][0]


def test_another_practices_playbook_or_one_asking_evidence_is_refused(cast, api_as):
    theirs = book(cast, [{"title": "Cable"}], "Cabling", practice=cast.networking)
    ours = book(cast, [{"title": "Start"}], "Ours")
    api = api_as(cast.partner)
    url = f"{API}/playbooks/{ours.pk}/steps"
    errors = assert_refused(
        send(api, "post", url, {"title": "X", "subplaybook": theirs.pk}), "subplaybook"
    )
    assert "Cabling" not in str(errors)
    mine = book(cast, [{"title": "Mine"}], "Mine")
    answer = send(api, "post", url, {"title": "X", "subplaybook": mine.pk, "evidence": "text"})
    assert_refused(answer, "evidence")
    made = send(api, "post", url, {"title": "Run mine", "subplaybook": mine.pk})
    assert made.status_code == 201 and made.json()["subplaybook_id"] == mine.pk


def test_the_run_api_links_parent_and_child_runs_and_hides_them_from_strangers(cast, api_as):
    parent, _ = _parent_and_child(cast)
    run = services.start_run(cast.partner, parent, cast.acme, source=CLI)
    complete(cast.partner, run, 1)
    sub = Run.objects.get(parent_step__run=run)
    api = api_as(cast.partner)
    shown = send(api, "get", f"{API}/playbook-runs/{run.pk}").json()
    assert shown["steps"][1]["child_run_id"] == sub.pk
    below = send(api, "get", f"{API}/playbook-runs/{sub.pk}").json()
    assert (below["parent_run_id"], below["parent_step_position"]) == (run.pk, 2)
    for stranger in (cast.other_partner, cast.other_client_admin):
        assert send(api_as(stranger), "get", f"{API}/playbook-runs/{sub.pk}").status_code == 404


def test_the_run_pages_link_a_step_to_its_sub_run_and_back(cast, web_as):
    parent, _ = _parent_and_child(cast)
    run = services.start_run(cast.partner, parent, cast.acme, source=CLI)
    complete(cast.partner, run, 1)
    sub = Run.objects.get(parent_step__run=run)
    web = web_as(cast.partner)
    page = web.get(f"/playbooks/runs/{run.pk}/").content.decode()
    assert f'href="/playbooks/runs/{sub.pk}/"' in page and "(in progress)" in page
    assert "Complete step</button>" not in page.split('id="step-2"')[1].split('id="step-3"')[0]
    below = web.get(f"/playbooks/runs/{sub.pk}/").content.decode()
    assert f'href="/playbooks/runs/{run.pk}/"' in below and "Runs as step 2 of" in below
    assert web_as(cast.other_partner).get(f"/playbooks/runs/{sub.pk}/").status_code == 404

"""The playbook pages: copying and editing a template, starting and working a run with its
evidence, the printable report, schedules with errors beside their fields; and who gets a 404."""

from __future__ import annotations

import pytest

from thirdway.playbooks.models import Playbook, Run, Schedule


def test_a_partner_copies_edits_publishes_starts_and_works_a_run_in_pages(cast, web_as):
    web = web_as(cast.partner)
    form = {"action": "copy", "copy-builtin": "security_incident", "copy-practice": ""}
    refused = web.post("/playbooks/", form)
    assert 'class="field invalid"' in refused.content.decode() and not Playbook.objects.exists()
    copied = web.post("/playbooks/", form | {"copy-practice": cast.security.pk})
    playbook = Playbook.objects.get()
    assert copied.status_code == 302
    edit = f"/playbooks/{playbook.pk}/steps/2/"
    assert "Containment" in web.get(edit).content.decode()
    web.post(
        edit,
        {
            "title": "Containment and isolation",
            "expected_minutes": "90",
            "evidence": "text",
            "blocking": "on",
            "owner_role": "partner",
        },
    )
    detail = web.get(f"/playbooks/{playbook.pk}/").content.decode()
    assert "editing draft version 2" in detail and "Containment and isolation" in detail
    web.post(f"/playbooks/{playbook.pk}/publish/")
    started = web.post(f"/playbooks/{playbook.pk}/start/", {"client": cast.acme.pk})
    run = Run.objects.get()
    assert started.url == f"/playbooks/runs/{run.pk}/" and run.version.number == 2
    first = run.steps.get(position=1)
    refused = web.post(started.url, {"step": first.pk, f"s{first.pk}-evidence": ""})
    assert refused.status_code == 400
    assert "This step needs evidence." in refused.content.decode()
    done = web.post(started.url, {"step": first.pk, f"s{first.pk}-evidence": "Phishing, 1 box"})
    assert done.status_code == 302
    page = web.get(started.url).content.decode()
    assert "1 of 5 steps done" in page and "Phishing, 1 box" in page
    report = web.get(f"/playbooks/runs/{run.pk}/report/").content.decode()
    assert "Completed step 1 (Triage): Phishing, 1 box." in report
    assert "Paula Partner" in report


def test_a_schedule_with_a_bad_rule_is_refused_beside_the_field(cast, web_as):
    web = web_as(cast.partner)
    form = {
        "client": cast.acme.pk,
        "name": "Patching",
        "rule": "FREQ=MINUTELY;INTERVAL=0",
        "starts_at": "2026-01-05T08:00",
        "lead_minutes": "60",
        "makes": "ticket",
        "is_active": "on",
    }
    refused = web.post("/playbooks/schedules/", form)
    assert refused.status_code == 400 and not Schedule.objects.exists()
    assert 'class="field invalid"' in refused.content.decode()
    saved = web.post("/playbooks/schedules/", form | {"rule": "FREQ=MONTHLY;BYDAY=1MO"})
    assert saved.status_code == 302 and Schedule.objects.get().next_at is not None


@pytest.mark.parametrize(
    "who", sorted({"other_partner", "other_client_admin", "client_user", "outsider"})
)
def test_others_get_404_on_every_page(cast, books, web_as, who):
    web = web_as(getattr(cast, who))
    pages = [
        f"/playbooks/{books.incident.pk}/",
        f"/playbooks/{books.incident.pk}/steps/1/",
        f"/playbooks/runs/{books.run.pk}/",
        f"/playbooks/runs/{books.run.pk}/report/",
        f"/playbooks/schedules/{books.schedule.pk}/",
    ]
    for url in pages:
        assert web.get(url).status_code == 404, (who, url)
    for url in (
        f"/playbooks/{books.incident.pk}/start/",
        f"/playbooks/{books.incident.pk}/publish/",
    ):
        assert web.post(url, {"client": cast.acme.pk}).status_code == 404
    assert Run.objects.count() == 1


def test_a_client_admin_follows_their_run_without_forms(cast, books, web_as):
    page = web_as(cast.client_admin).get(f"/playbooks/runs/{books.run.pk}/")
    assert page.status_code == 200
    assert "Triage" in page.content.decode() and "Complete step" not in page.content.decode()
    listed = web_as(cast.client_admin).get("/playbooks/runs/").content.decode()
    assert "Security incident response" in listed
    others = web_as(cast.other_client_admin).get("/playbooks/runs/").content.decode()
    assert "Security incident response" not in others
    assert web_as(cast.client_user).get("/playbooks/runs/").status_code == 404


def test_a_schedule_is_changed_in_its_form_and_stays_with_its_client(cast, books, web_as):
    web = web_as(cast.partner)
    url = f"/playbooks/schedules/{books.schedule.pk}/"
    assert 'value="2026-01-01T' in web.get(url).content.decode()
    changed = web.post(
        url,
        {
            "client": cast.globex.pk,
            "name": "Patching, monthly",
            "rule": "FREQ=MONTHLY;BYDAY=1TU",
            "starts_at": "2026-01-01T09:00",
            "lead_minutes": "120",
            "makes": "ticket",
            "is_active": "on",
        },
    )
    assert changed.status_code == 302
    books.schedule.refresh_from_db()
    assert books.schedule.client == cast.acme and books.schedule.rule == "FREQ=MONTHLY;BYDAY=1TU"

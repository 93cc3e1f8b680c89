"""The pages of feedback, reopening and improvement: bounds, who may, and who gets a 404."""

from __future__ import annotations

import pytest

from thirdway.audit.models import Source
from thirdway.playbooks import services
from thirdway.playbooks.models import RunFeedback, StepReopen


def finish(run, actor) -> None:
    for rs in run.steps.select_related("step").order_by("position"):
        evidence = "true" if rs.step.evidence == "checkbox" else "12"
        services.complete_step(actor, rs, evidence=evidence, source=Source.CLI)


@pytest.mark.parametrize(
    "who", sorted({"other_partner", "other_client_admin", "client_user", "outsider"})
)
def test_others_get_404_on_the_new_pages_and_nothing_changes(cast, books, web_as, who):
    finish(books.run, cast.partner)
    web = web_as(getattr(cast, who))
    assert web.get(f"/playbooks/{books.incident.pk}/improvement/").status_code == 404
    run = f"/playbooks/runs/{books.run.pk}"
    assert web.post(f"{run}/feedback/", {"fb-score": "5"}).status_code == 404
    assert web.post(f"{run}/steps/1/reopen/", {"reason": "x"}).status_code == 404
    assert not RunFeedback.objects.exists() and not StepReopen.objects.exists()


def test_feedback_in_the_page_is_bounded_and_a_client_admin_is_refused(cast, books, web_as):
    url = f"/playbooks/runs/{books.run.pk}/feedback/"
    web = web_as(cast.partner)
    early = web.post(url, {"fb-score": "4"})
    assert early.status_code == 302 and not RunFeedback.objects.exists()
    finish(books.run, cast.partner)
    page = web.get(f"/playbooks/runs/{books.run.pk}/").content.decode()
    assert "Leave feedback" in page
    for bad in ({"fb-score": "9"}, {"fb-score": ""}, {"fb-score": "3", "fb-comment": "x" * 1001}):
        refused = web.post(url, bad)
        assert refused.status_code == 400, bad
        assert 'class="field invalid"' in refused.content.decode()
    assert not RunFeedback.objects.exists()
    assert web.post(url, {"fb-score": "3", "fb-comment": "ok"}).status_code == 302
    assert RunFeedback.objects.get().score == 3
    assert "Leave feedback" not in web.get(f"/playbooks/runs/{books.run.pk}/").content.decode()
    assert web_as(cast.client_admin).post(url, {"fb-score": "5"}).status_code == 403
    assert RunFeedback.objects.count() == 1


def test_reopening_in_the_page_needs_a_reason(cast, books, web_as):
    finish(books.run, cast.partner)
    web = web_as(cast.partner)
    url = f"/playbooks/runs/{books.run.pk}/steps/1/reopen/"
    refused = web.post(url, {"reason": ""}, follow=True)
    assert "was not reopened" in refused.content.decode() and not StepReopen.objects.exists()
    assert web_as(cast.client_admin).post(url, {"reason": "no"}).status_code == 403
    web.post(url, {"reason": "Missed a host"})
    books.run.refresh_from_db()
    assert StepReopen.objects.get().reason == "Missed a host" and books.run.completed_at is None


def test_the_improvement_page_refuses_an_unknown_version(cast, books, web_as):
    web = web_as(cast.partner)
    page = web.get(f"/playbooks/{books.incident.pk}/improvement/")
    assert page.status_code == 200 and "Publish a second version" in page.content.decode()
    bad = web.get(f"/playbooks/{books.incident.pk}/improvement/?before=x&after=1")
    assert bad.status_code == 400 and "Choose published versions: 1" in bad.content.decode()
    detail = web.get(f"/playbooks/{books.incident.pk}/").content.decode()
    assert "pb-metrics" in detail and "v1" in detail

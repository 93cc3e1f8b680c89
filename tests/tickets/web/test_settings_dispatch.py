"""Settings: auto-dispatch and the dispatch weights of each practice, for practice admins."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from support.pages import all_but
from thirdway.audit.models import AuditRecord
from thirdway.network.models import Practice
from thirdway.tickets.assignment import dispatching
from thirdway.tickets.assignment import weights as dispatch_weights
from thirdway.tickets.models import PracticeDispatch, Ticket


def _state() -> tuple:
    return (
        AuditRecord.objects.count(),
        list(PracticeDispatch.objects.values_list("practice_id", "weights")),
        list(Practice.objects.values_list("pk", "auto_dispatch", "move_late")),
    )


@pytest.mark.parametrize("role", all_but("admin"))
def test_dispatch_settings_do_not_exist_for_anyone_but_a_practice_admin(cast, web_as, role):
    client = web_as(getattr(cast, role))
    before = _state()
    assert client.get("/settings/dispatch/").status_code == 404
    url = f"/settings/dispatch/{cast.security.pk}/"
    assert client.get(url).status_code == 404
    assert client.post(url, {"auto_dispatch": "on", "load": "9"}).status_code == 404
    assert _state() == before
    with pytest.raises(PermissionDenied):
        dispatch_weights.set_practice_weights(
            getattr(cast, role), cast.security, {"load": 9}, source="web"
        )


def test_a_practice_s_own_weights_rank_its_tickets_and_the_rest_keep_the_site_s(cast, settings):
    settings.DISPATCH_WEIGHTS = {"travel": 2.0}
    dispatch_weights.set_practice_weights(
        cast.admin, cast.security, {"load": 9, "sla_slack": None}, source="web"
    )
    own, other = dispatching.weights(cast.security.pk), dispatching.weights(cast.networking.pk)
    assert (own.load, own.travel, own.sla_slack) == (9.0, 2.0, 3.0)
    assert (other.load, other.travel) == (1.5, 2.0)
    record = AuditRecord.objects.get(action="dispatch.weights")
    assert record.changes == {"load": [None, 9.0]}


@pytest.mark.parametrize(
    ("weights", "field", "message"),
    [
        ({"load": -1}, "load", "-1 is out of range."),
        ({"recent_partner_share": 2}, "recent_partner_share", "2 is out of range."),
        ({"travel_speed_kmh": 0}, "travel_speed_kmh", "0 is out of range."),
        ({"speed": 1}, "speed", "Not a dispatch weight."),
    ],
)
def test_a_weight_out_of_range_is_refused_naming_it(cast, weights, field, message):
    before = _state()
    with pytest.raises(ValidationError) as refused:
        dispatch_weights.set_practice_weights(cast.admin, cast.security, weights, source="web")
    assert refused.value.message_dict == {field: [message]}
    assert _state() == before


def test_the_queue_is_planned_jointly_unless_a_practice_has_weights_of_its_own(cast):
    tickets = [
        Ticket(pk=1, practice_id=cast.security.pk),
        Ticket(pk=2, practice_id=cast.networking.pk),
        Ticket(pk=3, practice_id=cast.security.pk),
    ]
    assert [[t.pk for t in group] for _, group in dispatching._by_weights(tickets)] == [[1, 2, 3]]
    dispatch_weights.set_practice_weights(cast.admin, cast.networking, {"load": 4}, source="web")
    groups = dispatching._by_weights(tickets)
    assert [[t.pk for t in group] for _, group in groups] == [[1, 3], [2]]
    assert groups[1][0].load == 4.0


@pytest.mark.browser
def test_an_admin_sets_auto_dispatch_and_weights_of_a_practice_in_the_browser(
    cast, live_server, browser, tmp_path
):
    from playwright.sync_api import expect

    from support.browser import DESKTOP, PHONE, fits, sign_in

    page = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(page, live_server.url, "admin", "/settings/dispatch/")
    page.get_by_role("link", name="Security").click()
    form = page.locator("form.form")
    expect(form.locator("input[name=load]")).to_have_attribute("placeholder", "1.5")
    form.get_by_label("Assign new tickets automatically").check()
    form.get_by_label("Move urgent tickets nobody has started").check()
    form.locator("input[name=load]").fill("4")
    form.locator("input[name=recent_partner_share]").fill("2")
    before = _state()
    form.get_by_role("button", name="Save dispatch").click()
    share = page.locator(".field.invalid", has=page.locator("input[name=recent_partner_share]"))
    expect(share.locator(".error")).to_have_text(
        "2.0 is out of range. Allowed: a number from 0 to 1."
    )
    expect(page.locator("input[name=load]")).to_have_value("4")
    assert _state() == before  # the switch was refused with the weight
    page.screenshot(path=str(tmp_path / "dispatch-error.png"), full_page=True)
    page.locator("form.form input[name=recent_partner_share]").fill("0.25")
    page.locator("form.form").get_by_role("button", name="Save dispatch").click()
    expect(page.get_by_text("Dispatch of Security saved.")).to_be_visible()
    row = page.locator("#dispatch tr", has_text="Security")
    expect(row).to_contain_text("Assigned automatically")
    expect(row).to_contain_text("Moved to a partner who can take it now")
    expect(row.locator("td[data-label='Own weights']")).to_have_text(
        "load 4, recent_partner_share 0.25"
    )
    cast.security.refresh_from_db()
    assert cast.security.auto_dispatch and cast.security.move_late
    assert dispatching.weights(cast.security.pk).recent_partner_share == 0.25
    page.screenshot(path=str(tmp_path / "dispatch-1366.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(tmp_path / "dispatch-390.png"), full_page=True)
    assert fits(page)
    page.get_by_role("link", name="Security").click()
    page.screenshot(path=str(tmp_path / "dispatch-edit-390.png"), full_page=True)
    assert fits(page)

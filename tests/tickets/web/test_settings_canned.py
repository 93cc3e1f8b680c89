"""Settings: canned replies, shared ones kept by practice admins and personal ones kept by
each member of the network, offered on the ticket page to their owner only."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import PermissionDenied

from support.pages import NETWORK, all_but
from thirdway.audit.models import AuditRecord
from thirdway.tickets import services
from thirdway.tickets.models import CannedReply


def _counts() -> tuple[int, int]:
    return CannedReply.objects.count(), AuditRecord.objects.count()


def _picker(html: str) -> str:
    return re.search(r'<select name="canned".*?</select>', html, re.DOTALL).group(0)


@pytest.mark.parametrize("role", all_but(*NETWORK))
def test_canned_replies_do_not_exist_outside_the_network(cast, web_as, role):
    client = web_as(getattr(cast, role))
    assert client.get("/settings/canned-replies/").status_code == 404
    before = _counts()
    assert client.post("/settings/canned-replies/", {"name": "x", "body": "y"}).status_code == 404
    assert _counts() == before


def test_a_personal_reply_is_offered_to_its_owner_only(cast, desk, web_as):
    mine = services.create_canned_reply(
        cast.partner, name="On my way", body="Paula is on her way.", source="web"
    )
    services.create_canned_reply(
        cast.admin, name="Thanks", body="Thank you.", shared=True, source="web"
    )
    ticket = desk.t4  # seen by both partners
    paula = _picker(web_as(cast.partner).get(f"/tickets/{ticket.number}/").content.decode())
    oscar = _picker(web_as(cast.other_partner).get(f"/tickets/{ticket.number}/").content.decode())
    assert "On my way" in paula and "Thanks" in paula
    assert "On my way" not in oscar and "Thanks" in oscar
    # Nor can another partner send it by its id.
    web_as(cast.other_partner).post(
        f"/tickets/{ticket.number}/reply/", {"canned": mine.pk, "body": ""}
    )
    assert not ticket.articles.filter(body_text="Paula is on her way.").exists()


@pytest.mark.parametrize("role", sorted(NETWORK - {"partner"}))
def test_nobody_else_sees_changes_or_deletes_a_partners_own_reply(cast, web_as, role):
    mine = services.create_canned_reply(cast.partner, name="Mine", body="Text.", source="web")
    client = web_as(getattr(cast, role))
    assert "Mine" not in client.get("/settings/canned-replies/").content.decode()
    before = _counts()
    assert client.get(f"/settings/canned-replies/{mine.pk}/").status_code == 404
    edit = {"name": "Taken", "body": "Over.", "scope": "mine"}
    assert client.post(f"/settings/canned-replies/{mine.pk}/", edit).status_code == 404
    assert client.post(f"/settings/canned-replies/{mine.pk}/delete/").status_code == 404
    assert _counts() == before


@pytest.mark.parametrize("role", sorted(NETWORK - {"admin"}))
def test_only_practice_admins_keep_shared_replies(cast, web_as, role):
    shared = services.create_canned_reply(
        cast.admin, name="Thanks", body="Thank you.", shared=True, source="web"
    )
    user = getattr(cast, role)
    with pytest.raises(PermissionDenied):
        services.create_canned_reply(user, name="X", body="Y", shared=True, source="web")
    client = web_as(user)
    assert client.get(f"/settings/canned-replies/{shared.pk}/").status_code == 404
    assert client.post(f"/settings/canned-replies/{shared.pk}/delete/").status_code == 404
    # A partner's form has no scope: what they add is their own, whatever they send.
    data = {"name": "Sneaky", "body": "Text.", "scope": "shared"}
    assert client.post("/settings/canned-replies/", data).status_code == 302
    assert CannedReply.objects.get(name="Sneaky").owner == user


def test_two_partners_may_each_have_a_reply_of_the_same_name(cast):
    services.create_canned_reply(cast.partner, name="Hello", body="A", source="web")
    services.create_canned_reply(cast.other_partner, name="Hello", body="B", source="web")
    assert CannedReply.objects.filter(name="Hello").count() == 2
    assert AuditRecord.objects.filter(action="canned_reply.create").count() == 2


@pytest.mark.browser
def test_a_partner_keeps_a_reply_of_their_own_in_the_browser(cast, live_server, browser, tmp_path):
    from playwright.sync_api import expect

    from support.browser import DESKTOP, PHONE, fits, sign_in

    services.create_canned_reply(cast.partner, name="Hello", body="Hello!", source="web")
    page = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(page, live_server.url, "paula", "/settings/canned-replies/")
    form = page.locator("form.form")
    expect(form.locator("select[name=scope]")).to_have_count(0)
    form.locator("input[name=name]").fill("Hello")
    form.locator("textarea[name=body]").fill("Hello again!")
    before = _counts()
    form.get_by_role("button", name="Add canned reply").click()
    expect(
        page.locator(".field.invalid", has=page.locator("input[name=name]")).locator(".error")
    ).to_have_text(
        "One of your canned replies is already named 'Hello'. Allowed: a name not yet used."
    )
    expect(page.locator("textarea[name=body]")).to_have_value("Hello again!")
    assert _counts() == before
    page.screenshot(path=str(tmp_path / "canned-error.png"), full_page=True)
    page.locator("form.form input[name=name]").fill("Hello again")
    page.locator("form.form").get_by_role("button", name="Add canned reply").click()
    expect(page.get_by_text("Canned reply Hello again added.")).to_be_visible()
    expect(page.locator("#canned-own")).to_contain_text("Hello again!")
    assert CannedReply.objects.get(name="Hello again").owner == cast.partner
    page.screenshot(path=str(tmp_path / "canned-1366.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(tmp_path / "canned-390.png"), full_page=True)
    assert fits(page)


@pytest.mark.browser
def test_an_admin_keeps_a_shared_reply_for_one_practice_in_the_browser(
    cast, live_server, browser, tmp_path
):
    from playwright.sync_api import expect

    from support.browser import DESKTOP, PHONE, fits, sign_in

    page = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(page, live_server.url, "admin", "/settings/canned-replies/")
    form = page.locator("form.form")
    form.locator("input[name=name]").fill("Badge reset")
    form.locator("textarea[name=body]").fill("Your badge was reset.")
    form.locator("select[name=scope]").select_option("mine")
    form.locator("select[name=practice]").select_option(label="Security")
    before = _counts()
    form.get_by_role("button", name="Add canned reply").click()
    expect(
        page.locator(".field.invalid", has=page.locator("select[name=practice]")).locator(".error")
    ).to_have_text("Only a shared reply is kept for one practice. Allowed: empty for your own.")
    assert _counts() == before
    page.locator("form.form select[name=scope]").select_option("shared")
    page.locator("form.form").get_by_role("button", name="Add canned reply").click()
    expect(page.get_by_text("Canned reply Badge reset added.")).to_be_visible()
    reply = CannedReply.objects.get(name="Badge reset")
    assert (reply.owner, reply.practice) == (None, cast.security)
    page.get_by_role("link", name="Badge reset").click()
    page.locator("form.form textarea[name=body]").fill("   ")
    page.locator("form.form").get_by_role("button", name="Save canned reply").click()
    expect(page.locator(".field.invalid .error")).to_have_text("This field is required.")
    page.locator("form.form textarea[name=body]").fill("Your badge works again.")
    page.locator("form.form").get_by_role("button", name="Save canned reply").click()
    expect(page.locator("#canned-shared")).to_contain_text("Your badge works again.")
    page.screenshot(path=str(tmp_path / "canned-admin-1366.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(tmp_path / "canned-admin-390.png"), full_page=True)
    assert fits(page)
    page.get_by_role("button", name="Delete Badge reset").click()
    expect(page.get_by_text("Canned reply Badge reset deleted.")).to_be_visible()
    assert not CannedReply.objects.exists()

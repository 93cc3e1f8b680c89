"""The mail settings pages: mailboxes (with a connection test against a real IMAP server) and
the mail domains of clients, for practice admins only."""

from __future__ import annotations

import socket

import pytest

from support.pages import all_but
from thirdway.audit.models import AuditRecord
from thirdway.mail import fetching
from thirdway.mail.models import ClientDomain, Mailbox

from .conftest import IMAP_PASSWORD

PAGES = ["/settings/mailboxes/", "/settings/mailboxes/new/", "/settings/mail-domains/"]


def _counts() -> tuple[int, int, int]:
    return Mailbox.objects.count(), ClientDomain.objects.count(), AuditRecord.objects.count()


@pytest.mark.parametrize("role", all_but("admin"))
@pytest.mark.parametrize("path", PAGES)
def test_the_mail_settings_do_not_exist_for_anyone_but_a_practice_admin(cast, web_as, role, path):
    assert web_as(getattr(cast, role)).get(path).status_code == 404


@pytest.mark.parametrize("role", all_but("admin"))
def test_nobody_but_a_practice_admin_changes_or_tests_a_mailbox(cast, web_as, role):
    box = Mailbox.objects.create(name="help", address="help@desk.example", imap_host="127.0.0.1")
    client = web_as(getattr(cast, role))
    before = _counts()
    assert (
        client.post(f"/settings/mailboxes/{box.pk}/", {"address": "x@y.example"}).status_code == 404
    )
    assert client.post(f"/settings/mailboxes/{box.pk}/test/").status_code == 404
    assert (
        client.post(
            "/settings/mail-domains/", {"domain": "acme.example", "client": cast.acme.pk}
        ).status_code
        == 404
    )
    assert _counts() == before


def test_the_stored_password_is_never_sent_back_and_an_empty_one_keeps_it(cast, web_as):
    box = Mailbox.objects.create(
        name="help",
        address="help@desk.example",
        imap_host="imap.example",
        imap_user="desk",
        imap_password="s3cret-imap-word",
    )
    client = web_as(cast.admin)
    html = client.get(f"/settings/mailboxes/{box.pk}/").content.decode()
    assert "s3cret-imap-word" not in html
    assert "A password is stored" in html
    data = {
        "address": "help@desk.example",
        "imap_host": "imap.example",
        "imap_port": "993",
        "imap_ssl": "on",
        "imap_user": "desk",
        "imap_password": "",
        "imap_folder": "INBOX",
        "after_fetch": "delete",
        "is_active": "",
    }
    assert client.post(f"/settings/mailboxes/{box.pk}/", data).status_code == 302
    box.refresh_from_db()
    assert (box.imap_password, box.is_active) == ("s3cret-imap-word", False)
    record = AuditRecord.objects.filter(action="mail.mailbox", source="web").latest("pk")
    assert "imap_password" not in record.changes
    assert "s3cret-imap-word" not in str(record.changes)


def test_the_connection_test_signs_in_to_the_real_server(cast, web_as, dovecot):
    box = dovecot.mailbox()
    assert fetching.check_connection(box) == ""
    box.imap_password = "wrong-password"
    box.save()
    problem = fetching.check_connection(box)
    assert problem.startswith("The server refused to sign in 'desk'")
    assert "wrong-password" not in problem and IMAP_PASSWORD not in problem


def test_the_connection_test_gives_up_on_a_silent_server(cast, monkeypatch):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)  # accepts connections, never greets
    monkeypatch.setattr(fetching, "CHECK_TIMEOUT_SECONDS", 0.5)
    box = Mailbox(
        name="x",
        address="x@desk.example",
        imap_host="127.0.0.1",
        imap_port=silent.getsockname()[1],
        imap_ssl=False,
    )
    try:
        assert (
            fetching.check_connection(box)
            == f"No answer from 127.0.0.1:{box.imap_port} within 0.5 seconds."
        )
    finally:
        silent.close()


def test_a_refused_port_is_reported(cast):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    box = Mailbox(
        name="x", address="x@desk.example", imap_host="127.0.0.1", imap_port=port, imap_ssl=False
    )
    assert fetching.check_connection(box).startswith(f"Could not connect to 127.0.0.1:{port}: ")


def test_a_domain_another_client_has_is_refused_naming_that_client(cast, web_as):
    client = web_as(cast.admin)
    assert (
        client.post(
            "/settings/mail-domains/", {"domain": "acme.example", "client": cast.acme.pk}
        ).status_code
        == 302
    )
    before = _counts()
    html = client.post(
        "/settings/mail-domains/", {"domain": "@ACME.example", "client": cast.globex.pk}
    ).content.decode()
    assert "acme.example already belongs to Acme Bakery." in html
    assert _counts() == before
    entry = ClientDomain.objects.get()
    assert client.post(f"/settings/mail-domains/{entry.pk}/remove/").status_code == 302
    assert not ClientDomain.objects.exists()
    assert AuditRecord.objects.filter(action="mail.domain.remove", source="web").count() == 1


@pytest.mark.browser
def test_an_admin_adds_a_mailbox_and_tests_its_connection_in_the_browser(
    cast, live_server, browser, dovecot, tmp_path
):
    from playwright.sync_api import expect

    from support.browser import DESKTOP, PHONE, fits, settled, sign_in

    page = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(page, live_server.url, "admin", "/settings/mailboxes/new/")
    expect(page.get_by_role("heading", name="New mailbox")).to_be_visible()
    form = page.locator("form.form")
    form.locator("input[name=name]").fill("help desk")
    form.locator("input[name=address]").fill("not-an-address")
    form.locator("input[name=imap_host]").fill("127.0.0.1")
    form.locator("input[name=imap_port]").fill(str(dovecot.port))
    form.locator("input[name=imap_ssl]").uncheck()
    form.locator("input[name=imap_user]").fill("desk")
    form.locator("input[name=imap_password]").fill("wrong-password")
    before = _counts()
    form.get_by_role("button", name="Add mailbox").click()
    expect(
        page.locator(".field.invalid", has=page.locator("input[name=address]")).locator(".error")
    ).to_have_text("Enter a valid email address.")
    expect(
        page.locator(".field.invalid", has=page.locator("input[name=name]")).locator(".error")
    ).to_contain_text("slug")
    assert _counts() == before
    page.screenshot(path=str(tmp_path / "mailbox-error.png"), full_page=True)

    form.locator("input[name=name]").fill("help")
    form.locator("input[name=address]").fill("help@desk.example")
    form.locator("input[name=imap_password]").fill("wrong-password")
    form.get_by_role("button", name="Add mailbox").click()
    expect(page.get_by_text("Mailbox help added.")).to_be_visible()
    box = Mailbox.objects.get(name="help")
    assert (box.imap_port, box.imap_ssl, box.imap_password) == (
        dovecot.port,
        False,
        "wrong-password",
    )
    assert "wrong-password" not in page.content()

    page.get_by_role("button", name="Test connection").click()
    settled(page)
    expect(page.locator("#connection-result [role=alert]")).to_contain_text(
        "refused to sign in 'desk'"
    )

    page.locator("form.form input[name=imap_password]").fill(IMAP_PASSWORD)
    page.locator("form.form").get_by_role("button", name="Save mailbox").click()
    expect(page.get_by_text("Mailbox help saved.")).to_be_visible()
    page.get_by_role("button", name="Test connection").click()
    settled(page)
    expect(page.locator("#connection-result")).to_contain_text("signed in and opened INBOX")
    page.screenshot(path=str(tmp_path / "mailbox-1366.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(tmp_path / "mailbox-390.png"), full_page=True)
    assert fits(page)
    page.goto(f"{live_server.url}/settings/mailboxes/")
    expect(page.locator("#mailboxes")).to_contain_text("help@desk.example")
    page.screenshot(path=str(tmp_path / "mailboxes-390.png"), full_page=True)
    assert fits(page)
    page.set_viewport_size(DESKTOP)
    page.screenshot(path=str(tmp_path / "mailboxes-1366.png"), full_page=True)


@pytest.mark.browser
def test_an_admin_maps_a_domain_and_sees_the_conflict_in_the_browser(
    cast, live_server, browser, tmp_path
):
    from playwright.sync_api import expect

    from support.browser import DESKTOP, PHONE, fits, sign_in

    page = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(page, live_server.url, "admin", "/settings/mail-domains/")
    form = page.locator("form.form")
    form.locator("input[name=domain]").fill("acme.example")
    form.locator("select[name=client]").select_option(label="Acme Bakery")
    form.get_by_role("button", name="Add domain").click()
    expect(page.get_by_text("Mail from acme.example now names Acme Bakery.")).to_be_visible()
    before = _counts()
    form = page.locator("form.form")
    form.locator("input[name=domain]").fill("acme.example")
    form.locator("select[name=client]").select_option(label="Globex Dental")
    form.get_by_role("button", name="Add domain").click()
    expect(
        page.locator(".field.invalid", has=page.locator("input[name=domain]")).locator(".error")
    ).to_have_text("acme.example already belongs to Acme Bakery. Allowed: a domain no client has.")
    assert _counts() == before
    form.locator("input[name=domain]").fill("not a domain")
    form.get_by_role("button", name="Add domain").click()
    expect(page.locator(".field.invalid .error")).to_contain_text("is not a mail domain.")
    assert _counts() == before
    page.screenshot(path=str(tmp_path / "domains-1366.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(tmp_path / "domains-390.png"), full_page=True)
    assert fits(page)

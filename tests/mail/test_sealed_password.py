"""IMAP passwords sealed in the vault: under the network's data key, bound to their mailbox,
migrated from plain text, opened by the poller unattended, and a closed vault failing the poll
of a mailbox with its reason (never the whole poll)."""

from __future__ import annotations

import argparse
import io
import logging

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from support.vault import write_key
from thirdway.audit.models import Source
from thirdway.mail import fetching
from thirdway.mail.models import Mailbox
from thirdway.mail.services.outbound import save_mailbox
from thirdway.tickets.models import Ticket
from thirdway.vault import keyring
from thirdway.vault.commands import run
from thirdway.vault.crypto import Tampered, VaultLocked
from thirdway.vault.models import NetworkKey

from .conftest import IMAP_PASSWORD, mail

pytestmark = pytest.mark.django_db


@pytest.fixture
def master_key(settings, tmp_path):
    path = write_key(tmp_path / "master.key")
    settings.VAULT_MASTER_KEY_FILE = str(path)
    settings.VAULT_PREVIOUS_MASTER_KEY_FILES = []
    return path


WORD = "s3cret-imap"


def _box(name: str, secret: str = WORD, **extra) -> Mailbox:
    return Mailbox.objects.create(
        name=name, address=f"{name}@desk.example", imap_password=secret, **extra
    )


def _opened(pk) -> str:
    return Mailbox.objects.get(pk=pk).imap_password


def test_the_password_is_sealed_and_opens_again(master_key):
    box = _box("help")
    row = Mailbox.objects.get(pk=box.pk)
    assert "s3cret-imap" not in row.imap_password_sealed
    assert row.imap_password_sealed and row.imap_password_key_version == 1
    assert row.imap_password == "s3cret-imap"
    assert NetworkKey.objects.get().master_key_id == keyring.keyring().current_key().id
    # Changed: sealed anew; emptied: nothing kept.
    row.imap_password = "another-word"
    row.save()
    assert Mailbox.objects.get(pk=box.pk).imap_password == "another-word"
    row.imap_password = ""
    row.save()
    again = Mailbox.objects.get(pk=box.pk)
    assert (again.imap_password_sealed, again.imap_password, again.has_imap_password) == (
        "",
        "",
        False,
    )


def test_a_ciphertext_moved_to_another_mailbox_does_not_open(master_key):
    help_box, other = _box("help"), _box("other", "other-word")
    Mailbox.objects.filter(pk=other.pk).update(
        imap_password_sealed=help_box.imap_password_sealed,
        imap_password_key_version=help_box.imap_password_key_version,
    )
    with pytest.raises(Tampered, match="does not open"):
        _opened(other.pk)
    # One changed character: an error as well, never garbage.
    sealed = help_box.imap_password_sealed
    flipped = sealed[:20] + ("A" if sealed[20] != "A" else "B") + sealed[21:]
    Mailbox.objects.filter(pk=help_box.pk).update(imap_password_sealed=flipped)
    with pytest.raises(Tampered):
        _opened(help_box.pk)


def test_a_closed_vault_refuses_to_open_the_password(master_key, settings, tmp_path):
    box = _box("help")
    settings.VAULT_MASTER_KEY_FILE = str(tmp_path / "missing.key")
    with pytest.raises(VaultLocked, match=r"missing\.key does not exist"):
        _opened(box.pk)


def test_a_closed_vault_saves_no_new_password_and_no_mailbox(cast, settings, tmp_path, web_as):
    settings.VAULT_MASTER_KEY_FILE = str(tmp_path / "missing.key")
    settings.VAULT_PREVIOUS_MASTER_KEY_FILES = []
    with pytest.raises(ValidationError) as refused:
        save_mailbox(
            cast.admin, "help", source=Source.CLI, address="h@desk.example", imap_password="x"
        )
    assert "cannot be sealed in the vault" in str(refused.value.message_dict["imap_password"])
    assert not Mailbox.objects.exists()
    form = {"name": "help", "address": "h@desk.example", "imap_port": "993", "imap_password": "x"}
    form |= {"imap_folder": "INBOX", "after_fetch": "delete", "is_active": "on"}
    answer = web_as(cast.admin).post("/settings/mailboxes/new/", form)
    assert answer.status_code == 200
    assert "missing.key does not exist" in answer.content.decode()
    assert not Mailbox.objects.exists()


def test_the_settings_form_never_sends_the_password_back_even_with_the_vault_closed(
    cast, web_as, master_key, settings, tmp_path
):
    box = _box("help", imap_host="imap.example", imap_user="desk")
    settings.VAULT_MASTER_KEY_FILE = str(tmp_path / "missing.key")
    html = web_as(cast.admin).get(f"/settings/mailboxes/{box.pk}/").content.decode()
    assert "s3cret-imap" not in html and box.imap_password_sealed not in html
    assert "A password is stored" in html


def test_rewrap_moves_the_network_key_and_the_mailbox_password_still_opens(
    master_key, settings, tmp_path
):
    box = _box("help")
    new = write_key(tmp_path / "new.key")
    settings.VAULT_MASTER_KEY_FILE = str(new)
    settings.VAULT_PREVIOUS_MASTER_KEY_FILES = [str(master_key)]
    out, err = io.StringIO(), io.StringIO()
    assert run(argparse.Namespace(action="rewrap"), out, err) == 0, err.getvalue()
    assert out.getvalue() == "Data keys rewrapped: 1 done, 0 already done.\n"
    assert NetworkKey.objects.get().master_key_id == keyring.keyring().current_key().id
    settings.VAULT_PREVIOUS_MASTER_KEY_FILES = []  # the old key is gone
    assert Mailbox.objects.get(pk=box.pk).imap_password == "s3cret-imap"


def test_rewrap_names_the_network_key_when_its_master_key_is_missing(
    master_key, settings, tmp_path
):
    _box("help")
    settings.VAULT_MASTER_KEY_FILE = str(write_key(tmp_path / "new.key"))
    out, err = io.StringIO(), io.StringIO()
    assert run(argparse.Namespace(action="rewrap"), out, err) == 1
    assert "network data key 1" in err.getvalue()


# --- the poller against a real IMAP server --------------------------------------------------


def test_the_poller_opens_the_sealed_password_and_fetches(cast, empty_inbox, master_key):
    box = empty_inbox.mailbox()
    stored = Mailbox.objects.get(pk=box.pk)  # as the worker reads it: nothing in memory
    assert IMAP_PASSWORD not in stored.imap_password_sealed
    empty_inbox.append(mail(subject="Sealed but readable"))
    assert fetching.poll_all() == {"help": {"fetched": 1, "new": 1, "duplicates": 0}}
    assert Ticket.objects.get().subject == "Sealed but readable"
    assert fetching.check_connection(stored) == ""


def test_a_mailbox_whose_password_does_not_open_fails_alone_with_its_reason(
    cast, empty_inbox, master_key, caplog
):
    good = empty_inbox.mailbox()
    bad = empty_inbox.mailbox(name="moved", address="moved@desk.example")
    Mailbox.objects.filter(pk=bad.pk).update(imap_password_sealed=good.imap_password_sealed)
    empty_inbox.append(mail(subject="Still fetched"))
    with caplog.at_level(logging.ERROR, logger="thirdway.mail.fetching"):
        results = fetching.poll_all()
    assert results["help"]["new"] == 1
    assert "IMAP password of mailbox 'moved' cannot be opened" in results["moved"]["error"]
    bad.refresh_from_db()
    assert bad.last_poll_error.startswith("The IMAP password of mailbox 'moved' cannot be")
    assert "cannot be opened" in caplog.text and IMAP_PASSWORD not in caplog.text


def test_a_closed_vault_fails_the_poll_of_each_mailbox_and_the_page_says_why(
    cast, empty_inbox, master_key, settings, tmp_path, web_as
):
    box = empty_inbox.mailbox()
    _box("pipe-only")  # no IMAP server: not polled, so not failed
    settings.VAULT_MASTER_KEY_FILE = str(tmp_path / "missing.key")
    empty_inbox.append(mail())
    results = fetching.poll_all()
    assert list(results) == ["help"]
    box.refresh_from_db()
    assert "cannot be opened" in box.last_poll_error
    assert "missing.key does not exist" in box.last_poll_error
    assert box.last_polled_at is not None
    assert empty_inbox.count() == 1  # nothing fetched, nothing lost
    web = web_as(cast.admin)
    assert "IMAP password of mailbox" in web.get("/settings/mailboxes/").content.decode()
    html = web.get(f"/settings/mailboxes/{box.pk}/").content.decode()
    assert "missing.key does not exist" in html
    assert "missing.key does not exist" in fetching.check_connection(box)


# --- the migration on existing rows -----------------------------------------------------------

BEFORE = [("mail", "0004_mailbox_sealed_password"), ("vault", "0003_networkkey")]


def _to_latest() -> None:
    """Forward to every app's latest migration: going back to BEFORE also undid the vault's
    later migrations, which the tests after this one need."""
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_the_migration_seals_existing_passwords_and_removes_the_plain_column(master_key):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps.get_model("mail", "Mailbox")
    first = old.objects.create(name="help", address="help@desk.example", imap_password="w1")
    second = old.objects.create(name="sec", address="sec@desk.example", imap_password="w2")
    old.objects.create(name="pipe", address="pipe@desk.example")  # no password
    try:
        executor = MigrationExecutor(connection)
        executor.migrate([("mail", "0005_seal_imap_passwords")])
        mid = executor.loader.project_state([("mail", "0005_seal_imap_passwords")]).apps
        rows = mid.get_model("mail", "Mailbox").objects.order_by("name")
        assert [r.imap_password for r in rows] == ["", "", ""]  # the plain column emptied
        assert [bool(r.imap_password_sealed) for r in rows] == [True, False, True]
    finally:
        _to_latest()
    columns = [
        c.name
        for c in connection.introspection.get_table_description(connection.cursor(), "mail_mailbox")
    ]
    assert "imap_password" not in columns
    assert Mailbox.objects.get(pk=first.pk).imap_password == "w1"
    assert Mailbox.objects.get(pk=second.pk).imap_password == "w2"
    assert Mailbox.objects.get(name="pipe").has_imap_password is False
    # Backwards, the passwords come back in plain text (for a downgrade).
    executor = MigrationExecutor(connection)
    executor.migrate([("mail", "0004_mailbox_sealed_password")])
    back = executor.loader.project_state(BEFORE).apps.get_model("mail", "Mailbox")
    assert back.objects.get(pk=first.pk).imap_password == "w1"
    _to_latest()


# --- the page, in a browser ---------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_mailbox_page_shows_why_the_vault_stopped_its_poll_in_a_browser(
    cast, live_server, browser, empty_inbox, master_key, settings, tmp_path
):
    from playwright.sync_api import expect

    from support.browser import DESKTOP, PHONE, fits, sign_in

    box = empty_inbox.mailbox()
    settings.VAULT_MASTER_KEY_FILE = str(tmp_path / "missing.key")
    fetching.poll_all()
    shots = tmp_path
    for name, screen in (("desktop", DESKTOP), ("phone", PHONE)):
        page = browser.new_context(viewport=screen).new_page()
        sign_in(page, live_server.url, "admin", f"/settings/mailboxes/{box.pk}/")
        expect(page.get_by_role("alert")).to_contain_text("missing.key does not exist")
        assert IMAP_PASSWORD not in page.content()
        page.screenshot(path=str(shots / f"mailbox-closed-vault-{name}.png"), full_page=True)
        assert fits(page), f"the page is wider than the {name} screen"
        # Saving other settings works with the vault closed; the password is left as it was.
        page.locator("form.form input[name=imap_folder]").fill("Archive")
        page.get_by_role("button", name="Save mailbox").click()
        expect(page.get_by_text("Mailbox help saved.")).to_be_visible()
        page.context.close()
    stored = Mailbox.objects.get(pk=box.pk)
    assert (stored.imap_folder, stored.imap_password_sealed) == (
        "Archive",
        box.imap_password_sealed,
    )

"""``thirdway keys rotate --network``: the network's own secrets (the mailboxes' IMAP
passwords) sealed anew under a new network data key, compare-and-set, resumable, and a
non-zero exit naming what failed."""

from __future__ import annotations

import argparse
import io

import pytest

from thirdway.audit.models import AuditRecord
from thirdway.mail.models import Mailbox
from thirdway.vault.commands import run
from thirdway.vault.models import NetworkKey


def _rotate(limit=None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    args = argparse.Namespace(action="rotate", client=None, network=True, limit=limit)
    return run(args, out, err), out.getvalue(), err.getvalue()


@pytest.fixture
def boxes(db, master_key):
    made = {
        name: Mailbox.objects.create(
            name=name, address=f"{name}@desk.example", imap_password=f"{name}-pw"
        )
        for name in ("help", "billing", "noc")
    }
    Mailbox.objects.create(name="nopw", address="nopw@desk.example")  # nothing sealed
    return made


def _opened() -> dict[str, str]:
    return {box.name: box.imap_password for box in Mailbox.objects.exclude(name="nopw")}


def _versions() -> list[int]:
    return sorted(
        Mailbox.objects.exclude(name="nopw").values_list("imap_password_key_version", flat=True)
    )


def test_rotate_network_seals_every_imap_password_anew_and_drops_the_old_key(boxes):
    before = {box.pk: Mailbox.objects.get(pk=box.pk).imap_password_sealed for box in boxes.values()}
    code, out, err = _rotate()
    assert (code, err) == (0, "")
    assert "3 done, 0 already done" in out
    assert _versions() == [2, 2, 2]
    assert Mailbox.objects.get(name="nopw").imap_password_sealed == ""
    assert all(
        Mailbox.objects.get(pk=pk).imap_password_sealed != sealed for pk, sealed in before.items()
    )
    assert _opened() == {"help": "help-pw", "billing": "billing-pw", "noc": "noc-pw"}
    assert list(NetworkKey.objects.values_list("version", flat=True)) == [2]
    assert AuditRecord.objects.filter(action="vault.keys.rotate_network").count() == 1
    # a new password is sealed under the new key
    box = Mailbox.objects.get(name="help")
    box.imap_password = "changed"
    box.save()
    assert Mailbox.objects.get(name="help").imap_password_key_version == 2


def test_an_interrupted_rotation_stays_readable_and_resumes(boxes):
    code, out, _ = _rotate(limit=1)
    assert code == 0 and "1 done" in out
    assert _versions() == [1, 1, 2]
    assert sorted(NetworkKey.objects.values_list("version", flat=True)) == [1, 2]
    assert _opened() == {"help": "help-pw", "billing": "billing-pw", "noc": "noc-pw"}
    code, out, _ = _rotate()
    assert code == 0 and "2 done, 1 already done" in out  # resumed on key 2, not a key 3
    assert _versions() == [2, 2, 2]
    assert list(NetworkKey.objects.values_list("version", flat=True)) == [2]


def test_a_secret_that_does_not_open_is_named_and_the_exit_is_non_zero(boxes):
    moved = Mailbox.objects.get(name="billing")
    Mailbox.objects.filter(pk=moved.pk).update(
        imap_password_sealed=Mailbox.objects.get(name="help").imap_password_sealed
    )
    code, out, err = _rotate()
    assert code == 1
    assert f"mailbox {moved.pk} (imap_password)" in err and "run the command again" in err
    assert "2 done" in out
    # the old key stays while a secret still needs it
    assert sorted(NetworkKey.objects.values_list("version", flat=True)) == [1, 2]
    assert Mailbox.objects.get(name="help").imap_password == "help-pw"


def test_rotate_network_with_a_closed_vault_exits_2(boxes, settings, tmp_path):
    settings.VAULT_MASTER_KEY_FILE = str(tmp_path / "missing.key")
    code, _, err = _rotate()
    assert code == 2 and "the vault is closed" in err


def test_the_command_takes_network_or_client_not_both():
    from thirdway.cli import parser

    args = parser().parse_args(["keys", "rotate", "--network", "--limit", "100"])
    assert (args.network, args.client, args.limit) == (True, None, 100)
    with pytest.raises(SystemExit):
        parser().parse_args(["keys", "rotate", "--network", "--client", "3"])

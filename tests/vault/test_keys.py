"""``thirdway keys``: rewrap data keys to a new master key, rotate a client's data key; both
resume after an interruption and name what failed with a non-zero exit."""

from __future__ import annotations

import argparse
import io
import stat

import pytest

from support.vault import SECRET, write_key
from thirdway.audit.models import AuditRecord, Source
from thirdway.vault import keyring
from thirdway.vault.commands import run
from thirdway.vault.models import ClientKey, Credential
from thirdway.vault.services import credentials
from thirdway.vault.services.keys import rewrap_data_keys, rotate_client_key


def _keys(action: str, **options) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run(argparse.Namespace(action=action, **options), out, err)
    return code, out.getvalue(), err.getvalue()


def _secrets(client) -> dict[str, str]:
    return {
        c.name: credentials.open_values(c)["secret"]
        for c in Credential.objects.filter(client=client)
    }


@pytest.fixture
def acme_vault(cast, firewall):
    for number in range(4):
        credentials.create_credential(
            cast.partner, cast.acme, name=f"PC {number}", secret=f"pc-{number}", source=Source.CLI
        )
    return {"Firewall": SECRET, **{f"PC {n}": f"pc-{n}" for n in range(4)}}


def _new_master(settings, tmp_path, master_key) -> str:
    """Make a new current master key; the old one stays as a previous key."""
    new = write_key(tmp_path / "new.key")
    settings.VAULT_MASTER_KEY_FILE = str(new)
    settings.VAULT_PREVIOUS_MASTER_KEY_FILES = [str(master_key)]
    return keyring.keyring().current_key().id


def test_rewrap_moves_every_data_key_to_the_new_master_key(
    cast, acme_vault, globex_router, settings, tmp_path, master_key
):
    new_id = _new_master(settings, tmp_path, master_key)
    code, out, err = _keys("rewrap")
    assert (code, err) == (0, "")
    assert "2 done, 0 already done" in out
    assert set(ClientKey.objects.values_list("master_key_id", flat=True)) == {new_id}
    settings.VAULT_PREVIOUS_MASTER_KEY_FILES = []  # the old key can go now
    assert _secrets(cast.acme) == acme_vault
    assert AuditRecord.objects.filter(action="vault.keys.rewrap").count() == 1
    # Run again: nothing left to do.
    assert _keys("rewrap")[:2] == (0, "Data keys rewrapped: 0 done, 2 already done.\n")


def test_rewrap_names_a_data_key_whose_master_key_is_missing_and_exits_non_zero(
    cast, acme_vault, globex_router, settings, tmp_path, master_key
):
    _new_master(settings, tmp_path, master_key)
    settings.VAULT_PREVIOUS_MASTER_KEY_FILES = []  # the old key was not given
    code, out, err = _keys("rewrap")
    assert code == 1
    assert f"data key 1 of client {cast.acme.pk}" in err
    assert f"data key 1 of client {cast.globex.pk}" in err
    assert "2 failed" in err
    assert "0 done" in out


def test_rewrap_compares_and_sets_so_a_key_changed_meanwhile_is_not_overwritten(
    cast, firewall, settings, tmp_path, master_key
):
    new_id = _new_master(settings, tmp_path, master_key)
    assert rewrap_data_keys().changed == 1
    # A second run that read the row before the first wrote it would match nothing now.
    row = ClientKey.objects.get()
    moved = ClientKey.objects.filter(pk=row.pk, master_key_id="stale").update(wrapped="x")
    assert moved == 0
    assert ClientKey.objects.get().master_key_id == new_id


def test_rotate_gives_the_client_a_new_data_key_and_drops_the_old(cast, acme_vault, globex_router):
    code, out, err = _keys("rotate", client=cast.acme.pk, limit=None)
    assert (code, err) == (0, "")
    assert "5 done" in out
    assert list(ClientKey.objects.filter(client=cast.acme).values_list("version", flat=True)) == [2]
    assert set(
        Credential.objects.filter(client=cast.acme).values_list("key_version", flat=True)
    ) == {2}
    assert _secrets(cast.acme) == acme_vault
    # Another client's key is not touched.
    assert ClientKey.objects.get(client=cast.globex).version == 1
    assert _secrets(cast.globex) == {"Router": "globex-secret"}


def test_a_rotation_interrupted_half_way_leaves_every_record_readable_and_resumes(cast, acme_vault):
    first = rotate_client_key(cast.acme, limit=2)
    assert (first.changed, first.failures) == (2, [])
    versions = sorted(
        Credential.objects.filter(client=cast.acme).values_list("key_version", flat=True)
    )
    assert versions == [1, 1, 1, 2, 2]
    assert _secrets(cast.acme) == acme_vault  # old and new keys both still there
    # A credential added meanwhile is sealed under the new key.
    credentials.create_credential(
        cast.partner, cast.acme, name="New", secret="n", source=Source.CLI
    )
    code, out, _ = _keys("rotate", client=cast.acme.pk, limit=None)
    assert code == 0
    assert "3 done" in out
    assert list(ClientKey.objects.filter(client=cast.acme).values_list("version", flat=True)) == [2]
    assert _secrets(cast.acme) == {**acme_vault, "New": "n"}


def test_rotate_names_a_record_that_does_not_open_and_exits_non_zero(cast, acme_vault):
    broken = Credential.objects.get(name="PC 2")
    Credential.objects.filter(pk=broken.pk).update(
        secret_sealed=Credential.objects.get(name="PC 1").secret_sealed
    )
    code, out, err = _keys("rotate", client=cast.acme.pk, limit=None)
    assert code == 1
    assert f"credential {broken.pk} (PC 2)" in err
    assert "4 done" in out
    # The old key stays while a record still needs it.
    assert sorted(ClientKey.objects.filter(client=cast.acme).values_list("version", flat=True)) == [
        1,
        2,
    ]


def test_rotate_of_an_unknown_client_and_a_closed_vault_exit_non_zero(
    cast, firewall, settings, tmp_path
):
    assert _keys("rotate", client=10**9, limit=None)[0] == 1
    settings.VAULT_MASTER_KEY_FILE = str(tmp_path / "missing.key")
    code, _, err = _keys("rotate", client=cast.acme.pk, limit=None)
    assert code == 2
    assert "the vault is closed" in err and "does not exist" in err


def test_generate_writes_a_new_key_file_once(tmp_path):
    path = tmp_path / "next.key"
    code, out, _ = _keys("generate", path=str(path))
    assert code == 0 and "id " in out
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert _keys("generate", path=str(path))[0] == 1


def test_the_thirdway_command_offers_the_keys_actions(tmp_path):
    from thirdway.cli import parser

    args = parser().parse_args(["keys", "rotate", "--client", "3", "--limit", "10"])
    assert (args.command, args.action, args.client, args.limit) == ("keys", "rotate", 3, 10)
    assert parser().parse_args(["keys", "rewrap"]).action == "rewrap"
    with pytest.raises(SystemExit):
        parser().parse_args(["keys", "rotate"])  # the client is required


def test_rotate_commits_in_batches_and_resumes_across_them(cast, acme_vault, monkeypatch):
    from thirdway.vault.services import keys

    monkeypatch.setattr(keys, "BATCH", 2)  # five records: batches of 2, 2 and 1
    first = rotate_client_key(cast.acme, limit=3)
    assert (first.changed, first.failures) == (3, [])
    assert _secrets(cast.acme) == acme_vault
    rest = rotate_client_key(cast.acme)
    assert (rest.changed, rest.already, rest.failures) == (2, 3, [])
    assert set(
        Credential.objects.filter(client=cast.acme).values_list("key_version", flat=True)
    ) == {2}
    assert _secrets(cast.acme) == acme_vault


def test_a_record_changed_during_the_rotation_is_left_alone_and_named(
    cast, acme_vault, monkeypatch
):
    """Compare-and-set: a record someone changes between the read and the write keeps the
    change; the run names it and exits non-zero, and a rerun rotates it."""
    from thirdway.vault.services import keys

    target = Credential.objects.get(name="PC 3")
    real = keys._reseal

    def changed_meanwhile(credential, old, new, version):
        sealed = real(credential, old, new, version)
        if credential.pk == target.pk:
            credentials.update_credential(
                cast.partner, target, {"secret": "changed"}, source=Source.CLI
            )
        return sealed

    monkeypatch.setattr(keys, "_reseal", changed_meanwhile)
    code, out, err = _keys("rotate", client=cast.acme.pk, limit=None)
    assert code == 1 and f"credential {target.pk} (PC 3): it changed" in err
    assert "4 done" in out
    monkeypatch.setattr(keys, "_reseal", real)
    assert _secrets(cast.acme) == {**acme_vault, "PC 3": "changed"}
    assert _keys("rotate", client=cast.acme.pk, limit=None)[0] == 0
    assert _secrets(cast.acme) == {**acme_vault, "PC 3": "changed"}

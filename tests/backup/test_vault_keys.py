"""The vault's master keys travel in the secrets file: a restore with it opens the restored
credentials; without it the vault stays locked and says which key it lacks."""

from __future__ import annotations

import base64
import json
import os

import pytest

pytestmark = pytest.mark.django_db  # the suite's own database is not used; its server may be

OPEN_ALL = (
    "from thirdway.vault.models import Credential\n"
    "from thirdway.vault.services.credentials import open_values\n"
    "from thirdway.vault.crypto import VaultError\n"
    "for credential in Credential.objects.order_by('pk'):\n"
    "    try:\n"
    "        print(credential.pk, open_values(credential).get('secret', ''))\n"
    "    except VaultError as error:\n"
    "        print(credential.pk, 'LOCKED', error)\n"
)


def _secrets_of(archive):
    return archive.with_name(archive.name.replace(".tar.gz", ".secrets.json"))


def test_the_secrets_file_holds_the_vault_master_key_by_id(demo, demo_backup):
    kept = json.loads(_secrets_of(demo_backup).read_text())["parts"]["vault"]
    key_file = (demo.home / "vault_master_key").read_text().strip()
    assert [entry["key"] for entry in kept["keys"]] == [key_file]
    assert kept["current"] == kept["keys"][0]["id"]
    assert len(kept["current"]) == 16


def test_a_restore_with_the_secrets_file_opens_the_restored_credentials(demo, demo_backup, empty):
    before = demo.shell(OPEN_ALL)
    assert before.count("\n") >= 1 and "LOCKED" not in before

    restored = empty.run("restore", str(demo_backup), "--secrets", str(_secrets_of(demo_backup)))

    assert restored.returncode == 0, restored.stderr
    assert "Vault master key" in restored.stdout and "restored into" in restored.stdout
    key_text = (demo.home / "vault_master_key").read_text().strip()
    assert key_text not in restored.stdout + restored.stderr
    assert empty.shell(OPEN_ALL) == before


def test_a_restore_without_it_leaves_the_vault_locked_naming_the_missing_key(
    demo, demo_backup, empty
):
    restored = empty.run("restore", str(demo_backup))

    assert restored.returncode == 0, restored.stderr
    assert "credentials stay locked" in restored.stdout
    opened = empty.shell(OPEN_ALL)
    kept = json.loads(_secrets_of(demo_backup).read_text())["parts"]["vault"]
    assert opened.count("LOCKED") == opened.count("\n") >= 1
    assert f"The master key with id {kept['current']} is not configured" in opened


def test_an_installation_with_a_key_of_its_own_gets_the_backups_key_beside_it(
    demo, demo_backup, empty
):
    own = empty.home.parent / "own-master-key"
    own.write_text(base64.b64encode(os.urandom(32)).decode() + "\n")
    restored = empty.run(
        "restore",
        str(demo_backup),
        "--secrets",
        str(_secrets_of(demo_backup)),
        THIRDWAY_VAULT_MASTER_KEY_FILE=str(own),
    )

    assert restored.returncode == 0, restored.stderr
    kept = json.loads(_secrets_of(demo_backup).read_text())["parts"]["vault"]
    apart = empty.home / f"vault-master-key-{kept['current']}"
    assert str(apart) in restored.stdout and "thirdway keys rewrap" in restored.stdout
    assert apart.read_text().strip() == (demo.home / "vault_master_key").read_text().strip()
    assert oct(apart.stat().st_mode & 0o777) == "0o600"
    # With the written key as a previous key, the credentials open and a rewrap moves them.
    env = {
        "THIRDWAY_VAULT_MASTER_KEY_FILE": str(own),
        "THIRDWAY_VAULT_PREVIOUS_MASTER_KEY_FILES": str(apart),
    }
    assert "LOCKED" not in empty.shell(OPEN_ALL, **env)
    rewrapped = empty.run("keys", "rewrap", **env)
    assert rewrapped.returncode == 0, rewrapped.stderr
    assert "LOCKED" not in empty.shell(OPEN_ALL, THIRDWAY_VAULT_MASTER_KEY_FILE=str(own))


def test_a_secrets_file_with_a_malformed_parts_entry_is_refused(demo_backup, empty, tmp_path):
    broken = tmp_path / "broken.secrets.json"
    data = json.loads(_secrets_of(demo_backup).read_text())
    data["parts"] = ["vault"]
    broken.write_text(json.dumps(data))

    restored = empty.run("restore", str(demo_backup), "--secrets", str(broken))

    assert restored.returncode == 2
    assert "malformed 'parts'" in restored.stderr
    assert empty.tables() == []

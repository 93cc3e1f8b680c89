"""The vault's share of a backup's secrets file: the master keys that wrap its data keys.

Without them a restored database holds credentials nobody can open.  A backup taken with
``--with-secrets`` keeps every master key that wraps a data key (the current one and any
previous key a rewrap has not yet replaced); a restore puts the current one where this
installation reads it when it has none of its own, and otherwise writes the keys it lacks
beside it with the setting and command that bring them into use.  Ids are named; key material
never leaves the files.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

from django.conf import settings

from thirdway.backup.secret_parts import SecretPart
from thirdway.vault import keyring
from thirdway.vault.crypto import FileKeyProvider, MasterKey, VaultError, read_key_text
from thirdway.vault.models import ClientKey, NetworkKey

NAME = "vault"


def _wrapping_ids() -> list[str]:
    ids = set(ClientKey.objects.values_list("master_key_id", flat=True))
    ids |= set(NetworkKey.objects.values_list("master_key_id", flat=True))
    return sorted(ids)


def export() -> tuple[dict[str, Any], list[str]]:
    wanted = _wrapping_ids()
    if not wanted:
        return {"format": 1, "keys": []}, []
    ring = keyring.keyring()
    keys, warnings = [], []
    for wanted_id in wanted:
        try:
            key = ring.by_id(wanted_id)
        except VaultError:
            warnings.append(
                f"The vault master key {wanted_id} is not configured: the credentials it wraps "
                "will not open after a restore of this backup."
            )
            continue
        keys.append({"id": key.id, "key": base64.b64encode(key.material).decode()})
    current = _current_id(ring)
    return {"format": 1, "current": current, "keys": keys}, warnings


def _current_id(ring: keyring.Keyring) -> str | None:
    provider = ring.current
    if isinstance(provider, FileKeyProvider) and provider.create and not provider.path.exists():
        return None  # reading it would make a new key: this installation has none yet
    try:
        return ring.current_key().id
    except VaultError:
        return None


def restore(data: Any) -> list[str]:
    try:
        keys = [read_key_text(entry["key"].encode(), "the secrets file") for entry in data["keys"]]
    except (KeyError, TypeError, AttributeError, VaultError):
        return ["The secrets file's vault keys are unreadable: the vault stays locked."]
    if not keys:
        return []
    ring = keyring.keyring()
    provider = ring.current
    ordered = sorted(keys, key=lambda key: key.id != data.get("current"))
    done: list[str] = []
    generated = Path(settings.VAULT_GENERATED_MASTER_KEY_FILE)
    if (
        isinstance(provider, FileKeyProvider)
        and provider.create
        and provider.path == generated
        and not generated.exists()
    ):
        _write_key(generated, ordered[0])
        done.append(f"Vault master key {ordered[0].id} restored into {generated}.")
        current_id = ordered[0].id
    else:
        current_id = _current_id(ring)
    apart = [key for key in ordered if key.id != current_id]
    if not apart:
        if not done:
            done.append("This installation's vault master key opens the restored credentials.")
        return done
    paths = []
    for key in apart:
        path = Path(settings.HOME) / f"vault-master-key-{key.id}"
        _write_key(path, key)
        paths.append(str(path))
    done.append(
        f"The restored credentials are wrapped by vault master key(s) "
        f"{', '.join(key.id for key in apart)}, which this installation does not use: they "
        f"were written to {', '.join(paths)}. Add them to "
        "THIRDWAY_VAULT_PREVIOUS_MASTER_KEY_FILES and run `thirdway keys rewrap`."
    )
    return done


def _write_key(path: Path, key: MasterKey) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".restoring")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(base64.b64encode(key.material) + b"\n")
    os.replace(partial, path)


PART = SecretPart(NAME, export, restore)

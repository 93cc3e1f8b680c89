"""The configured master keys and the clients' data keys.

Where the master key comes from, first found wins (docs/vault.md):
1. ``THIRDWAY_VAULT_MASTER_KEY_FILE``, a file (systemd's ``LoadCredential=`` puts one under
   ``$CREDENTIALS_DIRECTORY``, read as ``thirdway-vault-master-key`` when that is set);
2. ``THIRDWAY_VAULT_MASTER_KEY``, base64 in the environment;
3. ``THIRDWAY_HOME/vault_master_key``, generated on first use (a laptop or the demo).
Keys of ``THIRDWAY_VAULT_PREVIOUS_MASTER_KEY_FILES`` still open data keys they wrapped until
``thirdway keys rewrap`` moves them to the current key.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction

from thirdway.vault.crypto import (
    EnvKeyProvider,
    FileKeyProvider,
    KeyProvider,
    Keyring,
    VaultLocked,
    new_key,
    open_network_field,
    seal_network_field,
    unwrap_data_key,
    unwrap_network_key,
    wrap_data_key,
    wrap_network_key,
)
from thirdway.vault.models import ClientKey, NetworkKey

ENV_KEY = "THIRDWAY_VAULT_MASTER_KEY"
CREDENTIAL_NAME = "thirdway-vault-master-key"


def current_provider() -> KeyProvider:
    if settings.VAULT_MASTER_KEY_FILE:
        return FileKeyProvider(Path(settings.VAULT_MASTER_KEY_FILE))
    credentials = os.environ.get("CREDENTIALS_DIRECTORY")
    if credentials and (Path(credentials) / CREDENTIAL_NAME).exists():
        return FileKeyProvider(Path(credentials) / CREDENTIAL_NAME)
    if os.environ.get(ENV_KEY):
        return EnvKeyProvider(ENV_KEY)
    return FileKeyProvider(Path(settings.VAULT_GENERATED_MASTER_KEY_FILE), create=True)


def keyring() -> Keyring:
    previous = [FileKeyProvider(Path(path)) for path in settings.VAULT_PREVIOUS_MASTER_KEY_FILES]
    return Keyring(current=current_provider(), previous=previous)


def data_key(client_id: int, version: int, ring: Keyring | None = None) -> bytes:
    """The data key ``version`` of a client, unwrapped (the vault is locked without it)."""
    from thirdway.vault.crypto import VaultLocked

    row = ClientKey.objects.filter(client_id=client_id, version=version).first()
    if row is None:
        raise VaultLocked(f"Client {client_id} has no data key {version}.")
    ring = ring or keyring()
    return unwrap_data_key(
        ring.by_id(row.master_key_id), row.wrapped, client_id=client_id, version=version
    )


def latest_version(client_id: int) -> int:
    latest = ClientKey.objects.filter(client_id=client_id).order_by("-version").first()
    return latest.version if latest else 0


def add_data_key(client_id: int, version: int, ring: Keyring | None = None) -> bytes:
    """Make and store data key ``version`` of a client; if another process made it first,
    that one is used."""
    ring = ring or keyring()
    master = ring.current_key()
    key = new_key()
    wrapped = wrap_data_key(master, key, client_id=client_id, version=version)
    try:
        with transaction.atomic():
            ClientKey.objects.create(
                client_id=client_id, version=version, master_key_id=master.id, wrapped=wrapped
            )
    except IntegrityError:
        return data_key(client_id, version, ring)
    return key


def sealing_key(client_id: int) -> tuple[int, bytes]:
    """The version and key that seal a client's new values (made on first use)."""
    version = latest_version(client_id)
    if version == 0:
        return 1, add_data_key(client_id, 1)
    return version, data_key(client_id, version)


# --- the network's data key (secrets that belong to no client) -------------------------------


def network_key(version: int, ring: Keyring | None = None) -> bytes:
    row = NetworkKey.objects.filter(version=version).first()
    if row is None:
        raise VaultLocked(f"The network has no data key {version}.")
    ring = ring or keyring()
    return unwrap_network_key(ring.by_id(row.master_key_id), row.wrapped, version=version)


def network_sealing_key(ring: Keyring | None = None) -> tuple[int, bytes]:
    """The version and key that seal new network secrets (made on first use)."""
    ring = ring or keyring()
    latest = NetworkKey.objects.order_by("-version").first()
    if latest is not None:
        return latest.version, network_key(latest.version, ring)
    master = ring.current_key()
    key = new_key()
    try:
        with transaction.atomic():
            NetworkKey.objects.create(
                version=1,
                master_key_id=master.id,
                wrapped=wrap_network_key(master, key, version=1),
            )
    except IntegrityError:
        return 1, network_key(1, ring)
    return 1, key


def latest_network_version() -> int:
    latest = NetworkKey.objects.order_by("-version").first()
    return latest.version if latest else 0


def add_network_key(version: int, ring: Keyring | None = None) -> bytes:
    """Make and store the network's data key ``version``; if another process made it first,
    that one is used."""
    ring = ring or keyring()
    master = ring.current_key()
    key = new_key()
    try:
        with transaction.atomic():
            NetworkKey.objects.create(
                version=version,
                master_key_id=master.id,
                wrapped=wrap_network_key(master, key, version=version),
            )
    except IntegrityError:
        return network_key(version, ring)
    return key


def seal_network_secret(record: str, field_name: str, value: str) -> tuple[int, str]:
    """``value`` sealed under the network's data key, bound to ``record`` (e.g.
    ``mail.mailbox:7``) and ``field_name``: returns (key version, ciphertext)."""
    version, key = network_sealing_key()
    return version, seal_network_field(
        key, value, record=record, field_name=field_name, version=version
    )


def open_network_secret(record: str, field_name: str, version: int, sealed: str) -> str:
    """The value sealed by ``seal_network_secret`` for this record and field; a ciphertext
    moved from another record or field raises ``Tampered``, a closed vault ``VaultLocked``."""
    return open_network_field(
        network_key(version), sealed, record=record, field_name=field_name, version=version
    )

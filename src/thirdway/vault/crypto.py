"""Envelope encryption of the vault: master keys, data keys per client, sealed fields.

A client's data key is wrapped with AES-GCM by a master key; the associated data binds the
wrapped key to its client, its version and the master key's id.  Each secret field is sealed
with AES-GCM under the client's data key; the associated data binds it to its client, record,
field and key version, so a ciphertext copied to another record or client does not open.

Master keys come from a :class:`KeyProvider` (a file, as systemd credentials give them, or an
environment variable); a KMS or HSM can be another provider.  Key material never appears in a
message, a ``repr`` or a log line.  Pure: imports no Django and nothing of ours.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_BYTES = 32
NONCE_BYTES = 12


class VaultError(Exception):
    """The vault cannot do what was asked; the message says why, never a key."""


class VaultLocked(VaultError):
    """No master key, or not the right one: the vault stays closed."""


class Tampered(VaultError):
    """A ciphertext that does not open: changed, moved or sealed under another key."""


@dataclass(frozen=True)
class MasterKey:
    """A master key and its public id (a digest that names it, never its material)."""

    material: bytes = field(repr=False)
    id: str = ""
    origin: str = ""

    def __post_init__(self) -> None:
        if len(self.material) != KEY_BYTES:
            raise VaultLocked(f"The master key from {self.origin} is not {KEY_BYTES} bytes long.")
        object.__setattr__(self, "id", key_id(self.material))


def key_id(material: bytes) -> str:
    """The id of a master key: 16 hex digits of a digest of the key (not the key)."""
    return hashlib.sha256(b"thirdway vault master key id\0" + material).hexdigest()[:16]


def new_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def read_key_text(data: bytes, origin: str) -> MasterKey:
    """A master key from 32 raw bytes or from their base64 (standard or URL-safe)."""
    if len(data) == KEY_BYTES:
        return MasterKey(data, origin=origin)
    text = data.strip()
    for decode in (base64.b64decode, base64.urlsafe_b64decode):
        try:
            material = decode(text)
        except (binascii.Error, ValueError):
            continue
        if len(material) == KEY_BYTES:
            return MasterKey(material, origin=origin)
    raise VaultLocked(
        f"The master key from {origin} is not {KEY_BYTES} random bytes nor their base64."
    )


class KeyProvider(Protocol):
    """Where a master key comes from (a file, the environment; a KMS could follow)."""

    def master_key(self) -> MasterKey: ...


@dataclass(frozen=True)
class FileKeyProvider:
    """A master key in a file (e.g. ``$CREDENTIALS_DIRECTORY/thirdway-vault-master-key``).

    With ``create``, a missing file is made once with a new key, readable by its owner alone
    (the laptop and demo install; production supplies the file)."""

    path: Path
    create: bool = False

    def master_key(self) -> MasterKey:
        if self.create and not self.path.exists():
            self._generate()
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            raise VaultLocked(f"The master key file {self.path} does not exist.") from None
        except OSError as error:
            raise VaultLocked(
                f"The master key file {self.path} cannot be read ({error.strerror})."
            ) from None
        return read_key_text(data, f"the file {self.path}")

    def _generate(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            handle = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return  # another process made it first
        with os.fdopen(handle, "wb") as out:
            out.write(base64.b64encode(new_key()) + b"\n")


@dataclass(frozen=True)
class EnvKeyProvider:
    """A master key in an environment variable, as base64 (inherited by child processes:
    prefer a file)."""

    name: str
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ, repr=False)

    def master_key(self) -> MasterKey:
        value = self.environ.get(self.name)
        if not value:
            raise VaultLocked(f"The environment variable {self.name} is not set.")
        return read_key_text(value.encode(), f"the environment variable {self.name}")


@dataclass(frozen=True)
class Keyring:
    """The current master key, and previous ones that may still wrap data keys (rewrap)."""

    current: KeyProvider
    previous: Sequence[KeyProvider] = ()

    def current_key(self) -> MasterKey:
        return self.current.master_key()

    def by_id(self, wanted: str) -> MasterKey:
        current = self.current.master_key()
        if current.id == wanted:
            return current
        for provider in self.previous:
            key = provider.master_key()
            if key.id == wanted:
                return key
        raise VaultLocked(
            f"The master key with id {wanted} is not configured (the current key has id "
            f"{current.id}): give the key this data was wrapped with."
        )


# --- associated data ------------------------------------------------------------------------


def wrapping_context(client_id: int, version: int, master_id: str) -> bytes:
    return f"thirdway:data-key:client={client_id}:version={version}:master={master_id}".encode()


def field_context(client_id: int, record: str, field_name: str, version: int) -> bytes:
    return (
        f"thirdway:field:client={client_id}:record={record}:field={field_name}:version={version}"
    ).encode()


def network_wrapping_context(version: int, master_id: str) -> bytes:
    return f"thirdway:data-key:network:version={version}:master={master_id}".encode()


def network_field_context(record: str, field_name: str, version: int) -> bytes:
    return f"thirdway:field:network:record={record}:field={field_name}:version={version}".encode()


# --- sealing --------------------------------------------------------------------------------


def _seal(key: bytes, data: bytes, context: bytes) -> str:
    nonce = secrets.token_bytes(NONCE_BYTES)
    return base64.b64encode(nonce + AESGCM(key).encrypt(nonce, data, context)).decode("ascii")


def _open(key: bytes, sealed: str, context: bytes, what: str) -> bytes:
    try:
        raw = base64.b64decode(sealed.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise Tampered(f"The {what} is not a ciphertext of the vault.") from None
    if len(raw) < NONCE_BYTES + 16:
        raise Tampered(f"The {what} is too short to be a ciphertext of the vault.")
    try:
        return AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context)
    except InvalidTag:
        raise Tampered(
            f"The {what} does not open: it was changed, moved from another record, or sealed "
            "under another key."
        ) from None


def wrap_data_key(master: MasterKey, data_key: bytes, *, client_id: int, version: int) -> str:
    return _seal(master.material, data_key, wrapping_context(client_id, version, master.id))


def unwrap_data_key(master: MasterKey, wrapped: str, *, client_id: int, version: int) -> bytes:
    context = wrapping_context(client_id, version, master.id)
    try:
        return _open(master.material, wrapped, context, f"data key {version} of client {client_id}")
    except Tampered as error:
        raise VaultLocked(f"{error} Is the master key (id {master.id}) the right one?") from None


def seal_field(
    data_key: bytes, value: str, *, client_id: int, record: str, field_name: str, version: int
) -> str:
    context = field_context(client_id, record, field_name, version)
    return _seal(data_key, value.encode("utf-8"), context)


def open_field(
    data_key: bytes, sealed: str, *, client_id: int, record: str, field_name: str, version: int
) -> str:
    context = field_context(client_id, record, field_name, version)
    return _open(data_key, sealed, context, f"{field_name} of record {record}").decode("utf-8")


def wrap_network_key(master: MasterKey, data_key: bytes, *, version: int) -> str:
    return _seal(master.material, data_key, network_wrapping_context(version, master.id))


def unwrap_network_key(master: MasterKey, wrapped: str, *, version: int) -> bytes:
    context = network_wrapping_context(version, master.id)
    try:
        return _open(master.material, wrapped, context, f"network data key {version}")
    except Tampered as error:
        raise VaultLocked(f"{error} Is the master key (id {master.id}) the right one?") from None


def seal_network_field(
    data_key: bytes, value: str, *, record: str, field_name: str, version: int
) -> str:
    context = network_field_context(record, field_name, version)
    return _seal(data_key, value.encode("utf-8"), context)


def open_network_field(
    data_key: bytes, sealed: str, *, record: str, field_name: str, version: int
) -> str:
    context = network_field_context(record, field_name, version)
    return _open(data_key, sealed, context, f"{field_name} of {record}").decode("utf-8")

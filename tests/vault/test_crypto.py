"""The envelope: data keys wrapped by a master key, fields sealed under a data key, each bound
to where it belongs; master keys from a file or the environment, never shown."""

from __future__ import annotations

import base64
import os
import stat

import pytest

from thirdway.vault.crypto import (
    EnvKeyProvider,
    FileKeyProvider,
    Keyring,
    MasterKey,
    Tampered,
    VaultLocked,
    new_key,
    open_field,
    seal_field,
    unwrap_data_key,
    wrap_data_key,
)
from thirdway.vault.otp import current_code, normalised_seed

PLACE = {"client_id": 1, "record": "7", "field_name": "secret", "version": 1}


def _master() -> MasterKey:
    return MasterKey(new_key(), origin="a test")


def test_a_sealed_field_opens_with_its_key_and_place():
    key = new_key()
    sealed = seal_field(key, "hunter2 ✓", **PLACE)
    assert "hunter2" not in sealed
    assert open_field(key, sealed, **PLACE) == "hunter2 ✓"


def test_sealing_twice_gives_two_ciphertexts():
    key = new_key()
    assert seal_field(key, "same", **PLACE) != seal_field(key, "same", **PLACE)


@pytest.mark.parametrize(
    "moved",
    [
        {"client_id": 2},
        {"record": "8"},
        {"field_name": "notes"},
        {"version": 2},
    ],
    ids=["another-client", "another-record", "another-field", "another-version"],
)
def test_a_ciphertext_moved_elsewhere_does_not_open(moved):
    key = new_key()
    sealed = seal_field(key, "hunter2", **PLACE)
    with pytest.raises(Tampered, match="does not open"):
        open_field(key, sealed, **{**PLACE, **moved})


def test_a_tampered_ciphertext_is_an_error_never_garbage():
    key = new_key()
    raw = bytearray(base64.b64decode(seal_field(key, "hunter2", **PLACE)))
    raw[-1] ^= 1
    with pytest.raises(Tampered):
        open_field(key, base64.b64encode(bytes(raw)).decode(), **PLACE)
    for broken in ("", "not base64!", base64.b64encode(b"short").decode()):
        with pytest.raises(Tampered):
            open_field(key, broken, **PLACE)


def test_a_field_sealed_under_another_data_key_does_not_open():
    sealed = seal_field(new_key(), "hunter2", **PLACE)
    with pytest.raises(Tampered):
        open_field(new_key(), sealed, **PLACE)


def test_a_data_key_unwraps_only_with_its_master_key_client_and_version():
    master, data_key = _master(), new_key()
    wrapped = wrap_data_key(master, data_key, client_id=1, version=1)
    assert unwrap_data_key(master, wrapped, client_id=1, version=1) == data_key
    with pytest.raises(VaultLocked, match=f"master key \\(id {master.id}\\)"):
        unwrap_data_key(master, wrapped, client_id=2, version=1)
    with pytest.raises(VaultLocked):
        unwrap_data_key(master, wrapped, client_id=1, version=2)
    with pytest.raises(VaultLocked):
        unwrap_data_key(_master(), wrapped, client_id=1, version=1)


def test_a_master_key_never_shows_its_material():
    master = _master()
    assert master.material.hex() not in repr(master)
    assert str(master.material) not in repr(master)
    assert len(master.id) == 16


def test_a_key_file_holds_raw_bytes_or_base64(tmp_path):
    material = os.urandom(32)
    raw = tmp_path / "raw"
    raw.write_bytes(material)
    text = tmp_path / "text"
    text.write_text(base64.b64encode(material).decode() + "\n")
    assert FileKeyProvider(raw).master_key().material == material
    assert FileKeyProvider(text).master_key().material == material


def test_no_key_file_or_a_bad_one_keeps_the_vault_closed_with_a_clear_message(tmp_path):
    with pytest.raises(VaultLocked, match="does not exist"):
        FileKeyProvider(tmp_path / "missing").master_key()
    short = tmp_path / "short"
    short.write_text("c2hvcnQ=")
    with pytest.raises(VaultLocked, match="not 32 random bytes"):
        FileKeyProvider(short).master_key()


def test_a_generated_key_file_is_made_once_and_readable_by_its_owner_alone(tmp_path):
    path = tmp_path / "home" / "vault_master_key"
    first = FileKeyProvider(path, create=True).master_key()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert FileKeyProvider(path, create=True).master_key() == first


def test_a_key_in_the_environment_is_read_and_its_absence_said():
    material = os.urandom(32)
    found = EnvKeyProvider("KEY", {"KEY": base64.b64encode(material).decode()}).master_key()
    assert found.material == material
    with pytest.raises(VaultLocked, match="KEY is not set"):
        EnvKeyProvider("KEY", {}).master_key()


def test_a_keyring_finds_a_previous_key_by_id_and_names_a_missing_one(tmp_path):
    old, new = tmp_path / "old", tmp_path / "new"
    old.write_bytes(os.urandom(32))
    new.write_bytes(os.urandom(32))
    ring = Keyring(current=FileKeyProvider(new), previous=[FileKeyProvider(old)])
    old_id = FileKeyProvider(old).master_key().id
    assert ring.by_id(old_id).id == old_id
    with pytest.raises(VaultLocked, match="id 0000000000000000 is not configured"):
        ring.by_id("0000000000000000")


def test_the_totp_code_follows_rfc_6238():
    # RFC 6238, appendix B: the SHA-1 secret "12345678901234567890" at 59 s gives 94287082.
    seed = base64.b32encode(b"12345678901234567890").decode()
    assert current_code(seed, at=59).code == "287082"
    assert current_code(seed, at=59).seconds_left == 1
    assert normalised_seed("jbsw y3dp ehpk 3pxp") == "JBSWY3DPEHPK3PXP"
    with pytest.raises(ValueError, match="base32"):
        normalised_seed("not a seed!")

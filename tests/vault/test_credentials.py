"""Credentials: sealed at rest, revealed with a reason to those allowed, recorded; the vault
stays closed without its key or with a wrong one, and a moved ciphertext does not open."""

from __future__ import annotations

import logging
import threading

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from support.vault import SECRET, SEED, write_key
from thirdway.audit.models import AuditRecord, Source
from thirdway.vault.crypto import Tampered, VaultLocked
from thirdway.vault.models import ClientKey, Credential, CredentialAccess
from thirdway.vault.otp import current_code
from thirdway.vault.services import credentials


def _reveal(user, credential, reason="Firmware update, ticket about the VPN"):
    return credentials.reveal_credential(user, credential, reason=reason, source=Source.WEB)


def test_the_secret_fields_are_sealed_in_the_database(firewall):
    row = Credential.objects.values().get(pk=firewall.pk)
    stored = " ".join(str(value) for value in row.values())
    for plain in (SECRET, "Serial FW-1234", SEED):
        assert plain not in stored
    assert row["key_version"] == 1
    assert ClientKey.objects.filter(client=firewall.client).count() == 1


def test_a_reveal_shows_the_secret_notes_and_current_code_never_the_seed(cast, firewall):
    shown = _reveal(cast.partner, firewall)
    assert shown.secret == SECRET
    assert shown.notes == "Serial FW-1234"
    assert shown.totp.code == current_code(SEED).code
    assert SEED not in repr(shown)


def test_a_reveal_is_recorded_with_who_when_and_why(cast, firewall):
    _reveal(cast.associate, firewall, reason="  Reset the   VPN  ")
    access = CredentialAccess.objects.get()
    assert (access.user, access.reason) == (cast.associate, "Reset the VPN")
    audit = AuditRecord.objects.get(action="credential.reveal")
    assert audit.actor == cast.associate
    assert audit.changes == {"reason": [None, "Reset the VPN"]}


@pytest.mark.parametrize(
    "reason", ["", "   ", "abc", "x" * 251], ids=["empty", "blank", "short", "long"]
)
def test_a_reveal_without_a_fitting_reason_is_refused_and_not_recorded(cast, firewall, reason):
    with pytest.raises(ValidationError) as refused:
        _reveal(cast.partner, firewall, reason=reason)
    assert "reason" in refused.value.error_dict
    assert not CredentialAccess.objects.exists()
    assert not AuditRecord.objects.filter(action="credential.reveal").exists()


@pytest.mark.parametrize(
    "role", sorted({"other_partner", "client_user", "other_client_admin", "outsider"})
)
def test_who_does_not_see_a_credential_may_not_reveal_it(cast, firewall, role):
    with pytest.raises(PermissionDenied):
        _reveal(getattr(cast, role), firewall)


def test_a_client_admin_reveals_only_what_is_shared_with_the_client_admins(cast, firewall):
    with pytest.raises(PermissionDenied):
        _reveal(cast.client_admin, firewall)
    credentials.update_credential(
        cast.partner, firewall, {"shared_with_client_admins": True}, source=Source.CLI
    )
    assert _reveal(cast.client_admin, firewall).secret == SECRET


def test_only_the_keepers_of_a_client_add_credentials(cast, master_key):
    for user in (cast.associate, cast.client_admin, cast.other_partner):
        with pytest.raises(PermissionDenied):
            credentials.create_credential(user, cast.acme, name="X", source=Source.CLI)
    assert not Credential.objects.exists()


def test_a_change_keeps_the_sealed_fields_not_given_and_reseals_the_given(cast, firewall):
    credentials.update_credential(
        cast.partner, firewall, {"secret": "new-secret", "notes": None}, source=Source.CLI
    )
    shown = _reveal(cast.partner, Credential.objects.get(pk=firewall.pk))
    assert (shown.secret, shown.notes) == ("new-secret", "Serial FW-1234")
    audit = AuditRecord.objects.get(action="credential.update")
    assert audit.changes == {"secret": ["(sealed)", "(sealed)"]}
    assert "new-secret" not in str(audit.changes)


def test_a_bad_totp_seed_is_refused_naming_the_field(cast, master_key):
    with pytest.raises(ValidationError) as refused:
        credentials.create_credential(
            cast.partner, cast.acme, name="X", totp_seed="not base32!", source=Source.CLI
        )
    assert "totp_seed" in refused.value.error_dict
    assert not Credential.objects.exists()


def test_another_clients_site_is_refused(cast, master_key):
    with pytest.raises(ValidationError) as refused:
        credentials.create_credential(
            cast.admin, cast.acme, name="X", site_id=cast.globex_site.pk, source=Source.CLI
        )
    assert "site" in refused.value.error_dict


def test_a_ciphertext_moved_to_another_clients_record_fails_to_decrypt(firewall, globex_router):
    Credential.objects.filter(pk=globex_router.pk).update(secret_sealed=firewall.secret_sealed)
    with pytest.raises(Tampered):
        credentials.open_values(Credential.objects.get(pk=globex_router.pk))


def test_a_ciphertext_moved_to_another_record_of_the_same_client_fails(cast, firewall):
    other = credentials.create_credential(
        cast.partner, cast.acme, name="NAS", secret="nas", source=Source.CLI
    )
    Credential.objects.filter(pk=other.pk).update(secret_sealed=firewall.secret_sealed)
    with pytest.raises(Tampered):
        credentials.open_values(Credential.objects.get(pk=other.pk))


def test_a_tampered_ciphertext_is_an_error(firewall):
    sealed = firewall.secret_sealed
    flipped = sealed[:-4] + ("AAAA" if sealed[-4:] != "AAAA" else "BBBB")
    Credential.objects.filter(pk=firewall.pk).update(secret_sealed=flipped)
    with pytest.raises(Tampered):
        credentials.open_values(Credential.objects.get(pk=firewall.pk))


def test_a_wrong_master_key_keeps_the_vault_closed_and_says_so(cast, firewall, settings, tmp_path):
    settings.VAULT_MASTER_KEY_FILE = str(write_key(tmp_path / "wrong.key"))
    with pytest.raises(VaultLocked, match="not configured"):
        _reveal(cast.partner, firewall)
    assert not CredentialAccess.objects.exists()


def test_a_missing_master_key_keeps_the_vault_closed(cast, firewall, settings, tmp_path):
    settings.VAULT_MASTER_KEY_FILE = str(tmp_path / "gone.key")
    with pytest.raises(VaultLocked, match="does not exist"):
        _reveal(cast.partner, firewall)
    with pytest.raises(VaultLocked):
        credentials.create_credential(
            cast.partner, cast.acme, name="Y", secret="y", source=Source.CLI
        )
    assert Credential.objects.count() == 1


def test_the_master_key_may_come_from_the_environment(cast, settings, monkeypatch):
    settings.VAULT_MASTER_KEY_FILE = ""
    monkeypatch.setenv("THIRDWAY_VAULT_MASTER_KEY", "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=")
    made = credentials.create_credential(
        cast.admin, cast.acme, name="E", secret="e", source=Source.CLI
    )
    assert _reveal(cast.admin, made).secret == "e"
    monkeypatch.delenv("THIRDWAY_VAULT_MASTER_KEY")
    with pytest.raises(VaultLocked):  # the generated file is another key
        _reveal(cast.admin, made)


def test_no_key_or_secret_reaches_the_logs(cast, firewall, master_key, caplog):
    caplog.set_level(logging.DEBUG)
    _reveal(cast.partner, firewall)
    logged = caplog.text + " ".join(str(record.args) for record in caplog.records)
    assert SECRET not in logged
    assert master_key.read_text().strip() not in logged


@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3",
    reason="SQLite writes one transaction at a time, and its in-memory test database locks "
    "whole tables across threads",
)
@pytest.mark.django_db(transaction=True)
def test_credentials_added_at_once_share_the_one_data_key_made_for_the_client(cast, master_key):
    made: list[int] = []

    def add(number: int) -> None:
        try:
            credential = credentials.create_credential(
                cast.partner,
                cast.acme,
                name=f"PC {number}",
                secret=f"pc-{number}",
                source=Source.CLI,
            )
            made.append(credential.pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=add, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(made) == 4
    assert ClientKey.objects.filter(client=cast.acme).count() == 1
    for credential in Credential.objects.all():
        assert credentials.open_values(credential)["secret"] == f"pc-{credential.name[3:]}"

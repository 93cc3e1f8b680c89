"""Credentials: add, change, reveal (with a reason, audited)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from thirdway.audit.services import diff, record, snapshot
from thirdway.errors import invalid, require
from thirdway.vault import keyring
from thirdway.vault.access import can_reveal
from thirdway.vault.crypto import open_field, seal_field
from thirdway.vault.models import Credential, CredentialAccess
from thirdway.vault.otp import Code, current_code, normalised_seed
from thirdway.vault.services._shared import (
    MAX_REASON,
    MIN_REASON,
    linked,
    require_keeper,
    scope,
)

# The fields kept in clear (audited by value) and the sealed ones (audited as "changed").
PLAIN_FIELDS = ["name", "username", "url", "site", "asset", "shared_with_client_admins"]
SEALED = {"secret": "secret_sealed", "notes": "notes_sealed", "totp_seed": "totp_sealed"}
MAX_SECRET = 1000
MAX_NOTES = 10_000


@dataclass(frozen=True)
class Revealed:
    """What a reveal shows: the secret, the notes and the current TOTP code (never the seed)."""

    secret: str
    notes: str
    totp: Code | None


def _check_sealed_values(values: dict) -> dict:
    checked = dict(values)
    secret, notes, seed = (checked.get(name) for name in SEALED)
    if secret is not None and len(secret) > MAX_SECRET:
        raise invalid("secret", "The secret is too long.", f"at most {MAX_SECRET} characters")
    if notes is not None and len(notes) > MAX_NOTES:
        raise invalid("notes", "The notes are too long.", f"at most {MAX_NOTES} characters")
    if seed:
        try:
            checked["totp_seed"] = normalised_seed(seed)
        except ValueError as error:
            raise invalid("totp_seed", "This is not a TOTP seed.", str(error)) from None
    return checked


def _seal_into(credential: Credential, values: dict, version: int, key: bytes) -> None:
    for name, column in SEALED.items():
        value = values.get(name)
        if value is None:
            continue
        sealed = (
            seal_field(
                key,
                value,
                client_id=credential.client_id,
                record=str(credential.pk),
                field_name=name,
                version=version,
            )
            if value
            else ""
        )
        setattr(credential, column, sealed)


def open_values(credential: Credential, key: bytes | None = None) -> dict[str, str]:
    """Every sealed field of a credential, opened (Tampered or VaultLocked if they cannot be)."""
    if key is None:
        key = keyring.data_key(credential.client_id, credential.key_version)
    opened = {}
    for name, column in SEALED.items():
        sealed = getattr(credential, column)
        opened[name] = (
            open_field(
                key,
                sealed,
                client_id=credential.client_id,
                record=str(credential.pk),
                field_name=name,
                version=credential.key_version,
            )
            if sealed
            else ""
        )
    return opened


@transaction.atomic
def create_credential(
    actor,
    client,
    *,
    source: str,
    site_id=None,
    asset_id=None,
    secret: str = "",
    notes: str = "",
    totp_seed: str = "",
    **data,
) -> Credential:
    """Keep a new credential for a client, its secret fields sealed under the client's key."""
    require_keeper(actor, client)
    values = _check_sealed_values({"secret": secret, "notes": notes, "totp_seed": totp_seed})
    credential = Credential(client=client, **linked(client, site_id, asset_id), **data)
    credential.full_clean(exclude=["secret_sealed", "notes_sealed", "totp_sealed"])
    credential.secret_changed_at = timezone.now()
    credential.save()
    version, key = keyring.sealing_key(client.pk)
    credential.key_version = version
    _seal_into(credential, values, version, key)
    credential.save(update_fields=[*SEALED.values(), "key_version"])
    changes = diff({}, snapshot(credential, PLAIN_FIELDS))
    changes.update({name: [None, "(sealed)"] for name, value in values.items() if value})
    record(
        actor, "credential.create", credential, source=source, scope=scope(client), changes=changes
    )
    return credential


@transaction.atomic
def update_credential(actor, credential: Credential, data: dict, *, source: str) -> Credential:
    """Change a credential; a sealed field given (not None) is sealed anew under the newest
    key, the others are opened and sealed again with it so the record has one key version."""
    credential = Credential.objects.select_for_update().get(pk=credential.pk)
    require_keeper(actor, credential.client)
    data = dict(data)
    values = _check_sealed_values({name: data.pop(name, None) for name in SEALED})
    if "site_id" in data or "asset_id" in data:
        found = linked(
            credential.client,
            data.pop("site_id", credential.site_id),
            data.pop("asset_id", credential.asset_id),
        )
        data.update(found)
    before = snapshot(credential, PLAIN_FIELDS)
    for name, value in data.items():
        setattr(credential, name, value)
    credential.full_clean(exclude=["secret_sealed", "notes_sealed", "totp_sealed"])
    opened = open_values(credential)
    changed = {
        name for name, value in values.items() if value is not None and value != opened[name]
    }
    if "secret" in changed:
        credential.secret_changed_at = timezone.now()
    merged = {name: values[name] if values[name] is not None else opened[name] for name in SEALED}
    version, key = keyring.sealing_key(credential.client_id)
    credential.key_version = version
    _seal_into(credential, merged, version, key)
    credential.save()
    changes = diff(before, snapshot(credential, PLAIN_FIELDS))
    changes.update({name: ["(sealed)", "(sealed)"] for name in sorted(changed)})
    if changes:
        record(
            actor,
            "credential.update",
            credential,
            source=source,
            scope=scope(credential.client),
            changes=changes,
        )
    return credential


def _check_reason(reason: str) -> str:
    text = " ".join((reason or "").split())
    if not MIN_REASON <= len(text) <= MAX_REASON:
        raise invalid(
            "reason",
            "Say why you need to see this secret.",
            f"a reason of {MIN_REASON} to {MAX_REASON} characters",
        )
    return text


@transaction.atomic
def reveal_credential(actor, credential: Credential, *, reason: str, source: str) -> Revealed:
    """Open a credential for someone allowed to, who says why; the reveal is recorded (who,
    when, why) before anything is shown."""
    require(can_reveal(actor, credential), "You may not reveal this credential.")
    reason = _check_reason(reason)
    opened = open_values(credential)
    CredentialAccess.objects.create(credential=credential, user=actor, reason=reason)
    record(
        actor,
        "credential.reveal",
        credential,
        source=source,
        scope=scope(credential.client),
        changes={"reason": [None, reason]},
    )
    seed = opened["totp_seed"]
    return Revealed(
        secret=opened["secret"],
        notes=opened["notes"],
        totp=current_code(seed) if seed else None,
    )

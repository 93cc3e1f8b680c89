"""Moving data keys to a new master key (rewrap), a client to a new data key (rotate), and the
network's secrets (those of no client, e.g. the mailboxes' IMAP passwords) to a new network
data key (rotate --network).

Both change one row at a time with compare-and-set (an UPDATE that matches only the row as it
was read), so two runs, or a run and the web, never undo each other's work; both carry on past
a failure and report every row that failed; a rerun after an interruption takes up what is
left.  Every record stays readable at every moment: an old data key is deleted only once no
record is sealed under it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection, transaction

from thirdway.audit.models import Source
from thirdway.audit.services import record
from thirdway.vault import keyring
from thirdway.vault.crypto import (
    Keyring,
    VaultError,
    open_field,
    open_network_field,
    seal_field,
    seal_network_field,
    unwrap_data_key,
    unwrap_network_key,
    wrap_data_key,
    wrap_network_key,
)
from thirdway.vault.models import ClientKey, Credential, NetworkKey
from thirdway.vault.network_secrets import sealed_columns
from thirdway.vault.services.credentials import SEALED

# Records sealed anew per transaction (one commit per batch, not per record).
BATCH = 100


@dataclass
class Outcome:
    """What a run did: rows changed, rows already done, and each failure in words."""

    changed: int = 0
    already: int = 0
    failures: list[str] = field(default_factory=list)


# --- rewrap ------------------------------------------------------------------------------------


def rewrap_data_keys(ring: Keyring | None = None) -> Outcome:
    """Wrap every data key with the current master key (those under a previous one)."""
    ring = ring or keyring.keyring()
    current = ring.current_key()
    outcome = Outcome()
    for row in ClientKey.objects.order_by("client_id", "version"):
        if row.master_key_id == current.id:
            outcome.already += 1
            continue
        name = f"data key {row.version} of client {row.client_id}"
        try:
            key = unwrap_data_key(
                ring.by_id(row.master_key_id),
                row.wrapped,
                client_id=row.client_id,
                version=row.version,
            )
        except VaultError as error:
            outcome.failures.append(f"{name}: {error}")
            continue
        wrapped = wrap_data_key(current, key, client_id=row.client_id, version=row.version)
        moved = ClientKey.objects.filter(
            pk=row.pk, master_key_id=row.master_key_id, wrapped=row.wrapped
        ).update(master_key_id=current.id, wrapped=wrapped)
        if moved:
            outcome.changed += 1
        elif ClientKey.objects.filter(pk=row.pk, master_key_id=current.id).exists():
            outcome.already += 1  # another run moved it meanwhile
        else:
            outcome.failures.append(f"{name}: it changed while being rewrapped; run again")
    _rewrap_network_keys(ring, current, outcome)
    if outcome.changed:
        record(
            None,
            "vault.keys.rewrap",
            ClientKey.objects.first() or NetworkKey.objects.first(),
            source=Source.CLI,
            changes={"master_key_id": [None, current.id], "rewrapped": [0, outcome.changed]},
        )
    return outcome


def _rewrap_network_keys(ring: Keyring, current, outcome: Outcome) -> None:
    for row in NetworkKey.objects.order_by("version"):
        if row.master_key_id == current.id:
            outcome.already += 1
            continue
        name = f"network data key {row.version}"
        try:
            key = unwrap_network_key(
                ring.by_id(row.master_key_id), row.wrapped, version=row.version
            )
        except VaultError as error:
            outcome.failures.append(f"{name}: {error}")
            continue
        wrapped = wrap_network_key(current, key, version=row.version)
        moved = NetworkKey.objects.filter(
            pk=row.pk, master_key_id=row.master_key_id, wrapped=row.wrapped
        ).update(master_key_id=current.id, wrapped=wrapped)
        if moved:
            outcome.changed += 1
        elif NetworkKey.objects.filter(pk=row.pk, master_key_id=current.id).exists():
            outcome.already += 1
        else:
            outcome.failures.append(f"{name}: it changed while being rewrapped; run again")


# --- rotate ------------------------------------------------------------------------------------


def _reseal(credential: Credential, old: bytes, new: bytes, version: int) -> dict[str, str]:
    sealed = {}
    for name, column in SEALED.items():
        value = getattr(credential, column)
        if not value:
            sealed[column] = ""
            continue
        context = {
            "client_id": credential.client_id,
            "record": str(credential.pk),
            "field_name": name,
        }
        plain = open_field(old, value, version=credential.key_version, **context)
        sealed[column] = seal_field(new, plain, version=version, **context)
    return sealed


def _resealed(credential, client_id, ring, old_keys, new, version, outcome) -> dict | None:
    """The record's sealed columns under ``new``, or None (the failure noted)."""
    try:
        if credential.key_version not in old_keys:
            old_keys[credential.key_version] = keyring.data_key(
                client_id, credential.key_version, ring
            )
        return _reseal(credential, old_keys[credential.key_version], new, version)
    except VaultError as error:
        outcome.failures.append(f"credential {credential.pk} ({credential.name}): {error}")
        return None


def _write_batch(rows: list[tuple[Credential, dict]], version: int) -> set[int]:
    """One compare-and-set UPDATE for a batch of records: each row changes only if its key
    version and sealed columns are still those it was read with.  The ids it changed."""
    if not rows:
        return set()
    quote = connection.ops.quote_name
    table = quote(Credential._meta.db_table)
    columns = list(SEALED.values())
    names = ["id", "old_version", *(f"o_{c}" for c in columns), *(f"n_{c}" for c in columns)]
    row_sql = "(" + ", ".join(["%s"] * len(names)) + ")"
    params: list = []
    for credential, sealed in rows:
        params += [credential.pk, credential.key_version]
        params += [getattr(credential, column) for column in columns]
        params += [sealed[column] for column in columns]
    sets = ", ".join([f"{quote('key_version')} = %s"] + [f"{quote(c)} = v.n_{c}" for c in columns])
    matches = " AND ".join(
        [f"{table}.{quote('id')} = v.id", f"{table}.{quote('key_version')} = v.old_version"]
        + [f"{table}.{quote(c)} = v.o_{c}" for c in columns]
    )
    # Only our own table and column names are written into the text; every value is a parameter.
    sql = (
        f"WITH v({', '.join(names)}) AS (VALUES {', '.join([row_sql] * len(rows))}) "  # noqa: S608
        f"UPDATE {table} SET {sets} FROM v WHERE {matches} RETURNING {table}.{quote('id')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, version])
        return {row[0] for row in cursor.fetchall()}


def _target_version(client_id: int, ring: Keyring) -> tuple[int, bool]:
    """The version to rotate to: the newest when an earlier run left records behind it
    (resume), else a new one.  True when the rotation resumes."""
    latest = keyring.latest_version(client_id)
    behind = Credential.objects.filter(client_id=client_id, key_version__lt=latest)
    if latest and behind.exists():
        return latest, True
    keyring.add_data_key(client_id, latest + 1, ring)
    return latest + 1, False


def rotate_client_key(client, *, limit: int | None = None, ring: Keyring | None = None) -> Outcome:
    """Give a client a new data key and seal its records anew under it (at most ``limit``
    records in this run, for a rotation done in parts); old keys go when no record uses them.
    Records are written ``BATCH`` at a time, in one compare-and-set UPDATE per batch (each row
    matched as it was read) and one transaction: an interruption loses at most the batch under
    way, whose records keep their old sealing."""
    ring = ring or keyring.keyring()
    version, resumed = _target_version(client.pk, ring)
    new = keyring.data_key(client.pk, version, ring)
    outcome = Outcome()
    old_keys: dict[int, bytes] = {}
    left = Credential.objects.filter(client=client, key_version__lt=version).order_by("pk")
    ids = list(left.values_list("pk", flat=True)[:limit])
    for start in range(0, len(ids), BATCH):
        with transaction.atomic():
            chunk = Credential.objects.filter(
                pk__in=ids[start : start + BATCH], key_version__lt=version
            ).order_by("pk")
            rows = []
            for credential in chunk:
                sealed = _resealed(credential, client.pk, ring, old_keys, new, version, outcome)
                if sealed is not None:
                    rows.append((credential, sealed))
            moved = _write_batch(rows, version)
            outcome.changed += len(moved)
            for credential, _ in rows:
                if credential.pk not in moved:
                    outcome.failures.append(
                        f"credential {credential.pk} ({credential.name}): it changed while "
                        "being rotated; run again"
                    )
    outcome.already = Credential.objects.filter(client=client, key_version=version).count() - (
        outcome.changed
    )
    with transaction.atomic():
        if not Credential.objects.filter(client=client, key_version__lt=version).exists():
            ClientKey.objects.filter(client=client, version__lt=version).delete()
        record(
            None,
            "vault.keys.rotate",
            client,
            source=Source.CLI,
            scope=f"client:{client.pk}",
            changes={
                "key_version": [None, version],
                "resealed": [0, outcome.changed],
                "resumed": [None, resumed],
            },
        )
    return outcome


# --- rotate the network's data key ------------------------------------------------------------


def _network_target(ring: Keyring) -> tuple[int, bool]:
    """The network key version to rotate to: the newest when an earlier run left secrets
    behind it (resume), else a new one.  True when the rotation resumes."""
    latest = keyring.latest_network_version()
    if latest and any(column.rows(latest).exists() for column in sealed_columns()):
        return latest, True
    keyring.add_network_key(latest + 1, ring)
    return latest + 1, False


def rotate_network_key(*, limit: int | None = None, ring: Keyring | None = None) -> Outcome:
    """Give the network a new data key and seal every network secret anew under it (at most
    ``limit`` in this run); old network keys go when no secret uses them."""
    ring = ring or keyring.keyring()
    version, resumed = _network_target(ring)
    new = keyring.network_key(version, ring)
    outcome = Outcome()
    old_keys: dict[int, bytes] = {}
    left = limit
    for column in sealed_columns():
        rows = column.rows(version)
        for pk, sealed, old_version in rows[:left] if left is not None else rows:
            name = f"{column.label} {pk} ({column.field_name})"
            record_name = column.record(pk)
            context = {"record": record_name, "field_name": column.field_name}
            try:
                if old_version not in old_keys:
                    old_keys[old_version] = keyring.network_key(old_version, ring)
                plain = open_network_field(
                    old_keys[old_version], sealed, version=old_version, **context
                )
            except VaultError as error:
                outcome.failures.append(f"{name}: {error}")
                continue
            resealed = seal_network_field(new, plain, version=version, **context)
            moved = column.model._default_manager.filter(
                pk=pk, **{column.column: sealed, column.version_column: old_version}
            ).update(**{column.column: resealed, column.version_column: version})
            if moved:
                outcome.changed += 1
            else:
                outcome.failures.append(f"{name}: it changed while being rotated; run again")
        if left is not None:
            left = max(0, left - outcome.changed - len(outcome.failures))
    outcome.already = (
        sum(
            column.model._default_manager.filter(**{column.version_column: version})
            .exclude(**{column.column: ""})
            .count()
            for column in sealed_columns()
        )
        - outcome.changed
    )
    with transaction.atomic():
        if not any(column.rows(version).exists() for column in sealed_columns()):
            NetworkKey.objects.filter(version__lt=version).delete()
        record(
            None,
            "vault.keys.rotate_network",
            NetworkKey.objects.get(version=version),
            source=Source.CLI,
            changes={
                "key_version": [None, version],
                "resealed": [0, outcome.changed],
                "resumed": [None, resumed],
            },
        )
    return outcome

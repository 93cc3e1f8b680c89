"""Benchmark: ``thirdway keys rewrap`` and ``thirdway keys rotate --client`` over many
credentials, through the commands (so the services, their compare-and-set and audit).

Run from the repository root; it makes a fresh database (SQLite in a new THIRDWAY_HOME, or the
empty PostgreSQL database named by ``--database-url``), migrates and seeds:

    .venv/bin/python bench/vault_keys.py --credentials 10000 --clients 20
    .venv/bin/python bench/vault_keys.py --database-url postgres://postgres@127.0.0.1:5432/bench

Seeding: each client's first credential goes through ``create_credential`` (which makes its
data key); the others are written in bulk, sealed with the same data key (seeding is not
timed).  Then a second master key becomes the current one (the first stays as a previous key),
``keys rewrap`` wraps every data key with it, and ``keys rotate --client`` runs for each client
(a new data key, every record opened and sealed anew).  Before that, ``--reveals`` reveals of
random credentials go through the API (``POST /api/v1/vault/credentials/{id}/reveal`` with a
reason, a bearer token, the audit row written) in this process through Django's whole request
stack (no socket), after five untimed ones that warm it up: ``reveal_ms`` gives their p50,
p95 and p99.  ``rewrap`` touches the data keys only, not the records:
``rewrap_credentials_per_s`` counts the credentials whose key it moved.  Prints one JSON object.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--credentials", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--reveals", type=int, default=500)
    return parser.parse_args()


ARGS = _arguments()
HOME = Path(tempfile.mkdtemp(prefix="thirdway-bench-keys-"))
os.environ["THIRDWAY_HOME"] = str(HOME)
if ARGS.database_url:
    os.environ["THIRDWAY_DATABASE_URL"] = ARGS.database_url
else:
    os.environ.pop("THIRDWAY_DATABASE_URL", None)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "thirdway.settings")
import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from thirdway.accounts import services as accounts  # noqa: E402
from thirdway.accounts.models import Role, User  # noqa: E402
from thirdway.audit.models import Source  # noqa: E402
from thirdway.clients import services as clients  # noqa: E402
from thirdway.vault import commands, keyring  # noqa: E402
from thirdway.vault.crypto import FileKeyProvider, seal_field  # noqa: E402
from thirdway.vault.models import Credential  # noqa: E402
from thirdway.vault.services import credentials  # noqa: E402

BATCH = 500
WARM_UP = 5  # untimed reveals before the timed ones
FIRST_SECRET = "secret-first"  # noqa: S105 (a made-up value to seal)


def _seed_client(admin, client, count: int) -> None:
    credentials.create_credential(
        admin, client, name="Credential 0", secret=FIRST_SECRET, notes="n", source=Source.CLI
    )
    version, key = keyring.sealing_key(client.pk)
    for start in range(1, count, BATCH):
        rows = Credential.objects.bulk_create(
            [
                Credential(client=client, name=f"Credential {i}", key_version=version)
                for i in range(start, min(start + BATCH, count))
            ]
        )
        if rows[0].pk is None:  # a database that does not give the ids back
            rows = list(Credential.objects.filter(client=client, secret_sealed="").order_by("pk"))
        for row in rows:
            row.secret_sealed = seal_field(
                key,
                f"secret-{row.pk}",
                client_id=client.pk,
                record=str(row.pk),
                field_name="secret",
                version=version,
            )
        Credential.objects.bulk_update(rows, ["secret_sealed"], batch_size=BATCH)


def _seed(total: int, client_count: int) -> list:
    admin = accounts.create_user(
        None,
        username="bench-admin",
        email="a@bench.example",
        role=Role.PRACTICE_ADMIN,
        source=Source.CLI,
    )
    made = []
    for n in range(client_count):
        client = clients.create_client(
            admin, name=f"Client {n}", time_zone="Europe/Paris", country="FR", source=Source.CLI
        )
        share = total // client_count + (1 if n < total % client_count else 0)
        _seed_client(admin, client, share)
        made.append(client)
    return made


def _reveals(count: int) -> dict:
    """Reveal ``count`` random credentials through the API; latency percentiles in ms."""
    import random

    from django.test import Client as HttpClient

    admin = User.objects.get(username="bench-admin")
    _, secret = accounts.issue_token(admin, "bench-reveal", source=Source.CLI)
    http = HttpClient(headers={"Authorization": f"Bearer {secret}"}, SERVER_NAME="localhost")
    ids = list(Credential.objects.values_list("pk", flat=True))
    chooser = random.Random(7)
    body = json.dumps({"reason": "benchmark of the reveal"})
    times = []
    for number in range(count + WARM_UP):
        url = f"/api/v1/vault/credentials/{chooser.choice(ids)}/reveal"
        started = time.perf_counter()
        answer = http.post(url, body, content_type="application/json")
        if number >= WARM_UP:
            times.append((time.perf_counter() - started) * 1000)
        if answer.status_code != 200:
            sys.exit(f"reveal failed ({answer.status_code}): {answer.content[:200]!r}")
    times.sort()

    def at(share: float) -> float:
        return round(times[min(len(times) - 1, int(share * len(times)))], 2)

    return {"count": count, "p50": at(0.50), "p95": at(0.95), "p99": at(0.99)}


def _run(action: str, **extra) -> tuple[float, str]:
    out, err = io.StringIO(), io.StringIO()
    started = time.perf_counter()
    code = commands.run(argparse.Namespace(action=action, **extra), out, err)
    seconds = time.perf_counter() - started
    if code != 0:
        sys.exit(f"keys {action} failed ({code}): {err.getvalue()}")
    return seconds, out.getvalue().strip()


def main() -> None:
    first = HOME / "master-1.key"
    FileKeyProvider(first, create=True).master_key()
    settings.VAULT_MASTER_KEY_FILE = str(first)
    settings.VAULT_PREVIOUS_MASTER_KEY_FILES = []
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    client_rows = _seed(ARGS.credentials, ARGS.clients)
    seed_seconds = time.perf_counter() - started
    total = Credential.objects.count()

    reveal_ms = _reveals(ARGS.reveals) if ARGS.reveals else None

    second = HOME / "master-2.key"
    FileKeyProvider(second, create=True).master_key()
    settings.VAULT_MASTER_KEY_FILE = str(second)
    settings.VAULT_PREVIOUS_MASTER_KEY_FILES = [str(first)]
    rewrap_seconds, rewrap_said = _run("rewrap")

    rotate_seconds = 0.0
    for client in client_rows:
        seconds, _ = _run("rotate", client=client.pk, limit=None)
        rotate_seconds += seconds
    assert not Credential.objects.filter(key_version=1).exists(), "some records not rotated"
    sample = Credential.objects.order_by("?").first()
    assert credentials.open_values(sample)["secret"].startswith("secret-")

    print(
        json.dumps(
            {
                "database": connection.vendor,
                "credentials": total,
                "clients": ARGS.clients,
                "seed_seconds": round(seed_seconds, 2),
                "rewrap_seconds": round(rewrap_seconds, 3),
                "rewrap_data_keys_per_s": round(ARGS.clients / rewrap_seconds, 1),
                "rewrap_credentials_per_s": round(total / rewrap_seconds, 1),
                "rewrap_output": rewrap_said,
                "rotate_seconds": round(rotate_seconds, 2),
                "rotate_credentials_per_s": round(total / rotate_seconds, 1),
                "reveal_ms": reveal_ms,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()

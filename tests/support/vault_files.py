"""Helpers of the vault's file tests: a folder tree of Acme's and an upload through the API."""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.core.files.base import ContentFile
from django.db import connection

from thirdway.audit.models import Source
from thirdway.vault.services import files
from thirdway.vault.uploads import FileTooLarge

API = "/api/v1/vault/files"


def tree(cast):
    """Acme's root with Contracts/2026 and Globex's root."""
    root = files.root_of(cast.acme)
    contracts = files.create_folder(None, root, "Contracts", source=Source.CLI)
    year = files.create_folder(None, contracts, "2026", source=Source.CLI)
    return root, contracts, year


def put(folder, name: str, data: bytes):
    return files.upload_file(None, folder, name, ContentFile(data), source=Source.CLI)


def upload(client, folder_id: int, name: str, data: bytes, **extra):
    payload = {"folder": folder_id, "file": ContentFile(data, name="upload.bin")}
    if name is not None:
        payload["name"] = name
    return client.post(API, data=payload, **extra)


def parallel_puts(use, target_of: Callable[[int], object], count: int = 8) -> list[str]:
    """``count`` uploads of 3,000 bytes started at once, each in a thread with a connection of
    its own (``use`` from the ``threads_db`` fixture), upload ``n`` into ``target_of(n)``;
    what became of each: "stored" or "refused"."""
    outcomes: list[str] = []
    start = threading.Barrier(count)

    def send(number: int) -> None:
        try:
            with use():
                start.wait()
                put(target_of(number), f"part-{number}.bin", bytes([number]) * 3000)
        except FileTooLarge:
            outcomes.append("refused")
        else:
            outcomes.append("stored")
        finally:
            connection.close()

    workers = [threading.Thread(target=send, args=(n,)) for n in range(count)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return outcomes

"""Helpers of the vault's file tests: a folder tree of Acme's and an upload through the API."""

from __future__ import annotations

from django.core.files.base import ContentFile

from thirdway.audit.models import Source
from thirdway.vault.services import files

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

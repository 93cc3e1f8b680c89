"""The vault's fixtures: a master key file of the test's own, and a credential of Acme's."""

from __future__ import annotations

from pathlib import Path

import pytest

from support.vault import SECRET, SEED, write_key
from thirdway.audit.models import Source
from thirdway.vault.services import credentials


@pytest.fixture
def master_key(settings, tmp_path) -> Path:
    """The current master key is a file of the test's own (as systemd credentials give it)."""
    path = write_key(tmp_path / "master.key")
    settings.VAULT_MASTER_KEY_FILE = str(path)
    settings.VAULT_PREVIOUS_MASTER_KEY_FILES = []
    return path


@pytest.fixture
def firewall(cast, master_key):
    """Acme's firewall login, with notes and a TOTP seed."""
    return credentials.create_credential(
        cast.partner,
        cast.acme,
        name="Firewall",
        username="admin",
        secret=SECRET,
        url="https://fw.acme.example",
        notes="Serial FW-1234",
        totp_seed=SEED,
        site_id=cast.acme_site.pk,
        source=Source.CLI,
    )


@pytest.fixture
def globex_router(cast, master_key):
    return credentials.create_credential(
        cast.admin, cast.globex, name="Router", secret="globex-secret", source=Source.CLI
    )

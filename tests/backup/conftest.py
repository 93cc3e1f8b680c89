"""A demo installation made once for the package (on each worker that runs its tests), its
backup, and empty installations to restore
into; on the PostgreSQL run each has a database of its own, dropped afterwards."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from support.installations import (
    Installation,
    copy_installation,
    new_installation,
    remove,
)

DEMO_PASSWORD = "thirdway-demo-2026"


@pytest.fixture(scope="package")
def demo(tmp_path_factory, migrated) -> Installation:
    """The small demo, loaded by ``thirdway demo`` into a migrated installation (the slow part:
    once per package on each worker)."""
    installation = new_installation(tmp_path_factory.mktemp("demo") / "home", migrated)
    loaded = installation.run("demo")
    assert loaded.returncode == 0, loaded.stderr
    installation.logins = re.findall(rf"│ [^│]+ │ (\S+)\s+│ {DEMO_PASSWORD} │", loaded.stdout)
    assert len(installation.logins) == 6, loaded.stdout
    yield installation
    remove(installation)


@pytest.fixture(scope="package")
def demo_backup(demo, tmp_path_factory) -> Path:
    """One backup of the demo, with its secret key written apart."""
    folder = tmp_path_factory.mktemp("backups")
    taken = demo.run("backup", "--to", str(folder), "--with-secrets")
    assert taken.returncode == 0, taken.stderr
    (archive,) = folder.glob("*.tar.gz")
    return archive


@pytest.fixture
def empty(tmp_path):
    """An empty installation to restore into."""
    installation = new_installation(tmp_path / "restored")
    yield installation
    remove(installation)


@pytest.fixture
def demo_copy(demo, tmp_path):
    """A copy of the demo installation this test may change."""
    installation = copy_installation(demo, tmp_path / "copy")
    installation.logins = demo.logins
    yield installation
    remove(installation)

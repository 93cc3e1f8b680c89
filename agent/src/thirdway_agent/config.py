"""The agent's configuration file: the server, the agent's id and secret, and where it keeps
its buffer.  Written with mode 0600 (it holds the secret), replaced atomically."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

DEFAULT_PATH = Path("/etc/thirdway-agent/config.json")
DEFAULT_STATE_DIR = Path("/var/lib/thirdway-agent")


@dataclass
class Config:
    server: str
    agent_id: int
    secret: str
    state_dir: str
    # How long and how many results are kept while the server cannot be reached.
    buffer_max_age_seconds: int = 3600
    buffer_max_count: int = 10_000
    # The machine's own switch: when true, no script of the server's library runs here.
    refuse_scripts: bool = False


def load(path: Path) -> Config:
    data = json.loads(path.read_text())
    return Config(**data)


def save(config: Config, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".new")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(asdict(config), out, indent=2)
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)

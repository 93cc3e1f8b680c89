"""What the vault's tests share: a master key file written like systemd credentials give it."""

from __future__ import annotations

import base64
import os
from pathlib import Path

SECRET = "Tr0ub4dor&3-firewall"
SEED = "JBSWY3DPEHPK3PXP"


def write_key(path: Path) -> Path:
    path.write_bytes(base64.b64encode(os.urandom(32)))
    path.chmod(0o600)
    return path

"""Time-based one-time codes (RFC 6238) from a stored seed: the code, never the seed, is shown.

Pure: imports no Django and nothing of ours.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct
import time
from dataclasses import dataclass

PERIOD = 30
DIGITS = 6
MAX_SEED = 128


@dataclass(frozen=True)
class Code:
    code: str
    seconds_left: int


def normalised_seed(seed: str) -> str:
    """The seed as upper-case base32 without spaces; ValueError when it is not base32."""
    text = "".join(seed.split()).upper().rstrip("=")
    if not text or len(text) > MAX_SEED:
        raise ValueError(f"a base32 seed of 1 to {MAX_SEED} characters")
    try:
        base64.b32decode(text + "=" * (-len(text) % 8))
    except (binascii.Error, ValueError):
        raise ValueError("a base32 seed (letters A–Z and digits 2–7)") from None
    return text


def _hotp(key: bytes, counter: int) -> str:
    """RFC 4226: HMAC-SHA1 of the counter, dynamically truncated to ``DIGITS`` digits."""
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10**DIGITS).zfill(DIGITS)


def current_code(seed: str, at: float | None = None) -> Code:
    """The code of a normalised seed at ``at`` (now by default), and how long it holds."""
    moment = int(time.time() if at is None else at)
    key = base64.b32decode(seed + "=" * (-len(seed) % 8))
    return Code(code=_hotp(key, moment // PERIOD), seconds_left=PERIOD - moment % PERIOD)

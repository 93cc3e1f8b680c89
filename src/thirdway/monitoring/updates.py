"""The age of pending security updates, for the agent's pending updates checks.

Where the machine's package manager names its pending security updates (apt: the packages of
a "-security" suite), the agent sends their names with each result.  The server records when
each was first reported pending (on the check, ``pending_security``), forgets those no longer
pending, and reports the age of the oldest; past the check's ``security_age_days`` the result
is critical whatever the count.  The age counts from the first report: a machine enrolled with
updates already waiting starts at 0 days.
"""

from __future__ import annotations

import datetime as dt

from thirdway.monitoring import engine
from thirdway.monitoring.models import Check, CheckKind

MAX_PACKAGES = 500
DAY = 86_400


def note_pending(check: Check, names: list[str] | None, at: dt.datetime) -> float | None:
    """Record the security updates reported pending at ``at``; the age in days of the oldest
    (None when the agent could not tell, 0 when none is pending).  A result older than the
    check's last one (a buffered result sent late) only moves first reports earlier."""
    if check.kind != CheckKind.AGENT_UPDATES or names is None:
        return None
    seen = {name: dt.datetime.fromisoformat(when) for name, when in check.pending_security.items()}
    given = list(dict.fromkeys(name.strip() for name in names if name.strip()))[:MAX_PACKAGES]
    late = check.last_result_at is not None and at < check.last_result_at
    kept = dict(seen) if late else {}
    for name in given:
        before = seen.get(name)
        kept[name] = min(before, at) if before is not None else at
    check.pending_security = {name: when.isoformat() for name, when in kept.items()}
    current = [kept[name] for name in given]
    if not current:
        return 0.0
    return max(0.0, (at - min(current)).total_seconds() / DAY)


def judged(
    check: Check, status: engine.Status, output: str, age: float | None
) -> tuple[engine.Status, str]:
    """The status and output with the age of the oldest pending security update."""
    if age is None:
        return status, output
    text = f"{output.rstrip('.')}; oldest security update pending {age:.1f} day(s)."
    limit = check.security_age_days
    if limit is not None and age > limit:
        text = f"{text} More than {limit} day(s)."
        if status in (engine.Status.OK, engine.Status.WARNING):
            status = engine.Status.CRITICAL
    return status, text[:500]

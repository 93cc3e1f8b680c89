"""Running the server's own checks when they are due, a few at a time, each with its timeout.

Each due check is claimed with a conditional UPDATE of its ``next_run_at`` (so two workers
never run one check twice), probed in a small thread pool (the probes only wait on the
network), and its result recorded at the moment the probe started.
"""

from __future__ import annotations

import datetime as dt
import logging
from concurrent.futures import ThreadPoolExecutor

from django.utils import timezone

from thirdway.clients.certificates import certificate_seen
from thirdway.monitoring import dns_check, engine, evaluation, probes
from thirdway.monitoring.models import SERVER_KINDS, Check, CheckKind, CheckStatus
from thirdway.monitoring.services import thresholds_of
from thirdway.tickets.webhooks.guard import allowance_of

logger = logging.getLogger(__name__)
BATCH = 200
THREADS = 8


def _allowed(check: Check) -> frozenset[str]:
    """The one host and port a practice admin allowed, if they did."""
    if not check.allow_private_target:
        return frozenset()
    if check.kind == CheckKind.HTTP:
        return frozenset({allowance_of(check.target)})
    host = check.target.strip()
    return frozenset({f"[{host}]:{check.port}" if ":" in host else f"{host}:{check.port}"})


def probe(check: Check, now: dt.datetime) -> probes.Seen:
    """Run one check's probe; a TLS certificate's days left are judged by its thresholds."""
    timeout = float(check.timeout_seconds)
    if check.kind == CheckKind.DNS:
        return dns_check.probe(check, timeout)
    if check.kind == CheckKind.HTTP:
        return probes.http(
            check.target,
            expected_status=check.expected_status,
            body_contains=check.body_contains,
            timeout=timeout,
            allowed=_allowed(check),
        )
    assert check.port is not None
    if check.kind == CheckKind.TCP:
        return probes.tcp(check.target, check.port, timeout=timeout, allowed=_allowed(check))
    cert, failed = probes.certificate(
        check.target, check.port, timeout=timeout, allowed=_allowed(check)
    )
    if failed is not None:
        return failed
    assert cert is not None
    left = probes.days_left(cert, now)
    previous = engine.Status(check.status) if check.status != CheckStatus.PENDING else None
    status = engine.classify(left, thresholds_of(check), previous or engine.Status.OK)
    seen = probes.seen_certificate(cert, check.target, check.port)
    return probes.Seen(status, probes.describe(cert, now), left, certificate=seen)


def _probe_safely(check: Check, now: dt.datetime) -> probes.Seen:
    """A probe that fails in a way nobody foresaw is an unknown result, not a stopped run."""
    try:
        return probe(check, now)
    except Exception as exc:
        logger.exception("The check %s could not run.", check.pk)
        return probes.Seen(engine.Status.UNKNOWN, f"The check could not run: {exc}"[:500])


def claim_due(now: dt.datetime) -> list[Check]:
    due = Check.objects.filter(
        kind__in=SERVER_KINDS,
        is_paused=False,
        next_run_at__lte=now,
    ).order_by("next_run_at")[:BATCH]
    claimed = []
    for check in due:
        # Claimed for its timeout and a margin; the recorded result sets the real next run.
        hold = now + dt.timedelta(seconds=check.timeout_seconds + 60)
        won = Check.objects.filter(pk=check.pk, next_run_at=check.next_run_at).update(
            next_run_at=hold
        )
        if won:
            claimed.append(check)
    return claimed


def run_due_checks(now: dt.datetime | None = None) -> int:
    """Probe every due check (up to ``BATCH``), record the results; how many ran."""
    now = now or timezone.now()
    claimed = claim_due(now)
    if not claimed:
        return 0
    with ThreadPoolExecutor(max_workers=min(THREADS, len(claimed))) as pool:
        seen = list(pool.map(lambda check: _probe_safely(check, now), claimed))
    for check, result in zip(claimed, seen, strict=True):
        try:
            recorded = evaluation.record_result(
                check.pk, result.status, output=result.output, value=result.value, collected_at=now
            )
        except Exception:  # one check's trouble never stops the others'
            logger.exception("The result of check %s could not be recorded.", check.pk)
            continue
        if result.certificate is not None:
            certificate_seen(check.client_id, result.certificate, source=f"check:{check.pk}")
        upcoming = evaluation.load_state(recorded).next_run_at(evaluation.policy_of(recorded))
        Check.objects.filter(pk=check.pk).update(next_run_at=upcoming or now)
    return len(claimed)

"""The practice's thresholds: the one writer of ``InsightThresholds``, and how the reports, the
ratings and the settings page read them."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from thirdway.audit.services import record
from thirdway.errors import invalid, require_admin
from thirdway.insights.models import THRESHOLD_BOUNDS, InsightThresholds
from thirdway.insights.report_advice import Thresholds

NAMES = tuple(THRESHOLD_BOUNDS)
WHOLE = frozenset(NAMES) - {"csat_low_average"}


def current() -> InsightThresholds:
    return InsightThresholds.current()


def for_reports(found: InsightThresholds | None = None) -> Thresholds:
    """The thresholds a client report is computed with (the pure engine's shape)."""
    found = found or current()
    return Thresholds(
        sla_target=found.sla_target_percent / 100,
        repeat_asset=found.repeat_asset_tickets,
        repeat_subject=found.repeat_subject_tickets,
        repeat_alerts=found.repeat_check_alerts,
        expiry_horizon_days=found.expiry_horizon_days,
        expiry_soon_days=found.expiry_soon_days,
        csat_low_average=found.csat_low_average,
        csat_min_count=found.csat_min_count,
    )


def allowed(name: str) -> str:
    _, least, most = THRESHOLD_BOUNDS[name]
    kind = "a whole number" if name in WHOLE else "a number"
    return f"{kind} from {least:g} to {most:g}"


def _checked(name: str, value: object) -> int | float:
    if name not in THRESHOLD_BOUNDS:
        raise invalid(name, "No such threshold.", ", ".join(NAMES))
    _, least, most = THRESHOLD_BOUNDS[name]
    whole = isinstance(value, int) and not isinstance(value, bool)
    number = whole or (isinstance(value, float) and name not in WHOLE)
    if not number or not least <= value <= most:  # type: ignore[operator]
        raise invalid(name, f"{value!r} is out of bounds.", allowed(name))
    return value  # type: ignore[return-value]


@transaction.atomic
def set_thresholds(actor, changes: dict[str, object], *, source: str) -> InsightThresholds:
    """Change the thresholds named in ``changes`` (the others stay); each is checked against its
    bounds, and an expiration recommended for renewal is always one the report lists."""
    require_admin(actor)
    checked = {name: _checked(name, value) for name, value in changes.items()}
    found = current()
    before = {name: getattr(found, name) for name in NAMES}
    for name, value in checked.items():
        setattr(found, name, value)
    if found.expiry_soon_days > found.expiry_horizon_days:
        raise invalid(
            "expiry_soon_days",
            "Renewal is recommended only for expirations the report lists.",
            f"at most the days listed as risks ({found.expiry_horizon_days})",
        )
    try:
        found.full_clean()
    except ValidationError as error:  # the bounds above are the model's: kept in step
        raise invalid("thresholds", "; ".join(error.messages), "see each field's bounds") from None
    found.save()
    after = {name: getattr(found, name) for name in NAMES}
    changed = {name: [before[name], after[name]] for name in NAMES if before[name] != after[name]}
    record(actor, "insights.thresholds", found, source=source, changes=changed)
    return found

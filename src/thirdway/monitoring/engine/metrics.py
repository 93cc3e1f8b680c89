"""A measured value (disk used, days before a certificate expires) as a status, with hysteresis.

A check whose value crossed its threshold stays in that state until the value passes a separate
*recovery* threshold: a disk that turned critical at 95 % stays critical until it is back under,
say, 90 %, so a value wandering around 95 % does not open and resolve an alert every minute.
With ``higher_is_worse`` false the comparisons turn round (free space, days left).
"""

from __future__ import annotations

from dataclasses import dataclass

from thirdway.monitoring.engine.states import Status


@dataclass(frozen=True)
class Thresholds:
    warning: float | None = None
    critical: float | None = None
    # Where a warning or critical state ends; None: the threshold itself (no hysteresis).
    warning_recovery: float | None = None
    critical_recovery: float | None = None
    higher_is_worse: bool = True

    def problems(self) -> list[tuple[str, str]]:
        """(field, what is wrong) for thresholds that contradict each other."""
        found = []
        sign = 1 if self.higher_is_worse else -1
        worse = "above" if self.higher_is_worse else "below"
        if self.warning is None and self.critical is None:
            found.append(("warning", "Give a warning or a critical threshold (or both)."))
        both = self.warning is not None and self.critical is not None
        if both and sign * (self.critical - self.warning) < 0:  # type: ignore[operator]
            found.append(("critical", f"The critical threshold must be {worse} the warning."))
        for level, recovery, name in (
            (self.warning, self.warning_recovery, "warning_recovery"),
            (self.critical, self.critical_recovery, "critical_recovery"),
        ):
            if recovery is not None and (level is None or sign * (level - recovery) < 0):
                better = "below" if self.higher_is_worse else "above"
                found.append((name, f"A recovery threshold must be {better} its threshold."))
        return found


def _beyond(value: float, limit: float | None, sign: int) -> bool:
    return limit is not None and sign * (value - limit) >= 0


def _still_beyond(value: float, recovery: float | None, limit: float | None, sign: int) -> bool:
    """Not yet recovered: the value has not gone past the recovery threshold (strictly)."""
    edge = recovery if recovery is not None else limit
    return edge is not None and sign * (value - edge) >= 0


def classify(value: float, thresholds: Thresholds, previous: Status) -> Status:
    """The status of ``value``, given the check's previous status (for the recovery edges)."""
    sign = 1 if thresholds.higher_is_worse else -1
    if _beyond(value, thresholds.critical, sign):
        return Status.CRITICAL
    if previous is Status.CRITICAL and _still_beyond(
        value, thresholds.critical_recovery, thresholds.critical, sign
    ):
        return Status.CRITICAL
    if _beyond(value, thresholds.warning, sign):
        return Status.WARNING
    if previous in (Status.CRITICAL, Status.WARNING) and _still_beyond(
        value, thresholds.warning_recovery, thresholds.warning, sign
    ):
        return Status.WARNING
    return Status.OK

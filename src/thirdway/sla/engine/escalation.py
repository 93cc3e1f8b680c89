"""Escalations: which steps of a policy a clock's state has reached and not yet fired."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from itertools import pairwise

from thirdway.sla.engine.clocks import ClockState


class EscalationError(ValueError):
    """Escalation steps are invalid (out of range, out of order or duplicated)."""


@dataclass(frozen=True, slots=True)
class EscalationStep:
    """Fire ``action`` once ``percent`` % of the target has elapsed (100 = at breach)."""

    percent: int
    action: str

    def __post_init__(self) -> None:
        if type(self.percent) is not int or not 1 <= self.percent <= 100:
            raise EscalationError(
                f"escalation percent {self.percent!r} is out of range: expected an integer "
                "from 1 to 100 (100 fires at the breach; later steps are not supported)"
            )
        if not isinstance(self.action, str) or not self.action.strip():
            raise EscalationError(
                f"escalation action must be a non-empty string, got {self.action!r}"
            )


@dataclass(frozen=True, slots=True)
class EscalationPolicy:
    """Ordered escalation steps; percents must be strictly increasing."""

    steps: tuple[EscalationStep, ...]

    def __post_init__(self) -> None:
        steps = tuple(self.steps)
        for step in steps:
            if not isinstance(step, EscalationStep):
                raise EscalationError(f"escalation steps must be EscalationStep, got {step!r}")
        for earlier, later in pairwise(steps):
            if later.percent <= earlier.percent:
                raise EscalationError(
                    f"escalation steps must have strictly increasing percents: "
                    f"{later.percent}% ({later.action!r}) comes after {earlier.percent}% "
                    f"({earlier.action!r})"
                )
        object.__setattr__(self, "steps", steps)

    def due(self, state: ClockState, fired: Collection[int] = ()) -> tuple[EscalationStep, ...]:
        """Steps reached by ``state`` whose percent is not in ``fired``, in order."""
        # Integer comparison: percent% of the target is reached iff 100*elapsed >= p*target.
        reached = 100 * state.elapsed_seconds
        target = state.target_seconds
        return tuple(
            step
            for step in self.steps
            if step.percent * target <= reached and step.percent not in fired
        )


def due_escalations(
    state: ClockState,
    steps: EscalationPolicy | Sequence[EscalationStep],
    fired: Collection[int] = (),
) -> tuple[EscalationStep, ...]:
    """The escalation steps to fire now, in order, never one whose percent is in ``fired``.

    A clock that jumped past several thresholds since the last evaluation gets all of them.
    Callers persist the percents they fire and pass them back as ``fired``, which makes
    repeated evaluation idempotent.  A plain sequence of steps is validated like a policy.
    """
    policy = steps if isinstance(steps, EscalationPolicy) else EscalationPolicy(tuple(steps))
    return policy.due(state, fired)

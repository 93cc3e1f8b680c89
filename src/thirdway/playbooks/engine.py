"""The rules of a run's steps: what evidence completes a step, and which steps are held.

Pure: the services hand in plain values and raise what this returns as a 400.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

NONE = "none"
CHECKBOX = "checkbox"
TEXT = "text"
VALUE = "value"
FILE = "file"
YES_NO = "yes_no"
EVIDENCE_KINDS = (NONE, CHECKBOX, TEXT, VALUE, FILE, YES_NO)
MAX_EVIDENCE = 5000
MAX_REFERENCE = 500
ALLOWED = {
    NONE: "nothing",
    CHECKBOX: "the box ticked (true)",
    TEXT: f"some text, up to {MAX_EVIDENCE} characters",
    VALUE: "a number, such as 12 or 99.5",
    FILE: f"a file reference (vault document, path or URL), {MAX_REFERENCE} characters at most",
    YES_NO: "yes or no",
}


class EvidenceRefused(ValueError):
    def __init__(self, problem: str, allowed: str) -> None:
        super().__init__(problem)
        self.problem = problem
        self.allowed = allowed


def evidence_kept(kind: str, given: str | bool | None) -> str:
    """The evidence to keep for a step asking for ``kind``, or :class:`EvidenceRefused`."""
    if kind == NONE:
        return "" if given in (None, "", False) else str(given).strip()[:MAX_EVIDENCE]
    if kind == CHECKBOX:
        if given is True or (isinstance(given, str) and given.lower() in ("true", "on", "yes")):
            return "checked"
        raise EvidenceRefused("Tick the box to confirm this step.", ALLOWED[CHECKBOX])
    text = "" if given is None or isinstance(given, bool) else str(given).strip()
    if kind == YES_NO:
        if text.lower() not in ("yes", "no"):
            raise EvidenceRefused("Answer yes or no.", ALLOWED[YES_NO])
        return text.lower()
    if not text:
        raise EvidenceRefused("This step needs evidence.", ALLOWED[kind])
    if kind == VALUE:
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise EvidenceRefused(f"{text[:40]!r} is not a number.", ALLOWED[VALUE]) from None
        if not number.is_finite() or len(text) > 40:
            raise EvidenceRefused("The value is out of range.", ALLOWED[VALUE])
        return str(number)
    limit = MAX_REFERENCE if kind == FILE else MAX_EVIDENCE
    if len(text) > limit:
        raise EvidenceRefused(f"The evidence is {len(text)} characters long.", ALLOWED[kind])
    return text


@dataclass(frozen=True)
class StepState:
    position: int
    title: str
    blocking: bool
    done: bool


def holding(steps: Sequence[StepState], position: int) -> StepState | None:
    """The first blocking step before ``position`` that is not done (it holds this one)."""
    for step in sorted(steps, key=lambda s: s.position):
        if step.position >= position:
            return None
        if step.blocking and not step.done:
            return step
    return None

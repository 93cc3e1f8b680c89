"""How figures read on the insights pages: a dash for nothing measured, shares as percents."""

from __future__ import annotations

from django import template

register = template.Library()
NOTHING = "–"


@register.filter
def figure(value: float | None, places: int = 1) -> str:
    if value is None:
        return NOTHING
    return f"{value:.{places}f}".rstrip("0").rstrip(".") if places else f"{value:.0f}"


@register.filter
def percent(value: float | None) -> str:
    return NOTHING if value is None else f"{value * 100:.0f}%"

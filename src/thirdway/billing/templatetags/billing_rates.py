"""``{{ multiplier|times }}``: an after-hours multiplier as the invoice says it (times 1.5)."""

from __future__ import annotations

from decimal import Decimal

from django import template

from thirdway.billing.after_hours import describe

register = template.Library()


@register.filter
def times(multiplier: Decimal) -> str:
    return describe(Decimal(multiplier))

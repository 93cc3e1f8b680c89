"""The split of revenue between the partners of a practice: pure Python, no Django.

:func:`~thirdway.billing.engine.split.split_line` takes one invoice line's net amount, the
practice's rules and the facts behind the line (who brought the client, who did the work, who
resolved its tickets) and returns the shares, which always sum to the line to the cent.
"""

from thirdway.billing.engine.money import allocate, cents, to_money
from thirdway.billing.engine.split import (
    DELIVERY_BASES,
    RULES,
    LineFacts,
    Recipient,
    RulesRefused,
    Share,
    SplitRules,
    split_line,
)

__all__ = [
    "DELIVERY_BASES",
    "RULES",
    "LineFacts",
    "Recipient",
    "RulesRefused",
    "Share",
    "SplitRules",
    "allocate",
    "cents",
    "split_line",
    "to_money",
]

"""Paging for very long lists: counting a million rows costs more than showing fifty of them."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.utils.functional import cached_property

COUNT_CAP = 10_000


class CappedPaginator(Paginator):
    """Counts at most ``cap`` rows (through a LIMIT sub-select); past that the list says "+"."""

    def __init__(self, object_list, per_page, cap: int = COUNT_CAP, **kwargs) -> None:
        super().__init__(object_list, per_page, **kwargs)
        self.cap = cap

    @cached_property
    def count(self) -> int:
        return self.object_list.order_by()[: self.cap + 1].count()

    @property
    def capped(self) -> bool:
        return self.count > self.cap

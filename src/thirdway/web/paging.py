"""Paging for very long lists: counting a million rows costs more than showing fifty of them."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db import connection
from django.db.models.sql.where import AND
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


def without_repeats(queryset):
    """``queryset`` with each of its top-level conditions once.

    A branch of an access rule and the queue filtered within it may both say "unassigned, in
    these practices"; PostgreSQL then counts the selectivity of each twice and, guessing a few
    rows where there are thousands, reads the table instead of an index.
    """
    where = queryset.query.where
    if where.connector != AND or where.negated:
        return queryset
    once = []
    for condition in where.children:
        if condition not in once:
            once.append(condition)
    if len(once) == len(where.children):
        return queryset
    queryset = queryset.all()
    queryset.query.where.children = once
    return queryset


def _term(item) -> tuple[str, bool, bool]:
    """A term of an ordering (``"-name"`` or ``F("name").asc(nulls_last=True)``) as its field,
    whether it descends, and whether missing values come last (PostgreSQL's default:
    last ascending, first descending)."""
    if isinstance(item, str):
        descending = item.startswith("-")
        return item.lstrip("-"), descending, not descending
    descending = item.descending
    nulls_last = item.nulls_last or (not descending and not item.nulls_first)
    return item.expression.name, descending, bool(nulls_last)


def _sort_key(value, descending: bool, nulls_last: bool) -> tuple:
    missing = value is None
    # Sorted in reverse when descending, so the flag that puts missing values last flips too.
    return (missing != descending if nulls_last else missing == descending, value)


class UnionPaginator(CappedPaginator):
    """Pages over the union of querysets of one model (the branches of an access rule).

    Each branch is asked, in the list's order, for just the ids and sort keys the page needs
    (so each can walk its own index), the lists are merged (by the database in a UNION, or
    here), and only the page's rows are then read through ``rows(ids)``.  A page costs one
    query for the ids (one per branch where the database cannot order and limit each part of
    a UNION, as SQLite), one for the count, and those of ``rows``: the same however long the
    list.  ``ordering`` names fields (``-`` for descending) or orders them
    (``F(...).asc(nulls_last=True)``) and ends with a unique one.
    """

    def __init__(self, branches, per_page, ordering, rows, cap: int = COUNT_CAP, **kwargs) -> None:
        super().__init__((), per_page, cap=cap, **kwargs)
        self.branches = [without_repeats(branch.order_by()) for branch in branches]
        self.ordering = list(ordering)
        self.rows = rows

    @cached_property
    def count(self) -> int:
        if len(self.branches) == 1:
            return self.branches[0][: self.cap + 1].count()
        # Each branch stops at the cap where the database allows a LIMIT inside a UNION.
        sliced = connection.features.supports_slicing_ordering_in_compound
        first, *others = (
            branch.values("pk")[: self.cap + 1] if sliced else branch.values("pk")
            for branch in self.branches
        )
        return first.union(*others)[: self.cap + 1].count()

    def _ids(self, bottom: int, top: int) -> list:
        if len(self.branches) == 1:
            ordered = self.branches[0].order_by(*self.ordering)
            return list(ordered.values_list("pk", flat=True)[bottom:top])
        terms = [_term(item) for item in self.ordering]
        fields = [field for field, _, _ in terms]
        firsts = [
            branch.order_by(*self.ordering).values_list("pk", *fields)[:top]
            for branch in self.branches
        ]
        if connection.features.supports_slicing_ordering_in_compound:
            # One query: the database merges the branches' first rows and keeps the page's.
            first, *others = firsts
            merged = first.union(*others).order_by(*self.ordering)[bottom:top]
            return [row[0] for row in merged]
        keyed = {row[0]: row[1:] for rows in firsts for row in rows}
        order = list(keyed.items())
        for position in reversed(range(len(terms))):  # stable sorts, last key first
            _, descending, nulls_last = terms[position]
            order.sort(
                key=lambda item, p=position: _sort_key(item[1][p], descending, nulls_last),
                reverse=descending,
            )
        return [pk for pk, _ in order[bottom:top]]

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        ids = self._ids(bottom, top) if top > bottom else []
        found = {row.pk: row for row in self.rows(ids)} if ids else {}
        return self._get_page([found[pk] for pk in ids if pk in found], number, self)

"""Where secrets sealed under the network's data key live.

They belong to rooms above the vault (the IMAP passwords of the desk's mailboxes, in the mail
room), which the vault does not import: each such room names its sealed columns here at
start-up (in its ``apps.py``), so ``thirdway keys rotate --network`` can seal them anew.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import models


@dataclass(frozen=True)
class SealedColumn:
    """One column of network-sealed values: the ciphertext, the key version it was sealed
    under, the field name bound into the seal, and the record name a row's id gives."""

    model: type[models.Model]
    column: str
    version_column: str
    field_name: str
    record: Callable[[int], str]
    label: str

    def rows(self, below: int):
        """(id, ciphertext, version) of the rows sealed under a version below ``below``."""
        return (
            self.model._default_manager.filter(**{f"{self.version_column}__lt": below})
            .exclude(**{self.column: ""})
            .order_by("pk")
            .values_list("pk", self.column, self.version_column)
        )


_COLUMNS: list[SealedColumn] = []


def seals_network_secrets(column: SealedColumn) -> None:
    """Name a column whose values are sealed under the network's data key."""
    if all((known.model, known.column) != (column.model, column.column) for known in _COLUMNS):
        _COLUMNS.append(column)


def sealed_columns() -> list[SealedColumn]:
    return list(_COLUMNS)

"""The only writers of the vault's tables, one module per kind of record."""

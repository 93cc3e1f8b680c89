"""Search within a client's documentation pages (what the viewer may see of them)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

MAX_WORDS = 10


def search(documents: QuerySet, text: str) -> QuerySet:
    """The pages whose title or text holds every word of ``text`` (any case)."""
    for word in text.split()[:MAX_WORDS]:
        documents = documents.filter(Q(title__icontains=word) | Q(body__icontains=word))
    return documents

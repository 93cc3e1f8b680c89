"""Documentation pages: a client's pages with search, one page, its history and diffs."""

from __future__ import annotations

import difflib

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.safestring import mark_safe

from thirdway.audit.models import Source
from thirdway.vault.access import can_keep
from thirdway.vault.forms import DocumentForm, DocumentSearchForm
from thirdway.vault.markdown import render as render_markdown
from thirdway.vault.models import Document, DocumentKind
from thirdway.vault.search import search
from thirdway.vault.services import documents as services
from thirdway.vault.templates_library import starter
from thirdway.vault.views.common import client_context, client_of, save_form


def _document(request: HttpRequest, document_id: int) -> Document:
    return get_object_or_404(
        Document.objects.for_user(request.user).select_related("client", "site", "asset"),
        pk=document_id,
    )


@login_required
def document_list(request: HttpRequest, client_id: int) -> HttpResponse:
    client = client_of(request, client_id)
    form = DocumentSearchForm(request.GET or None)
    documents = Document.objects.for_user(request.user).filter(client=client)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    if query:
        documents = search(documents, query)
    context = {
        **client_context(request, client, "documents"),
        "form": form,
        "query": query,
        "documents": documents.select_related("site", "asset").only(
            "title", "kind", "visibility", "version", "updated_at", "site__name", "asset__name"
        ),
        "kinds": [choice for choice in DocumentKind.choices if choice[0] != "page"],
    }
    return render(request, "vault/document_list.html", context)


@login_required
def document_detail(request: HttpRequest, document_id: int) -> HttpResponse:
    document = _document(request, document_id)
    context = {
        **client_context(request, document.client, "documents"),
        "document": document,
        # The Markdown was rendered with raw HTML refused, then cleaned by nh3.
        "html": mark_safe(render_markdown(document.body)),  # noqa: S308
    }
    return render(request, "vault/document_detail.html", context)


def _save(request, client, form, act, title) -> HttpResponse:
    return save_form(
        request,
        client,
        form,
        act,
        title=title,
        tab="documents",
        done=lambda saved: (
            f"{saved} saved (version {saved.version}).",
            redirect("vault:document_detail", saved.pk),
        ),
    )


@login_required
def document_create(request: HttpRequest, client_id: int) -> HttpResponse:
    client = client_of(request, client_id)
    if not can_keep(request.user, client):
        raise PermissionDenied
    kind = request.GET.get("kind", "page")
    kind = kind if kind in DocumentKind.values else "page"
    title, body = starter(kind)
    form = DocumentForm(
        request.POST or None, client=client, initial={"kind": kind, "title": title, "body": body}
    )

    def act(data):
        return services.create_document(request.user, client, source=Source.WEB, **data)

    return _save(request, client, form, act, f"New page · {client}")


@login_required
def document_edit(request: HttpRequest, document_id: int) -> HttpResponse:
    document = _document(request, document_id)
    if not can_keep(request.user, document.client):
        raise PermissionDenied
    initial = {
        "title": document.title,
        "kind": document.kind,
        "visibility": document.visibility,
        "body": document.body,
        "site": document.site_id,
        "asset": document.asset_id,
    }
    form = DocumentForm(request.POST or None, client=document.client, initial=initial)

    def act(data):
        return services.update_document(request.user, document, data, source=Source.WEB)

    return _save(request, document.client, form, act, f"Change {document}")


def _number(value, default: int) -> int:
    return int(value) if isinstance(value, str) and value.isdigit() and len(value) < 9 else default


@login_required
def document_history(request: HttpRequest, document_id: int) -> HttpResponse:
    """The versions of a page, and the differences between two of them (the last two by
    default)."""
    document = _document(request, document_id)
    versions = list(document.versions.select_related("author"))
    by_number = {version.number: version for version in versions}
    new = by_number.get(_number(request.GET.get("to"), document.version))
    old = by_number.get(_number(request.GET.get("from"), (new.number - 1) if new else 0))
    lines = []
    if old is not None and new is not None:
        lines = [
            (
                "add"
                if line[:1] == "+"
                else "del"
                if line[:1] == "-"
                else "hunk"
                if line[:2] == "@@"
                else "same",
                line,
            )
            for line in difflib.unified_diff(
                f"# {old.title}\n{old.body}".splitlines(),
                f"# {new.title}\n{new.body}".splitlines(),
                f"version {old.number}",
                f"version {new.number}",
                lineterm="",
                n=3,
            )
        ]
    context = {
        **client_context(request, document.client, "documents"),
        "document": document,
        "versions": versions,
        "old": old,
        "new": new,
        "lines": lines,
    }
    return render(request, "vault/document_history.html", context)

"""Documentation pages: write a new page, save a new version of one."""

from __future__ import annotations

from django.db import transaction

from thirdway.audit.services import diff, record, snapshot
from thirdway.errors import invalid
from thirdway.vault.models import Document, DocumentVersion
from thirdway.vault.services._shared import linked, require_keeper, scope

FIELDS = ["title", "kind", "visibility", "site", "asset"]


def _check_body(body: str) -> str:
    if len(body) > Document.MAX_BODY:
        raise invalid("body", "The page is too long.", f"at most {Document.MAX_BODY} characters")
    return body


def _keep_version(actor, document: Document) -> None:
    DocumentVersion.objects.create(
        document=document,
        number=document.version,
        title=document.title,
        body=document.body,
        author=actor,
    )


@transaction.atomic
def create_document(
    actor, client, *, source: str, site_id=None, asset_id=None, body: str = "", **data
) -> Document:
    """Write a client's page (version 1)."""
    require_keeper(actor, client)
    document = Document(
        client=client, body=_check_body(body), **linked(client, site_id, asset_id), **data
    )
    document.full_clean()
    document.save()
    _keep_version(actor, document)
    changes = diff({}, snapshot(document, FIELDS))
    record(actor, "document.create", document, source=source, scope=scope(client), changes=changes)
    return document


@transaction.atomic
def update_document(actor, document: Document, data: dict, *, source: str) -> Document:
    """Save a page anew: a new version when its title or text changed."""
    document = Document.objects.select_for_update().get(pk=document.pk)
    require_keeper(actor, document.client)
    data = dict(data)
    if "site_id" in data or "asset_id" in data:
        data.update(
            linked(
                document.client,
                data.pop("site_id", document.site_id),
                data.pop("asset_id", document.asset_id),
            )
        )
    if "body" in data:
        _check_body(data["body"])
    before = snapshot(document, [*FIELDS, "body"])
    for name, value in data.items():
        setattr(document, name, value)
    document.full_clean()
    changes = diff(before, snapshot(document, [*FIELDS, "body"]))
    if not changes:
        return document
    if "title" in changes or "body" in changes:
        document.version += 1
        _keep_version(actor, document)
    document.save()
    if "body" in changes:
        changes["body"] = [f"version {document.version - 1}", f"version {document.version}"]
    record(
        actor,
        "document.update",
        document,
        source=source,
        scope=scope(document.client),
        changes=changes,
    )
    return document

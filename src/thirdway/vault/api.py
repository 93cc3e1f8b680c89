"""API of the vault: credentials (revealed by a POST with a reason), documentation pages and
their versions, the expirations register."""

import datetime as dt
from typing import Literal

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from thirdway.access import find_visible
from thirdway.audit.models import Source
from thirdway.clients.models import Client
from thirdway.payloads import MAX_QUERY, Id, Page, Payload
from thirdway.vault.crypto import VaultError
from thirdway.vault.models import Credential, Document, ExpiryItem
from thirdway.vault.search import search
from thirdway.vault.services import credentials, documents, expirations, rdap_checks
from thirdway.vault.services._shared import MAX_REASON
from thirdway.vault.services.credentials import MAX_NOTES, MAX_SECRET

router = Router()
SEARCH = Query(None, max_length=MAX_QUERY)
KindName = Literal["page", "firewall", "wifi", "m365", "application", "backup"]
VisibilityName = Literal["network", "client_admins", "client_contacts"]
ExpiryKindName = Literal[
    "domain", "certificate", "licence", "warranty", "contract", "other", "file"
]


def _client(request, client_id: int) -> Client:
    """The client named in a payload, or a 400 naming the field."""
    return find_visible(Client.objects.for_user(request.auth), "client", client_id)


# --- credentials -------------------------------------------------------------------------------


class CredentialOut(Schema):
    id: int
    client_id: int
    site_id: int | None
    asset_id: int | None
    name: str
    username: str
    url: str
    has_totp: bool
    shared_with_client_admins: bool
    secret_changed_at: dt.datetime | None
    updated_at: dt.datetime


class CredentialIn(Payload, extra="forbid"):
    client: Id
    name: str = Field(max_length=150)
    username: str = Field("", max_length=200)
    secret: str = Field("", max_length=MAX_SECRET)
    url: str = Field("", max_length=500)
    notes: str = Field("", max_length=MAX_NOTES)
    totp_seed: str = Field("", max_length=128)
    site: Id | None = None
    asset: Id | None = None
    shared_with_client_admins: bool = False


class CredentialChange(Payload, extra="forbid"):
    """The whole credential; a secret, notes or TOTP seed left null stays as it is."""

    name: str = Field(max_length=150)
    username: str = Field("", max_length=200)
    secret: str | None = Field(None, max_length=MAX_SECRET)
    url: str = Field("", max_length=500)
    notes: str | None = Field(None, max_length=MAX_NOTES)
    totp_seed: str | None = Field(None, max_length=128)
    site: Id | None = None
    asset: Id | None = None
    shared_with_client_admins: bool = False


class RevealIn(Payload, extra="forbid"):
    reason: str = Field(max_length=MAX_REASON)


class TotpOut(Schema):
    code: str
    seconds_left: int


class RevealOut(Schema):
    """A credential's secret fields, once; the reveal is recorded with its reason."""

    id: int
    secret: str
    notes: str
    totp: TotpOut | None


class LockedOut(Schema):
    """The vault cannot open the record (no master key, a wrong one, or tampered data)."""

    detail: str


def _credentials(request):
    return Credential.objects.for_user(request.auth)


def _linked(data: dict) -> dict:
    data["site_id"], data["asset_id"] = data.pop("site", None), data.pop("asset", None)
    if "markdown" in data:  # a page's text ("body" names the request body in errors)
        data["body"] = data.pop("markdown")
    return data


@router.get("/vault/credentials", response=list[CredentialOut])
@paginate(Page)
def list_credentials(request, client: Id | None = None):
    rows = _credentials(request)
    return rows.filter(client_id=client) if client else rows


@router.get("/vault/credentials/{credential_id}", response=CredentialOut)
def get_credential(request, credential_id: int):
    return get_object_or_404(_credentials(request), pk=credential_id)


@router.post("/vault/credentials", response={201: CredentialOut, 503: LockedOut})
def create_credential(request, payload: CredentialIn):
    data = _linked(payload.model_dump())
    client = _client(request, data.pop("client"))
    try:
        made = credentials.create_credential(request.auth, client, source=Source.API, **data)
    except VaultError as error:
        return Status(503, {"detail": str(error)})
    return Status(201, made)


@router.put("/vault/credentials/{credential_id}", response={200: CredentialOut, 503: LockedOut})
def change_credential(request, credential_id: int, payload: CredentialChange):
    credential = get_object_or_404(_credentials(request), pk=credential_id)
    data = _linked(payload.model_dump())
    try:
        return credentials.update_credential(request.auth, credential, data, source=Source.API)
    except VaultError as error:
        return Status(503, {"detail": str(error)})


@router.post("/vault/credentials/{credential_id}/reveal", response={200: RevealOut, 503: LockedOut})
def reveal_credential(request, response: HttpResponse, credential_id: int, payload: RevealIn):
    credential = get_object_or_404(_credentials(request), pk=credential_id)
    response["Cache-Control"] = "no-store"
    try:
        shown = credentials.reveal_credential(
            request.auth, credential, reason=payload.reason, source=Source.API
        )
    except VaultError as error:
        return Status(503, {"detail": str(error)})
    totp = shown.totp and {"code": shown.totp.code, "seconds_left": shown.totp.seconds_left}
    return {"id": credential.pk, "secret": shown.secret, "notes": shown.notes, "totp": totp}


# --- documentation pages -----------------------------------------------------------------------


class DocumentOut(Schema):
    id: int
    client_id: int
    site_id: int | None
    asset_id: int | None
    title: str
    kind: str
    visibility: str
    body: str
    version: int
    updated_at: dt.datetime


class DocumentIn(Payload, extra="forbid"):
    client: Id
    title: str = Field(max_length=200)
    kind: KindName = "page"
    visibility: VisibilityName = "network"
    markdown: str = Field("", max_length=Document.MAX_BODY)
    site: Id | None = None
    asset: Id | None = None


class DocumentChange(Payload, extra="forbid"):
    """The whole page; a new version is kept when its title or text changes."""

    title: str = Field(max_length=200)
    kind: KindName = "page"
    visibility: VisibilityName = "network"
    markdown: str = Field("", max_length=Document.MAX_BODY)
    site: Id | None = None
    asset: Id | None = None


class DocumentVersionOut(Schema):
    number: int
    title: str
    body: str
    author_id: int | None
    created_at: dt.datetime


def _documents(request):
    return Document.objects.for_user(request.auth)


@router.get("/vault/documents", response=list[DocumentOut])
@paginate(Page)
def list_documents(request, client: Id | None = None, q: str | None = SEARCH):
    rows = _documents(request)
    rows = rows.filter(client_id=client) if client else rows
    return search(rows, q) if q else rows


@router.get("/vault/documents/{document_id}", response=DocumentOut)
def get_document(request, document_id: int):
    return get_object_or_404(_documents(request), pk=document_id)


@router.get("/vault/documents/{document_id}/versions", response=list[DocumentVersionOut])
@paginate(Page)
def list_versions(request, document_id: int):
    return get_object_or_404(_documents(request), pk=document_id).versions.all()


@router.post("/vault/documents", response={201: DocumentOut})
def create_document(request, payload: DocumentIn):
    data = _linked(payload.model_dump())
    client = _client(request, data.pop("client"))
    return Status(201, documents.create_document(request.auth, client, source=Source.API, **data))


@router.put("/vault/documents/{document_id}", response=DocumentOut)
def change_document(request, document_id: int, payload: DocumentChange):
    document = get_object_or_404(_documents(request), pk=document_id)
    data = _linked(payload.model_dump())
    return documents.update_document(request.auth, document, data, source=Source.API)


# --- expirations -------------------------------------------------------------------------------


class ExpiryOut(Schema):
    id: int
    client_id: int
    site_id: int | None
    asset_id: int | None
    kind: str
    name: str
    expires_on: dt.date
    reminder_steps: str
    notes: str
    acknowledged: bool
    snoozed_until: dt.date | None
    rdap_state: Literal["", "found", "unknown", "failed"]
    rdap_checked_at: dt.datetime | None
    rdap_message: str
    endpoint: str = Field(description="host:port of a certificate monitoring reads, or empty")
    subject: str
    issuer: str
    seen_at: dt.datetime | None


class ExpiryIn(Payload, extra="forbid"):
    client: Id
    kind: ExpiryKindName
    name: str = Field(max_length=200)
    expires_on: dt.date
    reminder_steps: str = Field("60,30,14,7,1", max_length=60)
    notes: str = Field("", max_length=10_000)
    site: Id | None = None
    asset: Id | None = None


class ExpiryChange(Payload, extra="forbid"):
    """The whole item; a new expiry date starts its reminders again."""

    kind: ExpiryKindName
    name: str = Field(max_length=200)
    expires_on: dt.date
    reminder_steps: str = Field("60,30,14,7,1", max_length=60)
    notes: str = Field("", max_length=10_000)
    site: Id | None = None
    asset: Id | None = None


class SnoozeIn(Payload, extra="forbid"):
    until: dt.date


def _expirations(request):
    return ExpiryItem.objects.for_user(request.auth)


@router.get("/vault/expirations", response=list[ExpiryOut])
@paginate(Page)
def list_expirations(request, client: Id | None = None):
    rows = _expirations(request)
    return rows.filter(client_id=client) if client else rows


@router.get("/vault/expirations/{item_id}", response=ExpiryOut)
def get_expiration(request, item_id: int):
    return get_object_or_404(_expirations(request), pk=item_id)


@router.post("/vault/expirations", response={201: ExpiryOut})
def create_expiration(request, payload: ExpiryIn):
    data = _linked(payload.model_dump())
    client = _client(request, data.pop("client"))
    return Status(201, expirations.create_expiry(request.auth, client, source=Source.API, **data))


@router.put("/vault/expirations/{item_id}", response=ExpiryOut)
def change_expiration(request, item_id: int, payload: ExpiryChange):
    item = get_object_or_404(_expirations(request), pk=item_id)
    data = _linked(payload.model_dump())
    return expirations.update_expiry(request.auth, item, data, source=Source.API)


@router.post("/vault/expirations/{item_id}/acknowledge", response=ExpiryOut)
def acknowledge_expiration(request, item_id: int):
    item = get_object_or_404(_expirations(request), pk=item_id)
    return expirations.acknowledge_expiry(request.auth, item, source=Source.API)


@router.post("/vault/expirations/{item_id}/snooze", response=ExpiryOut)
def snooze_expiration(request, item_id: int, payload: SnoozeIn):
    item = get_object_or_404(_expirations(request), pk=item_id)
    return expirations.snooze_expiry(request.auth, item, payload.until, source=Source.API)


@router.post("/vault/expirations/{item_id}/rdap", response=ExpiryOut)
def check_expiration_by_rdap(request, item_id: int):
    """Ask the registry's RDAP for a domain's expiry date now.  ``rdap_state`` says what came
    of it: ``found`` (the date was taken), ``unknown`` (no date in RDAP: enter it by hand) or
    ``failed`` (``rdap_message`` says why); the date is kept unless one was found."""
    item = get_object_or_404(_expirations(request), pk=item_id)
    return rdap_checks.check_domain(request.auth, item, source=Source.API)

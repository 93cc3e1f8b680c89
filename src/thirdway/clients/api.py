"""API of clients and what they own: sites, contacts and assets."""

from typing import Literal

from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from thirdway.access import find_visible
from thirdway.audit.models import Source
from thirdway.clients import services
from thirdway.clients.models import Asset, Client, Contact, Site
from thirdway.network.services import resolve_partner
from thirdway.payloads import MAX_EMAIL, MAX_NOTES, MAX_PASSWORD, MAX_TEAM, Id, Page, Payload, kept

router = Router()
StatusName = Literal["prospect", "active", "suspended", "former"]
ContactRoleName = Literal["user", "admin"]
AssetKindName = Literal[
    "workstation",
    "laptop",
    "server",
    "network",
    "printer",
    "phone",
    "mobile",
    "cloud",
    "software",
    "other",
]


# --- clients -----------------------------------------------------------------------------------


class ClientOut(Schema):
    id: int
    name: str
    lead_partner_id: int | None
    team: list[int]
    time_zone: str
    country: str
    region: str
    status: str

    @staticmethod
    def resolve_team(obj: Client) -> list[int]:
        return [partner.pk for partner in obj.team.all()]


class ClientIn(Payload, extra="forbid"):
    name: str = Field(max_length=200)
    lead_partner: Id | None = None
    time_zone: str = Field(max_length=64)
    country: str = Field(max_length=2)
    region: str = Field("", max_length=10)
    status: StatusName = "active"
    notes: str = Field("", max_length=MAX_NOTES)


class ClientPatch(Payload, extra="forbid"):
    name: str = kept(max_length=200)
    lead_partner: Id | None = None
    time_zone: str = kept(max_length=64)
    country: str = kept(max_length=2)
    region: str = kept(max_length=10)
    status: StatusName = kept()
    notes: str = kept(max_length=MAX_NOTES)


class TeamIn(Payload, extra="forbid"):
    partners: list[Id] = Field(max_length=MAX_TEAM)


def _clients(request):
    return Client.objects.for_user(request.auth).prefetch_related("team")


def _client_data(payload: Schema, **dump) -> dict:
    data = payload.model_dump(**dump)
    if "lead_partner" in data:
        data["lead_partner"] = resolve_partner("lead_partner", data["lead_partner"])
    return data


@router.get("/clients", response=list[ClientOut])
@paginate(Page)
def list_clients(request, status: StatusName | None = None):
    clients = _clients(request)
    return clients.filter(status=status) if status else clients


@router.get("/clients/{client_id}", response=ClientOut)
def get_client(request, client_id: int):
    return get_object_or_404(_clients(request), pk=client_id)


@router.post("/clients", response={201: ClientOut})
def create_client(request, payload: ClientIn):
    client = services.create_client(request.auth, source=Source.API, **_client_data(payload))
    return Status(201, client)


@router.patch("/clients/{client_id}", response=ClientOut)
def update_client(request, client_id: int, payload: ClientPatch):
    client = get_object_or_404(_clients(request), pk=client_id)
    data = _client_data(payload, exclude_unset=True)
    return services.update_client(request.auth, client, data, source=Source.API)


@router.put("/clients/{client_id}/team", response=ClientOut)
def set_team(request, client_id: int, payload: TeamIn):
    client = get_object_or_404(_clients(request), pk=client_id)
    partners = [resolve_partner("partners", pk) for pk in payload.partners]
    services.set_team(request.auth, client, partners, source=Source.API)
    return _clients(request).get(pk=client.pk)


# --- sites -------------------------------------------------------------------------------------


class SiteOut(Schema):
    id: int
    client_id: int
    name: str
    address: str
    latitude: float | None
    longitude: float | None
    time_zone: str


class SiteIn(Payload, extra="forbid"):
    client: Id
    name: str = Field(max_length=150)
    address: str = Field("", max_length=MAX_NOTES)
    latitude: float | None = None
    longitude: float | None = None
    time_zone: str | None = Field(None, max_length=64)


class SitePatch(Payload, extra="forbid"):
    name: str = kept(max_length=150)
    address: str = kept(max_length=MAX_NOTES)
    latitude: float | None = None
    longitude: float | None = None
    time_zone: str = kept(max_length=64)


@router.get("/sites", response=list[SiteOut])
@paginate(Page)
def list_sites(request, client: Id | None = None):
    sites = Site.objects.for_user(request.auth)
    return sites.filter(client_id=client) if client is not None else sites


@router.get("/sites/{site_id}", response=SiteOut)
def get_site(request, site_id: int):
    return get_object_or_404(Site.objects.for_user(request.auth), pk=site_id)


@router.post("/sites", response={201: SiteOut})
def create_site(request, payload: SiteIn):
    data = payload.model_dump(exclude_none=True)
    client = find_visible(Client.objects.for_user(request.auth), "client", data.pop("client"))
    return Status(201, services.create_site(request.auth, client, source=Source.API, **data))


@router.patch("/sites/{site_id}", response=SiteOut)
def update_site(request, site_id: int, payload: SitePatch):
    site = get_object_or_404(
        Site.objects.for_user(request.auth).select_related("client"), pk=site_id
    )
    data = payload.model_dump(exclude_unset=True)
    return services.update_site(request.auth, site, data, source=Source.API)


# --- contacts ----------------------------------------------------------------------------------


class ContactOut(Schema):
    id: int
    client_id: int
    name: str
    email: str
    phone: str
    role: str
    is_active: bool
    can_sign_in: bool

    @staticmethod
    def resolve_can_sign_in(obj: Contact) -> bool:
        return obj.user_id is not None


class ContactIn(Payload, extra="forbid"):
    client: Id
    name: str = Field(max_length=150)
    email: str = Field(max_length=MAX_EMAIL)
    phone: str = Field("", max_length=40)
    role: ContactRoleName = "user"
    with_login: bool = False
    password: str | None = Field(None, max_length=MAX_PASSWORD)


class ContactPatch(Payload, extra="forbid"):
    name: str = kept(max_length=150)
    email: str = kept(max_length=MAX_EMAIL)
    phone: str = kept(max_length=40)
    role: ContactRoleName = kept()
    is_active: bool = kept()


@router.get("/contacts", response=list[ContactOut])
@paginate(Page)
def list_contacts(request, client: Id | None = None):
    contacts = Contact.objects.for_user(request.auth)
    return contacts.filter(client_id=client) if client is not None else contacts


@router.get("/contacts/{contact_id}", response=ContactOut)
def get_contact(request, contact_id: int):
    return get_object_or_404(Contact.objects.for_user(request.auth), pk=contact_id)


@router.post("/contacts", response={201: ContactOut})
def create_contact(request, payload: ContactIn):
    data = payload.model_dump()
    client = find_visible(Client.objects.for_user(request.auth), "client", data.pop("client"))
    return Status(201, services.create_contact(request.auth, client, source=Source.API, **data))


@router.patch("/contacts/{contact_id}", response=ContactOut)
def update_contact(request, contact_id: int, payload: ContactPatch):
    contacts = Contact.objects.for_user(request.auth).select_related("client", "user")
    contact = get_object_or_404(contacts, pk=contact_id)
    data = payload.model_dump(exclude_unset=True)
    return services.update_contact(request.auth, contact, data, source=Source.API)


# --- assets ------------------------------------------------------------------------------------


class AssetOut(Schema):
    id: int
    client_id: int
    name: str
    kind: str
    site_id: int | None
    contact_id: int | None
    serial: str
    operating_system: str
    notes: str


class AssetIn(Payload, extra="forbid"):
    client: Id
    name: str = Field(max_length=150)
    kind: AssetKindName
    site: Id | None = None
    contact: Id | None = None
    serial: str = Field("", max_length=100)
    operating_system: str = Field("", max_length=100)
    notes: str = Field("", max_length=MAX_NOTES)


class AssetPatch(Payload, extra="forbid"):
    name: str = kept(max_length=150)
    kind: AssetKindName = kept()
    site: Id | None = None
    contact: Id | None = None
    serial: str = kept(max_length=100)
    operating_system: str = kept(max_length=100)
    notes: str = kept(max_length=MAX_NOTES)


@router.get("/assets", response=list[AssetOut])
@paginate(Page)
def list_assets(request, client: Id | None = None):
    assets = Asset.objects.for_user(request.auth)
    return assets.filter(client_id=client) if client is not None else assets


@router.get("/assets/{asset_id}", response=AssetOut)
def get_asset(request, asset_id: int):
    return get_object_or_404(Asset.objects.for_user(request.auth), pk=asset_id)


@router.post("/assets", response={201: AssetOut})
def create_asset(request, payload: AssetIn):
    data = payload.model_dump()
    client = find_visible(Client.objects.for_user(request.auth), "client", data.pop("client"))
    data["site_id"], data["contact_id"] = data.pop("site"), data.pop("contact")
    return Status(201, services.create_asset(request.auth, client, source=Source.API, **data))


@router.patch("/assets/{asset_id}", response=AssetOut)
def update_asset(request, asset_id: int, payload: AssetPatch):
    asset = get_object_or_404(
        Asset.objects.for_user(request.auth).select_related("client"), pk=asset_id
    )
    data = payload.model_dump(exclude_unset=True)
    for field in ("site", "contact"):
        if field in data:
            data[f"{field}_id"] = data.pop(field)
    return services.update_asset(request.auth, asset, data, source=Source.API)

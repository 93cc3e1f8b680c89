"""Client list and client pages with their sites, contacts and assets."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from thirdway.audit.models import AuditRecord, Source
from thirdway.clients import services
from thirdway.clients.access import can_edit_client, can_edit_client_data
from thirdway.clients.forms import AssetForm, ClientFilterForm, ClientForm, ContactForm, SiteForm
from thirdway.clients.models import Asset, Client, Contact, Site
from thirdway.web.forms import add_service_errors

PAGE_SIZE = 50
OWNED = {"site": (Site, SiteForm), "contact": (Contact, ContactForm), "asset": (Asset, AssetForm)}


def _clients(request: HttpRequest):
    return Client.objects.for_user(request.user).select_related("lead_partner")


@login_required
def client_list(request: HttpRequest) -> HttpResponse:
    form = ClientFilterForm(request.GET or None)
    clients = _clients(request)
    if form.is_valid():
        if form.cleaned_data["q"]:
            clients = clients.filter(name__icontains=form.cleaned_data["q"])
        if form.cleaned_data["status"]:
            clients = clients.filter(status=form.cleaned_data["status"])
    page = Paginator(clients, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "querystring": query.urlencode()}
    template = "clients/_client_rows.html" if request.htmx else "clients/client_list.html"
    return render(request, template, context)


@login_required
def client_detail(request: HttpRequest, client_id: int) -> HttpResponse:
    client = get_object_or_404(_clients(request), pk=client_id)
    user = request.user
    context = {
        "client": client,
        "sites": Site.objects.for_user(user).filter(client=client),
        "contacts": Contact.objects.for_user(user).filter(client=client),
        "assets": Asset.objects.for_user(user)
        .filter(client=client)
        .select_related("site", "contact"),
        "team": client.team.all() if user.is_network_staff else [],
        "can_edit": can_edit_client(user, client),
        "can_edit_data": can_edit_client_data(user, client),
        "records": (
            AuditRecord.objects.for_scope(f"client:{client.pk}")[:50]
            if user.is_network_staff
            else []
        ),
    }
    return render(request, "clients/client_detail.html", context)


@login_required
def client_create(request: HttpRequest) -> HttpResponse:
    if not request.user.is_practice_admin:
        raise PermissionDenied
    form = ClientForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            client = services.create_client(request.user, source=Source.WEB, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{client} added.")
            return redirect("clients:client_detail", client.pk)
    return render(request, "clients/form.html", {"form": form, "title": "New client"})


@login_required
def client_edit(request: HttpRequest, client_id: int) -> HttpResponse:
    client = get_object_or_404(_clients(request), pk=client_id)
    if not can_edit_client(request.user, client):
        raise PermissionDenied
    form = ClientForm(request.POST or None, instance=client)
    if not request.user.is_practice_admin:
        del form.fields["lead_partner"]
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in form.changed_data}
        try:
            services.update_client(
                request.user, _clients(request).get(pk=client.pk), data, source=Source.WEB
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Saved.")
            return redirect("clients:client_detail", client.pk)
    return render(request, "clients/form.html", {"form": form, "title": f"Edit {client}"})


def _owned_form(kind: str, client: Client, data=None, instance=None):
    form_class = OWNED[kind][1]
    extra = {"client": client} if kind == "asset" else {}
    return form_class(data, instance=instance, **extra)


@login_required
def owned_create(request: HttpRequest, client_id: str, kind: str) -> HttpResponse:
    """Add a site, contact or asset to a client."""
    client = get_object_or_404(_clients(request), pk=client_id)
    if not can_edit_client_data(request.user, client):
        raise PermissionDenied
    form = _owned_form(kind, client, request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        if kind == "asset":
            # The service takes ids; an empty choice must not stay behind as site=None.
            site, contact = data.pop("site", None), data.pop("contact", None)
            data["site_id"] = site.pk if site else None
            data["contact_id"] = contact.pk if contact else None
        create = getattr(services, f"create_{kind}")
        try:
            create(request.user, client, source=Source.WEB, **data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{kind.capitalize()} added.")
            return redirect("clients:client_detail", client.pk)
    return render(request, "clients/form.html", {"form": form, "title": f"New {kind} · {client}"})


@login_required
def owned_edit(request: HttpRequest, client_id: str, kind: str, object_id: str) -> HttpResponse:
    """Change a site, contact or asset of a client."""
    client = get_object_or_404(_clients(request), pk=client_id)
    model = OWNED[kind][0]
    instance = get_object_or_404(
        model.objects.for_user(request.user).filter(client=client), pk=object_id
    )
    if not can_edit_client_data(request.user, client):
        raise PermissionDenied
    form = _owned_form(kind, client, request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in form.changed_data}
        update = getattr(services, f"update_{kind}")
        try:
            update(request.user, model.objects.get(pk=instance.pk), data, source=Source.WEB)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Saved.")
            return redirect("clients:client_detail", client.pk)
    return render(request, "clients/form.html", {"form": form, "title": f"Edit {instance}"})

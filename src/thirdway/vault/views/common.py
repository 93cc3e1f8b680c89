"""What the vault's pages share: the clients one may open, and the vault's index."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from thirdway.clients.models import Client
from thirdway.vault.access import can_keep
from thirdway.vault.models import Credential, Document, ExpiryItem, Folder
from thirdway.web.forms import add_service_errors


def client_of(request: HttpRequest, client_id: int) -> Client:
    """A client whose vault the viewer may open (sees something of it), or 404."""
    client = get_object_or_404(Client.objects.for_user(request.user), pk=client_id)
    if not request.user.is_network_staff and not _sees_any(request.user, client):
        raise Http404
    return client


def _sees_any(user, client: Client) -> bool:
    return (
        any(
            model.objects.for_user(user).filter(client=client).exists()
            for model in (Credential, Document, ExpiryItem, Folder)
        )
        or user.role == "client_admin"
    )


def client_context(request: HttpRequest, client: Client, tab: str) -> dict:
    return {"client": client, "tab": tab, "can_keep": can_keep(request.user, client)}


@login_required
def index(request: HttpRequest) -> HttpResponse:
    """The clients whose vault the viewer may open."""
    clients = Client.objects.for_user(request.user)
    if not request.user.is_network_staff:
        clients = [client for client in clients if _sees_any(request.user, client)]
    return render(request, "vault/index.html", {"clients": clients})


def save_form(request, client, form, act, *, title: str, tab: str, done) -> HttpResponse:
    """The vault's form pages: on a valid POST, ``act(linked ids)`` writes through the
    services and ``done(saved)`` gives the message and the page to go to; a refusal is shown
    beside its field (a 400), as the form itself is on a GET."""
    if request.method == "POST" and form.is_valid():
        try:
            saved = act(form.linked_ids())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            message, target = done(saved)
            messages.success(request, message)
            return target
    context = {**client_context(request, client, tab), "form": form, "title": title}
    return render(
        request, "vault/form.html", context, status=400 if request.method == "POST" else 200
    )

"""Credential pages: a client's list, one credential, its reveal with a reason, add and change."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from thirdway.audit.models import Source
from thirdway.vault import reports
from thirdway.vault.access import can_keep, can_reveal
from thirdway.vault.crypto import VaultError
from thirdway.vault.forms import CredentialForm, RevealForm
from thirdway.vault.models import Credential
from thirdway.vault.services import credentials as services
from thirdway.vault.views.common import client_context, client_of
from thirdway.web.forms import add_service_errors


def _credential(request: HttpRequest, credential_id: int) -> Credential:
    return get_object_or_404(
        Credential.objects.for_user(request.user).select_related("client", "site", "asset"),
        pk=credential_id,
    )


@login_required
def credential_list(request: HttpRequest, client_id: int) -> HttpResponse:
    client = client_of(request, client_id)
    rows = Credential.objects.for_user(request.user).filter(client=client)
    rows = rows.select_related("site", "asset")
    context = {**client_context(request, client, "credentials"), "credentials": rows}
    return render(request, "vault/credential_list.html", context)


def _detail(request, credential, form, revealed=None, status=200) -> HttpResponse:
    context = {
        **client_context(request, credential.client, "credentials"),
        "credential": credential,
        "form": form,
        "revealed": revealed,
        "can_reveal": can_reveal(request.user, credential),
        "accesses": credential.accesses.select_related("user")[:20]
        if request.user.is_network_staff
        else [],
    }
    response = render(request, "vault/credential_detail.html", context, status=status)
    response["Cache-Control"] = "no-store"
    return response


@login_required
def credential_detail(request: HttpRequest, credential_id: int) -> HttpResponse:
    credential = _credential(request, credential_id)
    return _detail(request, credential, RevealForm())


@login_required
@require_POST
def credential_reveal(request: HttpRequest, credential_id: int) -> HttpResponse:
    """Show the secret once, to someone allowed, with the reason they give (recorded)."""
    credential = _credential(request, credential_id)
    if not can_reveal(request.user, credential):
        raise PermissionDenied
    form = RevealForm(request.POST)
    if not form.is_valid():
        return _detail(request, credential, form, status=400)
    try:
        revealed = services.reveal_credential(
            request.user, credential, reason=form.cleaned_data["reason"], source=Source.WEB
        )
    except ValidationError as error:
        add_service_errors(form, error)
        return _detail(request, credential, form, status=400)
    except VaultError as error:
        form.add_error(None, f"The vault cannot open this credential: {error}")
        return _detail(request, credential, form, status=503)
    return _detail(request, credential, RevealForm(), revealed=revealed)


def _save(request, client, form, act, title, credential=None) -> HttpResponse:
    if request.method == "POST" and form.is_valid():
        try:
            saved = act(form)
        except ValidationError as error:
            add_service_errors(form, error)
        except VaultError as error:
            form.add_error(None, f"The vault is closed: {error}")
        else:
            messages.success(request, f"{saved} saved.")
            return redirect("vault:credential_detail", saved.pk)
    if form.is_bound:
        for name in ("secret", "totp_seed"):
            if form.data.get(name):
                form.fields[name].help_text = "Type it again: a secret is never sent back."
    context = {**client_context(request, client, "credentials"), "form": form, "title": title}
    status = 400 if request.method == "POST" else 200
    return render(request, "vault/form.html", context, status=status)


@login_required
def credential_create(request: HttpRequest, client_id: int) -> HttpResponse:
    client = client_of(request, client_id)
    if not can_keep(request.user, client):
        raise PermissionDenied
    form = CredentialForm(request.POST or None, client=client)

    def act(form):
        return services.create_credential(
            request.user, client, source=Source.WEB, **form.linked_ids()
        )

    return _save(request, client, form, act, f"New credential · {client}")


@login_required
def credential_edit(request: HttpRequest, credential_id: int) -> HttpResponse:
    credential = _credential(request, credential_id)
    client = credential.client
    if not can_keep(request.user, client):
        raise PermissionDenied
    initial = {
        "name": credential.name,
        "username": credential.username,
        "url": credential.url,
        "site": credential.site_id,
        "asset": credential.asset_id,
        "shared_with_client_admins": credential.shared_with_client_admins,
    }
    form = CredentialForm(request.POST or None, client=client, initial=initial)
    for name in ("secret", "totp_seed", "notes"):
        form.fields[name].help_text = "Left empty: it stays as it is."
    if credential.has_totp:
        form.fields["remove_totp"] = forms.BooleanField(
            required=False, label="Remove the TOTP seed"
        )

    def act(form):
        data = form.linked_ids()
        remove_totp = data.pop("remove_totp", False)
        for name in ("secret", "totp_seed", "notes"):
            if not data[name]:
                data[name] = None  # kept
        if remove_totp:
            data["totp_seed"] = ""
        return services.update_credential(request.user, credential, data, source=Source.WEB)

    return _save(request, client, form, act, f"Change {credential}", credential)


@login_required
def accessed_report(request: HttpRequest) -> HttpResponse:
    """For practice admins: the credentials a person revealed that are still unchanged (to
    change when they leave or lose access)."""
    if not request.user.is_practice_admin:
        raise Http404
    people = reports.people_who_revealed(request.user)
    chosen = next((p for p in people if str(p.pk) == request.GET.get("person")), None)
    rows = reports.accessed_and_unchanged(request.user, chosen) if chosen else []
    context = {"people": people, "chosen": chosen, "rows": rows}
    return render(request, "vault/accessed_report.html", context)

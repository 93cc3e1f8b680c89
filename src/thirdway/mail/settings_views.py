"""Settings pages of the mail room, for practice admins: mailboxes (with a connection test) and
the mail domains of clients.  Everything is written through the mail services."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from thirdway.audit.models import Source
from thirdway.mail import fetching, services
from thirdway.mail.forms import ClientDomainForm, MailboxForm
from thirdway.mail.models import ClientDomain, Mailbox
from thirdway.web.forms import add_service_errors
from thirdway.web.pages import require_practice_admin


def _mailbox(request: HttpRequest, mailbox_id: int) -> Mailbox:
    return get_object_or_404(Mailbox.objects.for_user(request.user), pk=mailbox_id)


@login_required
def mailbox_list(request: HttpRequest) -> HttpResponse:
    require_practice_admin(request)
    mailboxes = Mailbox.objects.for_user(request.user).select_related("practice", "default_client")
    return render(request, "mail/settings_mailboxes.html", {"mailboxes": mailboxes})


@login_required
def mailbox_new(request: HttpRequest) -> HttpResponse:
    require_practice_admin(request)
    form = MailboxForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            mailbox = services.add_mailbox(
                request.user, form.cleaned_data["name"], source=Source.WEB, **form.settings()
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Mailbox {mailbox.name} added.")
            return redirect("mail_settings:mailbox", mailbox_id=mailbox.pk)
    return render(request, "mail/settings_mailbox.html", {"form": form, "mailbox": None})


@login_required
def mailbox_edit(request: HttpRequest, mailbox_id: int) -> HttpResponse:
    require_practice_admin(request)
    mailbox = _mailbox(request, mailbox_id)
    form = MailboxForm(request.POST or None, user=request.user, mailbox=mailbox)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_mailbox(request.user, mailbox.name, source=Source.WEB, **form.settings())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Mailbox {mailbox.name} saved.")
            return redirect("mail_settings:mailbox", mailbox_id=mailbox.pk)
    return render(request, "mail/settings_mailbox.html", {"form": form, "mailbox": mailbox})


@login_required
@require_POST
def mailbox_test(request: HttpRequest, mailbox_id: int) -> HttpResponse:
    """Try the stored IMAP settings now and say how it went (writes nothing)."""
    require_practice_admin(request)
    mailbox = _mailbox(request, mailbox_id)
    problem = fetching.check_connection(mailbox)
    if request.headers.get("HX-Request"):
        context = {"mailbox": mailbox, "problem": problem, "tested": True}
        return render(request, "mail/_connection_result.html", context)
    if problem:
        messages.error(request, problem)
    else:
        messages.success(request, f"Connected to {mailbox.imap_host} and opened the folder.")
    return redirect("mail_settings:mailbox", mailbox_id=mailbox.pk)


@login_required
def client_domains(request: HttpRequest) -> HttpResponse:
    require_practice_admin(request)
    form = ClientDomainForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            entry = services.set_client_domain(
                request.user,
                form.cleaned_data["client"],
                form.cleaned_data["domain"],
                source=Source.WEB,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Mail from {entry.domain} now names {entry.client.name}.")
            return redirect("mail_settings:domains")
    domains = ClientDomain.objects.select_related("client")
    return render(request, "mail/settings_domains.html", {"form": form, "domains": domains})


@login_required
@require_POST
def client_domain_remove(request: HttpRequest, domain_id: int) -> HttpResponse:
    require_practice_admin(request)
    entry = get_object_or_404(ClientDomain, pk=domain_id)
    services.remove_client_domain(request.user, entry, source=Source.WEB)
    messages.success(request, f"{entry.domain} no longer names a client.")
    return redirect("mail_settings:domains")

"""Pages of the mail room: quarantine and triage, one message with its raw bytes, the outbox,
and the notification templates."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from thirdway.audit.models import Source
from thirdway.mail import parsing, services
from thirdway.mail.access import is_mail_admin, sees_triage
from thirdway.mail.forms import AssignForm, TemplateForm
from thirdway.mail.models import (
    InboundMessage,
    InboundStatus,
    MailTemplate,
    OutboundMessage,
    OutboundStatus,
)
from thirdway.mail.services.outbound import DEFAULT_TEMPLATES
from thirdway.mail.services.senders import claimants
from thirdway.web.forms import add_service_errors

PAGE_SIZE = 50
LISTS = {
    "quarantine": InboundStatus.QUARANTINED,
    "triage": InboundStatus.UNKNOWN_CLIENT,
}


def _require(allowed: bool) -> None:
    if not allowed:
        raise Http404("Not found.")


@login_required
def inbound_list(request: HttpRequest, which: str = "quarantine") -> HttpResponse:
    _require(sees_triage(request.user))
    if which not in LISTS:
        raise Http404("Not found.")
    found = (
        InboundMessage.objects.for_user(request.user)
        .filter(status=LISTS[which])
        .defer("raw")
        .select_related("mailbox")
    )
    page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    if which == "triage":  # an address several clients claim: the desk sees which ones
        claimed = claimants([message.from_address for message in page.object_list])
        for message in page.object_list:
            message.candidates = claimed.get(message.from_address.lower(), [])
    context = {"page": page, "which": which, "is_admin": is_mail_admin(request.user)}
    return render(request, "mail/inbound_list.html", context)


def _message(request: HttpRequest, message_id: int) -> InboundMessage:
    return get_object_or_404(InboundMessage.objects.for_user(request.user), pk=message_id)


@login_required
def inbound_detail(request: HttpRequest, message_id: int) -> HttpResponse:
    message = _message(request, message_id)
    parsed = parsing.parse(bytes(message.raw))
    context = {
        "message": message,
        "parsed": parsed,
        "is_admin": is_mail_admin(request.user),
        "can_reprocess": is_mail_admin(request.user)
        and message.status in (InboundStatus.QUARANTINED, InboundStatus.UNKNOWN_CLIENT),
        "assign_form": AssignForm(user=request.user)
        if message.status == InboundStatus.UNKNOWN_CLIENT
        else None,
        "candidates": claimants([message.from_address]).get(message.from_address.lower(), [])
        if message.status == InboundStatus.UNKNOWN_CLIENT
        else [],
    }
    return render(request, "mail/inbound_detail.html", context)


@login_required
def inbound_raw(request: HttpRequest, message_id: int) -> HttpResponse:
    """The message exactly as it arrived, as a download (never shown inline)."""
    message = _message(request, message_id)
    response = HttpResponse(bytes(message.raw), content_type="message/rfc822")
    response["Content-Disposition"] = f'attachment; filename="message-{message.pk}.eml"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_POST
def inbound_reprocess(request: HttpRequest, message_id: int) -> HttpResponse:
    message = _message(request, message_id)
    try:
        after = services.reprocess(request.user, message, source=Source.WEB)
    except PermissionDenied as error:
        raise Http404("Not found.") from error
    except ValidationError as error:
        for text in error.messages:
            messages.error(request, text)
        return redirect("mail:message", message_id=message.pk)
    messages.success(request, f"Processed again: {after.get_status_display()}.")
    return redirect("mail:message", message_id=message.pk)


@login_required
@require_POST
def inbound_assign(request: HttpRequest, message_id: int) -> HttpResponse:
    message = _message(request, message_id)
    form = AssignForm(request.POST, user=request.user)
    if not form.is_valid():
        messages.error(request, "Choose one of the clients you serve.")
        return redirect("mail:message", message_id=message.pk)
    try:
        after = services.assign_to_client(
            request.user, message, form.cleaned_data["client"], source=Source.WEB
        )
    except (PermissionDenied, ValidationError) as error:
        messages.error(request, "; ".join(getattr(error, "messages", [str(error)])))
        return redirect("mail:message", message_id=message.pk)
    messages.success(request, f"Processed: {after.get_status_display()}.")
    if after.ticket_id:  # the desk sees the ticket; the message itself leaves its queue
        return redirect("tickets:detail", ref=after.ticket_id)
    return redirect("mail:triage")


@login_required
def outbox(request: HttpRequest) -> HttpResponse:
    _require(is_mail_admin(request.user))
    status = request.GET.get("status", "")
    found = OutboundMessage.objects.for_user(request.user).defer("raw").select_related("ticket")
    if status in OutboundStatus.values:
        found = found.filter(status=status)
    page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "status": status,
        "statuses": OutboundStatus.choices,
        "querystring": f"status={status}" if status else "",
    }
    return render(request, "mail/outbox.html", context)


@login_required
def templates(request: HttpRequest) -> HttpResponse:
    _require(is_mail_admin(request.user))
    form = TemplateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_template(request.user, source=Source.WEB, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Template saved.")
            return redirect("mail:templates")
    context = {
        "form": form,
        "saved": MailTemplate.objects.select_related("practice"),
        "defaults": [(kind, *DEFAULT_TEMPLATES[kind]) for kind in DEFAULT_TEMPLATES],
    }
    return render(request, "mail/templates.html", context)

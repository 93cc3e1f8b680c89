"""Settings: webhooks for practice admins (list, add, change, delete), each with its delivery
log and a test delivery sent by the worker.  Written through the webhook services."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from thirdway.audit.models import Source
from thirdway.tickets.forms import WebhookForm
from thirdway.tickets.models import Webhook, WebhookDelivery
from thirdway.tickets.webhooks import services
from thirdway.web.forms import add_service_errors
from thirdway.web.pages import require_practice_admin

DELIVERIES_PER_PAGE = 25


def _hook(request: HttpRequest, webhook_id: int) -> Webhook:
    require_practice_admin(request)
    return get_object_or_404(Webhook.objects.select_related("client"), pk=webhook_id)


@login_required
def webhook_list(request: HttpRequest) -> HttpResponse:
    require_practice_admin(request)
    hooks = Webhook.objects.select_related("client").order_by("name", "pk")
    return render(request, "tickets/settings_webhooks.html", {"hooks": hooks})


@login_required
def webhook_new(request: HttpRequest) -> HttpResponse:
    require_practice_admin(request)
    form = WebhookForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            hook = services.create_webhook(request.user, source=Source.WEB, **form.payload())
        except ValidationError as error:
            add_service_errors(form, error)
        else:  # the secret is shown in this answer only, never again
            return render(request, "tickets/settings_webhook_created.html", {"hook": hook})
    return render(request, "tickets/settings_webhook.html", {"form": form, "hook": None})


@login_required
def webhook_edit(request: HttpRequest, webhook_id: int) -> HttpResponse:
    hook = _hook(request, webhook_id)
    form = WebhookForm(request.POST or None, user=request.user, hook=hook)
    if request.method == "POST" and form.is_valid():
        secret = hook.secret
        try:
            services.update_webhook(request.user, hook, form.payload(), source=Source.WEB)
        except ValidationError as error:
            add_service_errors(form, error)
            hook.refresh_from_db()  # the page shows what is stored, not what was refused
        else:
            if hook.secret != secret:  # a new secret is shown in this answer only
                context = {"hook": hook, "renewed": True}
                return render(request, "tickets/settings_webhook_created.html", context)
            messages.success(request, f"Webhook {hook.name} saved.")
            return redirect("tickets_settings:webhook", webhook_id=hook.pk)
    deliveries = WebhookDelivery.objects.filter(webhook=hook).order_by("-created_at", "-id")
    page = Paginator(deliveries, DELIVERIES_PER_PAGE).get_page(request.GET.get("page"))
    context = {"form": form, "hook": hook, "page": page}
    return render(request, "tickets/settings_webhook.html", context)


@login_required
@require_POST
def webhook_test(request: HttpRequest, webhook_id: int) -> HttpResponse:
    hook = _hook(request, webhook_id)
    try:
        services.send_test(request.user, hook, source=Source.WEB)
    except ValidationError as error:
        for text in error.messages:
            messages.error(request, text)
    else:
        messages.success(request, "Test delivery queued: the worker sends it; see the log below.")
    return redirect("tickets_settings:webhook", webhook_id=hook.pk)


@login_required
@require_POST
def webhook_delete(request: HttpRequest, webhook_id: int) -> HttpResponse:
    hook = _hook(request, webhook_id)
    name = hook.name
    services.delete_webhook(request.user, hook, source=Source.WEB)
    messages.success(request, f"Webhook {name} deleted with its deliveries.")
    return redirect("tickets_settings:webhooks")

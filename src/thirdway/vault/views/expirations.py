"""The expirations register: a client's items, every visible item across the network, add,
change, acknowledge and snooze."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from thirdway.audit.models import Source
from thirdway.vault.access import can_keep
from thirdway.vault.forms import ExpiryForm, SnoozeForm
from thirdway.vault.models import ExpiryItem
from thirdway.vault.reminders import next_step, parse_steps
from thirdway.vault.services import expirations as services
from thirdway.vault.services import rdap_checks
from thirdway.vault.views.common import client_context, client_of, save_form
from thirdway.web.forms import service_texts

PAGE_SIZE = 100


def _item(request: HttpRequest, item_id: int) -> ExpiryItem:
    return get_object_or_404(
        ExpiryItem.objects.for_user(request.user).select_related("client"), pk=item_id
    )


def rows(items) -> list[dict]:
    """Each item with its days left and its next reminder, for the lists."""
    today = timezone.localdate()
    shown = []
    for item in items:
        sent = services.sent_steps(item)
        upcoming = next_step(item.expires_on, parse_steps(item.reminder_steps), today, sent)
        shown.append(
            {
                "item": item,
                "days_left": (item.expires_on - today).days,
                "next": None if item.acknowledged else upcoming,
                "last_sent": max(
                    (r.sent_at for r in item.reminders.all() if r.expires_on == item.expires_on),
                    default=None,
                ),
            }
        )
    return shown


def _visible(request):
    return (
        ExpiryItem.objects.for_user(request.user)
        .select_related("client", "site", "asset")
        .prefetch_related("reminders")
    )


@login_required
def expiry_list(request: HttpRequest, client_id: int) -> HttpResponse:
    client = client_of(request, client_id)
    items = _visible(request).filter(client=client)
    context = {**client_context(request, client, "expirations"), "rows": rows(items)}
    context["snooze_form"] = SnoozeForm()
    return render(request, "vault/expiry_list.html", context)


@login_required
def expiry_overview(request: HttpRequest) -> HttpResponse:
    """Every item the viewer sees, soonest first."""
    page = Paginator(_visible(request), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page": page, "rows": rows(page.object_list), "snooze_form": SnoozeForm()}
    return render(request, "vault/expiry_overview.html", context)


def _save(request, client, form, act, title) -> HttpResponse:
    return save_form(
        request,
        client,
        form,
        act,
        title=title,
        tab="expirations",
        done=lambda saved: (f"{saved} saved.", redirect("vault:expiry_list", saved.client_id)),
    )


@login_required
def expiry_create(request: HttpRequest, client_id: int) -> HttpResponse:
    client = client_of(request, client_id)
    if not can_keep(request.user, client):
        raise PermissionDenied
    form = ExpiryForm(request.POST or None, client=client)

    def act(data):
        return services.create_expiry(request.user, client, source=Source.WEB, **data)

    return _save(request, client, form, act, f"New expiring item · {client}")


@login_required
def expiry_edit(request: HttpRequest, item_id: int) -> HttpResponse:
    item = _item(request, item_id)
    if not can_keep(request.user, item.client):
        raise PermissionDenied
    initial = {
        name: getattr(item, name)
        for name in ("kind", "name", "expires_on", "reminder_steps", "notes")
    }
    initial.update(site=item.site_id, asset=item.asset_id)
    form = ExpiryForm(request.POST or None, client=item.client, initial=initial)

    def act(data):
        return services.update_expiry(request.user, item, data, source=Source.WEB)

    return _save(request, item.client, form, act, f"Change {item}")


@login_required
@require_POST
def expiry_acknowledge(request: HttpRequest, item_id: int) -> HttpResponse:
    item = _item(request, item_id)
    services.acknowledge_expiry(request.user, item, source=Source.WEB)
    messages.success(request, f"{item}: no more reminders for {item.expires_on:%Y-%m-%d}.")
    return redirect("vault:expiry_list", item.client_id)


@login_required
@require_POST
def expiry_snooze(request: HttpRequest, item_id: int) -> HttpResponse:
    item = _item(request, item_id)
    form = SnoozeForm(request.POST)
    if form.is_valid():
        try:
            services.snooze_expiry(
                request.user, item, form.cleaned_data["until"], source=Source.WEB
            )
        except ValidationError as error:
            for text in service_texts(error):
                messages.error(request, f"{item}: {text}")
        else:
            messages.success(request, f"{item}: reminders snoozed.")
    else:
        messages.error(request, f"{item}: give the day to snooze until.")
    return redirect("vault:expiry_list", item.client_id)


@login_required
@require_POST
def expiry_rdap(request: HttpRequest, item_id: int) -> HttpResponse:
    """ "Check now": the domain's expiry date from its registry's RDAP."""
    item = _item(request, item_id)
    try:
        checked = rdap_checks.check_domain(request.user, item, source=Source.WEB)
    except ValidationError as error:
        for text in service_texts(error):
            messages.error(request, f"{item}: {text}")
    else:
        text = f"{item}: {checked.get_rdap_state_display()}. {checked.rdap_message}"
        if checked.rdap_state == "found":
            messages.success(request, f"{text} Expires {checked.expires_on:%Y-%m-%d}.")
        else:
            messages.warning(request, text)
    return redirect("vault:expiry_list", item.client_id)

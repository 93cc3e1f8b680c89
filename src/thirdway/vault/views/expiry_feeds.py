"""The iCal feeds of expirations: the page of one's feed addresses, and the feed itself
behind its secret address (no sign-in: calendars cannot)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from thirdway.audit.models import Source
from thirdway.clients.models import Client
from thirdway.vault.expiry_ical import expirations_calendar
from thirdway.vault.models import ExpiryFeed, ExpiryItem
from thirdway.vault.services import expiry_feeds as services


def _clients(user):
    seen = ExpiryItem.objects.for_user(user).values("client_id")
    if user.is_network_staff:
        return Client.objects.for_user(user).order_by("name")
    return Client.objects.for_user(user).filter(pk__in=seen).order_by("name")


class FeedForm(forms.Form):
    client = forms.TypedChoiceField(coerce=int, empty_value=None, required=False, label="Of")

    def __init__(self, *args, clients, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", "Every client I see")] + [(c.pk, c.name) for c in clients]
        self.fields["client"].choices = choices


@login_required
def feed_page(request: HttpRequest, status: int = 200, form=None) -> HttpResponse:
    clients = _clients(request.user)
    if not clients and not request.user.is_network_staff:
        raise Http404
    context = {
        "feeds": ExpiryFeed.objects.filter(user=request.user).select_related("client"),
        "form": form or FeedForm(clients=clients),
        "new_url": request.session.pop("expiry_feed_url", ""),
    }
    return render(request, "vault/expiry_feeds.html", context, status=status)


@login_required
@require_POST
def feed_reset(request: HttpRequest) -> HttpResponse:
    clients = _clients(request.user)
    form = FeedForm(request.POST, clients=clients)
    if not form.is_valid():
        return feed_page(request, 400, form)
    chosen = form.cleaned_data["client"]
    client = get_object_or_404(clients, pk=chosen) if chosen else None
    token = services.reset_feed(request.user, client, source=Source.WEB)
    # Shown once, on the next page: only the digest is stored.
    request.session["expiry_feed_url"] = request.build_absolute_uri(
        reverse("vault:expiry_feed", args=[token])
    )
    messages.success(request, "A new calendar address was made; an older one of it stops working.")
    return redirect("vault:expiry_feeds")


@login_required
@require_POST
def feed_stop(request: HttpRequest, feed_id: int) -> HttpResponse:
    feed = get_object_or_404(ExpiryFeed.objects.filter(user=request.user), pk=feed_id)
    services.stop_feed(request.user, feed, source=Source.WEB)
    messages.success(request, "That calendar address no longer works.")
    return redirect("vault:expiry_feeds")


def expiry_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The feed behind its secret address: what its owner may see now, of its one client or
    of every client they see."""
    if len(token) > 100:
        raise Http404
    feed, items = services.items_of(token)
    if feed is None:
        raise Http404
    title = f"Expirations: {feed.client.name}" if feed.client else "Expirations: every client"
    link = request.build_absolute_uri(
        reverse("vault:expiry_list", args=[feed.client_id])
        if feed.client_id
        else reverse("vault:expiry_overview")
    )
    body = expirations_calendar(items, title, timezone.now(), link)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    return response

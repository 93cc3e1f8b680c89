"""The bell, the list of one's notifications, and the preferences page (the network only)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from thirdway.audit.models import Source
from thirdway.tickets.notifications import services
from thirdway.tickets.notifications.forms import PreferencesForm
from thirdway.tickets.notifications.models import Notification
from thirdway.tickets.views.desk import _require_staff
from thirdway.web.forms import add_service_errors

PAGE_SIZE = 30
BELL_CAP = 99  # the bell shows "99+" past this: counting further tells nobody anything


def unread_count(user) -> int:
    return Notification.objects.for_user(user).unread()[: BELL_CAP + 1].count()


@login_required
@require_GET
def bell(request: HttpRequest) -> HttpResponse:
    """The bell's link and unread count (htmx swaps it into the header every minute)."""
    _require_staff(request)
    count = unread_count(request.user)
    label = f"{BELL_CAP}+" if count > BELL_CAP else str(count)
    return render(request, "notifications/_bell.html", {"count": count, "label": label})


@login_required
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    _require_staff(request)
    mine = Notification.objects.for_user(request.user).select_related("ticket")
    page = Paginator(mine.only(*LIST_FIELDS), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "notifications/list.html",
        {"page": page, "unread": unread_count(request.user), "querystring": ""},
    )


LIST_FIELDS = ("kind", "text", "created_at", "read_at", "ticket", "ticket__subject")


def _back(request: HttpRequest) -> str:
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return reverse("notifications:list")


@login_required
@require_POST
def mark_read(request: HttpRequest, notification_id: int) -> HttpResponse:
    _require_staff(request)
    notification = get_object_or_404(
        Notification.objects.for_user(request.user), pk=notification_id
    )
    services.mark_read(request.user, notification)
    return redirect(_back(request))


@login_required
@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponse:
    _require_staff(request)
    count = services.mark_all_read(request.user)
    messages.success(request, f"{count} notification{'s' if count != 1 else ''} marked read.")
    return redirect(_back(request))


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    _require_staff(request)
    current = services.preferences_of(request.user)
    if request.method == "POST":
        form = PreferencesForm(request.POST)
        if form.is_valid():
            try:
                services.save_preferences(
                    request.user,
                    email_kinds=form.cleaned_data["email_kinds"],
                    email=form.cleaned_data["email"],
                    source=Source.WEB,
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, "Notification preferences saved.")
                return redirect("notifications:settings")
    else:
        form = PreferencesForm(initial={"email_kinds": current.email_kinds, "email": current.email})
    return render(
        request,
        "notifications/settings.html",
        {"form": form, "account_email": request.user.email},
        status=400 if form.errors else 200,
    )

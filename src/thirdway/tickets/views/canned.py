"""Settings: canned replies.  Practice admins keep the shared ones; everyone in the network
keeps their own, which only they are offered on the ticket page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from thirdway.audit.models import Source
from thirdway.tickets import services
from thirdway.tickets.forms import CannedReplyForm
from thirdway.tickets.models import CannedReply
from thirdway.tickets.views.desk import _require_staff
from thirdway.web.forms import add_service_errors


def _keepable(request: HttpRequest):
    """The replies the user may change: their own, and the shared ones for practice admins."""
    own = Q(owner=request.user)
    if request.user.is_practice_admin:
        own |= Q(owner__isnull=True)
    return CannedReply.objects.for_user(request.user).filter(own)


def _save(request: HttpRequest, form: CannedReplyForm, reply: CannedReply | None) -> bool:
    data = form.payload()
    fields = {
        "name": data["name"],
        "body": data["body"],
        "shared": data["scope"] == "shared",
        "practice": data["practice"],
    }
    try:
        if reply is None:
            services.create_canned_reply(request.user, source=Source.WEB, **fields)
        else:
            services.update_canned_reply(request.user, reply, source=Source.WEB, **fields)
    except ValidationError as error:
        add_service_errors(form, error)
        return False
    return True


@login_required
def canned_list(request: HttpRequest) -> HttpResponse:
    _require_staff(request)
    form = CannedReplyForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid() and _save(request, form, None):
        messages.success(request, f"Canned reply {form.cleaned_data['name'].strip()} added.")
        return redirect("tickets_settings:canned")
    visible = CannedReply.objects.for_user(request.user).select_related("practice")
    context = {
        "form": form,
        "own": visible.filter(owner=request.user),
        "shared": visible.filter(owner__isnull=True),
    }
    return render(request, "tickets/settings_canned.html", context)


@login_required
def canned_edit(request: HttpRequest, reply_id: int) -> HttpResponse:
    _require_staff(request)
    reply = get_object_or_404(_keepable(request), pk=reply_id)
    form = CannedReplyForm(request.POST or None, user=request.user, reply=reply)
    if request.method == "POST" and form.is_valid() and _save(request, form, reply):
        messages.success(request, f"Canned reply {reply.name} saved.")
        return redirect("tickets_settings:canned")
    if request.method == "POST":
        reply.refresh_from_db()
    return render(request, "tickets/settings_canned_edit.html", {"form": form, "reply": reply})


@login_required
@require_POST
def canned_delete(request: HttpRequest, reply_id: int) -> HttpResponse:
    _require_staff(request)
    reply = get_object_or_404(_keepable(request), pk=reply_id)
    services.delete_canned_reply(request.user, reply, source=Source.WEB)
    messages.success(request, f"Canned reply {reply.name} deleted.")
    return redirect("tickets_settings:canned")

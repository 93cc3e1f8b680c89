"""A new ticket opened at the desk."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from thirdway.audit.models import Source
from thirdway.tickets import services
from thirdway.tickets.forms import NewTicketForm, uploads_of
from thirdway.tickets.views.desk import _require_staff
from thirdway.web.forms import add_service_errors


@login_required
def ticket_create(request: HttpRequest) -> HttpResponse:
    _require_staff(request)
    user = request.user
    if request.method == "POST":
        form = NewTicketForm(request.POST, request.FILES, user=user)
    else:
        form = NewTicketForm(initial={"client": request.GET.get("client")}, user=user)
    if request.method == "GET" and request.htmx:
        # The client changed: offer that client's requesters, sites and assets.
        return render(request, "tickets/_client_fields.html", {"form": form})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            ticket = services.create_ticket(
                user,
                data["client"],
                subject=data["subject"],
                body_text=data["body"],
                requester_id=_pk(data["requester"]),
                site_id=_pk(data["site"]),
                asset_id=_pk(data["asset"]),
                practice_id=_pk(data["practice"]),
                type=data["type"],
                impact=data["impact"],
                urgency=data["urgency"],
                priority=data["priority"],
                priority_reason=data["priority_reason"],
                needs_onsite=data["needs_onsite"],
                visit_starts_at=data["visit_starts_at"],
                visit_ends_at=data["visit_ends_at"],
                tags=data["tags"],
                uploads=uploads_of(data["attachments"]),
                source=Source.WEB,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionDenied as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"{ticket.number} opened.")
            return redirect("tickets:detail", ticket.number)
    return render(request, "tickets/ticket_form.html", {"form": form})


def _pk(obj) -> int | None:
    return obj.pk if obj is not None else None

"""Editing a ticket's descriptive fields in place: subject, requester, practice, type,
category, site, asset, tags and watchers, each through the ticket services."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from thirdway.audit.models import Source
from thirdway.tickets import services
from thirdway.tickets.field_forms import EDITABLE, field_form, service_value
from thirdway.tickets.models import Ticket
from thirdway.tickets.views.ticket import _answer, _errors, _ticket, _ticket_context
from thirdway.web.forms import add_service_errors


def _editing(request: HttpRequest, ticket: Ticket, name: str, form, status: int) -> HttpResponse:
    """The ticket head with ``name``'s form open (htmx), or the whole page (without it)."""
    context = _ticket_context(request, ticket, editing=name, edit_form=form)
    if request.htmx:
        # htmx swaps only 2xx answers: the form with its errors comes back as a 200.
        return render(request, "tickets/_ticket_head.html", context)
    return render(request, "tickets/ticket_detail.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def edit_field(request: HttpRequest, ref: str, name: str) -> HttpResponse:
    ticket = _ticket(request, ref)
    if name not in EDITABLE:
        raise Http404
    if request.method == "GET":
        return _editing(request, ticket, name, field_form(request.user, ticket, name), 200)
    form = field_form(request.user, ticket, name, data=request.POST)
    typed = request.POST.get(f"{name}_search", "").strip()
    if form.is_valid() and form.picker and not request.POST.get(name) and typed:
        # Typed but not picked: an empty value would clear the field, which was not meant.
        form.add_error(name, f"Nothing picked for “{typed[:100]}”: choose a row of the list.")
    if not form.is_valid():
        return _editing(request, ticket, name, form, 400)
    value = service_value(name, form.cleaned_data[name])
    try:
        if name == "watchers":
            services.set_watchers(request.user, ticket, list(value), source=Source.WEB)
        else:
            services.update_ticket(request.user, ticket, {name: value}, source=Source.WEB)
    except ValidationError as error:
        add_service_errors(form, error)
        return _editing(request, ticket, name, form, 400)
    except PermissionDenied as error:
        return _answer(request, ticket, _errors(error))
    return _answer(request, ticket, [("success", f"{EDITABLE[name]} saved.")])

"""The type-ahead pickers' answers: a short list of rows matching what was typed."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from thirdway.tickets import pickers
from thirdway.tickets.models import Ticket, pk_of_number
from thirdway.tickets.views.desk import _require_staff


class PickForm(forms.Form):
    field = forms.SlugField(max_length=40)
    client = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    ticket = forms.CharField(required=False, max_length=30)
    none = forms.BooleanField(required=False)


@login_required
@require_GET
def pick(request: HttpRequest, kind: str) -> HttpResponse:
    _require_staff(request)
    if kind not in pickers.KINDS:
        raise Http404
    form = PickForm(request.GET)
    if not form.is_valid():
        problems = "; ".join(f"{name}: {' '.join(errors)}" for name, errors in form.errors.items())
        return HttpResponse(f"Cannot search: {problems}", status=400, content_type="text/plain")
    data = form.cleaned_data
    text = request.GET.get(f"{data['field']}_search", "").strip()[:100]
    user = request.user
    if kind == "client":
        picked = pickers.clients(user, text)
    elif kind == "contact":
        picked = pickers.contacts(user, text, data["client"])
    elif kind == "asset":
        picked = pickers.assets(user, text, data["client"])
    elif kind == "tag":
        picked = pickers.tags(text)
    else:
        pk = pk_of_number(data["ticket"]) if data["ticket"] else None
        ticket = Ticket.objects.for_user(user).filter(pk=pk).first() if pk else None
        picked = pickers.partners(user, text, ticket, timezone.now())
    context = {"picked": picked, "field": data["field"], "none": data["none"], "text": text}
    return render(request, "tickets/_picker_results.html", context)

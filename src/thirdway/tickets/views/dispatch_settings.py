"""Settings: auto-dispatch and dispatch weights per practice, for practice admins (as the
practice API is).  Written through the network and dispatch-weight services together: a refused
weight leaves the switch unchanged too."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from thirdway.audit.models import Source
from thirdway.network import services as network
from thirdway.network.models import Practice
from thirdway.tickets.assignment import offers, switches
from thirdway.tickets.assignment import weights as dispatch_weights
from thirdway.tickets.dispatch_form import PracticeDispatchForm
from thirdway.web.forms import add_service_errors
from thirdway.web.pages import require_practice_admin


@login_required
def dispatch_list(request: HttpRequest) -> HttpResponse:
    require_practice_admin(request)
    own = dispatch_weights.overrides()
    on = switches.switches_by_practice()
    practices = [
        (practice, _text(own.get(practice.pk, {})), on.get(practice.pk, {}))
        for practice in Practice.objects.order_by("name")
    ]
    context = {"practices": practices, "site": _text(dispatch_weights.site_weights())}
    return render(request, "tickets/settings_dispatch.html", context)


@login_required
def dispatch_edit(request: HttpRequest, practice_id: int) -> HttpResponse:
    require_practice_admin(request)
    practice = get_object_or_404(Practice, pk=practice_id)
    site = dispatch_weights.site_weights()
    initial = {
        "auto_dispatch": practice.auto_dispatch,
        "move_late": practice.move_late,
        "offer_timeout_minutes": offers.offer_timeout(practice.pk).seconds // 60,
    }
    initial |= switches.switches_of(practice.pk)
    initial |= dispatch_weights.overrides().get(practice.pk, {})
    form = PracticeDispatchForm(request.POST or None, site=site, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                dispatch_weights.set_practice_weights(
                    request.user, practice, form.weights(), source=Source.WEB
                )
                network.update_practice(
                    request.user,
                    practice,
                    {
                        "auto_dispatch": form.cleaned_data["auto_dispatch"],
                        "move_late": form.cleaned_data["move_late"],
                    },
                    source=Source.WEB,
                )
                minutes = form.cleaned_data["offer_timeout_minutes"]
                if minutes is not None:
                    offers.set_offer_timeout(request.user, practice, minutes, source=Source.WEB)
                values = {name: form.cleaned_data[name] for name in switches.SWITCHES}
                if form.cleaned_data["when_free"]:
                    values["when_free"] = form.cleaned_data["when_free"]
                if form.cleaned_data["surge_ratio"] is not None:
                    values["surge_ratio"] = form.cleaned_data["surge_ratio"]
                switches.set_switches(request.user, practice, values, source=Source.WEB)
        except ValidationError as error:
            add_service_errors(form, error)
            practice.refresh_from_db()
        else:
            messages.success(request, f"Dispatch of {practice.name} saved.")
            return redirect("tickets_settings:dispatch")
    return render(
        request, "tickets/settings_dispatch_edit.html", {"form": form, "practice": practice}
    )


def _text(weights: dict[str, float]) -> str:
    return ", ".join(f"{name} {value:g}" for name, value in weights.items())

"""Work offered beyond a partner's radius or shift: the partner accepts or declines it, the
desk watches what awaits an answer."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from thirdway.audit.models import Source
from thirdway.tickets.assignment import offers
from thirdway.tickets.assignment.models import DispatchOffer
from thirdway.tickets.views.desk import _require_staff

LIST_LIMIT = 200


def _page(request: HttpRequest, errors: dict | None = None, status: int = 200) -> HttpResponse:
    me = offers.partner_of(request.user)
    rows = list(offers.offers_for(request.user)[:LIST_LIMIT])
    for offer in rows:
        offer.error = (errors or {}).get(offer.pk, "")
    return render(
        request,
        "tickets/offers.html",
        {
            "mine": [o for o in rows if me is not None and o.partner_id == me.pk],
            "others": [o for o in rows if me is None or o.partner_id != me.pk],
            "reason_max": offers.REASON_MAX,
        },
        status=status,
    )


@login_required
@require_GET
def offer_list(request: HttpRequest) -> HttpResponse:
    """Offers awaiting my answer; for the desk, every offer awaiting one."""
    _require_staff(request)
    return _page(request)


def _offer(request: HttpRequest, offer_id: int) -> DispatchOffer:
    _require_staff(request)
    return get_object_or_404(DispatchOffer.objects.for_user(request.user), pk=offer_id)


def _refused(request: HttpRequest, offer_id: int, error: ValidationError) -> HttpResponse:
    problems = [m for messages_ in error.message_dict.values() for m in messages_]
    return _page(request, {offer_id: " ".join(problems)}, status=400)


@login_required
@require_POST
def offer_accept(request: HttpRequest, offer_id: int) -> HttpResponse:
    offer = _offer(request, offer_id)
    try:
        ticket = offers.accept(request.user, offer.pk, source=Source.WEB)
    except ValidationError as error:
        return _refused(request, offer.pk, error)
    messages.success(request, f"{ticket.number} is yours.")
    return redirect("tickets:detail", ticket.number)


@login_required
@require_POST
def offer_decline(request: HttpRequest, offer_id: int) -> HttpResponse:
    offer = _offer(request, offer_id)
    try:
        offers.decline(request.user, offer.pk, request.POST.get("reason", ""), source=Source.WEB)
    except ValidationError as error:
        return _refused(request, offer.pk, error)
    messages.success(request, f"Declined {offer.ticket.number}; it goes to someone else.")
    return redirect("tickets:offers")

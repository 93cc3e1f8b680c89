"""Pages of a practice's shared tool costs and the referral fees clawed back (practice admins)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from thirdway.audit.models import Source
from thirdway.billing import tool_costs
from thirdway.billing.clawbacks import claw_back_named
from thirdway.billing.forms import ClawbackForm, ToolCostForm
from thirdway.billing.models import ReferralClawback, ToolCost
from thirdway.billing.services import settings_of
from thirdway.billing.views import _admin
from thirdway.network.models import Practice
from thirdway.web.forms import add_service_errors


def _page(request, practice, form, editing=None, clawback_form=None) -> HttpResponse:
    tools = ToolCost.objects.for_user(request.user).filter(practice=practice)
    clawbacks = (
        ReferralClawback.objects.for_user(request.user)
        .filter(practice=practice)
        .select_related("client", "clawback")[:50]
    )
    return render(
        request,
        "billing/tool_costs.html",
        {
            "practice": practice,
            "settings": settings_of(practice),
            "tools": tools,
            "form": form,
            "editing": editing,
            "clawbacks": clawbacks,
            "clawback_form": clawback_form or ClawbackForm(user=request.user, practice=practice),
        },
    )


def _save(request, practice, form, tool=None) -> bool:
    if not form.is_valid():
        return False
    data = {name: form.cleaned_data[name] for name in tool_costs.TOOL_FIELDS}
    try:
        if tool is None:
            tool_costs.add_tool(request.user, practice, source=Source.WEB, **data)
        else:
            tool_costs.change_tool(request.user, tool, data, source=Source.WEB)
    except ValidationError as error:
        add_service_errors(form, error)
        return False
    messages.success(request, "Saved.")
    return True


@login_required
def tool_list(request: HttpRequest, practice_id: int) -> HttpResponse:
    """The practice's tools with a form to add one, and the clawbacks made."""
    _admin(request)
    practice = get_object_or_404(Practice, pk=practice_id)
    form = ToolCostForm(request.POST or None)
    if request.method == "POST" and _save(request, practice, form):
        return redirect("billing:tool_costs", practice.pk)
    return _page(request, practice, form)


@login_required
def tool_edit(request: HttpRequest, practice_id: int, tool_id: int) -> HttpResponse:
    _admin(request)
    practice = get_object_or_404(Practice, pk=practice_id)
    tool = get_object_or_404(ToolCost.objects.for_user(request.user), pk=tool_id, practice=practice)
    form = ToolCostForm(request.POST or None, instance=tool)
    if request.method == "POST" and _save(request, practice, form, tool):
        return redirect("billing:tool_costs", practice.pk)
    return _page(request, practice, form, editing=tool)


@login_required
@require_POST
def tool_remove(request: HttpRequest, practice_id: int, tool_id: int) -> HttpResponse:
    _admin(request)
    tool = get_object_or_404(
        ToolCost.objects.for_user(request.user), pk=tool_id, practice_id=practice_id
    )
    tool_costs.remove_tool(request.user, tool, source=Source.WEB)
    messages.success(request, f"{tool.name} removed.")
    return redirect("billing:tool_costs", practice_id)


def _claw_back(request, practice, form) -> bool:
    """Claw back the chosen client's referral fees; the refusal shown under the client."""
    if not form.is_valid():
        return False
    client = form.cleaned_data["client"]
    earlier = ReferralClawback.objects.filter(practice=practice, client=client).first()
    try:
        made = claw_back_named(request.user, practice, client.pk, source=Source.WEB)
    except ValidationError as error:
        add_service_errors(form, error)
        return False
    if earlier is not None:
        messages.success(request, f"{client}: clawed back already on {earlier.at:%Y-%m-%d}.")
    else:
        memo = made.clawback.memo if made.clawback_id else f"{client}: nothing left to claw back"
        messages.success(request, f"{memo}.")
    return True


@login_required
@require_POST
def claw_back_now(request: HttpRequest, practice_id: int) -> HttpResponse:
    """Claw back a client's referral fees now, when it left within the practice's period."""
    _admin(request)
    practice = get_object_or_404(Practice, pk=practice_id)
    form = ClawbackForm(request.POST, user=request.user, practice=practice)
    if _claw_back(request, practice, form):
        return redirect("billing:tool_costs", practice.pk)
    return _page(request, practice, ToolCostForm(), clawback_form=form)

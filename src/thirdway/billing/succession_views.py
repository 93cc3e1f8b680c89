"""Pages of successions and joinings (practice admins): the list, the plan with its preview,
the plan's page (what it moves now, apply or cancel) and, once applied, its record."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from thirdway.audit.models import Source
from thirdway.billing import succession_apply
from thirdway.billing.forms import DateInput
from thirdway.billing.succession import check_plan, plan_from, plan_of
from thirdway.billing.succession_models import (
    OPEN_STATES,
    OriginationRule,
    Succession,
    SuccessionState,
)
from thirdway.billing.views import _admin
from thirdway.clients.models import Client
from thirdway.network.models import Partner, PartnerKind
from thirdway.web.forms import add_service_errors, service_texts

CLIENT_PREFIX = "client_"


def _heirs():
    return Partner.objects.filter(is_active=True, kind=PartnerKind.PARTNER).order_by("name")


class LeaverForm(forms.Form):
    leaver = forms.ModelChoiceField(
        Partner.objects.exclude(kind=PartnerKind.DESK).order_by("name"), label="Partner leaving"
    )


class SuccessionForm(forms.Form):
    """The plan of one leaver: a date, the rule, a successor for the rest and one per client."""

    effective_on = forms.DateField(widget=DateInput, label="Effective date")
    successor = forms.ModelChoiceField(
        _heirs(), required=False, label="Successor for rotas, duties and other clients' teams"
    )
    origination = forms.ChoiceField(
        choices=OriginationRule.choices, label="Origination of their contracts"
    )
    origination_until = forms.DateField(
        widget=DateInput, required=False, label="Origination stays with the leaver until"
    )
    note = forms.CharField(max_length=200, required=False)

    def __init__(self, *args, clients=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["successor"].queryset = _heirs()
        for client in clients:
            self.fields[f"{CLIENT_PREFIX}{client.pk}"] = forms.ModelChoiceField(
                _heirs(), required=False, label=f"Successor for {client.name}"
            )

    def plan_data(self, leaver: Partner) -> dict:
        data = dict(self.cleaned_data)
        pairs = [
            (int(name.removeprefix(CLIENT_PREFIX)), value.pk if value else None)
            for name, value in data.items()
            if name.startswith(CLIENT_PREFIX)
        ]
        successor = data.get("successor")
        return {
            "leaver": leaver.pk,
            "successor": successor.pk if successor else None,
            "effective_on": data["effective_on"],
            "origination": data["origination"],
            "origination_until": data.get("origination_until"),
            "clients": pairs,
        }


class JoiningForm(forms.Form):
    joining_partner = forms.ModelChoiceField(_heirs(), label="Partner joining")
    effective_on = forms.DateField(widget=DateInput, label="Effective date")
    clients = forms.ModelMultipleChoiceField(
        Client.objects.none(),
        label="Clients they bring (clients without an active lead partner)",
        widget=forms.CheckboxSelectMultiple,
    )
    note = forms.CharField(max_length=200, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["joining_partner"].queryset = _heirs()
        free = Client.objects.exclude(lead_partner__is_active=True).order_by("name")
        self.fields["clients"].queryset = free  # type: ignore[attr-defined]

    def plan_data(self) -> dict:
        data = self.cleaned_data
        joiner = data["joining_partner"]
        return {
            "joining_partner": joiner.pk,
            "effective_on": data["effective_on"],
            "clients": [(client.pk, joiner.pk) for client in data["clients"]],
        }


@login_required
def succession_list(request: HttpRequest) -> HttpResponse:
    _admin(request)
    plans = Succession.objects.for_user(request.user).select_related(
        "leaver", "successor", "joining_partner"
    )
    return render(
        request, "billing/succession_list.html", {"plans": plans[:200], "form": LeaverForm()}
    )


def _preview_or_save(request, form, data: dict, note: str) -> HttpResponse | list:
    """Preview (nothing written) or save; answers the moves to show, or the redirect."""
    try:
        plan = plan_from(data)
        if request.POST.get("act") == "save":
            made = succession_apply.save_plan(request.user, plan, note=note, source=Source.WEB)
            messages.success(request, "The plan is kept; nothing has moved yet.")
            return redirect("billing:succession_detail", made.pk)
        return check_plan(plan)
    except ValidationError as error:
        _show(form, error)
    return []


def _show(form, error: ValidationError) -> None:
    """A refusal of the clients goes beside the client fields left empty (or the one the
    message names), the rest beside their own field."""
    problems = getattr(error, "error_dict", {})
    if "clients" in problems and not isinstance(form.fields.get("clients"), forms.Field):
        texts = service_texts(ValidationError({"clients": problems.pop("clients")}))
        fields = [n for n in form.fields if n.startswith(CLIENT_PREFIX)]
        named = [
            n for n in fields if form.fields[n].label.removeprefix("Successor for ") in texts[0]
        ]
        for name in named or [None]:
            form.add_error(name, texts[0])
        if not problems:
            return
        error = ValidationError(problems)
    add_service_errors(form, error)


@login_required
def succession_new(request: HttpRequest) -> HttpResponse:
    """The plan of a partner leaving (``?leaver=`` chosen on the list page)."""
    _admin(request)
    chosen = LeaverForm(request.GET)
    if not chosen.is_valid():
        raise Http404("Choose the partner who leaves.")
    leaver = chosen.cleaned_data["leaver"]
    led = list(Client.objects.filter(lead_partner=leaver).order_by("name")[:500])
    form = SuccessionForm(request.POST or None, clients=led)
    moves: list = []
    if request.method == "POST" and form.is_valid():
        answer = _preview_or_save(request, form, form.plan_data(leaver), form.cleaned_data["note"])
        if isinstance(answer, HttpResponse):
            return answer
        moves = answer
    context = {"form": form, "leaver": leaver, "moves": moves, "previewed": bool(moves)}
    return render(request, "billing/succession_form.html", context)


@login_required
def joining_new(request: HttpRequest) -> HttpResponse:
    """A partner joining brings clients: lead and origination from the effective date."""
    _admin(request)
    form = JoiningForm(request.POST or None)
    moves: list = []
    if request.method == "POST" and form.is_valid():
        answer = _preview_or_save(request, form, form.plan_data(), form.cleaned_data["note"])
        if isinstance(answer, HttpResponse):
            return answer
        moves = answer
    context = {"form": form, "moves": moves, "previewed": bool(moves), "joining": True}
    return render(request, "billing/succession_form.html", context)


@login_required
def succession_detail(request: HttpRequest, succession_id: int) -> HttpResponse:
    """The plan; while open, what it moves if applied now; once applied, the record."""
    _admin(request)
    plans = Succession.objects.for_user(request.user).select_related(
        "leaver", "successor", "joining_partner", "created_by"
    )
    succession = get_object_or_404(plans, pk=succession_id)
    moves, problem = [], ""
    if succession.state in OPEN_STATES:
        try:
            moves = check_plan(plan_of(succession), applying=True)
        except ValidationError as error:
            problem = " ".join(service_texts(error))
    record = succession.moves.select_related("from_partner", "to_partner")
    context = {
        "plan": succession,
        "clients": succession.clients.select_related("client", "successor"),
        "moves": moves,
        "problem": problem or succession.problem,
        "record": record,
        "is_open": succession.state in OPEN_STATES,
    }
    return render(request, "billing/succession_detail.html", context)


@login_required
@require_POST
def succession_act(request: HttpRequest, succession_id: int, act: str) -> HttpResponse:
    _admin(request)
    succession = get_object_or_404(Succession.objects.for_user(request.user), pk=succession_id)
    try:
        if act == "apply":
            done = succession_apply.apply_succession(request.user, succession, source=Source.WEB)
            if done.state == SuccessionState.SCHEDULED:
                messages.success(request, f"Scheduled: it applies on {done.effective_on}.")
            else:
                messages.success(request, f"Applied: {done.moves.count()} moves recorded.")
        elif act == "cancel":
            succession_apply.cancel_plan(request.user, succession, source=Source.WEB)
            messages.success(request, "The plan is cancelled.")
        else:
            raise Http404
    except ValidationError as error:
        messages.error(request, " ".join(service_texts(error)))
    return redirect("billing:succession_detail", succession.pk)

"""Sales pages: leads, an opportunity with its proposals, the pipeline board per practice,
and the prospect's page behind a proposal's signed link (no account needed)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from thirdway.audit.models import Source
from thirdway.network.models import Practice
from thirdway.sales import links, pdf, services
from thirdway.sales.access import can_create, can_win, can_work
from thirdway.sales.forms import (
    AcceptForm,
    DeclineForm,
    LeadForm,
    OpportunityForm,
    ProposalForm,
    ReasonForm,
    StageForm,
)
from thirdway.sales.models import (
    OPEN_STAGES,
    PROBABILITY,
    Lead,
    LeadState,
    Opportunity,
    Proposal,
    ProposalState,
    Stage,
)
from thirdway.web.forms import add_service_errors

WEB = Source.WEB
ZERO = Decimal("0.00")


def _seen(request: HttpRequest) -> None:
    """Sales pages are the network's: anyone else finds nothing here."""
    if not request.user.is_network_staff:
        raise Http404


def _act(form: Form, act: Callable[[dict], object]) -> object | None:
    """Run a service with a valid form's data; its refusals go beside the fields."""
    if not form.is_valid():
        return None
    try:
        return act(form.cleaned_data)
    except ValidationError as error:
        add_service_errors(form, error)
    except PermissionDenied as refused:
        form.add_error(None, str(refused))
    return None


# --- leads -------------------------------------------------------------------------------------


@login_required
def lead_list(request: HttpRequest) -> HttpResponse:
    _seen(request)
    form = LeadForm(prefix="lead")
    if request.method == "POST" and can_create(request.user):
        form = LeadForm(request.POST, prefix="lead")
        lead = _act(
            form,
            lambda d: services.create_lead(
                request.user, form.data_for_service(), source=WEB, practices=d["practices"]
            ),
        )
        if lead is not None:
            return redirect("sales:lead_detail", lead.pk)
    state = request.GET.get("state", "")
    leads = Lead.objects.for_user(request.user).select_related("owner", "referrer")
    if state in LeadState.values:
        leads = leads.filter(state=state)
    leads = leads.prefetch_related("practices").annotate(deals=Count("opportunities"))
    return render(
        request,
        "sales/lead_list.html",
        {
            "leads": leads[:500],
            "form": form,
            "states": LeadState.choices,
            "state": state,
            "may_create": can_create(request.user),
        },
    )


def _lead(request: HttpRequest, lead_id: int) -> Lead:
    _seen(request)
    rows = Lead.objects.for_user(request.user).select_related("owner", "referrer")
    return get_object_or_404(rows, pk=lead_id)


@login_required
def lead_detail(request: HttpRequest, lead_id: int) -> HttpResponse:
    lead = _lead(request, lead_id)
    editable = can_work(request.user, lead)
    form = LeadForm(instance=lead, prefix="lead")
    needed = lead.practices.order_by("name").first()
    deal_form = OpportunityForm(prefix="deal", initial={"title": lead.company, "practice": needed})
    reason_form = ReasonForm(prefix="dq")
    if request.method == "POST" and editable:
        action = request.POST.get("action")
        done = None
        if action == "edit":
            form = LeadForm(request.POST, instance=Lead.objects.get(pk=lead.pk), prefix="lead")
            done = _act(
                form,
                lambda d: services.update_lead(
                    request.user,
                    lead,
                    form.data_for_service(),
                    practices=d["practices"],
                    source=WEB,
                ),
            )
        elif action == "opportunity":
            deal_form = OpportunityForm(request.POST, prefix="deal")
            done = _act(
                deal_form,
                lambda d: services.create_opportunity(request.user, lead, source=WEB, **d),
            )
            if done is not None:
                return redirect("sales:opportunity_detail", done.pk)
        elif action == "disqualify":
            reason_form = ReasonForm(request.POST, prefix="dq")
            done = _act(
                reason_form,
                lambda d: services.disqualify_lead(
                    request.user, lead, reason=d["reason"], source=WEB
                ),
            )
        elif action == "qualify":
            done = _act(Form({}), lambda d: services.qualify_lead(request.user, lead, source=WEB))
        if done is not None:
            return redirect("sales:lead_detail", lead.pk)
    return render(
        request,
        "sales/lead_detail.html",
        {
            "lead": lead,
            "editable": editable and lead.state in (LeadState.NEW, LeadState.QUALIFIED),
            "form": form,
            "deal_form": deal_form,
            "reason_form": reason_form,
            "opportunities": lead.opportunities.select_related("practice"),
        },
    )


# --- opportunities -----------------------------------------------------------------------------


def _opportunity(request: HttpRequest, opportunity_id: int) -> Opportunity:
    _seen(request)
    rows = Opportunity.objects.for_user(request.user).select_related(
        "lead__owner", "practice", "client", "contract", "run"
    )
    return get_object_or_404(rows, pk=opportunity_id)


@login_required
def opportunity_detail(request: HttpRequest, opportunity_id: int) -> HttpResponse:
    opportunity = _opportunity(request, opportunity_id)
    lead = opportunity.lead
    editable = can_work(request.user, lead) and opportunity.is_open
    stage_form = StageForm(prefix="stage", initial={"stage": opportunity.stage})
    proposal_form = ProposalForm(prefix="proposal")
    if request.method == "POST" and editable:
        if request.POST.get("action") == "proposal":
            proposal_form = ProposalForm(request.POST, prefix="proposal")
            made = _act(
                proposal_form,
                lambda d: services.create_proposal(
                    request.user,
                    opportunity,
                    lines=d["lines"],
                    term_months=d["term_months"],
                    notice_days=d["notice_days"],
                    sla_policy=d["sla_policy"],
                    source=WEB,
                ),
            )
            if made is not None:
                return redirect("sales:proposal_detail", made.pk)
        else:
            stage_form = StageForm(request.POST, prefix="stage")
            moved = _act(
                stage_form,
                lambda d: services.move_opportunity(
                    request.user, opportunity, d["stage"], reason=d["reason"], source=WEB
                ),
            )
            if moved is not None:
                return redirect("sales:opportunity_detail", opportunity.pk)
    return render(
        request,
        "sales/opportunity_detail.html",
        {
            "opportunity": opportunity,
            "lead": lead,
            "editable": editable,
            "may_win": editable and can_win(request.user, lead),
            "stage_form": stage_form,
            "proposal_form": proposal_form,
            "proposals": opportunity.proposals.prefetch_related("lines"),
        },
    )


def _columns(opportunities) -> list[dict]:
    by_stage: dict[str, list] = {stage: [] for stage in Stage.values}
    for opportunity in opportunities:
        by_stage[opportunity.stage].append(opportunity)
    columns = []
    for stage in Stage:
        cards = by_stage[stage.value]
        total = sum((card.monthly_value for card in cards), ZERO)
        weighted = sum((card.weighted_value for card in cards), ZERO)
        columns.append(
            {
                "stage": stage,
                "probability": PROBABILITY[stage],
                "cards": cards,
                "total": total,
                "weighted": weighted,
            }
        )
    return columns


@login_required
def board(request: HttpRequest) -> HttpResponse:
    """The pipeline of one practice: a column per stage with its totals; a card's form moves it."""
    _seen(request)
    practices = Practice.objects.order_by("name")
    chosen = practices.filter(pk=_int(request.GET.get("practice"))).first() or practices.first()
    rows = Opportunity.objects.for_user(request.user).filter(practice=chosen)
    columns = _columns(rows.select_related("lead__owner").order_by("expected_close", "pk"))
    open_cards = [
        c for column in columns if column["stage"] in OPEN_STAGES for c in column["cards"]
    ]
    context = {
        "practices": practices,
        "chosen": chosen,
        "columns": columns,
        "stages": Stage.choices,
        "open_total": sum((c.monthly_value for c in open_cards), ZERO),
        "open_weighted": sum((c.weighted_value for c in open_cards), ZERO),
    }
    template = "sales/_board.html" if request.htmx else "sales/board.html"
    return render(request, template, context)


def _int(value) -> int | None:
    return int(value) if isinstance(value, str) and value.isdigit() and len(value) < 19 else None


@login_required
@require_POST
def board_move(request: HttpRequest, opportunity_id: int) -> HttpResponse:
    """Move a card: back to the board (htmx swaps the board in place), the refusal flashed."""
    opportunity = _opportunity(request, opportunity_id)
    form = StageForm(request.POST)
    moved = _act(
        form,
        lambda d: services.move_opportunity(
            request.user, opportunity, d["stage"], reason=d["reason"], source=WEB
        ),
    )
    if moved is None:
        problems = [str(e) for errors in form.errors.values() for e in errors]
        messages.error(request, f"{opportunity.title}: {' '.join(problems)}")
    url = f"{reverse('sales:board')}?practice={opportunity.practice_id}"
    if request.htmx:
        request.GET = request.GET.copy()
        request.GET["practice"] = str(opportunity.practice_id)
        return board(request)
    return redirect(url)


# --- proposals ---------------------------------------------------------------------------------


def _proposal(request: HttpRequest, proposal_id: int) -> Proposal:
    _seen(request)
    rows = Proposal.objects.for_user(request.user).select_related(
        "opportunity__lead__owner", "opportunity__practice", "sla_policy"
    )
    return get_object_or_404(rows, pk=proposal_id)


@login_required
def proposal_detail(request: HttpRequest, proposal_id: int) -> HttpResponse:
    proposal = _proposal(request, proposal_id)
    lead = proposal.opportunity.lead
    link = ""
    if request.method == "POST" and can_work(request.user, lead):
        # The link is shown once, on this answer: it is not kept anywhere to show again.
        try:
            token = links.send(request.user, proposal, source=WEB)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("sales:proposal_detail", proposal.pk)
        link = request.build_absolute_uri(reverse("sales:public", args=[token]))
        proposal.refresh_from_db()
    return render(
        request,
        "sales/proposal_detail.html",
        {
            "proposal": proposal,
            "lead": lead,
            "currency": pdf.currency_of(proposal),
            "link": link,
            "may_send": can_work(request.user, lead)
            and proposal.state in (ProposalState.DRAFT, ProposalState.SENT),
        },
    )


def _pdf(proposal: Proposal) -> HttpResponse:
    response = HttpResponse(pdf.render(proposal), content_type="application/pdf")
    name = f"proposal-{proposal.opportunity_id}-{proposal.number}.pdf"
    response["Content-Disposition"] = f'inline; filename="{name}"'
    return response


@login_required
def proposal_pdf(request: HttpRequest, proposal_id: int) -> HttpResponse:
    return _pdf(_proposal(request, proposal_id))


# --- the prospect's page -----------------------------------------------------------------------


def _by_token(request: HttpRequest, token: str) -> Proposal | HttpResponse:
    try:
        return links.proposal_for(token)
    except links.LinkRefused as refused:
        if refused.expired:
            return render(request, "sales/public_expired.html", status=410)
        raise Http404 from None


def _ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def public(request: HttpRequest, token: str) -> HttpResponse:
    """What the prospect sees: the proposal, and while it awaits an answer, accept or decline."""
    found = _by_token(request, token)
    if isinstance(found, HttpResponse):
        return found
    proposal = found
    accept_form, decline_form = AcceptForm(prefix="accept"), DeclineForm(prefix="decline")
    if request.method == "POST":
        if request.POST.get("action") == "decline":
            decline_form = DeclineForm(request.POST, prefix="decline")
            done = _act(
                decline_form,
                lambda d: links.decline(proposal, reason=d["reason"], ip=_ip(request), source=WEB),
            )
        else:
            accept_form = AcceptForm(request.POST, prefix="accept")
            done = _act(
                accept_form,
                lambda d: links.accept(
                    proposal, name=d["name"], agreed=d["agree"], ip=_ip(request), source=WEB
                ),
            )
        if done is not None:
            return redirect("sales:public", token)
        proposal.refresh_from_db()
    return render(
        request,
        "sales/public.html",
        {
            "proposal": proposal,
            "lead": proposal.opportunity.lead,
            "currency": pdf.currency_of(proposal),
            "token": token,
            "accept_form": accept_form,
            "decline_form": decline_form,
            # a refusal of the proposal itself (answered already) shows without the forms
            "refusals": [*accept_form.non_field_errors(), *decline_form.non_field_errors()],
        },
    )


def public_pdf(request: HttpRequest, token: str) -> HttpResponse:
    found = _by_token(request, token)
    return found if isinstance(found, HttpResponse) else _pdf(found)

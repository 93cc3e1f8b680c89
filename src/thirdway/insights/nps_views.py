"""The net promoter pages: the question a link or the portal opens, and the practice's setting
with the results."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from thirdway.accounts.models import Role
from thirdway.audit.models import Source
from thirdway.insights import nps, reports
from thirdway.insights.forms import NpsForm, NpsPolicyForm
from thirdway.insights.models import NpsPolicy
from thirdway.web.forms import add_service_errors, service_texts


def answer(request: HttpRequest, token: str) -> HttpResponse:
    """The page a link opens, without signing in (the signed link is the proof). Opening it
    never answers: only the buttons post a score."""
    try:
        survey = nps.survey_of_token(token)
    except ValidationError as error:
        context = {"problem": service_texts(error)[0]}
        return render(request, "insights/nps_done.html", context, status=400)
    if survey.score is not None:
        return render(request, "insights/nps_done.html", {"survey": survey})
    form = NpsForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        actor = request.user if request.user.is_authenticated else None
        try:
            survey = nps.answer(
                actor,
                token,
                score=form.cleaned_data["score"],
                comment=form.cleaned_data["comment"],
                source=Source.WEB,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return render(request, "insights/nps_done.html", {"survey": survey, "thanks": True})
    context = {"survey": survey, "form": form, "scores": range(11)}
    return render(request, "insights/nps.html", context, status=400 if form.errors else 200)


@login_required
def portal_question(request: HttpRequest) -> HttpResponse:
    """The portal's way to this quarter's question (a contact who is due)."""
    contact = getattr(request.user, "contact", None)
    if not request.user.is_client_contact or contact is None:
        raise Http404
    survey = nps.portal_survey(contact)
    if survey is None:
        raise Http404
    return answer(request, nps.survey_token(survey))


@login_required
def results(request: HttpRequest) -> HttpResponse:
    """Net promoter score per practice and client you see; the practice admin sets the rule."""
    user = request.user
    if not (user.is_network_staff or user.role == Role.CLIENT_ADMIN):
        raise Http404
    policy = NpsPolicy.current()
    initial = {
        "enabled": policy.enabled,
        "day_of_quarter": policy.day_of_quarter,
        "follow_up_detractors": policy.follow_up_detractors,
        "follow_up_at_most": policy.follow_up_at_most,
    }
    form = NpsPolicyForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if not user.is_practice_admin:
            raise Http404
        if form.is_valid():
            try:
                given = {k: v for k, v in form.cleaned_data.items() if v is not None}
                nps.set_policy(user, **given, source=Source.WEB)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                return redirect("insights:nps")
    context = {
        "policy": policy,
        "form": form if user.is_practice_admin else None,
        "results": {
            scope: reports.nps_results(user, scope)
            for scope in (("practice", "client") if user.is_network_staff else ("client",))
        },
    }
    return render(request, "insights/nps_results.html", context, status=400 if form.errors else 200)

"""Pages of agents: a client's agents (last seen, system, version, revoke), its enrolment
tokens (made with a site and an expiry, the secret shown once), and an agent's inventory with
the change history of its asset."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from thirdway.audit.models import Source
from thirdway.monitoring import agents
from thirdway.monitoring.access import can_manage, monitored_clients
from thirdway.monitoring.models import Agent, AgentEnrolmentToken, AssetChange, Check
from thirdway.web.forms import service_texts

HOURS = [(1, "1 hour"), (24, "1 day"), (24 * 7, "1 week"), (24 * 30, "30 days")]


def _client(request: HttpRequest, client_id: int):
    return get_object_or_404(monitored_clients(request.user), pk=client_id)


@login_required
def agent_list(request: HttpRequest, client_id: int) -> HttpResponse:
    """A client's agents: when each was last seen, what it runs on, and revoke."""
    client = _client(request, client_id)
    context = {
        "client": client,
        "agents": Agent.objects.filter(client=client).select_related("asset", "site"),
        "may_manage": can_manage(request.user, client),
        "stale_after": agents.DEFAULT_INTERVAL * 3,
        "now": timezone.now(),
    }
    return render(request, "monitoring/agents.html", context)


@login_required
@require_POST
def agent_revoke(request: HttpRequest, agent_id: int) -> HttpResponse:
    agent = get_object_or_404(
        Agent.objects.for_user(request.user).select_related("client"), pk=agent_id
    )
    agents.revoke_agent(request.user, agent, source=Source.WEB)
    messages.success(request, f"{agent.hostname} revoked: its secret no longer works.")
    return redirect("monitoring:agents", agent.client_id)


@login_required
def agent_detail(request: HttpRequest, agent_id: int) -> HttpResponse:
    """What the machine said about itself, and what changed on its asset, newest first."""
    agent = get_object_or_404(
        Agent.objects.for_user(request.user).select_related("client", "asset", "site"),
        pk=agent_id,
    )
    changes = AssetChange.objects.filter(asset_id=agent.asset_id)[:200] if agent.asset_id else []
    context = {
        "client": agent.client,
        "agent": agent,
        "inventory": agent.inventory or {},
        "changes": changes,
        "checks": Check.objects.filter(agent=agent),
        "may_manage": can_manage(request.user, agent.client),
    }
    return render(request, "monitoring/agent_detail.html", context)


def _site_of(client, raw: str):
    if not raw:
        return None
    try:
        return client.sites.get(pk=int(raw))
    except (ValueError, client.sites.model.DoesNotExist):
        raise ValidationError({"site": "Choose one of the client's sites."}) from None


@login_required
def agent_tokens(request: HttpRequest, client_id: int) -> HttpResponse:
    """A client's enrolment tokens: make one (its secret shown once), revoke an unused one."""
    client = _client(request, client_id)
    if not can_manage(request.user, client):
        raise PermissionDenied
    secret, error = None, ""
    if request.method == "POST":
        try:
            hours = int(request.POST.get("hours", "") or 0)
            site = _site_of(client, request.POST.get("site", ""))
            _, secret = agents.issue_enrolment_token(
                request.user,
                client,
                site=site,
                hours=hours,
                note=request.POST.get("note", ""),
                source=Source.WEB,
            )
        except ValueError:
            error = "Choose how long the token may be used."
        except ValidationError as refused:
            error = " ".join(service_texts(refused))
    now = timezone.now()
    tokens = AgentEnrolmentToken.objects.filter(client=client).select_related("site")[:100]
    context = {
        "client": client,
        "tokens": [(token, token.state_at(now)) for token in tokens],
        "secret": secret,
        "error": error,
        "hours": HOURS,
        "sites": client.sites.all(),
        "server": request.build_absolute_uri("/").rstrip("/"),
    }
    return render(request, "monitoring/agent_tokens.html", context)


@login_required
@require_POST
def agent_token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    token = get_object_or_404(
        AgentEnrolmentToken.objects.for_user(request.user).select_related("client"), pk=token_id
    )
    agents.revoke_enrolment_token(request.user, token, source=Source.WEB)
    messages.success(request, f"The token {token.prefix}… can no longer enrol a machine.")
    return redirect("monitoring:agent_tokens", token.client_id)

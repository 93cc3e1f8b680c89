"""The desk's queues: filters, sorting, bulk changes, saved views and search."""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from thirdway.accounts.models import Role
from thirdway.audit.models import Source
from thirdway.network.models import Skill
from thirdway.tickets import services
from thirdway.tickets.assignment import next_ticket
from thirdway.tickets.assignment.models import DispatchKind
from thirdway.tickets.filters import QueueFilter
from thirdway.tickets.forms import QUERY_KEYS, BulkForm, SavedViewForm, partner_for
from thirdway.tickets.lifecycle import OPEN, WAITING, Status
from thirdway.tickets.models import SavedView, Ticket
from thirdway.tickets.notifications import services as notification_services
from thirdway.tickets.notifications.models import Notification
from thirdway.tickets.queue_rows import ROW_FIELDS, queue_rows, with_last_public_message
from thirdway.tickets.search import search as search_tickets
from thirdway.tickets.views.desk import _LEVELS, _active_partners, _form_errors, _require_staff
from thirdway.web.paging import UnionPaginator

PAGE_SIZE = 50
QUEUES = {
    "mine": "Mine",
    "unassigned": "Unassigned in my practices",
    "triage": "Desk triage",
    "unassignable": "Nobody can take",
    "waiting": "Waiting",
    "all": "All I may see",
}
TRIAGE_ROLES = {Role.PRACTICE_ADMIN, Role.DESK}
DESK_QUEUES = {"triage", "unassignable"}


def queues_for(user) -> dict[str, str]:
    return {
        key: label
        for key, label in QUEUES.items()
        if key not in DESK_QUEUES or user.role in TRIAGE_ROLES
    }


def my_practices(user) -> list[int]:
    return sorted(Skill.objects.filter(partner__user=user).values_list("practice_id", flat=True))


def queue_tickets(user, queue: str, tickets=None, practices: list[int] | None = None):
    """The tickets of one queue, always within what ``user`` may see (``tickets``: one branch
    of ``Ticket.objects.branches_for_user``, or all they see; ``practices``: ``my_practices``,
    looked up once for all branches)."""
    tickets = Ticket.objects.for_user(user) if tickets is None else tickets
    if queue == "mine":
        return tickets.filter(assignee__user=user, status__in=OPEN)
    if queue == "unassigned":
        # The ids themselves, not a sub-select: the database then knows how many rows match.
        mine = my_practices(user) if practices is None else practices
        return tickets.filter(assignee__isnull=True, status__in=OPEN, practice__in=mine)
    if queue == "triage":
        return tickets.filter(status=Status.NEW, assignee__isnull=True)
    if queue == "unassignable":
        return tickets.filter(assignee__isnull=True, status__in=OPEN).exclude(
            unassignable_reason=""
        )
    if queue == "waiting":
        return tickets.filter(status__in=WAITING)
    return tickets


# Past this many tickets a queue's count in the sidebar says "999+": counting a million rows
# costs more than the page itself.
SIDEBAR_CAP = 999


DENSITIES = {"comfortable": "Comfortable", "compact": "Compact"}


def _density(request: HttpRequest) -> str:
    """The rows' density: chosen with ``?density=`` and remembered for the session."""
    wanted = request.GET.get("density")
    if wanted in DENSITIES:
        request.session["queue_density"] = wanted
    stored = request.session.get("queue_density")
    return stored if stored in DENSITIES else "comfortable"


def _sources(user, queue: str, access: list):
    """The branches a queue is read from: the access rule's, or for "mine" one branch."""
    if queue == "mine" and user.is_network_staff:
        # What is assigned to someone of the network is always theirs to see: one branch, where
        # the others (their clients', unassigned of their practices) only add empty look-ups.
        return [Ticket.objects.all()]
    return access


def queue_counts(
    user, queues: dict[str, str], access: list, practices: list[int] | None
) -> list[tuple[str, str, str]]:
    """Each queue with its label and how many tickets it holds (capped): one query a queue,
    whatever the page's filters."""
    counted = []
    for key, label in queues.items():
        branches = [
            queue_tickets(user, key, visible, practices) for visible in _sources(user, key, access)
        ]
        total = UnionPaginator(branches, PAGE_SIZE, ["pk"], list, cap=SIDEBAR_CAP).count
        counted.append((key, label, f"{SIDEBAR_CAP}+" if total > SIDEBAR_CAP else str(total)))
    return counted


def _query_of(params: QueryDict) -> str:
    """The queue's filters as a query string, in a fixed order, without the page."""
    pairs = [(key, value) for key in QUERY_KEYS for value in params.getlist(key) if value]
    return urlencode(pairs)


@login_required
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    _require_staff(request)
    user = request.user
    queues = queues_for(user)
    current = request.GET.get("queue") or "mine"
    if current not in queues:
        raise Http404
    partners = _active_partners(user)
    filters = QueueFilter(request.GET, user=user, partners=partners)
    filters.is_valid()  # valid fields filter; an invalid one shows its error and is ignored
    # The practices are looked up once, for this queue and the sidebar's counts alike.
    practices = my_practices(user) if "unassigned" in queues and not request.htmx else None
    if practices is None and current == "unassigned":
        practices = my_practices(user)
    access = Ticket.objects.branches_for_user(user)
    branches = [
        filters.filter_queryset(queue_tickets(user, current, visible, practices))
        for visible in _sources(user, current, access)
    ]
    rows = with_last_public_message(
        Ticket.objects.select_related("client", "requester", "assignee", "practice").only(
            *ROW_FIELDS
        )
    )
    page = UnionPaginator(
        branches,
        PAGE_SIZE,
        filters.ordering,
        lambda ids: rows.filter(pk__in=ids).prefetch_related("tags"),
    ).get_page(request.GET.get("page"))
    querystring = _query_of(request.GET)
    context = {
        "queue": current,
        "queue_label": queues[current],
        "page": page,
        "rows": queue_rows(page, timezone.now()),
        "querystring": querystring,
        "takes_next": current == "mine" and user.role == Role.PARTNER,
        "refresh_query": querystring + (f"&page={page.number}" if page.number > 1 else ""),
    }
    if request.htmx:
        return render(request, "tickets/_queue_rows.html", context)
    context |= {
        "density": _density(request),
        "densities": DENSITIES.items(),
        "queues": queues,
        "queue_counts": queue_counts(user, queues, access, practices),
        "form": filters.form,
        "bulk_form": BulkForm(partners=partners, auto_id="bulk_%s"),
        "saved_views": SavedView.objects.filter(user=user),
    }
    return render(request, "tickets/queue.html", context)


@login_required
@require_POST
def take_next(request: HttpRequest) -> HttpResponse:
    """Take my next ticket: the most urgent one I may take, by the dispatch rule."""
    _require_staff(request)
    ticket = next_ticket.take_next(request.user, source=Source.WEB)
    _spend_offer(request)
    if ticket is None:
        messages.info(request, "Nothing to take: no ticket is more urgent than your own queue.")
        return redirect(f"{reverse('tickets:queue')}?queue=mine")
    reason = ticket.dispatch_records.filter(kind=DispatchKind.TAKEN).first()
    messages.success(request, f"{ticket.number} is yours. {reason.reason if reason else ''}")
    return redirect("tickets:detail", ticket.number)


def _spend_offer(request: HttpRequest) -> None:
    """*Take it* on an offer's notice (``notification``): the notice is read once pressed,
    whether it took the offered ticket or another more urgent, or nothing was left."""
    wanted = request.POST.get("notification") or ""
    if not wanted.isdigit() or len(wanted) > 18:
        return
    notice = Notification.objects.for_user(request.user).filter(pk=int(wanted)).first()
    if notice is not None:
        notification_services.mark_read(request.user, notice)


def _next_url(request: HttpRequest, fallback: str) -> str:
    wanted = request.POST.get("next") or ""
    if url_has_allowed_host_and_scheme(wanted, {request.get_host()}, request.is_secure()):
        return wanted
    return fallback


@login_required
@require_POST
def bulk_update(request: HttpRequest) -> HttpResponse:
    _require_staff(request)
    user = request.user
    partners = _active_partners(user)
    visible = Ticket.objects.for_user(user)
    wanted = [pk for pk in request.POST.getlist("ticket") if pk.isdigit()]
    ticket_ids = list(visible.filter(pk__in=wanted).values_list("pk", flat=True))
    # Tickets out of sight (perhaps handed on since the queue was loaded) are left alone.
    data = request.POST.copy()
    data.setlist("ticket", [str(pk) for pk in ticket_ids])
    form = BulkForm(data, partners=partners, ticket_ids=ticket_ids)
    feedback = []
    if not form.is_valid():
        feedback = [("error", " ".join(_form_errors(form)))]
    else:
        data = form.cleaned_data
        try:
            assignee = partner_for(user, data["assignee"], partners)
        except forms.ValidationError as error:
            feedback = [("error", " ".join(error.messages))]
        else:
            result = services.bulk_update(
                user,
                list(visible.filter(pk__in=data["ticket"]).order_by("pk")),
                status=data["status"] or None,
                assignee=assignee,
                unassign=data["assignee"] == "none",
                priority=data["priority"],
                reason=data["reason"],
                source=Source.WEB,
            )
            feedback = _bulk_feedback(result)
    if request.htmx:
        response = render(request, "tickets/_feedback.html", {"feedback": feedback})
        response["HX-Trigger"] = "queue-refresh"
        return response
    for level, text in feedback:
        messages.add_message(request, messages.ERROR if level == "error" else messages.INFO, text)
    return redirect(_next_url(request, reverse("tickets:queue")))


def _bulk_feedback(result: services.BulkResult) -> list[tuple[str, str]]:
    numbers = Ticket.objects.in_bulk([*result.updated, *result.refused])
    feedback = []
    if result.updated:
        done = ", ".join(numbers[pk].number for pk in result.updated)
        feedback.append(("success", f"Updated {len(result.updated)}: {done}."))
    for pk, reason in result.refused.items():
        feedback.append(("error", f"{numbers[pk].number} refused: {reason}"))
    return feedback


# --- saved views (a person's own; no one else sees or deletes them) -------------------------------


@login_required
@require_POST
def saved_view_save(request: HttpRequest) -> HttpResponse:
    _require_staff(request)
    form = SavedViewForm(request.POST)
    # The filters come along (htmx includes the filter form); without them, the page's query.
    fields = any(key in request.POST for key in QUERY_KEYS)
    query = _query_of(request.POST if fields else QueryDict(request.POST.get("query", "")))
    limit = SavedView._meta.get_field("query").max_length
    if len(query) > limit:
        feedback = [("error", f"These filters are too long to save (over {limit} characters).")]
    elif form.is_valid():
        view = services.save_view(request.user, form.cleaned_data["name"], query, source=Source.WEB)
        feedback = [("success", f"Saved the view “{view.name}”.")]
    else:
        feedback = [("error", "Give the view a name (at most 80 characters).")]
    if request.htmx:
        views = SavedView.objects.filter(user=request.user)
        context = {"saved_views": views, "feedback": feedback, "querystring": query}
        return render(request, "tickets/_saved_views.html", context)
    for level, text in feedback:
        messages.add_message(request, _LEVELS[level], text)
    return redirect(f"{reverse('tickets:queue')}?{query}")


@login_required
@require_POST
def saved_view_delete(request: HttpRequest, view_id: int) -> HttpResponse:
    _require_staff(request)
    view = get_object_or_404(SavedView.objects.filter(user=request.user), pk=view_id)
    services.delete_view(request.user, view, source=Source.WEB)
    if request.htmx:
        views = SavedView.objects.filter(user=request.user)
        return render(request, "tickets/_saved_views.html", {"saved_views": views})
    messages.success(request, f"Deleted the view “{view.name}”.")
    return redirect("tickets:queue")


# --- search ---------------------------------------------------------------------------------------


@login_required
@require_GET
def search(request: HttpRequest) -> HttpResponse:
    _require_staff(request)
    query = request.GET.get("q", "").strip()[:200]
    hits = search_tickets(request.user, query) if query else []
    ids = [hit.ticket.pk for hit in hits]
    tickets = Ticket.objects.filter(pk__in=ids).select_related("client", "assignee").in_bulk()
    rows = [(tickets[hit.ticket.pk], hit.snippet) for hit in hits]
    return render(request, "tickets/search.html", {"q": query, "rows": rows})

"""The desk: queues, search, new tickets, the ticket page and its actions.

For the network only (client contacts have the portal; to anyone else these pages do not
exist), except the attachment download, which serves whoever ``Attachment.objects.for_user``
lets see the file.  Actions answer htmx with the fragment they changed and fall back to a
redirect with a message.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from thirdway.accounts.models import Role
from thirdway.audit.models import AuditRecord, Source
from thirdway.network.models import Absence, Partner, Skill
from thirdway.tickets import lifecycle, services
from thirdway.tickets.assignment import continuity, dispatching
from thirdway.tickets.forms import (
    LONG_LIST,
    QUERY_KEYS,
    AssignForm,
    BulkForm,
    LinkForm,
    MergeForm,
    NewTicketForm,
    PriorityForm,
    QueueFilterForm,
    ReplyForm,
    SavedViewForm,
    SplitForm,
    StatusForm,
    partner_for,
    uploads_of,
)
from thirdway.tickets.lifecycle import LABELS, OPEN, WAITING, Status, TransitionRefused
from thirdway.tickets.models import (
    Article,
    ArticleKind,
    Attachment,
    CannedReply,
    DispatchRecord,
    Handover,
    SavedView,
    Ticket,
    TicketLink,
    pk_of_number,
)
from thirdway.tickets.queue_rows import ROW_FIELDS, queue_rows
from thirdway.tickets.search import search as search_tickets
from thirdway.tickets.sla_clocks import clocks
from thirdway.web.forms import add_service_errors
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
ORDERINGS = {
    "updated": ["-updated_at", "-id"],
    "created": ["-created_at", "-id"],
    "priority": ["priority", "-updated_at", "-id"],
    "sla": list(clocks.BREACHES_SOONEST),
}
SLA_SOON = dt.timedelta(hours=4)


def _require_staff(request: HttpRequest) -> None:
    """The desk is for the network; to anyone else it does not exist."""
    if not request.user.is_network_staff:
        raise Http404


def _active_partners(user):
    return Partner.objects.for_user(user).filter(is_active=True).order_by("name")


def _assign_choices(user, ticket: Ticket):
    """Everyone in a small network; in a large one, who fits this ticket: the current
    assignee, the client's lead and team, and the practice's fifty most skilled."""
    partners = _active_partners(user)
    if partners.count() <= LONG_LIST:
        return partners
    fits = Q(pk=ticket.assignee_id) | Q(pk=ticket.client.lead_partner_id)
    fits |= Q(served_clients=ticket.client_id)
    if ticket.practice_id:
        experts = Skill.objects.filter(practice_id=ticket.practice_id, partner__is_active=True)
        fits |= Q(pk__in=experts.order_by("-level", "partner_id").values("partner_id")[:50])
    return partners.filter(fits).distinct()


# --- queues ---------------------------------------------------------------------------------------


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


def _ordering(data: dict) -> list[str]:
    return ORDERINGS.get(data.get("sort") or "updated", ORDERINGS["updated"])


def _filtered(user, tickets, data: dict):
    status = data.get("status")
    if status == "open":
        tickets = tickets.filter(status__in=OPEN)
    elif status:
        tickets = tickets.filter(status=status)
    if data.get("priority"):
        tickets = tickets.filter(priority=data["priority"])
    client = data.get("client")
    if isinstance(client, str) and client.strip():
        client = client.strip()
        by_id = Q(client_id=int(client)) if client.isdigit() else Q(client__name__icontains=client)
        tickets = tickets.filter(by_id)
    elif client:
        tickets = tickets.filter(client=client)
    if data.get("practice"):
        tickets = tickets.filter(practice=data["practice"])
    assignee = data.get("assignee")
    if assignee == "me":
        tickets = tickets.filter(assignee__user=user)
    elif assignee == "none":
        tickets = tickets.filter(assignee__isnull=True)
    elif assignee and str(assignee).isdigit():
        tickets = tickets.filter(assignee_id=int(assignee))
    elif assignee:
        tickets = tickets.filter(assignee__name__icontains=assignee)
    if data.get("tag"):
        tickets = tickets.filter(tags__name=data["tag"].strip().lower())
    if data.get("sla") == "breached":
        tickets = tickets.filter(sla_due_at__lte=timezone.now())
    elif data.get("sla") == "soon":
        tickets = tickets.filter(sla_due_at__lte=timezone.now() + SLA_SOON)
    text = (data.get("q") or "").strip()
    if text:
        match = (
            Q(subject__icontains=text)
            | Q(search_text__icontains=text)
            | Q(note_text__icontains=text)
        )
        number = pk_of_number(text)
        tickets = tickets.filter(match | Q(pk=number) if number else match)
    return tickets.order_by(*_ordering(data))


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
    form = QueueFilterForm(request.GET, user=user, partners=partners)
    form.is_valid()  # valid fields filter; an invalid one shows its error and is ignored
    data = form.cleaned_data
    practices = my_practices(user) if current == "unassigned" else None
    if current == "mine" and user.is_network_staff:
        # What is assigned to someone of the network is always theirs to see: one branch, where
        # the others (their clients', unassigned of their practices) only add empty look-ups.
        sources = [Ticket.objects.all()]
    else:
        sources = Ticket.objects.branches_for_user(user)
    branches = [
        _filtered(user, queue_tickets(user, current, visible, practices), data)
        for visible in sources
    ]
    rows = Ticket.objects.select_related("client", "requester", "assignee", "practice").only(
        *ROW_FIELDS
    )
    page = UnionPaginator(
        branches,
        PAGE_SIZE,
        _ordering(data),
        lambda ids: rows.filter(pk__in=ids).prefetch_related("tags"),
    ).get_page(request.GET.get("page"))
    querystring = _query_of(request.GET)
    context = {
        "queue": current,
        "queue_label": queues[current],
        "page": page,
        "rows": queue_rows(page, timezone.now()),
        "querystring": querystring,
        "refresh_query": querystring + (f"&page={page.number}" if page.number > 1 else ""),
    }
    if request.htmx:
        return render(request, "tickets/_queue_rows.html", context)
    context |= {
        "queues": queues,
        "form": form,
        "bulk_form": BulkForm(partners=partners, auto_id="bulk_%s"),
        "saved_views": SavedView.objects.filter(user=user),
    }
    return render(request, "tickets/queue.html", context)


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


def _form_errors(form: forms.Form) -> list[str]:
    texts = []
    for field, errors in form.errors.items():
        label = form.fields[field].label or field if field in form.fields else ""
        for error in errors:
            texts.append(f"{str(label).capitalize()}: {error}" if label else error)
    return texts


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


# --- a new ticket ---------------------------------------------------------------------------------


@login_required
def ticket_create(request: HttpRequest) -> HttpResponse:
    _require_staff(request)
    user = request.user
    if request.method == "POST":
        form = NewTicketForm(request.POST, request.FILES, user=user)
    else:
        form = NewTicketForm(initial={"client": request.GET.get("client")}, user=user)
    if request.method == "GET" and request.htmx:
        # The client changed: offer that client's requesters, sites and assets.
        return render(request, "tickets/_client_fields.html", {"form": form})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            ticket = services.create_ticket(
                user,
                data["client"],
                subject=data["subject"],
                body_text=data["body"],
                requester_id=_pk(data["requester"]),
                site_id=_pk(data["site"]),
                asset_id=_pk(data["asset"]),
                practice_id=_pk(data["practice"]),
                type=data["type"],
                impact=data["impact"],
                urgency=data["urgency"],
                priority=data["priority"],
                priority_reason=data["priority_reason"],
                needs_onsite=data["needs_onsite"],
                visit_starts_at=data["visit_starts_at"],
                visit_ends_at=data["visit_ends_at"],
                tags=data["tags"],
                uploads=uploads_of(data["attachments"]),
                source=Source.WEB,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionDenied as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"{ticket.number} opened.")
            return redirect("tickets:detail", ticket.number)
    return render(request, "tickets/ticket_form.html", {"form": form})


def _pk(obj) -> int | None:
    return obj.pk if obj is not None else None


# --- the ticket page ------------------------------------------------------------------------------


def _visible_tickets(request: HttpRequest):
    return Ticket.objects.for_user(request.user).select_related(
        "client", "requester", "site", "asset", "practice", "assignee", "merged_into"
    )


def _ticket(request: HttpRequest, ref: str) -> Ticket:
    """The ticket behind ``TW-10234`` or an id, if the viewer may see it (404 otherwise)."""
    _require_staff(request)
    pk = pk_of_number(ref) if ref.upper().startswith("TW-") else int(ref)
    if pk is None:
        raise Http404
    return get_object_or_404(_visible_tickets(request), pk=pk)


def _canned(ticket: Ticket):
    return CannedReply.objects.filter(Q(practice__isnull=True) | Q(practice=ticket.practice_id))


def _ticket_context(request: HttpRequest, ticket: Ticket, **extra) -> dict:
    user = request.user
    visible = Ticket.objects.for_user(user)
    articles = (
        Article.objects.for_user(user)
        .filter(ticket=ticket)
        .select_related("author")
        .prefetch_related("attachments")
    )
    me = getattr(user, "partner", None)
    can_act = ticket.status != Status.MERGED
    context = {
        "ticket": ticket,
        "articles": articles,
        "tags": ticket.tags.all(),
        "watchers": ticket.watchers.all(),
        "links_out": TicketLink.objects.filter(source=ticket, target__in=visible).select_related(
            "target"
        ),
        "links_in": TicketLink.objects.filter(target=ticket, source__in=visible).select_related(
            "source"
        ),
        "merged_here": visible.filter(merged_into=ticket),
        "can_act": can_act,
        "can_assign_me": can_act and me is not None and me.is_active and ticket.assignee != me,
        "partners": _assign_choices(user, ticket) if can_act else [],
        "next_statuses": [
            (value, LABELS[Status(value)]) for value in lifecycle.allowed_from(ticket.status)
        ],
        "matrix_priority": lifecycle.priority_for(ticket.impact, ticket.urgency),
        "canned": _canned(ticket),
        "levels": [1, 2, 3],
        "priorities": [1, 2, 3, 4],
        "link_kinds": TicketLink._meta.get_field("kind").choices,
        "records": AuditRecord.objects.for_scope(f"ticket:{ticket.pk}")[:50],
        "max_upload": settings.ATTACHMENT_MAX_BYTES,
        "sla_clocks": clocks.views_of(ticket),
        "dispatch_records": list(
            DispatchRecord.objects.filter(ticket=ticket).select_related("partner", "actor")[:6]
        ),
        "feedback": [],
    }
    context.setdefault("reply_form", ReplyForm(canned=context["canned"]))
    context.update(extra)
    return context


@login_required
@require_GET
def ticket_detail(request: HttpRequest, ref: str) -> HttpResponse:
    ticket = _ticket(request, ref)
    return render(request, "tickets/ticket_detail.html", _ticket_context(request, ticket))


@login_required
@require_POST
def reply(request: HttpRequest, ref: str) -> HttpResponse:
    """A public reply or, with "internal" ticked, an internal note; files ride along."""
    ticket = _ticket(request, ref)
    form = ReplyForm(request.POST, request.FILES, canned=_canned(ticket))
    if form.is_valid():
        data = form.cleaned_data
        write = services.note if data["internal"] else services.reply
        try:
            article = write(
                request.user,
                ticket,
                body_text=data["body"],
                uploads=uploads_of(data["attachments"]),
                time_spent_minutes=data["time_spent_minutes"] or 0,
                source=Source.WEB,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Note added." if data["internal"] else "Reply sent.")
            url = reverse("tickets:detail", args=[ticket.number])
            return redirect(f"{url}#article-{article.pk}")
    context = _ticket_context(request, ticket, reply_form=form)
    return render(request, "tickets/ticket_detail.html", context, status=400)


def _answer(request: HttpRequest, ticket: Ticket, feedback: list[tuple[str, str]]):
    """After an action: the changed fragments for htmx, else back to the page with a message."""
    fresh = _visible_tickets(request).filter(pk=ticket.pk).first()
    if fresh is None:
        # No longer theirs to see (an associate handing a ticket on): back to the queue.
        for level, text in feedback:
            messages.add_message(request, _LEVELS[level], text)
        url = reverse("tickets:queue")
        if request.htmx:
            response = HttpResponse(status=204)
            response["HX-Redirect"] = url
            return response
        return redirect(url)
    if request.htmx:
        context = _ticket_context(request, fresh, feedback=feedback, oob=True)
        return render(request, "tickets/_ticket_update.html", context)
    for level, text in feedback:
        messages.add_message(request, _LEVELS[level], text)
    return redirect("tickets:detail", fresh.number)


_LEVELS = {"success": messages.SUCCESS, "error": messages.ERROR, "info": messages.INFO}


def _errors(error: Exception) -> list[tuple[str, str]]:
    """A service's refusal as messages, each with what is allowed (as the forms show them)."""
    if not isinstance(error, ValidationError):
        return [("error", str(error))]
    groups = error.error_dict.values() if hasattr(error, "error_dict") else [error.error_list]
    feedback = []
    for items in groups:
        for item in items:
            message = item.message % item.params if item.params else item.message
            allowed = (item.params or {}).get("allowed")
            feedback.append(("error", f"{message} Allowed: {allowed}." if allowed else message))
    return feedback


def _refused(ticket: Ticket, error: TransitionRefused) -> list[tuple[str, str]]:
    allowed = ", ".join(LABELS[Status(value)] for value in error.allowed) or "none"
    known = {status.value for status in Status}
    wanted = LABELS[Status(error.wanted)] if error.wanted in known else None
    text = (
        f"{ticket.number} cannot go from {LABELS[error.current]} to "
        f"{wanted or repr(error.wanted)}. Allowed: {allowed}."
    )
    return [("error", text)]


@login_required
@require_POST
def assign(request: HttpRequest, ref: str) -> HttpResponse:
    ticket = _ticket(request, ref)
    form = AssignForm(request.POST)
    form.is_valid()
    try:
        partner = partner_for(
            request.user, form.cleaned_data.get("partner", ""), _active_partners(request.user)
        )
        services.assign(
            request.user,
            ticket,
            partner,
            reason=form.cleaned_data.get("reason", ""),
            source=Source.WEB,
        )
    except (ValidationError, PermissionDenied) as error:
        return _answer(request, ticket, _errors(error))
    text = f"Assigned to {partner}." if partner else "Returned to the queue."
    return _answer(request, ticket, [("success", text)])


@login_required
@require_POST
def suggest(request: HttpRequest, ref: str) -> HttpResponse:
    """Rank the partners for this ticket now (assigns nobody)."""
    ticket = _ticket(request, ref)
    try:
        record = dispatching.suggest(request.user, ticket)
    except PermissionDenied as error:
        return _answer(request, ticket, _errors(error))
    if record.partner_id is None:
        return _answer(request, ticket, [("info", record.reason)])
    text = f"{record.candidates[0]['name']} ranks first of {record.feasible_count}."
    return _answer(request, ticket, [("success", text)])


@login_required
@require_POST
def change_status(request: HttpRequest, ref: str) -> HttpResponse:
    ticket = _ticket(request, ref)
    form = StatusForm(request.POST)
    if not form.is_valid():
        return _answer(request, ticket, [("error", " ".join(_form_errors(form)))])
    data = form.cleaned_data
    try:
        services.change_status(
            request.user,
            ticket,
            data["status"],
            reason=data["reason"],
            force=data["force"],
            source=Source.WEB,
        )
    except TransitionRefused as error:
        return _answer(request, ticket, _refused(ticket, error))
    except (ValidationError, PermissionDenied) as error:
        return _answer(request, ticket, _errors(error))
    return _answer(request, ticket, [("success", f"Status: {LABELS[Status(data['status'])]}.")])


@login_required
@require_POST
def change_priority(request: HttpRequest, ref: str) -> HttpResponse:
    ticket = _ticket(request, ref)
    form = PriorityForm(request.POST)
    if not form.is_valid():
        return _answer(request, ticket, [("error", " ".join(_form_errors(form)))])
    data = form.cleaned_data
    try:
        changed = services.change_priority(
            request.user,
            ticket,
            priority=data["priority"],
            impact=data["impact"],
            urgency=data["urgency"],
            reason=data["reason"],
            source=Source.WEB,
        )
    except (ValidationError, PermissionDenied) as error:
        return _answer(request, ticket, _errors(error))
    return _answer(request, ticket, [("success", f"Priority: P{changed.priority}.")])


def _other_ticket(request: HttpRequest, pk: int) -> Ticket:
    found = Ticket.objects.for_user(request.user).filter(pk=pk).first()
    if found is None:
        raise ValidationError(f"No ticket {Ticket(pk=pk).number} that you can see.")
    return found


@login_required
@require_POST
def merge(request: HttpRequest, ref: str) -> HttpResponse:
    ticket = _ticket(request, ref)
    form = MergeForm(request.POST)
    if not form.is_valid():
        return _answer(request, ticket, [("error", " ".join(_form_errors(form)))])
    try:
        target = _other_ticket(request, form.cleaned_data["target"])
        services.merge(request.user, ticket, target, source=Source.WEB)
    except (ValidationError, PermissionDenied) as error:
        return _answer(request, ticket, _errors(error))
    return _answer(request, ticket, [("success", f"Merged into {target.number}.")])


@login_required
@require_POST
def link(request: HttpRequest, ref: str) -> HttpResponse:
    ticket = _ticket(request, ref)
    form = LinkForm(request.POST)
    if not form.is_valid():
        return _answer(request, ticket, [("error", " ".join(_form_errors(form)))])
    try:
        target = _other_ticket(request, form.cleaned_data["target"])
        services.link(request.user, ticket, target, form.cleaned_data["kind"], source=Source.WEB)
    except (ValidationError, PermissionDenied) as error:
        return _answer(request, ticket, _errors(error))
    return _answer(request, ticket, [("success", f"Linked to {target.number}.")])


@login_required
@require_POST
def split(request: HttpRequest, ref: str) -> HttpResponse:
    ticket = _ticket(request, ref)
    own = Article.objects.for_user(request.user).filter(ticket=ticket)
    ids = own.exclude(kind=ArticleKind.EVENT).values_list("pk", flat=True)
    form = SplitForm(request.POST, article_ids=list(ids))
    if not form.is_valid():
        return _answer(request, ticket, [("error", " ".join(_form_errors(form)))])
    try:
        new = services.split(
            request.user,
            ticket,
            form.cleaned_data["articles"],
            subject=form.cleaned_data["subject"],
            source=Source.WEB,
        )
    except (ValidationError, PermissionDenied) as error:
        return _answer(request, ticket, _errors(error))
    return _answer(request, ticket, [("success", f"Split off into {new.number}.")])


# --- attachments (role-agnostic: the portal links here too) ---------------------------------------


@login_required
@require_GET
def attachment_download(request: HttpRequest, attachment_id: int) -> HttpResponse:
    """A file of a ticket, to whoever may see it, always as a download and never sniffed."""
    attachment = get_object_or_404(Attachment.objects.for_user(request.user), pk=attachment_id)
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=attachment.filename,
        content_type=attachment.content_type or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


# --- absence continuity ----------------------------------------------------------------------


@login_required
@require_GET
def handovers(request: HttpRequest) -> HttpResponse:
    """Tickets handed to deputies during my absences, and those I hold for others."""
    _require_staff(request)
    me = getattr(request.user, "partner", None)
    mine = Handover.objects.filter(from_partner=me) if me else Handover.objects.none()
    held = Handover.objects.filter(to_partner=me) if me else Handover.objects.none()
    related = ("ticket", "absence", "from_partner", "to_partner")
    return render(
        request,
        "tickets/handovers.html",
        {
            "mine": mine.select_related(*related).order_by("-handed_at")[:200],
            "held": held.filter(returned_at__isnull=True).select_related(*related)[:200],
        },
    )


@login_required
@require_POST
def take_back(request: HttpRequest, absence_id: int) -> HttpResponse:
    _require_staff(request)
    absence = get_object_or_404(Absence.objects.for_user(request.user), pk=absence_id)
    try:
        count = continuity.take_back(request.user, absence, source=Source.WEB)
    except PermissionDenied:
        raise Http404 from None
    messages.success(request, f"{count} ticket(s) taken back.")
    return redirect("tickets:handovers")

"""The ticket page and its actions: reply, assign, suggest, status, priority, merge,
link and split."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from thirdway.audit.models import AuditRecord, Source
from thirdway.tickets import event_texts, lifecycle, services
from thirdway.tickets.assignment import dispatching, incidents, offers, surge
from thirdway.tickets.field_forms import EDITABLE, field_form
from thirdway.tickets.forms import (
    AssignForm,
    LinkForm,
    MergeForm,
    PriorityForm,
    ReplyForm,
    SplitForm,
    StatusForm,
    partner_for,
    uploads_of,
)
from thirdway.tickets.lifecycle import LABELS, Status, TransitionRefused
from thirdway.tickets.models import (
    Article,
    ArticleKind,
    CannedReply,
    DispatchRecord,
    IncidentLink,
    Ticket,
    TicketLink,
    pk_of_number,
)
from thirdway.tickets.sla_clocks import clocks
from thirdway.tickets.views.desk import _LEVELS, _active_partners, _form_errors, _require_staff
from thirdway.web.forms import add_service_errors

# Moves that end the work: the page asks for a resolution note with them.
FINISHING = frozenset({Status.RESOLVED, Status.CLOSED})


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


def _canned(ticket: Ticket, user):
    """The shared replies for the ticket's practice (or every practice) and the user's own."""
    shared = Q(owner__isnull=True) & (Q(practice__isnull=True) | Q(practice=ticket.practice_id))
    return CannedReply.objects.for_user(user).filter(shared | Q(owner=user))


def _ticket_context(request: HttpRequest, ticket: Ticket, **extra) -> dict:
    user = request.user
    visible = Ticket.objects.for_user(user)
    articles = event_texts.for_reader(
        user,
        list(
            Article.objects.for_user(user)
            .filter(ticket=ticket)
            .select_related("author")
            .prefetch_related("attachments")
        ),
    )
    me = getattr(user, "partner", None)
    can_act = ticket.status != Status.MERGED
    # In the lifecycle's own order (new → closed), as people read it.
    allowed = [status for status in Status if status in lifecycle.allowed_from(ticket.status)]
    next_statuses = [(status.value, LABELS[status]) for status in allowed]
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
        # The ticket this one was merged into, when the reader may see it (else it is unnamed).
        "merged_into": visible.filter(pk=ticket.merged_into_id).first()
        if ticket.merged_into_id
        else None,
        "can_act": can_act,
        "can_assign_me": can_act and me is not None and me.is_active and ticket.assignee != me,
        "assign_params": f"ticket={ticket.number}",
        "next_statuses": next_statuses,
        "quick_moves": [(s.value, LABELS[s]) for s in allowed if s not in FINISHING],
        "finishing_moves": [(s.value, LABELS[s]) for s in allowed if s in FINISHING],
        "time_spent": time_spent(ticket),
        "matrix_priority": lifecycle.priority_for(ticket.impact, ticket.urgency),
        "canned": _canned(ticket, user),
        "levels": [1, 2, 3],
        "priorities": [1, 2, 3, 4],
        "link_kinds": TicketLink._meta.get_field("kind").choices,
        "records": AuditRecord.objects.for_scope(f"ticket:{ticket.pk}")[:50],
        "max_upload": settings.ATTACHMENT_MAX_BYTES,
        "sla_clocks": clocks.views_of(ticket),
        "dispatch_records": list(
            DispatchRecord.objects.filter(ticket=ticket).select_related("partner", "actor")[:6]
        ),
        "open_offer": offers.open_offer(ticket),
        "surge_hold": surge.shown_hold(ticket.pk),
        "incident_parent": IncidentLink.objects.filter(child=ticket, parent__in=visible)
        .select_related("parent")
        .first(),
        "incident_children": IncidentLink.objects.filter(parent=ticket, child__in=visible)
        .select_related("child", "child__assignee")
        .order_by("linked_at", "pk"),
        "feedback": [],
    }
    context.setdefault(
        "reply_form", ReplyForm(canned=context["canned"], next_statuses=next_statuses)
    )
    context.update(extra)
    editing = context.get("editing")
    if editing and "edit_form" not in context and can_act:
        context["edit_form"] = field_form(user, ticket, editing)
    if "edit_form" in context:
        context["edit_field"] = context["edit_form"][editing]
    return context


def _minutes_text(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h {rest:02d} min" if rest else f"{hours} h"


def time_spent(ticket: Ticket) -> dict[str, str] | None:
    """The time logged on the ticket's replies and notes, in all and billable."""
    sums = Article.objects.filter(ticket=ticket).aggregate(
        total=Sum("time_spent_minutes"),
        billable=Sum("time_spent_minutes", filter=Q(billable=True)),
    )
    if not sums["total"]:
        return None
    return {
        "total": _minutes_text(sums["total"]),
        "billable": _minutes_text(sums["billable"] or 0),
    }


@login_required
@require_GET
def ticket_detail(request: HttpRequest, ref: str) -> HttpResponse:
    """The ticket; ``?edit=<field>`` opens that field's form in place (the page without
    JavaScript does what htmx does in place)."""
    ticket = _ticket(request, ref)
    editing = request.GET.get("edit", "")
    extra = {"editing": editing} if editing in EDITABLE else {}
    return render(request, "tickets/ticket_detail.html", _ticket_context(request, ticket, **extra))


@login_required
@require_POST
def reply(request: HttpRequest, ref: str) -> HttpResponse:
    """A public reply or, with "internal" ticked, an internal note; files ride along."""
    ticket = _ticket(request, ref)
    possible = lifecycle.allowed_from(ticket.status)
    next_statuses = [(s.value, LABELS[s]) for s in Status if s in possible]
    form = ReplyForm(
        request.POST,
        request.FILES,
        canned=_canned(ticket, request.user),
        next_statuses=next_statuses,
    )
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
                work_type=data["work_type"],
                billable=data["billable"],
                source=Source.WEB,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Note added." if data["internal"] else "Reply sent.")
            if data["then_status"]:
                _then_status(request, ticket, data["then_status"])
            url = reverse("tickets:detail", args=[ticket.number])
            return redirect(f"{url}#article-{article.pk}")
    context = _ticket_context(request, ticket, reply_form=form)
    return render(request, "tickets/ticket_detail.html", context, status=400)


def _then_status(request: HttpRequest, ticket: Ticket, status: str) -> None:
    """The status chosen with a reply, set once the reply is stored (a refusal leaves the
    reply in place and says why)."""
    fresh = _visible_tickets(request).get(pk=ticket.pk)
    try:
        services.change_status(
            request.user, fresh, status, reason="With the reply above.", source=Source.WEB
        )
    except TransitionRefused as error:
        for _level, text in _refused(fresh, error):
            messages.error(request, text)
    except (ValidationError, PermissionDenied) as error:
        for _level, text in _errors(error):
            messages.error(request, text)
    else:
        messages.success(request, f"Status: {LABELS[Status(status)]}.")


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
    # The picked row's id; without JavaScript, what was typed ("me", an id or a name).
    wanted = form.cleaned_data.get("partner") or form.cleaned_data.get("partner_search", "")
    try:
        partner = partner_for(request.user, wanted.strip(), _active_partners(request.user))
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
    finishing = data["status"] in FINISHING and data["status"] in lifecycle.allowed_from(
        ticket.status
    )
    if finishing and not data["reason"].strip():
        verb = "resolve" if data["status"] == Status.RESOLVED else "close"
        text = f"Say what was done: a resolution note is needed to {verb} {ticket.number}."
        return _answer(request, ticket, [("error", text)])
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


@login_required
@require_POST
def unlink_incident(request: HttpRequest, ref: str) -> HttpResponse:
    """Unlink a ticket from its incident, from the child's page or the incident's."""
    ticket = _ticket(request, ref)
    child_ref = (request.POST.get("child") or "").strip()[:30]
    child_id = pk_of_number(child_ref) if child_ref else None
    if child_id is None:
        message = f"Say which ticket to unlink, e.g. {ticket.number}. Allowed: a ticket number."
        return _answer(request, ticket, [("error", message)])
    try:
        child = incidents.unlink(request.user, ticket, child_id, source=Source.WEB)
    except (ValidationError, PermissionDenied) as error:
        return _answer(request, ticket, _errors(error))
    return _answer(request, ticket, [("success", f"{child.number} unlinked from its incident.")])

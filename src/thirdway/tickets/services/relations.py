"""Merging, splitting and linking tickets."""

from __future__ import annotations

from django.db import transaction

from thirdway.audit.services import diff, gathering, record, snapshot
from thirdway.errors import invalid
from thirdway.tickets.assignment.arrival import dispatch_when_committed
from thirdway.tickets.bodies import clean_line
from thirdway.tickets.lifecycle import Status
from thirdway.tickets.models import (
    Article,
    ArticleKind,
    Attachment,
    LinkKind,
    Ticket,
    TicketLink,
)
from thirdway.tickets.search import refresh_search_text
from thirdway.tickets.services._shared import (
    TICKET_FIELDS,
    _event,
    _label,
    _lock,
    _refuse_merged,
    _require_worker,
    _scope,
)
from thirdway.tickets.webhooks import events

# --- merge, split, link --------------------------------------------------------------------------


@transaction.atomic
def merge(
    actor, source_ticket: Ticket, target: Ticket, *, field: str = "target", source: str
) -> Ticket:
    """Move every article and attachment of ``source_ticket`` into ``target``; the source stays
    as a pointer to the target.  ``field`` names the target in errors (the API's ``into``)."""
    _require_worker(actor, source_ticket)
    first, second = sorted([source_ticket.pk, target.pk])
    locked = {t.pk: t for t in Ticket.objects.select_for_update().filter(pk__in=[first, second])}
    source_ticket, target = locked[source_ticket.pk], locked[target.pk]
    if source_ticket.pk == target.pk:
        raise invalid(field, "A ticket cannot be merged into itself.", "another ticket")
    if source_ticket.client_id != target.client_id:
        raise invalid(
            field,
            "Tickets of different clients cannot be merged.",
            "a ticket of the same client",
        )
    for ticket in (source_ticket, target):
        _refuse_merged(ticket)
    moved = list(source_ticket.articles.values_list("pk", flat=True))
    Article.objects.filter(pk__in=moved).update(ticket=target)
    Attachment.objects.filter(ticket=source_ticket).update(ticket=target)
    target.watchers.add(*source_ticket.watchers.all())
    before = source_ticket.status
    source_ticket.status = Status.MERGED
    source_ticket.merged_into = target
    source_ticket.save(update_fields=["status", "merged_into", "updated_at"])
    _event(source_ticket, actor, "merged", f"Merged into {target.number}.", {"into": target.pk})
    _event(
        target,
        actor,
        "merged",
        f"{source_ticket.number} merged into this ticket ({len(moved)} articles).",
        {"from": source_ticket.pk, "articles": moved},
    )
    refresh_search_text(target)
    refresh_search_text(source_ticket)
    record(
        actor,
        "ticket.merge",
        source_ticket,
        source=source,
        scope=_scope(source_ticket),
        changes={"status": [before, Status.MERGED.value], "merged_into": [None, target.pk]},
    )
    events.emit("ticket.merged", source_ticket)
    return target


@transaction.atomic
def split(actor, ticket: Ticket, article_ids: list[int], *, subject: str, source: str) -> Ticket:
    """Move the given articles to a new ticket of the same client and requester."""
    _require_worker(actor, ticket)
    ticket = _lock(ticket)
    _refuse_merged(ticket)
    chosen = list(ticket.articles.filter(pk__in=article_ids).exclude(kind=ArticleKind.EVENT))
    if not chosen or len(chosen) != len(set(article_ids)):
        raise invalid(
            "articles",
            "Choose articles (replies or notes) of this ticket.",
            "ids of this ticket's replies and notes",
        )
    if ticket.articles.exclude(kind=ArticleKind.EVENT).count() == len(chosen):
        raise invalid(
            "articles",
            "Leave at least one article on the original ticket.",
            "a part of the ticket's articles",
        )
    new = Ticket.objects.create(
        client=ticket.client,
        requester=ticket.requester,
        site=ticket.site,
        asset=ticket.asset,
        practice=ticket.practice,
        subject=clean_line(subject) or ticket.subject,
        type=ticket.type,
        impact=ticket.impact,
        urgency=ticket.urgency,
        priority=ticket.priority,
        priority_reason=ticket.priority_reason,
        channel=ticket.channel,
    )
    ids = [article.pk for article in chosen]
    Article.objects.filter(pk__in=ids).update(ticket=new)
    Attachment.objects.filter(article_id__in=ids).update(ticket=new)
    new.watchers.add(*ticket.watchers.all())
    _event(
        ticket,
        actor,
        "split",
        f"{len(ids)} articles split off into {new.number}.",
        {"into": new.pk, "articles": ids},
    )
    _event(new, actor, "split", f"Split off from {ticket.number}.", {"from": ticket.pk})
    TicketLink.objects.create(source=new, target=ticket, kind=LinkKind.RELATED)
    for changed in (ticket, new):
        refresh_search_text(changed)
    record(
        actor,
        "ticket.split",
        ticket,
        source=source,
        scope=_scope(ticket),
        changes={"articles": [ids, None], "into": [None, new.pk]},
    )
    record(
        actor,
        "ticket.create",
        new,
        source=source,
        scope=_scope(new),
        changes=diff({}, snapshot(new, TICKET_FIELDS)),
    )
    events.emit("ticket.created", new)
    dispatch_when_committed(new)
    return new


@transaction.atomic
def link(actor, source_ticket: Ticket, target: Ticket, kind: str, *, source: str) -> TicketLink:
    """Relate two tickets; ``parent`` makes ``source_ticket`` the parent of ``target``."""
    _require_worker(actor, source_ticket)
    if kind not in LinkKind.values:
        raise invalid("kind", f"Unknown link kind {kind!r}.", ", ".join(LinkKind.values))
    if source_ticket.pk == target.pk:
        raise invalid("target", "A ticket cannot be linked to itself.", "another ticket")
    if kind == LinkKind.PARENT and _is_ancestor(target, source_ticket):
        raise invalid(
            "target",
            f"{target.number} is already above {source_ticket.number}.",
            "a ticket that is not one of its parents",
        )
    created, made = TicketLink.objects.get_or_create(source=source_ticket, target=target, kind=kind)
    if made:
        label = LinkKind(kind).label.lower()
        _event(
            source_ticket,
            actor,
            "linked",
            f"Now {label} {target.number}.",
            {"target": target.pk, "kind": kind},
        )
        record(
            actor,
            "ticket.link",
            source_ticket,
            source=source,
            scope=_scope(source_ticket),
            changes={"link": [None, f"{kind}:{target.pk}"]},
        )
    return created


@transaction.atomic
def link_children(actor, parent: Ticket, children: list[Ticket], *, source: str) -> int:
    """Make ``parent`` the parent of each of ``children`` at once (a playbook run's steps):
    the same checks, timeline events and audit records as :func:`link` one by one, written in
    a few statements.  Returns how many links are new."""
    _require_worker(actor, parent)
    if any(child.pk == parent.pk for child in children):
        raise invalid("target", "A ticket cannot be linked to itself.", "another ticket")
    ids = [child.pk for child in children]
    # A child with no child of its own cannot be above the parent: only the others are walked.
    with_children = set(
        TicketLink.objects.filter(source_id__in=ids, kind=LinkKind.PARENT).values_list(
            "source_id", flat=True
        )
    )
    for child in children:
        if child.pk in with_children and _is_ancestor(child, parent):
            raise invalid(
                "target",
                f"{child.number} is already above {parent.number}.",
                "a ticket that is not one of its parents",
            )
    present = set(
        TicketLink.objects.filter(
            source=parent, target_id__in=ids, kind=LinkKind.PARENT
        ).values_list("target_id", flat=True)
    )
    new = [child for child in children if child.pk not in present]
    TicketLink.objects.bulk_create(
        TicketLink(source=parent, target=child, kind=LinkKind.PARENT) for child in new
    )
    label = LinkKind(LinkKind.PARENT).label.lower()
    Article.objects.bulk_create(
        Article(
            ticket=parent,
            kind=ArticleKind.EVENT,
            author=actor,
            author_label=_label(actor),
            event="linked",
            body_text=f"Now {label} {child.number}.",
            data={"target": child.pk, "kind": LinkKind.PARENT.value},
        )
        for child in new
    )
    with gathering():
        for child in new:
            record(
                actor,
                "ticket.link",
                parent,
                source=source,
                scope=_scope(parent),
                changes={"link": [None, f"{LinkKind.PARENT.value}:{child.pk}"]},
            )
    return len(new)


def _is_ancestor(candidate: Ticket, ticket: Ticket) -> bool:
    """Whether ``candidate`` is a parent (at any depth) of ``ticket``."""
    seen, frontier = set(), {ticket.pk}
    while frontier:
        parents = (
            set(
                TicketLink.objects.filter(target_id__in=frontier, kind=LinkKind.PARENT).values_list(
                    "source_id", flat=True
                )
            )
            - seen
        )
        if candidate.pk in parents:
            return True
        seen |= parents
        frontier = parents
    return False


@transaction.atomic
def unlink(actor, ticket_link: TicketLink, *, source: str) -> None:
    _require_worker(actor, ticket_link.source)
    record(
        actor,
        "ticket.unlink",
        ticket_link.source,
        source=source,
        scope=_scope(ticket_link.source),
        changes={"link": [f"{ticket_link.kind}:{ticket_link.target_id}", None]},
    )
    ticket_link.delete()

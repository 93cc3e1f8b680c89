"""Canned replies: shared ones kept by practice admins, personal ones kept by each member of
the network for themselves.  The only writers of ``CannedReply``; every change is recorded."""

from __future__ import annotations

from django.db import transaction

from thirdway.audit.services import diff, record, snapshot
from thirdway.errors import invalid, require, require_admin
from thirdway.tickets.models import CannedReply

CANNED_FIELDS = ["name", "body", "practice", "owner"]
SHARED_ONLY_ADMINS = "Only practice admins keep shared canned replies."
NETWORK_ONLY = "Canned replies are for the network."
NOT_YOURS = "A personal canned reply is changed by its owner only."


def create_canned_reply(
    actor, *, name: str, body: str, shared: bool = False, practice=None, source: str
) -> CannedReply:
    """A shared reply (practice admins; for one practice or every one) or the actor's own."""
    require(actor.is_network_staff, NETWORK_ONLY)
    if shared:
        require_admin(actor, SHARED_ONLY_ADMINS)
    reply = CannedReply()
    return _save(actor, reply, name, body, shared, practice, "canned_reply.create", source)


def update_canned_reply(
    actor, reply: CannedReply, *, name: str, body: str, shared: bool, practice=None, source: str
) -> CannedReply:
    _require_keeper(actor, reply)
    if shared:
        require_admin(actor, SHARED_ONLY_ADMINS)
    return _save(actor, reply, name, body, shared, practice, "canned_reply.update", source)


@transaction.atomic
def delete_canned_reply(actor, reply: CannedReply, *, source: str) -> None:
    _require_keeper(actor, reply)
    record(actor, "canned_reply.delete", reply, source=source, changes={"name": [reply.name, None]})
    reply.delete()


def _require_keeper(actor, reply: CannedReply) -> None:
    if reply.owner_id is None:
        require_admin(actor, SHARED_ONLY_ADMINS)
    else:
        require(reply.owner_id == actor.pk, NOT_YOURS)


def _save(actor, reply, name, body, shared, practice, action, source) -> CannedReply:
    name, body = (name or "").strip(), (body or "").strip()
    if not name:
        raise invalid("name", "A canned reply needs a name.", "1 to 80 characters")
    if not body:
        raise invalid("body", "A canned reply needs a text.", "the text to put in the reply")
    if practice is not None and not shared:
        raise invalid(
            "practice", "Only a shared reply is kept for one practice.", "empty for your own"
        )
    owner = None if shared else actor
    taken = CannedReply.objects.filter(name=name, owner=owner).exclude(pk=reply.pk)
    if taken.exists():
        whose = "A shared canned reply" if shared else "One of your canned replies"
        raise invalid("name", f"{whose} is already named {name!r}.", "a name not yet used")
    before = snapshot(reply, CANNED_FIELDS) if reply.pk else {}
    reply.name, reply.body, reply.practice, reply.owner = name, body, practice, owner
    reply.full_clean(validate_constraints=False)
    changes = diff(before, snapshot(reply, CANNED_FIELDS))
    if changes:
        with transaction.atomic():
            reply.save()
            record(actor, action, reply, source=source, changes=changes)
    return reply

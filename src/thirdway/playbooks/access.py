"""Who sees and who changes playbooks, runs and schedules (deny by default).

- Templates belong to a practice: practice admins and the desk see all of them; a partner or
  an associate sees those of the practices they have a skill in.  Clients see none.
- Runs and schedules belong to a client: the network sees those of the clients it sees
  (``clients.access``); a client admin sees their organisation's runs (read only).  Client
  users and anyone else see nothing.
- Editing a template: practice admins, and partners of its practice.  Starting runs, completing
  steps and keeping schedules: the network staff who see the client.
"""

from __future__ import annotations

from django.db import models

from thirdway.accounts.models import Role
from thirdway.clients.access import SEES_ALL


def _active(user) -> bool:
    return user.is_authenticated and user.is_active


def practice_ids(user):
    """The practices whose templates ``user`` sees (None: all of them)."""
    from thirdway.network.models import Practice

    if not _active(user) or not user.is_network_staff:
        return Practice.objects.none().values("pk")
    if user.role in SEES_ALL:
        return None
    return Practice.objects.filter(skills__partner__user=user).values("pk")


def _clients(user):
    from thirdway.clients.models import Client

    return Client.objects.for_user(user)


class PlaybookQuerySet(models.QuerySet):
    def for_user(self, user):
        ids = practice_ids(user)
        return self.all() if ids is None else self.filter(practice__in=ids)


class ClientOwnedQuerySet(models.QuerySet):
    client_path = "client"
    clients_see = False

    def for_user(self, user):
        if not _active(user):
            return self.none()
        if user.is_network_staff or (self.clients_see and user.role == Role.CLIENT_ADMIN):
            return self.filter(**{f"{self.client_path}__in": _clients(user)})
        return self.none()


class RunQuerySet(ClientOwnedQuerySet):
    clients_see = True


class RunStepQuerySet(ClientOwnedQuerySet):
    client_path = "run__client"
    clients_see = True


class ScheduleQuerySet(ClientOwnedQuerySet):
    pass


def can_edit(user, playbook) -> bool:
    if not _active(user) or user.role not in (Role.PRACTICE_ADMIN, Role.PARTNER):
        return False
    ids = practice_ids(user)
    return ids is None or ids.filter(pk=playbook.practice_id).exists()


def can_work(user, client) -> bool:
    """Start runs, complete steps and keep schedules of ``client``."""
    if not _active(user) or not user.is_network_staff:
        return False
    return _clients(user).filter(pk=client.pk).exists()


def skill_practices(user) -> set[int]:
    """The practices ``user`` has a skill in (for :func:`may_complete` over many steps)."""
    from thirdway.network.models import Practice

    return set(Practice.objects.filter(skills__partner__user=user).values_list("pk", flat=True))


def may_complete(user, step, practices: set[int] | None = None) -> bool:
    """Whether ``user`` owns ``step`` enough to complete it: practice admins always; otherwise
    the step's owner role (when it names one) and a skill in its owner practice (when it names
    one).  A step that names neither is anyone's who works the client's runs.  ``practices``:
    the user's :func:`skill_practices`, when the caller has them already."""
    if not _active(user):
        return False
    if user.role == Role.PRACTICE_ADMIN:
        return True
    if step.owner_role and user.role != step.owner_role:
        return False
    if step.owner_practice_id is None:
        return True
    return step.owner_practice_id in (skill_practices(user) if practices is None else practices)


def owner_text(step) -> str:
    """Who owns ``step``, in words (``partners of Security``)."""
    roles = {
        Role.PRACTICE_ADMIN: "practice admins",
        Role.PARTNER: "partners",
        Role.ASSOCIATE: "associates",
        Role.DESK: "desk agents",
    }
    who = roles.get(step.owner_role, "the people")
    return f"{who} of {step.owner_practice.name}" if step.owner_practice_id else who

"""Who sees and who changes leads, opportunities and proposals (deny by default).

- Practice admins and the desk see every lead, opportunity and proposal.
- A partner sees the leads they own or referred, and those needing a practice they have a
  skill in; the opportunities of those leads or of their practices; the proposals of those
  opportunities.
- Associates, client contacts and anyone else see nothing (404).
- Changing a lead or an opportunity, writing and sending proposals: practice admins, the desk,
  and the partner who owns the lead.  Winning by hand: practice admins and the owner.
- The prospect needs no account: a proposal's signed link is the only way in for them.
"""

from __future__ import annotations

from django.db import models

from thirdway.accounts.models import Role

SEES_ALL = {Role.PRACTICE_ADMIN, Role.DESK}


def _active(user) -> bool:
    return user is not None and user.is_authenticated and user.is_active


def _practices(user):
    from thirdway.network.models import Practice

    return Practice.objects.filter(skills__partner__user=user).values("pk")


def _lead_ids(user):
    """The leads a partner sees: a UNION of indexed look-ups (no OR across joins)."""
    from thirdway.sales.models import Lead

    owned = Lead.objects.filter(owner__user=user).values("pk")
    referred = Lead.objects.filter(referrer__user=user).values("pk")
    needed = Lead.objects.filter(practices__in=_practices(user)).values("pk")
    return owned.order_by().union(referred.order_by(), needed.order_by())


def _scope(user) -> str:
    """'all', 'partner' or 'none'."""
    if not _active(user):
        return "none"
    if user.role in SEES_ALL:
        return "all"
    return "partner" if user.role == Role.PARTNER else "none"


class LeadQuerySet(models.QuerySet):
    def for_user(self, user):
        scope = _scope(user)
        if scope == "all":
            return self.all()
        if scope == "partner":
            return self.filter(pk__in=_lead_ids(user))
        return self.none()


class OpportunityQuerySet(models.QuerySet):
    lead_path = "lead"
    practice_path = "practice"

    def for_user(self, user):
        scope = _scope(user)
        if scope == "all":
            return self.all()
        if scope == "partner":
            ids = self.model.objects.filter(**{f"{self.lead_path}__in": _lead_ids(user)})
            own = self.model.objects.filter(**{f"{self.practice_path}__in": _practices(user)})
            both = ids.values("pk").order_by().union(own.values("pk").order_by())
            return self.filter(pk__in=both)
        return self.none()


class ProposalQuerySet(OpportunityQuerySet):
    lead_path = "opportunity__lead"
    practice_path = "opportunity__practice"


def can_work(user, lead) -> bool:
    """Change the lead, its opportunities and their proposals."""
    if not _active(user):
        return False
    if user.role in SEES_ALL:
        return True
    return user.role == Role.PARTNER and lead.owner.user_id == user.pk


def can_win(user, lead) -> bool:
    """Mark a deal won by hand (a client, a contract and a playbook run follow)."""
    if not _active(user):
        return False
    if user.role == Role.PRACTICE_ADMIN:
        return True
    return user.role == Role.PARTNER and lead.owner.user_id == user.pk


def can_create(user) -> bool:
    return _active(user) and user.role in (*SEES_ALL, Role.PARTNER)

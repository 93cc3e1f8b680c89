"""Who sees what of the business (deny by default).

- A practice admin sees everything.
- A partner sees the contracts and invoices of the clients they lead or serve, the time of
  those clients, and of the ledger only their own shares (their statement).
- An associate sees their own time entries, and the contracts of clients they serve (to book
  time on them).
- A client admin sees their organisation's invoices once approved (drafts are not theirs yet).
- Anyone else, the desk and client users included, sees nothing.
"""

from __future__ import annotations

from django.db import models

from thirdway.accounts.models import Role


def _active(user) -> bool:
    return user.is_authenticated and user.is_active


def _clients(user):
    from thirdway.clients.models import Client

    return Client.objects.for_user(user)


class ContractQuerySet(models.QuerySet):
    def for_user(self, user) -> ContractQuerySet:
        if not _active(user):
            return self.none()
        if user.role == Role.PRACTICE_ADMIN:
            return self.all()
        if user.role in (Role.PARTNER, Role.ASSOCIATE):
            return self.filter(client__in=_clients(user))
        return self.none()


class TimeEntryQuerySet(models.QuerySet):
    def for_user(self, user) -> TimeEntryQuerySet:
        if not _active(user):
            return self.none()
        if user.role == Role.PRACTICE_ADMIN:
            return self.all()
        if user.role == Role.PARTNER:
            return self.filter(contract_line__contract__client__in=_clients(user))
        if user.role == Role.ASSOCIATE:
            return self.filter(partner__user=user)
        return self.none()


def led_partners(user):
    """The partners of the practices ``user``'s partner leads (the practice lead approves
    their weeks), never including that partner."""
    from thirdway.network.models import Partner

    own = getattr(user, "partner", None)
    if own is None:
        return Partner.objects.none()
    return Partner.objects.filter(practices__lead=own).exclude(pk=own.pk).distinct()


class TimesheetQuerySet(models.QuerySet):
    def for_user(self, user) -> TimesheetQuerySet:
        """A practice admin sees every week; a partner or associate their own, and a practice
        lead also the weeks of their practice's partners."""
        if not _active(user):
            return self.none()
        if user.role == Role.PRACTICE_ADMIN:
            return self.all()
        if user.role in (Role.PARTNER, Role.ASSOCIATE):
            return self.filter(
                models.Q(partner__user=user) | models.Q(partner__in=led_partners(user))
            )
        return self.none()


def may_decide_timesheet(user, sheet) -> bool:
    """Approve or reject a week: a practice admin or the partner's practice lead, never the
    partner whose week it is."""
    if not _active(user) or sheet.partner.user_id == user.pk:
        return False
    if user.role == Role.PRACTICE_ADMIN:
        return True
    return (
        user.role in (Role.PARTNER, Role.ASSOCIATE)
        and led_partners(user).filter(pk=sheet.partner_id).exists()
    )


class BlockNoticeQuerySet(models.QuerySet):
    def for_user(self, user) -> BlockNoticeQuerySet:
        """Each person sees the warnings sent to them."""
        if not _active(user):
            return self.none()
        return self.filter(recipient=user)


class InvoiceQuerySet(models.QuerySet):
    def for_user(self, user) -> InvoiceQuerySet:
        if not _active(user):
            return self.none()
        if user.role == Role.PRACTICE_ADMIN:
            return self.all()
        if user.role == Role.PARTNER:
            return self.filter(client__in=_clients(user))
        if user.role == Role.CLIENT_ADMIN:
            contact = getattr(user, "contact", None)
            if contact is None or not contact.is_active:
                return self.none()
            return self.filter(client_id=contact.client_id).exclude(state="draft")
        return self.none()


class BillableItemQuerySet(models.QuerySet):
    def for_user(self, user) -> BillableItemQuerySet:
        """Expenses and hardware: a practice admin all, a partner their clients'."""
        if not _active(user):
            return self.none()
        if user.role == Role.PRACTICE_ADMIN:
            return self.all()
        if user.role == Role.PARTNER:
            return self.filter(client__in=_clients(user))
        return self.none()


class CapitalQuerySet(models.QuerySet):
    def for_user(self, user) -> CapitalQuerySet:
        """Capital terms and accounts: a practice admin all, a partner (or associate) their
        own."""
        if not _active(user):
            return self.none()
        if user.role == Role.PRACTICE_ADMIN:
            return self.all()
        if user.role in (Role.PARTNER, Role.ASSOCIATE):
            return self.filter(partner__user=user)
        return self.none()


class InstalmentQuerySet(models.QuerySet):
    def for_user(self, user) -> InstalmentQuerySet:
        """The instalments of a buy-out: a practice admin all, the retired partner their own."""
        if not _active(user):
            return self.none()
        if user.role == Role.PRACTICE_ADMIN:
            return self.all()
        if user.role in (Role.PARTNER, Role.ASSOCIATE):
            return self.filter(terms__partner__user=user)
        return self.none()


class PracticeAdminQuerySet(models.QuerySet):
    """A practice's shared tool costs and its clawbacks: the practice admin only."""

    def for_user(self, user):
        if _active(user) and user.role == Role.PRACTICE_ADMIN:
            return self.all()
        return self.none()


class LedgerQuerySet(models.QuerySet):
    """Legs and transactions: read through statements, which narrow them to a partner."""

    def for_user(self, user):
        if _active(user) and user.role == Role.PRACTICE_ADMIN:
            return self.all()
        return self.none()


def sees_all_statements(user) -> bool:
    return _active(user) and user.role == Role.PRACTICE_ADMIN


def may_see_statement(user, partner) -> bool:
    """A partner their own statement; a practice admin everyone's."""
    return sees_all_statements(user) or (
        _active(user)
        and user.role in (Role.PARTNER, Role.ASSOCIATE, Role.DESK)
        and partner.user_id == user.pk
    )


def may_manage_billing(user) -> bool:
    """Contracts, invoice runs, approval and payments: the practice admin."""
    return user is None or (_active(user) and user.role == Role.PRACTICE_ADMIN)


def may_book_time(user) -> bool:
    return _active(user) and user.role in (Role.PRACTICE_ADMIN, Role.PARTNER, Role.ASSOCIATE)


def may_correct_time(user, entry) -> bool:
    """Who may change a time entry: its partner, or a practice admin."""
    return may_book_time(user) and (user.is_practice_admin or entry.partner.user_id == user.pk)

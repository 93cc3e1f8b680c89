"""Who sees the mail room (deny by default): practice admins see mailboxes, quarantine and
outbox; the desk also sees the triage queue of mail from unknown clients. Nobody else."""

from __future__ import annotations

from django.db import models

from thirdway.accounts.models import Role


def is_mail_admin(user) -> bool:
    return bool(user.is_authenticated and user.is_active and user.role == Role.PRACTICE_ADMIN)


def sees_triage(user) -> bool:
    return bool(
        user.is_authenticated and user.is_active and user.role in (Role.PRACTICE_ADMIN, Role.DESK)
    )


class MailboxQuerySet(models.QuerySet):
    def for_user(self, user) -> MailboxQuerySet:
        return self.all() if is_mail_admin(user) else self.none()


class InboundQuerySet(models.QuerySet):
    def for_user(self, user) -> InboundQuerySet:
        if is_mail_admin(user):
            return self.all()
        if sees_triage(user):
            return self.filter(status="unknown_client")
        return self.none()


class OutboundQuerySet(models.QuerySet):
    def for_user(self, user) -> OutboundQuerySet:
        return self.all() if is_mail_admin(user) else self.none()

"""The room's periodic jobs (see ``thirdway.clock.jobs``)."""

from __future__ import annotations

from django_tasks import task


@task()
def renew_due_contracts() -> dict[str, int]:
    from thirdway.audit.models import Source
    from thirdway.billing.renewals import renew_due_contracts as renew

    return renew(source=Source.SYSTEM)


@task()
def apply_due_successions() -> dict[str, int]:
    """Apply the successions whose day has come (and pass on origination kept until a date)."""
    from thirdway.audit.models import Source
    from thirdway.billing.succession_apply import apply_due

    return apply_due(source=Source.SYSTEM)


@task()
def claw_back_referrals() -> dict[str, int]:
    """Claw back the referral fees of clients that left within their practice's period."""
    from thirdway.audit.models import Source
    from thirdway.billing.clawbacks import sweep

    return sweep(source=Source.SYSTEM)


@task()
def post_standing_order_instalments() -> dict[str, int]:
    """Post the buy-out instalments paid by standing order whose due day has come."""
    from thirdway.audit.models import Source
    from thirdway.billing.instalments import post_due_standing_orders

    return post_due_standing_orders(source=Source.SYSTEM)

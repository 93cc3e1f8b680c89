"""A buy-out paid by standing order: the clock posts each instalment on its due day, once,
never one not yet due, never one marked paid by hand, nothing once the order is stopped; only
a practice admin starts or stops it, and only for a buy-out paid in instalments."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from thirdway.audit.models import AuditRecord, Source
from thirdway.billing import instalments, ledger
from thirdway.billing.models import BuyOutInstalment, CapitalTerms, LedgerTransaction
from thirdway.clock.jobs import JOBS

from .capital_cast import D
from .test_api import ROLES, send
from .test_buy_out_instalments import _agree, _bought_out


def _posted() -> list[int]:
    paid = BuyOutInstalment.objects.filter(paid__isnull=False)
    return sorted(paid.values_list("number", flat=True))


def test_the_clock_posts_each_instalment_on_its_due_day_once(cast):
    paula = _bought_out(cast, "900.00")
    today = timezone.localdate()
    agreed = _agree(cast, paula, 3, standing_order=True)
    days = [i.due_on for i in agreed.instalments]
    assert CapitalTerms.objects.get(pk=paula.pk).instalments_by_standing_order
    assert instalments.post_due_standing_orders(today - dt.timedelta(days=1), source="system") == {
        "posted": 0,
        "failed": 0,
    }
    assert instalments.post_due_standing_orders(today, source=Source.SYSTEM)["posted"] == 1
    assert _posted() == [1]
    # a run again the same day posts nothing more
    assert instalments.post_due_standing_orders(today, source=Source.SYSTEM)["posted"] == 0
    # the third marked paid by hand early: the clock posts the second only, then nothing
    third = agreed.instalments[2]
    instalments.pay(cast.admin, third, source=Source.CLI)
    assert instalments.post_due_standing_orders(days[2], source=Source.SYSTEM)["posted"] == 1
    assert _posted() == [1, 2, 3]
    assert LedgerTransaction.objects.filter(kind="instalment").count() == 3
    for posted in LedgerTransaction.objects.filter(kind="instalment"):
        assert ledger.total(posted.legs.all()) == 0
    schedule = instalments.schedule(paula)
    assert (schedule.paid, schedule.outstanding) == (D("900.00"), D("0.00"))
    by_clock = AuditRecord.objects.filter(action="billing.buy_out_instalment_paid", actor=None)
    assert by_clock.count() == 2


def test_a_stopped_standing_order_posts_nothing(cast):
    paula = _bought_out(cast)
    _agree(cast, paula, 2)
    far = timezone.localdate() + dt.timedelta(days=400)
    # agreed without one: the clock leaves the instalments to be marked paid
    assert instalments.post_due_standing_orders(far, source=Source.SYSTEM)["posted"] == 0
    instalments.set_standing_order(cast.admin, paula, on=True, source=Source.CLI)
    instalments.set_standing_order(cast.admin, paula, on=False, source=Source.CLI)
    assert instalments.post_due_standing_orders(far, source=Source.SYSTEM)["posted"] == 0
    assert not LedgerTransaction.objects.filter(kind="instalment").exists()
    changes = AuditRecord.objects.filter(action="billing.buy_out_standing_order")
    assert [r.changes["standing_order"] for r in changes.order_by("pk")] == [
        [False, True],
        [True, False],
    ]


def test_no_standing_order_without_instalments_or_by_anyone_but_the_admin(cast):
    paula = _bought_out(cast)
    with pytest.raises(ValidationError) as refused:
        instalments.set_standing_order(cast.admin, paula, on=True, source=Source.CLI)
    assert "standing_order" in refused.value.message_dict
    _agree(cast, paula, 2)
    with pytest.raises(PermissionDenied):
        instalments.set_standing_order(cast.partner, paula, on=True, source=Source.CLI)
    assert not CapitalTerms.objects.get(pk=paula.pk).instalments_by_standing_order


def test_the_clock_runs_the_standing_orders_hourly():
    jobs = {job.name: job for job in JOBS}
    job = jobs["billing.standing_order_instalments"]
    assert job.every == dt.timedelta(hours=1)
    assert job.task_path.endswith("post_standing_order_instalments")


def test_the_api_starts_and_stops_a_standing_order(cast, api_as):
    paula = _bought_out(cast)
    admin = api_as(cast.admin)
    url = f"/billing/capital/{paula.pk}/instalments"
    made = send(
        admin,
        "POST",
        url,
        {"instalments": 2, "first_due_on": str(timezone.localdate()), "standing_order": True},
    )
    assert made.status_code == 201, made.content
    assert made.json()["instalments_by_standing_order"] is True
    bad = send(admin, "POST", f"{url}/standing-order", {"on": "sometimes"})
    assert bad.status_code == 400
    assert send(admin, "POST", f"{url}/standing-order", {}).status_code == 400
    for role in [r for r in ROLES if r != "admin"]:
        answer = send(api_as(getattr(cast, role)), "POST", f"{url}/standing-order", {"on": False})
        assert answer.status_code in (403, 404), role
    assert CapitalTerms.objects.get(pk=paula.pk).instalments_by_standing_order
    stopped = send(admin, "POST", f"{url}/standing-order", {"on": False})
    assert (stopped.status_code, stopped.json()["instalments_by_standing_order"]) == (200, False)

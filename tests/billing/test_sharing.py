"""Shared tool costs taken off a client's revenue before the split, and referral fees clawed
back when a client leaves within the practice's period."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from thirdway.audit.models import AuditRecord, Source
from thirdway.billing import clawbacks, invoicing, issuing, ledger, services, tool_costs
from thirdway.billing.models import (
    Account,
    Contract,
    Invoice,
    LedgerTransaction,
    Leg,
    ReferralClawback,
    ToolCost,
)
from thirdway.billing.statements import statement
from thirdway.clients import services as clients
from thirdway.monitoring.models import Check

from .conftest import contract, line
from .weeks import approve_weeks

D = Decimal
MONTH = dt.date(2026, 11, 1)


def add(cast, name, unit, rate):
    return tool_costs.add_tool(
        cast.admin, cast.security, name=name, unit=unit, rate=D(rate), source=Source.CLI
    )


def approved_acme(cast) -> Invoice:
    approve_weeks(cast)
    invoicing.run_invoices(cast.admin, cast.security, MONTH, source=Source.CLI)
    draft = Invoice.objects.get(client=cast.acme, state="draft")
    return issuing.approve_invoice(cast.admin, draft, source=Source.CLI)


def tools_balance(cast) -> Decimal:
    found = Account.objects.filter(practice=cast.security, kind="tool_costs").first()
    return ledger.balance(found) if found else D(0)


def test_each_clients_tools_are_taken_off_its_revenue_before_the_split(cast, books):
    add(cast, "RMM", "managed_device", "2.50")
    add(cast, "Vault", "user", "1.10")
    add(cast, "Backup", "client", "5.00")
    invoice = approved_acme(cast)
    posted = LedgerTransaction.objects.get(invoice=invoice, kind="tool_costs")
    assert [(t["name"], t["count"], t["rate"], t["amount"]) for t in posted.facts["tools"]] == [
        ("Backup", 1, "5.00", "5.00"),
        ("RMM", 2, "2.50", "5.00"),
        ("Vault", 2, "1.10", "2.20"),
    ]
    assert tools_balance(cast) == D("-12.20")
    shares = Leg.objects.filter(transaction__invoice=invoice, transaction__kind="split").exclude(
        account__kind="revenue"
    )
    assert ledger.total(shares) == -(invoice.net - D("12.20"))
    parts = D(0)
    for split in invoice.transactions.filter(kind="split"):
        deducted = D(split.facts.get("tool_costs", {}).get("amount", "0"))
        parts += deducted
        assert ledger.total(split.legs.exclude(account__kind="revenue")) == -(
            split.invoice_line.net - deducted
        )
    assert parts == D("12.20")
    assert sum(ledger.balance(a) for a in Account.objects.all()) == 0


def test_monitored_devices_are_those_an_agent_or_a_check_watches(cast, books):
    Check.objects.create(
        client=cast.acme, asset=cast.acme_server, name="Up", kind="http", target="https://a.example"
    )
    Check.objects.create(
        client=cast.acme,
        asset=cast.acme_server,
        name="Disk",
        kind="http",
        target="https://b.example",
    )
    assert tool_costs.unit_counts(cast.acme.pk) == {
        "monitored_device": 1,
        "managed_device": 2,
        "user": 2,
        "client": 1,
    }


def test_a_month_is_charged_once_and_a_credit_note_gives_it_back(cast, books):
    add(cast, "Backup", "client", "5.00")
    invoice = approved_acme(cast)
    second = Invoice.objects.create(
        client=cast.acme, practice=cast.security, currency="EUR", month=MONTH
    )
    issuing.add_invoice_line(
        cast.admin,
        second,
        source=Source.CLI,
        description="Extra",
        quantity=D(1),
        unit_price=D("10.00"),
        vat_category="S",
        vat_rate=D(20),
    )
    issuing.approve_invoice(cast.admin, second, source=Source.CLI)
    assert LedgerTransaction.objects.filter(kind="tool_costs").count() == 1
    issuing.credit_invoice(cast.admin, invoice, source=Source.CLI)
    assert tools_balance(cast) == 0
    assert sum(ledger.balance(a) for a in Account.objects.all()) == 0


def test_tools_costing_more_than_the_invoice_take_the_whole_invoice_and_no_more(cast, books):
    add(cast, "Everything", "client", "99999.00")
    invoice = approved_acme(cast)
    assert tools_balance(cast) == -invoice.net
    assert not invoice.transactions.filter(kind="split").exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "A", "unit": "client", "rate": D("-1")}, "rate"),
        ({"name": "A", "unit": "client", "rate": D("100000.01")}, "rate"),
        ({"name": "A", "unit": "client", "rate": D("1.001")}, "rate"),
        ({"name": "A", "unit": "seat", "rate": D("1")}, "unit"),
        ({"name": "", "unit": "client", "rate": D("1")}, "name"),
        ({"name": "x" * 101, "unit": "client", "rate": D("1")}, "name"),
        ({"name": "backup", "unit": "client", "rate": D("1")}, "name"),
    ],
)
def test_a_tool_out_of_bounds_is_refused_naming_the_field_and_nothing_is_written(cast, data, field):
    add(cast, "Backup", "client", "5.00")
    with pytest.raises(ValidationError) as refused:
        tool_costs.add_tool(cast.admin, cast.security, source=Source.CLI, **data)
    assert field in refused.value.message_dict
    assert ToolCost.objects.count() == 1


def test_a_practice_has_at_most_fifty_tools_and_only_admins_change_them(cast):
    for n in range(50):
        add(cast, f"Tool {n}", "client", "1.00")
    with pytest.raises(ValidationError):
        add(cast, "One more", "client", "1.00")
    tool = ToolCost.objects.first()
    with pytest.raises(PermissionDenied):
        tool_costs.change_tool(cast.partner, tool, {"rate": D(2)}, source=Source.CLI)
    tool_costs.change_tool(cast.admin, tool, {"rate": D(2)}, source=Source.CLI)
    tool_costs.remove_tool(cast.admin, tool, source=Source.CLI)
    assert ToolCost.objects.count() == 49
    assert AuditRecord.objects.filter(action__startswith="billing.tool.").count() == 52


# --- referral clawbacks ------------------------------------------------------------------------


@pytest.fixture
def referred(cast):
    """Acme's contract with a referrer, a 5 % referral fee and a six-month clawback period."""
    services.update_settings(
        cast.admin,
        cast.security,
        {"origination": D(15), "referral": D(5), "clawback_months": 6},
        source=Source.CLI,
    )
    made = contract(
        cast,
        cast.acme,
        "managed",
        "Acme referred",
        originator=cast.partner_record,
        referrer=cast.other_partner_record,
    )
    line(cast, made, "Monitoring", "flat", "100.00")
    return made


def referral_balance(cast) -> Decimal:
    return ledger.total(
        Leg.objects.filter(account__partner=cast.other_partner_record, rule="referral")
    )


def leave(cast):
    clients.update_client(cast.admin, cast.acme, {"status": "former"}, source=Source.CLI)


def test_a_client_leaving_within_the_period_gives_its_referral_fees_back_once(cast, referred):
    invoice = approved_acme(cast)
    issuing.mark_paid(cast.admin, invoice, source=Source.CLI)
    assert referral_balance(cast) == D("-5.00")
    leave(cast)
    assert clawbacks.sweep(source=Source.SYSTEM) == {"clawed_back": 1, "failed": 0}
    assert referral_balance(cast) == 0
    pool = Account.objects.get(practice=cast.security, holder="pool", kind="payable")
    clawback = LedgerTransaction.objects.get(kind="clawback")
    assert ledger.total(clawback.legs.filter(account=pool)) == D("-5.00")
    assert clawback.memo == "Clawed back: Acme Bakery left after 0 months"
    assert clawbacks.sweep(source=Source.SYSTEM) == {"clawed_back": 0, "failed": 0}
    assert LedgerTransaction.objects.filter(kind="clawback").count() == 1
    assert AuditRecord.objects.filter(action="billing.referral.clawback").count() == 1
    rows = statement(cast.other_partner_record, timezone.localdate()).rows
    assert [row.transaction.memo for row in rows if row.transaction.kind == "clawback"] == [
        "Clawed back: Acme Bakery left after 0 months"
    ]
    assert sum(ledger.balance(a) for a in Account.objects.all()) == 0


def test_a_client_leaving_after_the_period_or_with_no_period_keeps_the_fee(cast, referred):
    invoice = approved_acme(cast)
    Invoice.objects.filter(pk=invoice.pk).update(
        issued_on=timezone.localdate() - dt.timedelta(days=200)
    )
    leave(cast)
    assert clawbacks.sweep(source=Source.SYSTEM)["clawed_back"] == 0
    Invoice.objects.filter(pk=invoice.pk).update(issued_on=timezone.localdate())
    services.update_settings(cast.admin, cast.security, {"clawback_months": 0}, source=Source.CLI)
    assert clawbacks.sweep(source=Source.SYSTEM)["clawed_back"] == 0
    assert referral_balance(cast) == D("-5.00")
    assert not ReferralClawback.objects.exists()


def test_a_client_whose_contracts_all_ended_left_on_the_last_end(cast, referred):
    approved_acme(cast)
    assert clawbacks.left_on(cast.acme, cast.security) is None
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    Contract.objects.filter(client=cast.acme).update(ends_on=yesterday)
    assert clawbacks.left_on(cast.acme, cast.security) == yesterday
    found = clawbacks.claw_back(cast.admin, cast.security, cast.acme, source=Source.CLI)
    assert found.left_on == yesterday and found.clawback is not None
    assert clawbacks.claw_back(cast.admin, cast.security, cast.acme, source=Source.CLI) == found


def test_a_clawback_period_out_of_bounds_is_refused(cast):
    for months in (-1, 37):
        with pytest.raises(ValidationError) as refused:
            services.update_settings(
                cast.admin, cast.security, {"clawback_months": months}, source=Source.CLI
            )
        assert "clawback_months" in refused.value.message_dict


# --- pages -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("admin", 200),
        ("partner", 403),
        ("associate", 403),
        ("desk", 403),
        ("client_admin", 404),
        ("outsider", 404),
    ],
)
def test_only_the_admin_opens_the_tool_costs_page(cast, web_as, role, status):
    tool = add(cast, "Backup", "client", "5.00")
    web = web_as(getattr(cast, role))
    base = f"/billing/settings/{cast.security.pk}/tools/"
    assert web.get(base).status_code == status
    assert web.get(f"{base}{tool.pk}/").status_code == status
    assert web.post(f"{base}{tool.pk}/remove/").status_code in (
        (status,) if status != 200 else (302,)
    )
    assert ToolCost.objects.exists() == (status != 200)


def test_the_admin_claws_back_now_on_the_page_and_a_client_not_due_is_refused(
    cast, referred, web_as
):
    approved_acme(cast)
    web = web_as(cast.admin)
    url = f"/billing/settings/{cast.security.pk}/tools/clawback/"
    page = web.get(f"/billing/settings/{cast.security.pk}/tools/")
    assert list(page.context["clawback_form"].fields["client"].queryset) == [cast.acme]
    refused = web.post(url, {"client": cast.acme.pk})
    assert refused.status_code == 200
    assert "not left within" in refused.content.decode()
    assert web.post(url, {"client": cast.globex.pk}).status_code == 200
    assert web.post(url, {"client": "x" * 300}).status_code == 200
    assert not ReferralClawback.objects.exists()
    assert not LedgerTransaction.objects.filter(kind="clawback").exists()
    leave(cast)
    made = web.post(url, {"client": cast.acme.pk}, follow=True)
    assert "Clawed back: Acme Bakery left after 0 months." in made.content.decode()
    again = web.post(url, {"client": cast.acme.pk}, follow=True)
    assert "clawed back already" in again.content.decode()
    assert LedgerTransaction.objects.filter(kind="clawback").count() == 1
    audit = AuditRecord.objects.get(action="billing.referral.clawback")
    assert (audit.actor, audit.source) == (cast.admin, Source.WEB)


@pytest.mark.parametrize(
    ("role", "status"),
    [("partner", 403), ("associate", 403), ("desk", 403), ("client_admin", 404)],
)
def test_only_the_admin_claws_back_from_the_page(cast, referred, web_as, role, status):
    approved_acme(cast)
    leave(cast)
    web = web_as(getattr(cast, role))
    answer = web.post(
        f"/billing/settings/{cast.security.pk}/tools/clawback/", {"client": cast.acme.pk}
    )
    assert answer.status_code == status
    assert not ReferralClawback.objects.exists()

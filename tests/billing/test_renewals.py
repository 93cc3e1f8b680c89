"""Contract terms: the end, the renewal term and the notice period; the renewal as an explicit,
idempotent step (the service, the page, the API and the clock's job); a contract past its end
without renewal is no longer billed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from thirdway.audit.models import AuditRecord, Source
from thirdway.billing import invoicing, renewals, services
from thirdway.billing.models import Contract, ContractRenewal, InvoiceLine
from thirdway.clock.jobs import JOBS

D = Decimal


def managed(cast, starts_on, ends_on, renewal_months=12, notice_days=30, client=None):
    contract = services.create_contract(
        cast.admin,
        client=client or cast.acme,
        practice=cast.security,
        kind="managed",
        name="Managed",
        starts_on=starts_on,
        ends_on=ends_on,
        renewal_months=renewal_months,
        notice_days=notice_days,
        source=Source.CLI,
    )
    services.add_contract_line(
        cast.admin,
        contract,
        description="Monitoring",
        unit="flat",
        price=D("100.00"),
        ends_on=ends_on,
        source=Source.CLI,
    )
    return contract


def yearly(cast, **extra) -> Contract:
    return managed(cast, dt.date(2026, 1, 1), dt.date(2026, 12, 31), **extra)


def test_the_contract_says_when_it_renews_and_by_when_notice_is_due(cast, web_as):
    contract = yearly(cast)
    assert contract.renews_on == dt.date(2027, 1, 1)
    assert contract.notice_by == dt.date(2026, 12, 1)
    html = web_as(cast.admin).get(f"/billing/contracts/{contract.pk}/").content.decode()
    assert "Renews on <strong>2027-01-01</strong>" in html
    assert "notice by <strong>2026-12-01</strong>" in html


def test_the_job_renews_once_the_notice_date_has_passed_and_only_once(cast):
    contract = yearly(cast)
    assert renewals.renew_due_contracts(dt.date(2026, 12, 1), source=Source.CLI)["renewed"] == 0
    done = renewals.renew_due_contracts(dt.date(2026, 12, 2), source=Source.CLI)
    assert done == {"renewed": 1, "refused": 0}
    contract.refresh_from_db()
    assert contract.ends_on == dt.date(2027, 12, 31)
    assert contract.lines.get().ends_on == dt.date(2027, 12, 31)
    again = renewals.renew_due_contracts(dt.date(2026, 12, 2), source=Source.CLI)
    assert again == {"renewed": 0, "refused": 0}
    retried = renewals.renew_contract(
        cast.admin, contract, source=Source.CLI, term_ending=dt.date(2026, 12, 31)
    )
    assert retried is None
    assert ContractRenewal.objects.filter(contract=contract).count() == 1
    assert AuditRecord.objects.filter(action="contract.renew").count() == 1
    assert "billing.renew_contracts" in {job.name for job in JOBS}


def test_a_renewal_before_the_notice_date_is_refused(cast):
    contract = yearly(cast)
    with pytest.raises(ValidationError) as refused:
        renewals.renew_contract(cast.admin, contract, source=Source.CLI, today=dt.date(2026, 11, 1))
    assert "notice_by" in refused.value.message_dict
    assert not ContractRenewal.objects.exists()


def test_a_contract_past_its_end_without_renewal_is_no_longer_billed(cast):
    contract = managed(cast, dt.date(2026, 1, 1), dt.date(2026, 11, 30), renewal_months=0)
    assert contract.renews_on is None and contract.notice_by is None
    assert renewals.renew_due_contracts(dt.date(2026, 12, 2), source=Source.CLI)["renewed"] == 0
    november = invoicing.run_invoices(cast.admin, cast.security, dt.date(2026, 11, 1), source="cli")
    assert november.lines_made == 1
    december = invoicing.run_invoices(cast.admin, cast.security, dt.date(2026, 12, 1), source="cli")
    assert december.lines_made == 0


def test_a_renewed_contract_is_billed_for_its_new_term(cast):
    managed(cast, dt.date(2026, 1, 1), dt.date(2026, 11, 30), renewal_months=1, notice_days=0)
    assert (
        invoicing.run_invoices(
            cast.admin, cast.security, dt.date(2026, 12, 1), source=Source.CLI
        ).lines_made
        == 0
    )
    renewals.renew_due_contracts(dt.date(2026, 12, 1), source=Source.CLI)
    invoicing.run_invoices(cast.admin, cast.security, dt.date(2026, 12, 1), source=Source.CLI)
    line = InvoiceLine.objects.get(description="Monitoring (2026-12)")
    assert (line.net, line.period_end) == (D("100.00"), dt.date(2026, 12, 31))


def test_a_renewal_that_would_overlap_is_refused_and_the_others_still_renew(cast):
    yearly(cast)
    managed(cast, dt.date(2027, 1, 1), None, renewal_months=0)  # Acme's next contract
    globex = yearly(cast, client=cast.globex)
    done = renewals.renew_due_contracts(dt.date(2026, 12, 2), source=Source.CLI)
    assert done == {"renewed": 1, "refused": 1}
    globex.refresh_from_db()
    assert globex.ends_on == dt.date(2027, 12, 31)


def test_an_open_ended_contract_does_not_renew(cast):
    with pytest.raises(ValidationError) as refused:
        managed(cast, dt.date(2026, 1, 1), None, renewal_months=12)
    assert "renewal_months" in refused.value.message_dict
    assert not Contract.objects.exists()


def test_the_renewal_is_stopped_before_the_notice_date_not_after(cast):
    today = timezone.localdate()
    late = managed(cast, dt.date(2026, 1, 1), today + dt.timedelta(days=10))
    with pytest.raises(ValidationError) as refused:
        services.update_contract(cast.admin, late, {"renewal_months": 0}, source=Source.CLI)
    assert "renewal_months" in refused.value.message_dict
    early = managed(cast, dt.date(2026, 1, 1), today + dt.timedelta(days=60), client=cast.globex)
    services.update_contract(cast.admin, early, {"renewal_months": 0}, source=Source.CLI)
    early.refresh_from_db()
    assert early.renews_on is None


def test_the_api_renews_once_and_a_retry_changes_nothing(cast, api_as):
    today = timezone.localdate()
    contract = managed(cast, dt.date(2026, 1, 1), today, renewal_months=3)
    admin = api_as(cast.admin)
    url = f"/api/v1/contracts/{contract.pk}/renew"
    body = {"term_ending": str(today)}
    first = admin.post(url, body, content_type="application/json")
    assert first.status_code == 200, first.content
    new_end = first.json()["ends_on"]
    assert first.json()["renews_on"] == str(dt.date.fromisoformat(new_end) + dt.timedelta(days=1))
    again = admin.post(url, body, content_type="application/json")
    assert again.status_code == 200 and again.json()["ends_on"] == new_end
    early = admin.post(url, {}, content_type="application/json")
    assert early.status_code == 400
    assert early.json()["errors"][0]["field"] == "notice_by"
    for user in (cast.client_admin, cast.other_client_admin, cast.outsider):
        assert api_as(user).post(url, body, content_type="application/json").status_code == 404
    assert ContractRenewal.objects.count() == 1


def test_the_page_renews_a_due_contract_with_one_press(cast, web_as):
    today = timezone.localdate()
    contract = managed(cast, dt.date(2026, 1, 1), today, renewal_months=1)
    page = web_as(cast.admin)
    html = page.get(f"/billing/contracts/{contract.pk}/").content.decode()
    assert "Renew now" in html
    url = f"/billing/contracts/{contract.pk}/renew/"
    assert page.post(url, {"term_ending": str(today)}).status_code == 302
    assert page.post(url, {"term_ending": str(today)}).status_code == 302
    assert ContractRenewal.objects.filter(contract=contract).count() == 1
    assert web_as(cast.partner).post(url, {}).status_code in (403, 404)

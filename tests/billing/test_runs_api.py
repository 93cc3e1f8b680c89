"""The month-end through the API: the run's preview, the run, and approving the month's drafts."""

from __future__ import annotations

import pytest

from thirdway.billing import invoicing, month_end
from thirdway.billing.models import Invoice, InvoiceRun, LedgerTransaction

from .weeks import approve_weeks

pytestmark = pytest.mark.django_db


@pytest.fixture
def month_of_time(cast, books, book_time):
    book_time(cast.partner, books.partner_rate, 90)
    book_time(cast.associate, books.associate_rate, 45)
    approve_weeks(cast)


def test_the_preview_shows_what_the_run_then_makes_and_approving_numbers_every_draft(
    cast, api_as, month_of_time
):
    admin = api_as(cast.admin)
    month = {"practice_id": cast.security.pk, "month": "2026-11"}
    preview = admin.get("/api/v1/billing/runs/preview", month)
    assert preview.status_code == 200
    planned = preview.json()["invoices"]
    assert {invoice["client"] for invoice in planned} >= {"Acme Bakery"}
    assert not Invoice.objects.exists()  # a preview writes nothing

    made = admin.post("/api/v1/billing/runs", month, content_type="application/json")
    assert made.status_code == 201, made.content
    assert made.json()["invoices_made"] == len(planned) == Invoice.objects.count()
    lines = sum(len(invoice["lines"]) for invoice in planned)
    assert made.json()["lines_made"] == lines
    again = admin.get("/api/v1/billing/runs/preview", month).json()
    assert again["invoices"] == []  # billed once

    approved = admin.post("/api/v1/billing/runs/approve", month, content_type="application/json")
    assert approved.status_code == 200, approved.content
    body = approved.json()
    assert body["approved"] == len(planned)
    numbers = sorted(Invoice.objects.values_list("number", flat=True))
    assert (body["first_number"], body["last_number"]) == (numbers[0], numbers[-1])
    assert not Invoice.objects.filter(state="draft").exists()
    assert LedgerTransaction.objects.filter(kind="invoice").count() == len(planned)
    nothing_left = admin.post(
        "/api/v1/billing/runs/approve", month, content_type="application/json"
    ).json()
    assert (nothing_left["approved"], nothing_left["first_number"]) == (0, None)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"month": "2026-13"}, "month"),
        ({"month": "26-11"}, "month"),
        ({"practice_id": 0}, "practice_id"),
        ({"practice_id": 987654}, "practice_id"),
    ],
)
def test_a_bad_month_or_practice_is_a_400_naming_it_and_runs_nothing(
    cast, api_as, month_of_time, payload, field
):
    body = {"practice_id": cast.security.pk, "month": "2026-11"} | payload
    admin = api_as(cast.admin)
    for url in ("/api/v1/billing/runs", "/api/v1/billing/runs/approve"):
        answer = admin.post(url, body, content_type="application/json")
        assert answer.status_code in (400, 422), answer.content
        assert field in answer.content.decode()
    assert not InvoiceRun.objects.exists()
    assert not Invoice.objects.exists()


@pytest.mark.parametrize("role", ["partner", "desk", "client_admin", "outsider"])
def test_only_practice_admins_preview_run_and_approve(cast, api_as, month_of_time, role):
    caller = api_as(getattr(cast, role))
    month = {"practice_id": cast.security.pk, "month": "2026-11"}
    assert caller.get("/api/v1/billing/runs/preview", month).status_code == 403
    for url in ("/api/v1/billing/runs", "/api/v1/billing/runs/approve"):
        assert caller.post(url, month, content_type="application/json").status_code == 403
    assert not InvoiceRun.objects.exists()
    assert not Invoice.objects.exists()


def test_the_run_page_approves_the_months_drafts_and_refuses_others(cast, web_as, month_of_time):
    admin = web_as(cast.admin)
    month = {"practice": cast.security.pk, "month": "2026-11"}
    admin.post("/billing/run/", month)
    made = Invoice.objects.filter(state="draft").count()
    assert made >= 1
    page = admin.get("/billing/run/", month).content.decode()
    assert f"Approve the {made} draft" in page
    assert web_as(cast.partner).post("/billing/run/approve/", month).status_code in (403, 404)
    assert Invoice.objects.filter(state="draft").count() == made
    bad = admin.post("/billing/run/approve/", {"practice": cast.security.pk, "month": "2026-13"})
    assert bad.status_code == 400
    assert Invoice.objects.filter(state="draft").count() == made
    done = admin.post("/billing/run/approve/", month, follow=True)
    assert "approved, numbered INV-000001" in done.content.decode()
    assert not Invoice.objects.filter(state="draft").exists()


@pytest.mark.parametrize("workers", [0, 5, -1, "two", 2.5])
def test_a_workers_count_outside_1_to_4_is_a_400_naming_it_and_runs_nothing(
    cast, api_as, month_of_time, workers
):
    body = {"practice_id": cast.security.pk, "month": "2026-11", "workers": workers}
    admin = api_as(cast.admin)
    for url in ("/api/v1/billing/runs", "/api/v1/billing/runs/approve"):
        answer = admin.post(url, body, content_type="application/json")
        assert answer.status_code == 400, answer.content
        assert "workers" in answer.content.decode()
    assert not InvoiceRun.objects.exists()
    assert not Invoice.objects.exists()


def _workers_asked(monkeypatch) -> list[int]:
    """The workers count each run and approval is asked to use, in order."""
    asked: list[int] = []
    for module, name in ((invoicing, "run_invoices"), (month_end, "approve_drafts")):
        act = getattr(module, name)

        def spy(*args, act=act, **kwargs):
            asked.append(kwargs["workers"])
            return act(*args, **kwargs)

        monkeypatch.setattr(module, name, spy)
    return asked


def test_the_run_and_approval_use_the_workers_asked_or_the_setting(
    cast, api_as, month_of_time, monkeypatch, settings
):
    asked = _workers_asked(monkeypatch)
    settings.BILLING_WORKERS = 3
    admin = api_as(cast.admin)
    month = {"practice_id": cast.security.pk, "month": "2026-11"}
    made = admin.post("/api/v1/billing/runs", month, content_type="application/json")
    assert made.status_code == 201, made.content
    assert made.json()["invoices_made"] == 2  # on SQLite one process whatever is asked
    approved = admin.post(
        "/api/v1/billing/runs/approve", month | {"workers": 2}, content_type="application/json"
    )
    assert approved.json()["approved"] == 2
    assert asked == [3, 2]


def test_the_run_page_takes_a_workers_count_from_1_to_4(
    cast, web_as, month_of_time, monkeypatch, settings
):
    asked = _workers_asked(monkeypatch)
    settings.BILLING_WORKERS = 2
    admin = web_as(cast.admin)
    month = {"practice": cast.security.pk, "month": "2026-11"}
    page = admin.get("/billing/run/", month)
    assert 'name="workers" value="2"' in page.content.decode()  # the setting, carried on
    for bad, problem in (
        ("0", "greater than or equal to 1"),
        ("5", "less than or equal to 4"),
        ("two", "Enter a whole number"),
    ):
        refused = admin.post("/billing/run/", month | {"workers": bad})
        assert refused.status_code == 400
        assert problem in refused.content.decode()
        refused = admin.post("/billing/run/approve/", month | {"workers": bad})
        assert refused.status_code == 400
    assert not InvoiceRun.objects.exists()
    admin.post("/billing/run/", month | {"workers": "4"})
    assert Invoice.objects.filter(state="draft").count() == 2
    admin.post("/billing/run/approve/", month)  # left out: the setting
    assert not Invoice.objects.filter(state="draft").exists()
    assert asked == [4, 2]

"""The on-call rota settings pages: the list, a rota with its members in turn order, the week
as the rota logic answers it, overrides and swaps.

The network reads them; a practice admin or the lead of the rota's practice changes them
(403 to the rest of the network), everyone else finds nothing (404). A refused form writes
nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client as HttpClient

from support.pages import NETWORK, ROLES
from support.screens import shoot
from thirdway.audit.models import AuditRecord, Source
from thirdway.network import services as network
from thirdway.network.models import Rota, RotaMember, RotaOverride

# The override of the writes goes to Ada; its swap is between Paula and Dean.
OWN_DUTIES = {("associate", "overrides"), ("partner", "swaps"), ("desk", "swaps")}
START = dt.date(2025, 1, 13)  # the Monday of the pages' fixed moment (Wed 15 Jan 2025)


@pytest.fixture
def security_rota(cast):
    return network.create_rota(
        cast.admin,
        name="Security on call",
        practice=cast.security,
        kind="weekly",
        time_zone="Europe/Paris",
        handover_time=dt.time(9, 0),
        starts_on=START,
        members=[cast.partner_record, cast.desk_record],
        source=Source.CLI,
    )


def _signed_in(cast, role: str) -> HttpClient:
    http = HttpClient()
    http.force_login(getattr(cast, role))
    return http


def _state() -> list:
    return [
        list(Rota.objects.values()),
        list(RotaMember.objects.values()),
        list(RotaOverride.objects.values()),
        AuditRecord.objects.count(),
    ]


def _writes(cast, rota) -> list[tuple[str, dict]]:
    base = f"/settings/rotas/{rota.pk}"
    duty = {"starts_at": "2025-01-20T09:00", "ends_at": "2025-01-21T09:00"}
    return [
        (
            f"{base}/",
            {
                "name": "Renamed",
                "practice": cast.security.pk,
                "kind": "daily",
                "time_zone": "UTC",
                "handover_time": "08:00",
                "starts_on": "2025-01-13",
            },
        ),
        (f"{base}/members/", {"op": "add", "partner": cast.associate_record.pk}),
        (f"{base}/members/", {"op": "remove", "partner": cast.partner_record.pk}),
        (f"{base}/overrides/", {"partner": cast.associate_record.pk, **duty}),
        (
            f"{base}/swaps/",
            {
                "first": cast.partner_record.pk,
                "first_starts_at": "2025-01-20T09:00",
                "first_ends_at": "2025-01-21T09:00",
                "second": cast.desk_record.pk,
                "second_starts_at": "2025-01-27T09:00",
                "second_ends_at": "2025-01-28T09:00",
            },
        ),
    ]


def test_the_network_reads_the_rotas_and_nobody_else_finds_them(
    cast, security_rota, role, frozen_now
):
    http = _signed_in(cast, role)
    for url in ("/settings/rotas/", f"/settings/rotas/{security_rota.pk}/"):
        response = http.get(url)
        assert response.status_code == (200 if role in NETWORK else 404), url
    if role in NETWORK:
        page = http.get(f"/settings/rotas/{security_rota.pk}/").content.decode()
        assert "Paula Partner" in page
        assert ('id="member-form"' in page) == (role == "admin")


@pytest.mark.parametrize("role", [r for r in ROLES if r != "admin"])
def test_only_an_admin_or_the_practice_lead_changes_a_rota(cast, security_rota, role):
    http = _signed_in(cast, role)
    override = network.add_override(
        cast.admin,
        security_rota,
        cast.desk_record,
        starts_at=dt.datetime(2025, 2, 1, tzinfo=dt.UTC),
        ends_at=dt.datetime(2025, 2, 2, tzinfo=dt.UTC),
        source=Source.CLI,
    )
    before = _state()
    removal = (f"/settings/rotas/{security_rota.pk}/overrides/{override.pk}/remove/", {})
    for url, data in [*_writes(cast, security_rota), removal]:
        if (role, url.rsplit("/", 2)[-2]) in OWN_DUTIES:
            continue  # one may take a duty oneself, or swap one's own: the services allow it
        response = http.post(url, data)
        assert response.status_code == (403 if role in NETWORK else 404), (
            url,
            response.status_code,
        )
    assert _state() == before
    assert http.get("/settings/rotas/new/").status_code == (403 if role in NETWORK else 404)


def test_the_lead_of_the_practice_runs_its_rota(cast, security_rota):
    network.update_practice(
        cast.admin, cast.security, {"lead": cast.partner_record}, source=Source.CLI
    )
    http = _signed_in(cast, "partner")
    for url, data in _writes(cast, security_rota):
        response = http.post(url, data)
        assert response.status_code == 302, (url, response.status_code)
    assert AuditRecord.objects.filter(actor=cast.partner, action="rota.update").exists()
    # Not another practice's, nor the desk's.
    assert (
        http.post(
            "/settings/rotas/new/",
            {
                "name": "Desk",
                "kind": "weekly",
                "time_zone": "UTC",
                "handover_time": "09:00",
                "starts_on": "2025-01-13",
            },
        ).status_code
        == 403
    )


def test_an_override_must_end_after_it_starts(cast, security_rota):
    moment = dt.datetime(2025, 2, 1, tzinfo=dt.UTC)
    with pytest.raises(ValidationError) as refused:
        network.add_override(
            cast.admin,
            security_rota,
            cast.desk_record,
            starts_at=moment,
            ends_at=moment,
            source=Source.CLI,
        )
    assert refused.value.message_dict == {"ends_at": ["The duty must end after it starts."]}
    assert not RotaOverride.objects.exists()


def test_removing_an_override_is_audited_and_refused_to_a_partner(cast, security_rota):
    override = network.add_override(
        cast.admin,
        security_rota,
        cast.desk_record,
        starts_at=dt.datetime(2025, 2, 1, tzinfo=dt.UTC),
        ends_at=dt.datetime(2025, 2, 2, tzinfo=dt.UTC),
        source=Source.CLI,
    )
    with pytest.raises(PermissionDenied):
        network.remove_override(cast.other_partner, override, source=Source.CLI)
    network.remove_override(cast.admin, override, source=Source.CLI)
    assert not RotaOverride.objects.exists()
    assert AuditRecord.objects.filter(action="rota.override_remove").count() == 1


@pytest.mark.browser
def test_an_admin_builds_a_rota_and_sees_its_week(cast, live_server, browser, tmp_path, frozen_now):
    from playwright.sync_api import expect

    from support.browser import DESKTOP, sign_in

    page = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(page, live_server.url, "admin", "/settings/rotas/new/")
    form = page.locator("#rota-form")
    form.locator("input[name=name]").fill("Security on call")
    form.locator("select[name=practice]").select_option(label="Security")
    form.locator("select[name=kind]").select_option("weekly")
    form.locator("input[name=time_zone]").fill("Europe/Lyon")
    form.locator("input[name=handover_time]").fill("09:00")
    form.locator("input[name=starts_on]").fill("2025-01-13")
    form.get_by_role("button", name="Create rota").click()
    expect(page.locator(".field.invalid:has(input[name=time_zone]) .error")).to_contain_text(
        "Europe/Lyon"
    )
    assert not Rota.objects.exists()
    page.locator("#rota-form input[name=time_zone]").fill("Europe/Paris")
    page.locator("#rota-form").get_by_role("button", name="Create rota").click()
    expect(page.get_by_text("Rota Security on call created; now add its members.")).to_be_visible()
    rota = Rota.objects.get()

    for name in ("Dean Desk", "Paula Partner"):
        page.locator("#member-form select[name=partner]").select_option(label=name)
        page.locator("#member-form").get_by_role("button", name="Add member").click()
        expect(page.get_by_text("Members saved.")).to_be_visible()
    page.locator("#member-form select[name=partner]").select_option(label="Dean Desk")
    page.locator("#member-form").get_by_role("button", name="Add member").click()
    expect(page.locator("#member-form .field.invalid .error")).to_have_text(
        "A partner appears twice. Allowed: each partner once."
    )
    page.get_by_role("button", name="Move Paula Partner up").click()
    expect(page.get_by_text("Members saved.")).to_be_visible()
    assert [m.partner for m in rota.memberships.all()] == [cast.partner_record, cast.desk_record]

    # Paula has the week from Monday 09:00 in Paris (08:00 UTC, the admin's zone).
    monday = page.locator(".week-day").first
    expect(monday).to_contain_text("Mon 13 Jan")
    expect(monday).to_contain_text("00:00–08:00 Dean Desk")
    expect(monday).to_contain_text("08:00–24:00 Paula Partner")

    overrides = page.locator("#override-form")
    overrides.locator("select[name=partner]").select_option(label="Ada Associate")
    overrides.locator("input[name=starts_at]").fill("2025-01-16T12:00")
    overrides.locator("input[name=ends_at]").fill("2025-01-16T10:00")
    overrides.get_by_role("button", name="Add override").click()
    expect(
        page.locator("#override-form .field.invalid:has(input[name=ends_at]) .error")
    ).to_have_text("The duty must end after it starts. Allowed: a time later than starts_at.")
    assert not RotaOverride.objects.exists()
    shoot(page, "rota-refused", tmp_path)
    page.locator("#override-form input[name=ends_at]").fill("2025-01-16T18:00")
    page.locator("#override-form").get_by_role("button", name="Add override").click()
    expect(page.get_by_text("Override added.")).to_be_visible()
    thursday = page.locator(".week-day").nth(3)
    expect(thursday).to_contain_text("12:00–18:00 Ada Associate")

    swap = page.locator("#swap-form")
    swap.locator("select[name=first]").select_option(label="Paula Partner")
    swap.locator("input[name=first_starts_at]").fill("2025-01-17T08:00")
    swap.locator("input[name=first_ends_at]").fill("2025-01-17T20:00")
    swap.locator("select[name=second]").select_option(label="Dean Desk")
    swap.locator("input[name=second_starts_at]").fill("2025-01-21T08:00")
    swap.locator("input[name=second_ends_at]").fill("2025-01-21T07:00")
    swap.get_by_role("button", name="Swap").click()
    expect(
        page.locator("#swap-form .field.invalid:has(input[name=second_ends_at]) .error")
    ).to_have_text("The duty must end after it starts. Allowed: a time later than starts_at.")
    assert RotaOverride.objects.count() == 1
    page.locator("#swap-form input[name=second_ends_at]").fill("2025-01-21T20:00")
    page.locator("#swap-form").get_by_role("button", name="Swap").click()
    expect(page.get_by_text("Duties swapped.")).to_be_visible()
    expect(page.locator(".week-day").nth(4)).to_contain_text("08:00–20:00 Dean Desk")
    assert RotaOverride.objects.count() == 3
    shoot(page, "rota-detail", tmp_path)

    page.get_by_role("button", name="Remove the override of Ada Associate").click()
    expect(page.get_by_text("Override removed.")).to_be_visible()
    assert RotaOverride.objects.count() == 2
    page.goto(f"{live_server.url}/settings/rotas/")
    expect(page.locator("#rotas")).to_contain_text("Paula Partner")
    shoot(page, "rota-list", tmp_path)

"""The monitoring pages: who sees them, what the status board says, and the forms."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from thirdway.audit.models import Source
from thirdway.monitoring import evaluation, services
from thirdway.monitoring.engine import Status
from thirdway.monitoring.models import Check, MaintenanceWindow


@pytest.fixture
def board(cast):
    """Acme: a shop that is down, a server in maintenance that is down too, a mail check up."""
    admin = cast.admin

    def add(name, **data):
        data.setdefault("kind", "http")
        data.setdefault("target", f"https://{name.lower()}.acme.example/")
        return services.create_check(
            admin, cast.acme, name=name, max_attempts=1, source=Source.CLI, **data
        )

    shop = add("Shop")
    server = add("Server", asset_id=cast.acme_server.pk)
    mail = add("Mail")
    now = timezone.now()
    window = services.create_window(
        admin,
        cast.acme,
        name="Disk swap",
        kind="one_off",
        starts_at=now - dt.timedelta(hours=1),
        ends_at=now + dt.timedelta(hours=1),
        asset_id=cast.acme_server.pk,
        source=Source.CLI,
    )
    evaluation.record_result(shop.pk, Status.CRITICAL, output="HTTP 502")
    evaluation.record_result(server.pk, Status.CRITICAL, output="timeout")
    evaluation.record_result(mail.pk, Status.OK, output="HTTP 200")
    globex = services.create_check(
        admin,
        cast.globex,
        name="Clinic",
        kind="http",
        target="https://clinic.example/",
        source=Source.CLI,
    )
    return {"shop": shop, "server": server, "mail": mail, "window": window, "globex": globex}


def pages_of(board) -> list[tuple[str, str]]:
    acme = board["shop"].client_id
    return [
        ("get", f"/monitoring/clients/{acme}/"),
        ("get", f"/monitoring/clients/{acme}/checks/new/"),
        ("get", f"/monitoring/clients/{acme}/windows/"),
        ("get", f"/monitoring/clients/{acme}/alert-rule/"),
        ("get", f"/monitoring/checks/{board['shop'].pk}/"),
        ("get", f"/monitoring/checks/{board['shop'].pk}/edit/"),
        ("post", f"/monitoring/checks/{board['shop'].pk}/pause/"),
        ("post", f"/monitoring/checks/{board['shop'].pk}/new-ping-url/"),
        ("get", f"/monitoring/clients/{acme}/alertmanager/"),
        ("get", f"/monitoring/checks/{board['shop'].pk}/delete/"),
        ("post", f"/monitoring/checks/{board['shop'].pk}/delete/"),
        ("get", f"/monitoring/windows/{board['window'].pk}/edit/"),
        ("post", f"/monitoring/windows/{board['window'].pk}/delete/"),
    ]


OTHERS = sorted(
    {"other_partner", "other_client_admin", "other_client_user", "client_user", "outsider"}
)


@pytest.mark.parametrize("role", OTHERS)
def test_another_clients_people_get_404_on_every_page(cast, web_as, board, role):
    browser = web_as(getattr(cast, role))
    for method, url in pages_of(board):
        response = getattr(browser, method)(url)
        assert response.status_code == 404, (role, method, url, response.status_code)
    assert Check.objects.filter(pk=board["shop"].pk, is_paused=False).exists()
    assert MaintenanceWindow.objects.filter(pk=board["window"].pk).exists()


@pytest.mark.parametrize("role", sorted({"client_admin", "client_user", "outsider"}))
def test_the_desk_page_is_the_networks(cast, web_as, role):
    assert web_as(getattr(cast, role)).get("/monitoring/").status_code == 404
    if role != "client_admin":
        assert web_as(getattr(cast, role)).get("/monitoring/mine/").status_code == 404


def test_the_status_board_says_what_is_down_held_and_in_maintenance(cast, web_as, board, page):
    html = page(web_as(cast.partner).get(f"/monitoring/clients/{cast.acme.pk}/"))
    assert 'mon-state down">Down' in html
    assert "In maintenance: Disk swap" in html
    assert "Held: in maintenance (Disk swap)" in html
    assert 'Bakery <span class="mon-state maintenance">Maintenance' in html
    assert "Clinic" not in html


def test_a_site_with_one_asset_in_maintenance_is_not_shown_healthy(cast, web_as, page):
    admin = cast.admin
    ok = services.create_check(
        admin,
        cast.acme,
        name="Router",
        kind="tcp",
        target="router.acme.example",
        port=22,
        site_id=cast.acme_site.pk,
        max_attempts=1,
        source=Source.CLI,
    )
    evaluation.record_result(ok.pk, Status.OK)
    now = timezone.now()
    services.create_window(
        admin,
        cast.acme,
        name="Laptop rebuild",
        kind="one_off",
        asset_id=cast.acme_laptop.pk,
        starts_at=now - dt.timedelta(minutes=5),
        ends_at=now + dt.timedelta(hours=1),
        source=Source.CLI,
    )
    laptop = services.create_check(
        admin,
        cast.acme,
        name="Laptop agent",
        kind="tcp",
        target="bob.acme.example",
        port=22,
        asset_id=cast.acme_laptop.pk,
        max_attempts=1,
        source=Source.CLI,
    )
    evaluation.record_result(laptop.pk, Status.OK)
    html = page(web_as(cast.desk).get(f"/monitoring/clients/{cast.acme.pk}/"))
    assert 'Bakery <span class="mon-state maintenance">Maintenance</span>' in html


def test_down_now_lists_problems_across_clients(cast, web_as, board, page):
    html = page(web_as(cast.desk).get("/monitoring/"))
    assert "Shop" in html and "Server" in html
    assert f"/monitoring/checks/{board['mail'].pk}/" not in html


def test_the_client_admin_sees_the_board_but_no_editing(cast, web_as, board, page):
    browser = web_as(cast.client_admin)
    mine = browser.get("/monitoring/mine/")
    assert mine.status_code == 302 and mine["Location"].endswith(f"/clients/{cast.acme.pk}/")
    html = page(browser.get(f"/monitoring/clients/{cast.acme.pk}/"))
    assert "Shop" in html and "Add a check" not in html
    assert browser.get(f"/monitoring/clients/{cast.acme.pk}/checks/new/").status_code == 403


def test_a_check_is_added_in_the_browser_and_errors_show_beside_fields(cast, web_as, page):
    browser = web_as(cast.partner)
    url = f"/monitoring/clients/{cast.acme.pk}/checks/new/"
    html = page(browser.get(url))
    assert 'name="allow_private_target"' not in html  # a practice admin's decision
    form = {
        "name": "Portal",
        "kind": "tcp",
        "target": "portal.acme.example",
        "port": "",
        "expected_status": "200",
        "period_seconds": "86400",
        "grace_seconds": "3600",
        "interval_seconds": "300",
        "retry_interval_seconds": "60",
        "max_attempts": "3",
        "timeout_seconds": "10",
        "dependency_delay_seconds": "120",
        "opens_tickets": "on",
    }
    html = page(browser.post(url, form))
    assert 'class="field invalid"' in html and "Give the port to connect to." in html
    assert not Check.objects.filter(name="Portal").exists()
    response = browser.post(url, {**form, "port": "443"})
    check = Check.objects.get(name="Portal")
    assert response.status_code == 302 and response["Location"].endswith(f"/checks/{check.pk}/")


def test_the_editor_pauses_edits_and_deletes(cast, web_as, board, page):
    browser = web_as(cast.partner)
    shop = board["shop"]
    browser.post(f"/monitoring/checks/{shop.pk}/pause/")
    assert Check.objects.get(pk=shop.pk).is_paused
    html = page(browser.get(f"/monitoring/checks/{shop.pk}/edit/"))
    assert 'value="Shop"' in html
    browser.post(f"/monitoring/checks/{shop.pk}/delete/")
    assert not Check.objects.filter(pk=shop.pk).exists()


def test_the_timeline_of_a_check_shows_its_alert_and_ticket(cast, web_as, board, page):
    html = page(web_as(cast.desk).get(f"/monitoring/checks/{board['shop'].pk}/"))
    assert "Alert opened" in html
    ticket = board["shop"].alerts.get().ticket
    assert ticket.number in html


def test_the_heartbeat_page_shows_its_ping_urls_to_whoever_sees_it(cast, web_as, page):
    beat = services.create_check(
        cast.admin, cast.acme, name="Backup", kind="heartbeat", source=Source.CLI
    )
    for role in ("partner", "client_admin"):
        html = page(web_as(getattr(cast, role)).get(f"/monitoring/checks/{beat.pk}/"))
        assert f"/api/v1/monitoring/ping/{beat.ping_token}/" in html
    assert (
        web_as(cast.client_admin).post(f"/monitoring/checks/{beat.pk}/new-ping-url/").status_code
        == 403
    )
    web_as(cast.partner).post(f"/monitoring/checks/{beat.pk}/new-ping-url/")
    assert Check.objects.get(pk=beat.pk).ping_token != beat.ping_token
    assert (
        web_as(cast.other_partner).post(f"/monitoring/checks/{beat.pk}/new-ping-url/").status_code
        == 404
    )


def test_a_weekly_window_is_added_and_a_bad_one_refused(cast, web_as, page):
    browser = web_as(cast.partner)
    url = f"/monitoring/clients/{cast.acme.pk}/windows/"
    bad = {"name": "Patching", "kind": "weekly", "start_time": "01:00", "duration_minutes": "120"}
    html = page(browser.post(url, bad))
    assert "Choose the days of the week." in html
    response = browser.post(url, {**bad, "weekdays": ["6"]})
    assert response.status_code == 302
    window = MaintenanceWindow.objects.get(name="Patching")
    assert window.weekdays == [6] and window.time_zone == "Europe/Paris"
    assert "Every Sun at 01:00" in page(browser.get(url))


def test_the_alert_rule_is_set_in_the_browser(cast, web_as):
    browser = web_as(cast.partner)
    url = f"/monitoring/clients/{cast.acme.pk}/alert-rule/"
    form = {
        "priority": "2",
        "category": "Monitoring",
        "practice": "",
        "group_by": "site",
        "group_window_seconds": "600",
        "repeat_interval_seconds": "0",
    }
    response = browser.post(url, form)
    assert response.status_code == 302
    rule = services.rule_of(cast.acme)
    assert (rule.priority, rule.group_by, rule.group_window_seconds) == (2, "site", 600)
    refused = browser.post(url, {**form, "repeat_interval_seconds": "60"})
    assert refused.status_code == 200
    assert "0 (no reminders) or 900 to 604800 seconds" in refused.content.decode()
    assert services.rule_of(cast.acme).repeat_interval_seconds == 0


def _queries(client, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as seen:
        assert client.get(url).status_code == 200
    return len(seen.captured_queries)


def test_boards_and_lists_ask_a_fixed_number_of_queries(cast, web_as, api_as):
    def add(n):
        for i in range(n):
            check = services.create_check(
                cast.admin,
                cast.acme,
                name=f"Site {i}",
                kind="http",
                max_attempts=1,
                target=f"https://s{i}.acme.example/",
                site_id=cast.acme_site.pk,
                source=Source.CLI,
            )
            evaluation.record_result(check.pk, Status.CRITICAL, output="HTTP 500")

    browser, api = web_as(cast.desk), api_as(cast.desk)
    urls = [
        (browser, f"/monitoring/clients/{cast.acme.pk}/"),
        (browser, "/monitoring/"),
        (api, "/api/v1/monitoring/checks"),
        (api, "/api/v1/monitoring/alerts"),
    ]
    add(2)
    api.get("/api/v1/monitoring/checks")  # the token's first use is written once
    before = [_queries(client, url) for client, url in urls]
    add(8)
    assert [_queries(client, url) for client, url in urls] == before

"""Maintenance windows by tag: a window naming a tag covers exactly the checks of the assets
with that tag; tags are set per asset (service, page, API), bounded, and kept to the client."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from support.api import send
from thirdway.audit.models import Source
from thirdway.clients.models import Asset
from thirdway.monitoring import evaluation, services
from thirdway.monitoring.engine import Status
from thirdway.monitoring.models import Alert, AssetTag, MaintenanceWindow
from thirdway.monitoring.tags import set_asset_tags

from .test_alerting import add
from .test_api import OUTSIDERS

API = "/api/v1"
CRIT = Status.CRITICAL
MINUTE = dt.timedelta(minutes=1)


@pytest.fixture
def t0():
    return timezone.now().replace(microsecond=0) - dt.timedelta(hours=1)


def window(cast, t0, **scope):
    return services.create_window(
        cast.partner,
        cast.acme,
        name="Backup servers",
        kind="one_off",
        starts_at=t0,
        ends_at=t0 + 30 * MINUTE,
        source=Source.CLI,
        **scope,
    )


def test_a_tag_window_holds_only_the_alerts_of_tagged_assets(cast, t0):
    set_asset_tags(cast.partner, cast.acme_server, ["backup", "Linux "], source=Source.CLI)
    tagged = add(cast, name="Server", asset_id=cast.acme_server.pk)
    untagged = add(cast, name="Laptop", target="laptop.acme.example", asset_id=cast.acme_laptop.pk)
    no_asset = add(cast, name="Site", target="www.acme.example")
    window(cast, t0, tag="backup")
    for check in (tagged, untagged, no_asset):
        evaluation.record_result(check.pk, CRIT, output="down", collected_at=t0 + MINUTE)
    alerted = set(Alert.objects.values_list("check_obj__name", flat=True))
    assert alerted == {"Laptop", "Site"}
    tagged.refresh_from_db()
    assert tagged.suppressed == "in maintenance (Backup servers)"
    # When the window ends, the tagged asset still down opens its alert.
    evaluation.sweep(t0 + 31 * MINUTE)
    assert Alert.objects.filter(check_obj=tagged).exists()


def test_a_tag_added_later_counts_and_a_tag_removed_stops_counting(cast, t0):
    check = add(cast, name="Server", asset_id=cast.acme_server.pk)
    window(cast, t0, tag="backup")
    assert evaluation.maintenance_of(check, t0 + MINUTE) == ""
    set_asset_tags(cast.partner, cast.acme_server, ["backup"], source=Source.CLI)
    assert evaluation.maintenance_of(check, t0 + MINUTE) == "Backup servers"
    set_asset_tags(cast.partner, cast.acme_server, [], source=Source.CLI)
    assert evaluation.maintenance_of(check, t0 + MINUTE) == ""


def test_a_site_window_covers_every_asset_of_the_site(cast, t0):
    server = add(cast, name="Server", asset_id=cast.acme_server.pk)
    window(cast, t0, site_id=cast.acme_site.pk)
    assert cast.acme_server.site_id == cast.acme_site.pk
    assert evaluation.maintenance_of(server, t0 + MINUTE) == "Backup servers"


def test_the_board_shows_tagged_checks_in_maintenance(cast, web_as):
    set_asset_tags(cast.partner, cast.acme_server, ["backup"], source=Source.CLI)
    add(cast, name="Server", asset_id=cast.acme_server.pk)
    add(cast, name="Laptop", target="laptop.acme.example", asset_id=cast.acme_laptop.pk)
    now = timezone.now()
    window(cast, now - MINUTE, tag="backup")
    html = web_as(cast.partner).get(f"/monitoring/clients/{cast.acme.pk}/").content.decode()
    assert html.count("Backup servers") == 1


@pytest.mark.parametrize(
    ("tags", "field"),
    [
        (["Bad tag"], "tags"),
        (["-x"], "tags"),
        (["a" * 41], "tags"),
        ([f"t{i}" for i in range(21)], "tags"),
    ],
)
def test_bad_tags_are_refused_and_change_nothing(cast, tags, field):
    set_asset_tags(cast.partner, cast.acme_server, ["keep"], source=Source.CLI)
    with pytest.raises(ValidationError) as refused:
        set_asset_tags(cast.partner, cast.acme_server, tags, source=Source.CLI)
    assert field in refused.value.message_dict
    assert list(AssetTag.objects.values_list("name", flat=True)) == ["keep"]


def test_a_window_takes_one_scope_and_a_valid_tag(cast, t0):
    with pytest.raises(ValidationError) as both:
        window(cast, t0, tag="backup", site_id=cast.acme_site.pk)
    assert "tag" in both.value.message_dict
    with pytest.raises(ValidationError) as bad:
        window(cast, t0, tag="no spaces")
    assert "tag" in bad.value.message_dict
    assert not MaintenanceWindow.objects.exists()


def test_the_api_sets_tags_and_windows_by_tag(cast, api_as):
    client = api_as(cast.partner)
    url = f"{API}/monitoring/assets/{cast.acme_server.pk}/tags"
    answer = send(client, "put", url, {"tags": ["backup", "core-switch"]})
    assert answer.status_code == 200, answer.content
    assert answer.json()["tags"] == ["backup", "core-switch"]
    refused = send(client, "put", url, {"tags": ["Not OK"]})
    assert refused.status_code == 400 and "tags" in refused.content.decode()
    listed = send(client, "get", f"{API}/monitoring/clients/{cast.acme.pk}/asset-tags").json()
    assert {
        "asset_id": cast.acme_server.pk,
        "asset_name": "ACME-SRV1",
        "tags": ["backup", "core-switch"],
    } in listed
    body = {
        "client": cast.acme.pk,
        "name": "Backups",
        "kind": "one_off",
        "tag": "backup",
        "starts_at": "2030-01-01T00:00:00Z",
        "ends_at": "2030-01-01T02:00:00Z",
    }
    made = send(client, "post", f"{API}/monitoring/windows", body)
    assert made.status_code == 201 and made.json()["tag"] == "backup"
    both = send(client, "post", f"{API}/monitoring/windows", {**body, "site": cast.acme_site.pk})
    assert both.status_code == 400 and "tag" in both.content.decode()
    assert MaintenanceWindow.objects.count() == 1


def test_the_clients_admin_reads_tags_but_does_not_set_them(cast, api_as):
    client = api_as(cast.client_admin)
    url = f"{API}/monitoring/assets/{cast.acme_server.pk}/tags"
    assert send(client, "put", url, {"tags": ["x"]}).status_code == 403
    listed = send(client, "get", f"{API}/monitoring/clients/{cast.acme.pk}/asset-tags")
    assert listed.status_code == 200
    assert not AssetTag.objects.exists()


@pytest.mark.parametrize("role", OUTSIDERS)
def test_another_clients_people_get_404_on_asset_tags(cast, api_as, role):
    set_asset_tags(cast.partner, cast.acme_server, ["backup"], source=Source.CLI)
    client = api_as(getattr(cast, role))
    put = send(client, "put", f"{API}/monitoring/assets/{cast.acme_server.pk}/tags", {"tags": []})
    assert put.status_code == 404
    get = send(client, "get", f"{API}/monitoring/clients/{cast.acme.pk}/asset-tags")
    assert get.status_code == 404
    assert list(AssetTag.objects.values_list("name", flat=True)) == ["backup"]


def test_an_asset_of_another_client_cannot_be_tagged_from_this_clients_page(cast, web_as):
    other = Asset.objects.exclude(client=cast.acme).first()
    browser = web_as(cast.partner)
    url = f"/monitoring/clients/{cast.acme.pk}/asset-tags/"
    response = browser.post(url, {"asset": other.pk, "tags": "backup"})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert not AssetTag.objects.exists()

"""The metrics page of a large network: past 50 clients its select lists the practices, the
partners and the client shown, and a client picker finds the others, within what the viewer
sees."""

from __future__ import annotations

import re

from thirdway.clients.models import Client
from thirdway.insights import reports


def _options(html: str) -> list[str]:
    return re.findall(r'<option value="((?:practice|partner|client):\d+)"', html)


def test_a_few_clients_are_all_in_the_select_and_no_picker_is_offered(cast, web_as):
    page = web_as(cast.admin).get("/insights/metrics/").content.decode()
    assert f"client:{cast.acme.pk}" in _options(page)
    assert f"client:{cast.globex.pk}" in _options(page)
    assert 'id="client-figures"' not in page


def test_past_fifty_clients_a_picker_finds_them_and_the_select_keeps_the_one_shown(cast, web_as):
    Client.objects.bulk_create(
        [Client(name=f"Bulk {n:03}", time_zone="UTC") for n in range(reports.CLIENT_CHOICES)]
    )
    admin = web_as(cast.admin)
    page = admin.get("/insights/metrics/").content.decode()
    assert 'id="client-figures"' in page
    assert not [o for o in _options(page) if o.startswith("client:")]
    assert f"practice:{cast.security.pk}" in _options(page)
    bulk = Client.objects.get(name="Bulk 007")
    shown = admin.get(f"/insights/metrics/?client={bulk.pk}&days=30")
    assert shown.status_code == 200
    html = shown.content.decode()
    assert "Metrics: Bulk 007" in html
    assert [o for o in _options(html) if o.startswith("client:")] == [f"client:{bulk.pk}"]


def test_the_picked_client_is_one_the_viewer_sees_or_a_404(cast, web_as):
    partner = web_as(cast.other_partner)
    assert partner.get(f"/insights/metrics/?client={cast.acme.pk}").status_code == 404
    assert partner.get("/insights/metrics/?client=12x").status_code == 404
    assert partner.get("/insights/metrics/?subject=practice:1").status_code == 404

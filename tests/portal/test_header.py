"""Client contacts stay in the portal: every page they may open carries the portal's own header,
never the network's links; and the site has an icon."""

from __future__ import annotations

import re

import pytest

from support.pages import NETWORK

STAFF_LINKS = ("/partners/", "/partners/practices/", "/tickets/", "/mail/", "/admin/")


def _header(html: str) -> str:
    return re.search(r'<header class="top">(.*?)</header>', html, re.DOTALL).group(1)


@pytest.mark.parametrize("role", ["client_admin", "client_user"])
@pytest.mark.parametrize("path", ["/portal/", "/portal/new/", "/accounts/settings/"])
def test_a_contact_sees_the_portal_header_on_every_page(cast, desk, web_as, role, path):
    response = web_as(getattr(cast, role)).get(path)
    assert response.status_code == 200, path
    header = _header(response.content.decode())
    assert 'aria-label="Portal"' in header
    assert '<a class="brand" href="/portal/">' in header
    links = re.findall(r'href="([^"]+)"', header)
    assert not [link for link in links if link.startswith(STAFF_LINKS)], links
    organisation = '<a href="/clients/">Organisation</a>' in header
    assert organisation == (role == "client_admin")


@pytest.mark.parametrize("role", sorted(NETWORK))
def test_the_network_keeps_its_own_header(cast, web_as, role):
    header = _header(web_as(getattr(cast, role)).get("/tickets/").content.decode())
    assert 'aria-label="Main"' in header and 'href="/tickets/"' in header
    assert 'aria-label="Portal"' not in header


def test_the_site_has_an_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"] == "/static/web/favicon.svg"
    page = client.get("/accounts/login/").content.decode()
    assert '<link rel="icon" href="/static/web/favicon.svg" type="image/svg+xml">' in page

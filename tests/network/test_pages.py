"""The network's pages for every role of the cast: the partner directory, partner and practice
pages and the partner forms, for the network only (404 for everyone else)."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import pytest

from support.pages import NETWORK, cell_texts
from thirdway.audit.models import Source
from thirdway.network import services as network

PARTNER_NAMES = ["Paula Partner", "Oscar Other", "Ada Associate", "Dean Desk"]


def _listed(html: str) -> list[str]:
    """The partners of the directory's rows, sorted, each as often as it is shown."""
    return sorted(re.findall(r'<td><a href="/partners/\d+/">([^<]+)</a></td>', html))


# --- partner directory -------------------------------------------------------------------------


def test_the_partner_directory_lists_every_active_partner_to_the_network_only(
    cast, web_as, role, frozen_now, section
):
    browser = web_as(getattr(cast, role))
    full = browser.get("/partners/")
    partial = browser.get("/partners/", headers={"HX-Request": "true"})
    if role not in NETWORK:
        for response in (full, partial):
            assert response.status_code == 404
            for name in PARTNER_NAMES:
                assert name not in response.content.decode()
        return
    assert full.status_code == partial.status_code == 200
    rows = section(full.content.decode(), "partner-rows")
    assert _listed(rows) == _listed(partial.content.decode()) == sorted(PARTNER_NAMES)
    assert "Security 4/5" in rows
    assert "Networking 3/5" in rows
    assert ("Add a partner" in full.content.decode()) == (role == "admin")


def test_the_partner_directory_leaves_out_inactive_partners(cast, web_as, section):
    network.update_partner(
        cast.admin, cast.associate_record, {"is_active": False}, source=Source.CLI
    )
    rows = section(web_as(cast.desk).get("/partners/").content.decode(), "partner-rows")
    assert _listed(rows) == ["Dean Desk", "Oscar Other", "Paula Partner"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", PARTNER_NAMES),
        ("practice={security}", ["Paula Partner"]),
        ("practice={networking}", ["Oscar Other", "Ada Associate"]),
        ("region=Qu%C3%A9bec", ["Oscar Other"]),
        ("region=rh%C3%B4ne-alpes", ["Paula Partner", "Ada Associate", "Dean Desk"]),
        ("region=Bretagne", []),
        # 11:00 in Lyon, 05:00 in Montréal; Dean's desk is open around the clock.
        ("available_now=on", ["Paula Partner", "Ada Associate", "Dean Desk"]),
        ("available_now=on&practice={networking}", ["Ada Associate"]),
        ("available_now=on&region=Qu%C3%A9bec", []),
    ],
)
def test_the_partner_directory_filters_by_practice_region_and_availability(
    cast, web_as, frozen_now, section, query, expected
):
    query = query.format(security=cast.security.pk, networking=cast.networking.pk)
    browser = web_as(cast.associate)
    full = browser.get(f"/partners/?{query}")
    partial = browser.get(f"/partners/?{query}", headers={"HX-Request": "true"})
    assert full.status_code == partial.status_code == 200
    rows = section(full.content.decode(), "partner-rows")
    assert _listed(rows) == sorted(expected), query
    assert _listed(partial.content.decode()) == sorted(expected), query
    if not expected:
        assert "No partner matches." in rows


def test_the_htmx_partial_of_the_directory_is_only_the_rows(cast, web_as, frozen_now):
    html = (
        web_as(cast.admin)
        .get("/partners/?region=Qu%C3%A9bec", headers={"HX-Request": "true"})
        .content.decode()
    )
    assert html.lstrip().startswith("<table")
    assert "<html" not in html
    assert "<form" not in html
    assert _listed(html) == ["Oscar Other"]


def test_availability_now_is_marked_on_each_row(cast, web_as, frozen_now):
    html = web_as(cast.desk).get("/partners/", headers={"HX-Request": "true"}).content.decode()
    marks = dict(
        re.findall(
            r">([A-Z][a-z]+ [A-Z][a-z]+)</a></td>.*?<span class=\"badge(?: on)?\">(\w+)</span>",
            html,
            re.DOTALL,
        )
    )
    assert marks == {
        "Ada Associate": "available",
        "Dean Desk": "available",
        "Oscar Other": "off",
        "Paula Partner": "available",
    }


# --- partner pages -----------------------------------------------------------------------------


def test_partner_pages_are_for_the_network_only(cast, web_as, role, frozen_now, page):
    browser = web_as(getattr(cast, role))
    for record in (cast.partner_record, cast.other_partner_record, cast.desk_record):
        response = browser.get(f"/partners/{record.pk}/")
        if role in NETWORK:
            assert record.name in page(response)
        else:
            assert response.status_code == 404
            assert record.name not in response.content.decode()
            assert record.email not in response.content.decode()


def test_a_missing_partner_is_not_found(cast, web_as):
    assert web_as(cast.admin).get("/partners/999999/").status_code == 404


@pytest.mark.parametrize("role", sorted(NETWORK))
def test_a_partner_page_shows_skills_hours_absences_and_history(
    cast, web_as, role, frozen_now, page
):
    viewer = getattr(cast, role)
    html = page(web_as(viewer).get(f"/partners/{cast.other_partner_record.pk}/"))
    assert "<h1>Oscar Other" in html
    assert "not available now" in html  # 05:00 in Montréal
    assert "<li>Networking: 3/5</li>" in html
    assert "Security" not in html.split("<h2>Skills</h2>")[1].split("</ul>")[0]
    assert "oscar@network.example" in html
    assert "Their time (America/Toronto)" in html
    assert f"Your time ({viewer.time_zone})" in html
    assert html.count("<td>09:00–17:00</td>") == 5
    absence = cast.other_partner_record.absences.get()
    zone = ZoneInfo(viewer.time_zone)
    period = (
        f"{absence.starts_at.astimezone(zone):%Y-%m-%d %H:%M} → "
        f"{absence.ends_at.astimezone(zone):%Y-%m-%d %H:%M}"
    )
    assert f"Vacation: {period}" in html
    trail = html.split('<section class="audit"')[1]
    assert "partner.create" in trail
    assert "skill.set" in trail
    assert "absence.add" in trail
    # Only the practice admin and Oscar himself may change his profile and absences.
    may_edit = viewer in (cast.admin, cast.other_partner)
    assert (f"/partners/{cast.other_partner_record.pk}/edit/" in html) == may_edit
    assert ("Add absence" in html) == may_edit
    assert (f"/absences/{absence.pk}/cancel/" in html) == may_edit


def test_a_partner_page_says_when_the_partner_is_available_now(cast, web_as, frozen_now, page):
    html = page(web_as(cast.other_partner).get(f"/partners/{cast.partner_record.pk}/"))
    assert "available now</span>" in html
    assert "not available now" not in html
    assert "<li>Security: 4/5</li>" in html
    assert "No upcoming absences." in html


def test_the_practice_pages_are_for_the_network_only(cast, web_as, role, page):
    browser = web_as(getattr(cast, role))
    listing = browser.get("/partners/practices/")
    detail = browser.get(f"/partners/practices/{cast.networking.pk}/")
    if role not in NETWORK:
        for response in (listing, detail):
            assert response.status_code == 404
            assert "Networking" not in response.content.decode()
            assert "Oscar Other" not in response.content.decode()
        return
    html = page(listing)
    assert "Networking" in html
    assert "Security" in html
    html = page(detail)
    assert "<h1>Networking</h1>" in html
    assert cell_texts(html.split("Who knows it")[1].split("</table>")[0]) == {
        "Oscar Other",
        "3/5",
        "Québec",
        "Ada Associate",
        "2/5",
        "Rhône-Alpes",
    }
    assert "Paula Partner" not in html


# --- partner forms -------------------------------------------------------------------------------


def test_only_the_practice_admin_may_open_the_form_that_adds_partners(cast, web_as, role):
    response = web_as(getattr(cast, role)).get("/partners/new/")
    if role == "admin":
        assert response.status_code == 200
        assert 'name="name"' in response.content.decode()
    else:
        assert response.status_code == 404


def test_the_partner_edit_form_is_the_admin_s_and_the_partner_s_own(cast, web_as, role):
    browser = web_as(getattr(cast, role))
    for record in (cast.partner_record, cast.other_partner_record):
        response = browser.get(f"/partners/{record.pk}/edit/")
        if role == "admin" or getattr(cast, role).pk == record.user_id:
            assert response.status_code == 200
        elif role in NETWORK:
            assert response.status_code == 403
        else:
            assert response.status_code == 404
            assert record.name not in response.content.decode()


def test_a_partner_edits_only_the_self_service_fields_of_their_profile(cast, web_as, page):
    own = page(web_as(cast.partner).get(f"/partners/{cast.partner_record.pk}/edit/"))
    admin = page(web_as(cast.admin).get(f"/partners/{cast.partner_record.pk}/edit/"))
    for field in ("phone", "town", "time_zone", "working_hours_mon", "languages"):
        assert f'name="{field}"' in own
        assert f'name="{field}"' in admin
    for field in ("name", "email", "kind", "region", "capacity", "is_active"):
        assert f'name="{field}"' not in own
        assert f'name="{field}"' in admin

"""An absence names its deputy: checked by the service (active, someone else, not away then,
in a practice of the partner's), set from the partner page and the API, and used by the
hand-over for every open ticket of the absence."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from thirdway.audit.models import AuditRecord, Source
from thirdway.network import services as network
from thirdway.network.models import Absence
from thirdway.tickets import services
from thirdway.tickets.assignment import continuity
from thirdway.tickets.models import Handover

API = "/api/v1"


def _period(days_from=-1, days=5):
    start = timezone.now() + dt.timedelta(days=days_from)
    return start, start + dt.timedelta(days=days)


@pytest.fixture
def colleague(cast):
    """Dean of the desk learns security, Paula's practice: a valid deputy for her."""
    network.set_skill(cast.admin, cast.desk_record, cast.security, 2, source=Source.CLI)
    return cast.desk_record


def test_a_deputy_in_the_partners_practice_is_kept_and_audited(cast, colleague):
    starts, ends = _period()
    absence = network.add_absence(
        cast.admin,
        cast.partner_record,
        kind="vacation",
        starts_at=starts,
        ends_at=ends,
        deputy=colleague,
        source=Source.CLI,
    )
    assert absence.deputy == colleague
    record = AuditRecord.objects.get(action="absence.add", object_id=str(absence.pk))
    assert record.changes["deputy"] == [None, colleague.pk]


@pytest.mark.parametrize(
    "who, message",
    [
        ("partner_record", "Paula Partner cannot stand in for themselves."),
        ("other_partner_record", "is away then too"),
        ("associate_record", "Ada Associate shares no practice with Paula Partner."),
    ],
)
def test_an_unfit_deputy_is_refused_naming_the_field(cast, who, message):
    # Oscar (other_partner) is away from day 10 to 17; Paula's absence overlaps it.
    network.set_skill(cast.admin, cast.other_partner_record, cast.security, 2, source=Source.CLI)
    starts, ends = _period(days_from=9, days=3)
    with pytest.raises(ValidationError) as refused:
        network.add_absence(
            cast.admin,
            cast.partner_record,
            kind="vacation",
            starts_at=starts,
            ends_at=ends,
            deputy=getattr(cast, who),
            source=Source.CLI,
        )
    errors = refused.value.message_dict
    assert list(errors) == ["deputy"]
    assert message in errors["deputy"][0]
    assert not Absence.objects.filter(partner=cast.partner_record).exists()


def test_an_inactive_deputy_is_refused(cast, colleague):
    network.update_partner(cast.admin, colleague, {"is_active": False}, source=Source.CLI)
    starts, ends = _period()
    with pytest.raises(ValidationError) as refused:
        network.add_absence(
            cast.admin,
            cast.partner_record,
            kind="vacation",
            starts_at=starts,
            ends_at=ends,
            deputy=colleague.pk,
            source=Source.CLI,
        )
    assert "No active partner with id" in str(refused.value)


def test_the_api_sets_changes_and_clears_the_deputy(cast, colleague, api_as):
    client = api_as(cast.partner)
    starts, ends = _period(days_from=20)
    created = client.post(
        f"{API}/absences",
        {
            "partner": cast.partner_record.pk,
            "kind": "training",
            "starts_at": starts.isoformat(),
            "ends_at": ends.isoformat(),
            "deputy": colleague.pk,
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["deputy_id"] == colleague.pk
    url = f"{API}/absences/{created.json()['id']}"
    bad = client.patch(url, {"deputy": cast.associate_record.pk}, content_type="application/json")
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["field"] == "deputy"
    assert "shares no practice" in bad.json()["errors"][0]["problem"]
    cleared = client.patch(url, {"deputy": None}, content_type="application/json")
    assert cleared.status_code == 200 and cleared.json()["deputy_id"] is None


def test_the_partner_page_sets_the_deputy_and_shows_a_refusal_next_to_it(cast, colleague, web_as):
    browser = web_as(cast.partner)
    page = browser.get(f"/partners/{cast.partner_record.pk}/").content.decode()
    select = re.search(r'<select name="deputy"[^>]*>(.*?)</select>', page, re.DOTALL).group(1)
    # Only colleagues of Paula's practices are offered (Dean, now in security).
    assert re.findall(r'<option value="(\d+)"', select) == [str(colleague.pk)]
    data = {
        "kind": "vacation",
        "starts_at": "2031-05-04T08:00",
        "ends_at": "2031-05-08T18:00",
        "note": "",
        "deputy": str(cast.associate_record.pk),
    }
    refused = browser.post(f"/partners/{cast.partner_record.pk}/absences/", data)
    assert refused.status_code == 400
    assert "Select a valid choice" in refused.content.decode()
    saved = browser.post(
        f"/partners/{cast.partner_record.pk}/absences/", {**data, "deputy": str(colleague.pk)}
    )
    assert saved.status_code == 302
    absence = Absence.objects.get(partner=cast.partner_record)
    assert absence.deputy == colleague
    page = browser.get(f"/partners/{cast.partner_record.pk}/").content.decode()
    assert f"deputy {colleague.name}" in page


def _tickets_of(cast, partner, count):
    return [
        services.create_ticket(
            cast.admin,
            cast.acme,
            subject=f"Ticket {n}",
            body_text="Body",
            assignee_id=partner.pk,
            practice_id=cast.security.pk,
            source=Source.CLI,
        )
        for n in range(count)
    ]


def test_every_open_ticket_goes_to_the_absences_deputy_and_comes_back_at_once(
    cast, colleague, web_as
):
    tickets = _tickets_of(cast, cast.partner_record, 10)
    starts, ends = _period()
    absence = network.add_absence(
        cast.admin,
        cast.partner_record,
        kind="vacation",
        starts_at=starts,
        ends_at=ends,
        deputy=colleague,
        source=Source.CLI,
    )
    assert continuity.hand_over_absences() == 10
    assert {
        t.assignee_id for t in type(tickets[0]).objects.filter(pk__in=[t.pk for t in tickets])
    } == {colleague.pk}
    # The hand-over page groups them under the absence, with one take-back.
    page = web_as(cast.partner).get("/tickets/handovers/").content.decode()
    group = re.search(
        rf'<section class="handover-group" id="absence-{absence.pk}">(.*?)</section>',
        page,
        re.DOTALL,
    ).group(1)
    assert group.count("Take back") == 1
    assert "Take back 10 tickets" in group
    assert f"10 tickets with {colleague.name}" in group
    assert page.count("Take back") == 1
    response = web_as(cast.partner).post(f"/tickets/handovers/{absence.pk}/take-back/")
    assert response.status_code == 302
    assert not Handover.objects.filter(absence=absence, returned_at__isnull=True).exists()
    page = web_as(cast.partner).get("/tickets/handovers/").content.decode()
    assert "Take back" not in page


def test_a_standing_deputy_steps_in_when_the_absences_deputy_is_away(cast, colleague):
    network.update_partner(
        cast.admin, cast.partner_record, {"deputy": cast.associate_record}, source=Source.CLI
    )
    (ticket,) = _tickets_of(cast, cast.partner_record, 1)
    starts, ends = _period()
    network.add_absence(
        cast.admin,
        cast.partner_record,
        kind="vacation",
        starts_at=starts,
        ends_at=ends,
        deputy=colleague,
        source=Source.CLI,
    )
    # The named deputy falls ill after being chosen.
    network.add_absence(
        cast.admin,
        colleague,
        kind="sick",
        starts_at=starts,
        ends_at=ends,
        source=Source.CLI,
    )
    continuity.hand_over_absences()
    ticket.refresh_from_db()
    assert ticket.assignee == cast.associate_record


@pytest.mark.browser
def test_a_partner_records_an_absence_with_a_deputy_in_the_browser(
    cast, colleague, live_server, browser, tmp_path
):
    from playwright.sync_api import expect

    from support.browser import DESKTOP, PHONE, fits, sign_in

    page = browser.new_context(viewport=DESKTOP).new_page()
    detail = f"/partners/{cast.partner_record.pk}/"
    sign_in(page, live_server.url, "paula", detail)
    expect(page).to_have_url(f"{live_server.url}{detail}")
    form = page.locator("#absence-form")
    form.locator("select[name=kind]").select_option("vacation")
    form.locator("input[name=starts_at]").fill("2031-05-04T08:00")
    form.locator("input[name=ends_at]").fill("2031-05-03T18:00")
    form.locator("select[name=deputy]").select_option(label=colleague.name)
    form.get_by_role("button", name="Add absence").click()
    # Refused next to the field, with what was typed kept.
    error = page.locator("#absence-form .field.invalid .error")
    expect(error).to_have_text(
        "The absence must end after it starts. Allowed: a time later than starts_at."
    )
    expect(page.locator("#absence-form select[name=deputy]")).to_have_value(str(colleague.pk))
    page.screenshot(path=str(tmp_path / "absence-error.png"), full_page=True)
    assert not Absence.objects.filter(partner=cast.partner_record).exists()
    page.locator("#absence-form input[name=ends_at]").fill("2031-05-08T18:00")
    page.locator("#absence-form").get_by_role("button", name="Add absence").click()
    expect(page.get_by_text("Absence recorded.")).to_be_visible()
    expect(page.get_by_text(f"deputy {colleague.name}")).to_be_visible()
    assert Absence.objects.get(partner=cast.partner_record).deputy == colleague
    page.screenshot(path=str(tmp_path / "absence-1366.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(tmp_path / "absence-390.png"), full_page=True)
    assert fits(page)

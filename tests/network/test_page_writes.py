"""Changes to partners and absences made through the pages' forms.

A permitted POST goes through the service and leaves an audit record of source "web"; a bad value
re-renders the form with the error and writes nothing; a POST the role may not make writes nothing
either (403 when the object is in its scope, 404 when it is not).
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest

from support.pages import NETWORK, all_but, form_with
from thirdway.accounts.models import Role, User
from thirdway.audit.models import Source
from thirdway.network import services as network
from thirdway.network.models import Absence, Partner
from thirdway.weekly_hours import WEEKDAYS

PASSWORD = "correct-horse-battery-staple"


# --- partners ----------------------------------------------------------------------------------

NEW_PARTNER = {
    "name": "Nina New",
    "email": "nina@network.example",
    "kind": "associate",
    "region": "Bretagne",
    "town": "Rennes",
    "latitude": "48.11",
    "longitude": "-1.68",
    "time_zone": "Europe/Paris",
    "service_radius_km": "40",
    "capacity": "6",
    "working_hours_mon": "08:00-12:00",
    "languages": "fr, br",
    "username": "nina",
    "password": PASSWORD,
}


def test_the_practice_admin_adds_a_partner_with_an_account(
    cast, web_as, page, form_fields, web_audit
):
    browser = web_as(cast.admin)
    data = form_with(browser, "/partners/new/", page, form_fields, **NEW_PARTNER)
    response = browser.post("/partners/new/", data)
    nina = Partner.objects.get(email="nina@network.example")
    assert response.status_code == 302
    assert response["Location"] == f"/partners/{nina.pk}/"
    assert (nina.name, nina.kind, nina.region, nina.capacity) == (
        "Nina New",
        "associate",
        "Bretagne",
        6,
    )
    assert nina.working_hours == {"mon": [["08:00", "12:00"]]}
    assert nina.languages == ["fr", "br"]
    assert nina.is_active
    assert nina.user.username == "nina"
    assert nina.user.role == Role.ASSOCIATE
    assert nina.user.check_password(PASSWORD)
    record = web_audit(cast.admin, "partner.create", object_id=str(nina.pk)).get()
    assert record.scope == f"partner:{nina.pk}"
    assert record.changes["name"] == [None, "Nina New"]
    assert web_audit(cast.admin, "user.create", object_id=str(nina.user.pk)).count() == 1
    # She is in the directory, and can sign in.
    assert "Nina New" in browser.get("/partners/").content.decode()
    assert browser.get(response["Location"]).status_code == 200


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"time_zone": "Mars/Olympus"}, "Unknown time zone &#x27;Mars/Olympus&#x27;."),
        ({"latitude": "91"}, "Latitude 91.0 is out of range."),
        ({"capacity": "-1"}, "Ensure this value is greater than or equal to 0."),
        ({"email": "not-an-email"}, "Enter a valid email address."),
        ({"email": "paula@network.example"}, "Partner with this Email already exists."),
        ({"working_hours_mon": "8 to 12"}, "Monday: &#x27;8 to 12&#x27; is not a time range."),
        ({"working_hours_mon": "17:00-09:00"}, "ends before it starts"),
        ({"languages": "English"}, "Languages must be a list of language codes."),
        ({"username": "paula"}, "The username &#x27;paula&#x27; is already taken."),
        ({"password": "123"}, "This password is too short."),
        ({"kind": "boss"}, "Select a valid choice."),
    ],
)
def test_a_bad_value_for_a_new_partner_is_shown_and_nothing_is_written(
    cast, web_as, page, form_fields, written, changes, error
):
    browser = web_as(cast.admin)
    data = form_with(browser, "/partners/new/", page, form_fields, **{**NEW_PARTNER, **changes})
    before = written()
    html = page(browser.post("/partners/new/", data))
    assert error in html
    assert "<h1>New partner</h1>" in html
    assert 'value="Nina New"' in html  # what was typed is kept
    assert written() == before
    assert not User.objects.filter(username="nina").exists()


@pytest.mark.parametrize("role", all_but("admin"))
def test_only_the_practice_admin_adds_partners(cast, web_as, role, written):
    before = written()
    response = web_as(getattr(cast, role)).post("/partners/new/", NEW_PARTNER)
    assert response.status_code == 404
    assert written() == before


def test_the_practice_admin_changes_any_partner(cast, web_as, page, form_fields, web_audit):
    browser = web_as(cast.admin)
    url = f"/partners/{cast.other_partner_record.pk}/edit/"
    data = form_with(browser, url, page, form_fields, region="Ontario", capacity="12")
    response = browser.post(url, data)
    assert response.status_code == 302
    assert response["Location"] == f"/partners/{cast.other_partner_record.pk}/"
    oscar = Partner.objects.get(pk=cast.other_partner_record.pk)
    assert (oscar.region, oscar.capacity) == ("Ontario", 12)
    assert oscar.working_hours == cast.other_partner_record.working_hours
    record = web_audit(cast.admin, "partner.update", object_id=str(oscar.pk)).get()
    assert record.changes == {"region": ["Québec", "Ontario"], "capacity": [8, 12]}


def test_changing_a_partner_s_kind_changes_what_their_account_may_see(
    cast, web_as, page, form_fields, web_audit
):
    browser = web_as(cast.admin)
    url = f"/partners/{cast.associate_record.pk}/edit/"
    browser.post(url, form_with(browser, url, page, form_fields, kind="partner"))
    cast.associate.refresh_from_db()
    assert cast.associate.role == Role.PARTNER
    assert web_audit(cast.admin, "user.role", object_id=str(cast.associate.pk)).count() == 1


@pytest.mark.parametrize("role", ["partner", "other_partner", "associate", "desk"])
def test_a_member_of_the_network_changes_their_own_profile(
    cast, web_as, page, form_fields, web_audit, role
):
    user = getattr(cast, role)
    browser = web_as(user)
    url = f"/partners/{user.partner.pk}/edit/"
    hours = {f"working_hours_{day}": "" for day in WEEKDAYS} | {"working_hours_sat": "10:00-14:00"}
    data = form_with(browser, url, page, form_fields, phone="+1 555 0100", **hours)
    # Fields that are not theirs to change are not in the form; sending them changes nothing.
    data.update(name="Someone Else", capacity="999", kind="desk")
    response = browser.post(url, data)
    assert response.status_code == 302
    record = Partner.objects.get(pk=user.partner.pk)
    assert record.phone == "+1 555 0100"
    assert record.working_hours == {"sat": [["10:00", "14:00"]]}
    assert (record.name, record.capacity, record.kind) == (
        user.partner.name,
        8,
        user.partner.kind,
    )
    changes = web_audit(user, "partner.update", object_id=str(record.pk)).get().changes
    assert set(changes) == {"phone", "working_hours"}


def test_a_partner_with_no_languages_listed_can_still_save_their_profile(
    cast, web_as, page, form_fields, web_audit
):
    network.update_partner(
        cast.admin, cast.partner_record, {"languages": [], "working_hours": {}}, source=Source.CLI
    )
    browser = web_as(cast.partner)
    url = f"/partners/{cast.partner_record.pk}/edit/"
    data = form_with(browser, url, page, form_fields, phone="04 00 00 00 00")
    assert data["languages"] == ""
    assert {data[f"working_hours_{day}"] for day in WEEKDAYS} == {""}
    response = browser.post(url, data)
    assert response.status_code == 302, response.content.decode()
    paula = Partner.objects.get(pk=cast.partner_record.pk)
    assert (paula.phone, paula.languages, paula.working_hours) == ("04 00 00 00 00", [], {})
    assert web_audit(cast.partner, "partner.update").get().changes == {
        "phone": ["", "04 00 00 00 00"]
    }


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"latitude": "123"}, "Latitude 123.0 is out of range."),
        ({"time_zone": "Lyon"}, "Unknown time zone &#x27;Lyon&#x27;."),
        ({"working_hours_wed": "all day"}, "Wednesday: &#x27;all day&#x27; is not a time range."),
        ({"working_hours_mon": "09:00-12:00, 11:00-13:00"}, "mon has overlapping intervals."),
        ({"languages": "fr, English"}, "Languages must be a list of language codes."),
        ({"service_radius_km": "20001"}, "Ensure this value is less than or equal to 20000."),
    ],
)
def test_a_bad_value_in_a_profile_is_shown_and_nothing_is_written(
    cast, web_as, page, form_fields, written, changes, error
):
    browser = web_as(cast.partner)
    url = f"/partners/{cast.partner_record.pk}/edit/"
    data = form_with(browser, url, page, form_fields, **changes)
    before = written()
    html = page(browser.post(url, data))
    assert error in html
    assert "<h1>Edit Paula Partner</h1>" in html
    assert written() == before
    paula = Partner.objects.get(pk=cast.partner_record.pk)
    assert (paula.latitude, paula.time_zone) == (45.76, "Europe/Paris")
    assert paula.working_hours == cast.partner_record.working_hours


@pytest.mark.parametrize("role", all_but("admin", "partner"))
def test_nobody_else_changes_a_partner_s_profile(cast, web_as, role, written):
    before = written()
    response = web_as(getattr(cast, role)).post(
        f"/partners/{cast.partner_record.pk}/edit/", {"phone": "123", "region": "X"}
    )
    assert response.status_code == (403 if role in NETWORK else 404)
    assert "Paula" not in response.content.decode()
    assert written() == before
    assert Partner.objects.get(pk=cast.partner_record.pk).phone == ""


# --- absences ----------------------------------------------------------------------------------

ABSENCE = {
    "kind": "training",
    "starts_at": "2031-03-03T09:00",
    "ends_at": "2031-03-04T17:30",
    "note": "Firewall course",
    "deputy": "",
}


@pytest.mark.parametrize(
    ("role", "whose"),
    [
        ("admin", "other_partner_record"),
        ("admin", "desk_record"),
        ("partner", "partner_record"),
        ("other_partner", "other_partner_record"),
        ("associate", "associate_record"),
        ("desk", "desk_record"),
    ],
)
def test_an_absence_is_recorded_by_the_admin_or_the_partner_themselves(
    cast, web_as, page, form_fields, web_audit, role, whose
):
    user, partner = getattr(cast, role), getattr(cast, whose)
    browser = web_as(user)
    detail = page(browser.get(f"/partners/{partner.pk}/"))
    action = f"/partners/{partner.pk}/absences/"
    data = form_fields(detail, action=action)
    assert set(data) == set(ABSENCE)
    response = browser.post(action, ABSENCE, follow=True)
    assert response.redirect_chain[-1][0] == f"/partners/{partner.pk}/"
    assert "Absence recorded." in response.content.decode()
    absence = partner.absences.get(note="Firewall course")
    # The times were typed in the viewer's zone.
    zone = ZoneInfo(user.time_zone)
    assert absence.starts_at == dt.datetime(2031, 3, 3, 9, 0, tzinfo=zone)
    assert absence.ends_at == dt.datetime(2031, 3, 4, 17, 30, tzinfo=zone)
    assert absence.kind == "training"
    record = web_audit(user, "absence.add", object_id=str(absence.pk)).get()
    assert record.scope == f"partner:{partner.pk}"


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"ends_at": "2031-03-03T08:00"}, "The absence must end after it starts."),
        ({"starts_at": "someday"}, "Enter a valid date/time."),
        ({"kind": "holiday"}, "Select a valid choice."),
        ({"ends_at": ""}, "This field is required."),
    ],
)
def test_a_bad_absence_is_refused_with_the_reason_and_nothing_is_written(
    cast, web_as, written, changes, error
):
    browser = web_as(cast.partner)
    before = written()
    response = browser.post(f"/partners/{cast.partner_record.pk}/absences/", {**ABSENCE, **changes})
    assert response.status_code == 400
    html = response.content.decode()
    # The reason stands next to the field, in the form as it was filled in.
    field = next(iter(changes))
    assert re.search(
        rf'<div class="field invalid"><label>[^<]*<[^>]*name="{field}"[^>]*>.*?</label>'
        rf'<p class="error" role="alert">{re.escape(error)}',
        html,
        re.DOTALL,
    ), html
    assert "Absence recorded." not in html
    assert written() == before


def test_an_absence_that_overlaps_another_is_refused(cast, web_as, written):
    existing = cast.other_partner_record.absences.get()
    zone = ZoneInfo(cast.other_partner.time_zone)
    overlapping = {
        **ABSENCE,
        "starts_at": f"{existing.starts_at.astimezone(zone) + dt.timedelta(days=1):%Y-%m-%dT%H:%M}",
        "ends_at": f"{existing.ends_at.astimezone(zone) + dt.timedelta(days=1):%Y-%m-%dT%H:%M}",
    }
    before = written()
    response = web_as(cast.other_partner).post(
        f"/partners/{cast.other_partner_record.pk}/absences/", overlapping
    )
    assert response.status_code == 400
    assert "This absence overlaps another one" in response.content.decode()
    assert written() == before


@pytest.mark.parametrize("role", all_but("admin", "partner"))
def test_nobody_else_records_an_absence_for_a_partner(cast, web_as, role, written):
    before = written()
    response = web_as(getattr(cast, role)).post(
        f"/partners/{cast.partner_record.pk}/absences/", ABSENCE
    )
    assert response.status_code == (403 if role in NETWORK else 404)
    assert written() == before


@pytest.mark.parametrize("role", ["admin", "other_partner"])
def test_an_absence_is_cancelled_by_the_admin_or_the_partner_themselves(
    cast, web_as, web_audit, role
):
    user = getattr(cast, role)
    absence = cast.other_partner_record.absences.get()
    response = web_as(user).post(
        f"/partners/{cast.other_partner_record.pk}/absences/{absence.pk}/cancel/", follow=True
    )
    assert "Absence cancelled." in response.content.decode()
    assert not Absence.objects.filter(pk=absence.pk).exists()
    assert web_audit(user, "absence.cancel", object_id=str(absence.pk)).count() == 1


@pytest.mark.parametrize("role", all_but("admin", "other_partner"))
def test_nobody_else_cancels_a_partner_s_absence(cast, web_as, role, written):
    absence = cast.other_partner_record.absences.get()
    before = written()
    response = web_as(getattr(cast, role)).post(
        f"/partners/{cast.other_partner_record.pk}/absences/{absence.pk}/cancel/"
    )
    assert response.status_code == (403 if role in NETWORK else 404)
    assert written() == before


def test_an_absence_is_cancelled_only_through_its_own_partner(cast, web_as, written):
    absence = cast.other_partner_record.absences.get()
    before = written()
    browser = web_as(cast.admin)
    url = f"/partners/{cast.partner_record.pk}/absences/{absence.pk}/cancel/"
    assert browser.post(url).status_code == 404
    assert browser.get(url).status_code == 405
    assert written() == before

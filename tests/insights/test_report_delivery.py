"""Client reports made by the clock, previewed, released once and mailed once; who sees which
report on the pages and in the API."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from thirdway.audit.models import Source
from thirdway.insights import services
from thirdway.insights.models import ClientReport, ReportSchedule
from thirdway.mail.models import OutboundMessage

from .reports_data import OCTOBER, build_october

pytestmark = pytest.mark.django_db
DECEMBER_6 = dt.date(2026, 12, 6)


def mails(report: ClientReport) -> list[OutboundMessage]:
    return list(
        OutboundMessage.objects.filter(dedupe_key__startswith=f"client-report:{report.pk}:")
    )


@pytest.fixture
def draft(cast):
    return services.make_report(cast.partner, cast.acme, "monthly", OCTOBER, source=Source.CLI)


@pytest.fixture
def released(cast, draft):
    return services.release_report(cast.partner, draft, source=Source.CLI)


def test_the_clock_makes_the_last_period_once_per_scheduled_client(cast):
    services.set_report_schedule(cast.admin, cast.acme, "monthly", source=Source.CLI)
    services.set_report_schedule(cast.admin, cast.globex, "quarterly", source=Source.CLI)
    assert services.run_report_schedules(DECEMBER_6)["made"] == 2
    assert services.run_report_schedules(DECEMBER_6)["made"] == 0
    made = {
        (r.client_id, r.period_start, r.period_end, r.status) for r in ClientReport.objects.all()
    }
    assert made == {
        (cast.acme.pk, dt.date(2026, 11, 1), dt.date(2026, 11, 30), "draft"),
        (cast.globex.pk, dt.date(2026, 7, 1), dt.date(2026, 9, 30), "draft"),
    }
    services.set_report_schedule(cast.admin, cast.acme, "off", source=Source.CLI)
    assert services.run_report_schedules(dt.date(2027, 1, 3))["made"] == 0


def test_a_schedule_takes_only_off_monthly_or_quarterly_from_the_admin_or_lead(cast):
    with pytest.raises(ValidationError) as refused:
        services.set_report_schedule(cast.admin, cast.acme, "weekly", source=Source.CLI)
    assert "cadence" in refused.value.message_dict
    assert not ReportSchedule.objects.exists()
    with pytest.raises(PermissionDenied):
        services.set_report_schedule(cast.associate, cast.acme, "monthly", source=Source.CLI)
    services.set_report_schedule(cast.partner, cast.acme, "quarterly", source=Source.CLI)
    assert ReportSchedule.objects.get(client=cast.acme).cadence == "quarterly"


def test_a_period_that_has_not_ended_is_refused(cast):
    with pytest.raises(ValidationError) as refused:
        services.make_report(cast.admin, cast.acme, "monthly", timezone.now().date(), source="cli")
    assert "period" in refused.value.message_dict
    assert not ClientReport.objects.exists()


def test_release_mails_each_client_admin_once_and_never_again(cast, draft):
    build_october(cast)
    assert mails(draft) == []
    report = services.release_report(cast.partner, draft, source=Source.CLI)
    assert (report.status, report.mailed_to, report.released_by) == ("released", 1, cast.partner)
    sent = mails(report)
    assert [m.to_address for m in sent] == ["alice@acme.example"]
    assert f"/insights/reports/{report.pk}/" in bytes(sent[0].raw).decode()
    services.release_report(cast.admin, report, source=Source.CLI)
    services.run_report_schedules(DECEMBER_6 + dt.timedelta(days=30))
    assert len(mails(report)) == 1
    assert services.make_report(cast.admin, cast.acme, "monthly", OCTOBER, source="cli") == report


def test_only_the_lead_partner_or_an_admin_releases(cast, draft):
    for user in (cast.associate, cast.desk):
        with pytest.raises(PermissionDenied):
            services.release_report(user, draft, source=Source.CLI)
    draft.refresh_from_db()
    assert draft.status == "draft" and mails(draft) == []


def test_a_draft_goes_by_itself_after_the_practices_days_and_not_with_zero(cast, draft):
    services.set_report_policy(cast.admin, 0, source=Source.CLI)
    ClientReport.objects.filter(pk=draft.pk).update(
        created_at=timezone.now() - dt.timedelta(days=40)
    )
    assert services.run_report_schedules(DECEMBER_6)["released"] == 0
    services.set_report_policy(cast.admin, 5, source=Source.CLI)
    ClientReport.objects.filter(pk=draft.pk).update(
        created_at=timezone.now() - dt.timedelta(days=4)
    )
    assert services.run_report_schedules(DECEMBER_6)["released"] == 0
    ClientReport.objects.filter(pk=draft.pk).update(
        created_at=timezone.now() - dt.timedelta(days=6)
    )
    assert services.run_report_schedules(DECEMBER_6)["released"] == 1
    assert services.run_report_schedules(DECEMBER_6)["released"] == 0
    draft.refresh_from_db()
    assert draft.status == "released" and draft.released_by is None
    assert len(mails(draft)) == 1


def test_the_auto_release_days_are_bounded_and_for_admins(cast):
    for days in (-1, 61, "5"):
        with pytest.raises(ValidationError) as refused:
            services.set_report_policy(cast.admin, days, source=Source.CLI)
        assert "auto_release_days" in refused.value.message_dict
    with pytest.raises(PermissionDenied):
        services.set_report_policy(cast.partner, 3, source=Source.CLI)


# --- who sees what -------------------------------------------------------------------------------


def _seen(cast, report):
    return {
        name: ClientReport.objects.for_user(getattr(cast, name)).filter(pk=report.pk).exists()
        for name in (
            "admin",
            "desk",
            "partner",
            "associate",
            "other_partner",
            "client_admin",
            "client_user",
            "other_client_admin",
            "outsider",
        )
    }


def test_a_draft_is_for_the_network_that_sees_the_client_only(cast, draft):
    seen = _seen(cast, draft)
    assert {name for name, yes in seen.items() if yes} == {"admin", "desk", "partner", "associate"}


def test_a_released_report_is_also_for_the_clients_admin(cast, released):
    seen = _seen(cast, released)
    assert {name for name, yes in seen.items() if yes} == {
        "admin",
        "desk",
        "partner",
        "associate",
        "client_admin",
    }


def test_the_pages_answer_404_out_of_sight_and_403_to_release_without_right(cast, web_as, draft):
    page = f"/insights/reports/{draft.pk}/"
    for user in (cast.client_admin, cast.other_partner, cast.client_user, cast.outsider):
        assert web_as(user).get(page).status_code == 404
        assert web_as(user).get(f"/insights/reports/{draft.pk}.pdf").status_code == 404
    assert web_as(cast.associate).post(f"{page}release/").status_code == 403
    preview = web_as(cast.partner).get(page)
    assert preview.status_code == 200
    assert b"Release to the client" in preview.content
    assert b"Replace or review" not in preview.content  # October of the draft had no data


def test_the_preview_release_and_portal_reading(cast, web_as):
    build_october(cast)
    report = services.make_report(cast.partner, cast.acme, "monthly", OCTOBER, source="cli")
    partner = web_as(cast.partner)
    page = partner.get(f"/insights/reports/{report.pk}/").content.decode()
    assert "Replace or review ACME-SRV1: 3 tickets in the period." in page
    assert (
        f'href="/tickets/{report.figures["recurring"][0]["tickets"][0]["label"].split()[0]}/"'
        in page
    )
    assert partner.post(f"/insights/reports/{report.pk}/release/").status_code == 302
    alice = web_as(cast.client_admin)
    listing = alice.get("/insights/reports/").content.decode()
    assert "October 2026" in listing
    reading = alice.get(f"/insights/reports/{report.pk}/").content.decode()
    assert "Release to the client" not in reading
    t1 = report.figures["recurring"][0]["tickets"][0]["id"]
    assert f'href="/portal/tickets/{t1}/"' in reading
    check = next(r for r in report.figures["recommendations"] if r["rule"] == "check_repeating")
    check_page = f"/monitoring/checks/{check['evidence'][0]['id']}/"
    assert f'href="{check_page}"' in reading
    assert alice.get(check_page).status_code == 200  # the evidence opens for the client too
    pdf = alice.get(f"/insights/reports/{report.pk}.pdf")

    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert (
        web_as(cast.other_client_admin)
        .get("/insights/reports/")
        .content.decode()
        .count("October 2026")
        == 0
    )


def test_the_make_form_and_schedule_page_refuse_bad_input_and_change_nothing(cast, web_as):
    admin = web_as(cast.admin)
    bad = admin.post(
        "/insights/reports/", {"client": cast.acme.pk, "cadence": "monthly", "month": "2026-13"}
    )
    assert bad.status_code == 400 and not ClientReport.objects.exists()
    future = admin.post(
        "/insights/reports/", {"client": cast.acme.pk, "cadence": "monthly", "month": "2099-01"}
    )
    assert future.status_code == 400 and b"has not ended" in future.content
    made = admin.post(
        "/insights/reports/", {"client": cast.acme.pk, "cadence": "quarterly", "month": "2026-08"}
    )
    report = ClientReport.objects.get()
    assert made.status_code == 302 and (report.period_start, report.period_end) == (
        dt.date(2026, 7, 1),
        dt.date(2026, 9, 30),
    )
    wrong = admin.post("/insights/reports/schedules/", {"client": cast.acme.pk, "cadence": "daily"})
    assert wrong.status_code == 400 and not ReportSchedule.objects.exists()
    policy = admin.post("/insights/reports/schedules/", {"auto_release_days": "99"})
    assert policy.status_code == 400
    admin.post("/insights/reports/schedules/", {"client": cast.acme.pk, "cadence": "monthly"})
    assert ReportSchedule.objects.get().cadence == "monthly"
    other = web_as(cast.other_partner).post(
        "/insights/reports/schedules/", {"client": cast.acme.pk, "cadence": "quarterly"}
    )
    assert other.status_code == 404 and ReportSchedule.objects.get().cadence == "monthly"


# --- the API -------------------------------------------------------------------------------------


def test_the_api_lists_shows_and_prints_only_what_each_may_see(cast, api_as):
    build_october(cast)
    draft = services.make_report(cast.partner, cast.acme, "monthly", OCTOBER, source="cli")
    october = services.release_report(cast.partner, draft, source=Source.CLI)
    path = f"/api/v1/insights/reports/{october.pk}"
    expect = {
        "admin": 200,
        "partner": 200,
        "associate": 200,
        "desk": 200,
        "client_admin": 200,
        "other_partner": 404,
        "client_user": 404,
        "other_client_admin": 404,
        "outsider": 404,
    }
    body = {}
    for name, status in expect.items():
        client = api_as(getattr(cast, name))
        assert client.get(path).status_code == status, name
        assert client.get(f"{path}/pdf").status_code == status, name
        listed = [r["id"] for r in client.get("/api/v1/insights/reports").json()]
        assert listed == ([october.pk] if status == 200 else []), name
        body = client.get(path).json() if name == "client_admin" else body
        if name == "desk":
            assert client.get(f"{path}/pdf").content.startswith(b"%PDF")
    assert body["period"] == "October 2026" and body["status"] == "released"
    assert body["figures"]["opened"] == 6 and body["recommendations"] == 7
    assert body["figures"]["sla"][0]["attainment"] == 0.8


def test_the_api_hides_a_draft_from_the_client_admin(cast, api_as, draft):
    alice = api_as(cast.client_admin)
    assert alice.get(f"/api/v1/insights/reports/{draft.pk}").status_code == 404
    assert alice.get("/api/v1/insights/reports").json() == []
    assert alice.get("/api/v1/insights/reports?limit=0").status_code == 400


def test_the_release_email_carries_the_reports_pdf_through_the_outbox(cast, draft):
    import email
    import email.policy

    from thirdway.insights import report_pdf

    build_october(cast)
    report = services.release_report(cast.partner, draft, source=Source.CLI)
    message = email.message_from_bytes(bytes(mails(report)[0].raw), policy=email.policy.default)
    files = list(message.iter_attachments())
    assert [(f.get_filename(), f.get_content_type()) for f in files] == [
        (f"report-{cast.acme.pk}-2026-10.pdf", "application/pdf")
    ]
    pdf = files[0].get_content()
    drawn = report_pdf.render(report, report.figures)
    assert pdf.startswith(b"%PDF") and abs(len(pdf) - len(drawn)) < 100
    assert "The PDF is attached" in message.get_body(("plain",)).get_content()


def test_the_reports_pdf_prints_a_polish_greek_and_vietnamese_name_whole(cast):
    from support.pdf_files import assert_fonts_embedded, text_of
    from thirdway.insights import report_pdf

    name = "Łódź Serwis — Ελληνικά — Nguyễn"
    cast.acme.name = name
    cast.acme.save(update_fields=["name"])
    report = services.make_report(cast.partner, cast.acme, "monthly", OCTOBER, source=Source.CLI)
    drawn = report_pdf.render(report, report.figures)
    assert text_of(drawn).count(name) >= 2  # the heading and each page's footer
    assert_fonts_embedded(drawn)

"""The practice's thresholds and the net promoter settings: read and changed through the API
(bounded, typed, the practice admin's alone), and a changed threshold changes what a report,
a rating or an answer does."""

from __future__ import annotations

import json

import pytest

from support.api import assert_refused, nothing_written
from thirdway.audit.models import Source
from thirdway.insights import nps, report_sources, thresholds
from thirdway.insights import services as insights
from thirdway.insights.models import InsightThresholds, NpsPolicy
from thirdway.tickets.models import Ticket

from .reports_data import OCTOBER, build_october
from .test_csat import FOLLOW_UP, resolved_ticket
from .test_nps import asked, turn_on

pytestmark = pytest.mark.django_db
API = "/api/v1/insights"
DEFAULTS = {
    "csat_follow_up_at_most": 2,
    "csat_low_average": 3.5,
    "csat_min_count": 3,
    "sla_target_percent": 90,
    "repeat_asset_tickets": 3,
    "repeat_subject_tickets": 3,
    "repeat_check_alerts": 3,
    "expiry_horizon_days": 60,
    "expiry_soon_days": 30,
}
NOT_ADMINS = ("desk", "partner", "associate", "client_admin", "client_user", "outsider")


def patch(client, url: str, payload: dict):
    return client.patch(url, data=json.dumps(payload), content_type="application/json")


# --- the API -------------------------------------------------------------------------------------


def test_the_thresholds_start_at_the_rules_the_reports_were_written_with(cast, api_as):
    found = api_as(cast.admin).get(f"{API}/thresholds")
    assert found.status_code == 200
    assert found.json() == DEFAULTS


def test_a_patch_changes_the_thresholds_sent_and_keeps_the_others(cast, api_as):
    admin = api_as(cast.admin)
    changed = patch(admin, f"{API}/thresholds", {"repeat_asset_tickets": 5, "csat_low_average": 4})
    assert changed.status_code == 200, changed.content
    assert changed.json() == {**DEFAULTS, "repeat_asset_tickets": 5, "csat_low_average": 4.0}
    assert admin.get(f"{API}/thresholds").json() == changed.json()
    assert InsightThresholds.objects.get().repeat_asset_tickets == 5


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"repeat_asset_tickets": 1}, "repeat_asset_tickets"),
        ({"repeat_asset_tickets": 1001}, "repeat_asset_tickets"),
        ({"sla_target_percent": 0}, "sla_target_percent"),
        ({"sla_target_percent": 101}, "sla_target_percent"),
        ({"csat_low_average": 5.5}, "csat_low_average"),
        ({"csat_follow_up_at_most": 5}, "csat_follow_up_at_most"),
        ({"expiry_horizon_days": 367}, "expiry_horizon_days"),
        ({"expiry_soon_days": 61}, "expiry_soon_days"),  # past the listed horizon
        ({"expiry_horizon_days": 20}, "expiry_soon_days"),  # under the renewal days
        ({"csat_min_count": "three"}, "csat_min_count"),
        ({"csat_min_count": 2.5}, "csat_min_count"),
        ({"repeat_check_alerts": None}, "repeat_check_alerts"),
        ({"threshold": 3}, "threshold"),
    ],
)
def test_a_threshold_out_of_bounds_is_refused_naming_it_and_nothing_changes(
    cast, api_as, payload, field
):
    admin = api_as(cast.admin)
    with nothing_written():
        refused = patch(admin, f"{API}/thresholds", payload)
    assert_refused(refused, field)
    assert not InsightThresholds.objects.exists()
    assert admin.get(f"{API}/thresholds").json() == DEFAULTS


def test_the_nps_settings_are_read_and_changed_field_by_field(cast, api_as):
    admin = api_as(cast.admin)
    assert admin.get(f"{API}/nps-settings").json() == {
        "enabled": False,
        "day_of_quarter": 15,
        "follow_up_detractors": False,
        "follow_up_at_most": 6,
    }
    changed = patch(admin, f"{API}/nps-settings", {"enabled": True, "follow_up_at_most": 4})
    assert changed.status_code == 200, changed.content
    assert changed.json() == {
        "enabled": True,
        "day_of_quarter": 15,
        "follow_up_detractors": False,
        "follow_up_at_most": 4,
    }
    policy = NpsPolicy.current()
    assert (policy.enabled, policy.follow_up_at_most) == (True, 4)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"day_of_quarter": 0}, "day_of_quarter"),
        ({"day_of_quarter": 91}, "day_of_quarter"),
        ({"follow_up_at_most": 9}, "follow_up_at_most"),
        ({"follow_up_at_most": -1}, "follow_up_at_most"),
        ({"enabled": "maybe"}, "enabled"),
        ({"enabled": None}, "enabled"),
        ({"asked": True}, "asked"),
    ],
)
def test_nps_settings_out_of_bounds_are_refused_naming_the_field(cast, api_as, payload, field):
    admin = api_as(cast.admin)
    with nothing_written():
        refused = patch(admin, f"{API}/nps-settings", payload)
    assert_refused(refused, field)
    assert not NpsPolicy.objects.exists()


@pytest.mark.parametrize("role", NOT_ADMINS)
def test_only_the_practice_admin_reads_or_changes_the_settings(cast, api_as, role):
    viewer = api_as(getattr(cast, role))
    for url, payload in (
        (f"{API}/thresholds", {"repeat_asset_tickets": 9}),
        (f"{API}/nps-settings", {"enabled": True}),
    ):
        assert viewer.get(url).status_code == 404, (role, url)
        with nothing_written():
            assert patch(viewer, url, payload).status_code == 404, (role, url)
    assert not InsightThresholds.objects.exists() and not NpsPolicy.objects.exists()


def test_the_service_refuses_anyone_but_the_practice_admin(cast):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        thresholds.set_thresholds(cast.partner, {"csat_min_count": 5}, source=Source.CLI)
    with pytest.raises(PermissionDenied):
        nps.set_policy(cast.desk, enabled=True, source=Source.CLI)


# --- what a changed threshold changes ------------------------------------------------------------


def _october(cast):
    first, last = report_sources.period_containing("monthly", OCTOBER)
    return report_sources.build(cast.acme, "monthly", first, last)


def test_changed_thresholds_change_the_recommendations_and_risks_of_a_report(cast):
    data = build_october(cast)
    before = _october(cast)
    assert [r.rule for r in before.recommendations] == [
        "asset_tickets",
        "recurring_subject",
        "sla_first_response",
        "sla_resolution",
        "expiry_soon",
        "check_repeating",
        "csat_low",
    ]
    assert len([r for r in before.risks if r.kind == "expiry"]) == 3
    thresholds.set_thresholds(
        cast.admin,
        {
            "repeat_asset_tickets": 4,  # ACME-SRV1 had 3
            "repeat_subject_tickets": 4,  # "printer jam" had 3
            "sla_target_percent": 50,  # 80% and 50% are not under 50%
            "expiry_horizon_days": 40,  # the warranty in 50 days is no longer listed
            "expiry_soon_days": 15,  # the domain in 20 days is not recommended
            "repeat_check_alerts": 4,  # the port check alerted 3 times
            "csat_low_average": 2.5,  # the average was 2.67
        },
        source=Source.CLI,
    )
    after = _october(cast)
    assert after.recommendations == []
    listed = [r.evidence[0].id for r in after.risks if r.kind == "expiry"]
    assert listed == [data.expirations["domain"].pk, data.expirations["licence"].pk]
    assert [c.target for c in after.sla] == [0.5, 0.5]
    thresholds.set_thresholds(cast.admin, {"repeat_asset_tickets": 2}, source=Source.CLI)
    lowered = _october(cast)
    # at two, BOB-LAPTOP's two tickets recommend it too
    assert [r.text for r in lowered.recommendations if r.rule == "asset_tickets"] == [
        "Replace or review ACME-SRV1: 3 tickets in the period.",
        "Replace or review BOB-LAPTOP: 2 tickets in the period.",
    ]


def test_a_changed_csat_threshold_changes_which_rating_opens_a_follow_up(cast):
    first = resolved_ticket(cast, "Screen")
    insights.rate_ticket(None, insights.rating_token(first), score=3, source=Source.CLI)
    assert not Ticket.objects.filter(category=FOLLOW_UP).exists()
    thresholds.set_thresholds(cast.admin, {"csat_follow_up_at_most": 3}, source=Source.CLI)
    second = resolved_ticket(cast, "Keyboard")
    rating = insights.rate_ticket(None, insights.rating_token(second), score=3, source=Source.CLI)
    assert rating.follow_up is not None and rating.follow_up.category == FOLLOW_UP


def test_a_changed_nps_threshold_changes_which_answer_opens_a_follow_up(cast):
    turn_on(cast, follow_up=True)
    nps.answer(None, asked(cast.acme_user_contact), score=7, source=Source.CLI)
    assert not Ticket.objects.filter(category=FOLLOW_UP).exists()
    nps.set_policy(cast.admin, follow_up_at_most=7, source=Source.CLI)
    survey = nps.answer(None, asked(cast.acme_admin_contact), score=7, source=Source.CLI)
    assert survey.follow_up is not None

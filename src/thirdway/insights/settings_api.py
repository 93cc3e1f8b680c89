"""API of the practice's insights settings: the net promoter question and the thresholds of
follow-ups, risks and recommendations. The practice admin's alone: anyone else gets a 404."""

from __future__ import annotations

from django.http import Http404
from ninja import Router, Schema

from thirdway.audit.models import Source
from thirdway.insights import nps, thresholds
from thirdway.insights.models import (
    NPS_DAY_MAX,
    NPS_FOLLOW_UP_MAX,
    THRESHOLD_BOUNDS,
    NpsPolicy,
)
from thirdway.payloads import Payload, kept

router = Router()


def _admin(request) -> None:
    if not request.auth.is_practice_admin:
        raise Http404("No such settings.")


def _bound(name: str) -> dict[str, float]:
    _, least, most = THRESHOLD_BOUNDS[name]
    return {"ge": least, "le": most}


class NpsSettingsOut(Schema):
    enabled: bool
    day_of_quarter: int
    follow_up_detractors: bool
    follow_up_at_most: int


class NpsSettingsPatch(Payload, extra="forbid"):
    enabled: bool = kept()
    day_of_quarter: int = kept(ge=1, le=NPS_DAY_MAX)
    follow_up_detractors: bool = kept()
    follow_up_at_most: int = kept(ge=0, le=NPS_FOLLOW_UP_MAX)


def _nps(policy: NpsPolicy) -> dict:
    return {name: getattr(policy, name) for name in nps.POLICY_FIELDS}


@router.get("/insights/nps-settings", response=NpsSettingsOut)
def nps_settings(request):
    """Whether the net promoter question is asked, when, and what a low answer opens."""
    _admin(request)
    return _nps(NpsPolicy.current())


@router.patch("/insights/nps-settings", response=NpsSettingsOut)
def nps_settings_update(request, payload: NpsSettingsPatch):
    """Change the fields sent; the others stay."""
    _admin(request)
    changes = payload.dict(exclude_unset=True)
    return _nps(nps.set_policy(request.auth, **changes, source=Source.API))


class ThresholdsOut(Schema):
    csat_follow_up_at_most: int
    csat_low_average: float
    csat_min_count: int
    sla_target_percent: int
    repeat_asset_tickets: int
    repeat_subject_tickets: int
    repeat_check_alerts: int
    expiry_horizon_days: int
    expiry_soon_days: int


class ThresholdsPatch(Payload, extra="forbid"):
    csat_follow_up_at_most: int = kept(**_bound("csat_follow_up_at_most"))
    csat_low_average: float = kept(**_bound("csat_low_average"))
    csat_min_count: int = kept(**_bound("csat_min_count"))
    sla_target_percent: int = kept(**_bound("sla_target_percent"))
    repeat_asset_tickets: int = kept(**_bound("repeat_asset_tickets"))
    repeat_subject_tickets: int = kept(**_bound("repeat_subject_tickets"))
    repeat_check_alerts: int = kept(**_bound("repeat_check_alerts"))
    expiry_horizon_days: int = kept(**_bound("expiry_horizon_days"))
    expiry_soon_days: int = kept(**_bound("expiry_soon_days"))


def _thresholds(found) -> dict:
    return {name: getattr(found, name) for name in thresholds.NAMES}


@router.get("/insights/thresholds", response=ThresholdsOut)
def get_thresholds(request):
    """When a low rating opens a follow-up, and when a client report lists a risk or makes a
    recommendation."""
    _admin(request)
    return _thresholds(thresholds.current())


@router.patch("/insights/thresholds", response=ThresholdsOut)
def update_thresholds(request, payload: ThresholdsPatch):
    """Change the thresholds sent (each within its bounds); the others stay."""
    _admin(request)
    changes = payload.dict(exclude_unset=True)
    return _thresholds(thresholds.set_thresholds(request.auth, changes, source=Source.API))

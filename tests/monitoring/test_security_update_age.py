"""The age of pending security updates: the server dates each from its first report, reports
the oldest's age, and the check turns critical past its age limit (days)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from support.api import API, send
from thirdway.audit.models import Source
from thirdway.monitoring import services
from thirdway.monitoring.models import Check, CheckResult

from .test_agent_api import batch, enrol, result

DAY = dt.timedelta(days=1)


def updates_check(cast, agent, **extra) -> Check:
    data = {"name": "Updates", "kind": "agent_updates", "agent_id": agent.pk, "max_attempts": 1}
    return services.create_check(cast.admin, cast.acme, source=Source.CLI, **{**data, **extra})


def report(secret, check, at, names, count=None, batch_id=None):
    count = float(len(names) if count is None else count)
    item = result(check, count, at=at, output=f"{int(count)} update(s) pending (apt).")
    item["security_packages"] = names
    answer = batch(secret, batch_id or f"upd-{at.timestamp():.0f}", [item])
    assert answer.status_code == 200 and answer.json()["accepted"] == 1, answer.content
    check.refresh_from_db()
    return check


def test_the_oldest_pending_security_update_is_dated_from_its_first_report(cast):
    agent, secret = enrol(cast)
    check = updates_check(cast, agent, warning_threshold=50.0, security_age_days=7)
    t0 = timezone.now().replace(microsecond=0) - 10 * DAY
    check = report(secret, check, t0, ["openssl"])
    assert check.status == "ok" and "oldest security update pending 0.0 day(s)" in check.last_output
    check = report(secret, check, t0 + 3 * DAY, ["openssl", "libssl3"])
    assert "pending 3.0 day(s)" in check.last_output and check.status == "ok"
    assert set(check.pending_security) == {"openssl", "libssl3"}
    check = report(secret, check, t0 + 8 * DAY, ["openssl", "libssl3"])
    assert check.status == "critical"
    assert "pending 8.0 day(s). More than 7 day(s)." in check.last_output
    # openssl installed: the oldest still pending is libssl3, first reported on day 3.
    check = report(secret, check, t0 + 9 * DAY, ["libssl3"])
    assert check.status == "ok" and "pending 6.0 day(s)" in check.last_output
    assert list(check.pending_security) == ["libssl3"]
    stored = CheckResult.objects.filter(check_obj=check).order_by("collected_at")
    assert [row.status for row in stored] == ["ok", "ok", "critical", "ok"]


def test_no_security_update_pending_is_age_zero_and_an_untold_age_changes_nothing(cast):
    agent, secret = enrol(cast)
    check = updates_check(cast, agent, warning_threshold=50.0, security_age_days=1)
    t0 = timezone.now().replace(microsecond=0) - 5 * DAY
    check = report(secret, check, t0, ["openssl"])
    check = report(secret, check, t0 + DAY, [], count=3)
    assert check.pending_security == {} and "pending 0.0 day(s)" in check.last_output
    # dnf (no names): the count alone decides, the dates kept are not touched.
    answer = batch(secret, "dnf-00001", [result(check, 2.0, at=t0 + 2 * DAY, output="2 (dnf).")])
    assert answer.json()["accepted"] == 1
    check.refresh_from_db()
    assert check.status == "ok" and check.last_output == "2 (dnf)."


def test_a_late_result_dates_a_package_earlier_and_forgets_nothing(cast):
    agent, secret = enrol(cast)
    check = updates_check(cast, agent, warning_threshold=50.0)
    t0 = timezone.now().replace(microsecond=0) - 5 * DAY
    check = report(secret, check, t0 + 2 * DAY, ["openssl", "curl"])
    check = report(secret, check, t0, ["openssl"], batch_id="late-0001")
    assert check.pending_security["openssl"] == t0.isoformat()
    assert check.pending_security["curl"] == (t0 + 2 * DAY).isoformat()


def test_the_age_limit_is_bounded_and_only_for_updates_checks(cast, api_as):
    agent, _ = enrol(cast)
    client = api_as(cast.partner)
    body = {"client": cast.acme.pk, "name": "U", "kind": "agent_updates", "agent": agent.pk}
    for bad in (0, 366):
        answer = send(
            client, "post", API + "/monitoring/checks", {**body, "security_age_days": bad}
        )
        assert answer.status_code == 400 and "security_age_days" in answer.content.decode()
    disk = {**body, "kind": "agent_metric", "metric": "cpu", "security_age_days": 7}
    answer = send(client, "post", API + "/monitoring/checks", disk)
    assert answer.status_code == 400 and "security_age_days" in answer.content.decode()
    made = send(client, "post", API + "/monitoring/checks", {**body, "security_age_days": 14})
    assert made.status_code == 201 and made.json()["security_age_days"] == 14
    assert Check.objects.count() == 1


def test_an_oversize_list_of_security_packages_is_refused(cast):
    agent, secret = enrol(cast)
    check = updates_check(cast, agent)
    item = result(check, 1.0)
    item["security_packages"] = [f"p{i}" for i in range(501)]
    answer = batch(secret, "too-many-00001", [item])
    assert answer.status_code == 400 and "security_packages" in answer.content.decode()
    assert not CheckResult.objects.exists()

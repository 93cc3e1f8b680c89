"""Server-side checks against real loopback targets, and the rules of writing checks."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from thirdway.audit.models import AuditRecord, Source
from thirdway.monitoring import evaluation, runner, services
from thirdway.monitoring.models import Check, CheckEvent, CheckResult

from .conftest import closed_port


def add(cast, actor=None, client=None, **data) -> Check:
    data.setdefault("name", "Web site")
    data.setdefault("kind", "http")
    return services.create_check(
        actor or cast.admin, client or cast.acme, source=Source.CLI, **data
    )


def run_now(check: Check) -> Check:
    Check.objects.filter(pk=check.pk).update(next_run_at=timezone.now())
    assert runner.run_due_checks() >= 1
    return Check.objects.get(pk=check.pk)


# --- HTTP --------------------------------------------------------------------------------------


def test_an_http_check_is_up_when_status_and_body_match(cast, web):
    check = add(cast, target=web.url + "/health", body_contains="good", allow_private_target=True)
    check = run_now(check)
    assert check.status == "ok"
    assert web.answer.hits == ["/health"]
    result = CheckResult.objects.get(check_obj=check)
    assert result.status == "ok" and result.value is not None


def test_an_http_check_fails_on_a_wrong_status_or_a_missing_word(cast, web):
    check = add(cast, target=web.url, max_attempts=1, allow_private_target=True)
    web.answer.status = 503
    assert run_now(check).status == "critical"
    assert "HTTP 503, expected 200" in Check.objects.get(pk=check.pk).last_output
    web.answer.status, web.answer.body = 200, b"maintenance page"
    words = add(
        cast,
        name="Words",
        target=web.url,
        body_contains="welcome",
        max_attempts=1,
        allow_private_target=True,
    )
    assert run_now(words).status == "critical"
    assert "does not contain 'welcome'" in Check.objects.get(pk=words.pk).last_output


def test_a_private_target_is_refused_unless_a_practice_admin_allowed_it(cast, web):
    with pytest.raises(ValidationError) as refused:
        add(cast, target=web.url)
    assert "loopback" in str(refused.value)
    with pytest.raises(PermissionDenied):
        add(cast, actor=cast.partner, target=web.url, allow_private_target=True)


def test_a_name_resolving_to_loopback_is_refused_when_the_check_runs(cast, web):
    port = web.server_address[1]
    check = add(cast, target=f"http://localhost:{port}/", max_attempts=1)
    check = run_now(check)
    assert check.status == "unknown"
    assert "loopback" in check.last_output
    assert web.answer.hits == []


def test_a_partner_changing_an_allowed_target_loses_the_allowance(cast, web):
    check = add(cast, target=web.url, allow_private_target=True)
    with pytest.raises(ValidationError):
        services.update_check(
            cast.partner, check, {"target": "http://127.0.0.2/"}, source=Source.CLI
        )
    services.update_check(cast.partner, check, {"target": "http://example.com/"}, source=Source.CLI)
    assert not Check.objects.get(pk=check.pk).allow_private_target


# --- TCP and TLS -------------------------------------------------------------------------------


def test_a_tcp_check_sees_an_open_and_a_closed_port(cast, open_port):
    up = add(cast, kind="tcp", target="127.0.0.1", port=open_port, allow_private_target=True)
    assert run_now(up).status == "ok"
    down = add(
        cast,
        name="closed",
        kind="tcp",
        target="127.0.0.1",
        port=closed_port(),
        max_attempts=1,
        allow_private_target=True,
    )
    assert run_now(down).status == "critical"


@pytest.mark.parametrize(
    ("days", "status"), sorted({(90, "ok"), (10, "warning"), (2, "critical"), (-3, "critical")})
)
def test_a_tls_check_reads_expired_and_self_signed_certificates(cast, tls_server, days, status):
    port = tls_server(days)
    check = add(
        cast,
        kind="tls",
        target="127.0.0.1",
        port=port,
        max_attempts=1,
        allow_private_target=True,
    )
    check = run_now(check)
    assert check.status == status
    assert "self-signed" in check.last_output
    value = CheckResult.objects.get(check_obj=check).value
    assert value == pytest.approx(days, abs=0.1)
    if days < 0:
        assert "expired" in check.last_output


def test_tls_thresholds_must_be_in_order(cast):
    with pytest.raises(ValidationError) as refused:
        add(cast, kind="tls", target="example.com", warning_threshold=5, critical_threshold=10)
    assert "critical_threshold" in refused.value.message_dict


def test_a_failing_check_is_rechecked_at_the_retry_interval(cast, web):
    web.answer.status = 500
    check = add(
        cast,
        target=web.url,
        max_attempts=3,
        interval_seconds=300,
        retry_interval_seconds=30,
        allow_private_target=True,
    )
    check = run_now(check)
    assert check.state_type == "soft" and check.status == "pending"
    assert check.next_run_at - check.last_result_at == dt.timedelta(seconds=30)


def test_a_check_is_claimed_by_one_run_only(cast, web):
    check = add(cast, target=web.url, allow_private_target=True)
    now = timezone.now()
    assert [c.pk for c in runner.claim_due(now)] == [check.pk]
    assert runner.claim_due(now) == []


# --- writing checks ----------------------------------------------------------------------------


def test_each_change_is_audited(cast):
    check = add(cast, target="https://example.com/")
    services.update_check(cast.partner, check, {"is_paused": True}, source=Source.CLI)
    actions = list(
        AuditRecord.objects.filter(
            object_type="monitoring.check", object_id=str(check.pk)
        ).values_list("action", flat=True)
    )
    assert sorted(actions) == ["monitoring.check.create", "monitoring.check.update"]


def test_another_clients_site_or_parent_is_refused(cast):
    other = add(cast, client=cast.globex, target="https://globex.example/")
    with pytest.raises(ValidationError) as refused:
        add(cast, target="https://example.com/", site_id=cast.globex_site.pk)
    assert "site" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        add(cast, target="https://example.com/", parent_id=other.pk)
    assert "parent" in refused.value.message_dict


def test_a_dependency_cycle_is_refused(cast):
    router = add(cast, name="router", target="https://router.example/")
    child = add(cast, name="child", target="https://child.example/", parent_id=router.pk)
    with pytest.raises(ValidationError) as refused:
        services.update_check(cast.admin, router, {"parent_id": child.pk}, source=Source.CLI)
    assert "parent" in refused.value.message_dict


@pytest.mark.parametrize("role", sorted({"associate", "client_admin", "client_user", "outsider"}))
def test_only_managers_change_checks(cast, role):
    with pytest.raises(PermissionDenied):
        add(cast, actor=getattr(cast, role), target="https://example.com/")


def test_an_asset_places_the_check_on_its_site(cast):
    check = add(cast, target="https://example.com/", asset_id=cast.acme_server.pk)
    assert check.site_id == cast.acme_site.pk


def test_status_changes_are_on_the_timeline(cast, web):
    check = add(cast, target=web.url, max_attempts=1, allow_private_target=True)
    run_now(check)
    web.answer.status = 500
    run_now(check)
    kinds = list(CheckEvent.objects.filter(check_obj=check).values_list("kind", flat=True))
    assert "result" in kinds and "open" in kinds


def test_the_sweep_reconsiders_only_held_checks(cast):
    check = add(cast, target="https://example.com/")
    evaluation.record_result(check.pk, evaluation.engine.Status.OK)
    assert evaluation.sweep()["reconsidered"] == 0

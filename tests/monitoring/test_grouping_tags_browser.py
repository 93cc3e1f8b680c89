"""The alert grouping settings, asset tags and a maintenance window by tag, in a real browser:
a refusal sits beside its field and saves nothing; a valid form saves."""

from __future__ import annotations

import os

import pytest

from support.browser import DESKTOP, PHONE, fits, sign_in
from thirdway.audit.models import Source
from thirdway.monitoring import agents, services
from thirdway.monitoring.models import AlertRule, AssetTag, Check, MaintenanceWindow

SHOTS = os.environ.get("THIRDWAY_SCREENSHOTS", "")


def _shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


def _field(page, name: str):
    return page.locator(".field.invalid", has=page.locator(f"[name={name}]"))


@pytest.mark.browser
def test_grouping_tags_and_a_window_by_tag_are_set_in_the_browser(cast, live_server, browser):
    from playwright.sync_api import expect

    client = cast.acme.pk
    _, token = agents.issue_enrolment_token(cast.admin, cast.acme, source=Source.CLI)
    agent, _ = agents.enrol(token, hostname="srv-office")
    for screen, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page = browser.new_context(viewport=size).new_page()
        page.set_default_timeout(20_000)

        # Grouping: a reminder too often is refused beside its field; a valid rule is saved.
        AlertRule.objects.filter(client=cast.acme).delete()
        sign_in(page, live_server.url, "paula", f"/monitoring/clients/{client}/alert-rule/")
        page.locator("select[name=group_by]").select_option("site")
        page.locator("input[name=group_window_seconds]").fill("600")
        page.locator("input[name=repeat_interval_seconds]").fill("60")
        page.get_by_role("button", name="Save").click()
        expect(_field(page, "repeat_interval_seconds")).to_contain_text("900 to 604800")
        assert services.rule_of(cast.acme).group_by == "none"
        assert fits(page), screen
        _shot(page, f"grouping-invalid-{screen}")
        page.locator("input[name=repeat_interval_seconds]").fill("3600")
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_text("Saved.")).to_be_visible()
        rule = services.rule_of(cast.acme)
        assert (rule.group_by, rule.group_window_seconds, rule.repeat_interval_seconds) == (
            "site",
            600,
            3600,
        )
        page.goto(f"{live_server.url}/monitoring/clients/{client}/alert-rule/")
        _shot(page, f"grouping-{screen}")

        # Asset tags: a tag with a space is refused; good ones are saved and listed.
        AssetTag.objects.all().delete()
        page.goto(f"{live_server.url}/monitoring/clients/{client}/asset-tags/")
        page.locator("select[name=asset]").select_option(str(cast.acme_server.pk))
        page.locator("input[name=tags]").fill("backup, not ok")
        page.get_by_role("button", name="Save tags").click()
        expect(_field(page, "tags")).to_contain_text("is not a tag")
        assert not AssetTag.objects.exists()
        assert fits(page), screen
        _shot(page, f"tags-invalid-{screen}")
        page.locator("select[name=asset]").select_option(str(cast.acme_server.pk))
        page.locator("input[name=tags]").fill("backup, Linux")
        page.get_by_role("button", name="Save tags").click()
        expect(page.get_by_text("Tags of ACME-SRV1: backup, linux.")).to_be_visible()
        assert sorted(AssetTag.objects.values_list("name", flat=True)) == ["backup", "linux"]
        assert fits(page), screen
        _shot(page, f"tags-{screen}")

        # A window by tag: with a site as well it is refused; by the tag alone it is saved.
        MaintenanceWindow.objects.all().delete()
        page.goto(f"{live_server.url}/monitoring/clients/{client}/windows/")
        page.locator("input[name=name]").fill(f"Backup servers {screen}")
        page.locator("select[name=kind]").select_option("one_off")
        page.locator("select[name=site]").select_option(str(cast.acme_site.pk))
        page.locator("input[name=tag]").fill("backup")
        page.locator("input[name=starts_at]").fill("2030-01-05T01:00")
        page.locator("input[name=ends_at]").fill("2030-01-05T03:00")
        page.get_by_role("button", name="Add window").click()
        expect(_field(page, "tag")).to_contain_text("not more")
        assert not MaintenanceWindow.objects.exists()
        _shot(page, f"window-tag-invalid-{screen}")
        page.locator("select[name=site]").select_option("")
        page.get_by_role("button", name="Add window").click()
        expect(page.get_by_text("Maintenance window added.")).to_be_visible()
        expect(page.locator("td", has_text="Assets tagged backup")).to_be_visible()
        assert MaintenanceWindow.objects.get().tag == "backup"
        assert fits(page), screen
        _shot(page, f"window-tag-{screen}")

        # A pending updates check with a security age limit: 400 days is refused, 14 saved.
        page.goto(f"{live_server.url}/monitoring/clients/{client}/checks/new/")
        page.locator("input[name=name]").fill(f"Updates {screen}")
        page.locator("select[name=kind]").select_option("agent_updates")
        page.locator("select[name=agent]").select_option(str(agent.pk))
        page.locator("input[name=security_age_days]").fill("400")
        page.get_by_role("button", name="Save").click()
        expect(_field(page, "security_age_days")).to_be_visible()
        assert not Check.objects.filter(name=f"Updates {screen}").exists()
        _shot(page, f"security-age-invalid-{screen}")
        page.locator("input[name=security_age_days]").fill("14")
        page.get_by_role("button", name="Save").click()
        expect(page.locator("h1")).to_have_text(f"Updates {screen}")
        assert Check.objects.get(name=f"Updates {screen}").security_age_days == 14
        page.context.close()

"""Pending OS updates (the agent's counting, the check's thresholds) and the installed packages
in the inventory, with their changes kept on the asset and shown on the machine's page."""

from __future__ import annotations

import shutil

import pytest
from django.test import Client as HttpClient
from thirdway_agent import packages

from support.api import API, send
from thirdway.monitoring import agents
from thirdway.monitoring.models import AssetChange, Check

from .test_agent_api import AGENT, as_agent, batch, enrol, result

APT_SIMULATION = """NOTE: This is only a simulation!
Reading package lists...
The following packages will be upgraded:
  libssl3 openssl tzdata
Inst libssl3 [3.0.11-1~deb12u1] (3.0.15-1~deb12u2 Debian-Security:12/stable-security [amd64])
Inst openssl [3.0.11-1~deb12u1] (3.0.15-1~deb12u2 Debian-Security:12/stable-security [amd64])
Inst tzdata [2024a-0+deb12u1] (2025b-0+deb12u1 Debian:12.11/stable [all])
Conf libssl3 (3.0.15-1~deb12u2 Debian-Security:12/stable-security [amd64])
"""

DNF_CHECK_UPDATE = """
kernel.x86_64                      5.14.0-503.el9             baseos
openssl-libs.x86_64                1:3.2.2-6.el9              baseos
Obsoleting Packages
grub2-tools.x86_64                 1:2.06-90.el9              baseos
    grub2-tools.x86_64             1:2.06-80.el9              @baseos
"""


def test_apt_and_dnf_answers_are_counted():
    assert packages.parse_apt_simulation(APT_SIMULATION) == (3, 2)
    assert packages.parse_apt_simulation("0 upgraded, 0 newly installed") == (0, 0)
    assert packages.parse_dnf_check_update(DNF_CHECK_UPDATE) == 2


@pytest.mark.skipif(shutil.which("dpkg-query") is None, reason="a Debian-like system")
def test_the_installed_packages_are_read_from_dpkg():
    found = packages.installed()
    assert found is not None and 0 < len(found) <= packages.MAX_PACKAGES
    assert found == sorted(found)
    assert any(row.startswith("dpkg ") for row in found)


def test_an_updates_check_needs_no_target_and_warns_at_one_update(cast, api_as):
    agent, secret = enrol(cast)
    body = {
        "client": cast.acme.pk,
        "name": "Updates",
        "kind": "agent_updates",
        "agent": agent.pk,
        "max_attempts": 1,
    }
    made = send(api_as(cast.partner), "post", API + "/monitoring/checks", body)
    assert made.status_code == 201, made.content
    assert made.json()["interval_seconds"] == 3600 and made.json()["warning_threshold"] == 1.0
    check = Check.objects.get()
    config = send(as_agent(secret), "post", f"{AGENT}/heartbeat", {}).json()["config"]
    assert config["checks"][0]["kind"] == "agent_updates"
    assert config["checks"][0]["interval_seconds"] == 3600
    answer = batch(secret, "updates-1", [result(check, 0.0, output="0 update(s) pending (apt).")])
    assert answer.json()["accepted"] == 1
    check.refresh_from_db()
    assert check.status == "ok"
    batch(secret, "updates-2", [result(check, 12.0, output="12 update(s) pending (apt).")])
    check.refresh_from_db()
    assert check.status == "warning"


def test_packages_changes_are_recorded_on_the_asset_and_shown(cast, web_as):
    agent, secret = enrol(cast)
    first = {"hostname": "srv-files", "packages": ["bash 5.2", "openssl 3.0.11"]}
    sent = send(as_agent(secret), "post", f"{AGENT}/inventory", first)
    assert sent.status_code == 200, sent.content
    later = {"hostname": "srv-files", "packages": ["bash 5.2", "curl 8.0", "openssl 3.0.15"]}
    agents.record_inventory(agent, later)
    changes = list(AssetChange.objects.filter(field="packages").order_by("id"))
    assert [c.after for c in changes] == ["2 packages", "curl 8.0\nopenssl 3.0.15"]
    assert changes[1].before == "openssl 3.0.11"
    agents.record_inventory(agent, later)  # the same list: no change
    assert AssetChange.objects.filter(field="packages").count() == 2
    page = web_as(cast.associate).get(f"/monitoring/agents/{agent.pk}/").content.decode()
    assert "3 installed" in page and "curl 8.0" in page
    assert web_as(cast.other_client_admin).get(f"/monitoring/agents/{agent.pk}/").status_code == 404


def test_an_oversize_package_list_is_refused(cast):
    _, secret = enrol(cast)
    body = {"hostname": "srv-files", "packages": [f"p{n} 1" for n in range(5_001)]}
    answer = send(as_agent(secret), "post", f"{AGENT}/inventory", body)
    assert answer.status_code == 400 and "packages" in answer.content.decode()
    long_name = {"hostname": "srv-files", "packages": ["x" * 201]}
    assert send(as_agent(secret), "post", f"{AGENT}/inventory", long_name).status_code == 400
    assert send(HttpClient(), "post", f"{AGENT}/inventory", body).status_code == 401

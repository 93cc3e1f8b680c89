"""What the agent reads of apt's answer: the pending security updates by name."""

from __future__ import annotations

from thirdway_agent import packages

APT_SIMULATION = """NOTE: This is only a simulation!
Inst libssl3 [3.0.11-1~deb12u1] (3.0.15-1~deb12u2 Debian-Security:12/stable-security [amd64])
Inst openssl [3.0.11-1~deb12u1] (3.0.15-1~deb12u2 Debian-Security:12/stable-security [amd64])
Inst tzdata [2024a-0+deb12u1] (2025b-0+deb12u1 Debian:12.11/stable [all])
Inst libssl3 [3.0.11-1~deb12u1] (3.0.15-1~deb12u2 Debian-Security:12/stable-security [i386])
Conf libssl3 (3.0.15-1~deb12u2 Debian-Security:12/stable-security [amd64])
"""


def test_the_security_updates_are_named_once_each_and_sorted():
    assert packages.parse_apt_security_names(APT_SIMULATION) == ["libssl3", "openssl"]
    assert packages.parse_apt_security_names("0 upgraded, 0 newly installed") == []


def test_the_names_are_bounded():
    many = "\n".join(
        f"Inst p{i:04d} [1] (2 Debian-Security:12/stable-security [amd64])" for i in range(600)
    )
    names = packages.parse_apt_security_names(many)
    assert len(names) == packages.MAX_SECURITY_NAMES and names[0] == "p0000"


def test_an_updates_result_carries_the_names_where_apt_tells_them():
    result = packages.updates_result()
    found = packages.pending_updates()
    if found["manager"] == "apt":
        assert isinstance(result["security_packages"], list)
    else:
        assert "security_packages" not in result

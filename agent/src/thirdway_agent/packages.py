"""What the machine's package manager says: the installed packages (for the inventory) and the
updates waiting (for the updates check).  Debian-like systems (dpkg, apt) and Red Hat-like ones
(rpm, dnf); elsewhere the answer is "unknown", never a guess."""

from __future__ import annotations

import os
import shutil
import subprocess

MAX_PACKAGES = 5_000
APT_CHECK = "/usr/lib/update-notifier/apt-check"
TIMEOUT = 120
MAX_SECURITY_NAMES = 500


def _run(command: list[str]) -> subprocess.CompletedProcess[str] | None:
    try:
        return subprocess.run(  # noqa: S603 - fixed commands, no input from elsewhere
            command,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "LC_ALL": "C"},
        )
    except (OSError, subprocess.TimeoutExpired):
        return None


def installed() -> list[str] | None:
    """Installed packages as "name version", sorted, at most ``MAX_PACKAGES``; None when the
    machine has neither dpkg nor rpm."""
    if shutil.which("dpkg-query"):
        command = ["dpkg-query", "-W", "-f", "${db:Status-Abbrev}${Package} ${Version}\n"]
        done = _run(command)
        if done is None or done.returncode != 0:
            return None
        rows = [line[3:].strip() for line in done.stdout.splitlines() if line.startswith("ii ")]
    elif shutil.which("rpm"):
        done = _run(["rpm", "-qa", "--qf", "%{NAME} %{VERSION}-%{RELEASE}\n"])
        if done is None or done.returncode != 0:
            return None
        rows = [line.strip() for line in done.stdout.splitlines() if line.strip()]
    else:
        return None
    return sorted(row[:200] for row in rows)[:MAX_PACKAGES]


def parse_apt_simulation(text: str) -> tuple[int, int]:
    """(updates, security updates) from ``apt-get -s upgrade``: one "Inst" line per package;
    a security update comes from a "-security" suite."""
    updates = security = 0
    for line in text.splitlines():
        if line.startswith("Inst "):
            updates += 1
            if "-security" in line:
                security += 1
    return updates, security


def parse_apt_security_names(text: str) -> list[str]:
    """The packages of ``apt-get -s upgrade`` that come from a "-security" suite, sorted, at
    most ``MAX_SECURITY_NAMES``."""
    names = set()
    for line in text.splitlines():
        parts = line.split()
        if line.startswith("Inst ") and len(parts) > 1 and "-security" in line:
            names.add(parts[1][:200])
    return sorted(names)[:MAX_SECURITY_NAMES]


def parse_dnf_check_update(text: str) -> int:
    """Packages listed by ``dnf check-update`` (name.arch version repository)."""
    count = 0
    for line in text.splitlines():
        parts = line.split()
        if line.startswith("Obsoleting"):
            break
        if len(parts) == 3 and "." in parts[0] and not line.startswith(" "):
            count += 1
    return count


def _apt_security_names() -> list[str] | None:
    done = _run(["apt-get", "-s", "-q", "upgrade"]) if shutil.which("apt-get") else None
    if done is None or done.returncode != 0:
        return None
    return parse_apt_security_names(done.stdout)


def pending_updates() -> dict:
    """How many updates wait: ``{"manager", "count", "security", "security_packages"}``; count
    None when unknown; the names of the security updates where apt tells them (else None)."""
    if os.access(APT_CHECK, os.X_OK):
        done = _run([APT_CHECK])
        if done is not None and done.returncode == 0:
            numbers = done.stderr.strip().split(";")
            if len(numbers) == 2 and all(n.isdigit() for n in numbers):
                security = int(numbers[1])
                return {
                    "manager": "apt",
                    "count": int(numbers[0]),
                    "security": security,
                    "security_packages": _apt_security_names() if security else [],
                }
    if shutil.which("apt-get"):
        done = _run(["apt-get", "-s", "-q", "upgrade"])
        if done is not None and done.returncode == 0:
            count, security = parse_apt_simulation(done.stdout)
            return {
                "manager": "apt",
                "count": count,
                "security": security,
                "security_packages": parse_apt_security_names(done.stdout),
            }
    if shutil.which("dnf"):
        done = _run(["dnf", "-q", "check-update"])
        if done is not None and done.returncode == 0:
            return {"manager": "dnf", "count": 0, "security": None}
        if done is not None and done.returncode == 100:  # updates are available
            return {
                "manager": "dnf",
                "count": parse_dnf_check_update(done.stdout),
                "security": None,
            }
    return {"manager": None, "count": None, "security": None}


def updates_result() -> dict:
    """A result of the updates check: the value is the number of updates waiting."""
    found = pending_updates()
    if found["count"] is None:
        return {"value": None, "status": "unknown", "output": "Pending updates: unknown here."}
    text = f"{found['count']} update(s) pending ({found['manager']})"
    if found["security"] is not None:
        text += f", {found['security']} security"
    result = {"value": float(found["count"]), "output": text + "."}
    if found.get("security_packages") is not None:
        result["security_packages"] = found["security_packages"]
    return result

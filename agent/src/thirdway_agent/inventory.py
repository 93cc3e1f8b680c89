"""What the machine is: host name, system, CPU, memory, disks, interfaces, last boot, users."""

from __future__ import annotations

import datetime as dt
import platform
import socket
from pathlib import Path

import psutil

from thirdway_agent import packages

SKIPPED_FS = {"tmpfs", "devtmpfs", "squashfs", "overlay", "proc", "sysfs", "devpts", "nsfs"}


def _os_release() -> dict[str, str]:
    found = {}
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            key, _, value = line.partition("=")
            found[key] = value.strip().strip('"')
    except OSError:
        pass
    return found


def _serial() -> str:
    try:
        return Path("/sys/class/dmi/id/product_serial").read_text().strip()[:100]
    except OSError:
        return ""


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()[:200]
    except OSError:
        pass
    return platform.processor()[:200]


def _disks() -> list[dict]:
    disks = []
    for part in psutil.disk_partitions(all=False)[:256]:
        if part.fstype in SKIPPED_FS:
            continue
        try:
            total = psutil.disk_usage(part.mountpoint).total
        except OSError:
            continue
        disks.append(
            {
                "mount": part.mountpoint[:255],
                "device": part.device[:255],
                "fstype": part.fstype[:40],
                "total_bytes": total,
            }
        )
    return disks


def _interfaces() -> list[dict]:
    found = []
    for name, addresses in sorted(psutil.net_if_addrs().items())[:256]:
        mac = next((a.address for a in addresses if a.family == psutil.AF_LINK), "")
        ips = [a.address for a in addresses if a.family in (socket.AF_INET, socket.AF_INET6)]
        found.append(
            {"name": name[:64], "mac": mac[:64], "addresses": [ip[:64] for ip in ips][:32]}
        )
    return found


def gather() -> dict:
    release = _os_release()
    boot = dt.datetime.fromtimestamp(psutil.boot_time(), dt.UTC).replace(microsecond=0)
    return {
        "hostname": socket.gethostname()[:255],
        "os_name": (release.get("NAME") or platform.system())[:100],
        "os_version": (release.get("VERSION") or release.get("VERSION_ID") or "")[:100],
        "kernel": platform.release()[:100],
        "serial": _serial(),
        "cpu_model": _cpu_model(),
        "cpu_count": psutil.cpu_count() or 0,
        "memory_bytes": psutil.virtual_memory().total,
        "disks": _disks(),
        "interfaces": _interfaces(),
        "boot_time": boot.isoformat(),
        "users": sorted({user.name[:64] for user in psutil.users()})[:256],
        "packages": packages.installed(),
    }

"""The checks the server hands the agent, measured here.  The server decides the status from
the value (its thresholds, with recovery edges); the agent only measures.

With a duration, the value reported is the least bad one seen over that time, so a threshold
is crossed only when the value stayed past it for the whole duration."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import subprocess
import tempfile
import time
from collections import deque

import psutil

from thirdway_agent import lan, packages


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


def _metric(metric: str) -> tuple[float, str]:
    if metric == "cpu":
        value = psutil.cpu_percent(interval=None)
        return value, f"CPU {value:.0f} %"
    if metric == "memory":
        value = psutil.virtual_memory().percent
        return value, f"Memory {value:.0f} % used"
    if metric.startswith("disk:"):
        mount = metric.removeprefix("disk:")
        usage = psutil.disk_usage(mount)
        free = usage.free / 1024**3
        return usage.percent, f"Disk {mount} {usage.percent:.0f} % used ({free:.1f} GiB free)"
    raise ValueError(f"unknown metric {metric!r}")


def _processes(name: str) -> int:
    count = 0
    for process in psutil.process_iter(["name", "cmdline"]):
        info = process.info
        command = (info.get("cmdline") or [""])[0] if info.get("cmdline") else ""
        if info.get("name") == name or os.path.basename(command) == name:
            count += 1
    return count


class Runner:
    """Runs checks, keeping recent values per check for their durations."""

    def __init__(self, refuse_scripts: bool = False, clock=time.monotonic) -> None:
        self.refuse_scripts = refuse_scripts
        self.clock = clock  # seconds, for intervals and durations (monotonic)
        self.samples: dict[int, deque[tuple[float, float]]] = {}
        # Script checks: when each last ran, and the last run asked for by a person it answered.
        self.last_run: dict[int, float] = {}
        self.answered: dict[int, str] = {}
        psutil.cpu_percent(interval=None)  # the first call only starts the measure

    def _over_duration(self, check: dict, value: float) -> float:
        now = self.clock()
        seen = self.samples.setdefault(check["id"], deque(maxlen=1000))
        seen.append((now, value))
        duration = check.get("duration_seconds") or 0
        while seen and seen[0][0] < now - duration:
            seen.popleft()
        return min(v for _, v in seen) if seen else value

    def _asked(self, check: dict) -> str | None:
        """The time of a run a person asked for that this agent has not answered yet."""
        asked = check.get("run_requested_at")
        return asked if asked and self.answered.get(check["id"]) != asked else None

    def due(self, check: dict) -> bool:
        """Every check runs at its own interval, as the server sent it (its retry interval
        while the server rechecks a problem); a script also at once when a person asked for a
        run.  A check without an interval (an older server) runs every cycle."""
        if self._asked(check) is not None:
            return True
        last = self.last_run.get(check["id"])
        every = check.get("interval_seconds") or 0
        # A little early rather than a whole cycle late.
        return last is None or self.clock() - last >= every * 0.9

    def sample(self, check: dict) -> None:
        """Between its runs, a metric check with a duration keeps sampling, so the value it
        reports covers the whole duration."""
        if check.get("kind") != "agent_metric" or not check.get("duration_seconds"):
            return
        try:
            value, _ = _metric(check["metric"])
        except Exception:  # the run itself reports a broken measure
            return
        self._over_duration(check, value)

    def run(self, check: dict) -> dict:
        result = {"check_id": check["id"], "collected_at": _now()}
        asked = self._asked(check)
        try:
            result.update(self._measure(check))
        except Exception as error:  # a broken measure is an unknown result saying why
            result.update(value=None, status="unknown", output=f"Could not measure: {error}"[:500])
        self.last_run[check["id"]] = self.clock()
        answered = asked is not None and result.get("script") is not None
        if check.get("kind") == "agent_script" and answered:
            result["script"]["requested_at"] = asked
            self.answered[check["id"]] = asked
        return result

    def _measure(self, check: dict) -> dict:
        kind = check["kind"]
        if kind == "agent_metric":
            value, text = _metric(check["metric"])
            kept = self._over_duration(check, value)
            if kept != value:
                text += f"; at least {kept:.0f} over {check['duration_seconds']} s"
            return {"value": kept, "output": text}
        if kind == "agent_process":
            count = _processes(check["target"])
            return {"value": float(count), "output": f"{count} process(es) named {check['target']}"}
        if kind == "agent_file_age":
            try:
                modified = os.stat(check["target"]).st_mtime
            except FileNotFoundError:
                return {"value": None, "status": "critical", "output": "No such file."}
            hours = (time.time() - modified) / 3600
            return {"value": round(hours, 3), "output": f"Last changed {hours:.1f} h ago"}
        if kind == "agent_script":
            return run_script(check.get("script"), refuse=self.refuse_scripts)
        if kind in LAN_KINDS:
            return _lan(check)
        if kind == "agent_updates":
            return packages.updates_result()
        return {"value": None, "status": "unknown", "output": f"This agent cannot run {kind}."}


LAN_KINDS = ("agent_ping", "agent_tcp", "agent_http")


def _lan(check: dict) -> dict:
    timeout = float(max(1, min(int(check.get("timeout_seconds") or 10), 60)))
    kind, target = check["kind"], check["target"]
    if kind == "agent_ping":
        return lan.ping(target, timeout)
    if kind == "agent_tcp":
        return lan.tcp(target, int(check["port"]), timeout)
    return lan.http(
        target,
        expected_status=int(check.get("expected_status") or 200),
        body_contains=check.get("body_contains") or "",
        timeout=timeout,
    )


# Nagios plugin exit codes; anything else is unknown.
EXIT_STATES = {0: "ok", 1: "warning", 2: "critical", 3: "unknown"}
INTERPRETERS = {"sh": ["/bin/sh"], "bash": ["bash"], "python3": ["python3"]}
MAX_MESSAGE = 500
MAX_OUTPUT = 4000
REFUSED = "scripts refused on this machine"


def _refused(message: str, script: dict | None) -> dict:
    script = script or {}
    return {
        "value": None,
        "status": "unknown",
        "output": message,
        "script": {
            "version_id": script.get("version_id"),
            "sha256": script.get("sha256", ""),
            "exit_code": None,
            "duration_ms": 0,
            "output": message,
        },
    }


def run_script(script: dict | None, *, refuse: bool) -> dict:
    """Run a script of the server's library: refused when this machine refuses scripts, or when
    the body's SHA-256 is not the hash the server sent; otherwise its exit code is the status
    (Nagios: 0 ok, 1 warning, 2 critical, else unknown) and its first line the message."""
    if refuse:
        return _refused(REFUSED, script)
    if not script or "body" not in script:
        return _refused("No script was sent for this check.", script)
    body = script["body"]
    digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
    if digest != script.get("sha256"):
        return _refused("script refused: its content does not match the server's hash", script)
    command = INTERPRETERS.get(script.get("interpreter", ""))
    if command is None:
        return _refused(f"Unknown interpreter {script.get('interpreter')!r}.", script)
    timeout = max(1, min(int(script.get("timeout_seconds", 30)), 300))
    with tempfile.TemporaryDirectory(prefix="thirdway-script-") as folder:
        path = os.path.join(folder, "script")
        with open(path, "w", encoding="utf-8") as out:
            out.write(body)
        started = time.monotonic()
        try:
            # The interpreter is one of a fixed list, the file is the body whose SHA-256 was
            # just checked against the server's hash, and no shell is involved.
            done = subprocess.run(  # noqa: S603 - fixed interpreter, hash-checked script
                [*command, path],
                capture_output=True,
                timeout=timeout,
                cwd=folder,
                stdin=subprocess.DEVNULL,
            )
            code: int | None = done.returncode
            text = done.stdout.decode("utf-8", "replace")
            if not text.strip():
                text = done.stderr.decode("utf-8", "replace")
        except subprocess.TimeoutExpired:
            code, text = None, f"Timed out after {timeout} s."
        duration = int((time.monotonic() - started) * 1000)
    status = EXIT_STATES.get(code, "unknown") if code is not None else "unknown"
    lines = text.strip().splitlines()
    first = lines[0] if lines else f"Exit code {code}, no output."
    return {
        "value": None,
        "status": status,
        "output": first[:MAX_MESSAGE],
        "script": {
            "version_id": script.get("version_id"),
            "sha256": digest,
            "exit_code": code,
            "duration_ms": duration,
            "output": text[:MAX_OUTPUT],
        },
    }

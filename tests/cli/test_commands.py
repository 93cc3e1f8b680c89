"""The thirdway command, run as a user runs it: in a subprocess, on its own data folder."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from django.conf import settings

pytestmark = pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3",
    reason="drives the embedded SQLite setup; the PostgreSQL suite covers the same code in-process",
)


def _env(home) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("THIRDWAY_")}
    env["THIRDWAY_HOME"] = str(home)
    return env


def _thirdway(home, *args, timeout=120, **extra) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603
        [sys.executable, "-m", "thirdway", *args],
        env=_env(home) | extra,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_bad_setting_stops_the_command_with_its_name(tmp_path):
    result = _thirdway(tmp_path, "check", THIRDWAY_DEBUG="perhaps")
    assert result.returncode == 2
    assert "THIRDWAY_DEBUG" in result.stderr
    assert "true/false" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_reports_pending_migrations_then_all_good(tmp_path):
    first = _thirdway(tmp_path, "check")
    assert first.returncode == 1
    assert "migrations to apply" in first.stdout
    assert _thirdway(tmp_path, "manage", "migrate", "-v", "0").returncode == 0
    second = _thirdway(tmp_path, "check")
    assert second.returncode == 0, second.stdout
    assert "All good." in second.stdout


def test_createadmin_makes_a_practice_admin_who_can_sign_in(tmp_path, migrated):
    migrated.sqlite_into(tmp_path / "thirdway.sqlite3")
    password_file = tmp_path / "pw"
    password_file.write_text("a-long-and-unusual-passphrase\n")
    result = _thirdway(
        tmp_path, "createadmin", "--username", "root-of-it", "--password-file", str(password_file)
    )
    assert result.returncode == 0, result.stderr
    again = _thirdway(
        tmp_path, "createadmin", "--username", "root-of-it", "--password-file", str(password_file)
    )
    assert again.returncode == 2
    assert "already taken" in again.stderr


def test_serve_runs_the_demo_and_its_logins_work(tmp_path, migrated):
    migrated.sqlite_into(tmp_path / "thirdway.sqlite3")
    demo = _thirdway(tmp_path, "demo", timeout=300)
    assert demo.returncode == 0, demo.stderr
    assert "demo-partner" in demo.stdout
    port = _free_port()
    # Into a file, not a pipe: a pipe nobody reads fills up, and the server then blocks on its
    # next log line.
    log = tmp_path / "serve.log"
    server = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "thirdway", "serve", "--port", str(port), "--workers", "1"],
        env=_env(tmp_path),
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        page = _wait_for(f"http://127.0.0.1:{port}/accounts/login/")
        assert "Sign in" in page
        assert _wait_for(f"http://127.0.0.1:{port}/static/web/htmx.min.js").startswith("var htmx")
        token_page = _sign_in(port, "demo-desk")
        assert "Clients" in token_page
        # The supervisor runs gunicorn alone; its master forks the web worker and the task
        # worker (with the clock in a thread of it).
        (master,) = _children(server.pid)
        forked = _children(master)
        assert len(forked) == 2
        tree = [master, *forked]
    finally:
        server.terminate()
        server.wait(timeout=30)
    output = log.read_text()
    assert server.returncode == 0, output
    assert "clock: started" in output
    assert "Starting worker" in output
    assert "Task worker and clock (pid:" in output
    _wait_gone(tree)  # nothing left running once serve has stopped


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append(int(entry))
    return found


def _wait_gone(pids: list[int], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    for pid in pids:
        while os.path.exists(f"/proc/{pid}") and _state(pid) != "Z":
            assert time.monotonic() < deadline, f"process {pid} still runs after serve stopped"
            time.sleep(0.2)


def _state(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"


def _wait_for(url: str, seconds: float = 30) -> str:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310
                return response.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def _sign_in(port: int, username: str) -> str:
    import http.cookiejar
    import re
    import urllib.parse

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    base = f"http://127.0.0.1:{port}"
    form = opener.open(f"{base}/accounts/login/", timeout=30).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    data = urllib.parse.urlencode(
        {
            "csrfmiddlewaretoken": token,
            "username": username,
            "password": "thirdway-demo-2026",
        }
    ).encode()
    request = urllib.request.Request(  # noqa: S310
        f"{base}/accounts/login/", data=data, headers={"Referer": f"{base}/accounts/login/"}
    )
    return opener.open(request, timeout=30).read().decode()

"""Memory of ``thirdway serve``: the whole process tree after every page kind was served.

    python bench/serve_memory.py                      # SQLite, two web workers
    python bench/serve_memory.py --database-url postgres://postgres@127.0.0.1:5432/thirdway_bench

Loads the small demo into a fresh THIRDWAY_HOME (on PostgreSQL the named database is dropped
and made again first, so give it a database of its own), starts ``thirdway serve``, signs in
over real HTTP as each demo role and walks every kind of page reachable from its home page
(one URL per pattern: digits stand for any number), then the search, the API lists and the
portal, several times so each web worker serves them.  It then lets the worker run what the
clock enqueued at start, and sums the proportional set size (PSS, from
``/proc/<pid>/smaps_rollup``: shared pages divided among the processes that share them) of the
whole process tree.  Prints one JSON object: per process and total, in MiB.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter, deque
from pathlib import Path
from typing import Any

PASSWORD = "thirdway-demo-2026"  # noqa: S105 - the demo's published password
ROLES = (
    "demo-admin",
    "demo-partner",
    "demo-associate",
    "demo-desk",
    "client-user@demo.thirdway.example",
)
# Pages every role is sent to besides what its links reach (a role refused one gets a 403/404,
# which is a page kind too).
EXTRA = (
    "/tickets/search?q=printer",
    "/tickets/search?q=vpn+offline",
    "/portal/",
    "/api/v1/me",
    "/api/v1/tickets",
    "/api/v1/clients",
    "/api/v1/sites",
    "/api/v1/contacts",
    "/api/v1/assets",
    "/api/v1/partners",
    "/api/v1/practices",
    "/api/v1/absences",
    "/api/v1/sla/policies",
    "/api/v1/sla/calendars",
    "/api/v1/rotas",
    "/api/v1/on-call",
    "/api/v1/mail/quarantine",
    "/api/v1/mail/outbox",
    "/api/v1/openapi.json",
    "/settings/",
    "/admin/",
)
SKIP = re.compile(r"^/(static/|accounts/logout|media/|favicon)|/(download|export)")
MIB = 1024 * 1024
STATUSES: Counter[int] = Counter()  # answers of the warm-up, by HTTP status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2, help="web workers (default 2)")
    parser.add_argument("--threads", type=int, default=1, help="threads per web worker")
    parser.add_argument("--database-url", help="PostgreSQL URL (dropped and made again)")
    parser.add_argument("--pages", type=int, default=60, help="most pages walked per role")
    parser.add_argument("--passes", type=int, default=3, help="times each page is asked for")
    parser.add_argument("--settle", type=float, default=20.0, help="seconds for queued tasks")
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="thirdway-serve-memory-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("THIRDWAY_")}
    env["THIRDWAY_HOME"] = str(home)
    if args.database_url:
        env["THIRDWAY_DATABASE_URL"] = args.database_url
        _fresh_postgres(args.database_url)
    thirdway = [sys.executable, "-m", "thirdway"]
    subprocess.run([*thirdway, "demo"], env=env, check=True, capture_output=True)  # noqa: S603
    port = _free_port()
    log = (home / "serve.log").open("w")
    server = subprocess.Popen(  # noqa: S603
        [
            *thirdway,
            "serve",
            "--port",
            str(port),
            "--workers",
            str(args.workers),
            # Left out when 1, so the bench also runs against versions without the option.
            *(["--threads", str(args.threads)] if args.threads != 1 else []),
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_for(f"{base}/accounts/login/")
        visited = 0
        for username in ROLES:
            opener = _sign_in(base, username)
            urls = _walk(opener, base, args.pages)
            for _ in range(args.passes):
                for url in urls:
                    _get(opener, base + url)
            visited += len(urls)
        time.sleep(args.settle)
        processes = _tree(server.pid)
        result = {
            "database": "postgresql" if args.database_url else "sqlite",
            "web_workers": args.workers,
            "threads": args.threads,
            "page_kinds": visited,
            "passes": args.passes,
            "answers": {str(code): STATUSES[code] for code in sorted(STATUSES)},
            "processes": processes,
            "total_pss_mib": round(sum(p["pss_mib"] for p in processes), 1),
            "load_average": os.getloadavg()[0],
        }
        print(json.dumps(result, indent=2))
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
        shutil.rmtree(home, ignore_errors=True)


def _fresh_postgres(url: str) -> None:
    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    drop, create = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'
    for statement in (drop, create):
        subprocess.run(["psql", admin, "-q", "-c", statement], check=True)  # noqa: S603, S607


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for(url: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=10):  # noqa: S310
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def _get(opener: urllib.request.OpenerDirector, url: str) -> tuple[int, str, str]:
    """(status, final path, body); an error page is a page too."""
    try:
        with opener.open(url, timeout=60) as response:
            body = response.read()
            kind = response.headers.get("Content-Type", "")
            path = urllib.parse.urlsplit(response.geturl()).path
            STATUSES[response.status] += 1
            return response.status, path, body.decode() if "html" in kind else ""
    except urllib.error.HTTPError as error:
        error.read()
        STATUSES[error.code] += 1
        return error.code, "", ""


def _sign_in(base: str, username: str) -> urllib.request.OpenerDirector:
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    _, _, form = _get(opener, f"{base}/accounts/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)
    if token is None:
        raise RuntimeError("no sign-in form")
    data = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token.group(1), "username": username, "password": PASSWORD}
    ).encode()
    request = urllib.request.Request(  # noqa: S310
        f"{base}/accounts/login/", data=data, headers={"Referer": f"{base}/accounts/login/"}
    )
    with opener.open(request, timeout=60) as response:
        if urllib.parse.urlsplit(response.geturl()).path.startswith("/accounts/login"):
            raise RuntimeError(f"{username} could not sign in")
    return opener


def _walk(opener: urllib.request.OpenerDirector, base: str, limit: int) -> list[str]:
    """One URL per pattern reachable by links from the home page, then the extra pages."""
    seen_patterns: set[str] = set()
    urls: list[str] = []
    queue = deque(["/"])
    while queue and len(urls) < limit:
        url = queue.popleft()
        pattern = re.sub(r"\d+", "N", url.split("?")[0])
        if pattern in seen_patterns or SKIP.search(url):
            continue
        seen_patterns.add(pattern)
        _, _, body = _get(opener, base + url)
        urls.append(url)
        for link in re.findall(r'href="(/[^"#]*)"', body):
            queue.append(link.replace("&amp;", "&"))
    for url in EXTRA:
        _get(opener, base + url)
        urls.append(url)
    return urls


def _tree(root: int) -> list[dict[str, Any]]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found = []
    pending = [(root, 0)]
    while pending:
        pid, depth = pending.pop(0)
        found.append((pid, depth))
        pending.extend((child, depth + 1) for child in sorted(children.get(pid, [])))
    processes = []
    for pid, depth in found:
        try:
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        fields = {
            line.split(":")[0]: int(line.split()[1]) * 1024
            for line in rollup.splitlines()[1:]
            if line.endswith("kB")
        }
        # The packages whose compiled modules are mapped: which heavy libraries it holds.
        try:
            maps = Path(f"/proc/{pid}/maps").read_text()
        except OSError:
            maps = ""
        native = sorted(set(re.findall(r"site-packages/([A-Za-z0-9_]+)/\S*\.so", maps)))
        command = " ".join(a.decode() for a in argv if a)
        command = command.replace(sys.executable, "python")
        processes.append(
            {
                "pid": pid,
                "depth": depth,
                "command": command[:120],
                "pss_mib": round(fields.get("Pss", 0) / MIB, 1),
                "rss_mib": round(fields.get("Rss", 0) / MIB, 1),
                "private_mib": round(
                    (fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)) / MIB, 1
                ),
                "native": native,
            }
        )
    return processes


if __name__ == "__main__":
    main()

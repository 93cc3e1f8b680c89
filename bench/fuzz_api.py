"""Fuzz the served API against its own OpenAPI document with schemathesis; prints one JSON object.

    .venv/bin/python bench/fuzz_api.py [--examples 25] [--seed 2026] [--port 0] [--workers 2]

Loads the small demo into a fresh ``THIRDWAY_HOME`` (SQLite), gives the practice admin and a
client user one API token each, serves the app with ``thirdway serve`` on a free port and runs
``st run`` once per token (phases examples, coverage, fuzzing and stateful), with the checks
``not_a_server_error``, ``status_code_conformance`` and ``response_schema_conformance``, a
bounded number of examples per operation and a fixed seed.  Prints, per token, the operations
tested, the test cases sent and the failures by schemathesis code (ST101: a server error).
Exits non-zero when either run finds a failure; the schemathesis output and JUnit reports stay
in ``--reports`` for reading.  ``.ci/run`` calls it with ``--examples 8``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from served import free_port, thirdway, wait_for

CHECKS = "not_a_server_error,status_code_conformance,response_schema_conformance"
# Who fuzzes: the desk's most powerful role and the least powerful signed-in one.
PEOPLE = {
    "admin": "demo-admin",
    "client": "client-user@demo.thirdway.example",
}
ISSUE_TOKENS = """
import json
from thirdway.accounts.models import User
from thirdway.accounts.services import issue_token
tokens = {}
for role, username in %r.items():
    user = User.objects.get(username=username)
    tokens[role] = issue_token(user, "fuzzing", source="api")[1]
print(json.dumps(tokens))
"""


def summary(output: str) -> dict[str, object]:
    """Operations tested, test cases generated and failures by kind, from the run's summary."""
    tested = re.search(r"Tested: (\d+)", output)
    cases = re.search(r"(\d+) generated", output)
    failures = {code: int(count) for code, count in re.findall(r"(ST\d+) [^:\n]+: (\d+)", output)}
    return {
        "operations": int(tested.group(1)) if tested else 0,
        "cases": int(cases.group(1)) if cases else 0,
        "server_errors": failures.get("ST101", 0),
        "failures": failures,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=25, help="examples per operation")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--port", type=int, default=0, help="0: a free port")
    parser.add_argument("--workers", type=int, default=2, help="schemathesis workers")
    parser.add_argument("--reports", default="var/fuzz", help="where the reports go")
    parser.add_argument("--as", dest="who", choices=sorted(PEOPLE), action="append")
    args = parser.parse_args()

    home = tempfile.mkdtemp(prefix="thirdway-fuzz-")
    env = {**os.environ, "THIRDWAY_HOME": home}
    env.pop("THIRDWAY_DATABASE_URL", None)  # SQLite: the fuzzing must not touch a shared database
    reports = Path(args.reports)
    reports.mkdir(parents=True, exist_ok=True)
    port = args.port or free_port()
    base = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    thirdway("demo", "--size", "small", env=env, stdout=subprocess.DEVNULL)
    issued = thirdway(
        "manage", "shell", "-c", ISSUE_TOKENS % PEOPLE, env=env, capture_output=True, text=True
    )
    tokens = json.loads(issued.stdout.strip().splitlines()[-1])
    server = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "thirdway", "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    results: dict[str, dict] = {}
    exit_code = 0
    try:
        wait_for(f"{base}/api/v1/openapi.json")
        for who in args.who or sorted(PEOPLE):
            command = [
                str(Path(sys.executable).with_name("st")),
                "run",
                f"{base}/api/v1/openapi.json",
                "--header",
                f"Authorization: Bearer {tokens[who]}",
                "--checks",
                CHECKS,
                "--max-examples",
                str(args.examples),
                "--seed",
                str(args.seed),
                "--workers",
                str(args.workers),
                "--phases",
                "examples,coverage,fuzzing,stateful",
                "--suppress-health-check",
                "all",
                "--request-timeout",
                "30",
                "--report",
                "junit",
                "--report-junit-path",
                str(reports / f"{who}.xml"),
                "--output-truncate",
                "true",
            ]
            run = subprocess.run(  # noqa: S603
                command, env=env, check=False, capture_output=True, text=True
            )
            print(run.stdout, run.stderr, sep="\n", flush=True)
            (reports / f"{who}.txt").write_text(run.stdout)
            results[who] = {"exit_code": run.returncode, **summary(run.stdout)}
            exit_code = exit_code or run.returncode
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(home, ignore_errors=True)
    print(json.dumps({"seconds": round(time.monotonic() - started, 1), "runs": results}))
    return exit_code


if __name__ == "__main__":
    raise SystemExit(main())

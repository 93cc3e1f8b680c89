"""Benchmark the e-mail intake; prints one JSON object.

    .venv/bin/python bench/mail_ingest.py [--messages 300] [--pipe-messages 60]
        [--database sqlite|postgres://postgres@127.0.0.1:5432/thirdway_bench_mail]
        [--paths pipe,pipe_now,pipeline,imap,imap_command,pipe_spool]

On a fresh database of its own (a SQLite file in a temporary THIRDWAY_HOME, or the named
PostgreSQL database, dropped and created again), with one client, its mail domain and twenty
contacts, it sends a seeded mix of messages (about 60% new tickets, 25% replies threaded by
In-Reply-To, 15% with a 100 kB attachment; every new ticket also queues its acknowledgement in
the outbox) through these paths:

- ``pipe``: the documented pipe, ``thirdway mail ingest`` once per message, two at a time,
  while ``thirdway worker`` runs (it watches the spool): messages per second through the pipe
  and, per message, the time from the pipe's start to the message processed (a ticket or a
  reply): ``time_to_ticket`` p50, p95 and max, for the burst of ``--messages`` and for
  ``--paced-messages`` piped at ``--paced-rate`` a second (a steady arrival);
- ``pipe_now``: ``thirdway mail ingest --now`` once per message, two at a time (each message
  pays for starting Python and Django, stored and processed before the command answers);
- ``pipeline``: the same intake in one running process, one message at a time (the path of the
  HTTP endpoint: each message stored, then processed, in a transaction of its own);
- ``imap``: the worker's poll (in a process already running) against a private dovecot holding
  the messages (Debian's dovecot must be installed; run as root so the mail folder can belong
  to ``dovecot``), and ``imap_command``: ``thirdway mail poll``, start-up included;
- ``pipe_spool``: ``thirdway mail ingest`` once per message, two at a time, with no worker
  running (the pipe alone), then ``spool_drain``: one drain of those messages in a process
  already running (stored a chunk to a transaction, then processed).

The poller and the drain process in ``--mail-processes`` lanes on PostgreSQL (the setting
``THIRDWAY_MAIL_PROCESSES``, default 2); their CPU time includes the lanes' processes.  The
commands run with their bytecode cached, as a deployed install has it.

Figures are messages per second, wall clock, start-up included for ``pipe``, ``pipe_spool``
and ``imap_command``; ``cpu_seconds`` is the CPU time of the intake itself (the commands it ran
for those, dovecot excluded), steadier than the wall clock on a shared machine;
``queries_per_message`` counts the SQL statements the pipeline sent per message.
"""

from __future__ import annotations

import argparse
import email.utils
import imaplib
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from served import free_port

REPO = Path(__file__).resolve().parents[1]
THIRDWAY = str(Path(sys.executable).with_name("thirdway"))
PASSWORD = "bench-imap-password"  # noqa: S105 - a private test server
SETUP = """
from thirdway.accounts import services as accounts
from thirdway.clients import services as clients
from thirdway.mail.models import ClientDomain, Mailbox
admin = accounts.create_user(None, username="admin", role="practice_admin", source="cli")
acme = clients.create_client(admin, name="Acme", time_zone="UTC", country="FR", source="cli")
ClientDomain.objects.create(domain="acme.example", client=acme)
for n in range(20):
    clients.create_contact(admin, acme, name=f"User {{n}}", email=f"user{{n}}@acme.example",
        source="cli")
Mailbox.objects.create(name="bench", address="bench@desk.example", imap_host="127.0.0.1",
    imap_port={port}, imap_ssl=False, imap_user="bench", imap_password="{password}")
"""
PIPELINE = """
import json, time
from pathlib import Path
from django.db import connection
from thirdway.mail.models import Mailbox
from thirdway.mail.services import receive_and_process
box = Mailbox.objects.get(name="bench")
files = sorted(Path("{folder}").glob("*.eml"))
statements = [0]
def count(execute, sql, params, many, context):
    statements[0] += 1
    return execute(sql, params, many, context)
started, cpu = time.perf_counter(), time.process_time()
statuses = {{}}
with connection.execute_wrapper(count):
    for path in files:
        message, _ = receive_and_process(path.read_bytes(), mailbox=box, source="pipe")
        statuses[message.status] = statuses.get(message.status, 0) + 1
elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
print(json.dumps({{"messages": len(files), "seconds": elapsed, "cpu_seconds": cpu,
    "statements": statements[0], "statuses": statuses}}))
"""
COUNTS = """
import json
from django.db.models import Count
from thirdway.mail.models import InboundMessage
print(json.dumps(dict(InboundMessage.objects.values_list("status").annotate(n=Count("id")))))
"""
DOVECOT = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
listen = 127.0.0.1
protocols = imap
ssl = no
disable_plaintext_auth = no
first_valid_uid = 1
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = static
  args = password={password}
}}
userdb {{
  driver = static
  args = uid=dovecot gid=dovecot home={root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""


def messages(count: int, seed: int, prefix: str) -> list[bytes]:
    """A seeded mix: new tickets, replies to earlier ones, attachments."""
    rng = random.Random(seed)
    sent: list[str] = []
    out = []
    for number in range(count):
        message = EmailMessage()
        sender = f"user{rng.randrange(20)}@acme.example"
        message_id = f"{prefix}-{number}@acme.example"
        message["From"] = sender
        message["To"] = "bench@desk.example"
        message["Date"] = email.utils.formatdate()
        message["Message-ID"] = f"<{message_id}>"
        roll = rng.random()
        if roll < 0.25 and sent:
            parent = rng.choice(sent)
            message["Subject"] = "Re: the problem"
            message["In-Reply-To"] = f"<{parent}>"
            message["References"] = f"<{parent}>"
            message.set_content("Still happening.\n\nOn Monday you wrote:\n> try again\n")
        else:
            message["Subject"] = f"Problem number {number}"
            message.set_content(f"Something is broken ({number}).\n" * rng.randint(1, 40))
            sent.append(message_id)
        if roll > 0.85:
            message.add_attachment(
                rng.randbytes(100_000),
                maintype="application",
                subtype="octet-stream",
                filename=f"log-{number}.bin",
            )
        out.append(message.as_bytes())
    return out


class Database:
    def __init__(self, choice: str, home: Path) -> None:
        self.postgres = choice.startswith(("postgres://", "postgresql://"))
        if not self.postgres:
            self.url = f"sqlite:///{home / 'bench.sqlite3'}"
            return
        import psycopg

        parts = urlsplit(choice)
        self.url, self.name = choice, parts.path.strip("/")
        admin = urlunsplit(parts._replace(path="/postgres"))
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            connection.execute(f'CREATE DATABASE "{self.name}"')

    @property
    def engine(self) -> str:
        return "postgresql" if self.postgres else "sqlite"


def run(environment: dict, *args: str, stdin: bytes | None = None) -> str:
    done = subprocess.run(  # noqa: S603 - our own command
        [THIRDWAY, *args], input=stdin, env=environment, capture_output=True, check=True
    )
    return done.stdout.decode()


def fresh(choice: str, port: int, processes: int) -> tuple[dict, Path, Database]:
    home = Path(tempfile.mkdtemp(prefix="thirdway-bench-"))
    database = Database(choice, home)
    # A deployed install has its bytecode compiled: the commands may write theirs.
    environment = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("THIRDWAY_") and k != "PYTHONDONTWRITEBYTECODE"
    }
    environment |= {
        "THIRDWAY_HOME": str(home),
        "THIRDWAY_DATABASE_URL": database.url,
        "THIRDWAY_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(REPO / "src"),
        "THIRDWAY_MAIL_PROCESSES": str(processes),
    }
    run(environment, "manage", "migrate", "-v", "0")
    run(environment, "manage", "shell", "-c", SETUP.format(port=port, password=PASSWORD))
    return environment, home, database


def children_cpu() -> float:
    """CPU seconds used so far by the commands this script ran (and waited for)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def bench_pipe_now(environment: dict, batch: list[bytes]) -> dict:
    cpu = children_cpu()
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(
            pool.map(
                lambda raw: run(
                    environment, "mail", "ingest", "--now", "--mailbox", "bench", stdin=raw
                ),
                batch,
            )
        )
    elapsed = time.perf_counter() - started
    statuses: dict[str, int] = {}
    for answer in answers:
        status = json.loads(answer)["status"]
        statuses[status] = statuses.get(status, 0) + 1
    figures = _figures(len(batch), elapsed, statuses)
    figures["cpu_seconds"] = round(children_cpu() - cpu, 3)
    return figures


def bench_pipeline(environment: dict, home: Path, batch: list[bytes]) -> dict:
    folder = home / "messages"
    folder.mkdir()
    for number, raw in enumerate(batch):
        (folder / f"{number:06d}.eml").write_bytes(raw)
    result = json.loads(
        run(environment, "manage", "shell", "-c", PIPELINE.format(folder=folder)).splitlines()[-1]
    )
    figures = _figures(result["messages"], result["seconds"], result["statuses"])
    figures["cpu_seconds"] = round(result["cpu_seconds"], 3)
    figures["queries_per_message"] = round(result["statements"] / result["messages"], 1)
    return figures


# The CPU time of a shell script of the bench: its own and its processing lanes'.
CPU = """
import json, resource, time
def cpu():  # this process and its processing lanes
    usage = [resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    return sum(u.ru_utime + u.ru_stime for u in usage)
"""
DRAIN = (
    CPU
    + """
from thirdway.mail.services import drain_spool
started, before = time.perf_counter(), cpu()
count = drain_spool(limit=100000)
print(json.dumps({"messages": count, "seconds": time.perf_counter() - started,
    "cpu_seconds": cpu() - before}))
"""
)


def bench_spool(environment: dict, batch: list[bytes]) -> tuple[dict, dict]:
    cpu = children_cpu()
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(
            pool.map(
                lambda raw: run(environment, "mail", "ingest", "--mailbox", "bench", stdin=raw),
                batch,
            )
        )
    elapsed = time.perf_counter() - started
    spooled = _figures(len(answers), elapsed, {"spooled": len(answers)})
    spooled["cpu_seconds"] = round(children_cpu() - cpu, 3)
    result = json.loads(run(environment, "manage", "shell", "-c", DRAIN).splitlines()[-1])
    counts = json.loads(run(environment, "manage", "shell", "-c", COUNTS).splitlines()[-1])
    drained = _figures(result["messages"], result["seconds"], counts)
    drained["cpu_seconds"] = round(result["cpu_seconds"], 3)
    return spooled, drained


def processed_at(database: Database, home: Path) -> dict[str, float]:
    """When each processed message was processed (epoch seconds), by its Message-ID."""
    sql = "SELECT message_id, processed_at FROM mail_inboundmessage WHERE processed_at IS NOT NULL"
    if database.postgres:
        import psycopg

        with psycopg.connect(database.url) as connection:
            rows = connection.execute(sql).fetchall()
        return {key.strip("<>").lower(): value.timestamp() for key, value in rows}
    import datetime as dt
    import sqlite3

    with sqlite3.connect(home / "bench.sqlite3") as connection:
        rows = connection.execute(sql).fetchall()
    return {
        key.strip("<>").lower(): dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC).timestamp()
        for key, value in rows
    }


def _message_id(raw: bytes) -> str:
    for line in raw.split(b"\n"):
        if line.lower().startswith(b"message-id:"):
            return line.split(b":", 1)[1].strip().decode().strip("<>").lower()
    raise ValueError("no Message-ID")


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def bench_documented_pipe(
    environment: dict, home: Path, database: Database, batch: list[bytes], rate: float = 0
) -> dict:
    """``thirdway mail ingest`` two at a time (``rate`` 0) or ``rate`` a second, while
    ``thirdway worker`` runs: the pipe's rate, and each message's time until processed."""
    log = home / "worker.log"
    with log.open("w") as output:
        worker = subprocess.Popen(  # noqa: S603 - our own command
            [THIRDWAY, "worker"],
            env=environment | {"THIRDWAY_LOG_LEVEL": "INFO"},
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=output,
        )
    try:
        deadline = time.monotonic() + 120
        while "watching the spool" not in log.read_text():  # (the watch has started)
            assert worker.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        begun: dict[str, float] = {}

        def pipe(raw: bytes) -> None:
            begun[_message_id(raw)] = time.time()
            run(environment, "mail", "ingest", "--mailbox", "bench", stdin=raw)

        cpu = children_cpu()
        started = time.perf_counter()
        if rate:
            for number, raw in enumerate(batch):
                time.sleep(max(0.0, started + number / rate - time.perf_counter()))
                pipe(raw)
        else:
            with ThreadPoolExecutor(max_workers=2) as pool:
                list(pool.map(pipe, batch))
        elapsed = time.perf_counter() - started
        pipe_cpu = children_cpu() - cpu
        deadline = time.monotonic() + 180
        while True:
            done = processed_at(database, home)
            if all(key in done for key in begun) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        drained = time.perf_counter() - started
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    waits = [done[key] - begun[key] for key in begun if key in done]
    figures = _figures(len(batch), elapsed, {"processed": len(waits)})
    figures["cpu_seconds"] = round(pipe_cpu, 3)
    if rate:
        figures["paced_rate"] = rate
    figures["all_processed_after_seconds"] = round(drained, 3)
    figures["time_to_ticket_seconds"] = {
        "p50": round(_percentile(waits, 0.5), 3),
        "p95": round(_percentile(waits, 0.95), 3),
        "max": round(max(waits), 3),
    }
    return figures


def start_dovecot() -> tuple[Path, int]:
    root = Path(tempfile.mkdtemp(prefix="thirdway-bench-dovecot-"))
    root.chmod(0o755)
    for name in ("run", "state", "mail"):
        (root / name).mkdir()
    shutil.chown(root / "mail", "dovecot", "dovecot")
    port = free_port()
    (root / "dovecot.conf").write_text(DOVECOT.format(root=root, port=port, password=PASSWORD))
    dovecot = shutil.which("dovecot") or "/usr/sbin/dovecot"
    subprocess.run(  # noqa: S603
        [dovecot, "-c", str(root / "dovecot.conf")],
        check=True,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while True:
        try:
            imaplib.IMAP4("127.0.0.1", port).logout()
            return root, port
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def stop_dovecot(root: Path) -> None:
    doveadm = shutil.which("doveadm") or "/usr/bin/doveadm"
    subprocess.run(  # noqa: S603
        [doveadm, "-c", str(root / "dovecot.conf"), "stop"],
        check=False,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    shutil.rmtree(root, ignore_errors=True)


POLL = (
    CPU
    + """
from thirdway.mail.fetching import poll
from thirdway.mail.models import Mailbox
box = Mailbox.objects.get(name="bench")
started, before = time.perf_counter(), cpu()
counts = poll(box)
print(json.dumps({"counts": counts, "seconds": time.perf_counter() - started,
    "cpu_seconds": cpu() - before}))
"""
)


def _fill(port: int, batch: list[bytes]) -> None:
    connection = imaplib.IMAP4("127.0.0.1", port)
    connection.login("bench", PASSWORD)
    for raw in batch:
        connection.append("INBOX", None, None, raw)
    connection.logout()


def bench_imap(environment: dict, port: int, batch: list[bytes]) -> dict:
    """The worker's poll, in a process already running."""
    _fill(port, batch)
    result = json.loads(run(environment, "manage", "shell", "-c", POLL).splitlines()[-1])
    counts = json.loads(run(environment, "manage", "shell", "-c", COUNTS).splitlines()[-1])
    figures = _figures(len(batch), result["seconds"], counts)
    figures["cpu_seconds"] = round(result["cpu_seconds"], 3)
    figures["poll"] = result["counts"]
    return figures


def bench_imap_command(environment: dict, port: int, batch: list[bytes]) -> dict:
    """``thirdway mail poll``, start-up included."""
    _fill(port, batch)
    cpu = children_cpu()
    started = time.perf_counter()
    answer = json.loads(run(environment, "mail", "poll", "--mailbox", "bench"))
    elapsed = time.perf_counter() - started
    cpu = children_cpu() - cpu
    counts = json.loads(run(environment, "manage", "shell", "-c", COUNTS).splitlines()[-1])
    figures = _figures(len(batch), elapsed, counts)
    figures["cpu_seconds"] = round(cpu, 3)
    figures["poll"] = answer.get("bench")
    return figures


def _figures(count: int, seconds: float, statuses: dict) -> dict:
    return {
        "messages": count,
        "seconds": round(seconds, 3),
        "messages_per_second": round(count / seconds, 1) if seconds else None,
        "outcomes": statuses,
    }


PATHS = ("pipe", "pipe_now", "pipeline", "imap", "imap_command", "pipe_spool")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--pipe-messages", type=int, default=60, help="for pipe_now")
    parser.add_argument("--paced-messages", type=int, default=40)
    parser.add_argument("--paced-rate", type=float, default=5.0, help="messages a second")
    parser.add_argument("--database", default="sqlite")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--paths", default=",".join(PATHS), help="which paths, comma-separated")
    parser.add_argument(
        "--mail-processes",
        type=int,
        default=2,
        help="THIRDWAY_MAIL_PROCESSES: processing lanes of the poller and the drain (PostgreSQL)",
    )
    args = parser.parse_args()
    paths = [path for path in args.paths.split(",") if path]
    unknown = sorted(set(paths) - set(PATHS))
    if unknown:
        parser.error(f"unknown paths {unknown}; known: {', '.join(PATHS)}")
    root, port = start_dovecot() if {"imap", "imap_command"} & set(paths) else (None, 0)
    homes = []

    def fresh_home() -> tuple[dict, Path, Database]:
        environment, home, database = fresh(args.database, port, args.mail_processes)
        homes.append(home)
        return environment, home, database

    try:
        results: dict = {
            "cores": os.cpu_count(),
            "python": sys.version.split()[0],
            "mail_processes": args.mail_processes,
            "load_average": os.getloadavg(),
        }
        if "pipe" in paths:
            environment, home, database = fresh_home()
            results["database"] = database.engine
            results["pipe"] = bench_documented_pipe(
                environment, home, database, messages(args.messages, args.seed, "pipe")
            )
            environment, home, database = fresh_home()
            results["pipe_paced"] = bench_documented_pipe(
                environment,
                home,
                database,
                messages(args.paced_messages, args.seed, "paced"),
                rate=args.paced_rate,
            )
        if {"pipe_now", "pipeline"} & set(paths):
            environment, home, database = fresh_home()
            results["database"] = database.engine
            if "pipe_now" in paths:
                results["pipe_now"] = bench_pipe_now(
                    environment, messages(args.pipe_messages, args.seed, "now")
                )
            if "pipeline" in paths:
                results["pipeline"] = bench_pipeline(
                    environment, home, messages(args.messages, args.seed, "pipeline")
                )
        if "imap" in paths:
            environment, home, database = fresh_home()
            results["imap"] = bench_imap(
                environment, port, messages(args.messages, args.seed, "imap")
            )
        if "imap_command" in paths:
            environment, home, database = fresh_home()
            results["imap_command"] = bench_imap_command(
                environment, port, messages(args.messages, args.seed, "imapcmd")
            )
        if "pipe_spool" in paths:
            environment, home, database = fresh_home()
            results["database"] = database.engine
            results["pipe_spool"], results["spool_drain"] = bench_spool(
                environment, messages(args.messages, args.seed, "spool")
            )
        results["load_average_after"] = os.getloadavg()
    finally:
        if root is not None:
            stop_dovecot(root)
        for home in homes:
            shutil.rmtree(home, ignore_errors=True)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

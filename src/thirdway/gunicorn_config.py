"""gunicorn's settings under ``thirdway serve``: load the code once, then fork the web workers.

Before it forks, the master imports Django and every view (the URLconf is otherwise read at a
worker's first request), the libraries pages load on first use (the public-holiday tables,
the password hasher and validators) and compiles Thirdway's templates.  The workers then
share those pages with the master instead of each holding a copy; ``gc.freeze`` keeps the
collector from writing to the shared objects (a write would copy the page into the worker).
Database connections opened while loading are closed before the fork: a connection is never
shared between processes.

Under ``thirdway serve`` (``THIRDWAY_SERVE_TASKS=1``) the master also forks the task worker,
with the clock and the mail spool's watch in threads of it, so that process shares the same
pages instead of loading Django a second time. The master stops it when gunicorn stops; if it
ends otherwise (an error, a signal sent to it alone) it stops gunicorn, and so ``serve``; if
the master disappears it stops itself. Killed outright (SIGKILL) it cannot tell anyone: serve
then runs on without background tasks, as a separately run worker that is killed would.
"""

from __future__ import annotations

import gc
import os
import select
import signal
import sys
import time
from pathlib import Path
from typing import Any

preload_app = True
TASKS_ENV = "THIRDWAY_SERVE_TASKS"
CLOCK_SECONDS = 30.0
QUEUE_POLL_SECONDS = 1.0
SPOOL_SECONDS = 0.5  # the mail spool's watch (mail/watcher.py)
STOP_SECONDS = 15.0
_task_worker = 0  # pid of the task worker forked by this master
_stopping = -1  # the master writes a byte here before it stops the task worker
# Agents' check-ins answered 200 are left out of the access log unless this is 1: thousands a
# second at scale, each line a few per cent of the check-in's cost (docs/monitoring.md).
CHECK_INS_LOGGED_ENV = "THIRDWAY_ACCESS_LOG_CHECK_INS"
# The lean path's routes (monitoring/ingest_wsgi.py ROUTES; a test keeps them the same).
CHECK_IN_PATHS = frozenset(
    {"/api/v1/monitoring/agent/heartbeat", "/api/v1/monitoring/agent/results"}
)


def _access_logger() -> type:
    from gunicorn.glogging import Logger  # type: ignore[import-untyped]

    class CheckInsUnlogged(Logger):  # type: ignore[misc]
        """gunicorn's logger, its access log without agents' answered check-ins."""

        def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
            if resp.status_code == 200 and environ.get("PATH_INFO") in CHECK_IN_PATHS:
                return
            super().access(resp, req, environ, request_time)

    return CheckInsUnlogged


if os.environ.get(CHECK_INS_LOGGED_ENV, "0") != "1":
    logger_class = _access_logger()


def when_ready(server: Any) -> None:
    preload()
    gc.collect()
    gc.freeze()
    if os.environ.get(TASKS_ENV) == "1":
        _fork_task_worker(server)


def on_exit(server: Any) -> None:
    """gunicorn is stopping: stop the task worker, letting it finish its task."""
    if not _task_worker:
        return
    try:
        os.write(_stopping, b"s")
        os.kill(_task_worker, signal.SIGTERM)
    except OSError:  # it has already ended (and stopped gunicorn)
        return
    deadline = time.monotonic() + STOP_SECONDS
    while time.monotonic() < deadline:
        try:
            pid, _ = os.waitpid(_task_worker, os.WNOHANG)
        except ChildProcessError:
            return  # already reaped with the web workers
        if pid:
            return
        time.sleep(0.1)
    os.kill(_task_worker, signal.SIGKILL)


def preload() -> None:
    """Load now what every web worker would otherwise load for itself at its first pages."""
    import argon2  # noqa: F401 - the password hasher, at each sign-in
    from django.contrib.auth.password_validation import get_default_password_validators
    from django.db import connections
    from django.template import TemplateDoesNotExist, TemplateSyntaxError, engines
    from django.urls import get_resolver

    from thirdway.sla import calendars

    resolver = get_resolver()
    resolver.url_patterns  # noqa: B018 - reading it imports every view
    resolver.reverse_dict  # noqa: B018 - and reading this indexes them for reverse()
    calendars.supported_countries()  # imports every country's holidays, as settings pages do
    get_default_password_validators()  # reads the list of common passwords
    engine = engines["django"]
    root = Path(__file__).parent
    for folder in sorted(root.glob("*/templates")):
        for path in sorted(folder.rglob("*.html")):
            try:
                engine.get_template(path.relative_to(folder).as_posix())
            except (TemplateDoesNotExist, TemplateSyntaxError):
                continue  # a page asking for it reports the problem, not the start-up
    connections.close_all()


def _fork_task_worker(server: Any) -> None:
    global _task_worker, _stopping
    master = os.getpid()
    told, _stopping = os.pipe()
    pid = os.fork()
    if pid:
        os.close(told)
        _task_worker = pid
        server.log.info("Task worker and clock (pid: %s)", pid)
        return
    # The child: it never returns into gunicorn's code.  Unless the master said it stops
    # gunicorn, the task worker ending (an error, a signal of its own) stops serve as a whole.
    os.close(_stopping)
    code = 1
    try:
        for number in (*server.SIGNALS, signal.SIGCHLD):
            signal.signal(number, signal.SIG_DFL)
        for listener in server.LISTENERS:
            listener.close()
        _run_tasks(master)
        code = 0
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 1
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        if os.getppid() == master and not select.select([told], [], [], 0)[0]:
            print("thirdway: the task worker stopped; stopping the web server", flush=True)
            os.kill(master, signal.SIGTERM)
        os._exit(code)


def _run_tasks(master: int) -> None:
    import threading

    from thirdway.clock.runner import start_beside_worker
    from thirdway.mail import watcher
    from thirdway.taskwake import run_worker

    def orphaned() -> None:
        while os.getppid() == master:
            time.sleep(2)
        os.kill(os.getpid(), signal.SIGTERM)  # the worker's own graceful stop

    threading.Thread(target=orphaned, name="parent-watch", daemon=True).start()
    start_beside_worker(CLOCK_SECONDS)
    watcher.start_beside_worker(SPOOL_SECONDS)
    run_worker(QUEUE_POLL_SECONDS)

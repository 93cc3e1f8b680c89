"""The ``thirdway`` command: serve, worker, clock, demo, createadmin, check, mail, simulate,
backup, restore, keys, manage."""

from __future__ import annotations

import os
import sys

# Start-up stays light (a mail server's pipe runs the command once per message): argparse,
# subprocess and signal are imported where they are used, and typing not at all.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable

COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {}


def command(function: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    COMMANDS[function.__name__.replace("_", "-")] = function
    return function


def migrate_if_needed(verbose: bool = True) -> None:
    # health imports rich and the migration executor: only commands that migrate pay for them.
    from thirdway.health import migrate_if_needed as migrate

    migrate(verbose)


def setup_django() -> None:
    """Load settings; a bad THIRDWAY_* value ends the command with its message, not a trace."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "thirdway.settings")
    import django
    from django.core.exceptions import ImproperlyConfigured

    try:
        django.setup()
    except ImproperlyConfigured as error:
        print(f"thirdway: configuration error: {error}", file=sys.stderr)
        raise SystemExit(2) from error


@command
def serve(args: argparse.Namespace) -> int:
    """Run the web app (gunicorn), the background worker and the clock together."""
    if args.prepare:
        # In a child of its own, so the supervisor that outlives it never loads Django.
        setup_django()
        from django.core.management import call_command

        migrate_if_needed()
        call_command("collectstatic", interactive=False, verbosity=0)
        return 0
    from thirdway import supervisor

    python = sys.executable
    prepared = supervisor.run([python, "-m", "thirdway", "serve", "--prepare"])
    if prepared != 0:
        return prepared
    # gunicorn loads the code once, then forks the web workers and, under serve, the task
    # worker with the clock in a thread of it (thirdway/gunicorn_config.py): one copy of
    # Django shared by all of them.
    web = [
        python,
        "-m",
        "gunicorn",
        "thirdway.wsgi:application",
        "--config",
        "python:thirdway.gunicorn_config",
        "--bind",
        f"{args.host}:{args.port}",
        "--workers",
        str(args.workers),
        "--threads",
        str(args.threads),
        "--access-logfile",
        "-",
        "--graceful-timeout",
        "10",
    ]
    print(f"Thirdway is serving at http://{args.host}:{args.port}/  (Ctrl+C stops it)")
    sys.stdout.flush()
    return supervisor.supervise({"web": web}, env={"THIRDWAY_SERVE_TASKS": "1"})


@command
def worker(args: argparse.Namespace) -> int:
    """Run background tasks from the database queue and watch the mail spool (--clock: and the
    clock, in the same process)."""
    setup_django()
    migrate_if_needed(verbose=False)
    if args.clock:
        from thirdway.clock.runner import start_beside_worker

        start_beside_worker(args.clock_interval)
    if args.spool_interval > 0:
        # The mail spool watched beside the task queue (a look every half second), so a piped
        # message is a ticket within a second or so.
        from thirdway.mail import watcher

        watcher.start_beside_worker(args.spool_interval)
    from thirdway.taskwake import run_worker

    run_worker(args.interval)
    return 0


@command
def clock(args: argparse.Namespace) -> int:
    """Enqueue periodic jobs when they fall due (several clocks never enqueue one twice)."""
    setup_django()
    from thirdway.clock.runner import enqueue_due, run_forever

    migrate_if_needed(verbose=False)
    if args.once:
        for name in enqueue_due():
            print(f"enqueued {name}")
        return 0
    run_forever(args.interval)
    return 0


@command
def demo(args: argparse.Namespace) -> int:
    """Load the demo practice and print one login per role."""
    setup_django()
    migrate_if_needed()
    from thirdway.demo import load_demo, print_logins

    logins = load_demo(size=args.size, seed=args.seed)
    print_logins(logins)
    return 0


@command
def createadmin(args: argparse.Namespace) -> int:
    """Create a practice admin (asks for the password unless given in a file)."""
    setup_django()
    migrate_if_needed()
    import getpass

    from django.core.exceptions import ValidationError

    from thirdway.accounts import services
    from thirdway.accounts.models import Role
    from thirdway.audit.models import Source

    if args.password_file:
        with open(args.password_file) as handle:
            password = handle.read().strip()
    else:
        password = getpass.getpass("Password: ")
    try:
        services.create_user(
            None,
            username=args.username,
            email=args.email or "",
            role=Role.PRACTICE_ADMIN,
            password=password,
            source=Source.CLI,
        )
    except ValidationError as error:
        for message in error.messages:
            print(f"thirdway: {message}", file=sys.stderr)
        return 2
    print(f"Practice admin {args.username} created.")
    return 0


@command
def check(args: argparse.Namespace) -> int:
    """Check settings and the database, in words."""
    setup_django()
    from thirdway.health import run_checks

    return run_checks()


@command
def mail(args: argparse.Namespace) -> int:
    """The e-mail channel: ingest a message from standard input, reprocess, poll mailboxes."""
    setup_django()
    # A mail server's pipe starts one process per message: it does not pay for reading the
    # migration plan each time (ingest migrates only when its tables are missing).
    if args.rest[:1] != ["ingest"]:
        migrate_if_needed(verbose=False)
    from thirdway.mail.commands import run

    return run(args.rest)


@command
def simulate(args: argparse.Namespace) -> int:
    """Compare dispatch policies on a scenario; prints one JSON result (docs/simulator.md)."""
    setup_django()
    from thirdway.dispatch.comparison import run_cli

    return run_cli(args)


@command
def backup(args: argparse.Namespace) -> int:
    """Write one archive of the database and files while Thirdway keeps working."""
    setup_django()
    from thirdway.backup.commands import backup as run

    return run(args)


@command
def restore(args: argparse.Namespace) -> int:
    """Restore an archive into an empty installation (checked whole first)."""
    setup_django()  # never migrates: the target must stay empty until the archive is in
    from thirdway.backup.commands import restore as run

    return run(args)


@command
def keys(args: argparse.Namespace) -> int:
    """The vault's keys: make a master key file, rewrap data keys, rotate a client's key."""
    if args.action == "generate":
        from thirdway.vault.commands import run

        return run(args)  # a file only: no settings, no database
    setup_django()
    migrate_if_needed(verbose=False)
    from thirdway.vault.commands import run

    return run(args)


@command
def manage(args: argparse.Namespace) -> int:
    """Run a Django management command (``thirdway manage migrate``)."""
    setup_django()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["thirdway manage", *args.rest])
    return 0


def parser() -> argparse.ArgumentParser:
    import argparse

    root = argparse.ArgumentParser(prog="thirdway", description=__doc__)
    sub = root.add_subparsers(dest="command", required=True)
    p = sub.add_parser("serve", help=serve.__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=2, help="web processes (default 2)")
    p.add_argument(
        "--threads", type=_at_least_one, default=1, help="threads per web process (default 1)"
    )
    p.add_argument("--prepare", action="store_true", help=argparse.SUPPRESS)
    p = sub.add_parser("worker", help=worker.__doc__)
    p.add_argument("--interval", type=float, default=1.0, help="seconds between queue polls")
    p.add_argument("--clock", action="store_true", help="also run the clock, in a thread")
    p.add_argument("--clock-interval", type=float, default=30.0, help="seconds between clock ticks")
    p.add_argument(
        "--spool-interval",
        type=float,
        default=0.5,
        help="seconds between looks at the mail spool (0: leave it to the clock's mail.spool)",
    )
    p = sub.add_parser("clock", help=clock.__doc__)
    p.add_argument("--interval", type=float, default=30.0, help="seconds between ticks")
    p.add_argument("--once", action="store_true", help="one tick, then exit")
    p = sub.add_parser("demo", help=demo.__doc__)
    p.add_argument("--size", choices=["small", "large"], default="small")
    p.add_argument("--seed", type=int, default=2026)
    p = sub.add_parser("createadmin", help=createadmin.__doc__)
    p.add_argument("--username", required=True)
    p.add_argument("--email")
    p.add_argument("--password-file", help="read the password from this file")
    sub.add_parser("check", help=check.__doc__)
    p = sub.add_parser("mail", help=mail.__doc__)
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p = sub.add_parser("simulate", help=simulate.__doc__)
    p.add_argument("scenario", help="scenario JSON file")
    p.add_argument("--policies", help="comma-separated subset (default: all)")
    p.add_argument("--out", help="also write the result to this file")
    p.add_argument("--no-bound", action="store_true", help="skip the offline bound")
    p = sub.add_parser("backup", help=backup.__doc__)
    p.add_argument("--to", help="folder of the archive (default THIRDWAY_BACKUP_DIR)")
    p.add_argument(
        "--with-secrets",
        action="store_true",
        help="also write the secret key, apart from the archive, readable by you alone",
    )
    p.add_argument(
        "--keep", type=_at_least_one, help="then remove all but this many newest archives there"
    )
    p = sub.add_parser("restore", help=restore.__doc__)
    p.add_argument("archive", help="a thirdway-backup-*.tar.gz file")
    p.add_argument("--secrets", help="the .secrets.json written beside it by --with-secrets")
    p.add_argument("--check", action="store_true", help="only prove the archive whole")
    p = sub.add_parser("keys", help=keys.__doc__)
    from thirdway.vault.commands import add_arguments

    add_arguments(p, _at_least_one)
    p = sub.add_parser("manage", help=manage.__doc__)
    p.add_argument("rest", nargs=argparse.REMAINDER)
    return root


def _at_least_one(text: str) -> int:
    import argparse

    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return int(text)


def main(argv: list[str] | None = None) -> None:
    words = sys.argv[1:] if argv is None else argv
    if words[:2] == ["mail", "ingest"] and not {"-h", "--help"} & set(words[2:]):
        raise SystemExit(ingest(words[2:]))
    args = parser().parse_args(argv)
    raise SystemExit(COMMANDS[args.command](args))


TEMPFAIL = 75  # EX_TEMPFAIL (sysexits.h): the mail server keeps the message and tries again


def ingest(words: list[str]) -> int:
    """``thirdway mail ingest``, a mail server's pipe, once per message: 0 once the message is
    kept, 75 whenever it could not be, with one line on standard error and no traceback (any
    other code makes a mail server bounce the message to its sender).

    By default the message is kept in the mail spool without starting Django (``mail/spool.py``);
    ``--now`` stores and processes it in the database and prints what it became."""
    try:
        if "--now" not in words:
            from thirdway.mail import spool

            return spool.ingest_from_stdin(words, sys.stdin.buffer, sys.stdout, sys.stderr)
        # Everything before the message is stored, settings, imports and the database
        # included, is a temporary failure: the configuration is fixed and the mail comes back.
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "thirdway.settings")
        import django

        django.setup()
        from thirdway.mail.commands import run

        return run(["ingest", *words])
    except SystemExit as stop:  # argparse's usage error, said already
        return TEMPFAIL if stop.code else 0
    except BaseException as error:
        try:
            from thirdway.mail.spool import one_line

            said = one_line(error)
        except BaseException:  # (the package itself would not import)
            said = type(error).__name__
        print(f"thirdway mail: not kept, try again: {said}", file=sys.stderr)
        return TEMPFAIL

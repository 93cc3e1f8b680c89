"""``thirdway mail ...``: ingest one message from standard input (a mail server's pipe),
reprocess quarantined messages, poll the IMAP mailboxes, watch the mail spool."""

from __future__ import annotations

import argparse
import json
import sys

from django.core.exceptions import ValidationError

from thirdway.mail.spool import one_line


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="thirdway mail", description=__doc__)
    sub = root.add_subparsers(dest="action", required=True)
    p = sub.add_parser(
        "ingest",
        help="read one RFC 822 message on standard input and keep it in the mail spool (the "
        "worker makes it a ticket); exit 0 once kept, 75 (try again) when it could not be",
    )
    p.add_argument("--mailbox", help="the mailbox it arrived at (its name)")
    p.add_argument(
        "--now",
        action="store_true",
        help="store and process it in the database now, and print what it became (slower: "
        "starts Django for each message)",
    )
    p.add_argument("--spool", action="store_true", help="the default (kept for older pipes)")
    p = sub.add_parser("reprocess", help="run quarantined messages through the pipeline again")
    p.add_argument("ids", nargs="*", type=int, help="message ids (default: all quarantined)")
    p = sub.add_parser("poll", help="fetch the IMAP mailboxes now")
    p.add_argument("--mailbox", help="only this mailbox")
    p = sub.add_parser("watch", help="drain the mail spool as it fills (workers do it too)")
    p.add_argument("--interval", type=float, default=0.5, help="seconds between looks (0.5)")
    p = sub.add_parser("mailbox", help="add a mailbox, or change the given settings of one")
    p.add_argument("name")
    p.add_argument("--address")
    p.add_argument("--practice", help="a practice's slug: new tickets go to it")
    p.add_argument("--default-client", type=int, help="a client's id: takes unknown senders")
    p.add_argument("--imap-host")
    p.add_argument("--imap-port", type=int)
    p.add_argument("--imap-user")
    p.add_argument("--imap-password-file", help="read the IMAP password from this file")
    p.add_argument("--imap-folder")
    p.add_argument("--no-ssl", action="store_true", help="plain IMAP (a local server only)")
    p.add_argument("--after-fetch", choices=["delete", "mark_seen"])
    p.add_argument("--inactive", action="store_true")
    p = sub.add_parser("domain", help="mail from this domain comes from this client")
    p.add_argument("domain")
    p.add_argument("--client", type=int, required=True, help="the client's id")
    return root


def run(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    actions = {
        "ingest": ingest,
        "reprocess": reprocess,
        "poll": poll,
        "watch": watch,
        "mailbox": mailbox,
        "domain": domain,
    }
    try:
        return actions[args.action](args)
    except ValidationError as error:
        for text in error.messages:
            print(f"thirdway mail: {text}", file=sys.stderr)
        return 2


def _mailbox(name: str | None):
    from thirdway.mail.models import Mailbox

    if not name:
        Mailbox.objects.exists()  # fails at once when the tables are missing
        return None
    mailbox = Mailbox.objects.filter(name=name).first()
    if mailbox is None:
        known = ", ".join(Mailbox.objects.values_list("name", flat=True)) or "none configured"
        print(f"thirdway mail: no mailbox {name!r} (known: {known})", file=sys.stderr)
        raise SystemExit(2)
    return mailbox


TEMPFAIL = 75  # EX_TEMPFAIL: the mail server keeps the message and tries again


def ingest(args: argparse.Namespace) -> int:
    """Without ``--now``: kept in the mail spool (``mail/spool.py``; the command itself answers
    that before starting Django).  With it: exit 0 once the message is stored (even if
    quarantined), 75 (EX_TEMPFAIL) whenever it could not be, the database unreachable or the
    mailbox unknown included, so the mail server keeps it and tries again.

    Only what receipt needs is loaded before the message is stored; the rest of the pipeline
    (the ticket services) after.  A message stored but not processed here (an error of the
    database in between) stays ``received`` for the next ``mail.poll`` to process.
    """
    if not args.now:
        from thirdway.mail import spool

        words = ["--mailbox", args.mailbox] if args.mailbox else []
        return spool.ingest_from_stdin(words, sys.stdin.buffer, sys.stdout, sys.stderr)
    try:
        from django.db import DatabaseError

        from thirdway.mail.models import InboundSource, InboundStatus
        from thirdway.mail.receipt import receive

        try:
            mailbox = _mailbox(args.mailbox)
        except DatabaseError:  # a fresh install: the tables do not exist yet
            from thirdway.health import migrate_if_needed

            migrate_if_needed(verbose=False)
            mailbox = _mailbox(args.mailbox)
        raw = sys.stdin.buffer.read()
        message, created = receive(raw, mailbox=mailbox, source=InboundSource.PIPE)
    except SystemExit as stop:  # the mailbox is unknown (said already)
        return TEMPFAIL if stop.code else 0
    except Exception as error:
        print(f"thirdway mail: not stored, try again: {one_line(error)}", file=sys.stderr)
        return TEMPFAIL
    if message.status == InboundStatus.RECEIVED:
        try:
            from thirdway.mail.services import process

            message = process(message.pk, received=message if created else None)
        except Exception as error:  # stored: the next poll processes it
            print(f"thirdway mail: stored, not yet processed: {one_line(error)}", file=sys.stderr)
    print(json.dumps({"id": message.pk, "status": message.status, "duplicate": not created}))
    return 0


def watch(args: argparse.Namespace) -> int:
    from thirdway.mail.watcher import watch as run

    run(interval=max(args.interval, 0.05))
    return 0


def reprocess(args: argparse.Namespace) -> int:
    from thirdway.audit.models import Source
    from thirdway.mail.models import InboundMessage, InboundStatus
    from thirdway.mail.services import reprocess as reprocess_message

    chosen = InboundMessage.objects.filter(status=InboundStatus.QUARANTINED)
    if args.ids:
        chosen = InboundMessage.objects.filter(pk__in=args.ids)
    for message in chosen.order_by("id"):
        try:
            after = reprocess_message(None, message, source=Source.CLI)
        except Exception as error:
            print(f"{message.pk}: {error}", file=sys.stderr)
            continue
        print(json.dumps({"id": after.pk, "status": after.status, "reason": after.reason}))
    return 0


def poll(args: argparse.Namespace) -> int:
    from thirdway.mail.fetching import poll as poll_one
    from thirdway.mail.fetching import poll_all
    from thirdway.mail.services import drain_spool, process_pending

    mailbox = _mailbox(args.mailbox)
    results = {mailbox.name: poll_one(mailbox)} if mailbox else poll_all()
    results["spooled"] = drain_spool()
    results["processed_pending"] = process_pending()
    print(json.dumps(results))
    return 0


def mailbox(args: argparse.Namespace) -> int:
    from pathlib import Path

    from thirdway.audit.models import Source
    from thirdway.clients.models import Client
    from thirdway.mail.services import save_mailbox
    from thirdway.network.models import Practice

    fields = {
        "address": args.address,
        "imap_host": args.imap_host,
        "imap_port": args.imap_port,
        "imap_user": args.imap_user,
        "imap_folder": args.imap_folder,
        "after_fetch": args.after_fetch,
    }
    fields = {name: value for name, value in fields.items() if value is not None}
    if args.imap_password_file:
        fields["imap_password"] = Path(args.imap_password_file).read_text().strip()
    if args.practice:
        fields["practice"] = Practice.objects.get(slug=args.practice)
    if args.default_client:
        fields["default_client"] = Client.objects.get(pk=args.default_client)
    if args.no_ssl:
        fields["imap_ssl"] = False
    if args.inactive:
        fields["is_active"] = False
    saved = save_mailbox(None, args.name, source=Source.CLI, **fields)
    print(json.dumps({"mailbox": saved.name, "address": saved.address, "imap": saved.imap_host}))
    return 0


def domain(args: argparse.Namespace) -> int:
    from thirdway.audit.models import Source
    from thirdway.clients.models import Client
    from thirdway.mail.services import set_client_domain

    client = Client.objects.get(pk=args.client)
    entry = set_client_domain(None, client, args.domain, source=Source.CLI)
    print(json.dumps({"domain": entry.domain, "client": client.pk}))
    return 0

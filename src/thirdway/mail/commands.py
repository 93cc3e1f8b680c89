"""``thirdway mail ...``: ingest one message from standard input (a mail server's pipe),
reprocess quarantined messages, poll the IMAP mailboxes."""

from __future__ import annotations

import argparse
import json
import sys


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="thirdway mail", description=__doc__)
    sub = root.add_subparsers(dest="action", required=True)
    p = sub.add_parser("ingest", help="read one RFC 822 message on standard input")
    p.add_argument("--mailbox", help="the mailbox it arrived at (its name)")
    p = sub.add_parser("reprocess", help="run quarantined messages through the pipeline again")
    p.add_argument("ids", nargs="*", type=int, help="message ids (default: all quarantined)")
    p = sub.add_parser("poll", help="fetch the IMAP mailboxes now")
    p.add_argument("--mailbox", help="only this mailbox")
    return root


def run(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    return {"ingest": ingest, "reprocess": reprocess, "poll": poll}[args.action](args)


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


def ingest(args: argparse.Namespace) -> int:
    """Exit 0 once the message is stored (even if quarantined), 75 (EX_TEMPFAIL) otherwise, so
    the mail server keeps it and tries again."""
    from django.db import DatabaseError

    from thirdway.mail.models import InboundSource
    from thirdway.mail.services import receive_and_process

    try:
        mailbox = _mailbox(args.mailbox)
    except DatabaseError:  # a fresh install: the tables do not exist yet
        from thirdway.cli import migrate_if_needed

        migrate_if_needed(verbose=False)
        mailbox = _mailbox(args.mailbox)
    raw = sys.stdin.buffer.read()
    try:
        message, created = receive_and_process(raw, mailbox=mailbox, source=InboundSource.PIPE)
    except Exception as error:
        print(f"thirdway mail: not stored, try again: {error}", file=sys.stderr)
        return 75
    print(json.dumps({"id": message.pk, "status": message.status, "duplicate": not created}))
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
    from thirdway.mail.services import process_pending

    mailbox = _mailbox(args.mailbox)
    results = {mailbox.name: poll_one(mailbox)} if mailbox else poll_all()
    results["processed_pending"] = process_pending()
    print(json.dumps(results))
    return 0

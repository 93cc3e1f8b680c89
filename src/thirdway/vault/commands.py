"""``thirdway keys``: make a master key file, rewrap data keys, rotate a client's data key or
the network's.

Each prints what it did and exits 0, or names every row that failed and exits 1 (2 when the
vault cannot open at all); a rerun takes up what is left.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

FAILED = 1
LOCKED = 2


def _report(what: str, outcome, out: TextIO, err: TextIO) -> int:
    print(f"{what}: {outcome.changed} done, {outcome.already} already done.", file=out)
    for failure in outcome.failures:
        print(f"thirdway keys: failed: {failure}", file=err)
    if outcome.failures:
        print(
            f"thirdway keys: {len(outcome.failures)} failed; run the command again once "
            "fixed, it resumes.",
            file=err,
        )
    return FAILED if outcome.failures else 0


def generate(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from thirdway.vault.crypto import FileKeyProvider

    path = Path(args.path)
    if path.exists():
        print(f"thirdway keys: {path} exists already; it is left as it is.", file=err)
        return FAILED
    key = FileKeyProvider(path, create=True).master_key()
    print(f"New master key written to {path} (id {key.id}), readable by you alone.", file=out)
    return 0


def rewrap(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from thirdway.vault.services.keys import rewrap_data_keys

    return _report("Data keys rewrapped", rewrap_data_keys(), out, err)


def rotate(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from thirdway.clients.models import Client
    from thirdway.vault.services.keys import rotate_client_key, rotate_network_key

    if getattr(args, "network", False):
        outcome = rotate_network_key(limit=args.limit)
        return _report("Network secrets sealed under a new data key", outcome, out, err)

    client = Client.objects.filter(pk=args.client).first()
    if client is None:
        print(f"thirdway keys: no client with id {args.client}.", file=err)
        return FAILED
    outcome = rotate_client_key(client, limit=args.limit)
    return _report(f"Credentials of {client} sealed under a new data key", outcome, out, err)


ACTIONS = {"generate": generate, "rewrap": rewrap, "rotate": rotate}


def run(args: argparse.Namespace, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    # Imported here: the command's parser reads this module, and start-up stays light.
    from thirdway.vault.crypto import VaultError

    try:
        return ACTIONS[args.action](args, out, err)
    except VaultError as error:
        print(f"thirdway keys: the vault is closed: {error}", file=err)
        return LOCKED


def add_arguments(parser: argparse.ArgumentParser, whole_number) -> None:
    actions = parser.add_subparsers(dest="action", required=True)
    p = actions.add_parser("generate", help="write a new master key to a file (mode 0600)")
    p.add_argument("path")
    actions.add_parser(
        "rewrap", help="wrap every data key with the current master key (after changing it)"
    )
    p = actions.add_parser(
        "rotate",
        help="give a client (or the network) a new data key and seal its records anew under it",
    )
    whose = p.add_mutually_exclusive_group(required=True)
    whose.add_argument("--client", type=whole_number, help="the client's id")
    whose.add_argument(
        "--network",
        action="store_true",
        help="the network's own data key (secrets of no client, e.g. IMAP passwords)",
    )
    p.add_argument("--limit", type=whole_number, help="at most this many records in this run")

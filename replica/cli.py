"""`kpledger replica`: follow another kpledger's witnessed log, verify it, serve it read-only."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ledger.store import StoreConfig

__all__ = ["add_replica_command", "state_path"]


def state_path(setting: str | None, store: StoreConfig) -> Path:
    """Where the accepted checkpoint is kept: `--state`, else beside a SQLite file
    (`<file stem>.replica-checkpoint`), else `./kpledger-replica.checkpoint`."""
    if setting:
        return Path(setting).expanduser()
    database_file = store.env.get("SQLITE_DBNAME")
    if store.kind == "sqlite" and database_file and database_file != ":memory:":
        return Path(database_file).with_suffix(".replica-checkpoint")
    return Path("kpledger-replica.checkpoint")


def _replica(args: argparse.Namespace) -> int:
    from api.listen import listen, serve
    from api.settings import Settings
    from ledger.application import Ledger
    from ledger.note import COSIGNATURE_V1, ED25519, NoteError, parse_vkey
    from ledger.signing import load_or_create
    from replica.app import create_replica_app
    from replica.follow import ReplicaFollower

    try:
        log_key = parse_vkey(args.log_key)
        witnesses = [parse_vkey(vkey) for vkey in args.witness]
    except NoteError as error:
        print(f"kpledger: {error}", file=sys.stderr)
        return 1
    if log_key.type != ED25519 or any(w.type != COSIGNATURE_V1 for w in witnesses):
        print(
            "kpledger: --log-key is a log's Ed25519 vkey (type 0x01) and --witness a "
            "witness's cosignature vkey (type 0x04)",
            file=sys.stderr,
        )
        return 1
    settings = Settings()
    key = load_or_create(settings.signing_key)
    ledger = Ledger.open(settings.database_url)
    try:
        follower = ReplicaFollower(
            ledger,
            args.source,
            args.token,
            log_key,
            state_path(args.state, ledger.store),
            witnesses=witnesses,
            quorum=args.quorum,
            interval=args.interval,
            batch=args.batch,
        )
    except ValueError as error:
        print(f"kpledger: {error}", file=sys.stderr)
        return 1
    listener = listen(args.host, args.port)
    if listener is None:
        return 1
    app = create_replica_app(settings, ledger, follower, signing_key=key)
    follower.start()
    try:
        with listener:
            print(f"kpledger replica of {follower.source}", flush=True)
            return serve(app, listener, args)
    finally:
        follower.stop()


def add_replica_command(commands: argparse._SubParsersAction) -> None:
    """Adds `kpledger replica` to the kpledger command."""
    replica = commands.add_parser(
        "replica",
        help="keep a verified copy of another kpledger's log and serve its reads",
        description="Follows the source's GET /checkpoint and entry bundles, checks the log "
        "signature, the witnesses' quorum, consistency with the last checkpoint accepted, "
        "the tree's root, positions and document signatures, then appends the entries as "
        "kpledger import does, into the store KPLEDGER_DATABASE_URL names (empty, or a "
        "replica of the same source). Serves every read; writes answer 403.",
    )
    replica.add_argument("--from", dest="source", required=True, metavar="URL")
    replica.add_argument(
        "--token", required=True, help="a token of the source that reads everything"
    )
    replica.add_argument(
        "--log-key", required=True, metavar="VKEY", help="the source's log vkey (GET /v1/audit/key)"
    )
    replica.add_argument(
        "--witness", action="append", default=[], metavar="VKEY", help="a witness's vkey"
    )
    replica.add_argument(
        "--quorum", type=int, default=None, help="cosignatures required (all witnesses by default)"
    )
    replica.add_argument("--host", default="127.0.0.1")
    replica.add_argument("--port", type=int, default=8001)
    replica.add_argument(
        "--interval", type=float, default=1.0, help="seconds between two looks at the source"
    )
    replica.add_argument(
        "--batch",
        type=int,
        default=1000,
        help="entries appended per atomic batch while catching up (default 1000)",
    )
    replica.add_argument(
        "--state",
        default=None,
        metavar="FILE",
        help="where the accepted checkpoint is kept (default: beside a SQLite store, "
        "else ./kpledger-replica.checkpoint)",
    )
    replica.set_defaults(run=_replica)

"""The kpledger command: serve the API, create tokens, load the demonstration world."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ledger.actors import ROLES
from ledger.protocol import PARTICIPANT_CODES
from ledger.store import StoreError

if TYPE_CHECKING:
    from ledger.application import Ledger

EXIT_STORE = 2

DESCRIPTION = """\
kpledger: the chain-of-custody ledger for rough diamonds under the Kimberley Process.

The store is chosen by KPLEDGER_DATABASE_URL:
  unset                                   the SQLite file ./kpledger.db
  sqlite:///relative.db                   a SQLite file (sqlite:////abs/path.db)
  postgresql://USER[:PASSWORD]@HOST[:PORT]/DBNAME
"""


def _open_ledger() -> Ledger:
    from api.settings import Settings
    from ledger.application import Ledger

    return Ledger.open(Settings().database_url)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from api.app import create_app
    from api.settings import Settings

    settings = Settings()
    app = create_app(settings)
    print(
        f"kpledger serving {app.state.ledger.store.description} on http://{args.host}:{args.port}"
    )
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


def _token_create(args: argparse.Namespace) -> int:
    if args.role == "authority" and not args.participant:
        print("kpledger: an authority token needs --participant XX", file=sys.stderr)
        return 1
    if args.role != "authority" and args.participant:
        print("kpledger: only an authority token takes --participant", file=sys.stderr)
        return 1
    if args.participant and args.participant not in PARTICIPANT_CODES:
        print(
            f"kpledger: {args.participant} is not an ISO 3166-1 alpha-2 code or EU", file=sys.stderr
        )
        return 1
    ledger = _open_ledger()
    token = ledger.create_token(args.role, args.name, args.participant)
    who = f"{args.role} of {args.participant}" if args.participant else args.role
    print(f"created a token for {args.name} ({who}); it is shown once, only its hash is stored:")
    print(token)
    return 0


def _demo(args: argparse.Namespace) -> int:
    from worlds.demo import load_demo, welcome_text

    ledger = _open_ledger()
    result = load_demo(ledger)
    print(welcome_text(result, f"http://{args.host}:{args.port}"), flush=True)
    return _serve(args)


def _generate(args: argparse.Namespace) -> int:
    from worlds.generate import generate

    ledger = _open_ledger()
    try:
        report = generate(
            ledger,
            lots=args.lots,
            participants=args.participants,
            years=args.years,
            seed=args.seed,
            batch_size=args.batch_size,
            operators=args.operators,
        )
    except ValueError as error:
        print(f"kpledger generate: {error}", file=sys.stderr)
        return 1
    print(
        f"kpledger generate: {report.documents:,} documents, {report.lots:,} lots "
        f"in {report.seconds:,.0f} s ({report.rate:,.0f} documents/s)"
    )
    return 0


def _verify(args: argparse.Namespace) -> int:
    from ledger.audit import verify

    ledger = _open_ledger()
    result = verify(ledger)
    print(f"ok: {'true' if result.ok else 'false'}")
    print(f"events: {result.events}")
    print(f"head: {result.head}")
    if result.ok:
        return 0
    print(f"first_bad_position: {result.first_bad_position}")
    print(f"reason: {result.reason}")
    return 1


def _export(args: argparse.Namespace) -> int:
    from ledger.audit import AuditError, export_log

    ledger = _open_ledger()
    try:
        with open(args.out, "w", encoding="utf-8") as out:
            written = export_log(ledger, out, progress=not args.quiet)
    except (AuditError, OSError) as error:
        print(f"kpledger: export failed: {error}", file=sys.stderr)
        return 1
    print(f"exported {written} entries to {args.out}")
    return 0


def _import(args: argparse.Namespace) -> int:
    from ledger.audit import AuditError, import_log

    ledger = _open_ledger()
    try:
        with open(args.file, encoding="utf-8") as lines:
            imported = import_log(ledger, lines, progress=not args.quiet)
    except (AuditError, OSError) as error:
        print(f"kpledger: import refused: {error}", file=sys.stderr)
        return 1
    print(f"imported {imported.events} entries; head {imported.head}")
    return 0


def _replay(args: argparse.Namespace) -> int:
    from api.settings import Settings
    from projections.replay import replay

    settings = Settings()
    ledger = _open_ledger()
    result = replay(
        ledger,
        args.as_of,
        value_discrepancy=settings.value_discrepancy,
        rapid_reexport_days=settings.rapid_reexport_days,
    )
    print(f"as_of: {result.position}")
    print(f"lots: {result.lots}")
    print(f"alerts: {result.alerts}")
    print(f"incremental: {result.incremental}")
    print(f"from_scratch: {result.from_scratch}")
    print(f"same: {'true' if result.same else 'false'}")
    return 0 if result.same else 1


def build_parser() -> argparse.ArgumentParser:
    """The command line's parser, with a help text for every command."""
    parser = argparse.ArgumentParser(
        prog="kpledger", description=DESCRIPTION, formatter_class=argparse.RawTextHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def with_address(command: argparse.ArgumentParser) -> None:
        command.add_argument("--host", default="127.0.0.1", help="address to listen on")
        command.add_argument("--port", type=int, default=8000, help="port to listen on")

    serve = commands.add_parser("serve", help="serve the HTTP API (default 127.0.0.1:8000)")
    with_address(serve)
    serve.set_defaults(run=_serve)

    token = commands.add_parser("token", help="manage API tokens")
    token_commands = token.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    create = token_commands.add_parser(
        "create",
        help="create an API token and print it on the last line",
        description="Creates an API token and prints it, alone, on the last line of stdout. "
        "Only its hash is stored: keep it safe.",
    )
    create.add_argument("--role", required=True, choices=ROLES, help="what the token may do")
    create.add_argument("--participant", metavar="XX", help="an authority's participant (ISO code)")
    create.add_argument("--name", required=True, help="who holds it (shown as recorded_by)")
    create.set_defaults(run=_token_create)

    demo = commands.add_parser(
        "demo", help="load the demonstration world (2005 Moscow Plenary), then serve"
    )
    with_address(demo)
    demo.set_defaults(run=_demo)

    generate = commands.add_parser(
        "generate", help="post a deterministic synthetic world, for benchmarks and large tests"
    )
    generate.add_argument(
        "--lots",
        type=int,
        required=True,
        help="how many lots to create (produced, split off or merged)",
    )
    generate.add_argument("--participants", type=int, default=30, help="how many participants")
    generate.add_argument("--years", type=int, default=3, help="how many years of trade")
    generate.add_argument("--seed", type=int, default=0, help="same seed, same world")
    generate.add_argument("--batch-size", type=int, default=1000, help="documents per append")
    generate.add_argument(
        "--operators",
        type=int,
        default=0,
        help="how many operators (companies) to license, in proportion to the trade",
    )
    generate.set_defaults(run=_generate)

    verify = commands.add_parser(
        "verify",
        help="recompute the hash chain over the stored log (exit 1 if it does not verify)",
        description="Recomputes the hash chain over every stored row and prints ok, events "
        "and head; when a stored row was altered, removed, swapped or inserted, prints the "
        "first entry that no longer verifies and exits with 1.",
    )
    verify.set_defaults(run=_verify)

    export = commands.add_parser("export", help="write the log as JSON Lines, one entry a line")
    export.add_argument("--out", required=True, metavar="FILE", help="the file to write")
    export.add_argument("--quiet", action="store_true", help="no progress bar on stderr")
    export.set_defaults(run=_export)

    load = commands.add_parser(
        "import",
        help="append an exported log to an empty store, reproducing every hash",
        description="Checks the file's hash chain, refusing a broken file, then replays its "
        "entries into the configured store, which must hold no entry yet. API tokens are "
        "not part of the log: create them again.",
    )
    load.add_argument("file", metavar="FILE", help="a file written by kpledger export")
    load.add_argument("--quiet", action="store_true", help="no progress bar on stderr")
    load.set_defaults(run=_import)

    replay = commands.add_parser(
        "replay",
        help="digest of the projections as of a position, followed and replayed from scratch",
        description="Prints the SHA-256 of every lot's view and provenance and of the alerts "
        "as of position P, once as a server following the log keeps them and once replayed "
        "from scratch; exits with 1 if they differ.",
    )
    replay.add_argument(
        "--as-of", type=_position, required=True, metavar="P", help="a log position (0 or more)"
    )
    replay.set_defaults(run=_replay)
    return parser


def _position(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a log position (0, 1, 2, ...)")
    return int(text)


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the kpledger command; a store that cannot be used is one line and exit code 2."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except StoreError as error:
        print(f"kpledger: {error}", file=sys.stderr)
        return EXIT_STORE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

"""The kpledger command: serve the API, create tokens, load the demonstration world."""

from __future__ import annotations

import argparse
import os
import socket
import sys
from collections.abc import Sequence
from importlib import metadata
from typing import TYPE_CHECKING, Any

from api.audit_cli import add_offline_audit_commands
from api.listen import listen, serve
from api.token_commands import add_token_commands, expiry
from ledger.actors import ROLES
from ledger.files import FORMATS as FILE_FORMATS
from ledger.protocol import PARTICIPANT_CODES
from ledger.signing import SigningError
from ledger.store import StoreError
from replica.cli import add_replica_command
from witness.cli import add_witness_commands

if TYPE_CHECKING:
    from ledger.application import Ledger

__all__ = ["DEFAULT_URL", "DESCRIPTION", "EXIT_STORE", "build_parser", "httpx_url", "main"]

EXIT_STORE = 2
DEFAULT_URL = "http://127.0.0.1:8000"

DESCRIPTION = """\
kpledger: the chain-of-custody ledger for rough diamonds under the Kimberley Process.

The store is chosen by KPLEDGER_DATABASE_URL:
  unset                                   the SQLite file ./kpledger.db
  sqlite:///relative.db                   a SQLite file (sqlite:////abs/path.db)
  postgresql://USER[:PASSWORD]@HOST[:PORT]/DBNAME
Checkpoints are signed with the Ed25519 key in the PEM file KPLEDGER_SIGNING_KEY
(default ./kpledger-signing.pem, created with mode 0600 when absent).
"""


def _open_ledger(*, create: bool = False) -> Ledger:
    """The configured store; unless `create` (serve, demo, generate, import, token create),
    a SQLite file that does not exist is a StoreError (one line, exit 2), not created."""
    from api.settings import Settings
    from ledger.application import Ledger
    from ledger.store import require_existing

    url = Settings().database_url
    if not create:
        require_existing(url)
    return Ledger.open(url)


def _serve(args: argparse.Namespace) -> int:
    from api.app import create_app
    from api.settings import Settings
    from ledger.signing import load_or_create
    from ledger.store import store_config

    settings = Settings()
    if args.workers > 1 and store_config(settings.database_url).kind != "postgresql":
        print(
            "kpledger: --workers above 1 needs PostgreSQL (KPLEDGER_DATABASE_URL="
            "postgresql://...); a SQLite store is served by one process",
            file=sys.stderr,
        )
        return 1
    if args.workers > 1 and settings.sole_writer:
        print(
            "kpledger: KPLEDGER_SOLE_WRITER=true promises one writing process; "
            "--workers above 1 would be several",
            file=sys.stderr,
        )
        return 1
    key = load_or_create(settings.signing_key)  # a bad key file stops us before serving
    listener = listen(args.host, args.port)
    if listener is None:
        return 1
    with listener:
        if args.workers > 1:
            return _run_workers(settings, listener, args)
        return serve(create_app(settings, signing_key=key), listener, args)


def _run_workers(settings: Any, listener: socket.socket, args: argparse.Namespace) -> int:
    """N processes (api/workers.py builds the app in each) answering on one socket."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from api.logs import configure

    ledger = _open_ledger(create=True)  # an unreachable store stops us here, in one line
    description = ledger.store.description
    ledger.close()
    configure(settings.log_format, settings.log_level)
    print(
        f"kpledger serving {description} on "
        f"http://{args.host}:{args.port} with {args.workers} worker processes",
        flush=True,
    )
    config = uvicorn.Config(
        "api.workers:app",
        factory=True,
        workers=args.workers,
        log_level=settings.log_level,
        log_config=None,
        access_log=False,
    )
    Multiprocess(config, sockets=[listener]).run()
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
    ledger = _open_ledger(create=True)
    token = ledger.create_token(args.role, args.name, args.participant, args.expires)
    who = f"{args.role} of {args.participant}" if args.participant else args.role
    if args.expires is not None:
        who += f", expires {args.expires.isoformat()}"
    print(f"created a token for {args.name} ({who}); it is shown once, only its hash is stored:")
    print(token)
    return 0


def _demo(args: argparse.Namespace) -> int:
    from api.app import create_app
    from api.settings import Settings
    from ledger.signing import load_or_create
    from worlds.demo import load_demo, welcome_text, write_demo_key
    from worlds.sanctions_lists import DEMO_LISTS

    settings = Settings()
    if settings.sanctions_lists is None:  # the demo's lists name its Accra exporter
        settings = settings.model_copy(update={"sanctions_lists": DEMO_LISTS})
    key = load_or_create(settings.signing_key)  # a bad key file stops us before serving
    listener = listen(args.host, args.port)
    if listener is None:
        return 1
    with listener:
        ledger = _open_ledger(create=True)
        result = load_demo(ledger)
        write_demo_key()
        print(welcome_text(result, f"http://{args.host}:{args.port}"), flush=True)
        return serve(create_app(settings, ledger, signing_key=key), listener, args)


def _generate(args: argparse.Namespace) -> int:
    from worlds.generate import generate

    ledger = _open_ledger(create=True)
    try:
        report = generate(
            ledger,
            lots=args.lots,
            participants=args.participants,
            years=args.years,
            seed=args.seed,
            batch_size=args.batch_size,
            progress=sys.stderr.isatty(),
            operators=args.operators,
            mixing=args.mixing,
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
    with _bar(args, ledger.head_position(), "verifying") as bar:
        result = verify(ledger, progress=bar.update)
    print(f"ok: {'true' if result.ok else 'false'}")
    print(f"events: {result.events}")
    print(f"head: {result.head}")
    signatures = result.signatures
    print(f"signatures.verified: {signatures.verified}")
    print(f"signatures.unsigned: {signatures.unsigned}")
    print(f"signatures.invalid: {signatures.invalid}")
    if result.ok:
        return 0
    if signatures.invalid:
        print(f"signatures.first_invalid_position: {signatures.first_invalid_position}")
    if result.first_bad_position is not None:
        print(f"first_bad_position: {result.first_bad_position}")
    print(f"reason: {result.reason}")
    return 1


def _backup(args: argparse.Namespace) -> int:
    from pathlib import Path

    from api.backup import backup_sqlite
    from api.settings import Settings
    from ledger.store import require_existing, store_config

    url = Settings().database_url
    require_existing(url)
    size = backup_sqlite(store_config(url), Path(args.out))
    print(f"backed up to {args.out} ({size} bytes); keep the signing key beside it")
    return 0


def _export(args: argparse.Namespace) -> int:
    from ledger.audit import AuditError, export_log

    ledger = _open_ledger()
    try:
        with open(args.out, "w", encoding="utf-8") as out:
            written = export_log(ledger, out, progress=_shows_progress(args))
    except (AuditError, OSError) as error:
        print(f"kpledger: export failed: {error}", file=sys.stderr)
        return 1
    print(f"exported {written} entries to {args.out}")
    return 0


def _import(args: argparse.Namespace) -> int:
    from ledger.audit import AuditError, import_log

    ledger = _open_ledger(create=True)
    try:
        with open(args.file, encoding="utf-8") as lines:
            imported = import_log(ledger, lines, progress=_shows_progress(args))
    except (AuditError, OSError) as error:
        print(f"kpledger: import refused: {error}", file=sys.stderr)
        return 1
    print(f"imported {imported.events} entries; head {imported.head}")
    return 0


def _openapi(args: argparse.Namespace) -> int:
    from api.app import generated_text

    sys.stdout.write(generated_text())
    return 0


def _key_create(args: argparse.Namespace) -> int:
    from ledger.signing import create_key_file

    try:
        key = create_key_file(args.out)
    except SigningError as error:
        print(f"kpledger: {error}", file=sys.stderr)
        return 1
    print(f"created an Ed25519 signing key in {args.out} (mode 0600); its key_id:")
    print(key.key_id)
    return 0


def _checkpoint(args: argparse.Namespace) -> int:
    import json

    from api.settings import Settings
    from ledger.signing import load_or_create
    from projections.proofs import LogTree

    path = Settings().signing_key
    if os.path.exists(path):  # a bad key file is its own one-line error, store or none
        load_or_create(path)
    ledger = _open_ledger()  # before a new key: nothing is created beside a missing store
    key = load_or_create(path)
    tree = LogTree()
    tree.follow(ledger)
    print(json.dumps(tree.checkpoint(key), indent=2))
    return 0


def _audit_check(args: argparse.Namespace) -> int:
    import json

    from api.settings import Settings
    from ledger.signing import load_key_file
    from projections.proofs import CheckpointError, LogTree, check_checkpoint, parse_checkpoint

    key = load_key_file(Settings().signing_key)  # nothing can be checked without it
    try:
        with open(args.checkpoint, encoding="utf-8") as file:
            checkpoint = parse_checkpoint(json.load(file))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        reason = error.strerror if isinstance(error, OSError) else "it is not JSON"
        print(
            f"kpledger: the checkpoint {args.checkpoint} cannot be read: {reason}", file=sys.stderr
        )
        return 1
    except CheckpointError as error:
        print(f"kpledger: {error}", file=sys.stderr)
        return 1
    tree = LogTree()
    tree.follow(_open_ledger())
    try:
        print(check_checkpoint(tree, checkpoint, key))
    except CheckpointError as error:
        print(f"kpledger: the log does not extend the checkpoint: {error}", file=sys.stderr)
        return 1
    return 0


def _replay(args: argparse.Namespace) -> int:
    from api.settings import Settings
    from projections.replay import replay

    settings = Settings()
    ledger = _open_ledger()
    with _bar(args, 2 * min(args.as_of, ledger.head_position()), "replaying twice") as bar:
        result = replay(
            ledger,
            args.as_of,
            value_discrepancy=settings.value_discrepancy,
            rapid_reexport_days=settings.rapid_reexport_days,
            deadlines=settings.deadlines,
            value_outliers=settings.value_outliers,
            progress=bar.update,
        )
    print(f"as_of: {result.position}")
    print(f"lots: {result.lots}")
    print(f"alerts: {result.alerts}")
    print(f"incremental: {result.incremental}")
    print(f"from_scratch: {result.from_scratch}")
    print(f"same: {'true' if result.same else 'false'}")
    return 0 if result.same else 1


def _post(args: argparse.Namespace) -> int:
    from pathlib import Path

    from api.upload import upload
    from ledger.errors import LedgerError
    from ledger.files import read_documents

    token = args.token or os.environ.get("KPLEDGER_TOKEN", "")
    if not token.strip():
        print("kpledger post: no token: pass --token T or set KPLEDGER_TOKEN", file=sys.stderr)
        return 1
    try:
        url = httpx_url(args.url)
    except ValueError as error:
        print(f"kpledger post: bad --url {args.url!r}: {error}", file=sys.stderr)
        return 1
    try:
        data = Path(args.file).read_bytes()
    except OSError as error:
        print(f"kpledger post: cannot read {args.file}: {error.strerror}", file=sys.stderr)
        return 1
    try:
        documents = read_documents(data, args.file, args.format)
    except LedgerError as error:
        print(f"kpledger post: {args.file}: {error.message}", file=sys.stderr)
        return 1
    if args.sign_key is not None:
        signed = _signed(args.file, documents, args.sign_key, "post")
        if signed is None:
            return 1
        documents = signed
    return upload(
        documents,
        url=url,
        token=token.strip(),
        batch_size=args.batch_size,
        file_name=args.file,
        progress=_shows_progress(args),
    )


def _signed(file: str, documents: Any, key_file: str, command: str) -> Any:
    """The documents in normal form, signed by the key in `key_file`; None (and one line
    on stderr) when the key or a document is unusable."""
    from ledger.errors import LedgerError
    from ledger.sender import load_authority_key, sign_documents

    try:
        return sign_documents(documents, load_authority_key(key_file))
    except SigningError as error:
        print(f"kpledger {command}: {error}", file=sys.stderr)
    except LedgerError as error:
        print(f"kpledger {command}: {file}: {error.message}", file=sys.stderr)
    return None


def _sign(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ledger.errors import LedgerError
    from ledger.files import read_documents
    from ledger.sender import write_json_lines

    try:
        data = Path(args.file).read_bytes()
    except OSError as error:
        print(f"kpledger sign: cannot read {args.file}: {error.strerror}", file=sys.stderr)
        return 1
    try:
        documents = read_documents(data, args.file, args.format)
    except LedgerError as error:
        print(f"kpledger sign: {args.file}: {error.message}", file=sys.stderr)
        return 1
    signed = _signed(args.file, documents, args.key, "sign")
    if signed is None:
        return 1
    if args.out is None:
        write_json_lines(signed, sys.stdout)
        return 0
    try:
        with open(args.out, "w", encoding="utf-8") as out:
            written = write_json_lines(signed, out)
    except OSError as error:
        print(f"kpledger sign: cannot write {args.out}: {error.strerror}", file=sys.stderr)
        return 1
    print(f"kpledger sign: {written} documents signed into {args.out}", file=sys.stderr)
    return 0


def _key_public(args: argparse.Namespace) -> int:
    from ledger.signing import load_key_file

    try:
        key = load_key_file(args.keyfile)
    except SigningError as error:
        print(f"kpledger: {error}", file=sys.stderr)
        return 1
    print(f"public_key: {key.public_key}")
    print(f"key_id: {key.key_id}")
    return 0


def httpx_url(text: str) -> str:
    """`text` if it is an http(s) URL with a host; ValueError otherwise."""
    import httpx

    try:
        url = httpx.URL(text)
    except httpx.InvalidURL as error:
        raise ValueError(str(error)) from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError("it must look like http://HOST:PORT")
    return text


def _shows_progress(args: argparse.Namespace) -> bool:
    return not getattr(args, "quiet", False) and sys.stderr.isatty()


def _bar(args: argparse.Namespace, total: int, what: str) -> Any:
    from tqdm import tqdm

    return tqdm(
        total=total, desc=what, unit="entries", file=sys.stderr, disable=not _shows_progress(args)
    )


def _batch_size(text: str) -> int:
    from ledger.documents import MAX_BATCH

    if not text.isdigit() or not 1 <= int(text) <= MAX_BATCH:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number from 1 to {MAX_BATCH}")
    return int(text)


def _version() -> str:
    try:
        return metadata.version("kpledger")
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"


class _Help(argparse.ArgumentDefaultsHelpFormatter):
    """Every option's default, when it has one, at the end of its help."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.required or any(action.default is v for v in (None, False, argparse.SUPPRESS)):
            return action.help
        return super()._get_help_string(action)


class _MainHelp(_Help, argparse.RawDescriptionHelpFormatter):
    """The main help: its description as written."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose subcommands' help shows defaults too."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Help)
        super().__init__(*args, **kwargs)


def build_parser() -> argparse.ArgumentParser:
    """The command line's parser, with a help text for every command."""
    parser = _Parser(prog="kpledger", description=DESCRIPTION, formatter_class=_MainHelp)
    parser.add_argument("--version", action="version", version=f"kpledger {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def with_address(command: argparse.ArgumentParser) -> None:
        command.add_argument("--host", default="127.0.0.1", help="address to listen on")
        command.add_argument("--port", type=_port, default=8000, help="port to listen on")

    serve = commands.add_parser("serve", help="serve the HTTP API (default 127.0.0.1:8000)")
    with_address(serve)
    serve.add_argument(
        "--workers",
        type=_workers,
        default=1,
        metavar="N",
        help="server processes on the one address (above 1: PostgreSQL only); each "
        "catches up with the log before every read, so read-your-writes holds",
    )
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
    create.add_argument(
        "--expires",
        type=expiry,
        metavar="DATE",
        help="refused from DATE on (YYYY-MM-DD: 00:00 UTC; or a date-time with an offset)",
    )
    create.set_defaults(run=_token_create)
    add_token_commands(token_commands, _open_ledger)

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
    generate.add_argument(
        "--mixing",
        choices=("none", "deep"),
        default="none",
        help="deep: half the lots are then split, merged and re-exported among the hubs "
        "AE, EU and IN, for lineage 20 deep and hundreds of ancestors",
    )
    generate.set_defaults(run=_generate)

    verify = commands.add_parser(
        "verify",
        help="recompute the hash chain over the stored log (exit 1 if it does not verify)",
        description="Recomputes the hash chain over every stored row and prints ok, events "
        "and head; when a stored row was altered, removed, swapped or inserted, prints the "
        "first entry that no longer verifies and exits with 1.",
    )
    verify.add_argument("--quiet", action="store_true", help="no progress bar on stderr")
    verify.set_defaults(run=_verify)

    backup = commands.add_parser(
        "backup",
        help="a consistent copy of a live SQLite store (PostgreSQL: pg_dump, see README)",
        description="Copies the SQLite store, recent writes in its WAL included, with "
        "SQLite's online backup API while servers keep running; FILE must not exist. "
        "Restore by stopping the servers and putting FILE in the database's place.",
    )
    backup.add_argument("--out", required=True, metavar="FILE", help="the new backup file")
    backup.set_defaults(run=_backup)

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
    replay.add_argument("--quiet", action="store_true", help="no progress bar on stderr")
    replay.set_defaults(run=_replay)

    post = commands.add_parser(
        "post",
        help="send a file of documents (JSON, JSON Lines or CSV) to a running service",
        description="Sends the documents of FILE to POST /v1/events in batches, printing one "
        'line per batch and a summary. FILE is JSON (one document, {"events": [...]} or a '
        "list), JSON Lines (one document a line) or CSV (a header row, one column per field: "
        "exporter.name, location.lat; lists separated by ';'; lot.split's into as "
        "LOT:CARATS:VALUE;LOT:CARATS:VALUE). Documents accepted before are skipped, so posting "
        "a file again is safe. Exit 0: all accepted; 1: a batch was refused (its error, line "
        "and the count accepted before it are printed) or FILE is unusable; 2: the service "
        "could not be reached.",
    )
    post.add_argument("file", metavar="FILE", help="the file of documents")
    post.add_argument(
        "--token",
        metavar="T",
        help="the API token (default: the KPLEDGER_TOKEN environment variable)",
    )
    post.add_argument(
        "--url",
        metavar="U",
        default=os.environ.get("KPLEDGER_URL", DEFAULT_URL),
        help="the service (KPLEDGER_URL when set)",
    )
    post.add_argument(
        "--batch-size", type=_batch_size, default=10_000, metavar="N", help="documents per POST"
    )
    post.add_argument(
        "--format", choices=FILE_FORMATS, default="auto", help="auto: by suffix, then by content"
    )
    post.add_argument(
        "--sign-key",
        metavar="KEYFILE",
        help="sign each document's normal form with this authority key (PEM) as it is sent",
    )
    post.add_argument("--quiet", action="store_true", help="no progress bar on stderr")
    post.set_defaults(run=_post)
    sign = commands.add_parser(
        "sign",
        help="sign a file of documents with an authority key, offline (JSON Lines out)",
        description="Reads FILE as kpledger post does (JSON, JSON Lines or CSV), checks each "
        "document as the ledger will, and writes it in its normal form (what GET /v1/events "
        "serves) with its signature: the base64 Ed25519 signature, by the key in KEYFILE, of "
        "the RFC 8785 JSON of the normal form without signature. Writes JSON Lines to OUT "
        "(default stdout); needs no service. Exit 1 when FILE or KEYFILE is unusable.",
    )
    sign.add_argument("file", metavar="FILE", help="the file of documents")
    sign.add_argument("--key", required=True, metavar="KEYFILE", help="the authority's PEM key")
    sign.add_argument("--out", metavar="OUT", help="the JSON Lines file to write (default stdout)")
    sign.add_argument(
        "--format", choices=FILE_FORMATS, default="auto", help="auto: by suffix, then by content"
    )
    sign.set_defaults(run=_sign)
    spec = commands.add_parser(
        "openapi",
        help="print the API's OpenAPI document (JSON), as GET /openapi.json serves it",
        description="Prints the OpenAPI 3.1 document of the HTTP API, built from the "
        "application without opening the configured store: kpledger openapi > "
        "docs/openapi.json refreshes the committed API reference.",
    )
    spec.set_defaults(run=_openapi)
    key = commands.add_parser(
        "key", help="manage Ed25519 keys: the service's checkpoint key, authorities' keys"
    )
    key_commands = key.add_subparsers(dest="key_command", required=True, metavar="ACTION")
    key_create = key_commands.add_parser(
        "create",
        help="create an Ed25519 signing key in a new PEM file (mode 0600)",
        description="Creates an Ed25519 key in FILE (PKCS #8 PEM, mode 0600) and prints its "
        "key_id. An existing FILE is never overwritten (exit 1). Name it in "
        "KPLEDGER_SIGNING_KEY for kpledger serve to sign checkpoints with it.",
    )
    key_create.add_argument("--out", required=True, metavar="FILE", help="the file to create")
    key_create.set_defaults(run=_key_create)
    key_public = key_commands.add_parser(
        "public",
        help="print a key's base64 public key and key id",
        description="Prints the base64 of the 32 raw bytes of the public key in KEYFILE (what "
        "authority_key.registered names as public_key) and its key id (lowercase hex SHA-256 "
        "of those bytes). A participant's authorities sign with keys made by kpledger key "
        "create, as the service's checkpoint key is.",
    )
    key_public.add_argument("keyfile", metavar="KEYFILE", help="the PEM key file")
    key_public.set_defaults(run=_key_public)

    checkpoint = commands.add_parser(
        "checkpoint",
        help="print the log's signed checkpoint (as GET /v1/audit/checkpoint) as JSON",
        description="Reads the whole log from the store and prints its Merkle tree head, "
        "signed with the key in KPLEDGER_SIGNING_KEY (default ./kpledger-signing.pem, created "
        "when absent), as GET /v1/audit/checkpoint answers it.",
    )
    checkpoint.set_defaults(run=_checkpoint)

    audit = commands.add_parser("audit", help="check the log against a saved checkpoint")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    check = audit_commands.add_parser(
        "check",
        help="exit 0 if the store's log extends a saved checkpoint, 1 with the reason if not",
        description="Checks that the checkpoint in FILE is signed by the key in "
        "KPLEDGER_SIGNING_KEY (default ./kpledger-signing.pem), that the store's log holds at "
        "least its tree_size entries, and that the log's first tree_size entries have its "
        "root. Exits 0 if so, 1 with one line giving the reason if not (a rewritten chain "
        "has another root), 2 if the key file or the store cannot be used.",
    )
    check.add_argument(
        "--checkpoint",
        required=True,
        metavar="FILE",
        help="a checkpoint saved earlier (from GET /v1/audit/checkpoint or kpledger checkpoint)",
    )
    check.set_defaults(run=_audit_check)
    add_offline_audit_commands(audit_commands)  # verify-proof, verify-log
    add_witness_commands(commands)  # witness serve, witness vkey
    add_replica_command(commands)  # replica --from URL
    return parser


def _port(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or not 0 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a TCP port (0 to 65535)")
    return int(text)


def _workers(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 64:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of processes from 1 to 64")
    return int(text)


def _position(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a log position (0, 1, 2, ...)")
    return int(text)


def _settings_problem() -> str | None:
    """What is wrong with the KPLEDGER_ settings, in one line, or None."""
    from pydantic import ValidationError

    from api.settings import Settings, settings_problem

    try:
        Settings()
    except ValidationError as error:
        return settings_problem(error)
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the kpledger command; a bad setting or a store that cannot be used is one line
    and exit code 2."""
    args = build_parser().parse_args(argv)
    problem = _settings_problem()
    if problem is not None:
        print(f"kpledger: {problem}", file=sys.stderr)
        return EXIT_STORE
    try:
        return int(args.run(args))
    except (StoreError, SigningError) as error:
        print(f"kpledger: {error}", file=sys.stderr)
        return EXIT_STORE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

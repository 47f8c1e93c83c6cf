"""`kpledger witness serve` and `kpledger witness vkey`."""

from __future__ import annotations

import argparse
import sys

__all__ = ["add_witness_commands"]

DEFAULT_PORT = 8100


def _signer(args: argparse.Namespace) -> object:
    from ledger.note import COSIGNATURE_V1, NoteSigner
    from ledger.signing import load_or_create

    return NoteSigner(args.name, load_or_create(args.key), COSIGNATURE_V1)


def _vkey(args: argparse.Namespace) -> int:
    from ledger.note import NoteError, NoteSigner

    try:
        signer = _signer(args)
    except NoteError as error:
        print(f"kpledger witness: {error}", file=sys.stderr)
        return 2
    assert isinstance(signer, NoteSigner)
    print(signer.verifier.vkey)
    return 0


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from api.listen import listen
    from ledger.note import ED25519, NoteError, NoteSigner, parse_vkey
    from witness.core import WitnessCore
    from witness.server import create_witness_app
    from witness.state import StateError, StateFolder

    try:
        signer = _signer(args)
        logs = [parse_vkey(vkey) for vkey in args.log]
    except NoteError as error:
        print(f"kpledger witness: {error}", file=sys.stderr)
        return 2
    assert isinstance(signer, NoteSigner)
    if any(log.type != ED25519 for log in logs):
        print("kpledger witness: a --log vkey is an Ed25519 key (type 0x01)", file=sys.stderr)
        return 2
    try:
        state = StateFolder(args.state)
        core = WitnessCore(signer, logs, state)
    except StateError as error:
        print(f"kpledger witness: {error}", file=sys.stderr)
        return 2
    listener = listen(args.host, args.port)
    if listener is None:
        return 1
    print(
        f"kpledger witness {signer.name} serving on http://{args.host}:{args.port} for "
        f"{', '.join(core.origins())}; state in {args.state}",
        flush=True,
    )
    print(f"its vkey: {signer.verifier.vkey}", flush=True)
    config = uvicorn.Config(create_witness_app(core), log_level="warning", access_log=False)
    with listener:
        uvicorn.Server(config).run(sockets=[listener])
    state.close()
    return 0


def add_witness_commands(commands: argparse._SubParsersAction) -> None:
    """Adds `witness serve` and `witness vkey` to the kpledger command."""
    witness = commands.add_parser(
        "witness", help="run a c2sp.org/tlog-witness that cosigns a kpledger log's checkpoints"
    )
    actions = witness.add_subparsers(dest="witness_command", required=True, metavar="ACTION")

    def with_identity(command: argparse.ArgumentParser) -> None:
        command.add_argument(
            "--key",
            required=True,
            metavar="KEYFILE",
            help="the witness's Ed25519 PEM key (created, mode 0600, when absent)",
        )
        command.add_argument(
            "--name", required=True, help="the witness's key name, e.g. witness.example.org/w1"
        )

    serve = actions.add_parser(
        "serve",
        help="cosign the checkpoints of the logs named by --log, consistent ones only",
        description="Serves POST /add-checkpoint (c2sp.org/tlog-witness): cosigns a "
        "checkpoint only if a trusted log key's signature verifies and it is consistent with "
        "the last checkpoint cosigned for that origin, which is written durably before the "
        "answer. GET /<sha256 of origin>/checkpoint serves that last checkpoint.",
    )
    with_identity(serve)
    serve.add_argument(
        "--log",
        action="append",
        required=True,
        metavar="VKEY",
        help="a log's verifier key (GET /v1/audit/key's vkey); its name is the log's origin",
    )
    serve.add_argument(
        "--state", default="kpledger-witness-state", metavar="DIR", help="the state folder"
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT, help="port to listen on")
    serve.set_defaults(run=_serve)

    vkey = actions.add_parser(
        "vkey",
        help="print the witness's verifier key (a line of KPLEDGER_WITNESSES wants it)",
    )
    with_identity(vkey)
    vkey.set_defaults(run=_vkey)

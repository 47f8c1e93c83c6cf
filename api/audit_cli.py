"""`kpledger audit verify-proof` and `kpledger audit verify-log`: offline, no store, no
service; what a customs officer or a civil-society auditor runs."""

from __future__ import annotations

import argparse
import json
import sys

__all__ = ["add_offline_audit_commands"]


def _verify_proof(args: argparse.Namespace) -> int:
    from ledger.note import NoteError, parse_vkey
    from ledger.tlogproof import ProofError, check_proof

    try:
        log_key = parse_vkey(args.log_key)
        witnesses = [parse_vkey(vkey) for vkey in args.witness or []]
        with open(args.file, "rb") as file:
            data = file.read()
        verified = check_proof(data, log_key, witnesses, args.quorum)
    except OSError as error:
        print(f"kpledger: {args.file} cannot be read: {error.strerror}", file=sys.stderr)
        return 1
    except (NoteError, ProofError) as error:
        print(f"kpledger: the proof does not verify: {error}", file=sys.stderr)
        return 1
    checkpoint = verified.proof.checkpoint
    print(json.dumps(verified.entry["document"], indent=2, ensure_ascii=False))
    print(
        f"ok: entry {verified.proof.index} of {checkpoint.origin} at size {checkpoint.size}, "
        f"cosigned by {', '.join(verified.cosigned_by) or 'no witness'}",
        file=sys.stderr,
    )
    return 0


def _verify_log(args: argparse.Namespace) -> int:
    from ledger.note import NoteError, parse_vkey
    from ledger.offline import OfflineError, check_exported_log

    try:
        log_key = parse_vkey(args.log_key) if args.log_key else None
        checkpoint = None
        if args.checkpoint:
            with open(args.checkpoint, encoding="utf-8") as file:
                checkpoint = file.read()
        with open(args.log, encoding="utf-8") as lines:
            checked = check_exported_log(lines, checkpoint, log_key)
    except (OSError, UnicodeDecodeError) as error:
        print(f"kpledger: cannot read: {error}", file=sys.stderr)
        return 1
    except (NoteError, OfflineError) as error:
        print(f"kpledger: the log does not verify: {error}", file=sys.stderr)
        return 1
    print(f"ok: {checked.entries} entries, head {checked.head}, root {checked.root.hex()}")
    if checked.signatures is not None:
        print(f"signatures: {json.dumps(checked.signatures)}")
    if checked.checkpoint_size is not None:
        signed = "signature checked" if log_key else "signature not checked (no --log-key)"
        print(f"the checkpoint at size {checked.checkpoint_size} has the log's root ({signed})")
    return 0


def _quorum(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of witnesses")
    return int(text)


def add_offline_audit_commands(actions: argparse._SubParsersAction) -> None:
    """Adds `audit verify-proof` and `audit verify-log`."""
    proof = actions.add_parser(
        "verify-proof",
        help="check a certificate's tlog-proof offline (exit 0 and the document, or 1)",
        description="Checks a c2sp.org/tlog-proof (GET /v1/certificates/{id}/proof) with no "
        "network: the checkpoint's signature by the log's vkey, at least K cosignatures of "
        "the witnesses given (all of them by default), and that the entry in its extra line "
        "is included in the checkpoint's tree. Prints the entry's document on stdout and "
        "exits 0 when all hold; exits 1 with the reason otherwise.",
    )
    proof.add_argument("file", metavar="FILE", help="the proof (a .tlog-proof file)")
    proof.add_argument("--log-key", required=True, metavar="VKEY", help="the log's vkey")
    proof.add_argument(
        "--witness", action="append", metavar="VKEY", help="a witness's vkey (repeatable)"
    )
    proof.add_argument(
        "--quorum", type=_quorum, metavar="K", help="cosignatures needed (default: every witness)"
    )
    proof.set_defaults(run=_verify_proof)
    log = actions.add_parser(
        "verify-log",
        help="check an exported log offline: chain, tree, checkpoint (exit 0 or 1)",
        description="Checks a file written by kpledger export --out with no store and no "
        "service: the hash chain, and with --checkpoint (a checkpoint as GET /checkpoint "
        "serves it) that the log's Merkle tree at its size has its root, its signature "
        "checked against --log-key. Exits 0 when all hold, 1 with the reason otherwise.",
    )
    log.add_argument("log", metavar="LOG.jsonl", help="the exported log")
    log.add_argument("--checkpoint", metavar="FILE", help="a checkpoint saved from the log")
    log.add_argument("--log-key", metavar="VKEY", help="the log's vkey")
    log.set_defaults(run=_verify_log)

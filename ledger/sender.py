"""The sender's side of signatures: a file's documents in normal form, each signed.

`kpledger sign` and `kpledger post --sign-key` read a file as `kpledger post` does
(`ledger.files`), validate each document as the ledger will, and sign its normal form
(`ledger.normal`) with an authority's Ed25519 key, kept in a PEM file as
`kpledger key create` writes it (`ledger.signing`). No service is needed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from typing import IO

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.documents import parse_document
from ledger.errors import LedgerError
from ledger.files import Sourced
from ledger.keys import sign_normal_form
from ledger.normal import normal_form
from ledger.signing import load_key_file

__all__ = ["load_authority_key", "sign_documents", "write_json_lines"]


def load_authority_key(path: str | os.PathLike[str]) -> Ed25519PrivateKey:
    """The Ed25519 private key in a PEM file; `SigningError` if it cannot be used."""
    return load_key_file(path).private


def sign_documents(documents: Sequence[Sourced], key: Ed25519PrivateKey) -> list[Sourced]:
    """Each document in normal form, signed by `key` (any signature it had replaced);
    `LedgerError("invalid")` naming the line of the first document the ledger would refuse
    as malformed."""
    signed = []
    for index, sourced in enumerate(documents):
        try:
            document = parse_document(sourced.document, index)
        except LedgerError as error:
            raise LedgerError(
                "invalid",
                f"line {sourced.line}: {error.message}",
                index=index,
                detail={**(error.detail or {}), "line": sourced.line},
            ) from None
        signed.append(Sourced(sourced.line, sign_normal_form(normal_form(document), key)))
    return signed


def write_json_lines(documents: Iterable[Sourced], out: IO[str]) -> int:
    """Writes the documents as JSON Lines (UTF-8, one a line); returns how many."""
    written = 0
    for sourced in documents:
        out.write(json.dumps(sourced.document, ensure_ascii=False) + "\n")
        written += 1
    return written

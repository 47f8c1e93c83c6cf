"""Routes: the audit of the stored log's hash chain, and proofs for auditors."""

from __future__ import annotations

import threading
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request

from api.auth import CurrentActor, require_reader_of_everything
from api.deps import LedgerDep, ReadsDep, SettingsDep
from api.openapi import errors
from api.schemas import Checkpoint, ConsistencyProof, InclusionProof, PublicKey, Verification
from ledger.audit import verify
from ledger.note import NoteSigner
from ledger.signing import SigningKey, load_or_create

__all__ = ["router"]

router = APIRouter(prefix="/v1/audit", tags=["audit"])

_key_lock = threading.Lock()


def signing_key(app: FastAPI) -> SigningKey:
    """The app's checkpoint key: given to `create_app` (as `kpledger serve` does, having
    read it before serving), or else read or created from `settings.signing_key` once."""
    with _key_lock:
        if app.state.signing_key is None:
            app.state.signing_key = load_or_create(app.state.settings.signing_key)
        key: SigningKey = app.state.signing_key
        return key


def _checkpoint_key(request: Request) -> SigningKey:
    return signing_key(request.app)


CheckpointKey = Annotated[SigningKey, Depends(_checkpoint_key)]
"""The key that signs checkpoints (`signing_key`): read in a worker thread, as it may be
read from its file or created the first time."""


@router.get(
    "/verify",
    response_model=Verification,
    response_model_exclude_unset=True,  # `first_bad_position` and `reason` only when not ok
    responses=errors(403, 503),
)
def get_verify(ledger: LedgerDep, actor: CurrentActor) -> dict[str, Any]:
    """Recomputes the hash chain over every stored row: `{ok, events, head}`.

    When a stored row was altered, removed, reordered or inserted, `ok` is false,
    `first_bad_position` names the first entry that no longer verifies and
    `reason` says why. Auditors, investigators and the secretariat may ask.
    """
    require_reader_of_everything(actor)
    return verify(ledger).to_json()


@router.get("/key", response_model=PublicKey)
def get_key(key: CheckpointKey, settings: SettingsDep) -> dict[str, str]:
    """The public key that signs checkpoints: `{algorithm, public_key, key_id, vkey}`, `vkey`
    its c2sp.org/signed-note verifier key `<origin>+<key hash>+<base64>`; no token."""
    vkey = NoteSigner(settings.log_origin, key).verifier.vkey
    return {**key.describe(), "vkey": vkey}


@router.get("/checkpoint", response_model=Checkpoint, responses=errors(403, 503))
def get_audit_checkpoint(
    reads: ReadsDep, actor: CurrentActor, key: CheckpointKey
) -> dict[str, Any]:
    """The log's Merkle tree head, signed: `{tree_size, root, note, signature, key_id}`.

    `note` is `kpledger\\n<tree_size>\\n<root in base64>\\n` and `signature` the base64
    Ed25519 signature of its UTF-8 bytes; the root of an empty log is SHA-256 of nothing.
    """
    require_reader_of_everything(actor)
    return reads.with_proofs(lambda tree: tree.checkpoint(key))


@router.get("/proof/inclusion", response_model=InclusionProof, responses=errors(403, 404, 503))
def get_inclusion(
    reads: ReadsDep,
    actor: CurrentActor,
    position: Annotated[int, Query(description="the log position of the entry")],
    tree_size: Annotated[
        int | None, Query(ge=1, description="the tree's size; the log's size by default")
    ] = None,
) -> dict[str, Any]:
    """The audit path (RFC 9162, 2.1.3) of the entry at `position` in the tree of
    `tree_size` entries: `{position, leaf_index, tree_size, leaf_hash, root, path}`.

    404 when the entry is not among the first `tree_size`; 422 for a size beyond the log's.
    """
    require_reader_of_everything(actor)
    return reads.with_proofs(lambda tree: tree.inclusion(position, tree_size))


@router.get("/proof/consistency", response_model=ConsistencyProof, responses=errors(403, 503))
def get_consistency(
    reads: ReadsDep,
    actor: CurrentActor,
    from_size: Annotated[int, Query(ge=1, description="the earlier tree's size")],
    to_size: Annotated[
        int | None, Query(ge=1, description="the later tree's size; the log's size by default")
    ] = None,
) -> dict[str, Any]:
    """The consistency proof (RFC 9162, 2.1.4) from the tree of `from_size` entries to
    that of `to_size`: `{from_size, to_size, from_root, to_root, path}`; 0 < from_size
    <= to_size <= the log's size, otherwise 422.
    """
    require_reader_of_everything(actor)
    return reads.with_proofs(lambda tree: tree.consistency(from_size, to_size))

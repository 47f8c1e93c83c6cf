"""The witnessed log over HTTP: `GET /checkpoint`, a certificate's tlog-proof, the
witnesses' metrics, and the `Witnessing` of an application (`ledger.witnessing`).

`GET /checkpoint` serves the newest checkpoint with its quorum of cosignatures (with no
witness configured, the tree signed when asked), or 503 with `Retry-After` while there
is none. `GET /v1/certificates/{id}/proof` is a c2sp.org/tlog-proof@v1 of the
certificate's `export.certified` entry in that checkpoint, its `extra` the entry's leaf.
"""

from __future__ import annotations

import base64
import math
import threading
from bisect import bisect_left
from collections.abc import Iterator

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from api.auth import CurrentActor
from api.openapi import errors
from api.routes.audit import signing_key
from api.routes.certificates import _require_party
from ledger.errors import LedgerError
from ledger.merkle import entry_leaf
from ledger.note import NoteSigner
from ledger.tlogproof import PROOF_HEADER
from ledger.witnessing import Witnessing, read_witnesses
from projections.proofs import LogTree
from projections.reads import Reads

__all__ = ["PROOF_HEADER", "mount_witnessed_log", "proof_text", "witnessing_of"]

CHECKPOINT_CACHE = "public, max-age=10"
_TEXT = "text/plain; charset=utf-8"
_lock = threading.Lock()

router = APIRouter(tags=["transparency log"])


def witnessing_of(app: FastAPI) -> Witnessing:
    """The application's `Witnessing`, made on first use from its settings and key."""
    with _lock:
        found: Witnessing | None = getattr(app.state, "witnessing", None)
        if found is not None:
            return found
        settings = app.state.settings
        reads: Reads = app.state.reads
        witnesses = read_witnesses(settings.witnesses) if settings.witnesses else []
        witnessing = Witnessing(
            NoteSigner(settings.log_origin, signing_key(app)),
            witnesses,
            lambda: reads.with_proofs(lambda tree: (tree.size, tree.tree.root())),
            lambda old, new: reads.with_proofs(lambda tree: tree.tree.consistency_proof(old, new)),
            quorum=settings.witness_quorum,
            interval=settings.checkpoint_interval,
            held=lambda: reads.proofs.size,  # for /health: the tree as held, no store asked
        )
        app.state.witnessing = witnessing
        return witnessing


def _not_yet(witnessing: Witnessing, what: str) -> JSONResponse:
    problem = LedgerError(
        "unavailable",
        f"{what}: no checkpoint has {witnessing.quorum} cosignatures of "
        f"{len(witnessing.witnesses)} witnesses yet",
    )
    retry = max(1, math.ceil(witnessing.interval))
    return JSONResponse(problem.to_body(), status_code=503, headers={"Retry-After": str(retry)})


@router.get(
    "/checkpoint",
    response_class=Response,
    responses={
        200: {
            "content": {"text/plain": {"schema": {"type": "string"}}},
            "description": "the checkpoint, its log signature and cosignatures",
        },
        **errors(503),
    },
)
def get_checkpoint(request: Request) -> Response:
    """The log's newest checkpoint (c2sp.org/tlog-checkpoint) signed by the log (key name
    the origin) and cosigned by at least the quorum of configured witnesses; with no
    witness configured, the tree as it stands, signed. 503 with Retry-After while no
    checkpoint has its quorum. No token."""
    witnessing = witnessing_of(request.app)
    published = witnessing.published()
    if published is None:
        return _not_yet(witnessing, "no cosigned checkpoint")
    return Response(
        witnessing.served_note(published),
        media_type=_TEXT,
        headers={"Cache-Control": CHECKPOINT_CACHE},
    )


def proof_text(leaf: bytes, index: int, path: list[bytes], checkpoint: str) -> str:
    """A c2sp.org/tlog-proof@v1: header, `extra` (the leaf), `index`, the inclusion proof's
    hashes from the leaf's sibling up, a blank line, the checkpoint verbatim."""
    lines = [PROOF_HEADER, f"extra {base64.b64encode(leaf).decode('ascii')}", f"index {index}"]
    lines += [base64.b64encode(node).decode("ascii") for node in path]
    return "\n".join(lines) + "\n\n" + checkpoint


@router.get(
    "/v1/certificates/{certificate_id}/proof",
    response_class=Response,
    responses={
        200: {
            "content": {"text/plain": {"schema": {"type": "string"}}},
            "description": "the tlog-proof of the certificate's export.certified entry",
        },
        **errors(403, 404, 503),
    },
)
def get_certificate_proof(certificate_id: str, request: Request, actor: CurrentActor) -> Response:
    """A c2sp.org/tlog-proof@v1 of the certificate's `export.certified` entry: `extra` is
    the entry's leaf (its RFC 8785 JSON as `GET /v1/events` serves it) in base64, and the
    checkpoint is the one `GET /checkpoint` serves. Who may read the certificate may read
    it; 503 with Retry-After while no checkpoint with its quorum holds the entry."""
    reads: Reads = request.app.state.reads
    _require_party(reads, actor, certificate_id)
    certificate = reads.read(lambda view: view.custody.certificates.get(certificate_id))
    if certificate is None:
        raise LedgerError("not_found", f"no certificate {certificate_id!r}")
    position = certificate.position
    witnessing = witnessing_of(request.app)
    published = witnessing.published()
    if published is None:
        return _not_yet(witnessing, f"certificate {certificate_id}")

    def locate(tree: LogTree) -> tuple[int, list[bytes]] | None:
        size = published.checkpoint.size
        index = bisect_left(tree.positions, position, 0, size)
        if index == size or tree.positions[index] != position:
            return None
        return index, tree.tree.inclusion_proof(index, size)

    located = reads.with_proofs(locate)
    if located is None:
        return _not_yet(witnessing, f"certificate {certificate_id} is not in a cosigned checkpoint")
    index, path = located
    entry = reads.entries([position])[position]
    text = proof_text(entry_leaf(entry), index, path, witnessing.served_note(published))
    return Response(text, media_type=_TEXT, headers={"Cache-Control": "private, max-age=10"})


class _WitnessCollector(Collector):
    """Per witness: the tree size it last cosigned and how long ago; the published
    checkpoint's size and age."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def collect(self) -> Iterator[Metric]:
        witnessing = witnessing_of(self.app)
        sizes = GaugeMetricFamily(
            "kpledger_witness_cosigned_tree_size",
            "tree size of the checkpoint each witness last cosigned",
            labels=["witness"],
        )
        ages = GaugeMetricFamily(
            "kpledger_witness_cosignature_age_seconds",
            "seconds since each witness last cosigned a checkpoint",
            labels=["witness"],
        )
        failures = GaugeMetricFamily(
            "kpledger_witness_consecutive_failures",
            "add-checkpoint calls to each witness that failed since its last cosignature",
            labels=["witness"],
        )
        for name, size, age, failed in witnessing.witness_states():
            if size is not None and age is not None:
                sizes.add_metric([name], size)
                ages.add_metric([name], age)
            failures.add_metric([name], failed)
        yield sizes
        yield ages
        yield failures


def mount_witnessed_log(app: FastAPI) -> None:
    """Adds `GET /checkpoint`, the certificates' proofs and the witnesses' metrics."""
    app.include_router(router)
    metrics = getattr(app.state, "metrics", None)
    if metrics is not None:
        metrics.registry.register(_WitnessCollector(app))

"""The replica's HTTP service: the normal application over the replica's store, read-only.

`create_replica_app` builds `api.app.create_app` over the replica's ledger and wraps it:

- a write (any method but GET, HEAD, OPTIONS) answers 403 `read_only_replica`, with
  `detail.source`;
- every request accepts `min_position=P`: it is answered once the replica holds entry P,
  waiting at most `MIN_POSITION_WAIT` seconds, otherwise 503 `behind` with
  `detail.position` (what it holds); the parameter is taken off before the route sees it;
- `GET /checkpoint` serves the source's cosigned checkpoint the replica accepted, and
  `GET /v1/audit/key` the source's log key (`--log-key`), the key that signs it; version
  2's `GET /v1/audit/checkpoint` carries the source's signature of the same note (the log
  signature inside that checkpoint) when its origin is `kpledger` and it is of the size
  the replica holds; under another origin it is the source's own answer to that request,
  of a size the replica holds (`ReplicaFollower.v2_checkpoint`); else, and until the
  first, the replica's own signature (`_v2_checkpoint`);
- `GET /health` gains `replica` (`ReplicaFollower.health`), and `status` is `diverged`
  with `evidence` once the source contradicted a checkpoint it signed;
- `GET /metrics` gains the replica's gauges (`kpledger_replica_*`).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode

from fastapi import FastAPI
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.app import create_app
from api.guards import error_response
from api.settings import Settings
from ledger.application import Ledger
from ledger.errors import LedgerError
from ledger.note import parse_checkpoint, parse_note
from ledger.signing import SigningKey
from ledger.witnessing import CosignedCheckpoint
from projections.proofs import NOTE_ORIGIN
from replica.follow import ReplicaFollower

__all__ = ["MIN_POSITION_WAIT", "ReadOnlyReplica", "SourceCheckpoints", "create_replica_app"]

MIN_POSITION_WAIT = 2.0
"""The longest a read with `min_position` waits for the replica to hold that entry."""
_READS = frozenset({"GET", "HEAD", "OPTIONS"})


class ReadOnlyReplica:
    """ASGI middleware: see the module's docstring."""

    def __init__(self, app: ASGIApp, follower: ReplicaFollower) -> None:
        self.app = app
        self.follower = follower

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        follower = self.follower
        if scope["method"] not in _READS:
            await error_response(
                send,
                LedgerError(
                    "read_only_replica",
                    f"this is a read-only replica of {follower.source}: post there",
                    detail={"source": follower.source},
                ),
            )
            return
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        wanted = [value for name, value in query if name == "min_position"]
        if wanted:
            rest = [(name, value) for name, value in query if name != "min_position"]
            scope = {**scope, "query_string": urlencode(rest).encode("latin-1")}
            try:
                position = int(wanted[-1])
                if position < 0:
                    raise ValueError
            except ValueError:
                await error_response(
                    send, LedgerError("invalid", "min_position is a position: 0 or more")
                )
                return
            deadline = time.monotonic() + MIN_POSITION_WAIT
            while follower.size < position and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            if follower.size < position:
                await error_response(
                    send,
                    LedgerError(
                        "behind",
                        f"this replica holds {follower.size} entries, not yet {position}",
                        detail={"position": follower.size},
                    ),
                )
                return
        path = scope["path"]
        if path == "/checkpoint":
            await self._checkpoint(send)
        elif path == "/health":
            await self._health(scope, receive, send)
        elif path == "/v1/audit/key":
            await _send_json(send, 200, self._log_key())
        elif path == "/v1/audit/checkpoint":
            await self._rewritten(scope, receive, send, self._v2_checkpoint)
        else:
            await self.app(scope, receive, send)

    async def _checkpoint(self, send: Send) -> None:
        note = self.follower.served_checkpoint()
        if note is None:
            await error_response(
                send,
                LedgerError("unavailable", "this replica has accepted no checkpoint yet"),
            )
            return
        body = note.encode("utf-8")
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()),
                    (b"cache-control", b"public, max-age=10"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    def _log_key(self) -> dict[str, str]:
        """`GET /v1/audit/key` of the source's log key, as the source answers it."""
        log_key = self.follower.log_key
        return {
            "algorithm": "ed25519",
            "public_key": base64.b64encode(log_key.public_key).decode("ascii"),
            "key_id": hashlib.sha256(log_key.public_key).hexdigest(),
            "vkey": log_key.vkey,
        }

    def _v2_checkpoint(self, answer: dict[str, Any]) -> dict[str, Any]:
        """The route's `{tree_size, root, note, signature, key_id}` with the source's
        signature when the accepted checkpoint is that note (see the module's docstring)."""
        if self.follower.log_key.name != NOTE_ORIGIN:  # the source's own, as it answered
            return self.follower.v2_checkpoint or answer
        served = self.follower.served_checkpoint()
        if served is None:
            return answer
        note = parse_note(served)
        log_key = self.follower.log_key
        if note.text != answer.get("note"):
            return answer  # another origin, or another size: the replica's own signature
        for signature in note.signatures:
            if log_key.matches(signature):
                return {
                    **answer,
                    "signature": base64.b64encode(signature.signature).decode("ascii"),
                    "key_id": hashlib.sha256(log_key.public_key).hexdigest(),
                }
        return answer

    async def _health(self, scope: Scope, receive: Receive, send: Send) -> None:
        follower = self.follower

        def replica_health(answer: dict[str, Any]) -> dict[str, Any]:
            answer["replica"] = follower.health()
            if follower.evidence is not None:
                answer["status"] = "diverged"
                answer["evidence"] = follower.evidence
            elif follower.problem is not None and answer.get("status") == "ok":
                answer["status"] = "degraded"
            return answer

        await self._rewritten(scope, receive, send, replica_health)

    async def _rewritten(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        rewrite: Callable[[dict[str, Any]], dict[str, Any]],
    ) -> None:
        """The application's answer, its JSON object passed through `rewrite` when 200."""
        start: Message = {}
        chunks: list[bytes] = []

        async def keep(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            else:
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, keep)
        body = b"".join(chunks)
        try:
            answer = json.loads(body)
        except ValueError:
            answer = None
        if isinstance(answer, dict) and start.get("status") == 200:
            body = json.dumps(rewrite(answer)).encode()
        headers = [
            (name, value) for name, value in start.get("headers", []) if name != b"content-length"
        ]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body})


async def _send_json(send: Send, status: int, value: dict[str, Any]) -> None:
    body = json.dumps(value).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class SourceCheckpoints:
    """Stands for the app's `Witnessing` on a replica: nothing is signed here; what is
    published is the source's cosigned checkpoint the replica accepted, so certificates'
    tlog-proofs (`GET /v1/certificates/{id}/proof`) carry the source's signatures."""

    def __init__(self, follower: ReplicaFollower) -> None:
        self.follower = follower
        self.witnesses = follower.witnesses
        self.quorum = follower.quorum
        self.interval = follower.interval

    def start(self) -> None:
        """Nothing to sign: the follower accepts the source's checkpoints."""

    def stop(self) -> None:
        """Nothing to stop."""

    def published(self) -> CosignedCheckpoint | None:
        """The source's checkpoint as accepted, or None before the first."""
        text = self.follower.served_checkpoint()
        if text is None:
            return None
        note = parse_note(text)
        return CosignedCheckpoint(parse_checkpoint(note.text), note, time.time())

    def served_note(self, checkpoint: CosignedCheckpoint) -> str:
        """The note verbatim, as the source served it."""
        return str(checkpoint.note)

    def health(self) -> dict[str, object] | None:
        """`{tree_size, cosigned_by, age_s}` of the accepted checkpoint."""
        published = self.published()
        if published is None:
            return None
        names = {signature.name for signature in published.note.signatures}
        cosigned = [w.name for w in self.witnesses if w.name in names]
        return {"tree_size": published.checkpoint.size, "cosigned_by": cosigned, "age_s": 0.0}

    def witness_states(self) -> list[tuple[str, int | None, float | None, int]]:
        """The replica asks no witness."""
        return []


class _ReplicaCollector(Collector):
    def __init__(self, follower: ReplicaFollower) -> None:
        self.follower = follower

    def collect(self) -> Iterator[Metric]:
        state = self.follower.health()
        yield GaugeMetricFamily(
            "kpledger_replica_size", "entries the replica holds, verified", value=state["size"]
        )
        yield GaugeMetricFamily(
            "kpledger_replica_source_size",
            "tree size of the source's newest checkpoint seen",
            value=state["source_size"] or 0,
        )
        yield GaugeMetricFamily(
            "kpledger_replica_lag_entries",
            "source size minus entries held",
            value=max((state["source_size"] or 0) - state["size"], 0),
        )
        if state["lag_s"] is not None:
            yield GaugeMetricFamily(
                "kpledger_replica_lag_seconds",
                "seconds since the newest entry held was recorded at the source",
                value=state["lag_s"],
            )
        yield GaugeMetricFamily(
            "kpledger_replica_diverged",
            "1 once the source contradicted a checkpoint it signed",
            value=1 if self.follower.diverged else 0,
        )


def create_replica_app(
    settings: Settings,
    ledger: Ledger,
    follower: ReplicaFollower,
    signing_key: SigningKey | None = None,
) -> FastAPI:
    """The normal application over the replica's `ledger`, read-only, fed by `follower`."""
    app = create_app(settings, ledger, signing_key)
    app.state.replica = follower
    app.state.witnessing = SourceCheckpoints(follower)  # taken by api.witnessed
    app.state.metrics.registry.register(_ReplicaCollector(follower))
    app.add_middleware(ReadOnlyReplica, follower=follower)
    return app

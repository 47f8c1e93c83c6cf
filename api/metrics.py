"""`GET /metrics`: the service in the Prometheus text format (prometheus-client).

Requests by method, route template (never the raw path) and status; their latency; the
log's head position, the read model's position and the follower's lag (head - read model
position); the read model's sizes (lots, certificates); the sizes of accepted batches;
the snapshot's age; the process (RSS, CPU, open files) and Python (GC) collectors.
Nothing names a lot, a participant or a token. KPLEDGER_METRICS decides who may read it:
`token` (default: tokens that read everything: secretariat, investigator, auditor),
`open` (no token: for a scraper on a private network), `off` (404).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector

from api.auth import actor_of, require_reader_of_everything
from api.openapi import errors
from ledger.application import Ledger
from ledger.errors import LedgerError
from projections.reads import Reads
from projections.snapshot import snapshot_path

__all__ = ["Metrics", "mount_metrics"]

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
_BATCH_BUCKETS = (1, 2, 5, 10, 50, 100, 500, 1000, 5000, 10000)


class _LedgerCollector(Collector):
    """The log's and the read model's gauges, read when scraped."""

    def __init__(self, ledger: Ledger, reads: Reads) -> None:
        self.ledger = ledger
        self.reads = reads

    def collect(self) -> Iterator[Metric]:
        try:
            read_position = self.reads.position  # before anything catches it up
            head = self.ledger.head_position()
        except Exception:  # the store is down: say so rather than fail the scrape
            yield GaugeMetricFamily("kpledger_store_up", "1 when the store answers", value=0)
            return
        yield GaugeMetricFamily("kpledger_store_up", "1 when the store answers", value=1)
        yield GaugeMetricFamily(
            "kpledger_log_head_position", "position of the last entry in the log", value=head
        )
        yield GaugeMetricFamily(
            "kpledger_read_model_position",
            "position of the last entry the read model applied",
            value=read_position,
        )
        yield GaugeMetricFamily(
            "kpledger_follower_lag_entries",
            "log head position minus read model position, when scraped",
            value=max(head - read_position, 0),
        )
        lots, certificates = self.reads.read(
            lambda view: (len(view.custody.lots), len(view.custody.certificates))
        )
        sizes = GaugeMetricFamily(
            "kpledger_read_model_size", "objects in the read model, by kind", labels=["kind"]
        )
        sizes.add_metric(["lots"], lots)
        sizes.add_metric(["certificates"], certificates)
        yield sizes


class _SnapshotCollector(Collector):
    """The read-model snapshot's age (since its file was written), when there is one."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[Metric]:
        path = self.metrics.snapshot
        try:
            written = path.stat().st_mtime if path is not None else None
        except OSError:  # not saved yet
            written = None
        if written is not None:
            yield GaugeMetricFamily(
                "kpledger_snapshot_age_seconds",
                "seconds since the read-model snapshot was last saved",
                value=max(time.time() - written, 0.0),
            )


class Metrics:
    """One application's metrics, in a registry of its own."""

    def __init__(self, ledger: Ledger, reads: Reads) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "kpledger_http_requests",
            "HTTP requests answered, by method, route template and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "kpledger_http_request_duration_seconds",
            "time to answer an HTTP request, by method and route template",
            ["method", "route"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.batches = Histogram(
            "kpledger_capture_batch_documents",
            "documents per accepted POST /v1/events request",
            buckets=_BATCH_BUCKETS,
            registry=self.registry,
        )
        self.registry.register(_LedgerCollector(ledger, reads))
        ProcessCollector(registry=self.registry)  # RSS, CPU seconds, open files
        PlatformCollector(registry=self.registry)  # the Python version
        GCCollector(registry=self.registry)  # collections by generation
        self.snapshot: Path | None = None
        """The read-model snapshot file, whose age is `kpledger_snapshot_age_seconds`."""
        self.registry.register(_SnapshotCollector(self))
        self._observed: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}
        """Each (method, route, status)'s counter and histogram, found once: `labels()`
        locks and builds a key on every call."""

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        """Counts one answered request (called by `api.logs.AccessLog`)."""
        key = (method, route, status)
        observed = self._observed.get(key)
        if observed is None:
            observed = self._observed[key] = (
                self.requests.labels(method, route, str(status)),
                self.latency.labels(method, route),
            )
        observed[0].inc()
        observed[1].observe(seconds)

    def observe_batch(self, documents: int) -> None:
        """Counts one accepted POST /v1/events request of `documents` documents."""
        self.batches.observe(documents)

    def exposition(self) -> bytes:
        """The Prometheus text format."""
        return generate_latest(self.registry)


router = APIRouter(tags=["service"])


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {
            "content": {
                "text/plain": {
                    "schema": {"type": "string"},
                    "example": "kpledger_log_head_position 501.0\n",
                }
            }
        },
        **errors(403, 404, 503),
    },
    openapi_extra={"security": [{"bearer": []}]},
)
def get_metrics(request: Request) -> Response:
    """The service's metrics in the Prometheus text format. By default only tokens that read
    everything may scrape them; KPLEDGER_METRICS=open serves them with no token, `off`
    not at all (404)."""
    mode = request.app.state.settings.metrics
    if mode == "off":
        raise LedgerError("not_found", "metrics are off (KPLEDGER_METRICS=off)")
    if mode == "token":
        require_reader_of_everything(actor_of(request))
    metrics: Metrics = request.app.state.metrics
    return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)


def mount_metrics(app: FastAPI, ledger: Ledger, reads: Reads) -> None:
    """Adds `GET /metrics` and `app.state.metrics` (fed by `api.logs.AccessLog`)."""
    app.state.metrics = Metrics(ledger, reads)
    app.state.metrics.snapshot = snapshot_path(app.state.settings.snapshot, ledger.store)
    app.include_router(router)

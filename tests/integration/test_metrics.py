"""GET /metrics: Prometheus text, requests by route template, the log and the read model,
batch sizes; only to tokens that read everything unless KPLEDGER_METRICS says otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from api.app import create_app
from api.settings import Settings
from ledger.application import Ledger
from tests.support import admitted, mine, produced


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


@pytest.fixture
def tokens(ledger: Ledger) -> dict[str, str]:
    return {
        "secretariat": ledger.create_token("secretariat", "kp-secretariat"),
        "ghana": ledger.create_token("authority", "gh-minerals", "GH"),
    }


def _app(ledger: Ledger, tmp_path: Path, mode: str = "token") -> TestClient:
    settings = Settings(
        database_url="sqlite://", signing_key=tmp_path / "key.pem", metrics=mode
    )  # the store is `ledger`'s; no lifespan: the read model follows only when read
    return TestClient(create_app(settings, ledger))


def test_metrics_count_routes_follow_the_log_and_disclose_nothing(
    ledger: Ledger, tokens: dict[str, str], tmp_path: Path
) -> None:
    client = _app(ledger, tmp_path)
    secretariat = {"Authorization": f"Bearer {tokens['secretariat']}"}
    ghana = {"Authorization": f"Bearer {tokens['ghana']}"}
    assert client.post("/v1/events", json=admitted("GH"), headers=secretariat).status_code == 201
    batch = {"events": [mine("GH-M1", "GH"), produced("GH-LOT-1", "GH-M1", "12.5")]}
    assert client.post("/v1/events", json=batch, headers=ghana).status_code == 201
    for lot_id in ("GH-LOT-1", "GH-LOT-2"):
        client.get(f"/v1/lots/{lot_id}", headers=secretariat)
    ledger.post(admitted("CI"), ledger.actor_for_token(tokens["secretariat"]))  # not read yet

    scraped = client.get("/metrics", headers=secretariat)
    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain")
    samples = _samples(scraped.text)
    head = ledger.head_position()
    assert samples[("kpledger_log_head_position", ())] == head
    assert samples[("kpledger_follower_lag_entries", ())] == 1  # CI's admission
    assert samples[("kpledger_read_model_position", ())] == head - 1
    assert samples[("kpledger_read_model_size", (("kind", "lots"),))] == 1
    assert samples[("kpledger_read_model_size", (("kind", "certificates"),))] == 0
    lots = (("method", "GET"), ("route", "/v1/lots/{lot_id}"))
    assert samples[("kpledger_http_requests_total", (*lots, ("status", "200")))] == 1
    assert samples[("kpledger_http_requests_total", (*lots, ("status", "404")))] == 1
    assert samples[("kpledger_http_request_duration_seconds_count", lots)] == 2
    assert samples[("kpledger_capture_batch_documents_count", ())] == 2
    assert samples[("kpledger_capture_batch_documents_sum", ())] == 3
    assert samples[("kpledger_store_up", ())] == 1
    for secret in ("GH-LOT", "GH-M1", "GH", "CI", "gh-minerals", "kp-secretariat"):
        assert secret not in scraped.text
    assert tokens["secretariat"] not in scraped.text


def test_metrics_are_for_tokens_that_read_everything(
    ledger: Ledger, tokens: dict[str, str], tmp_path: Path
) -> None:
    client = _app(ledger, tmp_path)
    assert client.get("/metrics").status_code == 401
    ghana = client.get("/metrics", headers={"Authorization": f"Bearer {tokens['ghana']}"})
    assert ghana.status_code == 403 and ghana.json()["error"]["code"] == "forbidden"


def test_open_and_off(ledger: Ledger, tmp_path: Path) -> None:
    assert _app(ledger, tmp_path, "open").get("/metrics").status_code == 200
    off = _app(ledger, tmp_path, "OFF").get("/metrics")
    assert off.status_code == 404 and off.json()["error"]["code"] == "not_found"

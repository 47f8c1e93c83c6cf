"""Faults against real processes: a server killed with SIGKILL while it captures
batches, and PostgreSQL restarted and stopped under load. Every document posted ends in
the log exactly once after re-posting, the log verifies, and no answer is a 500 or waits
beyond the store timeout."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import psycopg

from tests.conftest import Server
from tests.private_postgres import PrivatePostgres
from tests.support import admitted, batch, mine, produced

STORE_TIMEOUT = 2
BOUND = 2 * STORE_TIMEOUT + 2  # seconds any answer may take while the store is away


def _world(server: Server) -> str:
    """GH admitted with mine GH-M1 and lot GH-L0; returns GH's authority token."""
    sec, gh = server.token("secretariat"), server.token("authority", "GH")
    with server.client(sec) as client:
        assert client.post("/v1/events", json=admitted("GH")).status_code == 201
    with server.client(gh) as client:
        assert client.post("/v1/events", json=mine("GH-M1", "GH")).status_code == 201
        assert client.post("/v1/events", json=produced("GH-L0", "GH-M1", "1")).status_code == 201
    return gh


def _batches(prefix: str, count: int, size: int) -> list[dict[str, Any]]:
    return [
        batch(*(produced(f"{prefix}-{b}-{i}", "GH-M1", "1.00") for i in range(size)))
        for b in range(count)
    ]


def _event_ids(body: dict[str, Any]) -> list[str]:
    return [document["event_id"] for document in body["events"]]


def _logged(server: Server) -> Counter[str]:
    """How many times each event_id is in the log."""
    counts: Counter[str] = Counter()
    with server.client(server.token("auditor")) as client:
        after = 0
        while True:
            page = client.get("/v1/events", params={"after": after, "limit": 10_000}).json()
            counts.update(entry["document"]["event_id"] for entry in page["events"])
            if page["next_after"] == after:
                return counts
            after = page["next_after"]


def _repost(server: Server, token: str, bodies: list[dict[str, Any]]) -> None:
    with server.client(token) as client:
        for body in bodies:
            answer = client.post("/v1/events", json=body)
            assert answer.status_code in (200, 201), answer.text


def _assert_each_once(server: Server, bodies: list[dict[str, Any]]) -> None:
    counts = _logged(server)
    posted = [event_id for body in bodies for event_id in _event_ids(body)]
    assert not [event_id for event_id in posted if counts[event_id] != 1]
    assert max(counts.values()) == 1  # nothing else is there twice either
    verified = server.kpledger("verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_a_server_killed_during_batch_capture_loses_and_duplicates_nothing(
    store_url: str, server_factory: Callable[[str], Server]
) -> None:
    server = server_factory(store_url)
    token = _world(server)
    bodies = _batches("K", 16, 200)
    answered: list[int] = []

    def post_all() -> None:
        with server.client(token) as client:
            for body in bodies:
                try:
                    answered.append(client.post("/v1/events", json=body).status_code)
                except httpx.HTTPError:
                    return  # the server is gone

    poster = threading.Thread(target=post_all)
    poster.start()
    deadline = time.monotonic() + 30
    while len(answered) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.05)  # into the middle of a batch's capture
    assert server.process is not None
    server.process.kill()  # SIGKILL: no shutdown of any kind
    poster.join(timeout=30)
    assert set(answered) <= {201}, answered
    assert 3 <= len(answered) < len(bodies), "the kill must land during the upload"

    again = server_factory(store_url)  # the same store, a new process
    _repost(again, token, bodies)  # every batch, the accepted ones too
    _assert_each_once(again, bodies)


def _timed(call: Callable[[], httpx.Response]) -> tuple[float, httpx.Response | None]:
    started = time.monotonic()
    try:
        answer: httpx.Response | None = call()
    except httpx.HTTPError:
        answer = None
    return time.monotonic() - started, answer


def test_postgresql_restarted_and_stopped_under_load(tmp_path: Path) -> None:
    """503 with Retry-After while PostgreSQL is away, never a 500 nor a hang; /health says
    so at once; the same server recovers; re-posting leaves each document once."""
    pg = PrivatePostgres()
    server: Server | None = None
    try:
        pg.init().start()
        with psycopg.connect(pg.url, autocommit=True) as admin:
            admin.execute("CREATE DATABASE kpledger")
        server = Server(pg.url.rsplit("/", 1)[0] + "/kpledger", tmp_path)
        server.env["KPLEDGER_STORE_TIMEOUT"] = str(STORE_TIMEOUT)
        server.start()
        token = _world(server)
        auditor = server.token("auditor")
        bodies = _batches("R", 2000, 5)  # more than the posters use, outage or not
        outcomes: list[tuple[int, float, int | None, str, str | None]] = []
        stopping = threading.Event()
        next_body = iter(range(len(bodies)))
        lock = threading.Lock()

        def poster() -> None:
            with server.client(token) as client:  # type: ignore[union-attr]
                while not stopping.is_set():
                    with lock:
                        index = next(next_body, None)
                    if index is None:
                        return
                    took, answer = _timed(
                        lambda body=bodies[index]: client.post("/v1/events", json=body)
                    )
                    record(index, took, answer)
                    time.sleep(0.02)

        def reader() -> None:
            with server.client(auditor) as client:  # type: ignore[union-attr]
                while not stopping.is_set():
                    record(-1, *_timed(lambda: client.get("/v1/events", params={"limit": 5})))
                    record(-2, *_timed(lambda: client.get("/v1/lots/GH-L0")))
                    time.sleep(0.05)

        def record(index: int, took: float, answer: httpx.Response | None) -> None:
            code = answer.json()["error"]["code"] if answer and answer.status_code >= 400 else ""
            retry = answer.headers.get("retry-after") if answer else None
            outcomes.append((index, took, answer.status_code if answer else None, code, retry))

        threads = [threading.Thread(target=poster) for _ in range(2)]
        threads.append(threading.Thread(target=reader))
        for thread in threads:
            thread.start()
        with server.client() as anonymous:
            time.sleep(1.5)
            pg.restart()
            time.sleep(1.5)
            pg.stop()
            took, health = _timed(lambda: anonymous.get("/health"))
            deadline = time.monotonic() + BOUND
            while health is not None and health.json()["store"] == "reachable":
                assert time.monotonic() < deadline, "/health did not notice the outage"
                took, health = _timed(lambda: anonymous.get("/health"))
            assert health is not None and took < BOUND
            degraded = {"status": "degraded", "position": None, "store": "unreachable"}
            assert health.json().items() >= degraded.items()
            took, health = _timed(lambda: anonymous.get("/health"))
            assert took < 0.5, "/health answers at once while the store is known to be away"
            not_ready = anonymous.get("/health/ready")  # readiness: no traffic while away
            assert not_ready.status_code == 503 and not_ready.headers["retry-after"] == "1"
            assert not_ready.json()["status"] == "not_ready"
            stranger = _timed(
                lambda: anonymous.get("/v1/events", headers={"Authorization": "Bearer x"})
            )
            assert stranger[0] < 0.5 and stranger[1] is not None
            assert stranger[1].status_code == 503  # an unknown token cannot be judged now
            time.sleep(2)
            pg.start()
            deadline = time.monotonic() + 15
            while _timed(lambda: anonymous.get("/health"))[1].json()["store"] != "reachable":  # type: ignore[union-attr]
                assert time.monotonic() < deadline, "the server did not recover"
                time.sleep(0.1)
            assert anonymous.get("/health/ready").json()["status"] == "ready"
            recovered = len(outcomes)
            deadline = time.monotonic() + 15  # posters first re-post what was unanswered
            while not any(status == 201 for _, _, status, _, _ in outcomes[recovered:]):
                assert time.monotonic() < deadline, "nothing new was appended after recovery"
                time.sleep(0.1)
            time.sleep(1)
        stopping.set()
        for thread in threads:
            thread.join(timeout=30)

        statuses = Counter(status for _, _, status, _, _ in outcomes)
        assert set(statuses) <= {200, 201, 503}, statuses
        assert statuses[503] > 0, "the outage must be seen"
        slowest = max(took for _, took, _, _, _ in outcomes)
        assert slowest < BOUND, slowest
        refused = [o for o in outcomes if o[2] == 503]
        assert {code for *_, code, _ in refused} <= {"unavailable", "outcome_unknown"}
        assert all(retry and retry.isdigit() for *_, retry in refused)
        after = [status for _, _, status, _, _ in outcomes[recovered:]]
        assert 201 in after and 503 not in after[len(after) // 2 :], after

        sent = sorted({index for index, *_ in outcomes if index >= 0})
        unsure = [bodies[i] for i, _, status, _, _ in outcomes if i >= 0 and status != 201]
        _repost(server, token, unsure)
        _assert_each_once(server, [bodies[i] for i in sent])
    finally:
        if server is not None:
            server.stop()
        pg.destroy()


_REQUESTS = {-1: "GET /v1/events", -2: "GET /v1/lots/GH-L0", -3: "GET /v1/alerts"}
FROZEN_REQUEST_BOUND = 3.0  # seconds any answer may take while PostgreSQL is frozen
FROZEN_HEALTH_BOUND = 2.0  # seconds until /health says degraded, and until it recovers


def test_postgresql_frozen_with_sigstop_under_load(tmp_path: Path) -> None:
    """A PostgreSQL that stops answering without closing anything (SIGSTOP: as a hung host
    or a network that drops packets): every request is answered within 3 s (503 while
    frozen), /health is degraded within 2 s, the server recovers within 2 s of SIGCONT,
    and re-posting leaves each document once."""
    pg = PrivatePostgres()
    server: Server | None = None
    try:
        pg.init().start()
        with psycopg.connect(pg.url, autocommit=True) as admin:
            admin.execute("CREATE DATABASE kpledger")
        server = Server(pg.url.rsplit("/", 1)[0] + "/kpledger", tmp_path)
        server.env["KPLEDGER_STORE_TIMEOUT"] = str(STORE_TIMEOUT)
        server.start()
        token = _world(server)
        auditor = server.token("auditor")
        bodies = _batches("F", 3000, 5)
        outcomes: list[tuple[int, float, int | None, str]] = []
        stopping = threading.Event()
        next_body = iter(range(len(bodies)))
        lock = threading.Lock()

        def record(index: int, took: float, answer: httpx.Response | None) -> None:
            code = answer.json()["error"]["code"] if answer and answer.status_code >= 400 else ""
            outcomes.append((index, took, answer.status_code if answer else None, code))

        def poster() -> None:
            with server.client(token) as client:  # type: ignore[union-attr]
                client.timeout = httpx.Timeout(30)
                while not stopping.is_set():
                    with lock:
                        index = next(next_body, None)
                    if index is None:
                        return
                    body = bodies[index]
                    record(index, *_timed(lambda body=body: client.post("/v1/events", json=body)))
                    time.sleep(0.02)

        def reader() -> None:
            with server.client(auditor) as client:  # type: ignore[union-attr]
                while not stopping.is_set():
                    record(-1, *_timed(lambda: client.get("/v1/events", params={"limit": 5})))
                    record(-2, *_timed(lambda: client.get("/v1/lots/GH-L0")))
                    record(-3, *_timed(lambda: client.get("/v1/alerts")))
                    time.sleep(0.05)

        threads = [threading.Thread(target=poster) for _ in range(2)]
        threads.append(threading.Thread(target=reader))
        for thread in threads:
            thread.start()
        with server.client() as anonymous:
            time.sleep(1.5)
            pg.freeze()
            frozen_at = time.monotonic()
            while True:
                took, health = _timed(lambda: anonymous.get("/health"))
                assert health is not None and took < FROZEN_HEALTH_BOUND, took
                if health.json()["status"] == "degraded":
                    break
                assert time.monotonic() - frozen_at < FROZEN_HEALTH_BOUND, "not degraded"
            degraded_after = time.monotonic() - frozen_at
            assert anonymous.get("/health/ready").status_code == 503
            time.sleep(4)  # frozen for a while, under load
            pg.thaw()
            thawed_at = time.monotonic()
            while _timed(lambda: anonymous.get("/health"))[1].json()["store"] != "reachable":  # type: ignore[union-attr]
                assert time.monotonic() - thawed_at < FROZEN_HEALTH_BOUND, "did not recover"
                time.sleep(0.05)
            recovered_after = time.monotonic() - thawed_at
            recovered = len(outcomes)
            deadline = time.monotonic() + 15
            while not any(status == 201 for _, _, status, _ in outcomes[recovered:]):
                assert time.monotonic() < deadline, "nothing new was appended after recovery"
                time.sleep(0.1)
            time.sleep(1)
        stopping.set()
        for thread in threads:
            thread.join(timeout=60)
        print(
            f"\nfrozen: degraded after {degraded_after:.2f} s, recovered {recovered_after:.2f} s"
            f" after SIGCONT, slowest answer {max(o[1] for o in outcomes):.2f} s"
            f" ({_REQUESTS.get(max(outcomes, key=lambda o: o[1])[0], 'POST')}),"
            f" {Counter(o[2] for o in outcomes)}"
        )
        statuses = Counter(status for _, _, status, _ in outcomes)
        assert set(statuses) <= {200, 201, 503}, statuses
        assert statuses[503] > 0, "the freeze must be seen"
        slowest = max(outcomes, key=lambda outcome: outcome[1])
        assert slowest[1] < FROZEN_REQUEST_BOUND, f"{_REQUESTS.get(slowest[0], 'POST')}: {slowest}"
        assert {code for *_, code in outcomes if code} <= {"unavailable", "outcome_unknown"}

        sent = sorted({index for index, *_ in outcomes if index >= 0})
        unsure = [bodies[i] for i, _, status, _ in outcomes if i >= 0 and status != 201]
        _repost(server, token, unsure)
        _assert_each_once(server, [bodies[i] for i in sent])
    finally:
        if server is not None:
            server.stop()
        pg.destroy()

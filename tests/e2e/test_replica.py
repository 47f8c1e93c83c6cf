"""`kpledger replica`, real processes: a source (`kpledger serve` over the demo world in a
SQLite file) and a replica on each kind of store, on free ports."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.actors import Actor
from ledger.application import Ledger
from ledger.audit import export_log
from ledger.documents import parse_document
from ledger.keys import sign_normal_form
from ledger.log import read_entries
from ledger.normal import normal_form
from ledger.note import COSIGNATURE_V1, NoteSigner
from ledger.signing import SigningKey, load_key_file
from ledger.tokens import ApiToken, token_digest
from tests.conftest import free_port, stop_process
from tests.e2e.witnesses import WitnessProcess
from tests.support import admitted, batch, mine
from worlds.demo import demo_authority_key, load_demo

READS = [
    "/v1/events?limit=50",
    "/v1/events?after=400&limit=200",
    "/v1/statistics?year=2005",
    "/v1/compliance?year=2005",
    "/v1/alerts",
    "/v1/graph?root=GH-ACCRA-EXPORTERS",
    "/v1/keys",
    "/v1/search?q=Accra",
    "/v1/audit/verify",
    "/v1/audit/key",  # the source's log key, which signs what the replica serves
    "/v1/audit/checkpoint",  # signed by the source, as its /checkpoint is
    "/v1/epcis/events?after=0&limit=20",
    "/ui",
]
"""Reads whose answers the replica must give as the source does (request ids aside)."""


ORIGIN = "kimberleyprocess.example/ledger"
"""The source's log origin, not the default: a replica serves it as the source does."""


class Process:
    """A kpledger process (serve or replica) on a fixed port, its stderr in a file."""

    def __init__(self, workdir: Path, store_url: str, name: str) -> None:
        self.workdir = workdir
        self.env = {
            **os.environ,
            "KPLEDGER_DATABASE_URL": store_url,
            "KPLEDGER_SIGNING_KEY": str(workdir / f"{name}.pem"),
            "KPLEDGER_SNAPSHOT": str(workdir / f"{name}.snapshot"),
        }
        self.stderr_path = workdir / f"{name}.stderr"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def kpledger(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "api.cli", *args],
            env=self.env,
            cwd=self.workdir,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""

    def start(self, *args: str) -> Process:
        with self.stderr_path.open("ab") as stderr:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "api.cli", *args, "--port", str(self.port)],
                env=self.env,
                cwd=self.workdir,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
        wait_for(lambda: self._answers(), "the process answers /health", 60)
        return self

    def _answers(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"exited: {self.stderr_path.read_text()[-3000:]}")
        try:
            return httpx.get(f"{self.url}/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def health(self) -> dict[str, Any]:
        answer: dict[str, Any] = httpx.get(f"{self.url}/health", timeout=10).json()
        return answer

    def stop(self, kill: bool = False) -> None:
        stop_process(self.process, kill=kill)
        self.process = None


def wait_for(condition: Callable[[], Any], what: str, seconds: float = 120) -> Any:
    """Polls `condition` until it is true; fails naming `what` after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"not within {seconds} s: {what}")


class World:
    """The demo world served by a source, and the replicas started against it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.source_url = f"sqlite:///{folder / 'source.db'}"
        ledger = Ledger.open(self.source_url)
        try:
            self.tokens = load_demo(ledger).tokens
            self.size = ledger.head_position()
        finally:
            ledger.close()
        self.source = Process(folder, self.source_url, "source")
        self.source.env["KPLEDGER_LOG_ORIGIN"] = ORIGIN  # the replica's own is left default
        self.replicas: list[Process] = []

    @property
    def reader(self) -> str:
        return self.tokens["demo-secretariat"]

    def log_key(self) -> str:
        vkey: str = httpx.get(f"{self.source.url}/v1/audit/key", timeout=10).json()["vkey"]
        return vkey

    def replica(self, store_url: str, *extra: str, name: str = "replica") -> Process:
        process = Process(self.folder, store_url, name)
        self.replicas.append(process)
        return self.start_replica(process, *extra)

    def start_replica(self, process: Process, *extra: str) -> Process:
        args = ["replica", "--from", self.source.url, "--token", self.reader]
        if not any(arg == "--log-key" for arg in extra):
            args += ["--log-key", self.log_key()]
        return process.start(*args, "--interval", "0.3", *extra)

    def stop(self) -> None:
        for process in [*self.replicas, self.source]:
            process.stop()


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    made = World(tmp_path)
    made.source.start("serve")
    yield made
    made.stop()


def held(replica: Process) -> int:
    size: int = replica.health()["replica"]["size"]
    return size


def answers(url: str, token: str) -> list[Any]:
    """The answers to READS, each as parsed JSON without its request id."""
    found = []
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as client:
        for path in READS:
            answer = client.get(path, timeout=60)
            try:
                body = answer.json()
            except ValueError:
                body = answer.text
            if isinstance(body, dict):
                body.pop("request_id", None)
                body.pop("creationDate", None)  # an EPCIS document says when it was made
            assert answer.status_code == 200, (path, answer.text)
            found.append((path, body))
    return found


def own_token(replica: Process) -> str:
    return replica.kpledger("token", "create", "--role", "secretariat", "--name", "replica-reader")


def test_a_replica_of_the_demo_answers_as_the_source_and_follows_new_appends(
    world: World, store_url: str
) -> None:
    replica = world.replica(store_url)
    wait_for(lambda: held(replica) == world.size, "the replica holds the demo's log")
    token = own_token(replica)
    assert answers(replica.url, token) == answers(world.source.url, world.reader)
    checkpoint = httpx.get(f"{replica.url}/checkpoint", timeout=10)
    assert checkpoint.status_code == 200
    assert checkpoint.text.split("\n")[1] == str(world.size)
    health = replica.health()
    assert health["status"] == "ok"
    assert health["replica"]["source"] == world.source.url
    assert health["replica"]["source_size"] == world.size
    assert health["replica"]["lag_s"] >= 0

    # writes are refused, and nothing is appended
    refused = httpx.post(
        f"{replica.url}/v1/events",
        json=batch(admitted("IS")),
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "read_only_replica"
    assert refused.json()["error"]["detail"]["source"] == world.source.url
    assert held(replica) == world.size

    # a read beyond what the replica holds waits at most 2 s, then 503 behind
    started = time.monotonic()
    behind = httpx.get(
        f"{replica.url}/v1/statistics",
        params={"min_position": world.size + 1},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert behind.status_code == 503
    assert behind.json()["error"]["code"] == "behind"
    assert behind.json()["error"]["detail"]["position"] == world.size
    assert time.monotonic() - started < 5

    # a write to the source arrives; a read with min_position sees it
    posted = httpx.post(
        f"{world.source.url}/v1/events",
        json=batch(admitted("IS")),
        headers={"Authorization": f"Bearer {world.reader}"},
        timeout=30,
    )
    assert posted.status_code == 201, posted.text
    position = world.size + 1
    wait_for(lambda: held(replica) == position, "the new entry reaches the replica", 30)
    seen = httpx.get(
        f"{replica.url}/v1/events",
        params={"after": world.size, "min_position": position},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert seen.status_code == 200
    assert [event["position"] for event in seen.json()["events"]] == [position]
    metrics = httpx.get(
        f"{replica.url}/metrics", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert "kpledger_replica_lag_seconds" in metrics.text
    assert f"kpledger_replica_size {float(position)}" in metrics.text


def test_a_replica_killed_during_catch_up_goes_on_from_what_it_verified(
    world: World, store_url: str
) -> None:
    replica = world.replica(store_url, "--batch", "1")  # one entry per atomic append
    size = wait_for(
        lambda: (size := held(replica)) > 0 and size, "the replica starts catching up", 60
    )
    assert size < world.size, "killed only once caught up: make the catch-up longer"
    replica.stop(kill=True)  # in the middle of the catch-up
    world.start_replica(replica)
    wait_for(lambda: held(replica) == world.size, "the restarted replica holds the log")
    replica.stop(kill=True)
    world.start_replica(replica)
    wait_for(lambda: held(replica) == world.size, "the replica holds the log again")
    # killed before it kept its first checkpoint: the entries it holds are checked again
    replica.stop(kill=True)
    (kept,) = [*world.folder.glob("*replica-checkpoint"), *world.folder.glob("*replica.checkpoint")]
    kept.unlink()
    world.start_replica(replica)
    wait_for(lambda: held(replica) == world.size, "the replica holds the log once more")
    wait_for(lambda: kept.exists(), "the replica keeps the checkpoint it accepted")
    assert replica.health()["status"] == "ok"
    token = own_token(replica)
    assert answers(replica.url, token) == answers(world.source.url, world.reader)
    verified = httpx.get(
        f"{replica.url}/v1/audit/verify", headers={"Authorization": f"Bearer {token}"}, timeout=60
    ).json()
    source = httpx.get(
        f"{world.source.url}/v1/audit/verify",
        headers={"Authorization": f"Bearer {world.reader}"},
        timeout=60,
    ).json()
    assert verified["ok"] and verified["head"] == source["head"]  # the same hashes


@pytest.mark.parametrize("grown", [False, True], ids=["same size", "grown since"])
def test_a_rewritten_source_is_detected_as_diverged_and_the_replica_keeps_serving(
    world: World, store_url: str, grown: bool
) -> None:
    replica = world.replica(store_url)
    wait_for(lambda: held(replica) == world.size, "the replica holds the demo's log")
    token = own_token(replica)
    before = answers(replica.url, token)
    world.source.stop()
    # the source away: retried with back-off, the replica's reads answer all the same
    health = wait_for(
        lambda: (answer := replica.health())["replica"].get("source_error") and answer,
        "the replica notices the source is away",
        60,
    )
    assert health["status"] == "ok"
    assert answers(replica.url, token) == before

    # the log exported, one entry altered, re-imported with its hashes recomputed into a
    # fresh store, served with the same key at the same URL
    source = Ledger.open(world.source_url)
    try:
        entries = list(read_entries(source))
        with (world.folder / "exported.jsonl").open("w", encoding="utf-8") as out:
            export_log(source, out)
    finally:
        source.close()
    altered = dataclasses.replace(entries[-1], recorded_by="someone else")
    rewritten = Ledger.open(f"sqlite:///{world.folder / 'rewritten.db'}")
    try:
        rewritten.replay(entries[:-1], check_hashes=False)
        rewritten.replay([altered], check_hashes=False)
        # the operator keeps its tokens: the replica's token is still good at the source
        rewritten.save(
            ApiToken(
                digest=token_digest(world.reader),
                role="secretariat",
                name="replicas",
                participant=None,
            )
        )
        if grown:  # a bigger checkpoint: the entries it serves contradict the accepted ones
            rewritten.post(batch(admitted("IS")), Actor("secretariat", "demo-secretariat"))
    finally:
        rewritten.close()
    world.source.env["KPLEDGER_DATABASE_URL"] = f"sqlite:///{world.folder / 'rewritten.db'}"
    world.source.start("serve")

    health = wait_for(
        lambda: (answer := replica.health())["status"] == "diverged" and answer,
        "the replica reports the divergence",
        60,
    )
    evidence = health["evidence"]
    assert evidence["accepted"] != evidence["served"]
    assert evidence["accepted"].split("\n")[1] == str(world.size)
    assert evidence["served"].split("\n")[1] == str(world.size + grown)
    for note in (evidence["accepted"], evidence["served"]):
        assert f"\n\n\u2014 {ORIGIN} " in note
    assert health["replica"]["size"] == world.size
    assert answers(replica.url, token) == before  # what it verified, served still


@pytest.mark.parametrize("problem", ["wrong log key", "unmeetable quorum"])
def test_a_replica_that_cannot_verify_appends_nothing_and_says_why(
    world: World, store_url: str, problem: str
) -> None:
    other = SigningKey(Ed25519PrivateKey.generate())
    if problem == "wrong log key":
        extra = ["--log-key", NoteSigner(ORIGIN, other).verifier.vkey]
        said = "does not verify"
    else:
        witness = NoteSigner("witness.example/w1", other, COSIGNATURE_V1).verifier.vkey
        extra = ["--witness", witness, "--quorum", "1"]
        said = "the quorum is 1"
    replica = world.replica(store_url, *extra)
    health = wait_for(
        lambda: (answer := replica.health())["replica"].get("problem") and answer,
        "the replica says what it refuses",
        60,
    )
    assert said in health["replica"]["problem"], health
    assert health["status"] == "degraded"
    assert health["replica"]["size"] == 0
    assert health["position"] == 0  # its store holds nothing
    assert said in replica.stderr_path.read_text()
    assert json.dumps(health)  # a JSON answer, not a 500


def test_a_replica_of_a_witnessed_log_checks_the_quorum_and_serves_the_cosigned_checkpoint(
    tmp_path: Path, store_url: str
) -> None:
    made = World(tmp_path)
    key_file = tmp_path / "source.pem"
    made.source.kpledger("key", "create", "--out", str(key_file))
    log_vkey = NoteSigner(ORIGIN, load_key_file(key_file)).verifier.vkey
    witness = WitnessProcess(tmp_path / "w1", "witness.example/w1", log_vkey).start()
    (tmp_path / "witnesses").write_text(f"{witness.vkey} {witness.url}\n")
    made.source.env["KPLEDGER_WITNESSES"] = str(tmp_path / "witnesses")
    made.source.env["KPLEDGER_CHECKPOINT_INTERVAL"] = "0.5"
    try:
        made.source.start("serve")
        replica = made.replica(store_url, "--witness", witness.vkey, "--quorum", "1")
        wait_for(lambda: held(replica) == made.size, "the replica holds the witnessed log")
        served = httpx.get(f"{replica.url}/checkpoint", timeout=10).text
        assert served.split("\n")[1] == str(made.size)
        assert "\u2014 witness.example/w1 " in served  # the source's cosigned checkpoint
        assert replica.health()["status"] == "ok"
        token = own_token(replica)
        proof = httpx.get(
            f"{replica.url}/v1/certificates/GH-2005-0412/proof",
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert proof.status_code == 200, proof.text
        (tmp_path / "proof.txt").write_text(proof.text)
        made.source.kpledger(  # exit 0: the proof verifies with the source's keys
            "audit", "verify-proof", str(tmp_path / "proof.txt"), "--log-key", log_vkey,
            "--witness", witness.vkey, "--quorum", "1",
        )  # fmt: skip
    finally:
        made.stop()
        witness.stop()


def test_a_forged_signature_at_the_source_is_refused_and_a_restart_learns_the_keys(
    tmp_path: Path, store_url: str
) -> None:
    made = World(tmp_path)
    source = Ledger.open(made.source_url)
    try:
        entries = list(read_entries(source))
    finally:
        source.close()
    signed = [entry.position for entry in entries if "signature" in entry.document]
    last = signed[-1]
    forged = entries[last - 1]
    value = forged.document["signature"]["value"]
    document = {**forged.document, "signature": {**forged.document["signature"]}}
    document["signature"]["value"] = ("A" if value[0] != "A" else "B") + value[1:]
    # the source rewritten with one stored signature forged (hashes recomputed): served as is
    rewritten = Ledger.open(f"sqlite:///{tmp_path / 'forged.db'}")
    try:
        rewritten.replay(entries[: last - 1], check_hashes=False)
        rewritten.replay([dataclasses.replace(forged, document=document)], check_hashes=False)
        rewritten.replay(entries[last:], check_hashes=False)
        rewritten.save(
            ApiToken(
                digest=token_digest(made.reader), role="secretariat", name="r", participant=None
            )
        )
    finally:
        rewritten.close()
    made.source.env["KPLEDGER_DATABASE_URL"] = f"sqlite:///{tmp_path / 'forged.db'}"
    made.source.start("serve")
    try:
        replica = made.replica(store_url)
        health = wait_for(
            lambda: (answer := replica.health())["replica"].get("problem") and answer,
            "the replica refuses the forged signature",
            120,
        )
        problem = health["replica"]["problem"]
        assert f"entry {last}: its signature does not verify" in problem, problem
        assert health["status"] == "degraded"
        assert health["replica"]["size"] < last  # nothing from the forged entry on

        # the genuine log served again: the replica appends it all; restarted, it checks the
        # signed documents appended after its restart against the keys it learned at start
        made.source.stop()
        made.source.env["KPLEDGER_DATABASE_URL"] = made.source_url
        made.source.start("serve")
        wait_for(lambda: held(replica) == made.size, "the replica holds the genuine log")
        replica.stop()
        ghana = Actor("authority", "demo-ghana", "GH")
        source = Ledger.open(made.source_url)
        try:
            more = normal_form(parse_document(mine("GH-REPLICA-M1", "GH")))
            source.post(batch(sign_normal_form(more, demo_authority_key())), ghana)
        finally:
            source.close()
        made.start_replica(replica)
        wait_for(lambda: held(replica) == made.size + 1, "the restarted replica follows")
        assert replica.health()["status"] == "ok"
    finally:
        made.stop()

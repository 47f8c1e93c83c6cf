"""`kpledger post` and `POST /v1/events` with text/csv, against a real `kpledger serve`."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Server, free_port
from tests.support import admitted, doc, export, merged, mine, produced, split
from tests.unit.test_files import to_csv


def post(server: Server, path: Path, token: str, *args: str, timeout: float = 600) -> Any:
    """Runs `kpledger post FILE` against `server`."""
    return subprocess.run(
        [sys.executable, "-m", "api.cli", "post", str(path), "--url", server.base_url, *args],
        env={**server.env, "KPLEDGER_TOKEN": token},
        cwd=server.workdir,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def head(server: Server) -> int:
    with server.client() as client:
        return int(client.get("/health").json()["position"])


def read_log(server: Server, token: str) -> list[dict[str, Any]]:
    with server.client(token) as client:
        return list(client.get("/v1/events", params={"limit": 10_000}).json()["events"])


def admit(server: Server, *codes: str) -> str:
    """Admits the participants; the secretariat's token."""
    secretariat = server.token("secretariat")
    with server.client(secretariat) as client:
        answer = client.post("/v1/events", json={"events": [admitted(c) for c in codes]})
        assert answer.status_code == 201, answer.text
    return secretariat


def test_kpledger_post_of_a_csv_then_again_appends_nothing(server: Server, tmp_path: Path) -> None:
    secretariat = admit(server, "GH", "AE")
    ghana = server.token("authority", "GH")
    documents = [
        mine("GH-M1", "GH"),
        produced("GH-L1", "GH-M1", "100.00", "15000.00"),
        produced("GH-L2", "GH-M1", "50", "5000"),
        split("GH-L1", ("GH-L1a", "60"), ("GH-L1b", "40")),
        merged(["GH-L1a", "GH-L2"], "GH-L3", "9000.50"),
        export("GH-C1", "GH", "AE", ["GH-L3", "GH-L1b"], "150"),
    ]
    path = tmp_path / "world.csv"
    path.write_text(to_csv(documents), encoding="utf-8")

    done = post(server, path, ghana)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "batch 1: lines 2-7, 6 documents, 201 accepted 6, position 8"
    assert re.fullmatch(
        r"done: 6 documents sent in 1 batch, 6 appended, 0 already present, [\d.]+ s", lines[1]
    ), lines
    assert len(lines) == 2 and done.stderr == ""  # no progress bar without a terminal

    log = read_log(server, secretariat)
    assert [entry["document"]["event_id"] for entry in log[2:]] == [
        d["event_id"] for d in documents
    ]
    by_type = {entry["type"]: entry["document"] for entry in log}
    assert by_type["mine.registered"]["location"] == {"lat": 6.1, "lon": -1.2}
    assert by_type["lot.split"]["into"][0] == {
        "lot_id": "GH-L1a",
        "carats": "60.00",
        "value_usd": "100.00",
    }
    assert by_type["lots.merged"]["into"] == {"lot_id": "GH-L3", "value_usd": "9000.50"}
    assert by_type["export.certified"]["lot_ids"] == ["GH-L3", "GH-L1b"]
    assert by_type["export.certified"]["exporter"] == {"name": "GH Exporters Ltd"}

    again = post(server, path, ghana, "--batch-size", "4")
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[:2] == [
        "batch 1: lines 2-5, 4 documents, 200 already accepted, skipped, position 6",
        "batch 2: lines 6-7, 2 documents, 200 already accepted, skipped, position 8",
    ]
    assert "0 appended, 6 already present" in again.stdout
    assert head(server) == 8


def test_kpledger_post_of_json_lines_with_a_token_from_the_environment(
    server: Server, tmp_path: Path
) -> None:
    secretariat = server.token("secretariat")
    documents = [admitted(code) for code in ("GH", "AE", "CI")]
    path = tmp_path / "admissions.jsonl"
    path.write_text("\n".join(json.dumps(d) for d in documents) + "\n\n", encoding="utf-8")
    done = post(server, path, secretariat, "--batch-size", "2")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[:2] == [
        "batch 1: lines 1-2, 2 documents, 201 accepted 2, position 2",
        "batch 2: line 3, 1 document, 201 accepted 1, position 3",
    ]
    assert [e["document"]["participant"] for e in read_log(server, secretariat)] == [
        "GH",
        "AE",
        "CI",
    ]


def test_the_first_refused_batch_stops_the_upload_with_its_line(
    server: Server, tmp_path: Path
) -> None:
    secretariat = server.token("secretariat")
    codes = ["GH", "AE", "CI", "BE", "IN", "RU"]
    documents = [admitted(code) for code in codes]
    documents[5]["participant"] = "XX"  # batch 3, its second document
    documents.append(admitted("ZA"))
    path = tmp_path / "admissions.jsonl"
    path.write_text("\n\n".join(json.dumps(d) for d in documents), encoding="utf-8")  # odd lines

    done = post(server, path, secretariat, "--batch-size", "2")
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout.splitlines()[:2] == [
        "batch 1: lines 1-3, 2 documents, 201 accepted 2, position 2",
        "batch 2: lines 5-7, 2 documents, 201 accepted 2, position 4",
    ]
    assert done.stdout.splitlines()[2].startswith(
        "stopped at batch 3: 6 of 7 documents sent, 4 appended, 0 already present"
    )
    (error,) = done.stderr.splitlines()
    assert error.startswith(
        f"kpledger post: batch 3 (lines 9-11) refused at line 11 of {path}: 422 invalid: "
    ), error
    assert "participant" in error and "4 documents accepted before it" in error
    assert head(server) == 4


def test_kpledger_post_reports_a_refused_token_and_an_absent_service(
    server: Server, tmp_path: Path
) -> None:
    path = tmp_path / "one.json"
    path.write_text(json.dumps(admitted("GH")), encoding="utf-8")
    done = post(server, path, "not-a-token")
    assert done.returncode == 1
    (error,) = done.stderr.splitlines()
    assert "401 unauthenticated" in error and "KPLEDGER_TOKEN" in error

    ghana = server.token("authority", "GH")
    done = post(server, path, ghana)
    assert done.returncode == 1
    assert "refused at line 1" in done.stderr and "403 forbidden" in done.stderr

    nobody = subprocess.run(
        [sys.executable, "-m", "api.cli", "post", str(path), "--token", "t"],
        env={**server.env, "KPLEDGER_URL": f"http://127.0.0.1:{free_port()}"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert nobody.returncode == 2
    (error,) = nobody.stderr.splitlines()
    assert "cannot reach" in error and "Traceback" not in nobody.stderr
    assert head(server) == 0


@pytest.mark.slow
def test_a_100k_row_csv_in_batches_of_10000_then_again(server: Server, tmp_path: Path) -> None:
    admit(server, "GH")
    ghana = server.token("authority", "GH")
    with server.client(ghana) as client:
        assert client.post("/v1/events", json=mine("GH-M1", "GH")).status_code == 201
    rows = ["type,event_id,occurred_at,lot_id,source_id,carats,value_usd"]
    rows += [
        f"lot.produced,{uuid.uuid4()},2005-06-01T10:00:00Z,GH-L{n},GH-M1,{n % 500 + 1}.25,{n}"
        for n in range(100_000)
    ]
    path = tmp_path / "production.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")

    started = time.perf_counter()
    done = post(server, path, ghana)
    first = time.perf_counter() - started
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 11
    assert lines[0] == "batch 1: lines 2-10001, 10000 documents, 201 accepted 10000, position 10002"
    assert lines[9] == (
        "batch 10: lines 90002-100001, 10000 documents, 201 accepted 10000, position 100002"
    )
    assert head(server) == 100_002

    started = time.perf_counter()
    again = post(server, path, ghana)
    second = time.perf_counter() - started
    assert again.returncode == 0, again.stderr
    assert all("200 already accepted, skipped" in line for line in again.stdout.splitlines()[:10])
    assert "0 appended, 100000 already present" in again.stdout
    assert head(server) == 100_002
    print(f"\n100k CSV on {server.store_url.split(':')[0]}: {first:.1f} s, again {second:.1f} s")


# ------------------------------------------------------------------ POST text/csv


def csv_post(server: Server, token: str, body: str, content_type: str = "text/csv") -> Any:
    with server.client(token) as client:
        return client.post(
            "/v1/events", content=body.encode("utf-8"), headers={"Content-Type": content_type}
        )


def test_a_csv_body_is_one_atomic_batch(server: Server) -> None:
    admit(server, "GH")
    ghana = server.token("authority", "GH")
    documents = [
        mine("GH-M1", "GH"),
        produced("GH-L1", "GH-M1", "10"),
        produced("GH-L2", "GH-M1", "0"),
    ]
    bad = csv_post(server, ghana, to_csv(documents), "text/csv; charset=utf-8")
    assert bad.status_code == 422, bad.text
    error = bad.json()["error"]
    assert (error["code"], error["index"], error["detail"]["line"]) == ("invalid", 2, 4)
    assert head(server) == 1

    good = csv_post(server, ghana, to_csv(documents[:2]))
    assert (good.status_code, good.json()) == (201, {"accepted": 2, "position": 3})
    assert csv_post(server, ghana, to_csv(documents[:2])).status_code == 200

    conflict = csv_post(server, ghana, to_csv([produced("GH-L1", "GH-M1", "5")]))
    assert conflict.status_code == 409
    assert conflict.json()["error"]["detail"]["line"] == 2
    assert csv_post(server, ghana, 'type,lot_id\nlot.flagged,"L1\n').status_code == 422
    assert head(server) == 3


def test_a_csv_body_outside_the_jurisdiction_is_403_and_writes_nothing(server: Server) -> None:
    admit(server, "GH", "AE")
    ghana = server.token("authority", "GH")
    documents = [mine("GH-M1", "GH"), mine("AE-M1", "AE")]
    refused = csv_post(server, ghana, to_csv(documents))
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"]["index"] == 1
    assert head(server) == 2


def test_a_csv_body_is_authenticated_before_it_is_parsed(server: Server) -> None:
    refused = csv_post(server, "not-a-token", '"not csv')
    assert refused.status_code == 401
    with server.client(server.token("secretariat")) as client:
        answer = client.post(
            "/v1/events",
            content=json.dumps(doc("participant.admitted", participant="GH", name="Ghana")),
            headers={"Content-Type": "application/json; charset=UTF-8"},
        )
    assert answer.status_code == 201, answer.text

"""Proofs for auditors from outside: a real `kpledger serve`, checked with only
`cryptography`, `rfc8785`, the answer of /v1/audit/key and the RFC 9162 verifier of
tests/unit/test_merkle.py."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from tests.conftest import Server
from tests.support import admitted, confirmed, export, flagged, mine, produced
from tests.unit.test_merkle import verify_consistency, verify_inclusion

EMPTY_ROOT = hashlib.sha256(b"").hexdigest()


def checked_checkpoint(answer: dict[str, Any], key: dict[str, str]) -> dict[str, Any]:
    """The checkpoint, once its note and its signature are checked against the key."""
    assert set(answer) == {"tree_size", "root", "note", "signature", "key_id"}
    root = bytes.fromhex(answer["root"])
    assert len(root) == 32 and answer["root"] == root.hex()
    assert answer["note"] == (
        f"kpledger\n{answer['tree_size']}\n{base64.b64encode(root).decode()}\n"
    )
    public = base64.b64decode(key["public_key"], validate=True)
    assert answer["key_id"] == key["key_id"] == hashlib.sha256(public).hexdigest()
    Ed25519PublicKey.from_public_bytes(public).verify(
        base64.b64decode(answer["signature"], validate=True), answer["note"].encode("utf-8")
    )
    return answer


def post(client: httpx.Client, *documents: dict[str, Any]) -> int:
    answer = client.post("/v1/events", json={"events": list(documents)})
    assert answer.status_code == 201, answer.text
    return int(answer.json()["position"])


def leaf_hash_of(entry: dict[str, Any]) -> bytes:
    """The leaf hash of an entry as GET /v1/events served it."""
    return hashlib.sha256(b"\x00" + rfc8785.dumps(entry)).digest()


def error_code(answer: httpx.Response, status: int) -> str:
    assert answer.status_code == status, answer.text
    return str(answer.json()["error"]["code"])


def test_checkpoints_and_proofs_verify_with_only_the_public_key(server: Server) -> None:
    secretariat = server.client(server.token("secretariat"))
    ghana = server.client(server.token("authority", "GH"))
    dubai = server.client(server.token("authority", "AE"))
    auditor = server.client(server.token("auditor"))
    key = httpx.get(f"{server.base_url}/v1/audit/key").json()
    assert key["algorithm"] == "ed25519"

    empty = checked_checkpoint(auditor.get("/v1/audit/checkpoint").json(), key)
    assert (empty["tree_size"], empty["root"]) == (0, EMPTY_ROOT)

    post(secretariat, admitted("GH"), admitted("AE"))
    post(ghana, mine("GH-M1", "GH"), produced("GH-L1", "GH-M1", "100"))
    post(ghana, export("GH-0001", "GH", "AE", ["GH-L1"], "100", declared_origin="GH"))
    earlier = checked_checkpoint(auditor.get("/v1/audit/checkpoint").json(), key)
    assert earlier["tree_size"] == 5
    post(dubai, confirmed("GH-0001", "100"))
    post(secretariat, flagged("GH-L1"), admitted("IN"))
    later = checked_checkpoint(auditor.get("/v1/audit/checkpoint").json(), key)
    assert later["tree_size"] == 8

    events = auditor.get("/v1/events", params={"limit": 100}).json()["events"]
    assert len(events) == 8
    for index, entry in enumerate(events):
        for checkpoint in (later, earlier):
            if index >= checkpoint["tree_size"]:
                continue
            proof = auditor.get(
                "/v1/audit/proof/inclusion",
                params={"position": entry["position"], "tree_size": checkpoint["tree_size"]},
            ).json()
            assert proof["leaf_hash"] == leaf_hash_of(entry).hex()
            assert (proof["position"], proof["leaf_index"]) == (entry["position"], index)
            assert (proof["tree_size"], proof["root"]) == (
                checkpoint["tree_size"],
                checkpoint["root"],
            )
            path = [bytes.fromhex(node) for node in proof["path"]]
            assert verify_inclusion(
                index,
                checkpoint["tree_size"],
                leaf_hash_of(entry),
                path,
                bytes.fromhex(checkpoint["root"]),
            )
    certified = next(entry for entry in events if entry["type"] == "export.certified")
    by_default = auditor.get(
        "/v1/audit/proof/inclusion", params={"position": certified["position"]}
    ).json()
    assert (by_default["tree_size"], by_default["root"]) == (8, later["root"])

    consistency = auditor.get(
        "/v1/audit/proof/consistency", params={"from_size": 5, "to_size": 8}
    ).json()
    assert consistency["from_root"] == earlier["root"]
    assert consistency["to_root"] == later["root"]
    assert verify_consistency(
        5,
        8,
        bytes.fromhex(earlier["root"]),
        bytes.fromhex(later["root"]),
        [bytes.fromhex(node) for node in consistency["path"]],
    )
    assert auditor.get("/v1/audit/proof/consistency", params={"from_size": 5}).json() == (
        consistency
    )
    same = auditor.get("/v1/audit/proof/consistency", params={"from_size": 8}).json()
    assert same == {
        "from_size": 8,
        "to_size": 8,
        "from_root": later["root"],
        "to_root": later["root"],
        "path": [],
    }

    # the command line answers as the server, from the same store and key
    printed = server.kpledger("checkpoint")
    assert printed.returncode == 0, printed.stderr
    assert json.loads(printed.stdout) == later


def test_who_may_ask_and_what_is_refused(server: Server) -> None:
    with server.client(server.token("secretariat")) as secretariat:
        post(secretariat, admitted("GH"), admitted("AE"), admitted("IN"))
    ghana = server.client(server.token("authority", "GH"))
    anonymous = server.client()
    bad_token = server.client("not-a-token")
    requests = [
        ("/v1/audit/checkpoint", {}),
        ("/v1/audit/proof/inclusion", {"position": 1}),
        ("/v1/audit/proof/consistency", {"from_size": 1}),
    ]
    for path, params in requests:
        assert error_code(anonymous.get(path, params=params), 401) == "unauthenticated"
        assert error_code(bad_token.get(path, params=params), 401) == "unauthenticated"
        assert error_code(ghana.get(path, params=params), 403) == "forbidden"
        for role in ("secretariat", "investigator", "auditor"):
            with server.client(server.token(role)) as reader:
                assert reader.get(path, params=params).status_code == 200, (path, role)
    assert anonymous.get("/v1/audit/key").status_code == 200

    auditor = server.client(server.token("auditor"))
    for params in (
        {"position": 4},
        {"position": 0},
        {"position": -1},
        {"position": 3, "tree_size": 2},
        {"position": 10**30},
        {"position": -(10**30)},
    ):
        answer = auditor.get("/v1/audit/proof/inclusion", params=params)
        assert error_code(answer, 404) == "not_found", params
    for params in (
        {},
        {"position": "one"},
        {"position": "1.5"},
        {"position": 1, "tree_size": 0},
        {"position": 1, "tree_size": 4},
        {"position": 1, "tree_size": -2},
        {"position": 1, "tree_size": "all"},
        {"position": 1, "tree_size": 10**30},
    ):
        answer = auditor.get("/v1/audit/proof/inclusion", params=params)
        assert error_code(answer, 422) == "invalid", params
    for params in (
        {},
        {"from_size": 0},
        {"from_size": 4},
        {"from_size": 2, "to_size": 1},
        {"from_size": 1, "to_size": 4},
        {"from_size": 1, "to_size": 0},
        {"from_size": "x"},
        {"from_size": 10**30},
    ):
        answer = auditor.get("/v1/audit/proof/consistency", params=params)
        assert error_code(answer, 422) == "invalid", params


def test_the_key_is_made_0600_reused_on_restart_and_never_shown(
    server: Server, tmp_path: Path
) -> None:
    key_file = tmp_path / "kpledger-signing.pem"
    assert key_file.stat().st_mode & 0o777 == 0o600
    pem = key_file.read_text()
    secret_lines = [line for line in pem.splitlines() if "-----" not in line]
    key = httpx.get(f"{server.base_url}/v1/audit/key").json()

    auditor_token = server.token("auditor")
    with server.client(server.token("secretariat")) as secretariat:
        post(secretariat, admitted("GH"))
    answers = []
    with server.client(auditor_token) as auditor:
        for path in (
            "/v1/audit/checkpoint",
            "/v1/audit/key",
            "/v1/audit/verify",
            "/v1/events",
            "/v1/audit/proof/inclusion?position=1",
            "/v1/audit/proof/consistency?from_size=1",
            "/openapi.json",
        ):
            answers.append(auditor.get(path).text)
    server.stop()
    stderr = server.stderr_text()

    server.start()
    assert httpx.get(f"{server.base_url}/v1/audit/key").json() == key
    assert key_file.read_text() == pem
    printed = server.kpledger("checkpoint")
    for text in [*answers, stderr, printed.stdout, printed.stderr]:
        assert "PRIVATE KEY" not in text
        for line in secret_lines:
            assert line not in text
    if server.store_url.startswith("sqlite:"):
        stored = Path(server.store_url.removeprefix("sqlite:///")).read_bytes()
        assert all(line.encode() not in stored for line in secret_lines)


def test_a_malformed_key_file_stops_serve_and_checkpoint_with_one_line(
    store_url: str, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.pem"
    broken.write_text("-----BEGIN PRIVATE KEY-----\nnot base64 at all\n-----END PRIVATE KEY-----\n")
    server = Server(store_url, tmp_path)
    server.env["KPLEDGER_SIGNING_KEY"] = str(broken)
    for command in (
        ("serve", "--port", "1"),
        ("checkpoint",),
        ("audit", "check", "--checkpoint", str(broken)),
    ):
        done = server.kpledger(*command)
        assert done.returncode == 2, (command, done.stdout, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and str(broken) in lines[0], done.stderr
        assert "Traceback" not in done.stderr and "not base64" not in done.stderr
    server.env["KPLEDGER_SIGNING_KEY"] = str(tmp_path)  # a folder: unreadable
    done = server.kpledger("checkpoint")
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_key_create_makes_a_key_and_refuses_to_overwrite(tmp_path: Path, sqlite_url: str) -> None:
    server = Server(sqlite_url, tmp_path)
    path = tmp_path / "signing.pem"
    done = server.kpledger("key", "create", "--out", str(path))
    assert done.returncode == 0, done.stderr
    assert path.stat().st_mode & 0o777 == 0o600
    key_id = done.stdout.strip().splitlines()[-1]
    pem = path.read_text()
    assert pem not in done.stdout

    again = server.kpledger("key", "create", "--out", str(path))
    assert again.returncode == 1
    assert len(again.stderr.strip().splitlines()) == 1 and "exists" in again.stderr
    assert path.read_text() == pem

    server.env["KPLEDGER_SIGNING_KEY"] = str(path)
    assert server.kpledger("token", "create", "--role", "auditor", "--name", "a").returncode == 0
    printed = server.kpledger("checkpoint")  # of the store the token made
    assert printed.returncode == 0, printed.stderr
    assert json.loads(printed.stdout)["key_id"] == key_id
    assert not (tmp_path / "kpledger-signing.pem").exists()


def readme_script() -> str:
    """The verification script of README.md's "Proofs for auditors"."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    after = readme.split("`verify_kpledger.py` needs only", 1)[1]
    return after.split("```python\n", 1)[1].split("```", 1)[0]


def test_the_readmes_verification_script_proves_an_entry_and_catches_a_forgery(
    server: Server, tmp_path: Path
) -> None:
    with server.client(server.token("secretariat")) as secretariat:
        post(secretariat, admitted("GH"), admitted("AE"))
    with server.client(server.token("authority", "GH")) as ghana:
        post(ghana, mine("GH-M1", "GH"), produced("GH-L1", "GH-M1", "100"))
        position = post(
            ghana, export("GH-0001", "GH", "AE", ["GH-L1"], "100", declared_origin="GH")
        )
    auditor = server.client(server.token("auditor"))
    files = {
        "key.json": httpx.get(f"{server.base_url}/v1/audit/key").text,
        "cp1.json": auditor.get("/v1/audit/checkpoint").text,
        "entry.json": auditor.get("/v1/events", params={"after": position - 1, "limit": 1}).text,
        "inclusion.json": auditor.get(
            "/v1/audit/proof/inclusion", params={"position": position}
        ).text,
    }
    with server.client(server.token("authority", "AE")) as dubai:
        post(dubai, confirmed("GH-0001", "100"))
    files["cp2.json"] = auditor.get("/v1/audit/checkpoint").text
    files["consistency.json"] = auditor.get(
        "/v1/audit/proof/consistency", params={"from_size": 5}
    ).text
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    script = tmp_path / "verify_kpledger.py"
    script.write_text(readme_script(), encoding="utf-8")
    names = ["key.json", "cp1.json", "cp2.json", "entry.json", "inclusion.json"]

    def verified(*arguments: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(script), *arguments],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )

    done = verified(*names, "consistency.json")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith(f"OK: entry {position} is among the 5 entries")

    forged = json.loads(files["entry.json"])
    forged["events"][0]["document"]["carats"] = "10.00"
    (tmp_path / "forged.json").write_text(json.dumps(forged))
    done = verified(*names[:3], "forged.json", "inclusion.json", "consistency.json")
    assert done.returncode != 0 and "not in the log" in done.stderr
    resigned = json.loads(files["cp2.json"])
    resigned["signature"] = json.loads(files["cp1.json"])["signature"]
    (tmp_path / "resigned.json").write_text(json.dumps(resigned))
    done = verified(*names[:2], "resigned.json", *names[3:], "consistency.json")
    assert done.returncode != 0 and "bad signature" in done.stderr
    rewritten = json.loads(files["consistency.json"])
    rewritten["path"][0] = "00" * 32
    (tmp_path / "rewritten.json").write_text(json.dumps(rewritten))
    done = verified(*names, "rewritten.json")
    assert done.returncode != 0 and "rewritten" in done.stderr

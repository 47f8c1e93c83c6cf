"""`kpledger witness vkey` and `serve` refusing what they cannot use, in one line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.e2e.witnesses import WitnessProcess, witness_vkey


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "api.cli", "witness", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_vkey_creates_the_key_once_and_prints_the_same_vkey(tmp_path: Path) -> None:
    key = tmp_path / "w.pem"
    first = witness_vkey(key, "witness.example/w")
    assert key.stat().st_mode & 0o777 == 0o600
    assert witness_vkey(key, "witness.example/w") == first
    assert first.startswith("witness.example/w+") and first.split("+", 2)[2].startswith("B")
    bad = _run("vkey", "--key", str(key), "--name", "two words")
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1


def test_serve_refuses_a_cosigner_key_as_a_log_and_a_folder_in_use(tmp_path: Path) -> None:
    log_like = witness_vkey(tmp_path / "other.pem", "not.a.log/key")  # a type 0x04 vkey
    key = str(tmp_path / "w.pem")
    refused = _run("serve", "--key", key, "--name", "w", "--log", log_like)
    assert refused.returncode == 2 and "Ed25519 key (type 0x01)" in refused.stderr
    garbled = _run("serve", "--key", key, "--name", "w", "--log", "nonsense")
    assert garbled.returncode == 2 and len(garbled.stderr.strip().splitlines()) == 1
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from ledger.note import NoteSigner
    from ledger.signing import SigningKey

    log = NoteSigner("kpledger", SigningKey(Ed25519PrivateKey.generate())).verifier.vkey
    running = WitnessProcess(tmp_path / "w", "witness.example/w", log).start()
    try:
        second = _run(
            "serve",
            "--key",
            str(running.key),
            "--name",
            "witness.example/w",
            "--log",
            log,
            "--state",
            str(tmp_path / "w" / "state"),
            "--port",
            "1",
        )
        assert second.returncode == 2 and "another witness process" in second.stderr
    finally:
        running.stop()

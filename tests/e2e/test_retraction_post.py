"""`kpledger post` of a file holding a retraction and the corrected document, as one batch,
against a real `kpledger serve`; the reads answer with the correction at once."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Server
from tests.e2e.test_post import admit, head, post, read_log
from tests.support import doc, mine, produced
from tests.unit.test_files import to_csv


def test_a_file_with_a_retraction_and_the_corrected_document_is_one_batch(
    server: Server, tmp_path: Path
) -> None:
    secretariat = admit(server, "GH")
    ghana = server.token("authority", "GH")
    wrong = produced("GH-L1", "GH-M1", "1600.00", "24000.00")
    first = tmp_path / "production.jsonl"
    first.write_text("\n".join(json.dumps(d) for d in (mine("GH-M1", "GH"), wrong)) + "\n")
    assert post(server, first, ghana).returncode == 0
    position = head(server)

    retraction = doc(
        "document.retracted", retracted_event_id=wrong["event_id"], reason="mistyped carats"
    )
    corrected = produced("GH-L1", "GH-M1", "160.00", "24000.00")
    fix = tmp_path / "correction.csv"
    fix.write_text(to_csv([retraction, corrected]), encoding="utf-8")
    done = post(server, fix, ghana)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == (
        f"batch 1: lines 2-3, 2 documents, 201 accepted 2, position {position + 2}"
    )
    with server.client(secretariat) as client:
        assert client.get("/v1/lots/GH-L1").json()["carats"] == "160.00"
        history = client.get("/v1/lots/GH-L1/history").json()["events"]
        old = client.get("/v1/lots/GH-L1", params={"as_of": position}).json()
    assert [(e["type"], e.get("retracted_by")) for e in history] == [
        ("lot.produced", position + 1),
        ("document.retracted", None),
        ("lot.produced", None),
    ]
    assert old["carats"] == "1600.00"
    assert [e["type"] for e in read_log(server, secretariat)][-3:] == [
        "lot.produced",
        "document.retracted",
        "lot.produced",
    ]
    again = post(server, fix, ghana)  # posting the file again is safe
    assert again.returncode == 0, again.stderr
    assert head(server) == position + 2

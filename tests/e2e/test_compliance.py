"""Compliance through a real `kpledger serve`: reports over HTTP, and due days checked at start."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import free_port
from tests.support import admitted, report


def test_reports_posted_and_read_over_http(server: Any) -> None:
    ghana, guinea = server.token("authority", "GH"), server.token("authority", "GN")
    with server.client(server.token("secretariat")) as secretariat:
        posted = secretariat.post(
            "/v1/events",
            json={
                "events": [
                    {**admitted("GH"), "occurred_at": "2005-12-31T12:00:00Z"},
                    {**admitted("GN"), "occurred_at": "2003-01-01T00:00:00Z"},
                ]
            },
        )
        assert posted.status_code == 201, posted.text
    with server.client(ghana) as client:
        submitted = client.post("/v1/events", json=report("GH", 2005, "statistics", "2006-03-31"))
        assert submitted.status_code == 201, submitted.text
        again = client.post("/v1/events", json=report("GH", 2005, "statistics", "2006-04-02"))
        assert (again.status_code, again.json()["error"]["code"]) == (409, "duplicate_id")
        assert client.post("/v1/events", json=report("GN", 2005)).status_code == 403
        assert client.post("/v1/events", json=report("GH", 2005, "census")).status_code == 422
        own = client.get("/v1/compliance", params={"year": "2005"})
        assert own.status_code == 200
        (row,) = own.json()["participants"]
        assert row["participant"] == "GH"
        assert row["reports"]["statistics"]["state"] == "submitted"
        assert row["reports"]["annual_report"]["state"] == "overdue"
        refused = client.get("/v1/compliance", params={"year": "2005", "participant": "GN"})
        assert refused.status_code == 403
        before = client.get("/v1/compliance", params={"year": "2005", "as_of": "1"}).json()
        assert before["participants"][0]["reports"]["statistics"]["state"] == "overdue"
    with server.client(guinea) as client:
        text = client.get("/v1/compliance", params={"year": "2005", "format": "csv"})
        assert text.headers["content-type"].startswith("text/csv")
        assert text.text.splitlines()[1:] == [
            "2005,GN,report,statistics,2006-03-31,,overdue,,,,,,",
            "2005,GN,report,annual_report,2006-06-30,,overdue,,,,,,",
        ]


@pytest.mark.parametrize(
    ("variable", "value"),
    [("KPLEDGER_STATISTICS_DUE", "02-30"), ("KPLEDGER_ANNUAL_REPORT_DUE", "June 30")],
)
def test_a_bad_due_day_fails_the_start_with_one_line(
    tmp_path: Path, variable: str, value: str
) -> None:
    env = {
        **os.environ,
        "KPLEDGER_DATABASE_URL": f"sqlite:///{tmp_path / 'ledger.db'}",
        variable: value,
    }
    done = subprocess.run(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(free_port())],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"kpledger: {variable}: ") and value in lines[0]
    assert not (tmp_path / "ledger.db").exists()

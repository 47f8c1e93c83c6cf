"""`kpledger post`: a file of documents sent to a running service, in batches.

Each batch is `POST /v1/events` with `{"events": [...]}`; numbers read from the
file travel as they were written (exact decimals, never through binary floats).
The first refused batch stops the upload. Exit codes: 0 everything accepted;
1 a batch was refused (fix the file); 2 the service could not be reached or
failed (retry: documents already accepted are skipped).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from json.encoder import encode_basestring
from typing import Any

import httpx
from tqdm import tqdm

from ledger.files import Sourced

__all__ = ["EXIT_REFUSED", "EXIT_UNREACHABLE", "TIMEOUT", "dumps", "upload"]

EXIT_REFUSED = 1
EXIT_UNREACHABLE = 2
TIMEOUT = httpx.Timeout(300.0, connect=10.0)


def dumps(value: Any) -> str:
    """JSON text of a document read from a file; a Decimal is written as its exact number."""
    if isinstance(value, str):
        return encode_basestring(value)
    if isinstance(value, dict):
        return (
            "{"
            + ",".join(f"{encode_basestring(str(k))}:{dumps(v)}" for k, v in value.items())
            + "}"
        )
    if isinstance(value, list):
        return "[" + ",".join(dumps(item) for item in value) + "]"
    if isinstance(value, Decimal):
        return str(value)
    return json.dumps(value)


@dataclass
class _Tally:
    batches: int = 0
    sent: int = 0
    appended: int = 0
    present: int = 0

    @property
    def accepted(self) -> int:
        return self.appended + self.present


class _Stop(Exception):
    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def upload(
    documents: Sequence[Sourced],
    *,
    url: str,
    token: str,
    batch_size: int,
    file_name: str,
    progress: bool,
) -> int:
    """Posts `documents` in batches, printing one line per batch and a summary; the exit code."""
    endpoint = url.rstrip("/") + "/v1/events"
    tally = _Tally()
    started = time.perf_counter()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    try:
        with (
            httpx.Client(headers=headers, timeout=TIMEOUT) as client,
            tqdm(total=len(documents), unit="doc", file=sys.stderr, disable=not progress) as bar,
        ):
            for start in range(0, len(documents), batch_size):
                batch = documents[start : start + batch_size]
                line = _post_batch(client, endpoint, batch, tally, file_name)
                tqdm.write(line, file=sys.stdout)
                bar.update(len(batch))
    except _Stop as stop:
        print(f"kpledger post: {stop}", file=sys.stderr)
        print(
            f"stopped at batch {tally.batches}: {tally.sent} of {_count(len(documents))} "
            f"sent, {tally.appended} appended, {tally.present} already present, "
            f"{time.perf_counter() - started:.1f} s"
        )
        return stop.exit_code
    print(
        f"done: {_count(tally.sent)} sent in {_count(tally.batches, 'batch')}, "
        f"{tally.appended} appended, {tally.present} already present, "
        f"{time.perf_counter() - started:.1f} s"
    )
    return 0


def _count(number: int, noun: str = "document") -> str:
    plural = "es" if noun.endswith("ch") else "s"
    return f"{number} {noun}{'' if number == 1 else plural}"


def _post_batch(
    client: httpx.Client, endpoint: str, batch: Sequence[Sourced], tally: _Tally, file_name: str
) -> str:
    """Sends one batch; its line for stdout, or `_Stop` when it was not accepted."""
    tally.batches += 1
    number = tally.batches
    first, last = batch[0].line, batch[-1].line
    lines = f"line {first}" if first == last else f"lines {first}-{last}"
    body = '{"events":[' + ",".join(dumps(item.document) for item in batch) + "]}"
    before = f"{_count(tally.accepted)} accepted before it"
    try:
        response = client.post(endpoint, content=body.encode("utf-8"))
    except httpx.TimeoutException:
        raise _Stop(
            f"batch {number} ({lines}): no answer from {endpoint} within {TIMEOUT.read:.0f} s; "
            f"{before}; the batch may have been appended: posting the file again is safe",
            EXIT_UNREACHABLE,
        ) from None
    except httpx.TransportError as error:
        reason = str(error) or type(error).__name__
        raise _Stop(
            f"cannot reach {endpoint} ({reason}); is `kpledger serve` running there? {before}",
            EXIT_UNREACHABLE,
        ) from None
    tally.sent += len(batch)
    answer = _json_or_none(response)
    if (
        response.status_code in (200, 201)
        and isinstance(answer, dict)
        and isinstance(answer.get("accepted"), int)
        and "position" in answer
    ):
        appended = answer["accepted"] if response.status_code == 201 else 0
        tally.appended += appended
        tally.present += len(batch) - appended
        head = f"batch {number}: {lines}, {_count(len(batch))}"
        if response.status_code == 200:
            return f"{head}, 200 already accepted, skipped, position {answer['position']}"
        present = f", {len(batch) - appended} already present" if appended < len(batch) else ""
        return f"{head}, 201 accepted {appended}{present}, position {answer['position']}"
    problem = answer.get("error") if isinstance(answer, dict) else None
    if not isinstance(problem, dict):
        exit_code = EXIT_UNREACHABLE if response.status_code >= 500 else EXIT_REFUSED
        text = " ".join(response.text.split())[:200]
        raise _Stop(
            f"batch {number} ({lines}): unexpected answer {response.status_code} from "
            f"{endpoint}: {text}; {before}",
            exit_code,
        )
    code, message = problem.get("code"), problem.get("message")
    index = problem.get("index")
    where = ""
    if isinstance(index, int) and 0 <= index < len(batch) and response.status_code != 401:
        where = f" at line {batch[index].line} of {file_name}"
    hint = ""
    if response.status_code == 401:
        hint = " (check --token or KPLEDGER_TOKEN)"
    exit_code = EXIT_UNREACHABLE if response.status_code >= 500 else EXIT_REFUSED
    raise _Stop(
        f"batch {number} ({lines}) refused{where}: {response.status_code} {code}: {message}"
        f"{hint}; {before}, none of batch {number}",
        exit_code,
    )


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None

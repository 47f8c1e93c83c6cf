"""The HTTP contract the OpenAPI document states, operation by operation, against a committed
snapshot: each operation's parameters (name, place, required, type), its request body's
schema, and its answers' statuses, media types and schemas. Its operationId is left out on
purpose: it is a name for client generators, not part of what the service answers.

A deliberate change of the contract regenerates the snapshot, and the diff says what
changed: `.venv/bin/python -m tests.unit.test_openapi_contract > tests/unit/openapi_contract.json`.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts

from api.app import create_app, generated_text
from api.settings import Settings
from ledger.application import Ledger

SNAPSHOT = Path(__file__).with_name("openapi_contract.json")


def _reference(schema: dict[str, Any]) -> Any:
    """What a schema refers to: its `$ref`, the references of a union, or its type."""
    if "$ref" in schema:
        return schema["$ref"]
    for union in ("oneOf", "anyOf"):
        if union in schema:
            return {union: [_reference(member) for member in schema[union]]}
    return schema.get("type")


def _parameter(parameter: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": parameter["name"],
        "in": parameter["in"],
        "required": parameter.get("required", False),
        "type": _reference(parameter.get("schema", {})),
    }


def _content(described: dict[str, Any]) -> dict[str, Any]:
    return {
        media_type: _reference(media.get("schema", {}))
        for media_type, media in sorted(described.get("content", {}).items())
    }


def contract(spec: dict[str, Any]) -> dict[str, Any]:
    """Per `METHOD path`: parameters, request body and answers, without the operationId."""
    operations: dict[str, Any] = {}
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            body = operation.get("requestBody")
            operations[f"{method.upper()} {path}"] = {
                "parameters": sorted(
                    (_parameter(p) for p in operation.get("parameters", [])),
                    key=lambda p: (p["in"], p["name"]),
                ),
                "request_body": None if body is None else _content(body),
                "responses": {
                    status: _content(answer)
                    for status, answer in sorted(operation["responses"].items())
                },
                "token": "security" in operation,
            }
    return dict(sorted(operations.items()))


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    folder = tmp_path_factory.mktemp("contract")
    url = f"sqlite:///{folder / 'contract.db'}"
    ledger = Ledger.open(url)
    yield create_app(Settings(database_url=url, signing_key=folder / "key.pem"), ledger)
    ledger.close()


@pytest.fixture(scope="module")
def spec(app: FastAPI) -> dict[str, Any]:
    return app.openapi()


def test_the_operations_answer_what_the_snapshot_says(spec: dict[str, Any]) -> None:
    committed = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    live = contract(spec)
    assert sorted(live) == sorted(committed), "operations added or removed"
    for operation, expected in committed.items():
        assert live[operation] == expected, operation


def test_a_changed_answer_is_found(spec: dict[str, Any]) -> None:
    changed = json.loads(json.dumps(spec))
    del changed["paths"]["/v1/lots/{lot_id}"]["get"]["responses"]["404"]
    assert contract(changed) != contract(spec)


def test_operation_ids_are_the_route_functions_names_and_unique(
    app: FastAPI, spec: dict[str, Any]
) -> None:
    ids = Counter(
        operation["operationId"]
        for methods in spec["paths"].values()
        for operation in methods.values()
    )
    assert [name for name, count in ids.items() if count > 1] == []
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", name) for name in ids), sorted(ids)
    endpoints = {
        context.original_route.endpoint.__name__
        for context in iter_route_contexts(app.routes)
        if isinstance(context.original_route, APIRoute) and context.original_route.include_in_schema
    }
    assert set(ids) == endpoints
    provenance = spec["paths"]["/v1/lots/{lot_id}/provenance"]["get"]
    assert provenance["operationId"] == "get_provenance"


if __name__ == "__main__":
    print(json.dumps(contract(json.loads(generated_text())), indent=2))

"""The OpenAPI document against the application that serves it, over the demonstration world.

Every path and method it lists is answered with a status it documents; every successful
answer matches its documented schema and media type; the request body's document union
covers every document type; /docs and /redoc load only local files; and the committed
docs/openapi.json is the generated document.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api import schemas
from api.app import create_app, generated_text
from api.schemas import ErrorBody
from api.settings import Settings
from ledger.application import Ledger
from ledger.documents import DOCUMENT_TYPES, parse_document
from ledger.files import read_csv
from worlds.demo import load_demo

ROOT = Path(__file__).resolve().parents[2]

PATH_VALUES = {
    "lot_id": "GH-ACC-2005-0412",
    "certificate_id": "GH-2005-0412",
    "operator_id": "GH-ACCRA-EXPORTERS",
    "level": "0",
    "path": "000.p/1",
}
QUERIES: dict[str, dict[str, Any]] = {
    "/v1/events": {"limit": 3},
    "/v1/certificates/{certificate_id}/verify": {"carats": "2310.00", "value_usd": "69300"},
    "/v1/trace/downstream": {"lot_id": "GH-ACC-2005-0412"},
    "/v1/graph": {"root": "GH-KAD-2006-0201"},
    "/v1/audit/proof/inclusion": {"position": 2},
    "/v1/audit/proof/consistency": {"from_size": 3},
    "/v1/statistics": {"year": 2005},
    "/v1/statistics/public": {"year": 2005},
    "/v1/compliance": {"year": 2005},
    "/v1/search": {"q": "GH"},
    "/v1/paths": {"from": "GH-AKWATIA", "to": "AE-DXB-ROUGH"},
}


class Demo:
    def __init__(self, client: TestClient, tokens: dict[str, str], document: dict[str, Any]):
        self.client = client
        self.tokens = tokens
        self.document = document
        self.spec: dict[str, Any] = client.get("/openapi.json").json()

    def operations(self) -> Iterator[tuple[str, str, dict[str, Any]]]:
        for path, operations in self.spec["paths"].items():
            for method, operation in operations.items():
                yield method, path, operation

    def call(self, method: str, path: str, token: str | None, **query: Any) -> Any:
        url = path.format(**PATH_VALUES)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if method == "post":
            return self.client.post(url, json=self.document, headers=headers)
        return self.client.request(method.upper(), url, params=query, headers=headers)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    folder = tmp_path_factory.mktemp("openapi")
    url = f"sqlite:///{folder / 'demo.db'}"
    ledger = Ledger.open(url)
    result = load_demo(ledger)
    from worlds.demo import demo_documents

    document = next(d for _, d in demo_documents() if d["type"] == "participant.admitted")
    app = create_app(Settings(database_url=url, signing_key=folder / "key.pem"), ledger)
    with TestClient(app) as client:
        yield Demo(client, result.tokens, document)
    ledger.close()


def test_every_operation_without_a_token_answers_a_documented_status(demo: Demo) -> None:
    checked = 0
    for method, path, operation in demo.operations():
        answer = demo.call(method, path, None)
        assert str(answer.status_code) in operation["responses"], (method, path, answer.text)
        if "security" in operation:
            assert answer.status_code == 401, (method, path)
            assert ErrorBody.model_validate(answer.json()).error.code == "unauthenticated"
        else:
            assert answer.status_code != 401, (method, path)
        checked += 1
    assert checked >= 24


def test_every_successful_answer_matches_its_documented_schema(demo: Demo) -> None:
    token = demo.tokens["demo-secretariat"]  # posts participant.admitted and reads everything
    for method, path, operation in demo.operations():
        answer = demo.call(method, path, token, **QUERIES.get(path, {}))
        status = str(answer.status_code)
        assert status in operation["responses"] and status.startswith("2"), (path, answer.text)
        media_type = answer.headers["content-type"].partition(";")[0]
        assert media_type in operation["responses"][status]["content"], (path, media_type)
        schema = operation["responses"][status]["content"][media_type].get("schema", {})
        if "$ref" in schema:  # the model the route declares, from api/schemas.py
            getattr(schemas, schema["$ref"].rpartition("/")[2]).model_validate(answer.json())
        elif media_type == "application/octet-stream":
            assert path.startswith("/tile/")
        else:
            assert media_type == "text/plain"
            assert path in ("/metrics", "/checkpoint", "/v1/certificates/{certificate_id}/proof")


def test_the_other_media_types_served_are_documented(demo: Demo) -> None:
    token = demo.tokens["demo-investigator"]
    cases = [
        ("/v1/graph", {"root": "GH-KAD-2006-0201", "format": "graphml"}),
        ("/v1/graph", {"root": "GH-KAD-2006-0201", "format": "ftm"}),
        ("/v1/statistics", {"year": 2005, "format": "csv"}),
        ("/v1/statistics/public", {"year": 2005, "format": "csv"}),
        ("/v1/compliance", {"year": 2005, "format": "csv"}),
    ]
    for path, query in cases:
        answer = demo.call("get", path, token, **query)
        assert answer.status_code == 200, answer.text
        media_type = answer.headers["content-type"].partition(";")[0]
        assert media_type in demo.spec["paths"][path]["get"]["responses"]["200"]["content"]
    assert media_type == "text/csv"
    graph = demo.call("get", "/v1/graph", token, root="GH-KAD-2006-0201", format="graphml")
    assert graph.headers["content-type"].startswith("application/graphml+xml")


def test_refusals_have_the_documented_shape_and_code(demo: Demo) -> None:
    ghana, auditor = demo.tokens["demo-authority-GH"], demo.tokens["demo-auditor"]
    schemas = demo.spec["components"]["schemas"]
    refusals = [
        ("get", "/v1/lots/{lot_id}", auditor, {"as_of": "yesterday"}, 422),
        ("get", "/v1/events", ghana, {}, 403),
        ("post", "/v1/events", auditor, {}, 403),
        ("get", "/v1/audit/proof/inclusion", auditor, {"position": 10**9}, 404),
    ]
    for method, path, token, query, status in refusals:
        answer = demo.call(method, path, token, **query)
        assert answer.status_code == status, answer.text
        assert str(status) in demo.spec["paths"][path][method]["responses"]
        code = ErrorBody.model_validate(answer.json()).error.code
        codes = schemas[f"Error{status}"]["properties"]["error"]["properties"]["code"]["enum"]
        assert code in codes
    unknown = demo.client.get("/v1/lots/NOPE", headers={"Authorization": f"Bearer {auditor}"})
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"


def test_the_request_body_is_the_document_union_with_csv(demo: Demo) -> None:
    body = demo.spec["paths"]["/v1/events"]["post"]["requestBody"]
    assert set(body["content"]) == {"application/json", "text/csv"}
    (row,) = read_csv(body["content"]["text/csv"]["example"])
    assert parse_document(row.document).model_dump(mode="json")["type"] == "lot.produced"
    schemas = demo.spec["components"]["schemas"]
    union = schemas["Document"]
    assert union["discriminator"]["propertyName"] == "type"
    assert set(union["discriminator"]["mapping"]) == set(DOCUMENT_TYPES)
    for name, model in DOCUMENT_TYPES.items():
        schema = schemas[model.__name__]
        assert schema["properties"]["type"]["const"] == name
        for example in schema.get("examples", []):
            assert parse_document(example).model_dump(mode="json")["type"] == name
    assert all(schemas[model.__name__].get("examples") for model in DOCUMENT_TYPES.values())
    assert schemas["Batch"]["properties"]["events"]["maxItems"] == 10_000
    assert demo.spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_reference_pages_load_only_local_files(demo: Demo, page: str) -> None:
    html = demo.client.get(page)
    assert html.status_code == 200 and "text/html" in html.headers["content-type"]
    urls = re.findall(r"""(?:src|href|spec-url)=["']([^"']+)""", html.text)
    urls += re.findall(r"""url: ?['"]([^'"]+)""", html.text)
    assert len(urls) >= 3, html.text
    for url in urls:
        assert url.startswith("/") and not url.startswith("//"), url
        asset = demo.client.get(url)
        assert asset.status_code == 200 and asset.content, url
    assert "http://" not in html.text and "https://" not in html.text


def test_the_committed_reference_is_the_generated_one() -> None:
    committed = (ROOT / "docs" / "openapi.json").read_text(encoding="utf-8")
    assert committed == generated_text(), "run: kpledger openapi > docs/openapi.json"

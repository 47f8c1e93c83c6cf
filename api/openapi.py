"""The OpenAPI document: what FastAPI derives from the routes, completed for real use.

FastAPI sees neither the body of `POST /v1/events` (read by hand, to bound its size) nor
the answers (plain dicts), nor the errors (raised as `LedgerError`). `openapi(app)` adds:
the document union discriminated by `type` (one document, a batch, or `text/csv`); each
answer's schema (`api/schemas.py`) with an example from the demonstration world; every
error status an operation can give, in the protocol's `{"error": {...}}` shape with its
codes; the CSV and GraphML media types; and the bearer scheme behind "Authorize".
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from api.schemas import RESPONSES, ErrorBody
from ledger.documents import DOCUMENT_TYPES, MAX_BATCH
from ledger.errors import STATUS_BY_CODE

__all__ = ["error_statuses", "openapi"]

_REF = "#/components/schemas/{model}"

_FORBIDDEN = {
    ("post", "/v1/events"),
    ("get", "/v1/events"),
    ("get", "/v1/lots/{lot_id}"),
    ("get", "/v1/lots/{lot_id}/provenance"),
    ("get", "/v1/lots/{lot_id}/custody"),
    ("get", "/v1/lots/{lot_id}/history"),
    ("get", "/v1/certificates/{certificate_id}"),
    ("get", "/v1/operators/{operator_id}"),
    ("get", "/v1/trace/downstream"),
    ("get", "/v1/graph"),
    ("get", "/v1/audit/verify"),
    ("get", "/v1/audit/checkpoint"),
    ("get", "/v1/audit/proof/inclusion"),
    ("get", "/v1/audit/proof/consistency"),
    ("get", "/tile/entries/{path}"),
    ("get", "/v1/certificates/{certificate_id}/proof"),
    ("get", "/v1/statistics"),
    ("get", "/v1/compliance"),
    ("get", "/metrics"),
    ("get", "/tile/entries/{path}"),
    ("get", "/tile/{level}/{path}"),
    ("get", "/v1/certificates/{certificate_id}/proof"),
}
_NOT_FOUND = {
    ("get", "/v1/lots/{lot_id}"),
    ("get", "/v1/lots/{lot_id}/provenance"),
    ("get", "/v1/lots/{lot_id}/custody"),
    ("get", "/v1/lots/{lot_id}/history"),
    ("get", "/v1/certificates/{certificate_id}"),
    ("get", "/v1/operators/{operator_id}"),
    ("get", "/v1/trace/downstream"),
    ("get", "/v1/graph"),
    ("get", "/v1/audit/proof/inclusion"),
    ("get", "/metrics"),
}
_NO_STORE = {("get", "/v1/audit/key")}
"""Operations that never touch the store, so never answer 503."""

_CSV = {("get", "/v1/statistics"), ("get", "/v1/statistics/public"), ("get", "/v1/compliance")}

_ERROR_EXAMPLES: dict[int, dict[str, Any]] = {
    401: {"code": "unauthenticated", "message": "send Authorization: Bearer <token>"},
    403: {"code": "forbidden", "message": "GH has never held lot 'RU-MIR-2005-0001'"},
    404: {"code": "not_found", "message": "no lot 'GH-ACC-2005-9999'"},
    409: {
        "code": "embargoed_origin",
        "message": "lot AE-DXB-2006-0031 holds carats from a source under embargo UNSC-1643-CI",
        "detail": {
            "embargo_id": "UNSC-1643-CI",
            "lot_id": "AE-DXB-2006-0031",
            "carats": "1050.00",
            "fraction": 0.75,
        },
    },
    413: {
        "code": "too_large",
        "message": "the body is larger than 8388608 bytes (KPLEDGER_MAX_BODY_BYTES)",
        "detail": {"limit": 8388608},
    },
    415: {
        "code": "unsupported_media_type",
        "message": "Content-Type 'text/plain': send application/json, or text/csv",
        "detail": {"content_type": "text/plain"},
    },
    422: {"code": "invalid", "message": "lot.produced: carats: at most 2 decimal places"},
    503: {"code": "unavailable", "message": "the store cannot be reached; try again"},
}
_ERROR_TITLES = {
    401: "Missing or unknown token",
    403: "The token's role or jurisdiction does not allow this",
    404: "Unknown id",
    409: "Refused by a rule of the protocol",
    413: "The body is larger than KPLEDGER_MAX_BODY_BYTES",
    415: "A body neither JSON nor CSV (unsupported_media_type), or in a charset other "
    "than UTF-8, and for CSV ISO-8859-1 or Windows-1252 (unsupported_charset)",
    422: "Malformed request",
    503: "The store is away (unavailable: nothing was written) or a write's outcome is "
    "unknown (outcome_unknown: post the same documents again); retry after Retry-After",
}

_EXAMPLES: dict[tuple[str, str], Any] = {
    ("get", "/v1/keys"): {
        "keys": [
            {
                "key_id": "af6aa4070b87e12273f1013ee7a0baafa0c0a23d2b9f6d1474c2cb6014bf7963",
                "participant": "GH",
                "name": "Minerals Commission of Ghana (demo key)",
                "public_key": "SoeOjr1LqjRfnP5ZXwB8cxMZM9pSaa3eD1i3OJ7xUEc=",
                "registered_position": 10,
                "revoked_position": None,
            }
        ]
    },
    ("get", "/health"): {
        "status": "ok",
        "position": 501,
        "store": "reachable",
        "read_model": {"state": "following", "position": 501},
        "checkpoint": {"tree_size": 501, "cosigned_by": ["witness.example/w1"], "age_s": 2.4},
    },
    ("get", "/health/ready"): {
        "status": "ready",
        "position": 501,
        "store": "reachable",
        "read_model": "ready",
    },
    ("post", "/v1/events"): {"accepted": 1, "position": 502},
    ("get", "/v1/lots/{lot_id}"): {
        "lot_id": "GH-ACC-2005-0412",
        "carats": "2310.00",
        "value_usd": "69300.00",
        "holder": "AE",
        "status": "consumed",
        "certificate_id": "GH-2005-0412",
        "source_id": None,
        "parents": ["GH-AKW-2005-0003", "CI-SEG-2005-P01"],
        "children": ["AE-DXB-2006-0031", "AE-DXB-2006-0032"],
        "operator": None,
    },
    ("get", "/v1/lots/{lot_id}/provenance"): {
        "lot_id": "GH-ACC-2005-0412",
        "carats": "2310.00",
        "sources": [
            {
                "source_id": "CI-SEGUELA",
                "kind": "alluvial_site",
                "participant": "CI",
                "region": "Worodougou",
                "carats": "1050.00",
                "fraction": 0.45454545454545453,
            },
            {
                "source_id": "GH-AKWATIA",
                "kind": "alluvial_site",
                "participant": "GH",
                "region": "Eastern",
                "carats": "1260.00",
                "fraction": 0.5454545454545454,
            },
        ],
        "by_participant": {
            "CI": {"carats": "1050.00", "fraction": 0.45454545454545453},
            "GH": {"carats": "1260.00", "fraction": 0.5454545454545454},
        },
        "embargoed": [
            {"embargo_id": "UNSC-1643-CI", "carats": "1050.00", "fraction": 0.45454545454545453}
        ],
    },
    ("get", "/v1/trace/downstream"): {
        "lots": [
            {
                "lot_id": "GH-ACC-2005-0412",
                "holder": "AE",
                "status": "consumed",
                "carats_from_origin": "2310.00",
            },
            {
                "lot_id": "AE-DXB-2006-0031",
                "holder": "AE",
                "status": "held",
                "carats_from_origin": "1400.00",
            },
        ],
        "certificates": [
            {
                "certificate_id": "GH-2005-0412",
                "exporting_participant": "GH",
                "importing_participant": "AE",
                "carats_from_origin": "2310.00",
            }
        ],
        "participants": ["AE", "GH"],
    },
    ("get", "/v1/alerts"): {
        "alerts": [
            {
                "alert_id": "edbe483349d37400e1821c11",
                "type": "sanctioned_party",
                "severity": "high",
                "subject": "GH-ACCRA-EXPORTERS",
                "participant": "GH",
                "position": 72,
                "detail": {
                    "operator_id": "GH-ACCRA-EXPORTERS",
                    "listing_ids": ["UNSC-1572-2006-01"],
                    "lots_held": ["GH-KAD-2006-0201"],
                },
                "review": None,
            }
        ]
    },
    ("get", "/v1/sanctions/lists"): {
        "lists": [
            {
                "list": "un_sc_sanctions",
                "entries": 3,
                "published": "2006-05-02T23:00:04.811Z",
                "loaded_at": "2026-12-07T19:30:00Z",
            }
        ]
    },
    ("get", "/v1/operators/{operator_id}"): {
        "operator_id": "GH-ACCRA-EXPORTERS",
        "participant": "GH",
        "name": "Accra Rough Diamond Exporters Ltd",
        "roles": ["dealer", "exporter"],
        "licence": {"number": "GH-PMMC-EXP-2006-0007", "valid_until": "2010-12-31"},
        "revoked": False,
        "sanctions": [{"listing_id": "UNSC-1572-2006-01", "in_force": True}],
        "lots_held": ["GH-KAD-2006-0201"],
    },
    ("get", "/v1/certificates/{certificate_id}/verify"): {
        "certificate_id": "GH-2005-0412",
        "genuine": True,
        "status": "confirmed",
    },
    ("get", "/v1/audit/verify"): {
        "ok": True,
        "events": 501,
        "head": "fcc7d7cde7507fb5839cb04dac2c07b75e7f25710294dca531a9501fba06a81b",
    },
    ("get", "/v1/search"): {
        "results": [{"id": "GH-KAD-2006-0201", "kind": "lot", "label": "lot 595.00 ct held by AE"}]
    },
}
_NO_DEMO_EXAMPLE: dict[str, dict[str, Any]] = {
    "participant.suspended": {"participant": "CI", "reason": "minimum requirements not met"},
    "participant.reinstated": {"participant": "CI"},
    "participant.withdrawn": {"participant": "CI", "reason": "withdrew from the Scheme"},
    "embargo.lifted": {"embargo_id": "UNSC-1643-CI", "effective_to": "2014-04-29"},
    "alluvial_site.licence_revoked": {"site_id": "CI-SEGUELA", "reason": "under the UN embargo"},
    "lot.seized": {"lot_id": "AE-DXB-2006-0031", "reason": "Ivorian stones, seized by customs"},
    "operator.licence_revoked": {"operator_id": "GH-ACCRA-EXPORTERS", "reason": "UN listing"},
    "sanction.lifted": {"listing_id": "UNSC-1572-2006-01", "effective_to": "2014-04-29"},
    "authority_key.revoked": {
        "key_id": "af6aa4070b87e12273f1013ee7a0baafa0c0a23d2b9f6d1474c2cb6014bf7963",
        "reason": "rotated: the Minerals Commission registered its 2006 key",
    },
    "alert.reviewed": {
        "alert_id": "edbe483349d37400e1821c11",
        "status": "confirmed",
        "note": "the Kade parcel was shipped before the listing; the exporter is listed",
    },
}
"""Examples in the demo world's terms for the types the demonstration does not post."""

_PARAMETER_EXAMPLES = {
    "lot_id": "GH-ACC-2005-0412",
    "certificate_id": "GH-2005-0412",
    "operator_id": "GH-ACCRA-EXPORTERS",
    "root": "GH-KAD-2006-0201",
    "year": "2005",
    "q": "GH-K",
}


def error_statuses(method: str, path: str, operation: dict[str, Any], token: bool) -> list[int]:
    """The error statuses an operation can answer, in the order the protocol checks them."""
    key = (method, path)
    statuses = [401] if token else []
    if operation.get("parameters") or operation.get("requestBody"):
        statuses.append(422)
    if key in _FORBIDDEN:
        statuses.append(403)
    if key in _NOT_FOUND:
        statuses.append(404)
    if key == ("post", "/v1/events"):
        statuses += [409, 413, 415]
    if key not in _NO_STORE:
        statuses.append(503)
    return sorted(statuses)


def _error_schema(status: int) -> dict[str, Any]:
    codes = sorted(code for code, given in STATUS_BY_CODE.items() if given == status)
    return {
        "title": f"Error{status}",
        "description": f"{_ERROR_TITLES[status]}: code {', '.join(codes)}",
        "allOf": [{"$ref": "#/components/schemas/ErrorBody"}],
        "properties": {
            "error": {"properties": {"code": {"type": "string", "enum": codes}}},
        },
    }


def _document_schemas(components: dict[str, Any]) -> None:
    """`Document` (the union discriminated by `type`), `Batch`, and every document model."""
    from worlds.demo import demo_documents

    _, top = models_json_schema(
        [(model, "validation") for model in DOCUMENT_TYPES.values()], ref_template=_REF
    )
    components.update(top.get("$defs", {}))
    examples: dict[str, Any] = {}
    for _, document in demo_documents(date(2026, 1, 1)):
        examples.setdefault(document["type"], json.loads(json.dumps(document, default=str)))
    for index, (name, fields) in enumerate(_NO_DEMO_EXAMPLE.items()):
        examples.setdefault(
            name,
            {
                "event_id": f"00000000-0000-4000-8000-{index:012d}",
                "type": name,
                "occurred_at": "2014-04-29T10:00:00+00:00",
                **fields,
            },
        )
    mapping = {}
    for name, model in sorted(DOCUMENT_TYPES.items()):
        schema = components[model.__name__]
        mapping[name] = _REF.format(model=model.__name__)
        if name in examples:
            schema["examples"] = [examples[name]]
    components["Document"] = {
        "description": "One custody document; `type` says which.",
        "oneOf": [{"$ref": ref} for ref in mapping.values()],
        "discriminator": {"propertyName": "type", "mapping": mapping},
    }
    components["Batch"] = {
        "type": "object",
        "description": f"1 to {MAX_BATCH:,} documents, appended whole or not at all.",
        "required": ["events"],
        "additionalProperties": False,
        "properties": {
            "events": {
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_BATCH,
                "items": {"$ref": "#/components/schemas/Document"},
            }
        },
    }


def _answer_schemas(components: dict[str, Any]) -> None:
    models: list[type[BaseModel]] = [*dict.fromkeys(RESPONSES.values()), ErrorBody]
    _, top = models_json_schema([(model, "serialization") for model in models], ref_template=_REF)
    components.update(top.get("$defs", {}))


def _complete(method: str, path: str, operation: dict[str, Any], token: bool) -> None:
    key = (method, path)
    responses: dict[str, Any] = operation.setdefault("responses", {})
    success = next((status for status in responses if status.startswith("2")), "200")
    answer = responses.setdefault(success, {"description": "Successful Response"})
    model = RESPONSES.get(key)
    if model is not None:
        media: dict[str, Any] = {"schema": {"$ref": _REF.format(model=model.__name__)}}
        if key in _EXAMPLES:
            media["example"] = _EXAMPLES[key]
        answer["content"] = {"application/json": media}
    if key == ("get", "/metrics"):
        answer["content"] = {
            "text/plain": {
                "schema": {"type": "string"},
                "example": "kpledger_log_head_position 501.0\n",
            }
        }
    if key in _CSV:
        answer["content"]["text/csv"] = {"schema": {"type": "string"}}
    if key == ("get", "/v1/graph"):
        answer["content"]["application/graphml+xml"] = {"schema": {"type": "string"}}
        answer["content"]["application/x-ndjson"] = {"schema": {"type": "string"}}
    if key == ("get", "/v1/epcis/events"):
        answer["content"] = {"application/ld+json": answer["content"]["application/json"]}
    if key == ("post", "/v1/events"):
        responses["200"] = {
            "description": "Every document had been accepted before (same event_id, same "
            "content): nothing appended; `position` is the original one of the last",
            "content": answer["content"],
        }
    responses.pop("422", None)  # FastAPI's own validation shape: replaced by ours
    for status in error_statuses(method, path, operation, token):
        example = {"error": {"index": 0, **_ERROR_EXAMPLES[status]}}
        responses[str(status)] = {
            "description": _ERROR_TITLES[status],
            "content": {
                "application/json": {
                    "schema": {"$ref": f"#/components/schemas/Error{status}"},
                    "example": example,
                }
            },
        }
    if key == ("get", "/health/ready"):  # not ready: the same shape, 503
        responses["503"] = {
            "description": "Not ready: the store does not answer or the read model is not "
            "built yet; retry after Retry-After",
            "content": {"application/json": {"schema": {"$ref": _REF.format(model="Readiness")}}},
        }
    for parameter in operation.get("parameters", []):
        if parameter["name"] in _PARAMETER_EXAMPLES:
            parameter.setdefault("example", _PARAMETER_EXAMPLES[parameter["name"]])


def build_openapi(app: FastAPI) -> dict[str, Any]:
    """The completed OpenAPI document of `app`."""
    spec = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        description="The contract is docs/PROTOCOL.md in the repository. Every request but "
        "`GET /health`, `GET /v1/statistics/public`, `GET /v1/audit/key`, "
        "`GET /v1/certificates/{id}/verify`, `GET /checkpoint` and `GET /tile/<L>/...` "
        "carries `Authorization: Bearer <token>` (made with `kpledger token create`); press "
        "Authorize and paste the token.",
        routes=app.routes,
    )
    components = spec.setdefault("components", {})
    schemas: dict[str, Any] = components.setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    _document_schemas(schemas)
    _answer_schemas(schemas)
    for status in _ERROR_EXAMPLES:
        schemas[f"Error{status}"] = _error_schema(status)
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            _complete(method, path, operation, "security" in operation)
    return spec


def openapi(app: FastAPI) -> None:
    """Makes `app.openapi()` answer the completed document (built once, then kept)."""

    def cached() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app)
        return app.openapi_schema

    app.openapi = cached  # type: ignore[method-assign]

"""The OpenAPI document: what FastAPI derives from the routes, completed for real use.

Each route declares its contract: its answer's model (`api/schemas.py`), its other media
types, and the errors it can give beyond its signature (`responses=errors(403, 404, 503)`).
FastAPI sees neither the body of `POST /v1/events` (read by hand, to bound its size) nor
the errors' shapes (raised as `LedgerError`), so `openapi(app)` adds: the document union
discriminated by `type` (one document, a batch, or `text/csv`); the error schemas, in the
protocol's `{"error": {...}}` shape with their codes; 401 and 422 where the signature
implies them; and examples from the demonstration world. operationIds are the route
functions' names (`operation_id`).
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic.json_schema import models_json_schema

from api.schemas import ErrorBody
from ledger.documents import DOCUMENT_TYPES, MAX_BATCH
from ledger.errors import STATUS_BY_CODE

__all__ = ["build_openapi", "errors", "openapi", "operation_id", "text_answer"]

_REF = "#/components/schemas/{model}"

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

_EXAMPLES: dict[str, Any] = {
    "AuthorityKeys": {
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
    "Health": {
        "status": "ok",
        "position": 501,
        "store": "reachable",
        "read_model": {"state": "following", "position": 501},
        "checkpoint": {"tree_size": 501, "cosigned_by": ["witness.example/w1"], "age_s": 2.4},
    },
    "Readiness": {
        "status": "ready",
        "position": 501,
        "store": "reachable",
        "read_model": "ready",
    },
    "Accepted": {"accepted": 1, "position": 502},
    "Lot": {
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
    "Provenance": {
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
    "Downstream": {
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
    "Alerts": {
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
    "SanctionsLists": {
        "lists": [
            {
                "list": "un_sc_sanctions",
                "entries": 3,
                "published": "2006-05-02T23:00:04.811Z",
                "loaded_at": "2026-12-07T19:30:00Z",
            }
        ]
    },
    "Operator": {
        "operator_id": "GH-ACCRA-EXPORTERS",
        "participant": "GH",
        "name": "Accra Rough Diamond Exporters Ltd",
        "roles": ["dealer", "exporter"],
        "licence": {"number": "GH-PMMC-EXP-2006-0007", "valid_until": "2010-12-31"},
        "revoked": False,
        "sanctions": [{"listing_id": "UNSC-1572-2006-01", "in_force": True}],
        "lots_held": ["GH-KAD-2006-0201"],
    },
    "CertificateCheck": {
        "certificate_id": "GH-2005-0412",
        "genuine": True,
        "status": "confirmed",
    },
    "Verification": {
        "ok": True,
        "events": 501,
        "head": "fcc7d7cde7507fb5839cb04dac2c07b75e7f25710294dca531a9501fba06a81b",
    },
    "SearchResults": {
        "results": [{"id": "GH-KAD-2006-0201", "kind": "lot", "label": "lot 595.00 ct held by AE"}]
    },
}
"""An example of each answer model (by name) from the demonstration world; `_complete`
puts it on every successful answer the model describes."""
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


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The error answers a route declares (`responses=errors(403, 404, 503)`), each in the
    protocol's `{"error": {...}}` shape with the codes of its status and an example.

    A route names what it can refuse beyond what its signature says: `build_openapi` adds
    401 to an operation that takes a token and 422 to one that takes inputs.
    """
    return {status: _error_answer(status) for status in statuses}


def text_answer(*media_types: str, status: int = 200) -> dict[int | str, dict[str, Any]]:
    """The answer also served as text in `media_types` (CSV, GraphML, ...), as a route
    declares it: `responses={**text_answer("text/csv"), **errors(403, 503)}`."""
    return {status: {"content": {media: {"schema": {"type": "string"}} for media in media_types}}}


def _error_answer(status: int) -> dict[str, Any]:
    return {
        "description": _ERROR_TITLES[status],
        "content": {
            "application/json": {
                "schema": {"$ref": _REF.format(model=f"Error{status}")},
                "example": {"error": {"index": 0, **_ERROR_EXAMPLES[status]}},
            }
        },
    }


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


def _complete(operation: dict[str, Any]) -> None:
    """An operation as FastAPI derived it from its route, completed: each successful JSON
    answer's example, 401 when it takes a token, our 422 in place of FastAPI's when it
    takes inputs, the statuses in order, and its parameters' examples."""
    responses: dict[str, Any] = operation["responses"]
    for status, answer in responses.items():
        media = answer.get("content", {}).get("application/json", {})
        model = media.get("schema", {}).get("$ref", "").rpartition("/")[2]
        if status.startswith("2") and model in _EXAMPLES:
            media["example"] = _EXAMPLES[model]
    responses.pop("422", None)  # FastAPI's own validation shape: replaced by ours
    if "security" in operation:
        responses["401"] = _error_answer(401)
    if operation.get("parameters") or operation.get("requestBody"):
        responses["422"] = _error_answer(422)
    successes = [status for status in responses if status.startswith("2")]
    ordered = successes + sorted(status for status in responses if status not in successes)
    operation["responses"] = {status: responses[status] for status in ordered}
    for parameter in operation.get("parameters", []):
        if parameter["name"] in _PARAMETER_EXAMPLES:
            parameter.setdefault("example", _PARAMETER_EXAMPLES[parameter["name"]])


def operation_id(route: APIRoute) -> str:
    """A route's operationId: its function's name (`get_provenance`), unique in the app."""
    return route.name


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
    _, error_body = models_json_schema([(ErrorBody, "serialization")], ref_template=_REF)
    schemas.update(error_body["$defs"])
    for status in _ERROR_EXAMPLES:
        schemas[f"Error{status}"] = _error_schema(status)
    for operations in spec["paths"].values():
        for operation in operations.values():
            _complete(operation)
    return spec


def openapi(app: FastAPI) -> None:
    """Makes `app.openapi()` answer the completed document (built once, then kept)."""

    def cached() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app)
        return app.openapi_schema

    app.openapi = cached  # type: ignore[method-assign]

"""GS1's EPCIS 2.0 JSON schema (vendored, see README.md here) and a validator of it."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator

__all__ = ["epcis_errors"]

SCHEMA = Path(__file__).with_name("EPCIS-JSON-Schema.json")


@functools.cache
def _validator() -> Draft7Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    Draft7Validator.check_schema(schema)
    return Draft7Validator(schema, format_checker=Draft7Validator.FORMAT_CHECKER)


def epcis_errors(document: Any) -> list[str]:
    """Where `document` breaks GS1's EPCIS 2.0 JSON schema (formats `uri` and `date-time`
    checked too): one line each, none when it is valid."""
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in _validator().iter_errors(document)
    ]

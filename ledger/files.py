"""Files of custody documents: JSON, JSON Lines and CSV, each document with its line.

- JSON: one document, `{"events": [...]}`, or a list of documents.
- JSON Lines: one document per line; blank lines are ignored.
- CSV (RFC 4180, UTF-8, a header row): one column per field, one row per
  document, rows of different types in one file. Nested fields are columns
  named with a dot (`exporter.name`, `location.lat`, `into.lot_id`); a list is
  one cell separated by `;` (`lot_ids` = `GH-L1;GH-L2`), a list of objects one
  cell of `;`-separated items whose fields, in the protocol's order, are
  separated by `:` (`into` of lot.split = `GH-L1a:60.00:900;GH-L1b:40.00:600`).
  A cell naming a whole object or list may instead hold it as JSON. An empty
  cell means the field is absent. The row's `type` picks the document model,
  whose field types decide what a cell becomes: JSON numbers for coordinates
  and integers, lists, objects; everything else, carats and USD values too,
  stays the exact text of the cell.

Every fault is `LedgerError("invalid")` naming the line, in the message and in
`detail["line"]`; `index` is the position the document at fault would have had.
"""

from __future__ import annotations

import bisect
import csv
import functools
import io
import json
import re
import types
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel

from ledger.documents import DOCUMENT_TYPES, JSON_DECODER
from ledger.errors import LedgerError

__all__ = ["FORMATS", "Sourced", "read_csv", "read_documents", "read_json", "read_json_lines"]

FORMATS = ("auto", "json", "jsonl", "csv")

_NUMBER = re.compile(r"^\s*-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?\s*$")
_INTEGER = re.compile(r"^\s*[-+]?[0-9]+\s*$")
_WHITESPACE = re.compile(r"[ \t\n\r]*")


@dataclass(frozen=True)
class Sourced:
    """A document as read from a file, and the line of the file it starts on."""

    line: int
    document: dict[str, Any]


def read_documents(data: bytes, name: str = "", format: str = "auto") -> list[Sourced]:
    """The documents of a file, at least one; `format` "auto" goes by `name`'s suffix,
    then by the content (a file starting with `{` or `[` is JSON or JSON Lines)."""
    text = _utf8(data)
    if format == "auto":
        format = _guess_format(text, name.lower())
    if format == "csv":
        return read_csv(text)
    if format == "jsonl":
        return read_json_lines(text)
    if format == "json":
        return read_json(text)
    raise ValueError(f"unknown format {format!r}")


def _guess_format(text: str, name: str) -> str:
    if name.endswith(".csv"):
        return "csv"
    if name.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    start = text.lstrip()
    if not start.startswith(("{", "[")):
        return "json" if name.endswith(".json") else "csv"
    lines = [line for line in text.split("\n") if line.strip()]
    if len(lines) > 1:
        try:
            first = _DECODER.decode(lines[0])
        except ValueError:
            return "json"
        if isinstance(first, dict):
            return "jsonl"
    return "json"


# ------------------------------------------------------------------ errors and text


def _invalid(line: int, message: str, index: int = 0, **detail: Any) -> LedgerError:
    return LedgerError(
        "invalid", f"line {line}: {message}", index=index, detail={"line": line, **detail}
    )


def _utf8(data: bytes | str) -> str:
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise _invalid(line, "the file is not UTF-8 text (save it as UTF-8)") from None


_DECODER = JSON_DECODER  # the bodies' rules: no key twice, exponents marked, no NaN


class _Lines:
    """Offset → line number of one text."""

    def __init__(self, text: str) -> None:
        self._breaks = [match.start() for match in re.finditer("\n", text)]

    def of(self, offset: int) -> int:
        return bisect.bisect_left(self._breaks, offset) + 1


# ------------------------------------------------------------------ JSON and JSON Lines


def read_json(text: str) -> list[Sourced]:
    """One document, `{"events": [...]}` or a list of documents, each with its line."""
    lines = _Lines(text)
    try:
        value, end = _DECODER.raw_decode(text, _skip(text, 0))
    except json.JSONDecodeError as error:
        if not text.strip():
            raise _invalid(1, "the file is empty") from None
        raise _invalid(
            error.lineno, f"malformed JSON: {error.msg} (column {error.colno})"
        ) from None
    except (ValueError, RecursionError) as error:
        raise _invalid(1, f"malformed JSON: {error}") from None
    after = _skip(text, end)
    if after < len(text):
        raise _invalid(
            lines.of(after),
            "more after the JSON value; one document per line is JSON Lines (name it .jsonl)",
        )
    start = _skip(text, 0)
    if isinstance(value, dict) and "type" not in value and "events" in value:
        if set(value) != {"events"}:
            raise _invalid(lines.of(start), "a batch has the single field 'events'")
        if not isinstance(value["events"], list):
            raise _invalid(lines.of(start), "'events' must be a list of documents")
        documents = value["events"]
        starts = _element_starts(text, _skip(text, text.index(":", start + 1) + 1))
    elif isinstance(value, list):
        documents, starts = value, _element_starts(text, start)
    else:
        documents, starts = [value], [start]
    if not documents:
        raise _invalid(lines.of(start), "the file holds no documents")
    result: list[Sourced] = []
    for index, (document, offset) in enumerate(zip(documents, starts, strict=True)):
        if not isinstance(document, dict):
            raise _invalid(lines.of(offset), "a document must be a JSON object", index)
        result.append(Sourced(lines.of(offset), document))
    return result


def _skip(text: str, offset: int) -> int:
    match = _WHITESPACE.match(text, offset)
    return match.end() if match else offset


def _element_starts(text: str, offset: int) -> list[int]:
    """Where each element of the (valid) JSON array at `offset` starts."""
    starts: list[int] = []
    offset = _skip(text, offset + 1)  # past "["
    while text[offset] != "]":
        starts.append(offset)
        _, offset = _DECODER.raw_decode(text, offset)
        offset = _skip(text, offset)
        if text[offset] == ",":
            offset = _skip(text, offset + 1)
    return starts


def read_json_lines(text: str) -> list[Sourced]:
    """One JSON object per line; blank lines are ignored."""
    result: list[Sourced] = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            document = _DECODER.decode(line)
        except json.JSONDecodeError as error:
            raise _invalid(
                number, f"malformed JSON: {error.msg} (column {error.colno})", len(result)
            ) from None
        except (ValueError, RecursionError) as error:
            raise _invalid(number, f"malformed JSON: {error}", len(result)) from None
        if not isinstance(document, dict):
            raise _invalid(number, "each line must hold one document, a JSON object", len(result))
        result.append(Sourced(number, document))
    if not result:
        raise _invalid(1, "the file is empty")
    return result


# ------------------------------------------------------------------ CSV


@dataclass(frozen=True)
class _Scalar:
    kind: Literal["text", "number", "integer", "boolean"]


@dataclass(frozen=True)
class _Object:
    fields: dict[str, _Shape]


@dataclass(frozen=True)
class _List:
    item: _Shape


_Shape = _Scalar | _Object | _List
_TEXT = _Scalar("text")


def _shape(annotation: Any) -> _Shape:
    """What a field's type annotation asks a CSV cell to become."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _shape(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        arms = [arm for arm in get_args(annotation) if arm is not type(None)]
        return _shape(arms[0]) if len(arms) == 1 else _TEXT
    if origin is list:
        return _List(_shape(get_args(annotation)[0]))
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _model_shape(annotation)
    if annotation is bool:
        return _Scalar("boolean")
    if annotation is int:
        return _Scalar("integer")
    if annotation is float:
        return _Scalar("number")
    return _TEXT


@functools.cache
def _model_shape(model: type[BaseModel]) -> _Object:
    return _Object({name: _shape(field.annotation) for name, field in model.model_fields.items()})


@functools.cache
def _column_shape(kind: str, column: str) -> _Shape | None:
    """The shape of a column for documents of `kind`, None when it names no field of it."""
    shape: _Shape = _model_shape(DOCUMENT_TYPES[kind])
    for part in column.split("."):
        if not isinstance(shape, _Object) or part not in shape.fields:
            return None
        shape = shape.fields[part]
    return shape


class _CellError(Exception):
    """A cell that cannot become its field's value."""


def _convert(shape: _Shape, cell: str) -> Any:
    if isinstance(shape, _Scalar):
        return _scalar(shape, cell)
    if cell.lstrip().startswith(("[", "{")):
        return _json_cell(cell)
    if isinstance(shape, _Object):
        raise _CellError("write one column per field (NAME.FIELD), or a JSON object")
    items = [item.strip() for item in cell.split(";")]
    return [_item(shape.item, item) for item in items if item]


def _scalar(shape: _Scalar, cell: str) -> Any:
    if shape.kind == "number":
        if not _NUMBER.match(cell):
            raise _CellError(f"{cell!r} is not a number")
        try:
            return Decimal(cell.strip())
        except InvalidOperation:
            raise _CellError(f"{cell!r} is not a number") from None
    if shape.kind == "integer":
        if not _INTEGER.match(cell) or len(cell) > 100:
            raise _CellError(f"{cell[:40]!r} is not an integer of at most 100 digits")
        return int(cell)
    if shape.kind == "boolean":
        if cell.strip().lower() not in ("true", "false"):
            raise _CellError(f"{cell!r} is neither true nor false")
        return cell.strip().lower() == "true"
    return cell


def _item(shape: _Shape, item: str) -> Any:
    if not isinstance(shape, _Object):
        return _convert(shape, item)
    names = list(shape.fields)
    values = item.split(":", len(names) - 1)
    result = {}
    for name, value in zip(names, values, strict=False):
        field = shape.fields[name]
        if not isinstance(field, _Scalar):
            raise _CellError("this list's items have nested fields: write the cell as JSON")
        if value != "":
            result[name] = _scalar(field, value)
    return result


def _json_cell(cell: str) -> Any:
    try:
        return _DECODER.decode(cell.strip())
    except (ValueError, RecursionError) as error:
        message = error.msg if isinstance(error, json.JSONDecodeError) else str(error)
        raise _CellError(f"malformed JSON in the cell: {message}") from None


def _put(document: dict[str, Any], column: str, value: Any) -> None:
    *parents, last = column.split(".")
    target = document
    for part in parents:
        target = target.setdefault(part, {})
        if not isinstance(target, dict):
            raise _CellError(f"{part!r} is given twice, as a whole and by field")
    if last in target:
        raise _CellError(f"{column!r} is given twice, as a whole and by field")
    target[last] = value


def read_csv(data: bytes | str) -> list[Sourced]:
    """The documents of a CSV file with a header row, each with the line its row starts on."""
    text = _utf8(data)
    if not text.strip():
        raise _invalid(1, "the file is empty")
    records = _records(text)
    header_line, header = next(records, (1, []))
    columns = _header(header_line, header)
    result: list[Sourced] = []
    for line, record in records:
        if not any(record):
            continue
        result.append(Sourced(line, _row(line, record, columns, len(result))))
    if not result:
        raise _invalid(header_line, "the file has a header but no rows")
    return result


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    """(line the record starts on, cells) of every record but blank lines."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    while True:
        start = reader.line_num + 1
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise _invalid(start, f"bad CSV: {error}") from None
        if record:
            yield start, record


def _header(line: int, header: list[str]) -> list[str]:
    columns = [name.strip() for name in header]
    seen: set[str] = set()
    for number, column in enumerate(columns, start=1):
        if not column:
            raise _invalid(line, f"column {number} of the header has no name")
        if column in seen:
            raise _invalid(line, f"column {column!r} appears twice in the header", column=column)
        seen.add(column)
        if not any(_column_shape(kind, column) for kind in DOCUMENT_TYPES):
            raise _invalid(
                line, f"column {column!r} is not a field of any document type", column=column
            )
    if "type" not in seen:
        raise _invalid(line, "the header has no 'type' column")
    return columns


def _row(line: int, record: list[str], columns: list[str], index: int) -> dict[str, Any]:
    if len(record) > len(columns) and any(record[len(columns) :]):
        raise _invalid(
            line, f"the row has {len(record)} cells, the header {len(columns)} columns", index
        )
    cells = dict(zip(columns, record, strict=False))
    kind = cells.get("type", "")
    if not kind:
        raise _invalid(line, "the row has no type", index, column="type")
    if kind not in DOCUMENT_TYPES:
        raise _invalid(
            line,
            f"type must be one of {', '.join(sorted(DOCUMENT_TYPES))}; got {kind!r}",
            index,
            column="type",
        )
    document: dict[str, Any] = {}
    for column, cell in cells.items():
        if cell == "":
            continue
        shape = _column_shape(kind, column)
        if shape is None:
            raise _invalid(
                line, f"column {column!r} is not a field of {kind}", index, column=column
            )
        try:
            _put(document, column, _convert(shape, cell))
        except _CellError as error:
            raise _invalid(line, f"{column}: {error}", index, column=column) from None
    return document

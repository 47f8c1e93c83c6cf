"""Files of documents (ledger/files.py): JSON, JSON Lines and CSV, and every bad file."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

import pytest

from ledger.documents import normalize, parse_request
from ledger.errors import LedgerError
from ledger.files import read_csv, read_documents, read_json, read_json_lines
from tests.support import (
    admitted,
    confirmed,
    embargo,
    export,
    flagged,
    lifted,
    merged,
    mine,
    produced,
    revoked,
    seized,
    site,
    split,
    suspended,
)

EVENT = "0b6b1c7e-6d39-4b8e-9a61-3b0a8c3c2f10"
WHEN = "2005-06-01T10:00:00Z"


def to_csv(documents: list[dict[str, Any]]) -> str:
    """The CSV form README.md describes: dotted columns, ';' lists, ':' list items."""
    rows = [_flatten(document) for document in documents]
    columns = list(dict.fromkeys(column for row in rows for column in row))
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _flatten(value: dict[str, Any], prefix: str = "") -> dict[str, str]:
    cells: dict[str, str] = {}
    for name, field in value.items():
        if isinstance(field, dict):
            cells.update(_flatten(field, f"{prefix}{name}."))
        elif isinstance(field, list):
            cells[prefix + name] = ";".join(
                ":".join(str(v) for v in item.values()) if isinstance(item, dict) else str(item)
                for item in field
            )
        else:
            cells[prefix + name] = str(field)
    return cells


def refused(data: bytes | str, reader: Any = read_documents) -> LedgerError:
    with pytest.raises(LedgerError) as caught:
        reader(data.encode() if isinstance(data, str) and reader is read_documents else data)
    assert caught.value.code == "invalid"
    return caught.value


def at_line(error: LedgerError, line: int) -> None:
    assert error.message.startswith(f"line {line}: "), error.message
    assert error.detail is not None and error.detail["line"] == line, error.detail


# ------------------------------------------------------------------ CSV


def test_every_document_type_survives_a_csv_round_trip() -> None:
    documents = [
        admitted("GH"),
        suspended("GH"),
        embargo("E1", "CI", region="North"),
        embargo("E2", "CI"),
        lifted("E1", "2006-01-01"),
        mine("GH-M1", "GH", annual_capacity_carats="5000"),
        site("CI-S1", "CI"),
        revoked("CI-S1"),
        produced("GH-L1", "GH-M1", "100.00", "1234.56"),
        split("GH-L1", ("GH-L1a", "60"), ("GH-L1b", "40")),
        merged(["GH-L1a", "GH-L1b"], "GH-L2", "2000"),
        export("GH-C1", "GH", "AE", ["GH-L2", "GH-L3"], "100"),
        confirmed("GH-C1", "100"),
        flagged("GH-L2"),
        seized("GH-L2"),
    ]
    rows = read_csv(to_csv(documents))
    assert [row.line for row in rows] == list(range(2, 2 + len(documents)))
    from_csv = parse_request({"events": [row.document for row in rows]})
    assert [normalize(d) for d in from_csv] == [
        normalize(d) for d in parse_request({"events": documents})
    ]


def test_cells_are_typed_by_the_rows_document_type() -> None:
    text = (
        "type,event_id,occurred_at,participant,name,mine_id,region,location.lat,location.lon,"
        "lot_id,carats,value_usd,into,lot_ids,into.lot_id,into.value_usd\n"
        f"mine.registered,{EVENT},{WHEN},GH,Akwatia,GH-M1,Eastern,6.10,-1,,,,,,,\n"
        f"lot.split,{EVENT},{WHEN},,,,,,,GH-L1,,,GH-A:60.00:900; GH-B:40:600;,,,\n"
        f"lots.merged,{EVENT},{WHEN},,,,,,,,,,,GH-A;GH-B,GH-C,1500.50\n"
    )
    registered, parts, joined = (row.document for row in read_csv(text))
    assert registered["location"] == {"lat": Decimal("6.10"), "lon": Decimal("-1")}
    assert "carats" not in registered and "lot_id" not in registered  # empty cells: absent
    assert parts["into"] == [
        {"lot_id": "GH-A", "carats": "60.00", "value_usd": "900"},
        {"lot_id": "GH-B", "carats": "40", "value_usd": "600"},
    ]
    assert joined["lot_ids"] == ["GH-A", "GH-B"]
    assert joined["into"] == {"lot_id": "GH-C", "value_usd": "1500.50"}  # decimals stay text


def test_a_whole_object_or_list_may_be_a_json_cell_and_quoted_cells_span_lines() -> None:
    text = (
        "type,event_id,occurred_at,lot_id,into,reason\n"
        f'lot.split,{EVENT},{WHEN},GH-L1,"[{{""lot_id"": ""A"", ""carats"": 1.50, '
        '""value_usd"": ""1""}]",\n'
        f'lot.flagged,{EVENT},{WHEN},GH-L1,,"two\nlines, and a comma"\n'
        f"lot.seized,{EVENT},{WHEN},GH-L1,,smuggling\n"
    )
    parts, flag, seizure = read_csv(text)
    assert parts.document["into"] == [{"lot_id": "A", "carats": Decimal("1.50"), "value_usd": "1"}]
    assert (flag.line, flag.document["reason"]) == (3, "two\nlines, and a comma")
    assert seizure.line == 5


def test_blank_lines_and_empty_rows_are_skipped_and_a_utf8_bom_is_ignored() -> None:
    text = (
        f"\ufefftype,lot_id,reason,event_id,occurred_at\n\nlot.flagged,L1,x,{EVENT},{WHEN}\n,,,,\n"
    )
    (row,) = read_csv(text.encode("utf-8"))
    assert (row.line, row.document["type"]) == (3, "lot.flagged")


def test_integers_and_booleans_follow_the_model() -> None:
    from ledger.files import _convert, _Scalar

    assert _convert(_Scalar("integer"), "12") == 12
    assert _convert(_Scalar("boolean"), "True") is True
    for bad in ("1.5", "9" * 5000):  # int() itself refuses more than 4300 digits
        with pytest.raises(Exception, match="not an integer"):
            _convert(_Scalar("integer"), bad)


@pytest.mark.parametrize(
    ("data", "line", "words"),
    [
        (b"", 1, "empty"),
        (b"  \n\n", 1, "empty"),
        (b"type,lot_id\n", 1, "no rows"),
        (b"lot_id,reason\nL1,x\n", 1, "no 'type' column"),
        (b"type,colour\nlot.flagged,red\n", 1, "'colour' is not a field of any"),
        (b"type,lot_id,lot_id\nlot.flagged,A,B\n", 1, "appears twice"),
        (b"type,,lot_id\nlot.flagged,,A\n", 1, "column 2 of the header has no name"),
        (b"type,lot_id\nlot.flagged,L1\n,L2\n", 3, "no type"),
        (b"type,lot_id\nlot.flagged,L1\nlot.polished,L2\n", 3, "type must be one of"),
        (
            b"type,lot_id,name\nlot.flagged,L1,\nlot.flagged,L2,Bob\n",
            3,
            "'name' is not a field of lot.flagged",
        ),
        (b"type,into.lot_id\nlot.split,L2\n", 2, "'into.lot_id' is not a field of lot.split"),
        (b"type,into\nlots.merged,L2\n", 2, "one column per field"),
        (b"type,location.lat\nmine.registered,north\n", 2, "'north' is not a number"),
        (b"type,location.lat\nmine.registered,NaN\n", 2, "not a number"),
        (b"type,location\nmine.registered,{oops\n", 2, "malformed JSON in the cell"),
        (b'type,location,location.lat\nmine.registered,"{""lat"": 1}",2\n', 2, "given twice"),
        (b"type,lot_id\nlot.flagged,L1,extra\n", 2, "3 cells, the header 2 columns"),
        (b'type,lot_id\nlot.flagged,"L1"x\n', 2, "bad CSV"),
        (b'type,lot_id\nlot.flagged,L1\nlot.flagged,"L2\n', 3, "bad CSV: unexpected end of data"),
        (b"type,reason\nlot.flagged,ok\nlot.flagged,caf\xe9\n", 3, "not UTF-8"),
    ],
)
def test_a_bad_csv_is_invalid_naming_its_line(data: bytes, line: int, words: str) -> None:
    error = refused(data, read_csv)
    at_line(error, line)
    assert words in error.message, error.message


def test_the_index_of_a_bad_row_is_the_position_its_document_would_have() -> None:
    error = refused(b"type,lot_id\nlot.flagged,L1\n\nlot.flagged,L2,x\n", read_csv)
    assert (error.index, error.detail) == (1, {"line": 4})


def test_trailing_empty_cells_beyond_the_header_are_allowed() -> None:
    (row,) = read_csv("type,lot_id\nlot.flagged,L1,,\n")
    assert row.document == {"type": "lot.flagged", "lot_id": "L1"}


# ------------------------------------------------------------------ JSON and JSON Lines


def test_json_one_document_a_batch_or_a_list_each_with_its_line() -> None:
    (one,) = read_json('\n  {"type": "lot.flagged", "carats": 1.10}')
    assert (one.line, one.document["carats"]) == (2, Decimal("1.10"))
    batch = read_json('{"events": [\n {"type": "a"},\n\n {"type": "b", "x": [1, {"y": 2}]}\n]}')
    assert [(row.line, row.document["type"]) for row in batch] == [(2, "a"), (4, "b")]
    listed = read_json('[{"type": "a"}, \n{"type": "b"}]')
    assert [row.line for row in listed] == [1, 2]


def test_json_lines_skip_blank_lines() -> None:
    rows = read_json_lines('{"type": "a"}\n\n   \n{"type": "b", "v": 2.50}\r\n')
    assert [(row.line, row.document["type"]) for row in rows] == [(1, "a"), (4, "b")]
    assert rows[1].document["v"] == Decimal("2.50")


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ('{"type": "a",\n "b": }', 2, "malformed JSON"),
        ('{"events": []}', 1, "no documents"),
        ('{"events": [{"type": "a"},\n 3]}', 2, "must be a JSON object"),
        ('{"events": [], "extra": 1}', 1, "single field 'events'"),
        ('{"events": {"type": "a"}}', 1, "must be a list"),
        ('{"type": "a", "v": NaN}', 1, "NaN is not a JSON number"),
        ('{"type": "a"}\n{"type": "b"}', 2, "JSON Lines"),
        ("", 1, "empty"),
    ],
)
def test_a_bad_json_file_is_invalid_naming_its_line(text: str, line: int, words: str) -> None:
    error = refused(text, read_json)
    at_line(error, line)
    assert words in error.message, error.message


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ('{"type": "a"}\n\n{"type": \n', 3, "malformed JSON"),
        ('{"type": "a"}\n[1, 2]\n', 2, "a JSON object"),
        ("\n \n", 1, "empty"),
    ],
)
def test_a_bad_json_lines_file_is_invalid_naming_its_line(text: str, line: int, words: str) -> None:
    error = refused(text, read_json_lines)
    at_line(error, line)
    assert words in error.message, error.message


# ------------------------------------------------------------------ choosing the format


@pytest.mark.parametrize(
    ("data", "name", "types"),
    [
        (b'{"type": "a"}\n{"type": "b"}\n', "upload.txt", ["a", "b"]),
        (b'{"type": "a"}\n{"type": "b"}\n', "upload.json", ["a", "b"]),
        (b'{\n  "type": "a"\n}\n', "upload", ["a"]),
        (b'{"events": [\n{"type": "a"}]}', "upload.jsonl", None),
        (b'[{"type": "a"},\n{"type": "b"}]', "x", ["a", "b"]),
        (b"type,lot_id\nlot.flagged,L1\n", "upload", ["lot.flagged"]),
        (b"type,lot_id\nlot.flagged,L1\n", "upload.CSV", ["lot.flagged"]),
    ],
)
def test_the_format_is_chosen_by_suffix_then_by_content(
    data: bytes, name: str, types: list[str] | None
) -> None:
    if types is None:  # a .jsonl file holds one document per line
        at_line(refused(data.decode(), lambda d: read_documents(d.encode(), name)), 1)
        return
    assert [row.document["type"] for row in read_documents(data, name)] == types


def test_a_non_utf8_json_file_is_invalid_naming_its_line() -> None:
    at_line(refused(b'{"type": "a"}\n{"type": "\xff"}\n'), 2)

"""The read side learns a document type one way: each read model declares, per document
class, the method that applies it or that it ignores it; and no package of the project
imports itself in a loop."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

from ledger.documents import DOCUMENT_TYPES
from ledger.log import LogEntry
from projections.custody import Custody
from projections.examples import numbered
from projections.reads import READ_MODELS
from projections.registry import Projection, applies, undeclared

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("ledger", "projections", "worlds", "api", "witness", "replica")


@pytest.mark.parametrize("read_model", READ_MODELS, ids=lambda model: model.__name__)
def test_each_read_model_applies_or_ignores_every_protocol_type(
    read_model: type[Projection],
) -> None:
    assert undeclared(read_model) == set()
    assert read_model.applied_models(), "a read model that applies nothing is no read model"


def test_a_type_neither_applied_nor_ignored_is_found() -> None:
    class Forgetful(Projection):
        pass

    assert undeclared(Forgetful) == set(DOCUMENT_TYPES)


def test_a_type_applied_twice_or_both_applied_and_ignored_is_refused() -> None:
    model = DOCUMENT_TYPES["lot.flagged"]
    with pytest.raises(TypeError, match=r"applies lot\.flagged twice"):

        class Twice(Projection):
            @applies(model)
            def _one(self, entry: LogEntry, document: dict[str, object]) -> None: ...

            @applies(model)
            def _two(self, entry: LogEntry, document: dict[str, object]) -> None: ...

    with pytest.raises(TypeError, match="both applies and ignores"):

        class Both(Projection):
            IGNORES = frozenset({model})

            @applies(model)
            def _one(self, entry: LogEntry, document: dict[str, object]) -> None: ...


def test_compliance_is_applied_by_the_read_model_custody_carries() -> None:
    state = Custody.replay(
        numbered(
            [
                {"type": "participant.admitted", "participant": "GH", "name": "Ghana"},
                {
                    "type": "report.submitted",
                    "participant": "GH",
                    "year": 2005,
                    "kind": "statistics",
                    "submitted_on": "2006-03-01",
                },
            ]
        )
    )
    assert state.position == 2 and state.compliance.position == 2
    assert list(state.compliance.reports) == [("GH", 2005, "statistics")]


def _imports(path: Path, modules: set[str]) -> set[str]:
    """The project's modules a source file imports, TYPE_CHECKING ones included."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found & modules


def test_no_package_imports_itself_in_a_loop() -> None:
    files = {
        ".".join(path.relative_to(ROOT).with_suffix("").parts): path
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
    }
    modules = {name.removesuffix(".__init__") for name in files}
    graph = nx.DiGraph()
    for name, path in files.items():
        for imported in _imports(path, modules):
            graph.add_edge(name.removesuffix(".__init__"), imported)
    circles = [sorted(circle) for circle in nx.simple_cycles(graph)]
    assert circles == []

"""How a read model learns a document type: one way, declared beside its tables.

A read model is a `Projection`: each method that takes one document class into account
is marked `@applies(Model)`, and the classes it has nothing to do with are named in its
`IGNORES`. `Projection.apply(entry)` dispatches on the entry's document class through
the table built from those marks, so that no read model compares type strings, and
`undeclared(cls)` lists the protocol's types a read model neither applies nor ignores
(a test keeps it empty for every read model: a new type cannot be forgotten silently).

>>> from ledger import lots
>>> class Produced(Projection):
...     IGNORES = frozenset(model for model in DOCUMENT_MODELS if model is not lots.LotProduced)
...     def __init__(self):
...         self.position, self.lots = 0, []
...     @applies(lots.LotProduced)
...     def _produced(self, entry, document):
...         self.lots.append(document["lot_id"])
>>> Produced.applied_models() == {lots.LotProduced}, undeclared(Produced)
(True, set())
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from ledger.documents import DOCUMENT_TYPES
from ledger.fields import DocumentModel
from ledger.log import LogEntry

__all__ = ["DOCUMENT_MODELS", "Projection", "applies", "types_applied_by", "undeclared"]

DOCUMENT_MODELS: frozenset[type[DocumentModel]] = frozenset(DOCUMENT_TYPES.values())
"""Every document class of the protocol."""

Apply = Callable[[Any, LogEntry, dict[str, Any]], None]
"""An apply method: (read model, entry, the entry's document)."""

F = TypeVar("F", bound=Apply)

_MARK = "__applies__"


def applies(*models: type[DocumentModel]) -> Callable[[F], F]:
    """Marks a read model's method as the one that applies documents of `models`."""

    def mark(method: F) -> F:
        setattr(method, _MARK, (*getattr(method, _MARK, ()), *models))
        return method

    return mark


class Projection:
    """A read model fed the log's entries in order (see the module's docstring)."""

    IGNORES: ClassVar[frozenset[type[DocumentModel]]] = frozenset()
    """The document classes that change nothing in this read model."""

    _appliers: ClassVar[dict[str, Apply]] = {}
    _applied: ClassVar[frozenset[type[DocumentModel]]] = frozenset()

    position: int
    """The position of the last entry applied."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        appliers: dict[type[DocumentModel], Apply] = {}
        for klass in reversed(cls.__mro__):  # a subclass's method replaces its base's
            own: dict[type[DocumentModel], Apply] = {}
            for method in vars(klass).values():
                for model in getattr(method, _MARK, ()):
                    if model in own:
                        raise TypeError(f"{klass.__name__} applies {model.type_name} twice")
                    own[model] = method
            appliers.update(own)
        both = set(appliers) & cls.IGNORES
        if both:
            names = sorted(model.type_name for model in both)
            raise TypeError(f"{cls.__name__} both applies and ignores {names}")
        cls._applied = frozenset(appliers)
        cls._appliers = {model.type_name: method for model, method in appliers.items()}

    @classmethod
    def applied_models(cls) -> frozenset[type[DocumentModel]]:
        """The document classes this read model applies."""
        return cls._applied

    def apply(self, entry: LogEntry) -> None:
        """Takes one accepted entry into account: its document class's method, if any.

        An exception leaves `position` at the entry before; the caller stops this read
        model (see `projections.reads`), which answers nothing from then on."""
        apply = self._appliers.get(entry.type)
        if apply is not None:
            apply(self, entry, entry.document)
        self.position = entry.position


def undeclared(read_model: type[Projection]) -> set[str]:
    """The protocol's types the read model neither applies nor ignores."""
    declared = read_model.applied_models() | read_model.IGNORES
    return {model.type_name for model in DOCUMENT_MODELS - declared}


def types_applied_by(*read_models: type[Projection]) -> frozenset[str]:
    """The document types at least one of `read_models` applies."""
    return frozenset(
        model.type_name for read_model in read_models for model in read_model.applied_models()
    )

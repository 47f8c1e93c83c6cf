"""Custody's large tables (lots, certificates) and lists (rapid re-exports) by columns,
for read-model snapshots.

Slotted objects of one class are saved as one list per slot (`copied`, then `indexed`
outside the read lock; `encode` does both): pickled twice as fast as the objects, and
loaded four times as fast (a list) or without making them at all (a table). `decode`
gives a table back as a `LazyTable`, a dict whose rows become their objects when first
looked up, so that a server started from a snapshot answers its first read without
first making a million lots. Anything that needs every row (iterating the values,
changing a row it already had) makes the rest first, once, in the table's order.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterator, KeysView, Sequence
from functools import cache
from itertools import accumulate, chain
from operator import attrgetter
from typing import Any

from projections.heap import long_lived_objects

__all__ = ["LazyTable", "PackedTuples", "builder", "copied", "decode", "encode", "indexed"]

Encoded = tuple[Any, ...]
"""("columns", class, slots, keys, one column per slot[, the rows in order of key]),
("rows", class, slots, one list per slot), or ("table", a plain dict or list)."""


@cache
def builder(kind: type) -> Callable[..., Any]:
    """A function of one argument per slot of `kind` that makes an object with them set.

    Generated from `__slots__` so that an object is made in one call, touched once by
    plain attribute stores: twice as fast as setting one slot at a time over every
    object, on a million lots."""
    slots: tuple[str, ...] = kind.__slots__  # type: ignore[attr-defined]
    if not all(slot.isidentifier() for slot in slots) or {"made", "new", "kind"} & set(slots):
        raise ValueError(f"the slots of {kind.__name__} cannot be arguments")
    stores = "".join(f"    made.{slot} = {slot}\n" for slot in slots)
    source = f"def build({', '.join(slots)}):\n    made = new(kind)\n{stores}    return made\n"
    namespace: dict[str, Any] = {"new": kind.__new__, "kind": kind}
    # The source is made of the class's own slot names (identifiers), never of a file's.
    exec(source, namespace)
    build: Callable[..., Any] = namespace["build"]
    return build


def _columns(values: list[Any]) -> tuple[type, tuple[str, ...], list[list[Any]]] | None:
    """(class, slots, one list per slot) of objects all of one slotted class with every
    slot set; None otherwise."""
    kind = type(values[0]) if values else None
    slots = getattr(kind, "__slots__", None)
    if kind is None or not isinstance(slots, tuple) or any(type(v) is not kind for v in values):
        return None
    try:
        return kind, slots, [list(map(attrgetter(slot), values)) for slot in slots]
    except AttributeError:
        return None


def copied(table: dict[str, Any] | list[Any]) -> Encoded:
    """The values of a table (a dict) of slotted objects of one class, by columns:
    ("columns", class, slots, keys, one list per slot), in the table's order; of a list
    of them, ("rows", class, slots, one list per slot). Anything else as it is: ("table",
    a shallow copy). `indexed` completes a "columns" encoding; the columns hold the very
    values of the objects, so only a "table" copy still shares what may change."""
    if isinstance(table, LazyTable) and table.pending:
        return table.copied_columns()
    if isinstance(table, list):
        found = _columns(table)
        return ("table", list(table)) if found is None else ("rows", *found)
    found = _columns(list(table.values()))
    if found is None:
        return ("table", dict(table))
    return ("columns", *found[:2], list(table), found[2])


def indexed(encoded: Encoded) -> Encoded:
    """`copied`'s encoding made ready to save: a "columns" one with the order of its keys
    (what it needs to be read), and its columns of tuples of integers packed."""
    if encoded[0] != "columns":
        return encoded
    form, kind, slots, keys, columns = encoded
    packed = [PackedTuples.of(column) or column for column in columns]
    return (form, kind, slots, keys, packed, _in_order_of_key(keys))


class PackedTuples:
    """A column of tuples of integers (each lot's history of positions) as two arrays:
    the integers one after the other, and where each row's start. It is saved and loaded
    as two arrays, not as a million tuples and the integers in them; a row's tuple is
    made when it is asked for. Never changed: a table that saves again copies it out.

    >>> column = PackedTuples.of([(1, 5), (2,), ()])
    >>> len(column), column[0], column[2], list(column)
    (3, (1, 5), (), [(1, 5), (2,), ()])
    >>> [PackedTuples.of(c) for c in ([(1,), ("L1",)], [(True,)], [(), ()], [(2**63,)])]
    [None, None, None, None]
    """

    __slots__ = ("flat", "starts")

    def __init__(self, flat: array[int], starts: array[int]) -> None:
        if not starts or starts[0] != 0 or starts[-1] != len(flat):
            raise ValueError("the starts of packed tuples do not fit their integers")
        self.flat = flat
        self.starts = starts

    @classmethod
    def of(cls, column: list[Any]) -> PackedTuples | None:
        """The column packed, when every value is a tuple of integers of 64 bits."""
        if not column or not all(type(value) is tuple for value in column):
            return None
        if not all(type(number) is int for number in chain.from_iterable(column)):
            return None
        try:
            flat = array("q", chain.from_iterable(column))
        except OverflowError:
            return None
        if not flat:  # empty tuples cost a byte each as they are
            return None
        return cls(flat, array("q", accumulate(map(len, column), initial=0)))

    def __len__(self) -> int:
        return len(self.starts) - 1

    def __getitem__(self, row: int) -> tuple[int, ...]:
        return tuple(self.flat[self.starts[row] : self.starts[row + 1]])

    def __iter__(self) -> Iterator[tuple[int, ...]]:
        flat, starts = self.flat, self.starts
        for row in range(len(starts) - 1):
            yield tuple(flat[starts[row] : starts[row + 1]])

    def __reduce__(self) -> tuple[type[PackedTuples], tuple[array[int], array[int]]]:
        return PackedTuples, (self.flat, self.starts)


def encode(table: dict[str, Any] | list[Any]) -> Encoded:
    """A table (a dict) of slotted objects of one class as ("columns", class, slots,
    keys, one list per slot, the rows in order of key), in the table's order; a list of
    them as ("rows", class, slots, one list per slot). Anything else stays as it is:
    ("table", a copy)."""
    return indexed(copied(table))


def _in_order_of_key(keys: list[str]) -> array[int]:
    """The rows of `keys` in order of key: what `LazyTable` bisects to find a row, in
    place of a dict that would take longer to build than the rest of a load."""
    return array("q", sorted(range(len(keys)), key=keys.__getitem__))


def decode(encoded: Encoded) -> Any:
    """What `encode` encoded: a table as a `LazyTable` of its columns, a list made whole
    (a plain dict or list if that is how it was saved)."""
    if encoded[0] == "table":
        return encoded[1]
    form, kind, slots, *rest = encoded
    if form == "rows":
        (columns,) = rest
        length = len(columns[0]) if columns else 0
        keys, by_key = None, None
    else:
        keys, columns, by_key = rest
        length = len(keys)
    if tuple(slots) != kind.__slots__ or len(columns) != len(slots):
        raise ValueError(f"the columns of {kind.__name__} are not its slots")
    for slot, column in zip(slots, columns, strict=True):
        if len(column) != length:
            raise ValueError(f"column {slot} of {kind.__name__} is not of the table's length")
    if keys is None or by_key is None:
        return list(map(builder(kind), *columns))
    if len(by_key) != length:
        raise ValueError(f"the order of the keys of {kind.__name__} is not of the table's length")
    return LazyTable(kind, keys, columns, by_key)


class LazyTable(dict[str, Any]):
    """A table loaded from columns: each row is made into its object when first looked
    up (`table[key]`, `get`), and kept. `in`, `len`, iterating the keys and adding new
    keys need no object. A row is found by bisecting the rows in order of key (a few
    microseconds, once per row): building a dict of a million keys would take a third
    of a load.

    Anything else (iterating values or items, replacing or removing a row, copying,
    comparing) first makes every row not yet made (`complete`), in the columns' order
    followed by the keys added since, exactly as a dict filled in that order, and from
    then on the table is a plain dict in all but its type. Not thread-safe, like every
    part of the read model: `Reads` holds its lock around every use.
    """

    def __init__(
        self, kind: type, keys: list[str], columns: list[Sequence[Any]], by_key: array[int]
    ) -> None:
        super().__init__()
        self.kind = kind
        self._build = builder(kind)
        self._keys: list[str] | None = keys
        self._columns = columns
        self._by_key = by_key
        self._made = 0  # rows made into objects so far
        self._added: list[str] = []  # keys added since, in order

    @property
    def pending(self) -> int:
        """Rows not yet made into objects."""
        return 0 if self._keys is None else len(self._keys) - self._made

    def _row(self, key: object) -> int | None:
        """The row of `key` among the columns, None when it has none (or they are gone)."""
        keys, by_key = self._keys, self._by_key
        if keys is None or not isinstance(key, str):
            return None
        at = bisect_left(by_key, key, key=keys.__getitem__)
        if at < len(by_key) and keys[by_key[at]] == key:
            return by_key[at]
        return None

    def __missing__(self, key: str) -> Any:
        row = self._row(key)
        if row is None:
            raise KeyError(key)
        made = self._build(*[column[row] for column in self._columns])
        dict.__setitem__(self, key, made)
        self._made += 1
        return made

    def get(self, key: str, default: Any = None) -> Any:
        """The row's object (made now if it was not yet), or `default`."""
        try:
            return self[key]
        except KeyError:
            return default

    def __contains__(self, key: object) -> bool:
        return dict.__contains__(self, key) or (self.pending > 0 and self._row(key) is not None)

    def __len__(self) -> int:
        return dict.__len__(self) + self.pending

    def __setitem__(self, key: str, value: Any) -> None:
        if self._keys is not None and not dict.__contains__(self, key):
            if self._row(key) is None:
                self._added.append(key)
            else:
                self.complete()  # a row replaced keeps its place, as in a dict
        dict.__setitem__(self, key, value)

    def __iter__(self) -> Iterator[str]:
        if self._keys is None:
            return dict.__iter__(self)
        return iter(self._keys + self._added)

    def __reversed__(self) -> Iterator[str]:
        if self._keys is None:
            return dict.__reversed__(self)
        return reversed(self._keys + self._added)

    def keys(self) -> Any:
        return dict.keys(self) if self._keys is None else KeysView(self)

    def complete(self) -> None:
        """Makes every row not yet made, and orders the table as a dict filled row by row
        then with the keys added since; the columns are dropped."""
        keys = self._keys
        if keys is None:
            return
        with long_lived_objects():  # a million new objects, kept: out of the collector's way
            ordered = dict(zip(keys, map(self._build, *self._columns), strict=True))
            ordered.update(dict.items(self))  # rows made before, and keys added, win
            dict.clear(self)
            dict.update(self, ordered)
        self._keys, self._columns, self._by_key, self._made = None, [], array("q"), 0
        self._added = []

    def copied_columns(self) -> Encoded:
        """As `copied` gives it, without making the rows not yet made: the columns copied,
        the rows made since patched from their objects, the keys added since appended.
        Only while rows are still unmade (`pending`): `copied` calls it then."""
        assert self._keys is not None, "every row is made: copy the table as a dict"
        slots: tuple[str, ...] = self.kind.__slots__  # type: ignore[attr-defined]
        keys = self._keys + self._added
        columns = [list(column) for column in self._columns]
        for key, made in dict.items(self):
            row = self._row(key)
            values = [getattr(made, slot) for slot in slots]
            if row is None:  # added since: in the order of `keys`, as dicts keep it
                for column, value in zip(columns, values, strict=True):
                    column.append(value)
            else:
                for column, value in zip(columns, values, strict=True):
                    column[row] = value
        return ("columns", self.kind, slots, keys, columns)

    def _completed(self) -> LazyTable:
        self.complete()
        return self

    def values(self) -> Any:
        return dict.values(self._completed())

    def items(self) -> Any:
        return dict.items(self._completed())

    def __delitem__(self, key: str) -> None:
        dict.__delitem__(self._completed(), key)

    def pop(self, *args: Any) -> Any:
        return dict.pop(self._completed(), *args)

    def popitem(self) -> tuple[str, Any]:
        return dict.popitem(self._completed())

    def setdefault(self, key: str, default: Any = None) -> Any:
        return dict.setdefault(self._completed(), key, default)

    def update(self, *args: Any, **kwargs: Any) -> None:
        dict.update(self._completed(), *args, **kwargs)

    def clear(self) -> None:
        dict.clear(self._completed())

    def copy(self) -> dict[str, Any]:
        return dict(self._completed())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, LazyTable):
            other.complete()
        return dict.__eq__(self._completed(), other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = None

    def __or__(self, other: Any) -> Any:
        return dict.__or__(self._completed(), other)

    def __ror__(self, other: Any) -> Any:
        return dict.__ror__(self._completed(), other)

    def __ior__(self, other: Any) -> LazyTable:  # type: ignore[override]
        dict.__ior__(self._completed(), other)
        return self

    def __repr__(self) -> str:
        return dict.__repr__(self._completed())

    def __reduce__(self) -> tuple[Any, ...]:
        return dict, (dict(self._completed()),)

"""Sanctions screening: operators' names against the companies of official lists.

The lists are files in one folder (`KPLEDGER_SANCTIONS_LISTS`): the UN Security Council
Consolidated List in its XML form (`*.xml`) and FollowTheMoney entity files as
OpenSanctions publishes them (`*.json`, `*.jsonl`, `*.ijson`: one entity a line). A list
is named after its file, up to the first dot (`un_sc.xml` is list `un_sc`). Only
companies and other organisations are screened against (the UN list's ENTITIES; FtM's
`Organization`, `Company`, `PublicBody` and `LegalEntity`), never persons or vessels.

Scoring is OpenSanctions' own screening matcher, `logic-v2` of `nomenklatura` (its
maintainers' recommendation for screening), whose name matching comes from `rigour`:
company-form words (Ltd/Limited, SARL, S.A.), case and punctuation, transliteration of
Cyrillic and other scripts, word order, typos, and aliases; a country on both sides that
differs lowers the score (country is supporting evidence, never enough alone). Scoring
every operator against every entry is quadratic, so an `Index` first blocks candidates:
only entries that share with the operator a name part (or one a typo away), its
phonetic key, a `rigour` name symbol or the whole name are scored, and parts too common
in a list ("diamond", "trading") are not used to block.

Nothing here does I/O but reading list files; the service wires `Screening` to its read
model (`projections.reads`) and to SIGHUP (`api.app`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from followthemoney import EntityProxy

    from projections.custody import Custody

log = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_THRESHOLD",
    "Entry",
    "Index",
    "ListProblem",
    "Match",
    "SanctionsList",
    "Screening",
    "Subject",
    "load_folder",
    "load_list",
    "screen",
    "screen_naively",
    "subjects",
]

DEFAULT_THRESHOLD = 0.7
ALGORITHM = "logic-v2"
FTM_SUFFIXES = (".json", ".jsonl", ".ijson")
UN_SUFFIXES = (".xml",)
ORGANISATION_SCHEMATA = frozenset({"Organization", "Company", "PublicBody", "LegalEntity"})
COMMON_SHARE = 0.005
"""A blocking key shared by more than this share of the entries (and by more than
`COMMON_FLOOR`) is too common to block on, unless a name has no other."""
COMMON_FLOOR = 40
MIN_SOUND = 4
"""Phonetic keys shorter than this find too many names to block on."""
MIN_TYPO = 5
"""Words this long are also found one typo away (by their forms with a letter left out)."""


class ListProblem(Exception):
    """A list file that cannot be read: the reason, in one line."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One listed company: what a list says of it."""

    list: str
    entry_id: str
    name: str
    aliases: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    """ISO 3166-1 alpha-2 codes, lowercase, as FollowTheMoney writes them."""
    listed_on: str | None = None

    @property
    def key(self) -> str:
        """`LIST/ENTRY`: the entry among every list."""
        return f"{self.list}/{self.entry_id}"


@dataclass(frozen=True, slots=True)
class SanctionsList:
    """One list file as loaded."""

    name: str
    path: Path
    entries: tuple[Entry, ...]
    published: str | None
    loaded_at: str

    def summary(self) -> dict[str, Any]:
        """Its line of GET /v1/sanctions/lists."""
        return {
            "list": self.name,
            "entries": len(self.entries),
            "published": self.published,
            "loaded_at": self.loaded_at,
        }


@dataclass(frozen=True, slots=True)
class Subject:
    """Who is screened: an operator's id, name and country (its participant's code)."""

    operator_id: str
    name: str
    participant: str


@dataclass(frozen=True, slots=True)
class Match:
    """A listed company whose names score at least the threshold against an operator's."""

    subject: Subject
    entry: Entry
    score: float
    operator_name: str
    """The operator's name as matched."""
    listed_name: str
    """The entry's name (or alias) it matched."""
    explanation: str
    """nomenklatura's account of the name match, part by part."""

    def detail(self) -> dict[str, Any]:
        """The alert's `detail`."""
        return {
            "operator_id": self.subject.operator_id,
            "operator_name": self.subject.name,
            "list": self.entry.list,
            "entry_id": self.entry.entry_id,
            "listed_on": self.entry.listed_on,
            "listed_name": self.entry.name,
            "aliases": list(self.entry.aliases),
            "countries": [code.upper() for code in self.entry.countries],
            "score": round(self.score, 3),
            "matched": {
                "operator_name": self.operator_name,
                "listed_name": self.listed_name,
                "explanation": self.explanation,
            },
        }


# -- reading list files --------------------------------------------------------------------


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _country(text: str) -> str | None:
    from followthemoney.types import registry

    return registry.country.clean(text)


def _text(element: ElementTree.Element | None) -> str:
    return " ".join((element.text or "").split()) if element is not None else ""


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(value for value in values if value))


def read_un_xml(path: Path, name: str) -> tuple[list[Entry], str | None]:
    """The ENTITIES of a UN Security Council Consolidated List file, and its
    `dateGenerated`; individuals are not companies and are left out."""
    try:
        root = ElementTree.parse(path).getroot()
    except ElementTree.ParseError as error:
        raise ListProblem(f"not well-formed XML: {error}") from None
    if root.tag != "CONSOLIDATED_LIST":
        raise ListProblem(f"root element is <{root.tag}>, not the UN list's <CONSOLIDATED_LIST>")
    entries = []
    for entity in root.iterfind("ENTITIES/ENTITY"):
        entry_id = _text(entity.find("REFERENCE_NUMBER")) or _text(entity.find("DATAID"))
        first = _text(entity.find("FIRST_NAME"))
        if not entry_id or not first:
            raise ListProblem("an ENTITY without REFERENCE_NUMBER/DATAID or FIRST_NAME")
        aliases = [_text(alias) for alias in entity.iterfind("ENTITY_ALIAS/ALIAS_NAME")]
        aliases.append(_text(entity.find("NAME_ORIGINAL_SCRIPT")))
        countries = [_country(_text(c)) for c in entity.iterfind("ENTITY_ADDRESS/COUNTRY")]
        entries.append(
            Entry(
                list=name,
                entry_id=entry_id,
                name=first,
                aliases=tuple(alias for alias in _unique(aliases) if alias != first),
                countries=_unique(code for code in countries if code),
                listed_on=_text(entity.find("LISTED_ON")) or None,
            )
        )
    return entries, root.get("dateGenerated")


def read_ftm(path: Path, name: str) -> tuple[list[Entry], str | None]:
    """The organisations of a FollowTheMoney entity file (JSON lines), read with the
    `followthemoney` library, and the latest `last_change` among them (when given).

    An entry's date is the earliest `listingDate` or `startDate` of the file's `Sanction`
    entities naming it, or else its `first_seen`."""
    from followthemoney import model
    from followthemoney.exc import FollowTheMoneyException

    organisations: list[tuple[EntityProxy, dict[str, Any]]] = []
    listed: dict[str, list[str]] = {}
    published: str | None = None
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
                proxy = model.get_proxy(data, cleaned=False)
            except (ValueError, TypeError, KeyError, FollowTheMoneyException) as error:
                raise ListProblem(
                    f"line {number} is not a FollowTheMoney entity: {error}"
                ) from None
            change = data.get("last_change")
            if isinstance(change, str) and (published is None or change > published):
                published = change
            if proxy.schema.name == "Sanction":
                dates = proxy.get("listingDate") + proxy.get("startDate")
                for entity_id in proxy.get("entity"):
                    listed.setdefault(entity_id, []).extend(dates)
            elif proxy.schema.name in ORGANISATION_SCHEMATA and proxy.id:
                organisations.append((proxy, data))
    entries = []
    for proxy, data in organisations:
        names = proxy.get("name")
        if not names:
            continue
        dates = sorted(listed.get(str(proxy.id), []))
        first_seen = data.get("first_seen")
        listed_on = (
            dates[0] if dates else (first_seen[:10] if isinstance(first_seen, str) else None)
        )
        entries.append(
            Entry(
                list=name,
                entry_id=str(proxy.id),
                name=names[0],
                aliases=_unique([*names[1:], *proxy.get("alias")]),
                countries=_unique(proxy.get("country")),
                listed_on=listed_on,
            )
        )
    return entries, published


def list_name(path: Path) -> str:
    """A list's name: its file's name up to the first dot.

    >>> list_name(Path("lists/un_sc.consolidated.xml"))
    'un_sc'
    """
    return path.name.split(".", 1)[0]


def load_list(path: Path) -> SanctionsList:
    """One list file; `ListProblem` when it cannot be read."""
    name = list_name(path)
    try:
        if path.suffix.lower() in UN_SUFFIXES:
            entries, published = read_un_xml(path, name)
        elif path.suffix.lower() in FTM_SUFFIXES:
            entries, published = read_ftm(path, name)
        else:
            raise ListProblem("neither .xml (UN list) nor .json/.jsonl/.ijson (FtM entities)")
    except OSError as error:
        raise ListProblem(error.strerror or str(error)) from None
    except UnicodeDecodeError as error:
        raise ListProblem(f"not UTF-8: {error}") from None
    seen: set[str] = set()
    for entry in entries:
        if entry.entry_id in seen:
            raise ListProblem(f"entry {entry.entry_id!r} appears twice")
        seen.add(entry.entry_id)
    return SanctionsList(name, path, tuple(entries), published, _now())


def list_files(folder: Path) -> list[Path]:
    """The list files of a folder, by name (hidden files and other suffixes left out)."""
    return sorted(
        path
        for path in folder.iterdir()
        if path.is_file()
        and not path.name.startswith(".")
        and path.suffix.lower() in (*UN_SUFFIXES, *FTM_SUFFIXES)
    )


def load_folder(
    folder: Path, previous: dict[str, SanctionsList] | None = None
) -> dict[str, SanctionsList]:
    """Every list of the folder, by name. A file that cannot be read is one error line
    in the log, and the version of that list loaded before (if any) is kept; the other
    lists load as usual. A missing folder is one error line and no list."""
    previous = previous or {}
    try:
        paths = list_files(folder)
    except OSError as error:
        log.error("sanctions lists: cannot read the folder %s: %s", folder, error.strerror)
        return {}
    loaded: dict[str, SanctionsList] = {}
    for path in paths:
        name = list_name(path)
        if name in loaded:
            log.error(
                "sanctions list %s not loaded: list %r is already loaded from %s",
                path,
                name,
                loaded[name].path.name,
            )
            continue
        try:
            loaded[name] = load_list(path)
        except ListProblem as problem:
            kept = previous.get(name)
            log.error(
                "sanctions list %s not loaded: %s%s",
                path,
                problem,
                f" (the version loaded at {kept.loaded_at} is kept)" if kept else "",
            )
            if kept is not None:
                loaded[name] = kept
    return loaded


# -- the matcher ---------------------------------------------------------------------------


def _digest(*parts: object) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def _proxy(entity_id: str, schema: str, names: Iterable[str], countries: Iterable[str]) -> Any:
    from followthemoney import model

    proxy = model.make_entity(schema)
    # nomenklatura caches a proxy's parsed names by its id: the id includes the content.
    proxy.id = entity_id
    proxy.add("name", list(names), cleaned=False)
    proxy.add("country", list(countries), cleaned=False)
    return proxy


def subject_proxy(subject: Subject) -> Any:
    """The FtM `Company` an operator is screened as."""
    country = _country(subject.participant)
    countries = [country] if country else []
    return _proxy(
        f"kpledger-operator-{subject.operator_id}-{_digest(subject.name, countries)}",
        "Company",
        [subject.name],
        countries,
    )


def entry_proxy(entry: Entry) -> Any:
    """The FtM `Organization` a listed company is matched as (its aliases as names)."""
    return _proxy(
        f"kpledger-entry-{_digest(entry)}",
        "Organization",
        [entry.name, *entry.aliases],
        entry.countries,
    )


class _Matcher:
    """nomenklatura's logic-v2 with its default configuration."""

    def __init__(self) -> None:
        from nomenklatura.matching import ScoringConfig, get_algorithm

        algorithm = get_algorithm(ALGORITHM)
        if algorithm is None:  # pragma: no cover - a nomenklatura without logic-v2
            raise RuntimeError(f"nomenklatura has no {ALGORITHM} matcher")
        self.algorithm = algorithm
        self.config = ScoringConfig.defaults()

    def score(self, query: Any, candidate: Any) -> tuple[float, str, str, str]:
        """(score, query name, candidate name, explanation) of one pair."""
        result = self.algorithm.compare(query, candidate, self.config)
        names = result.explanations.get("name_match")
        if names is None:
            return result.score, "", "", ""
        return result.score, names.query or "", names.candidate or "", names.detail or ""


_MATCHER: _Matcher | None = None
_MATCHER_LOCK = threading.Lock()


def matcher() -> _Matcher:
    """The one matcher of the process (nomenklatura's import takes seconds: done once)."""
    global _MATCHER
    with _MATCHER_LOCK:
        if _MATCHER is None:
            _MATCHER = _Matcher()
        return _MATCHER


# -- the index -----------------------------------------------------------------------------

_SKIPPED_SYMBOLS = frozenset({"INITIAL", "SYMBOL", "ORG_CLASS", "NUMERIC", "ORDINAL"})
_WORD_SYMBOLS = frozenset({"SYMBOL", "DOMAIN"})
"""Symbols that stand for a word in a whole-name key: "Intl" and "International" alike."""


def blocking_keys(proxy: Any) -> list[set[str]]:
    """The keys each name of an entity is found by: each name part (company-form and stop
    words left out), its phonetic key (when long enough to tell names apart) and its forms
    with one letter left out (so that "Lengu" meets "Bengu", one typo apart), each
    `rigour` name symbol (a place, a given name in any script...), and the whole name with
    its parts sorted (word order left out), as written and with words that have a
    symbol as that symbol (so "Intl" is "International")."""
    from followthemoney.names import entity_names
    from rigour.names import NamePartTag

    skipped_tags = {NamePartTag.STOP, NamePartTag.LEGAL}
    found = []
    for name in entity_names(proxy, consolidate=False):
        keys: set[str] = set()
        parts = []
        for part in name.parts:
            if part.tag in skipped_tags or not part.comparable:
                continue
            parts.append(part.comparable)
            if len(part.comparable) > 1:
                keys.add(f"p:{part.comparable}")
            if part.metaphone and len(part.metaphone) >= MIN_SOUND:
                keys.add(f"m:{part.metaphone}")
            word = part.comparable
            if len(word) >= MIN_TYPO:  # one letter left out: words one typo apart meet
                keys.add(f"d:{word}")
                keys.update(f"d:{word[:i]}{word[i + 1 :]}" for i in range(len(word)))
        words = {part.comparable: part.comparable for part in name.parts}
        for span in name.spans:
            category = str(span.symbol.category).rpartition(".")[2]
            if category not in _SKIPPED_SYMBOLS:
                keys.add(f"s:{category}:{span.symbol.id}")
            if len(span.parts) == 1 and category in _WORD_SYMBOLS:
                words[span.parts[0].comparable] = f"{category}:{span.symbol.id}"
        if parts:
            keys.add("n:" + " ".join(sorted(parts)))  # word order left out
            keys.add("n:" + " ".join(sorted(words[part] for part in parts)))  # and "Intl"
        if keys:
            found.append(keys)
    return found


@dataclass(slots=True)
class Index:
    """Listed companies by blocking key; a key shared by too many entries is `common`."""

    entries: list[Entry] = field(default_factory=list)
    proxies: list[Any] = field(default_factory=list)
    postings: dict[str, list[int]] = field(default_factory=dict)
    common: frozenset[str] = frozenset()

    @classmethod
    def build(cls, lists: Iterable[SanctionsList]) -> Index:
        """The index of every entry of the lists."""
        index = cls()
        for listed in lists:
            for entry in listed.entries:
                proxy = entry_proxy(entry)
                number = len(index.entries)
                index.entries.append(entry)
                index.proxies.append(proxy)
                for key in set().union(*blocking_keys(proxy)):
                    index.postings.setdefault(key, []).append(number)
        limit = max(COMMON_FLOOR, int(COMMON_SHARE * len(index.entries)))
        index.common = frozenset(
            key
            for key, numbers in index.postings.items()
            if len(numbers) > limit and not key.startswith("n:")
        )
        return index

    def __len__(self) -> int:
        return len(self.entries)

    def candidates(self, proxy: Any) -> list[int]:
        """The entries sharing with one of the entity's names a key that is not common or,
        for a name made only of common words, its least common key; in index order."""
        found: set[int] = set()
        postings = self.postings
        for keys in blocking_keys(proxy):
            used = [key for key in keys if key not in self.common]
            if all(key.startswith("n:") for key in used):  # only common words
                known = [key for key in keys if key in postings]
                if known:
                    used.append(min(known, key=lambda key: len(postings[key])))
            for key in used:
                found.update(postings.get(key, ()))
        return sorted(found)


def _matches(
    subject: Subject, query: Any, index: Index, numbers: Iterable[int], threshold: float
) -> list[Match]:
    scorer = matcher()
    found = []
    for number in numbers:
        score, query_name, listed_name, explanation = scorer.score(query, index.proxies[number])
        if score >= threshold:
            found.append(
                Match(
                    subject,
                    index.entries[number],
                    score,
                    query_name or subject.name,
                    listed_name,
                    explanation,
                )
            )
    found.sort(key=lambda match: (-match.score, match.entry.key))
    return found


def screen(subjects: Iterable[Subject], index: Index, threshold: float) -> list[Match]:
    """Each subject's matches scoring at least `threshold`, from the candidates the index
    blocks (best first for each subject, subjects in the order given)."""
    found: list[Match] = []
    for subject in subjects:
        query = subject_proxy(subject)
        found += _matches(subject, query, index, index.candidates(query), threshold)
    return found


def screen_naively(subjects: Iterable[Subject], index: Index, threshold: float) -> list[Match]:
    """As `screen`, scoring every entry against every subject: the baseline of the
    benchmark, and what `screen` must agree with."""
    found: list[Match] = []
    for subject in subjects:
        found += _matches(subject, subject_proxy(subject), index, range(len(index)), threshold)
    return found


# -- the service's screening ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Loaded:
    """One generation of lists: never changed once made, swapped whole."""

    generation: int
    lists: dict[str, SanctionsList]
    index: Index
    matches: dict[str, tuple[Subject, tuple[Match, ...]]]
    """By operator id: the subject screened and its matches."""


class Screening:
    """The lists of a folder, their index, and every known operator's matches.

    Operators are screened when licensed (`observe`, from the read model's apply) and
    all again when the lists load (`load`, at start and on SIGHUP); reads only look the
    matches up. A load builds the new generation aside and swaps it in one assignment, so
    reads go on meanwhile with the previous one.
    """

    def __init__(
        self,
        folder: Path | None,
        threshold: float = DEFAULT_THRESHOLD,
        operators: Callable[[], list[Subject]] | None = None,
    ) -> None:
        self.folder = folder
        self.threshold = threshold
        self.operators = operators
        """Every operator the read model knows, asked at each load."""
        self._current = _Loaded(0, {}, Index(), {})
        self._known: dict[str, Subject] = {}
        self._lock = threading.Lock()  # one writer of `_current` at a time
        self._load_lock = threading.Lock()  # one load at a time
        self._reload_pending = threading.Event()
        self._reloader: threading.Thread | None = None

    @property
    def generation(self) -> int:
        """Bumped by every load: alerts computed before it are stale."""
        return self._current.generation

    @property
    def enabled(self) -> bool:
        """Whether a folder of lists is configured."""
        return self.folder is not None

    # -- screening ---------------------------------------------------------------------------

    def observe(self, subject: Subject) -> None:
        """An operator licensed (or licensed anew): screened now against the lists loaded."""
        with self._lock:
            self._known[subject.operator_id] = subject
            current = self._current
            if not len(current.index):
                return
            found = tuple(screen([subject], current.index, self.threshold))
            matches = {**current.matches, subject.operator_id: (subject, found)}
            self._current = _Loaded(current.generation, current.lists, current.index, matches)

    def observe_state(self, state: Custody, document: dict[str, Any]) -> None:
        """The read model's hook: called with each document applied."""
        if document.get("type") == "operator.licensed":
            operator = state.operators.get(document["operator_id"])
            if operator is not None:
                self.observe(Subject(operator.operator_id, operator.name, operator.participant))

    def load(self) -> None:
        """Reads the folder, builds the index and screens every known operator against
        it, then swaps it in. Reads meanwhile answer from the previous generation."""
        if self.folder is None:
            return
        with self._load_lock:
            started = time.perf_counter()
            lists = load_folder(self.folder, self._current.lists)
            index = Index.build(lists.values())
            known = dict(self._known)
            if self.operators is not None:
                known.update((s.operator_id, s) for s in self.operators())
            matches = _screen_all(known.values(), index, self.threshold)
            with self._lock:
                # operators licensed while this load screened: screened now, under the lock
                late = [s for i, s in self._known.items() if matches.get(i, (None,))[0] != s]
                matches.update(_screen_all(late, index, self.threshold))
                self._current = _Loaded(self._current.generation + 1, lists, index, matches)
            found = sum(len(found) for _, found in matches.values())
            log.info(
                "sanctions lists loaded: %s; %d operators screened, %d possible matches "
                "(threshold %s) in %.1f s",
                ", ".join(f"{s.name} ({len(s.entries)})" for s in lists.values()) or "none",
                len(matches),
                found,
                self.threshold,
                time.perf_counter() - started,
            )

    def reload_in_background(self) -> None:
        """A load in a thread of its own (SIGHUP); one asked during a load runs after it."""
        self._reload_pending.set()
        with self._lock:
            if self._reloader is not None and self._reloader.is_alive():
                return
            self._reloader = threading.Thread(
                target=self._reload_loop, name="sanctions-reload", daemon=True
            )
            self._reloader.start()

    def _reload_loop(self) -> None:
        while self._reload_pending.is_set():
            self._reload_pending.clear()
            try:
                self.load()
            except Exception:  # the lists loaded before stay in service
                log.exception("sanctions lists: the reload failed; the lists loaded stay")

    def wait_for_reload(self, timeout: float | None = None) -> None:
        """Until the background reload, if any, is over (tests, benchmarks)."""
        reloader = self._reloader
        if reloader is not None:
            reloader.join(timeout)

    # -- reading -----------------------------------------------------------------------------

    def lists(self) -> list[dict[str, Any]]:
        """GET /v1/sanctions/lists: each list loaded, by name."""
        current = self._current
        return [current.lists[name].summary() for name in sorted(current.lists)]

    def possible_matches(self, operator_id: str) -> list[dict[str, Any]]:
        """The operator's possible matches, best first: each the alert's `detail` (empty
        when none, or when it was never screened). For risk marks (`possible_sanctions_match`)."""
        screened = self._current.matches.get(operator_id)
        return [match.detail() for match in screened[1]] if screened else []

    def alerts_of(self, state: Custody) -> Iterator[tuple[Any, Match]]:
        """(operator, match) of every operator of the state with possible matches."""
        screened = self._current.matches
        if not screened:
            return
        for operator in state.operators.values():
            subject, found = screened.get(operator.operator_id, (None, ()))
            if found and subject == Subject(
                operator.operator_id, operator.name, operator.participant
            ):
                yield from ((operator, match) for match in found)


def subjects(state: Custody) -> list[Subject]:
    """Every operator of a read model's state, as screened."""
    return [
        Subject(operator.operator_id, operator.name, operator.participant)
        for operator in state.operators.values()
    ]


def _screen_all(
    subjects: Iterable[Subject], index: Index, threshold: float
) -> dict[str, tuple[Subject, tuple[Match, ...]]]:
    return {
        subject.operator_id: (subject, tuple(screen([subject], index, threshold)))
        for subject in subjects
    }

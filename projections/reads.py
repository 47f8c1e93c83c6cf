"""The read model a server process keeps: follows the log, answers every GET.

`Reads` follows the log incrementally from its own position: before answering, it
asks the log for its head and applies only the entries it has not seen, so every
read reflects every document accepted before it was made (read-your-writes). Reads
arriving together share one head query (`projections.head.SharedHead`), asked outside
the lock; a process that is the store's only writer passes a `head` that needs none.
`as_of=P` answers from a state replayed from entries 1..P (a few kept in an LRU);
`as_of=<instant>` is the last position recorded at or before that instant.

The live state is only touched under one lock, held while catching up and while a
query runs over it; replayed states never change once built, so queries over them
run outside that lock. Log entries are not kept in memory: the custody and history
answers re-read theirs from the log by position.
"""

from __future__ import annotations

import logging
import threading
from array import array
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from ledger import reader as log_reader
from ledger.log import LogEntry, LogReader, read_entries
from ledger.store import StoreConfig
from projections import alerts as alert_rules
from projections import compliance as monitoring
from projections import keys as authority_keys
from projections import operators as operator_queries
from projections import provenance as queries
from projections import retractions, risk
from projections import search as finding
from projections.compliance import Compliance
from projections.custody import Custody
from projections.failures import ReadModelFailed, ReadModelFailure, apply_all
from projections.head import SharedHead
from projections.heap import long_lived_objects
from projections.operators import Operator
from projections.proofs import LogTree
from projections.registry import Projection, types_applied_by
from projections.statistics import Statistics
from projections.value_outliers import DEFAULT_RULE, ValueOutlierRule

if TYPE_CHECKING:
    import networkx as nx

    from projections.screening import Screening

log = logging.getLogger(__name__)

__all__ = [
    "READ_MODELS",
    "AsOf",
    "ReadModel",
    "ReadModelFailed",
    "ReadModelFailure",
    "Reads",
    "View",
    "applied_types",
    "apply_all",
]

READ_MODELS: tuple[type[Projection], ...] = (Custody, Compliance, Statistics, finding.Directory)
"""Every read model a server keeps, each declaring what it applies and what it ignores
(`projections.registry`); the Merkle tree (`proofs`) takes every entry whatever its type."""


def applied_types() -> frozenset[str]:
    """The document types at least one read model applies (every type of the protocol)."""
    return types_applied_by(*READ_MODELS)


AsOf = int | datetime | None
"""A reading instant: None for now, a position, or a date-time with an offset."""

T = TypeVar("T")

_PAGE = 1000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _apply_to(
    custody: Custody, statistics: Statistics, directory: finding.Directory, entry: LogEntry
) -> None:
    """Applies one entry to the projections that follow documents (`read_model_failed`
    when one cannot)."""
    apply_all((custody.apply, statistics.apply, directory.apply), [entry])


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _microseconds(instant: datetime) -> int:
    return (instant - _EPOCH) // _MICROSECOND


@dataclass(frozen=True, slots=True)
class View:
    """The ledger as it stood at `position`, read on `today` (UTC)."""

    custody: Custody
    position: int
    today: date


@dataclass(frozen=True, slots=True)
class ReadModel:
    """Everything the live state of `Reads` is made of: what a snapshot saves (see
    `projections.snapshot`); the settings and caches are not part of it."""

    custody: Custody
    statistics: Statistics
    directory: finding.Directory
    proofs: LogTree
    recorded: array[int]
    """The instant each entry was recorded, in order of position (`proofs.positions`)."""


class Reads:
    """Follows the log from its position and answers reads, as now or as of a position."""

    def __init__(
        self,
        log: LogReader,
        *,
        value_discrepancy: float = alert_rules.VALUE_DISCREPANCY,
        rapid_reexport_days: int = alert_rules.RAPID_REEXPORT_DAYS,
        deadlines: monitoring.Deadlines = monitoring.DEFAULT_DEADLINES,
        value_outliers: ValueOutlierRule = DEFAULT_RULE,
        clock: Callable[[], datetime] = _utc_now,
        replay_cache_size: int = 4,
        process_from: int = 50_000,
        head: Callable[[], int] | None = None,
    ) -> None:
        self.log = log
        self.head = head or SharedHead(lambda: self._read_head()).now
        """A head at least as far as the log's when called: one query shared by the
        reads that wait for it, unless given (`projections.head`)."""
        self.value_discrepancy = value_discrepancy
        self.rapid_reexport_days = rapid_reexport_days
        self.deadlines = deadlines
        self.value_outlier_rule = value_outliers
        self.statistics = Statistics()
        self.directory = finding.Directory()  # mines' names, admission dates: for search
        self.proofs = LogTree()
        self._clock = clock
        self._live = Custody(value_outliers)
        self._lock = threading.RLock()
        # position -> recorded_at, as two parallel arrays: `proofs.positions` (one leaf
        # an entry) and `_recorded`, kept as the running maximum so that "recorded at or
        # before an instant" is always a prefix.
        self._recorded = array("q")
        self._replay_lock = threading.Lock()
        self._replays: OrderedDict[int, Custody] = OrderedDict()
        self._replay_cache_size = replay_cache_size
        self._process_from = process_from
        """Entries behind from which a catch-up reads the log in a process of its own."""
        self._alerts_cache: tuple[tuple[int, date, int], list[dict[str, Any]]] | None = None
        self.failure: ReadModelFailure | None = None
        """The entry the live state could not apply, if any: then it answers nothing."""
        self.screening: Screening | None = None
        """Sanctions screening (`projections.screening`): told of each document applied."""
        self._stale = False
        """A retraction was read: the live state is rebuilt at the end of the catch-up."""
        self.checkpoint: Callable[[], ReadModel | None] | None = None
        """The last read model saved (`projections.snapshot`), if any: a rebuild after a
        retraction starts from it when it can (see `_rebuild`)."""

    # -- following the log -------------------------------------------------------------------

    def _read_head(self) -> int:
        """The log's head, asked of the store; one call at a time (`SharedHead`'s)."""
        read_head = getattr(self.log, "read_head", None)  # a `Ledger`'s
        return int(read_head()) if read_head is not None else self.log.head_position()

    def _head(self) -> int:
        """`head()`, unless the live state failed (then its refusal, before any query)."""
        if self.failure is not None:
            raise self.failure.refusal()
        return self.head()

    @property
    def position(self) -> int:
        """The position of the last entry applied to the live state."""
        return self._live.position

    def catch_up(self, head: int | None = None) -> int:
        """Applies every entry up to the log's head (`head`, if already asked); returns the
        position reached. After a retraction, the live state is rebuilt without what it
        retracted (see `_rebuild`)."""
        if head is None:
            head = self._head()
        with self._lock:
            if self.failure is not None:
                raise self.failure.refusal()
            if head - self._live.position > _PAGE:  # a long catch-up: a cold start, say
                self._stale |= retractions.foresee(self._live, self.log, head)
            try:
                self._follow(head)
                if self._stale:
                    self._rebuild()
            except ReadModelFailed as failed:
                self.failure = failed.failure
                raise
            return self._live.position

    def _follow(self, head: int) -> int:
        """Applies every entry up to `head`; returns the position reached.

        More than a page behind, the next page is read in a thread while this one is
        applied, so that the store's work overlaps the projections', and the garbage
        collector waits; `process_from` entries behind a store's log, a process of its
        own reads the log and works out the Merkle leaves (`ledger.reader`).
        """
        with self._lock:
            store = getattr(self.log, "store", None)  # a `Ledger`'s
            if isinstance(store, StoreConfig) and head - self._live.position >= self._process_from:
                with long_lived_objects():
                    for applied in log_reader.pages(store, self._live.position, head):
                        for entry, hashed in applied:
                            self._apply(entry, hashed)
            if head - self._live.position <= _PAGE:
                while self._live.position < head:
                    page = self.log.read_log(after=self._live.position, limit=_PAGE)
                    if not page:
                        break
                    for entry in page:
                        self._apply(entry)
                return self._live.position
            with (
                long_lived_objects(),
                ThreadPoolExecutor(1, thread_name_prefix="catch-up") as reader,
            ):
                page = self.log.read_log(after=self._live.position, limit=_PAGE)
                while page:
                    last = page[-1].position
                    upcoming = (
                        reader.submit(self.log.read_log, last, _PAGE) if last < head else None
                    )
                    for entry in page:
                        self._apply(entry)
                    page = upcoming.result() if upcoming is not None else []
            return self._live.position

    def _apply(self, entry: LogEntry, hashed: bytes | None = None) -> None:
        """Applies the next entry to every projection (`hashed`: its leaf hash, if known);
        once a retraction made them stale, only to the log's own (position, proofs). A
        retracted document (`projections.retractions`) passes as an entry of no type.

        An entry that cannot be applied (a log altered behind the ledger's back, or a bug)
        stops the live state at the entry before it: every read answers 503
        `read_model_failed` from then on, never a silently wrong answer."""
        if self._stale:
            self._live.position = self.statistics.position = entry.position
        else:
            applied = entry
            if entry.position in self._live.retracted.retracted_by:  # foreseen (`foresee`)
                applied = retractions.Retracted.mask(entry)
            _apply_to(self._live, self.statistics, self.directory, applied)
            if self.screening is not None:
                self.screening.observe_state(self._live, applied.document)
        if entry.type == retractions.RETRACTION:
            self._stale |= retractions.record(self._live, self.log, entry)
        self.proofs.apply(entry, hashed)
        recorded = _microseconds(entry.recorded_at)
        if self._recorded:
            recorded = max(recorded, self._recorded[-1])
        self._recorded.append(recorded)

    def _rebuild(self) -> None:
        """The live state replayed from the log without the retracted documents: from the
        last snapshot (`checkpoint`) when no document before it was retracted since, else
        from the start."""
        position, retracted = self._live.position, self._live.retracted
        start = None
        saved = self.checkpoint() if self.checkpoint is not None else None
        if saved is not None and retractions.usable(retracted, saved.custody.position):
            start = (saved.custody, saved.statistics, saved.directory)
        with long_lived_objects():
            self._live, self.statistics, self.directory = retractions.rebuilt(
                self.log,
                position,
                retracted,
                _apply_to,
                start or (Custody(self.value_outlier_rule), Statistics(), finding.Directory()),
            )
        self._stale = False
        self._alerts_cache = None

    # -- snapshots (see projections.snapshot) -------------------------------------------------

    def saved(self, save: Callable[[ReadModel], T]) -> T:
        """Runs `save` over the live state, locked meanwhile: `save` must copy what it keeps."""
        with self._lock:
            if self.failure is not None:
                raise self.failure.refusal()
            model = ReadModel(
                self._live,
                self.statistics,
                self.directory,
                self.proofs,
                self._recorded,
            )
            return save(model)

    def restore(self, model: ReadModel) -> None:
        """Takes `model` as the live state; only before anything was applied."""
        with self._lock:
            if self._live.position != 0:
                raise RuntimeError("a read model is restored before catching up, not after")
            self._live, self.statistics, self.directory = (
                model.custody,
                model.statistics,
                model.directory,
            )
            self.proofs, self._recorded = model.proofs, model.recorded
            self._alerts_cache = None

    # -- reading instants --------------------------------------------------------------------

    def _resolve(self, as_of: AsOf) -> tuple[int, date]:
        """The position read and the reading date for `as_of` (caught up beforehand)."""
        if as_of is None:
            return self._live.position, self._clock().astimezone(UTC).date()
        if isinstance(as_of, datetime):
            index = bisect_right(self._recorded, _microseconds(as_of)) - 1
            position = self.proofs.positions[index] if index >= 0 else 0
            return position, as_of.astimezone(UTC).date()
        index = bisect_right(self.proofs.positions, as_of) - 1
        if index < 0:
            return 0, self._clock().astimezone(UTC).date()
        recorded = _EPOCH + self._recorded[index] * _MICROSECOND
        return self.proofs.positions[index], recorded.date()

    def _replayed(self, position: int) -> Custody:
        """A state fed exactly the entries 1..position, from the LRU or replayed."""
        with self._replay_lock:
            state = self._replays.get(position)
            if state is not None:
                self._replays.move_to_end(position)
                return state
            state = retractions.without_retracted(
                Custody(self.value_outlier_rule),
                read_entries(self.log, up_to=position, page=_PAGE),
                self._live.retracted,
                position,
            )
            self._replays[position] = state
            if len(self._replays) > self._replay_cache_size:
                self._replays.popitem(last=False)
            return state

    def read(self, query: Callable[[View], T], as_of: AsOf = None) -> T:
        """Runs `query` over the ledger as it stands now, or as it stood at `as_of`."""
        head = self._head()  # outside the lock: reads arriving together share it
        with self._lock:
            self.catch_up(head)
            position, today = self._resolve(as_of)
            if position == self._live.position:
                return query(View(self._live, position, today))
        return query(View(self._replayed(position), position, today))

    def with_statistics(self, query: Callable[[Statistics], T]) -> T:
        """Runs `query` over the statistics once caught up, with the live state locked."""
        head = self._head()
        with self._lock:
            self.catch_up(head)
            return query(self.statistics)

    def with_proofs(self, query: Callable[[LogTree], T]) -> T:
        """Runs `query` over the log's Merkle tree once caught up, with the live state locked."""
        head = self._head()
        with self._lock:
            self.catch_up(head)
            return query(self.proofs)

    def entries(self, positions: Iterable[int]) -> dict[int, LogEntry]:
        """The log entries at these positions, read from the log in runs."""
        wanted = sorted(set(positions))
        found: dict[int, LogEntry] = {}
        start = 0
        while start < len(wanted):
            end = start
            while end + 1 < len(wanted) and wanted[end + 1] == wanted[end] + 1:
                end += 1
            for entry in self.log.read_log(after=wanted[start] - 1, limit=end - start + 1):
                found[entry.position] = entry
            start = end + 1
        return found

    # -- the answers of the API ----------------------------------------------------------------

    def has_held(self, lot_id: str, participant: str | None) -> bool:
        """Whether the participant holds or has held the lot, as the ledger stands now."""

        def held(view: View) -> bool:
            lot = view.custody.lots.get(lot_id)
            return lot is not None and participant in lot.holders

        return self.read(held)

    def lot(self, lot_id: str, as_of: AsOf = None) -> dict[str, Any]:
        """GET /v1/lots/{lot_id}."""
        return self.read(lambda view: queries.lot_view(view.custody, lot_id), as_of)

    def provenance(self, lot_id: str, as_of: AsOf = None) -> dict[str, Any]:
        """GET /v1/lots/{lot_id}/provenance, embargoes judged on the reading date."""
        return self.read(lambda view: queries.provenance(view.custody, lot_id, view.today), as_of)

    def custody(self, lot_id: str, as_of: AsOf = None) -> dict[str, Any]:
        """GET /v1/lots/{lot_id}/custody."""

        def steps(view: View) -> dict[str, Any]:
            positions = queries.custody_positions(view.custody, lot_id)
            return queries.custody_steps(view.custody, lot_id, self.entries(positions))

        return self.read(steps, as_of)

    def history(self, lot_id: str, as_of: AsOf = None) -> dict[str, Any]:
        """GET /v1/lots/{lot_id}/history."""

        def events(view: View) -> dict[str, Any]:
            return retractions.history(view.custody, lot_id, view.position, self.entries)

        return self.read(events, as_of)

    def downstream(
        self,
        *,
        source_id: str | None = None,
        participant: str | None = None,
        region: str | None = None,
        lot_id: str | None = None,
        operator: str | None = None,
        as_of: AsOf = None,
    ) -> dict[str, Any]:
        """GET /v1/trace/downstream."""
        return self.read(
            lambda view: queries.downstream(
                view.custody,
                source_id=source_id,
                participant=participant,
                region=region,
                lot_id=lot_id,
                operator=operator,
            ),
            as_of,
        )

    def operator_participant(self, operator_id: str) -> str | None:
        """The participant that licensed the operator, as the ledger stands now (None: no
        such operator)."""

        def participant(view: View) -> str | None:
            operator = view.custody.operators.get(operator_id)
            return operator.participant if operator is not None else None

        return self.read(participant)

    def operator(self, operator_id: str, as_of: AsOf = None) -> dict[str, Any]:
        """GET /v1/operators/{operator_id}, listings judged on the reading date."""
        return self.read(
            lambda view: operator_queries.operator_view(view.custody, operator_id, view.today),
            as_of,
        )

    def graph(self, root: str, direction: str = "both", as_of: AsOf = None) -> nx.DiGraph:
        """GET /v1/graph: the subgraph around `root` (see `provenance.subgraph`), each node
        with its risk marks on the reading date."""
        return self.read(
            lambda view: risk.mark_graph(
                queries.subgraph(view.custody, root, direction),
                self._risk_marks(view),
            ),
            as_of,
        )

    def _risk_marks(self, view: View) -> risk.RiskMarks:
        """The risk marks of the view's nodes; an operator is a possible sanctions match
        while one of its screening's matches is not dismissed in triage."""
        screening = self.screening
        if screening is None:
            return risk.RiskMarks(view.custody, view.today)

        def stands(state: Custody, operator: Operator) -> bool:
            for match in screening.possible_matches(operator.operator_id):
                subject = f"{operator.operator_id}/{match['list']}/{match['entry_id']}"
                review = state.reviews.get(
                    alert_rules.alert_id("possible_sanctions_match", subject)
                )
                if review is None or review["status"] != "dismissed":
                    return True
            return False

        return risk.RiskMarks(view.custody, view.today, screening=stands)

    def alerts(
        self,
        *,
        alert_type: str | None = None,
        participant: str | None = None,
        status: str | None = None,
        as_of: AsOf = None,
    ) -> list[dict[str, Any]]:
        """GET /v1/alerts: the alerts on the reading date, each with its latest review,
        optionally of one type, participant or review status."""
        return alert_rules.select(
            self.read(self._reviewed_alerts, as_of),
            alert_type=alert_type,
            participant=participant,
            status=status,
        )

    def alert_exists(self, alert_id: str, on: date) -> bool:
        """Whether the ledger, caught up with every stored entry, raises the alert read on
        `on`: the write side's check of `alert.reviewed` (see `ledger.triage`). The head
        is the store's own, asked through the pool: inside an append, a sole writer's
        `head` may not have been told of the append before it yet."""
        head = self.log.head_position()
        with self._lock:
            self.catch_up(head)
            view = View(self._live, self._live.position, on)
            return any(alert["alert_id"] == alert_id for alert in self._all_alerts(view))

    def _reviewed_alerts(self, view: View) -> list[dict[str, Any]]:
        return alert_rules.with_reviews(self._all_alerts(view), view.custody.reviews)

    def _all_alerts(self, view: View) -> list[dict[str, Any]]:
        """The alerts of the view, without reviews; kept for the last (facts, date) read,
        since reviews change no alert."""
        generation = self.screening.generation if self.screening is not None else 0
        key = (view.custody.facts_position, view.today, generation)
        cached = self._alerts_cache
        if cached is not None and cached[0] == key:
            return cached[1]
        found = alert_rules.alerts(
            view.custody,
            today=view.today,
            value_discrepancy=self.value_discrepancy,
            rapid_reexport_days=self.rapid_reexport_days,
            deadlines=self.deadlines,
            screening=self.screening,
        )
        self._alerts_cache = (key, found)
        return found

    def search(
        self, text: str, *, kind: str | None, limit: int, reader: str | None
    ) -> list[dict[str, Any]]:
        """GET /v1/search, over the ledger as it stands now (see `search.search`)."""
        return self.read(
            lambda view: risk.mark_results(
                finding.search(
                    view.custody,
                    text,
                    kind=kind,
                    limit=limit,
                    reader=reader,
                    directory=self.directory,
                ),
                self._risk_marks(view),
            )
        )

    def participants(self) -> list[dict[str, Any]]:
        """GET /v1/participants: every participant ever admitted, as the ledger stands now."""
        return self.read(lambda view: finding.participants(view.custody, self.directory))

    def keys(self, participant: str | None = None) -> dict[str, Any]:
        """GET /v1/keys: the authority keys registered, as the ledger stands now."""
        return self.read(lambda view: authority_keys.keys_view(view.custody, participant))

    def compliance(
        self, year: int, participant: str | None = None, as_of: AsOf = None
    ) -> dict[str, Any]:
        """GET /v1/compliance: reports owed for `year` and reviews, on the reading date."""
        return self.read(
            lambda view: monitoring.compliance_report(
                view.custody, year, participant, today=view.today, deadlines=self.deadlines
            ),
            as_of,
        )

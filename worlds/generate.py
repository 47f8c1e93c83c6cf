"""A deterministic synthetic world, for load and for demonstrations at scale.

`generate(ledger, lots=N)` streams a world of N lots through `ledger.post`:
participants drawn from the Kimberley Process in order of weight (the largest
producers, the trading hubs, the cutting centres, then the smaller ones),
mines and licensed alluvial sites, production in proportion to public KP
figures (Russia, Botswana, Canada, the DRC, Australia, Angola, South Africa
large; many small alluvial producers), sorting (splits) and mixing (merges),
multi-hop shipments under certificates confirmed by their importers, and a
small rate of every red flag of PROTOCOL.md. With `operators=N`, N companies are
licensed in proportion to the participants' weight in the trade: producers name
their miners or diggers, lots are sold to a trader before they are mixed or
exported by it, importers take them in, and a few traders are listed by the UN
late in the span (`sanctioned_party`). Operators draw from a random generator of
their own: without them, the world is exactly the one generated before they existed.

With `mixing="deep"` (`kpledger generate --mixing deep`), half the lots are created
after production, in a mixing phase: a few more lots are produced and exported to the
hubs AE, EU (Antwerp: Belgium trades as the EU) and IN, and the hubs split, merge and
re-export to each other what they hold, wherever it has been (every hub a round trip),
from pools kept small so that the same material is taken again and again. Lineage runs
dozens of splits and merges deep and the widest lots have hundreds of ancestor lots;
merges stop at `DEEP_PATHS_CAP` lineage paths (`worlds.lineage`). Its documents are named
apart from the plain world's of the same arguments, which stays unchanged.

The same arguments give the same documents in the same order: every draw comes
from `random.Random(seed)` (parcels from a second stream of the seed), every
`event_id` is a `uuid5` of the arguments and a counter, and dates run over
`years` calendar years ending with 2024, never from the clock. The generator
keeps only what it needs to choose valid next steps: a bounded pool of usable
lots per participant and the certificates awaiting confirmation; lots that
reach a cutting centre are eventually polished, leaving the generator's view
(they stay held in the ledger).

Documents are buffered per poster (one authority per participant, the
secretariat, an investigator) and posted in batches of up to `batch_size`:
while a buffer is full, the longest prefix of any buffer whose documents depend
only on posted ones (the export an import confirms) is posted. Each poster's
documents go in their order, and the log's order is the same on every run.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import math
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Protocol
from uuid import UUID, uuid5

from tqdm import tqdm

from ledger.actors import Actor
from projections.alerts import RAPID_REEXPORT_DAYS

__all__ = ["PROFILES", "DocumentSink", "GenerateReport", "Profile", "generate"]

GENERATOR_NAMESPACE = UUID("9c4e2b7a-61d0-5f43-8a0e-6b706c67656e")
LAST_YEAR = 2024
MAX_BATCH = 10_000

PRODUCTION_SHARE = 0.45  # of steps; the rest is trade among holders
MINE_MEDIAN_CARATS = 800.0
ALLUVIAL_MEDIAN_CARATS = 15.0
CERTIFICATE_VALIDITY_DAYS = 60
CONFIRMATION_DAYS = (2, 21)
EMBARGO_AT = 0.6  # of the span
EMBARGOED_SHARE = 0.002  # of production, from the region chosen for the embargo
POOL_CAP = 3_000  # usable lots the generator remembers per participant
MAX_SOURCES_PER_LOT = 64  # merges stop here, keeping compositions small

# Red flags, each a small rate.
VALUE_DISCREPANCY_RATE = 0.004
CARAT_DISCREPANCY_RATE = 0.003
UNCONFIRMED_RATE = 0.003
PARCEL_DISCREPANCY_RATE = 0.003  # of confirmations; every certificate counts its lots as parcels
ROUND_TRIP_RATE = 0.003
RAPID_REEXPORT_RATE = 0.01
TIGHT_CAPACITY_RATE = 0.03
FLAG_RATE = 0.001

# Operators, when asked for.
OPERATOR_PRODUCTION_SHARE = 0.6  # of the lots of a participant with producing operators
OPERATOR_IMPORT_SHARE = 0.7  # of the imports of a participant with operators
SANCTIONED_OPERATORS_RATE = 0.02  # of the operators, at least one
SANCTIONS_AT = 0.75  # of the span
TRADER_ROLES = ("buyer", "dealer", "exporter", "importer")

# Deep mixing (`mixing="deep"`): after production, parcels pass through the hubs again and
# again, split, merged and re-exported among them.
MIXINGS = ("none", "deep")
DEEP_HUBS = ("AE", "EU", "IN")  # Dubai, Antwerp (the EU is Belgium's KP participant), India
DEEP_SHARE = 0.5  # of the lots, created in the mixing phase
DEEP_POOL_DIVISOR = 100  # a hub's pool holds the mixing phase's lots / this (at least 20)
DEEP_PATHS_CAP = 6_000  # merges stop here: lineage paths to every ancestor, the CTE's rows
DEEP_FEED = 0.1  # of mixing steps: a lot produced
DEEP_IMPORT = 0.1  # of mixing steps: a producer's lots exported to a hub
DEEP_ACTIONS = (0.12, 0.4, 0.48)  # export to another hub, split, merge


@dataclass(frozen=True)
class Profile:
    """A participant's part in the trade: annual production (millions of carats, USD per
    carat, alluvial share), its pull as a trading hub and as a cutting centre, where it is."""

    code: str
    name: str
    mct: float = 0.0
    usd_per_carat: float = 0.0
    alluvial: float = 0.0
    hub: float = 0.0
    cutting: float = 0.0
    lat: float = 0.0
    lon: float = 0.0
    regions: tuple[str, ...] = ()


# Rounded from public KP statistics (production around 2020-2021), in order of weight.
PROFILES: tuple[Profile, ...] = (
    Profile("RU", "Russian Federation", 41.9, 99, 0.0, 0, 0.05, 63.0, 112.0,
            ("Sakha (Yakutia)", "Arkhangelsk")),
    Profile("BW", "Botswana", 22.9, 152, 0.0, 0.15, 0.02, -22.3, 24.7, ("Central", "Southern")),
    Profile("EU", "European Union", hub=1.0, cutting=0.05, lat=51.22, lon=4.40),
    Profile("AE", "United Arab Emirates", hub=0.8, cutting=0.02, lat=25.2, lon=55.27),
    Profile("CA", "Canada", 17.1, 129, 0.0, 0.02, 0, 64.7, -110.6,
            ("Northwest Territories", "Québec", "Ontario")),
    Profile("IN", "India", 0.04, 30, 0.0, 0.2, 1.0, 24.6, 80.0, ("Madhya Pradesh",)),
    Profile("CD", "Democratic Republic of the Congo", 14.1, 9, 0.85, 0, 0, -6.1, 23.6,
            ("Kasaï", "Kasaï-Oriental", "Tshopo", "Kwango")),
    Profile("AU", "Australia", 11.7, 33, 0.0, 0, 0, -17.0, 128.0,
            ("Western Australia", "Northern Territory")),
    Profile("AO", "Angola", 8.8, 143, 0.3, 0, 0, -8.5, 20.5, ("Lunda Norte", "Lunda Sul")),
    Profile("ZA", "South Africa", 9.7, 104, 0.1, 0.1, 0.05, -26.0, 27.5,
            ("Limpopo", "Northern Cape", "Gauteng", "Free State")),
    Profile("IL", "Israel", hub=0.5, cutting=0.3, lat=32.08, lon=34.81),
    Profile("ZW", "Zimbabwe", 4.2, 58, 0.4, 0, 0, -19.5, 32.3, ("Manicaland", "Midlands")),
    Profile("NA", "Namibia", 1.7, 580, 0.2, 0, 0.01, -27.5, 16.0, ("Karas", "Erongo")),
    Profile("CN", "China", hub=0.3, cutting=0.4, lat=22.3, lon=114.17),
    Profile("US", "United States", hub=0.25, cutting=0.1, lat=40.76, lon=-73.98),
    Profile("LS", "Lesotho", 0.6, 530, 0.0, 0, 0, -29.0, 28.6, ("Mokhotlong", "Butha-Buthe")),
    Profile("SL", "Sierra Leone", 0.7, 420, 0.6, 0, 0, 8.6, -11.0, ("Kono", "Kenema", "Bo")),
    Profile("TZ", "Tanzania", 0.1, 430, 0.1, 0, 0, -3.6, 33.5, ("Shinyanga", "Simiyu")),
    Profile("CH", "Switzerland", hub=0.15, lat=46.2, lon=6.15),
    Profile("TH", "Thailand", hub=0.03, cutting=0.15, lat=13.75, lon=100.5),
    Profile("GN", "Guinea", 0.1, 90, 1.0, 0, 0, 9.5, -9.0, ("Kankan", "Nzérékoré", "Kindia")),
    Profile("GH", "Ghana", 0.08, 25, 1.0, 0, 0, 6.05, -0.8, ("Eastern", "Western")),
    Profile("CF", "Central African Republic", 0.1, 180, 1.0, 0, 0, 5.5, 22.0,
            ("Haute-Kotto", "Mambéré-Kadéï", "Lobaye")),
    Profile("GY", "Guyana", 0.08, 220, 1.0, 0, 0, 5.5, -59.5,
            ("Potaro-Siparuni", "Cuyuni-Mazaruni")),
    Profile("BR", "Brazil", 0.2, 80, 0.8, 0, 0, -17.5, -44.0,
            ("Minas Gerais", "Mato Grosso", "Bahia")),
    Profile("LR", "Liberia", 0.05, 250, 1.0, 0, 0, 7.0, -10.0,
            ("Lofa", "Gbarpolu", "Grand Cape Mount")),
    Profile("AM", "Armenia", cutting=0.05, lat=40.18, lon=44.51),
    Profile("LK", "Sri Lanka", cutting=0.03, lat=6.93, lon=79.85),
    Profile("JP", "Japan", hub=0.02, cutting=0.02, lat=35.68, lon=139.69),
    Profile("CM", "Cameroon", 0.01, 60, 1.0, 0, 0, 4.0, 14.5, ("East", "Adamawa")),
    Profile("TW", "Chinese Taipei", hub=0.01, cutting=0.02, lat=25.03, lon=121.56),
    Profile("KR", "Republic of Korea", cutting=0.01, lat=37.57, lon=126.98),
    Profile("BY", "Belarus", cutting=0.03, lat=53.9, lon=27.57),
    Profile("MU", "Mauritius", cutting=0.02, lat=-20.16, lon=57.5),
    Profile("LB", "Lebanon", hub=0.03, lat=33.89, lon=35.5),
    Profile("VN", "Viet Nam", cutting=0.02, lat=21.03, lon=105.85),
    Profile("CG", "Republic of the Congo", 0.05, 40, 1.0, 0, 0, -1.0, 15.5, ("Sangha", "Likouala")),
    Profile("TG", "Togo", 0.005, 50, 1.0, 0, 0, 9.5, 1.1, ("Kara", "Centrale")),
    Profile("CI", "Côte d'Ivoire", 0.005, 100, 1.0, 0, 0, 8.0, -6.5,
            ("Worodougou", "Vallée du Bandama")),
    Profile("TR", "Türkiye", cutting=0.01, lat=41.01, lon=28.98),
    Profile("MY", "Malaysia", hub=0.005, lat=3.14, lon=101.69),
    Profile("MX", "Mexico", hub=0.005, lat=19.43, lon=-99.13),
    Profile("NZ", "New Zealand", cutting=0.005, lat=-36.85, lon=174.76),
)  # fmt: skip


class DocumentSink(Protocol):
    """What the generator needs of a ledger: `Ledger.post`."""

    def post(self, payload: Any, actor: Actor) -> Any: ...


@dataclass(frozen=True)
class GenerateReport:
    """What one run posted: documents, lots created, wall time, documents per second."""

    documents: int
    lots: int
    seconds: float
    rate: float


class _Lot:
    """What the generator remembers of a usable lot (amounts in hundredths)."""

    __slots__ = (
        "carats",
        "depth",
        "imported_day",
        "lot_id",
        "operator",
        "origin",
        "paths",
        "sorted",
        "sources",
        "tainted",
        "value",
        "visited",
    )

    def __init__(
        self,
        lot_id: str,
        carats: int,
        origin: int,
        visited: int,
        *,
        value: int,
        imported_day: int = -(10**6),
        tainted: bool = False,
        sorted: bool = False,
        sources: int = 1,
        operator: str | None = None,
        depth: int = 0,
        paths: int = 1,
    ) -> None:
        self.lot_id = lot_id
        self.operator = operator  # the operator holding it, if any
        self.carats = carats
        self.origin = origin  # index of the one producing participant, -1 when mixed
        self.imported_day = imported_day  # when the current holder received it
        self.tainted = tainted  # holds material from the embargoed region
        self.sorted = sorted
        self.sources = sources  # an upper bound of the sources in its composition
        self.value = value
        self.visited = visited  # bit mask of every participant that held any of it
        self.depth = depth  # the longest chain of splits and merges from a produced lot
        self.paths = paths  # lineage paths from it to each ancestor and itself


@dataclass
class _Shipment:
    """A certificate issued and not yet confirmed."""

    certificate_id: str
    exporter: int
    importer: int
    lots: list[_Lot]
    carats: int
    value: int
    issued_day: int
    export_seq: int


@dataclass
class _Operator:
    """A licensed company: its id and roles; once barred (listed), it is never named again."""

    operator_id: str
    roles: tuple[str, ...]
    named: bool = False
    barred: bool = False

    def may(self, role: str) -> bool:
        return not self.barred and role in self.roles


@dataclass(frozen=True)
class _Source:
    source_id: str
    region: str
    alluvial: bool


class _Poster:
    """Per-poster buffers of documents, posted in batches once what they depend on is posted.

    Every document gets a sequence number; a document may depend on (poster,
    sequence number): everything that poster had up to that number must be
    posted first. While a buffer is full, the longest ready prefix of any buffer
    is posted.
    """

    def __init__(self, ledger: DocumentSink, actors: dict[str, Actor], batch_size: int) -> None:
        self.ledger = ledger
        self.actors = actors
        self.batch_size = batch_size
        self.buffers: dict[str, list[tuple[int, dict[str, Any], tuple[str, int] | None]]] = {
            key: [] for key in actors
        }
        self.last_seq = dict.fromkeys(actors, 0)
        self.seq = 0
        self.posted = 0

    def add(self, key: str, document: dict[str, Any], needs: tuple[str, int] | None) -> int:
        """Buffers a document; posts while its poster's buffer is full."""
        self.seq += 1
        buffer = self.buffers[key]
        buffer.append((self.seq, document, needs))
        self.last_seq[key] = self.seq
        while len(buffer) >= self.batch_size:
            self._post_longest()
        return self.seq

    def flush_all(self) -> None:
        while any(self.buffers.values()):
            self._post_longest()

    def _waiting(self, key: str, seq: int) -> bool:
        buffer = self.buffers[key]
        return bool(buffer) and buffer[0][0] <= seq

    def _ready(self, key: str) -> int:
        """How many of the first documents of `key` (at most `batch_size`) depend only on
        posted documents."""
        buffer = self.buffers[key]
        for end in range(min(len(buffer), self.batch_size)):
            needs = buffer[end][2]
            if needs is not None and self._waiting(*needs):
                return end
        return min(len(buffer), self.batch_size)

    def _post_longest(self) -> None:
        """Posts the longest ready prefix of any buffer. There is one: the lowest sequence
        number left depends only on posted documents."""
        ready = {key: self._ready(key) for key in self.buffers}
        key = max(ready, key=ready.__getitem__)
        buffer, end = self.buffers[key], ready[key]
        self.ledger.post(
            {"events": [document for _, document, _ in buffer[:end]]}, self.actors[key]
        )
        self.posted += end
        del buffer[:end]


class _World:
    """The generator's compact state and its steps."""

    def __init__(
        self,
        poster: _Poster,
        profiles: Sequence[Profile],
        *,
        lots: int,
        years: int,
        seed: int,
        operators: int = 0,
        mixing: str = "none",
    ) -> None:
        self.poster = poster
        self.profiles = profiles
        self.target = lots
        self.rng = random.Random(seed)
        # Annex I's parcels draw from a stream of their own, so that the world drawn from
        # `rng` stays what it was before certificates counted parcels.
        self.parcels_rng = random.Random(f"parcels:{seed}")
        self.start = date(LAST_YEAR - years + 1, 1, 1)
        self.days = (date(LAST_YEAR + 1, 1, 1) - self.start).days
        self.run_name = f"{seed}:{lots}:{len(profiles)}:{years}"
        self.deep = mixing == "deep"
        if self.deep:
            self.run_name += ":deep"
        self.hubs = [i for i, p in enumerate(profiles) if p.code in DEEP_HUBS]
        self.mixing_from = lots - round(lots * DEEP_SHARE) if self.deep else lots
        self.mixing = False  # in the mixing phase
        self.caps = [POOL_CAP] * len(profiles)
        self.tag = uuid5(GENERATOR_NAMESPACE, self.run_name).hex[:4]
        self.counter = itertools.count(1)
        self.created = 0
        self.day = 0
        self.pools: list[list[_Lot]] = [[] for _ in profiles]
        self.pending: list[tuple[int, int, _Shipment]] = []
        self.certificates: dict[tuple[int, int], int] = {}
        self.sources: list[list[_Source]] = [[] for _ in profiles]
        self.source_cum: list[tuple[list[float], list[float]]] = []
        self.embargo: tuple[int, str] | None = None  # participant index, region
        # Expected lots a year by region, of participants with alluvial production.
        self.region_lots: dict[tuple[int, str], float] = {}
        self.embargo_day = int(self.days * EMBARGO_AT)
        self.embargo_declared = False
        # Lots in proportion to production / mean lot size: carats in proportion to production.
        self.producer_weights = [
            p.mct / _mean_lot_carats(p) if p.mct > 0 else 0.0 for p in profiles
        ]
        self.producer_cum = list(itertools.accumulate(self.producer_weights))
        self.action_cum = [list(itertools.accumulate(_trade_weights(p))) for p in profiles]
        self.operator_count = operators
        self.operator_rng = random.Random(f"{seed}:operators")
        self.operators: list[list[_Operator]] = [[] for _ in profiles]
        self.sanctions_day = int(self.days * SANCTIONS_AT)
        self.sanctions_listed = not operators

    # -- documents -------------------------------------------------------------------------

    def emit(
        self, key: str, type_: str, day: int, fields: dict[str, Any], needs: Any = None
    ) -> int:
        hour, minute = self.rng.randrange(7, 19), self.rng.randrange(60)
        document = {
            "event_id": str(uuid5(GENERATOR_NAMESPACE, f"{self.run_name}:{next(self.counter)}")),
            "type": type_,
            "occurred_at": f"{self.date(day).isoformat()}T{hour:02d}:{minute:02d}:00Z",
            **fields,
        }
        return self.poster.add(key, document, needs)

    def date(self, day: int) -> date:
        return self.start + timedelta(days=day)

    def new_lot_id(self, participant: int) -> str:
        self.created += 1
        return f"{self.profiles[participant].code}-{self.tag}-L{self.created:07d}"

    # -- setting up ------------------------------------------------------------------------

    def set_up(self) -> None:
        """Admits the participants, registers their sources, chooses the embargoed region."""
        for profile in self.profiles:
            self.emit(
                "secretariat",
                "participant.admitted",
                0,
                {"participant": profile.code, "name": profile.name},
            )
        self.poster.flush_all()
        produced_a_year = self.target * PRODUCTION_SHARE / (self.days / 365)
        for index, profile in enumerate(self.profiles):
            share = self.producer_weights[index] / self.producer_cum[-1]
            self.register_sources(index, profile, produced_a_year * share)
        self.license_operators()
        if self.region_lots:
            self.embargo = min(
                self.region_lots,
                key=lambda place: abs(self.region_lots[place] / produced_a_year - EMBARGOED_SHARE),
            )

    def register_sources(self, index: int, profile: Profile, lots_per_year: float) -> None:
        if profile.mct <= 0:
            self.source_cum.append(([], []))
            return
        rng = self.rng
        scale = math.log2(2 + profile.mct)
        mines = 0 if profile.alluvial >= 1 else max(1, min(8, round(1 + scale)))
        sites = (
            0
            if profile.alluvial <= 0
            else max(2, min(60, round(4 + 10 * profile.alluvial * scale)))
        )
        cum: tuple[list[float], list[float]] = ([], [])
        for alluvial, count in ((False, mines), (True, sites)):
            weights = [1 / (k + 1) for k in range(count)]
            cum[alluvial].extend(itertools.accumulate(weights))
            kind_share = profile.alluvial if alluvial else 1 - profile.alluvial
            mean = _mean_carats(alluvial)
            for k, weight in enumerate(weights):
                region = profile.regions[k % len(profile.regions)]
                expected_lots = lots_per_year * kind_share * weight / sum(weights)
                if profile.alluvial > 0:
                    place = (index, region)
                    self.region_lots[place] = self.region_lots.get(place, 0) + expected_lots
                expected = expected_lots * mean
                tight = rng.random() < TIGHT_CAPACITY_RATE
                capacity = expected * 0.3 if tight else expected * 4 + mean * 20
                source_id = f"{profile.code}-{self.tag}-{'A' if alluvial else 'M'}{k + 1:03d}"
                fields: dict[str, Any] = {
                    "participant": profile.code,
                    "region": region,
                    "location": {
                        "lat": round(
                            max(-89.0, min(89.0, profile.lat + rng.uniform(-1.5, 1.5))), 4
                        ),
                        "lon": round(
                            max(-179.0, min(179.0, profile.lon + rng.uniform(-1.5, 1.5))), 4
                        ),
                    },
                    "annual_capacity_carats": f"{max(capacity, 0.01):.2f}",
                }
                if alluvial:
                    fields |= {
                        "site_id": source_id,
                        "licence": {
                            "number": f"{profile.code}-LIC-{self.tag}-{k + 1:04d}",
                            "holder": f"{region} Diggers Cooperative {k + 1}",
                            "valid_until": f"{LAST_YEAR + 5}-12-31",
                        },
                    }
                    kind = "alluvial_site.registered"
                else:
                    fields |= {"mine_id": source_id, "name": f"{region} Mine {k + 1}"}
                    kind = "mine.registered"
                self.emit(profile.code, kind, 0, fields)
                self.sources[index].append(_Source(source_id, region, alluvial))
        self.source_cum.append(cum)

    # -- the run ---------------------------------------------------------------------------

    def run(self, on_lots: Callable[[int], None]) -> None:
        """Steps until `target` lots exist, then confirms every shipment still due."""
        rng = self.rng
        while self.created < self.mixing_from:
            self.day = min(self.days - 1, self.created * self.days // self.target)
            self.declare_embargo_when_due()
            self.confirm_due(self.day)
            self.list_sanctions_when_due()
            before = self.created
            if rng.random() < PRODUCTION_SHARE:
                self.produce()
            else:
                self.trade()
            if rng.random() < FLAG_RATE:
                self.flag()
            if self.created > before:
                on_lots(self.created - before)
        if self.deep:
            self.mix(on_lots)
        self.confirm_due(None)
        self.poster.flush_all()

    def mix(self, on_lots: Callable[[int], None]) -> None:
        """The mixing phase: until `target` lots exist, a few lots are produced and exported
        to the hubs, and the hubs split, merge and export to each other what they hold.

        A hub's pool is kept small, so that its lots are taken again and again and lineage
        grows deep; a merge takes only lots whose lineage paths stay under
        `DEEP_PATHS_CAP` together, which bounds what a walk of the edges costs."""
        rng = self.rng
        cap = max(20, (self.target - self.created) // DEEP_POOL_DIVISOR)
        for hub in self.hubs:
            self.caps[hub] = cap
            pool = self.pools[hub]
            while len(pool) > cap:
                self.take(pool, rng.randrange(len(pool)))
        producers = [i for i in range(len(self.profiles)) if i not in self.hubs]
        self.mixing = True
        while self.created < self.target:
            self.day = min(self.days - 1, self.created * self.days // self.target)
            self.declare_embargo_when_due()
            self.confirm_due(self.day)
            self.list_sanctions_when_due()
            before = self.created
            draw = rng.random()
            held = [len(self.pools[hub]) for hub in self.hubs]
            if draw < DEEP_FEED or not any(held):
                self.produce()
            elif draw < DEEP_FEED + DEEP_IMPORT:
                sizes = list(itertools.accumulate(len(self.pools[i]) for i in producers))
                if sizes[-1]:
                    index = producers[bisect.bisect(sizes, rng.random() * sizes[-1])]
                    self.export(index, to_hub=True)
            else:
                sizes = list(itertools.accumulate(held))
                hub = self.hubs[bisect.bisect(sizes, rng.random() * sizes[-1])]
                actions = list(itertools.accumulate(DEEP_ACTIONS))
                action = bisect.bisect(actions, rng.random() * actions[-1])
                if action == 0:
                    self.export(hub, to_hub=True)
                else:
                    (self.split, self.merge)[action - 1](hub)
            if rng.random() < FLAG_RATE:
                self.flag()
            if self.created > before:
                on_lots(self.created - before)

    def mixing_at(self, index: int) -> bool:
        """Whether the hub `index` mixes deeply now."""
        return self.mixing and index in self.hubs

    def declare_embargo_when_due(self) -> None:
        if self.embargo is None or self.embargo_declared or self.day < self.embargo_day:
            return
        self.embargo_declared = True
        participant, region = self.embargo
        code = self.profiles[participant].code
        effective_from = self.date(self.embargo_day).isoformat()
        self.emit(
            "secretariat",
            "embargo.declared",
            self.embargo_day,
            {
                "embargo_id": f"EMB-{self.tag}-{code}",
                "participant": code,
                "region": region,
                "reason": f"UN Security Council: armed groups hold the diamond fields of {region}",
                "effective_from": effective_from,
            },
        )

    def produce(self) -> None:
        rng = self.rng
        index = bisect.bisect(self.producer_cum, rng.random() * self.producer_cum[-1])
        profile = self.profiles[index]
        mines_cum, sites_cum = self.source_cum[index]
        alluvial = not mines_cum or (bool(sites_cum) and rng.random() < profile.alluvial)
        cum = sites_cum if alluvial else mines_cum
        k = bisect.bisect(cum, rng.random() * cum[-1])
        source = [s for s in self.sources[index] if s.alluvial == alluvial][k]
        median = ALLUVIAL_MEDIAN_CARATS if alluvial else MINE_MEDIAN_CARATS
        carats = max(1, min(10**8, round(rng.lognormvariate(math.log(median), 1.0) * 100)))
        price = profile.usd_per_carat * rng.lognormvariate(0, 0.6 if alluvial else 0.35)
        value = round(carats * price)
        lot_id = self.new_lot_id(index)
        operator = self.producing_operator(index, alluvial)
        fields = {
            "lot_id": lot_id,
            "source_id": source.source_id,
            "carats": _amount(carats),
            "value_usd": _amount(value),
        }
        if operator is not None:
            fields["operator"] = operator
        self.emit(profile.code, "lot.produced", self.day, fields)
        tainted = self.embargo == (index, source.region)
        lot = _Lot(lot_id, carats, index, 1 << index, value=value, tainted=tainted)
        lot.operator = operator
        self.keep(index, lot)

    def trade(self) -> None:
        rng = self.rng
        sizes = list(itertools.accumulate(len(pool) for pool in self.pools))
        if not sizes[-1]:
            return
        index = bisect.bisect(sizes, rng.random() * sizes[-1])
        actions = self.action_cum[index]
        action = bisect.bisect(actions, rng.random() * actions[-1])
        [self.export, self.split, self.merge, self.polish][action](index)

    def keep(self, index: int, lot: _Lot) -> None:
        """Remembers a usable lot; a full pool forgets one at random (it stays in the ledger)."""
        pool = self.pools[index]
        if len(pool) >= self.caps[index]:
            self.take(pool, self.rng.randrange(len(pool)))
        pool.append(lot)

    @staticmethod
    def take(pool: list[_Lot], position: int) -> _Lot:
        pool[position], pool[-1] = pool[-1], pool[position]
        return pool.pop()

    def movable(self, lot: _Lot) -> bool:
        """Whether the lot may be exported or merged today without breaking an embargo."""
        return not (lot.tainted and self.day >= self.embargo_day)

    def pick(self, index: int, count: int, accept: Callable[[_Lot], bool]) -> list[_Lot]:
        """Up to `count` lots taken from the pool that `accept` accepts, in a few tries."""
        pool, chosen = self.pools[index], list[_Lot]()
        for _ in range(count * 3):
            if not pool or len(chosen) == count:
                break
            position = self.rng.randrange(len(pool))
            if accept(pool[position]):
                chosen.append(self.take(pool, position))
        return chosen

    def split(self, index: int) -> None:
        remaining = self.target - self.created
        if remaining < 2:
            return
        chosen = self.pick(index, 1, lambda lot: lot.carats >= 2)
        if not chosen:
            return
        (lot,) = chosen
        rng = self.rng
        choices = (2, 2, 3) if self.mixing_at(index) else (2, 2, 3, 3, 4, 5, 6)
        parts = min(rng.choice(choices), lot.carats, remaining)
        cuts = sorted(rng.sample(range(1, lot.carats), parts - 1))
        carats = [b - a for a, b in itertools.pairwise([0, *cuts, lot.carats])]
        grades = [c * rng.lognormvariate(0, 0.5) for c in carats]
        values = [int(lot.value * g / sum(grades)) for g in grades]
        values[-1] += lot.value - sum(values)
        children = [
            _Lot(
                self.new_lot_id(index),
                c,
                lot.origin,
                lot.visited,
                value=v,
                imported_day=lot.imported_day,
                tainted=lot.tainted,
                sorted=True,
                sources=lot.sources,
                operator=lot.operator,
                depth=lot.depth + 1,
                paths=lot.paths + 1,
            )
            for c, v in zip(carats, values, strict=True)
        ]
        into = [
            {
                "lot_id": child.lot_id,
                "carats": _amount(child.carats),
                "value_usd": _amount(child.value),
            }
            for child in children
        ]
        self.emit(
            self.profiles[index].code, "lot.split", self.day, {"lot_id": lot.lot_id, "into": into}
        )
        for child in children:
            self.keep(index, child)

    def merge(self, index: int) -> None:
        rng = self.rng
        if self.mixing_at(index):
            chosen = self.pick(
                index,
                rng.choice((2, 2, 3)),
                lambda lot: self.movable(lot) and lot.paths <= DEEP_PATHS_CAP // 3,
            )
        else:
            chosen = self.pick(
                index,
                rng.choice((2, 2, 3, 4)),
                lambda lot: self.movable(lot) and lot.sources < MAX_SOURCES_PER_LOT // 2,
            )
        holding = self.one_holding(index, chosen, None) if len(chosen) > 1 else None
        if len(chosen) < 2 or holding is False:
            for lot in chosen:
                self.pools[index].append(lot)
            return
        origins = {lot.origin for lot in chosen}
        merged = _Lot(
            self.new_lot_id(index),
            sum(lot.carats for lot in chosen),
            origins.pop() if len(origins) == 1 else -1,
            _union(lot.visited for lot in chosen),
            value=sum(lot.value for lot in chosen),
            imported_day=max(lot.imported_day for lot in chosen),
            tainted=any(lot.tainted for lot in chosen),
            sorted=any(lot.sorted for lot in chosen),
            sources=sum(lot.sources for lot in chosen),
            operator=chosen[0].operator,
            depth=max(lot.depth for lot in chosen) + 1,
            paths=sum(lot.paths for lot in chosen) + 1,
        )
        self.emit(
            self.profiles[index].code,
            "lots.merged",
            self.day,
            {
                "lot_ids": [lot.lot_id for lot in chosen],
                "into": {"lot_id": merged.lot_id, "value_usd": _amount(merged.value)},
            },
        )
        self.keep(index, merged)

    def polish(self, index: int) -> None:
        """A cutting centre takes a lot into manufacture: the generator forgets it."""
        pool = self.pools[index]
        if pool:
            self.take(pool, self.rng.randrange(len(pool)))

    def export(self, index: int, *, to_hub: bool = False) -> None:
        """Certifies a few of the participant's lots for export (`to_hub`: to one of the
        other hubs, wherever the material has been)."""
        rng = self.rng
        rapid = rng.random() < RAPID_REEXPORT_RATE
        chosen = self.pick(
            index,
            rng.choice((1, 1, 1, 2, 2, 3, 4)),
            lambda lot: (
                self.movable(lot) and (rapid or self.day - lot.imported_day > RAPID_REEXPORT_DAYS)
            ),
        )
        if not chosen:
            return
        visited = _union(lot.visited for lot in chosen)
        if to_hub:
            others = [hub for hub in self.hubs if hub != index]
            importer: int | None = others[rng.randrange(len(others))]
        else:
            importer = self.choose_importer(index, visited, rng.random() < ROUND_TRIP_RATE)
        holding = self.one_holding(index, chosen, "exporter") if importer is not None else None
        if importer is None or holding is False:
            self.pools[index].extend(chosen)
            return
        exporter_party: dict[str, Any] = {}
        if isinstance(holding, _Operator):
            exporter_party["operator_id"] = holding.operator_id
        profile, year = self.profiles[index], self.date(self.day).year
        number = self.certificates.get((index, year), 0) + 1
        self.certificates[index, year] = number
        certificate_id = f"{profile.code}-{year}-{self.tag}-{number:06d}"
        carats = sum(lot.carats for lot in chosen)
        value = sum(lot.value for lot in chosen)
        origins = {lot.origin for lot in chosen}
        origin = origins.pop() if len(origins) == 1 else -1
        if not any(lot.sorted for lot in chosen):
            hs_code = "7102.10"
        else:
            hs_code = "7102.21" if value < carats * 40 else "7102.31"
        importer_profile = self.profiles[importer]
        seq = self.emit(
            profile.code,
            "export.certified",
            self.day,
            {
                "certificate_id": certificate_id,
                "exporting_participant": profile.code,
                "importing_participant": importer_profile.code,
                "lot_ids": [lot.lot_id for lot in chosen],
                "exporter": {
                    "name": f"{profile.name} Rough Trading {rng.randint(1, 40)}",
                    **exporter_party,
                },
                "importer": {"name": f"{importer_profile.name} Diamond House {rng.randint(1, 40)}"},
                "hs_code": hs_code,
                "carats": _amount(carats),
                "value_usd": _amount(value),
                "declared_origin": self.profiles[origin].code if origin >= 0 else "MIXED",
                "issued_on": self.date(self.day).isoformat(),
                "expires_on": self.date(self.day + CERTIFICATE_VALIDITY_DAYS).isoformat(),
                "parcels": len(chosen),
            },
        )
        if rng.random() < UNCONFIRMED_RATE:
            return  # never confirmed: the lots stay in transit for ever
        shipment = _Shipment(certificate_id, index, importer, chosen, carats, value, self.day, seq)
        due = self.day + rng.randint(*CONFIRMATION_DAYS)
        heapq.heappush(self.pending, (due, seq, shipment))

    def choose_importer(self, exporter: int, visited: int, round_trip: bool) -> int | None:
        """A destination by the exporter's kind of trade; never one the material has seen,
        unless this is a round trip."""
        profile = self.profiles[exporter]
        weights = []
        for index, other in enumerate(self.profiles):
            seen = bool(visited >> index & 1)
            if index == exporter or seen != round_trip:
                weights.append(0.0)
            elif profile.cutting > profile.hub:
                weights.append(other.hub + 0.001)
            elif profile.hub > 0:
                weights.append(0.4 * other.hub + other.cutting + 0.001)
            else:
                weights.append(other.hub + 0.5 * other.cutting + 0.001)
        cum = list(itertools.accumulate(weights))
        if cum[-1] <= 0:
            return None
        return bisect.bisect(cum, self.rng.random() * cum[-1])

    def confirm_due(self, today: int | None) -> None:
        """Confirms the imports due by `today` (all of them when None)."""
        rng = self.rng
        while self.pending and (today is None or self.pending[0][0] <= today):
            due, _, shipment = heapq.heappop(self.pending)
            received = max(shipment.issued_day, min(due, self.days - 1))
            carats, value = shipment.carats, round(shipment.value * rng.uniform(0.97, 1.03))
            if rng.random() < CARAT_DISCREPANCY_RATE and carats > 100:
                carats -= max(1, carats // 200)
            if rng.random() < VALUE_DISCREPANCY_RATE:
                value = round(value * rng.choice((0.5, 1.6)))
            parcels = len(shipment.lots)
            if self.parcels_rng.random() < PARCEL_DISCREPANCY_RATE:
                parcels += 1
            importer = self.profiles[shipment.importer]
            fields: dict[str, Any] = {
                "certificate_id": shipment.certificate_id,
                "carats": _amount(carats),
                "value_usd": _amount(value),
                "received_on": self.date(received).isoformat(),
                "parcels": parcels,
            }
            operator = self.importing_operator(shipment.importer)
            if operator is not None:
                fields["operator_id"] = operator
            self.emit(
                importer.code,
                "import.confirmed",
                received,
                fields,
                needs=(self.profiles[shipment.exporter].code, shipment.export_seq),
            )
            for lot in shipment.lots:
                lot.operator = operator
                lot.imported_day = received
                lot.visited |= 1 << shipment.importer
                self.keep(shipment.importer, lot)

    # -- operators -------------------------------------------------------------------------

    def license_operators(self) -> None:
        """Licenses `operator_count` operators, in proportion to each participant's weight in
        production and trade: the first of a participant is a trader, the others of a
        producer its miners or diggers, of the others more traders."""
        if not self.operator_count:
            return
        total = self.producer_cum[-1]
        weights = [
            self.producer_weights[i] / total + p.hub + p.cutting
            for i, p in enumerate(self.profiles)
        ]
        for index, count in enumerate(_apportion(self.operator_count, weights)):
            profile = self.profiles[index]
            digs = profile.alluvial > 0.5
            for number in range(1, count + 1):
                if number == 1 or profile.mct <= 0:
                    roles: tuple[str, ...] = TRADER_ROLES
                else:
                    roles = ("digger" if digs else "miner", "dealer")
                operator_id = f"{profile.code}-{self.tag}-O{number:04d}"
                kind = "Diggers Cooperative" if "digger" in roles else "Diamonds"
                self.emit(
                    profile.code,
                    "operator.licensed",
                    0,
                    {
                        "operator_id": operator_id,
                        "participant": profile.code,
                        "name": f"{profile.name} {kind} {number}",
                        "roles": list(roles),
                        "licence": {
                            "number": f"{profile.code}-OPL-{self.tag}-{number:04d}",
                            "valid_until": f"{LAST_YEAR + 5}-12-31",
                        },
                    },
                )
                self.operators[index].append(_Operator(operator_id, roles))

    def _choose(self, index: int, role: str) -> _Operator | None:
        able = [operator for operator in self.operators[index] if operator.may(role)]
        if not able:
            return None
        operator = self.operator_rng.choice(able)
        operator.named = True
        return operator

    def producing_operator(self, index: int, alluvial: bool) -> str | None:
        """The miner or digger a new lot is produced by, for a share of the lots."""
        if not self.operators[index] or self.operator_rng.random() >= OPERATOR_PRODUCTION_SHARE:
            return None
        operator = self._choose(index, "digger" if alluvial else "miner")
        operator = operator or self._choose(index, "miner" if alluvial else "digger")
        return operator.operator_id if operator is not None else None

    def importing_operator(self, index: int) -> str | None:
        """The importer that takes in a shipment, for a share of the imports."""
        if not self.operators[index] or self.operator_rng.random() >= OPERATOR_IMPORT_SHARE:
            return None
        operator = self._choose(index, "importer")
        return operator.operator_id if operator is not None else None

    def one_holding(self, index: int, lots: list[_Lot], role: str | None) -> _Operator | bool:
        """Makes the lots held alike before they are merged (`role` None) or exported (role
        `exporter`): sells every lot to one trader when their holdings differ, or when
        they are held by an operator that cannot be named for `role`. True: nothing to do
        (held by no operator, or by one that may act); the operator when it must be
        named; False: no trader may take them (the lots stay where they are)."""
        held = {lot.operator for lot in lots}
        if held == {None}:
            return True
        current = self.operator_by_id(index, held.pop()) if len(held) == 1 else None
        if current is not None and (role is None or current.may(role)):
            return current if role is not None else True
        target = self._choose(index, "exporter" if role else "dealer")
        if target is None:
            return False
        for lot in lots:
            if lot.operator != target.operator_id:
                self.emit(
                    self.profiles[index].code,
                    "lot.transferred",
                    self.day,
                    {
                        "lot_id": lot.lot_id,
                        "to_operator": target.operator_id,
                        "value_usd": _amount(lot.value),
                    },
                )
                lot.operator = target.operator_id
        return target if role is not None else True

    def operator_by_id(self, index: int, operator_id: str | None) -> _Operator | None:
        for operator in self.operators[index]:
            if operator.operator_id == operator_id:
                return operator
        return None

    def list_sanctions_when_due(self) -> None:
        """Late in the span, the UN lists a few traders that took part in the trade; the
        listing takes effect the next day, so nothing posted before it is refused."""
        if self.sanctions_listed or self.day < self.sanctions_day:
            return
        self.sanctions_listed = True
        named = [
            (index, operator)
            for index, operators in enumerate(self.operators)
            for operator in operators
            if operator.named
        ]
        count = max(1, round(self.operator_count * SANCTIONED_OPERATORS_RATE))
        for index, operator in self.operator_rng.sample(named, min(count, len(named))):
            operator.barred = True
            code = self.profiles[index].code
            self.emit(
                "secretariat",
                "sanction.listed",
                self.day,
                {
                    "listing_id": f"UN-{self.tag}-{operator.operator_id}",
                    "operator_id": operator.operator_id,
                    "reason": "UN sanctions committee: trading in conflict diamonds",
                    "effective_from": self.date(self.day + 1).isoformat(),
                },
                needs=(code, self.poster.last_seq[code]),
            )

    def flag(self) -> None:
        """An investigator flags a lot some participant holds."""
        holders = [index for index, pool in enumerate(self.pools) if pool]
        if not holders:
            return
        index = self.rng.choice(holders)
        lot = self.rng.choice(self.pools[index])
        code = self.profiles[index].code
        self.emit(
            "investigator",
            "lot.flagged",
            self.day,
            {"lot_id": lot.lot_id, "reason": "unusual trading pattern under review"},
            needs=(code, self.poster.last_seq[code]),
        )


def _apportion(total: int, weights: list[float]) -> list[int]:
    """`total` split in proportion to `weights` by largest remainders.

    >>> _apportion(10, [3.0, 1.0, 1.0])
    [6, 2, 2]
    """
    whole = sum(weights)
    exact = [total * weight / whole for weight in weights]
    counts = [int(share) for share in exact]
    by_remainder = sorted(range(len(weights)), key=lambda i: counts[i] - exact[i])
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts


def _mean_carats(alluvial: bool) -> float:
    """The mean of a lognormal lot size with sigma 1: median times e^(1/2)."""
    return (ALLUVIAL_MEDIAN_CARATS if alluvial else MINE_MEDIAN_CARATS) * math.exp(0.5)


def _mean_lot_carats(profile: Profile) -> float:
    return profile.alluvial * _mean_carats(True) + (1 - profile.alluvial) * _mean_carats(False)


def _trade_weights(profile: Profile) -> tuple[float, float, float, float]:
    """Weights of export, split, merge and polish for a holder of this kind."""
    if profile.cutting >= 0.1 and profile.cutting > profile.hub:
        return (0.2, 0.1, 0.0, 0.7)
    if profile.hub > 0:
        return (0.55, 0.3, 0.15, 0.0)
    return (0.75, 0.15, 0.1, 0.0)


def _union(masks: Any) -> int:
    result = 0
    for mask in masks:
        result |= mask
    return result


def _amount(hundredths: int) -> str:
    return f"{hundredths // 100}.{hundredths % 100:02d}"


def generate(
    ledger: DocumentSink,
    *,
    lots: int,
    participants: int = 30,
    years: int = 3,
    seed: int = 0,
    batch_size: int = 1000,
    progress: bool = True,
    operators: int = 0,
    mixing: str = "none",
) -> GenerateReport:
    """Posts a synthetic world of `lots` lots (produced, split or merged) through `ledger.post`.

    The same arguments give the same documents: posting them again appends nothing.
    Raises ValueError for arguments out of range.
    """
    if lots < 1:
        raise ValueError("lots must be at least 1")
    if not 2 <= participants <= len(PROFILES):
        raise ValueError(f"participants must be between 2 and {len(PROFILES)}")
    if not 1 <= years <= 20:
        raise ValueError("years must be between 1 and 20")
    if not 1 <= batch_size <= MAX_BATCH:
        raise ValueError(f"batch_size must be between 1 and {MAX_BATCH}")
    if not 0 <= operators <= 100_000:
        raise ValueError("operators must be between 0 and 100000")
    if mixing not in MIXINGS:
        raise ValueError(f"mixing must be one of {', '.join(MIXINGS)}")
    profiles = PROFILES[:participants]
    if mixing == "deep" and sum(p.code in DEEP_HUBS for p in profiles) < 2:
        raise ValueError("deep mixing needs at least two of the hubs AE, EU and IN")
    actors = {
        "secretariat": Actor("secretariat", "generator-secretariat"),
        "investigator": Actor("investigator", "generator-investigator"),
        **{p.code: Actor("authority", f"generator-authority-{p.code}", p.code) for p in profiles},
    }
    poster = _Poster(ledger, actors, batch_size)
    world = _World(
        poster, profiles, lots=lots, years=years, seed=seed, operators=operators, mixing=mixing
    )
    started = time.perf_counter()
    with tqdm(
        total=lots, unit="lot", file=sys.stderr, disable=not progress, mininterval=0.5
    ) as bar:
        world.set_up()
        world.run(bar.update)
        seconds = time.perf_counter() - started
        rate = poster.posted / seconds if seconds > 0 else 0.0
        bar.set_postfix_str(f"{rate:.0f} documents/s")  # the bar's last state, not a line
    return GenerateReport(documents=poster.posted, lots=world.created, seconds=seconds, rate=rate)

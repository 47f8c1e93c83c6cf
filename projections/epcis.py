"""Log entries as GS1 EPCIS 2.0 events, in an `EPCISDocument` (JSON-LD).

What moves rough diamonds becomes an event; every other document type (registrations,
participants, embargoes, operators, sanctions, transfers inside a participant, flags,
seizures, reports, reviews) has no EPCIS event and is left out:

| document | event |
|---|---|
| `lot.produced` | `ObjectEvent` `ADD`, bizStep `commissioning`, disposition `active` |
| `lot.split` | `TransformationEvent`: the lot in, its parts out |
| `lots.merged` | `TransformationEvent`: the parts in, the merged lot out |
| `export.certified` | `ObjectEvent` `OBSERVE`, bizStep `shipping`, disposition `in_transit` |
| `import.confirmed` | `ObjectEvent` `OBSERVE`, bizStep `receiving`, disposition `in_progress` |

A lot is a class-level identity measured in carats (as a GS1 LGTIN is a product's batch):
`quantityList` entries `{epcClass: urn:kpledger:lot:<id>, quantity: carats, uom: CTM}`.
Identifiers are URNs of a private namespace, `urn:kpledger:<kind>:<id>` (kinds `lot`,
`source`, `participant`, `certificate`), the id percent-encoded where RFC 3986 needs it:
our ids are not GS1 keys, and a GS1 key cannot be made up for them. A certificate is a
business transaction of CBV type `cert`; exporter and importer are owning parties.
The quantities a document does not carry (a merged lot's parts, a certificate's lots)
are read from the custody state; the lots' carats never change once made.

`eventID` is `urn:uuid:<event_id>`. A retracted document's event carries an
`errorDeclaration` (reason `did_not_occur`: a retraction answers "as if never posted")
declared when the retraction was recorded, its reason in `kpl:reason`: where the event
is served, when its retraction is known (`retracted`), and, as EPCIS declares errors, at
the retraction's place in the log, as the event again (same `eventID`) with its
declaration, when the retracted entry is given (`originals`) and not in the same page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from ledger.log import LogEntry
from projections.custody import Custody

__all__ = [
    "CONTEXT",
    "RETRACTED",
    "Retraction",
    "epcis_document",
    "retractions_in",
    "urn",
]

CONTEXT: list[Any] = [
    "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
    {"kpl": "urn:kpledger:epcis:"},
]
"""The EPCIS 2.0 context, and the prefix of our one extension field (`kpl:reason`)."""

RETRACTED = "document.retracted"
"""The type of the document that retracts another (`retracted_event_id`, `reason`)."""

CARATS = "CTM"
"""UN/CEFACT Rec. 20: metric carat."""


@dataclass(frozen=True, slots=True)
class Retraction:
    """Why and when a document was retracted."""

    declared_at: datetime
    reason: str


def urn(kind: str, identifier: str) -> str:
    """The URN naming one of our ids.

    >>> urn("lot", "GH-ACC-2005-0412"), urn("lot", "a b/c")
    ('urn:kpledger:lot:GH-ACC-2005-0412', 'urn:kpledger:lot:a%20b%2Fc')
    """
    return f"urn:kpledger:{kind}:{quote(identifier, safe='-._~')}"


def retractions_in(entries: Iterable[LogEntry]) -> dict[str, Retraction]:
    """The retractions among `entries`, by the event id they retract."""
    return {
        entry.document["retracted_event_id"]: Retraction(
            entry.recorded_at, str(entry.document.get("reason", ""))
        )
        for entry in entries
        if entry.type == RETRACTED
    }


def _time(instant: datetime) -> str:
    return instant.isoformat().replace("+00:00", "Z")


def _offset(instant: datetime) -> str:
    offset = instant.utcoffset()
    minutes = 0 if offset is None else int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _carats(hundredths: int) -> float:
    return hundredths / 100


class _Mapper:
    """Maps the entries of one page, reading what their documents lack from `state`."""

    def __init__(self, state: Custody) -> None:
        self.state = state

    def quantity(self, lot_id: str, carats: float | None = None) -> dict[str, Any]:
        """A lot's quantity element; its carats from the state when not given (none when
        the state does not know the lot)."""
        element: dict[str, Any] = {"epcClass": urn("lot", lot_id)}
        if carats is None:
            lot = self.state.lots.get(lot_id)
            carats = None if lot is None else _carats(lot.carats)
        if carats is not None:
            element["quantity"] = carats
            element["uom"] = CARATS
        return element

    def holder(self, lot_id: str) -> list[tuple[str, str]]:
        lot = self.state.lots.get(lot_id)
        return [] if lot is None else [("bizLocation", urn("participant", lot.holder))]

    def produced(self, document: dict[str, Any]) -> dict[str, Any]:
        source = urn("source", document["source_id"])
        return {
            "type": "ObjectEvent",
            "action": "ADD",
            "quantityList": [self.quantity(document["lot_id"], float(Decimal(document["carats"])))],
            "bizStep": "commissioning",
            "disposition": "active",
            "readPoint": {"id": source},
            "bizLocation": {"id": source},
        }

    def split(self, document: dict[str, Any]) -> dict[str, Any]:
        parts = document["into"]
        where = dict(self.holder(document["lot_id"]))  # consumed: its holder stays
        return {
            "type": "TransformationEvent",
            "inputQuantityList": [self.quantity(document["lot_id"])],
            "outputQuantityList": [
                self.quantity(part["lot_id"], float(Decimal(part["carats"]))) for part in parts
            ],
            **{key: {"id": value} for key, value in where.items()},
        }

    def merged(self, document: dict[str, Any]) -> dict[str, Any]:
        merged_id = document["into"]["lot_id"]
        where = dict(self.holder(document["lot_ids"][0]))
        return {
            "type": "TransformationEvent",
            "inputQuantityList": [self.quantity(lot_id) for lot_id in document["lot_ids"]],
            "outputQuantityList": [self.quantity(merged_id)],
            **{key: {"id": value} for key, value in where.items()},
        }

    def certified(self, document: dict[str, Any]) -> dict[str, Any]:
        return self.shipment(
            document["certificate_id"],
            document["lot_ids"],
            document["exporting_participant"],
            document["importing_participant"],
            bizStep="shipping",
            disposition="in_transit",
            at=document["exporting_participant"],
        )

    def confirmed(self, document: dict[str, Any]) -> dict[str, Any]:
        certificate_id = document["certificate_id"]
        certificate = self.state.certificates.get(certificate_id)
        lot_ids = [] if certificate is None else list(certificate.lot_ids)
        exporter = None if certificate is None else certificate.exporter
        importer = None if certificate is None else certificate.importer
        return self.shipment(
            certificate_id,
            lot_ids,
            exporter,
            importer,
            bizStep="receiving",
            disposition="in_progress",
            at=importer,
        )

    def shipment(
        self,
        certificate_id: str,
        lot_ids: list[str],
        exporter: str | None,
        importer: str | None,
        *,
        bizStep: str,
        disposition: str,
        at: str | None,
    ) -> dict[str, Any]:
        event: dict[str, Any] = {
            "type": "ObjectEvent",
            "action": "OBSERVE",
            "quantityList": [self.quantity(lot_id) for lot_id in lot_ids],
            "bizStep": bizStep,
            "disposition": disposition,
            "bizTransactionList": [
                {"type": "cert", "bizTransaction": urn("certificate", certificate_id)}
            ],
        }
        if not lot_ids:  # a certificate the state does not know: named, not measured
            del event["quantityList"]
            event["epcList"] = []
        if at is not None:
            event["bizLocation"] = {"id": urn("participant", at)}
        if exporter is not None:
            event["sourceList"] = [{"type": "owning_party", "source": urn("participant", exporter)}]
        if importer is not None:
            event["destinationList"] = [
                {"type": "owning_party", "destination": urn("participant", importer)}
            ]
        return event


_EVENTS: dict[str, Callable[[_Mapper, dict[str, Any]], dict[str, Any]]] = {
    "lot.produced": _Mapper.produced,
    "lot.split": _Mapper.split,
    "lots.merged": _Mapper.merged,
    "export.certified": _Mapper.certified,
    "import.confirmed": _Mapper.confirmed,
}


def _event(mapper: _Mapper, entry: LogEntry, recorded_at: datetime) -> dict[str, Any] | None:
    """The event of a custody document, None for any other."""
    build = _EVENTS.get(entry.type)
    if build is None:
        return None
    occurred = entry.occurred_at
    return {
        "type": "",  # the first key; the build's sets it
        "eventTime": _time(occurred),
        "eventTimeZoneOffset": _offset(occurred),
        "recordTime": _time(recorded_at.astimezone(UTC)),
        "eventID": f"urn:uuid:{entry.event_id}",
        **build(mapper, entry.document),
    }


def _declared(event: dict[str, Any], retraction: Retraction) -> dict[str, Any]:
    """The event with the error declaration of its retraction."""
    declaration = {
        "declarationTime": _time(retraction.declared_at.astimezone(UTC)),
        "reason": "did_not_occur",
        "kpl:reason": retraction.reason,
    }
    return {**event, "errorDeclaration": declaration}


def epcis_document(
    entries: Iterable[LogEntry],
    state: Custody,
    *,
    retracted: Mapping[str, Retraction] | None = None,
    originals: Mapping[str, LogEntry] | None = None,
    created_at: datetime | None = None,
) -> dict[str, Any]:
    """The EPCIS 2.0 document of the custody events among `entries`, in order; those whose
    event id is in `retracted` carry an `errorDeclaration`, and a retraction among
    `entries` of a document in `originals` (by event id) declares its event's error there.

    >>> from projections.examples import example_entries
    >>> entries = example_entries()
    >>> document = epcis_document(entries, Custody.replay(entries))
    >>> [(event["type"], event.get("bizStep")) for event in document["epcisBody"]["eventList"]]
    ... # doctest: +NORMALIZE_WHITESPACE
    [('ObjectEvent', 'commissioning'), ('ObjectEvent', 'commissioning'),
     ('ObjectEvent', 'shipping'), ('ObjectEvent', 'receiving'),
     ('TransformationEvent', None), ('TransformationEvent', None),
     ('ObjectEvent', 'shipping')]
    >>> document["epcisBody"]["eventList"][0]["quantityList"]
    [{'epcClass': 'urn:kpledger:lot:L-CI', 'quantity': 100.0, 'uom': 'CTM'}]
    """
    mapper = _Mapper(state)
    retracted = retracted or {}
    originals = originals or {}
    entries = list(entries)
    in_page = {entry.event_id for entry in entries}
    events = []
    for entry in entries:
        if entry.type == RETRACTED:
            original = originals.get(entry.document["retracted_event_id"])
            if original is None or original.event_id in in_page:
                continue
            event = _event(mapper, original, entry.recorded_at)
            if event is not None:
                events.append(_declared(event, retractions_in([entry])[original.event_id]))
            continue
        event = _event(mapper, entry, entry.recorded_at)
        if event is None:
            continue
        retraction = retracted.get(entry.event_id)
        events.append(event if retraction is None else _declared(event, retraction))
    return {
        "@context": CONTEXT,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": _time((created_at or datetime.now(UTC)).astimezone(UTC)),
        "epcisBody": {"eventList": events},
    }

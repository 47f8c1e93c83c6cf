"""The shapes of the API's answers, as pydantic models: each route names its own
(`response_model=`).

The routes build their answers as plain dicts (the read model's own shapes); FastAPI checks
each against its route's model and serializes it (an answer that drifted from its model
is a 500, never a silently different contract), and the models describe the answers in
the OpenAPI document for people and client generators.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "Accepted",
    "Alert",
    "Alerts",
    "Amount",
    "AuthorityKey",
    "AuthorityKeys",
    "Certificate",
    "CertificateCheck",
    "Checkpoint",
    "Compliance",
    "Confirmation",
    "ConsistencyProof",
    "Custody",
    "CustodyStep",
    "DetailedFlow",
    "Downstream",
    "DownstreamCertificate",
    "DownstreamLot",
    "DownstreamOperator",
    "EPCISBody",
    "EPCISDocument",
    "EmbargoedShare",
    "ErrorBody",
    "ErrorDetail",
    "Figures",
    "Flow",
    "Fraction",
    "Graph",
    "GraphEdge",
    "GraphNode",
    "Health",
    "History",
    "HistoryEntry",
    "InclusionProof",
    "LicenceState",
    "LogEntry",
    "LogPage",
    "Lot",
    "LotStatus",
    "NamedParty",
    "Open",
    "Operator",
    "Participant",
    "ParticipantCompliance",
    "ParticipantEntry",
    "ParticipantStatistics",
    "Participants",
    "Path",
    "PathEdge",
    "Paths",
    "Provenance",
    "PublicKey",
    "PublicParticipantStatistics",
    "PublicStatistics",
    "PublishedCheckpoint",
    "ReadModelState",
    "Readiness",
    "ReportState",
    "Reports",
    "Review",
    "ReviewSummary",
    "RiskMark",
    "SanctionState",
    "SanctionsList",
    "SanctionsLists",
    "SearchResult",
    "SearchResults",
    "Shape",
    "Share",
    "SignatureCheck",
    "SourceShare",
    "StatisticsReport",
    "Verification",
    "Visit",
]

Amount = Annotated[
    str,
    Field(
        pattern=r"^-?[0-9]+(\.[0-9]+)?$",
        description="a decimal string: exact where the inputs allow, else 4 places",
        examples=["2310.00"],
    ),
]
Fraction = Annotated[float, Field(ge=0, le=1, description="a share between 0 and 1")]
Participant = Annotated[str, Field(description="ISO 3166-1 alpha-2 code or EU", examples=["GH"])]
LotStatus = Literal["held", "in_transit", "consumed", "seized"]


class Shape(BaseModel):
    """An answer's object: exactly these fields."""

    model_config = ConfigDict(extra="forbid")


class Open(BaseModel):
    """An object whose fields vary with its kind: these, and others."""

    model_config = ConfigDict(extra="allow")


class ErrorDetail(Shape):
    code: str = Field(description="the protocol's error code")
    message: str = Field(description="for people")
    index: int = Field(description="the position in a batch of the document at fault (0)")
    detail: dict[str, Any] | None = Field(
        default=None, description="optional: e.g. embargo_id, lot_id, carats, fraction"
    )
    request_id: str | None = Field(
        default=None, description="the request's X-Request-ID (given, or made by the service)"
    )


class ErrorBody(Shape):
    """Every error: `{"error": {code, message, index, detail}}`."""

    error: ErrorDetail


class ReadModelState(Shape):
    state: Literal["following", "failed"] = Field(
        description="failed: an entry could not be applied, and reads answer 503"
    )
    position: int = Field(
        description="following: the last entry applied; failed: the entry that failed"
    )
    error: str | None = Field(None, description="failed: the exception's type")


class PublishedCheckpoint(Shape):
    tree_size: int
    cosigned_by: list[str] = Field(description="the witnesses whose cosignatures it carries")
    age_s: float = Field(description="seconds since the log signed it")


class Health(Shape):
    status: Literal["ok", "degraded"] = Field(
        description="degraded while the store is away or the read model has failed"
    )
    position: int | None = Field(description="the log's head position; null while away")
    store: Literal["reachable", "unreachable"]
    read_model: ReadModelState
    checkpoint: PublishedCheckpoint | None = Field(
        default=None, description="what GET /checkpoint serves; null while it answers 503"
    )


class Readiness(Shape):
    status: Literal["ready", "not_ready"] = Field(
        description="not_ready (503, with Retry-After) while the store or the read model is "
        "not usable"
    )
    position: int | None = Field(description="the log's head position; null while unreachable")
    store: Literal["reachable", "unreachable"]
    read_model: Literal["building", "ready", "failed"] = Field(
        description="failed: it stopped at an entry it could not apply (see /health)"
    )


class Accepted(Shape):
    accepted: int = Field(description="documents in the request")
    position: int = Field(description="position of the last document appended")


class LogEntry(Shape):
    position: int
    event_id: str
    type: str
    occurred_at: str
    recorded_at: str
    recorded_by: str = Field(description="the name of the token that posted it")
    document: dict[str, Any] = Field(description="the document as stored (normalized)")


class LogPage(Shape):
    events: list[LogEntry]
    next_after: int = Field(description="the last position returned, or `after` when none")


class Lot(Shape):
    lot_id: str
    carats: Amount
    value_usd: Amount
    holder: Participant | None
    status: LotStatus
    certificate_id: str | None
    source_id: str | None
    parents: list[str]
    children: list[str]
    operator: str | None


class SourceShare(Shape):
    source_id: str
    kind: Literal["mine", "alluvial_site"]
    participant: Participant
    region: str
    carats: Amount
    fraction: Fraction


class Share(Shape):
    carats: Amount
    fraction: Fraction


class EmbargoedShare(Shape):
    embargo_id: str
    carats: Amount
    fraction: Fraction


class Provenance(Shape):
    lot_id: str
    carats: Amount
    sources: list[SourceShare]
    by_participant: dict[str, Share]
    embargoed: list[EmbargoedShare]


class CustodyStep(Shape):
    position: int
    occurred_at: str
    type: str
    lot_id: str
    holder: Participant | None
    certificate_id: str | None
    operator: str | None


class Custody(Shape):
    lot_id: str
    steps: list[CustodyStep]


class HistoryEntry(LogEntry):
    retracted_by: int | None = Field(
        default=None,
        description="the position of the retraction of this document (absent: not retracted)",
    )


class History(Shape):
    lot_id: str
    events: list[HistoryEntry]


class DownstreamLot(Shape):
    lot_id: str
    holder: Participant | None
    status: LotStatus
    carats_from_origin: Amount


class DownstreamCertificate(Shape):
    certificate_id: str
    exporting_participant: Participant
    importing_participant: Participant
    carats_from_origin: Amount


class DownstreamOperator(Shape):
    operator_id: str
    participant: Participant
    carats_from_origin: Amount = Field(
        description="the origin's carats in the lots it took, each lot counted once"
    )


class Downstream(Shape):
    lots: list[DownstreamLot]
    certificates: list[DownstreamCertificate]
    participants: list[Participant]
    operators: list[DownstreamOperator]


RiskMark = Literal[
    "embargoed_source",
    "embargoed_origin",
    "sanctioned",
    "possible_sanctions_match",
    "flagged",
    "seized",
    "cancelled",
]


class GraphNode(Open):
    id: str = Field(examples=["lot:GH-KAD-2006-0201"])
    kind: Literal["lot", "source", "certificate", "participant", "operator"]
    label: str
    risk: list[RiskMark]


class GraphEdge(Open):
    source: str
    target: str
    kind: str
    weight: float | None = Field(default=None, description="the carats that moved along it")


class Graph(Shape):
    """networkx node-link JSON."""

    directed: bool
    multigraph: bool
    graph: dict[str, Any]
    nodes: list[GraphNode]
    edges: list[GraphEdge]


class PathEdge(Shape):
    source: str
    target: str
    kind: str
    position: int
    carats: Amount | None = Field(description="the carats that moved along it, as in the graph")


class Path(Shape):
    carats: Amount = Field(description="the carats from `from` it carried into its last lot")
    nodes: list[str]
    edges: list[PathEdge]


class Paths(Shape):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: str = Field(alias="from")
    to: str
    carats: Amount
    paths: list[Path]
    truncated: bool


class Review(Shape):
    status: Literal["open", "confirmed", "dismissed"]
    note: str
    by: str
    position: int


class Alert(Shape):
    alert_id: str
    type: str
    severity: Literal["low", "medium", "high"]
    subject: str
    participant: Participant | None
    position: int | None
    detail: dict[str, Any]
    review: Review | None


class Alerts(Shape):
    alerts: list[Alert]


class SignatureCheck(Shape):
    verified: int = Field(description="signed documents whose signature verifies")
    unsigned: int
    invalid: int = Field(description="signatures that do not verify, or by a key not in force")
    first_invalid_position: int | None


class Verification(Shape):
    ok: bool
    events: int
    head: str
    signatures: SignatureCheck
    first_bad_position: int | None = Field(default=None, description="only when not ok")
    reason: str | None = Field(default=None, description="only when not ok")


class AuthorityKey(Shape):
    key_id: str = Field(description="lowercase hex SHA-256 of the public key's raw bytes")
    participant: Participant
    name: str
    public_key: str = Field(description="32 raw bytes, base64")
    registered_position: int
    revoked_position: int | None = Field(description="null while the key is in force")


class AuthorityKeys(Shape):
    keys: list[AuthorityKey]


class PublicKey(Shape):
    algorithm: Literal["ed25519"]
    public_key: str = Field(description="32 raw bytes, base64")
    key_id: str = Field(description="hex SHA-256 of the public key's raw bytes")
    vkey: str = Field(description="c2sp.org/signed-note verifier key: <origin>+<key hash>+<key>")


class Checkpoint(Shape):
    tree_size: int
    root: str
    note: str
    signature: str
    key_id: str


class InclusionProof(Shape):
    position: int
    leaf_index: int
    tree_size: int
    leaf_hash: str
    root: str
    path: list[str]


class ConsistencyProof(Shape):
    from_size: int
    to_size: int
    from_root: str
    to_root: str
    path: list[str]


class Figures(Shape):
    carats: Amount
    value_usd: Amount


class Flow(Shape):
    carats: Amount
    value_usd: Amount
    certificates: int


class DetailedFlow(Flow):
    by_hs_code: dict[str, Flow]
    by_partner: dict[str, Flow]


class ParticipantStatistics(Shape):
    participant: Participant
    production: Figures
    exports: DetailedFlow
    imports: DetailedFlow


class StatisticsReport(Shape):
    year: int
    participants: list[ParticipantStatistics]


class PublicParticipantStatistics(Shape):
    participant: Participant
    production: Figures
    exports: Flow
    imports: Flow


class PublicStatistics(Shape):
    year: int
    participants: list[PublicParticipantStatistics]


class ReportState(Shape):
    due_on: str
    submitted_on: str | None
    state: Literal["submitted", "late", "overdue", "due"]


class Reports(Shape):
    statistics: ReportState
    annual_report: ReportState


class Visit(Shape):
    visited_on: str
    kind: Literal["review", "follow_up"]


class ReviewSummary(Shape):
    review_id: str
    invited_on: str
    visits: list[Visit]
    recommendations: int
    implemented: int
    open: list[str]


class ParticipantCompliance(Shape):
    participant: Participant
    reports: Reports
    reviews: list[ReviewSummary]


class Compliance(Shape):
    year: int
    participants: list[ParticipantCompliance]


class NamedParty(Open):
    name: str


class Confirmation(Shape):
    carats: Amount
    value_usd: Amount
    parcels: int | None
    received_on: str


class Certificate(Shape):
    certificate_id: str
    exporting_participant: Participant
    importing_participant: Participant
    exporter: NamedParty
    importer: NamedParty
    issuing_authority: NamedParty | None
    hs_code: str
    carats: Amount
    value_usd: Amount
    parcels: int | None
    declared_origin: str
    issued_on: str
    expires_on: str
    lot_ids: list[str]
    status: Literal["in_transit", "confirmed", "expired", "seized", "cancelled"]
    confirmation: Confirmation | None
    positions: dict[str, int | None]


class CertificateCheck(Shape):
    certificate_id: str
    genuine: bool
    status: Literal["in_transit", "confirmed", "expired", "seized", "cancelled"] | None


class SearchResult(Shape):
    id: str
    kind: Literal["lot", "mine", "alluvial_site", "certificate", "participant", "operator"]
    label: str
    risk: list[RiskMark]


class SearchResults(Shape):
    results: list[SearchResult]


class ParticipantEntry(Shape):
    participant: Participant
    name: str
    status: Literal["admitted", "suspended", "withdrawn"]
    admitted_on: str | None


class Participants(Shape):
    participants: list[ParticipantEntry]


class LicenceState(Open):
    number: str
    valid_until: str


class SanctionState(Shape):
    listing_id: str
    in_force: bool


class Operator(Shape):
    operator_id: str
    participant: Participant
    name: str
    roles: list[str]
    licence: LicenceState
    revoked: bool
    sanctions: list[SanctionState]
    lots_held: list[str]


class EPCISBody(Open):
    eventList: list[dict[str, Any]]


class EPCISDocument(Open):
    """GS1 EPCIS 2.0 JSON-LD (its JSON schema: https://gs1.github.io/EPCIS/); `@context`
    too."""

    type: Literal["EPCISDocument"]
    schemaVersion: str
    creationDate: str
    epcisBody: EPCISBody


class SanctionsList(Shape):
    list: str = Field(description="the list's file name up to its first dot")
    entries: int = Field(description="its companies, screened against")
    published: str | None = Field(description="when its publisher generated it, if it says")
    loaded_at: str = Field(description="when this service loaded it (UTC)")


class SanctionsLists(Shape):
    lists: list[SanctionsList]

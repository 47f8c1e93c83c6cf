"""The oracle of the fixed-point compositions: every lot's exact shares by source, as
`Fraction`s, and provenance and downstream answers computed plainly from them.

This is the computation the read side made before it held compositions in fixed point
(`projections.records.Composition`); the property tests and `bench deepmix` check that
every answer is still exactly this one.
"""

from __future__ import annotations

from datetime import date
from fractions import Fraction
from typing import Any

from ledger.amounts import amount_text, in_units
from projections.custody import Custody

__all__ = ["downstream_from_shares", "exact_compositions", "exact_downstream", "exact_provenance"]

Shares = dict[str, Fraction]


def exact_compositions(state: Custody) -> dict[str, Shares]:
    """Each lot's share of its carats by source, exactly: a produced lot's is its source's
    whole, a split's parts keep their parent's, a merged lot weighs its parts' by carats
    (one dict for a split's parts, as one composition object)."""
    shares: dict[str, Shares] = {}
    for lot in sorted(state.lots.values(), key=lambda lot: lot.created_at):
        if not lot.parents:
            shares[lot.lot_id] = {lot.composition.sources[0]: Fraction(1)}
        elif len(lot.parents) == 1:
            shares[lot.lot_id] = shares[lot.parents[0]]
        else:
            merged: Shares = {}
            for parent_id in lot.parents:
                weight = Fraction(state.lots[parent_id].carats, lot.carats)
                for source_id, share in shares[parent_id].items():
                    merged[source_id] = merged.get(source_id, Fraction(0)) + share * weight
            shares[lot.lot_id] = dict(sorted(merged.items()))
    return shares


def _answer(hundredths: int, share: Fraction) -> dict[str, Any]:
    return {"carats": amount_text(in_units(hundredths) * share), "fraction": float(share)}


def exact_provenance(
    state: Custody, compositions: dict[str, Shares], lot_id: str, on: date
) -> dict[str, Any]:
    """`GET /v1/lots/{lot_id}/provenance` from the exact shares."""
    lot = state.lots[lot_id]
    shares = compositions[lot_id]
    by_participant: Shares = {}
    for source_id, share in shares.items():
        participant = state.sources[source_id].participant
        by_participant[participant] = by_participant.get(participant, Fraction(0)) + share
    embargoed = []
    for embargo in sorted(state.embargoes.values(), key=lambda e: e.embargo_id):
        covered = [s for s in shares if embargo.covers(state.sources[s])]
        if embargo.in_force(on) and covered:
            share = sum((shares[s] for s in covered), Fraction(0))
            embargoed.append({"embargo_id": embargo.embargo_id, **_answer(lot.carats, share)})
    return {
        "lot_id": lot_id,
        "carats": amount_text(in_units(lot.carats)),
        "sources": [
            {
                "source_id": source_id,
                "kind": state.sources[source_id].kind,
                "participant": state.sources[source_id].participant,
                "region": state.sources[source_id].region,
                **_answer(lot.carats, share),
            }
            for source_id, share in shares.items()
        ],
        "by_participant": {
            code: _answer(lot.carats, share) for code, share in sorted(by_participant.items())
        },
        "embargoed": embargoed,
    }


def exact_downstream(
    state: Custody, compositions: dict[str, Shares], sources: set[str]
) -> dict[str, Any]:
    """`GET /v1/trace/downstream` from some sources, from the exact shares."""
    shares = {
        lot_id: share
        for lot_id, by_source in compositions.items()
        if sources & by_source.keys()
        and (share := sum(s for source_id, s in by_source.items() if source_id in sources))
    }
    return downstream_from_shares(state, shares)


def downstream_from_shares(state: Custody, shares: dict[str, Fraction]) -> dict[str, Any]:
    """`GET /v1/trace/downstream` from the share of each reached lot's carats from the
    origin: lots by creation then lot id, certificates by issue, operators by id (the
    carats of the lots each took)."""
    reached = sorted(
        (state.lots[lot_id] for lot_id in shares), key=lambda lot: (lot.created_at, lot.lot_id)
    )
    carats = {lot.lot_id: in_units(lot.carats) * shares[lot.lot_id] for lot in reached}
    shipped: dict[str, Fraction] = {}
    taken: dict[str, Fraction] = {}
    for lot in reached:
        for certificate_id in lot.shipped_under:
            shipped[certificate_id] = shipped.get(certificate_id, Fraction(0)) + carats[lot.lot_id]
        if lot.operators:
            for operator_id in lot.taken_by:
                taken[operator_id] = taken.get(operator_id, Fraction(0)) + carats[lot.lot_id]
    certificates = sorted((state.certificates[c] for c in shipped), key=lambda c: c.position)
    return {
        "lots": [
            {
                "lot_id": lot.lot_id,
                "holder": lot.holder,
                "status": lot.status,
                "carats_from_origin": amount_text(carats[lot.lot_id]),
            }
            for lot in reached
        ],
        "certificates": [
            {
                "certificate_id": certificate.certificate_id,
                "exporting_participant": certificate.exporter,
                "importing_participant": certificate.importer,
                "carats_from_origin": amount_text(shipped[certificate.certificate_id]),
            }
            for certificate in certificates
        ],
        "participants": sorted({code for lot in reached for code in lot.holders}),
        "operators": [
            {
                "operator_id": operator_id,
                "participant": state.operators[operator_id].participant,
                "carats_from_origin": amount_text(taken[operator_id]),
            }
            for operator_id in sorted(taken)
        ],
    }

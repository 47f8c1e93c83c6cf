"""FollowTheMoney entities of a custody subgraph: every line read back by the
`followthemoney` library, and each operator's holding of a lot over its period."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date
from typing import Any

from followthemoney import model

from projections.custody import Custody
from projections.examples import numbered
from projections.ftm import ftm_entities, ftm_lines
from projections.provenance import subgraph
from tests.support import (
    admitted,
    confirmed,
    export,
    licensed,
    listed,
    merged,
    mine,
    produced,
    transferred,
)


def on(day: str, document: dict[str, Any]) -> dict[str, Any]:
    return {**document, "occurred_at": f"{day}T10:00:00Z"}


WORLD = numbered(
    [
        admitted("GH", "Ghana"),
        admitted("AE", "United Arab Emirates"),
        mine("M1", "GH"),
        licensed("GH-DIG", "digger"),
        licensed("GH-EXP", "exporter", name="Accra Exporters Ltd"),
        licensed("AE-IMP", "importer"),
        on("2006-03-01", produced("A", "M1", "100", operator="GH-DIG")),
        on("2006-03-02", produced("B", "M1", "50")),
        on("2006-03-05", transferred("A", "GH-EXP")),
        on("2006-03-10", export("GH-1", "GH", "AE", ["A"], "100")),
        on("2006-03-14", confirmed("GH-1", "100", operator_id="AE-IMP")),
        on("2006-03-20", produced("C", "M1", "30", operator="GH-DIG")),
        on("2006-03-25", merged(["C", "B"], "CB")),
        listed("L1", "GH-EXP", effective_from="2006-04-01"),
    ]
)


def days(positions: Iterable[int]) -> dict[int, date]:
    return {p: WORLD[p - 1].occurred_at.date() for p in positions}


def lines(root: str = "M1", today: date = date(2026, 1, 1)) -> list[dict[str, Any]]:
    state = Custody.replay(WORLD)
    text = ftm_lines(ftm_entities(state, subgraph(state, root, "down"), today, days))
    assert text.endswith("\n")
    parsed = [json.loads(line) for line in text.splitlines()]
    for data in parsed:  # each one read back by the library, unchanged
        assert model.get_proxy(data).to_dict() == data
    return parsed


def by_id(found: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {entity["id"]: entity for entity in found}


def test_operators_are_companies_and_listings_sanctions_of_them() -> None:
    found = by_id(lines())
    exporter = found["kpl-operator-GH-EXP"]
    assert exporter["schema"] == "Company"
    assert exporter["properties"]["name"] == ["Accra Exporters Ltd"]
    assert exporter["properties"]["jurisdiction"] == ["gh"]
    assert exporter["properties"]["licenseNumber"] == ["LIC-GH-EXP"]
    assert exporter["properties"]["topics"] == ["sanction"]
    sanction = found["kpl-listing-L1"]
    assert sanction["schema"] == "Sanction"
    assert sanction["properties"]["entity"] == ["kpl-operator-GH-EXP"]
    assert sanction["properties"]["startDate"] == ["2006-04-01"]
    assert (
        "topics" not in by_id(lines(today=date(2006, 3, 31)))["kpl-operator-GH-EXP"]["properties"]
    )


def test_participants_authorities_are_public_bodies_licensing_their_operators() -> None:
    found = by_id(lines())
    assert found["kpl-authority-GH"]["schema"] == "PublicBody"
    assert found["kpl-authority-GH"]["properties"]["name"] == ["Ghana: Kimberley Process authority"]
    assert found["kpl-authority-AE"]["properties"]["country"] == ["ae"]
    link = found["kpl-licence-AE-IMP"]
    assert link["schema"] == "UnknownLink"
    assert (link["properties"]["subject"], link["properties"]["object"]) == (
        ["kpl-authority-AE"],
        ["kpl-operator-AE-IMP"],
    )


def test_lots_are_assets_owned_by_each_operator_over_its_holding() -> None:
    found = lines()
    lot_a = by_id(found)["kpl-lot-A"]
    assert lot_a["schema"] == "Asset"
    assert lot_a["properties"]["description"] == ["100.00 ct of rough diamonds"]
    periods = sorted(
        (
            entity["properties"]["asset"][0],
            entity["properties"]["owner"][0],
            entity["properties"]["startDate"][0],
            entity["properties"].get("endDate", [None])[0],
        )
        for entity in found
        if entity["schema"] == "Ownership"
    )
    assert periods == [
        ("kpl-lot-A", "kpl-operator-AE-IMP", "2006-03-14", None),
        ("kpl-lot-A", "kpl-operator-GH-DIG", "2006-03-01", "2006-03-05"),
        ("kpl-lot-A", "kpl-operator-GH-EXP", "2006-03-05", "2006-03-14"),
        ("kpl-lot-C", "kpl-operator-GH-DIG", "2006-03-20", "2006-03-25"),
        ("kpl-lot-CB", "kpl-operator-GH-DIG", "2006-03-25", None),
    ]
    assert "kpl-lot-B" in by_id(found)  # held by no operator: an asset, owned by none


def test_only_the_subgraphs_entities() -> None:
    found = by_id(lines(root="C"))
    assert {"kpl-lot-C", "kpl-lot-CB"} <= set(found)
    assert "kpl-lot-A" not in found and "kpl-operator-GH-EXP" not in found
    assert "kpl-operator-GH-DIG" in found

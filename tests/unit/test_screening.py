"""Sanctions screening: hard matches and non-matches, list files, the index's blocking."""

from __future__ import annotations

import json
import logging
import random
from pathlib import Path

import pytest

from projections.screening import (
    Entry,
    Index,
    ListProblem,
    SanctionsList,
    Screening,
    Subject,
    load_folder,
    load_list,
    screen,
    screen_naively,
    subject_proxy,
)
from worlds.sanctions_lists import DEMO_LISTS

THRESHOLD = 0.7
GH = ("gh",)
LR = ("lr",)


def _index(*entries: Entry) -> Index:
    return Index.build([SanctionsList("test", Path("test.xml"), entries, None, "now")])


def _entry(name: str, *aliases: str, countries: tuple[str, ...] = (), entry_id: str = "E1"):
    return Entry("test", entry_id, name, aliases, countries, "2006-05-02")


def _score(operator: str, participant: str, entry: Entry) -> float:
    """The score of the operator against the entry, via the index (0 when not a candidate);
    checked against scoring the pair directly."""
    index = _index(entry)
    subject = Subject("OP-1", operator, participant)
    found = screen([subject], index, 0.0)
    assert found == screen_naively([subject], index, 0.0)[: len(found)]
    return found[0].score if found else 0.0


@pytest.mark.parametrize(
    ("operator", "participant", "listed", "countries"),
    [
        # company forms and case
        (
            "Accra Rough Diamond Exporters Ltd",
            "GH",
            "ACCRA ROUGH DIAMOND EXPORTERS LIMITED",
            ("gh",),
        ),
        ("Societe Miniere de Bakwanga SARL", "CD", "Société Minière de Bakwanga S.A.R.L.", ("cd",)),
        ("Sahara Gems SARL", "CI", "Sahara Gems GmbH", ("ci",)),
        # word order
        (
            "Rough Diamond Exporters Accra Limited",
            "GH",
            "Accra Rough Diamond Exporters Ltd",
            ("gh",),
        ),
        ("Yakutskie Almazy OOO", "RU", "ООО Якутские Алмазы", ("ru",)),  # noqa: RUF001
        # Cyrillic, transliterated
        ("Almazy Anabara", "RU", "Алмазы Анабара", ("ru",)),
        # Arabic names in another transliteration
        ("Al Hashimi Precious Stones Trading", "AE", "Al-Hashemi Precious Stones Trading Co.", ()),
        ("Abdul Rahman Diamond Trading", "AE", "Abdel Rahmane Diamond Trading SARL", ("ae",)),
        ("Khalid Bin Walid Precious Stones", "AE", "Khaled Ben Walid Precious Stones", ("ae",)),
        # a typo
        ("Accra Rough Diamond Exporters Ltd", "GH", "ACCRA ROUGH DIAMOND EXPORTS LIMITED", ("gh",)),
    ],
)
def test_names_of_one_company_match(operator, participant, listed, countries):
    assert _score(operator, participant, _entry(listed, countries=countries)) >= THRESHOLD


@pytest.mark.parametrize(
    ("operator", "participant", "listed"),
    [
        # one common word ("diamond", "trading", "mining", "star") shared by unrelated names
        ("Kade Licensed Diamond Buyers", "GH", "Accra Rough Diamond Exporters Ltd"),
        ("Dubai Rough Diamond Traders DMCC", "AE", "ACCRA ROUGH DIAMOND EXPORTS LIMITED"),
        ("International Diamond Company", "BE", "International Gold Company"),
        ("Kono Diamond Mining", "SL", "Koidu Diamond Mining"),
        ("Star Diamonds Ltd", "ZA", "Star Gems Ltd"),
        ("Accra Gold Traders Ltd", "GH", "Accra Rough Diamond Exporters Ltd"),
        # a person's name is not a company's, and a town is not a company
        ("Muhammad Al-Hashimi Gem Trading", "AE", "Mohammed El Hashemi Gems Trading"),
    ],
)
def test_unrelated_names_do_not_match(operator, participant, listed):
    assert _score(operator, participant, _entry(listed)) < THRESHOLD


def test_a_listed_country_other_than_the_operators_lowers_the_score():
    entry = "Accra Diamond Exporters"
    same = _score("Accra Rough Diamond Exporters", "GH", _entry(entry, countries=("gh",)))
    other = _score("Accra Rough Diamond Exporters", "GH", _entry(entry, countries=("ci",)))
    unknown = _score("Accra Rough Diamond Exporters", "GH", _entry(entry))
    assert same == unknown >= THRESHOLD > other
    assert round(same - other, 6) == 0.2


def test_an_alias_matches_and_the_detail_says_which():
    entry = _entry(
        "Monrovia Minerals International", "Liberty Gem Exporters Inc", countries=("lr",)
    )
    [match] = screen([Subject("LR-1", "Liberty Gem Exporters", "LR")], _index(entry), THRESHOLD)
    detail = match.detail()
    assert detail["listed_name"] == "Monrovia Minerals International"
    assert detail["aliases"] == ["Liberty Gem Exporters Inc"]
    assert detail["matched"]["listed_name"] == "Liberty Gem Exporters Inc"
    assert detail["matched"]["operator_name"] == "Liberty Gem Exporters"
    assert "literalMatch" in detail["matched"]["explanation"]
    assert detail["score"] >= THRESHOLD
    assert (detail["list"], detail["entry_id"], detail["listed_on"]) == ("test", "E1", "2006-05-02")
    assert detail["countries"] == ["LR"]


# -- list files ----------------------------------------------------------------------------

UN_XML = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<CONSOLIDATED_LIST xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xsi:noNamespaceSchemaLocation="https://www.un.org/sc/resources/sc-sanctions.xsd"
  dateGenerated="2026-09-02T23:00:02.141Z">
  <INDIVIDUALS>
    <INDIVIDUAL>
      <DATAID>1</DATAID><VERSIONNUM>1</VERSIONNUM>
      <FIRST_NAME>KASAI</FIRST_NAME><SECOND_NAME>GEMS</SECOND_NAME>
      <UN_LIST_TYPE>DRC</UN_LIST_TYPE><REFERENCE_NUMBER>CDi.900</REFERENCE_NUMBER>
      <LISTED_ON>2005-11-01</LISTED_ON>
    </INDIVIDUAL>
  </INDIVIDUALS>
  <ENTITIES>
    <ENTITY>
      <DATAID>6908402</DATAID><VERSIONNUM>1</VERSIONNUM>
      <FIRST_NAME>KIVU GOLD AND GEMS SPRL</FIRST_NAME>
      <UN_LIST_TYPE>DRC</UN_LIST_TYPE><REFERENCE_NUMBER>CDe.900</REFERENCE_NUMBER>
      <LISTED_ON>2014-06-30</LISTED_ON>
      <LIST_TYPE><VALUE>UN List</VALUE></LIST_TYPE>
      <ENTITY_ALIAS><QUALITY>a.k.a.</QUALITY><ALIAS_NAME>Kivu Gems</ALIAS_NAME></ENTITY_ALIAS>
      <ENTITY_ALIAS><QUALITY/><ALIAS_NAME/></ENTITY_ALIAS>
      <ENTITY_ADDRESS>
        <CITY>Bukavu</CITY><COUNTRY>Democratic Republic of the Congo</COUNTRY>
      </ENTITY_ADDRESS>
      <ENTITY_ADDRESS><COUNTRY>Uganda</COUNTRY></ENTITY_ADDRESS>
      <ENTITY_ADDRESS/>
    </ENTITY>
  </ENTITIES>
</CONSOLIDATED_LIST>
"""


def _ftm(entity_id: str, schema: str, **properties: list[str]) -> str:
    return json.dumps(
        {
            "id": entity_id,
            "schema": schema,
            "properties": properties,
            "datasets": ["test"],
            "first_seen": "2020-01-02T00:00:00",
            "last_change": "2021-03-04T05:06:07",
        }
    )


def test_the_un_lists_entities_are_read_and_its_individuals_left_out(tmp_path: Path):
    (tmp_path / "un_sc.xml").write_text(UN_XML)
    listed = load_list(tmp_path / "un_sc.xml")
    assert listed.summary()["list"] == "un_sc" and listed.published == "2026-09-02T23:00:02.141Z"
    assert listed.entries == (
        Entry(
            "un_sc",
            "CDe.900",
            "KIVU GOLD AND GEMS SPRL",
            ("Kivu Gems",),
            ("cd", "ug"),
            "2014-06-30",
        ),
    )


def test_ftm_organisations_are_read_with_their_sanctions_dates(tmp_path: Path):
    lines = [
        _ftm("co-1", "Company", name=["Алмазы Анабара"], alias=["Almazy Anabara"], country=["ru"]),
        _ftm("sanction-1", "Sanction", entity=["co-1"], listingDate=["2022-02-24"]),
        _ftm("le-2", "LegalEntity", name=["Mirny Trading"]),
        _ftm("person-1", "Person", name=["Ivan Example"]),
        _ftm("vessel-1", "Vessel", name=["Almaz"]),
        "",
    ]
    (tmp_path / "eu.ftm.json").write_text("\n".join(lines))
    listed = load_list(tmp_path / "eu.ftm.json")
    assert listed.name == "eu" and listed.published == "2021-03-04T05:06:07"
    assert listed.entries == (
        Entry("eu", "co-1", "Алмазы Анабара", ("Almazy Anabara",), ("ru",), "2022-02-24"),
        Entry("eu", "le-2", "Mirny Trading", (), (), "2020-01-02"),
    )


@pytest.mark.parametrize(
    ("file_name", "text", "reason"),
    [
        ("bad.xml", "<CONSOLIDATED_LIST><ENTITIES>", "not well-formed XML"),
        ("bad.xml", "<sdnList/>", "not the UN list"),
        (
            "bad.xml",
            "<CONSOLIDATED_LIST><ENTITIES><ENTITY/></ENTITIES></CONSOLIDATED_LIST>",
            "without",
        ),
        ("bad.json", '{"id": "x", "schema": "Company", "properties": {}}\n{"id": ', "line 2"),
        ("bad.json", '{"id": "x", "schema": "NoSuchSchema", "properties": {}}', "line 1"),
    ],
)
def test_a_malformed_file_is_one_log_line_and_the_other_lists_load(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, file_name: str, text: str, reason: str
):
    (tmp_path / "un_sc.xml").write_text(UN_XML)
    (tmp_path / file_name).write_text(text)
    (tmp_path / "README.txt").write_text("not a list")
    with caplog.at_level(logging.INFO, logger="projections.screening"):
        loaded = load_folder(tmp_path)
    assert list(loaded) == ["un_sc"]
    [line] = [record for record in caplog.records if record.levelno >= logging.WARNING]
    assert line.levelno == logging.ERROR
    assert file_name in line.getMessage() and reason in line.getMessage()
    with pytest.raises(ListProblem):
        load_list(tmp_path / file_name)


def test_a_list_that_turns_malformed_keeps_its_last_good_version(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    (tmp_path / "un_sc.xml").write_text(UN_XML)
    before = load_folder(tmp_path)
    (tmp_path / "un_sc.xml").write_text(UN_XML[:300])
    with caplog.at_level(logging.ERROR, logger="projections.screening"):
        after = load_folder(tmp_path, before)
    assert after == before
    assert "is kept" in caplog.records[-1].getMessage()


def test_a_missing_folder_is_a_log_line_and_no_list(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    with caplog.at_level(logging.ERROR, logger="projections.screening"):
        assert load_folder(tmp_path / "absent") == {}
    assert "cannot read the folder" in caplog.records[-1].getMessage()


def test_two_files_of_one_list_name_load_the_first(tmp_path: Path, caplog):
    (tmp_path / "un_sc.xml").write_text(UN_XML)
    (tmp_path / "un_sc.json").write_text(_ftm("co-1", "Company", name=["Other"]))
    with caplog.at_level(logging.ERROR, logger="projections.screening"):
        loaded = load_folder(tmp_path)
    assert loaded["un_sc"].path.name == "un_sc.json"
    assert "already loaded" in caplog.records[-1].getMessage()


def test_the_demo_lists_load_and_name_the_demo_exporter():
    loaded = load_folder(DEMO_LISTS)
    assert sorted(loaded) == ["opensanctions_demo", "un_sc_sanctions"]
    index = Index.build(loaded.values())
    found = screen(
        [
            Subject("GH-AKW-DIGGERS", "Akwatia Small-Scale Diggers Association", "GH"),
            Subject("GH-KADE-BUYERS", "Kade Licensed Diamond Buyers", "GH"),
            Subject("GH-ACCRA-EXPORTERS", "Accra Rough Diamond Exporters Ltd", "GH"),
            Subject("AE-DXB-ROUGH", "Dubai Rough Diamond Traders DMCC", "AE"),
        ],
        index,
        THRESHOLD,
    )
    assert [(m.subject.operator_id, m.entry.key) for m in found] == [
        ("GH-ACCRA-EXPORTERS", "un_sc_sanctions/CIe.901")
    ]


# -- the index -----------------------------------------------------------------------------


def test_words_common_in_a_list_do_not_block_but_a_whole_name_still_finds(tmp_path: Path):
    rng = random.Random(7)
    words = ["Kasai", "Kivu", "Mbuji", "Tshikapa", "Lunda", "Catoca", "Koidu", "Tongo"]
    entries = [
        _entry(f"{rng.choice(words)}{n} Diamond Trading", entry_id=f"E{n}") for n in range(200)
    ]
    entries.append(_entry("Diamond Trading International", entry_id="COMMON"))
    index = _index(*entries)
    assert {"p:diamond", "p:trading"} <= index.common
    subject = Subject("OP", "Diamond Trading Intl", "GH")
    assert screen([subject], index, THRESHOLD) == screen_naively([subject], index, THRESHOLD)
    assert [m.entry.entry_id for m in screen([subject], index, THRESHOLD)] == ["COMMON"]
    assert len(index.candidates(subject_proxy(subject))) < 210
    first = subject_proxy(Subject("OP", entries[0].name, "CD"))
    found = index.candidates(first)  # by its rare part or one a typo away from it
    assert found[0] == 0 and len(found) < 5
    assert all(entries[n].name[:6] == entries[0].name[:6] for n in found)
    unknown = subject_proxy(Subject("OP", "Zyxwvu Diamond Trading", "CD"))
    assert index.candidates(unknown) == []


def test_screening_observes_licences_and_swaps_a_reload_whole(tmp_path: Path):
    (tmp_path / "un_sc.xml").write_text(UN_XML)
    screening = Screening(
        tmp_path, THRESHOLD, operators=lambda: [Subject("CD-1", "Kivu Gems", "CD")]
    )
    assert screening.lists() == [] and screening.generation == 0
    screening.load()
    assert screening.generation == 1
    assert [m["entry_id"] for m in screening.possible_matches("CD-1")] == ["CDe.900"]
    screening.observe(Subject("CD-2", "Kivu Gold & Gems", "CD"))
    assert [m["entry_id"] for m in screening.possible_matches("CD-2")] == ["CDe.900"]
    assert screening.possible_matches("CD-9") == []
    (tmp_path / "un_sc.xml").write_text(
        UN_XML.replace("KIVU GOLD AND GEMS SPRL", "ITURI SPRL").replace("Kivu", "Bunia")
    )
    screening.reload_in_background()
    screening.wait_for_reload(60)
    assert screening.generation == 2
    assert screening.possible_matches("CD-2") == []
    assert [s["entries"] for s in screening.lists()] == [1]


@pytest.mark.parametrize("threshold", ["0", "1.5", "high"])
def test_a_threshold_outside_0_to_1_stops_the_service_in_one_line(
    threshold: str, monkeypatch: pytest.MonkeyPatch
):
    from pydantic import ValidationError

    from api.settings import Settings, settings_problem

    monkeypatch.setenv("KPLEDGER_SCREENING_THRESHOLD", threshold)
    with pytest.raises(ValidationError) as caught:
        Settings()
    assert settings_problem(caught.value).startswith("KPLEDGER_SCREENING_THRESHOLD: ")


def test_the_settings_name_the_lists_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    from api.settings import Settings

    monkeypatch.setenv("KPLEDGER_SANCTIONS_LISTS", str(tmp_path))
    monkeypatch.setenv("KPLEDGER_SCREENING_THRESHOLD", "0.85")
    settings = Settings()
    assert (settings.sanctions_lists, settings.screening_threshold) == (tmp_path, 0.85)
    monkeypatch.delenv("KPLEDGER_SANCTIONS_LISTS")
    assert Settings().sanctions_lists is None

"""The investigator's page's message catalogues (api/static/ui/i18n/*.json), without a
browser: every language has exactly English's keys and placeholders, and every key the
page uses (in app.js and index.html, and the protocol's words it translates) is in English."""

from __future__ import annotations

import json
import re

import pytest

from api.ui import STATIC_UI
from ledger.documents import DOCUMENT_TYPES
from ledger.protocol import OPERATOR_ROLES
from projections.alerts import ALERT_TYPES

CATALOGUES = STATIC_UI / "i18n"
LANGUAGES = ("en", "fr", "pt", "es", "ru")
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def catalogue(language: str) -> dict[str, str]:
    loaded: dict[str, str] = json.loads((CATALOGUES / f"{language}.json").read_text("utf-8"))
    return loaded


def keys_in_page() -> set[str]:
    """Every literal key app.js passes to t(...) and index.html names in data-i18n*."""
    script = (STATIC_UI / "app.js").read_text("utf-8")
    html = (STATIC_UI / "index.html").read_text("utf-8")
    used = set(re.findall(r'\bt\("([a-z_0-9.]+)"', script))
    used |= set(re.findall(r'data-i18n(?:-placeholder)?="([a-z_0-9.]+)"', html))
    return used


def constant(name: str) -> list[str]:
    """A list of strings declared in app.js as `const NAME = [...]`."""
    script = (STATIC_UI / "app.js").read_text("utf-8")
    found = re.search(rf"const {name} = \[(.*?)\];", script, re.S)
    assert found, f"app.js declares no {name}"
    return re.findall(r'"([a-z_]+)"', found.group(1))


def words_in_page() -> set[str]:
    """The protocol's words the page translates with tx(family, value), and the keys it
    builds from a family and a value."""
    words = {f"risk.{risk}" for risk in constant("RISKS")}
    words |= {f"risk_help.{risk}" for risk in constant("RISKS")}
    words |= {f"kind.{kind}" for kind in constant("KIND_ORDER")}
    words |= {f"node.{kind}" for kind in constant("NODE_KINDS")}
    words |= {f"review.{status}" for status in constant("REVIEW_STATUSES")}
    words |= {f"severity.{severity}" for severity in constant("SEVERITIES")}
    words |= {f"alert.{kind}" for kind in ALERT_TYPES}
    words |= {f"step.{kind}" for kind in DOCUMENT_TYPES}
    words |= {f"role.{role}" for role in OPERATOR_ROLES}
    words |= {
        f"status.{status}"
        for status in ("held", "in_transit", "consumed", "seized", "confirmed", "expired")
    }
    words |= {f"trace.{what}" for what in ("lots", "certificates", "operators")}
    return words


def test_the_page_names_its_five_languages() -> None:
    html = (STATIC_UI / "index.html").read_text("utf-8")
    options = re.findall(r'<option value="(\w+)"', html)
    assert tuple(options) == LANGUAGES
    assert sorted(path.stem for path in CATALOGUES.glob("*.json")) == sorted(LANGUAGES)


def test_every_key_the_page_uses_is_in_english() -> None:
    english = catalogue("en")
    missing = (keys_in_page() | words_in_page()) - set(english)
    assert not missing, f"keys used by the page but missing from en.json: {sorted(missing)}"


@pytest.mark.parametrize("language", LANGUAGES[1:])
def test_every_language_has_english_keys_and_placeholders(language: str) -> None:
    english = catalogue("en")
    other = catalogue(language)
    assert set(other) == set(english), (
        f"{language}.json lacks {sorted(set(english) - set(other))} "
        f"and has extra {sorted(set(other) - set(english))}"
    )
    for key, text in english.items():
        assert other[key].strip(), f"{language}.json: {key} is empty"
        assert set(PLACEHOLDER.findall(other[key])) == set(PLACEHOLDER.findall(text)), (
            f"{language}.json: {key} has other placeholders than English"
        )

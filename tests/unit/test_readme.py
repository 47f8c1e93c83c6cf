"""The README's links stay inside the repository, and each names a file that exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")

_MARKDOWN_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_REFERENCE = re.compile(r"^\s*\[[^\]]+\]:\s*(\S+)", re.MULTILINE)
_AUTOLINK = re.compile(r"<((?:[a-z][a-z0-9+.-]*:|//)[^>\s]+)>", re.IGNORECASE)
_HTML = re.compile(r"""(?:href|src)\s*=\s*["']([^"']+)""", re.IGNORECASE)


def _links() -> list[str]:
    return [
        *_MARKDOWN_LINK.findall(README),
        *_REFERENCE.findall(README),
        *_AUTOLINK.findall(README),
        *_HTML.findall(README),
    ]


def test_no_link_leaves_the_repository() -> None:
    links = _links()
    assert "docs/PROTOCOL.md" in links and "docs/openapi.json" in links
    outside = [link for link in links if re.match(r"^([a-z][a-z0-9+.-]*:|//)", link, re.I)]
    assert outside == []


def test_every_link_names_a_file_of_the_repository() -> None:
    for link in _links():
        target = link.split("#", 1)[0]
        if target:
            assert (ROOT / target).exists(), link

"""GET /ui and its files: served from the package without a token, nothing from elsewhere."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from api.ui import STATIC_UI


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    url = f"sqlite:///{tmp_path_factory.mktemp('page') / 'ledger.db'}"
    with TestClient(create_app(Settings(database_url=url))) as test_client:
        yield test_client


def test_the_page_loads_without_a_token_under_a_strict_policy(client: TestClient) -> None:
    response = client.get("/ui")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "connect-src 'self'" in policy
    for label in ("Token", "Search", "As of"):
        assert re.search(rf'<label for="[^"]+"[^>]*>{label}</label>', response.text), label
    assert client.get("/ui/", follow_redirects=False).headers["location"] == "/ui"


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/ui/app.js", "javascript"),
        ("/ui/app.css", "text/css"),
        ("/ui/vendor/cytoscape.js", "javascript"),
        ("/ui/vendor/cytoscape-dagre.js", "javascript"),
    ],
)
def test_every_file_it_needs_is_served_here(client: TestClient, path: str, kind: str) -> None:
    response = client.get(path)
    assert response.status_code == 200, f"{path}: run scripts/_venv.sh (npm ci) first"
    assert kind in response.headers["content-type"]


def test_nothing_outside_the_folder_and_no_remote_address(client: TestClient) -> None:
    assert client.get("/ui/../pyproject.toml").status_code == 404
    assert client.get("/ui/%2e%2e/api/app.py").status_code == 404
    assert client.get("/ui/nothing.js").status_code == 404
    for name in ("index.html", "app.js", "app.css"):
        # the SVG namespace is a name, never fetched
        text = (STATIC_UI / name).read_text().replace('"http://www.w3.org/2000/svg"', "")
        assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text, re.I), name
        assert "@import" not in text and "url(http" not in text

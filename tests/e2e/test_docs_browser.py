"""/docs and /redoc in a real browser (Debian's Chromium, headless) with every other host
blocked: Swagger UI draws every operation, "Authorize" and "Try it out" get an answer from
the service, and ReDoc draws the reference."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Route


@pytest.fixture
def tab(sqlite_url: str, server_factory: Any, browser: Browser) -> Iterator[tuple[Page, Any]]:
    server = server_factory(sqlite_url)
    foreign: list[str] = []
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    allowed = urlsplit(server.base_url).netloc

    def only_the_server(route: Route) -> None:
        url = urlsplit(route.request.url)
        if url.scheme in ("http", "https", "ws", "wss") and url.netloc != allowed:
            foreign.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    page.route("**/*", only_the_server)
    yield page, server
    context.close()
    assert foreign == [], f"the reference asked other hosts: {foreign}"


def test_swagger_ui_authorizes_and_tries_an_operation_out(tab: tuple[Page, Any]) -> None:
    page, server = tab
    token = server.token("auditor")
    page.goto(f"{server.base_url}/docs")
    page.wait_for_selector(".opblock", timeout=30_000)
    assert page.locator(".opblock").count() >= 24
    page.click("button.authorize")
    page.fill(".auth-container input", token)
    page.click(".auth-btn-wrapper button.authorize")
    page.click(".auth-btn-wrapper button.btn-done")
    block = page.locator(".opblock", has=page.locator("[data-path='/v1/audit/verify']"))
    block.locator(".opblock-summary").first.click()
    block.locator(".try-out__btn").click()
    block.locator(".execute").click()
    status = block.locator(".live-responses-table tr.response .response-col_status").first
    status.wait_for(timeout=30_000)
    assert status.inner_text().strip() == "200"
    assert '"ok": true' in block.locator(".live-responses-table .microlight").first.inner_text()


def test_redoc_draws_the_reference(tab: tuple[Page, Any]) -> None:
    page, server = tab
    page.goto(f"{server.base_url}/redoc")
    page.wait_for_selector(
        "text=The log of accepted documents in order of position.", timeout=30_000
    )
    assert page.locator("h1").first.inner_text().startswith("kpledger")
